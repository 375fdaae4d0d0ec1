"""The tables' commands: ``adm tables`` (the paper's Tables 1-4) and ``adm figures``.

Each command is a pair: ``<name>_parser()`` builds its options, ``<name>(args)`` runs it
(through :func:`adm.commandline.run_stage`, see :mod:`adm.commands`).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from adm.errors import ConfigError

log = logging.getLogger("adm.tables")


# --- adm tables ----------------------------------------------------------------------------------
TABLES_HELP = """``adm tables``: write one of the paper's tables as CSV, Markdown and LaTeX.

Example::

    adm tables --table 1 --metrics results/metrics/full/seed0.json \
        results/metrics/full/seed1.json results/metrics/mean_pose.json \
        --context '{"data_source": "synth", "scale": "bundled", "sampler": "DDIM-50"}' \
        --outdir results/tables

    adm tables --table 4 --scalars results/train/full/scalars.csv \
        no_uwp=results/train/no_uwp/scalars.csv --outdir results/tables

Tables 1-3 read metrics files (``adm evaluate``; ours = variant ``full``, Table 3
also ``no_uwp``, ``a2e``, ``a2g``); Table 4 reads training scalars (``[variant=]path``; the
variant defaults to the file's folder name). Writes ``<outdir>/table<N>.{csv,md,tex}``.
Context keys: ``data_source``, ``scale``, ``feature_layout``, ``sampler``, ``seeds``,
``notes`` (see :mod:`adm.tables.context`). Every file named must exist and be valid.
"""


def tables_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=TABLES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--table", type=int, required=True, choices=(1, 2, 3, 4))
    parser.add_argument("--metrics", nargs="*", default=[], help="metrics JSON files")
    parser.add_argument("--scalars", nargs="*", default=[], help="[variant=]scalars.csv files")
    parser.add_argument("--context", default="{}", help="TableContext as a JSON object")
    parser.add_argument(
        "--average-rows",
        type=int,
        default=5,
        help="Table 4: logged rows averaged for 'start' and for 'end' (default 5)",
    )
    parser.add_argument("--outdir", required=True, help="output folder")
    return parser


def tables(args: argparse.Namespace) -> int:
    from adm.config import from_dict, parse_json_arg
    from adm.tables.build import table1, table2, table3
    from adm.tables.context import TableContext
    from adm.tables.dynamics import table4
    from adm.tables.inputs import read_metrics_file, read_scalars
    from adm.tables.render import write_table

    ctx = from_dict(TableContext, parse_json_arg(args.context, "--context"), "context")
    files = [read_metrics_file(p) for p in args.metrics]
    if args.table == 4:
        if not args.scalars:
            raise ConfigError("--scalars: Table 4 needs at least one training scalars file")
        if args.average_rows < 1:
            raise ConfigError(f"--average-rows must be >= 1, got {args.average_rows}")
        runs = [read_scalars(spec) for spec in args.scalars]
        table = table4(runs, ctx, args.average_rows, files)
    else:
        if not files:
            raise ConfigError(f"--metrics: Table {args.table} needs at least one metrics file")
        table = {1: table1, 2: table2, 3: table3}[args.table](files, ctx)
    paths = write_table(table, args.outdir)
    log.info("table %d: %d rows -> %s", table.number, len(table.rows), ", ".join(map(str, paths)))
    return 0


# --- adm figures ---------------------------------------------------------------------------------


def figures_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="``adm figures``: " + figures_docs(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="figure", required=True)
    jaw = sub.add_parser("jawopen", help="JawOpen over time, ground truth vs variants")
    jaw.add_argument("--clip", required=True, help="test clip stem")
    jaw.add_argument("--clips-dir", required=True, help="folder of prepared clips")
    jaw.add_argument("--samples", nargs="+", required=True, help="sample folders, one a variant")
    jaw.add_argument("--labels", nargs="+", help="legend label per sample folder")
    jaw.add_argument("--start", type=float, default=0.0, help="first second shown")
    jaw.add_argument("--duration", type=float, help="seconds shown (default: the whole clip)")
    jaw.add_argument("--out", required=True, help="output PNG")
    curves = sub.add_parser("curves", help="task losses and weights over training")
    curves.add_argument("--scalars", nargs="+", required=True, help="scalars.csv per variant")
    curves.add_argument("--labels", nargs="+", help="legend label per scalars file")
    curves.add_argument("--out", required=True, help="output PNG")
    return parser


def figures(args: argparse.Namespace) -> int:
    from adm.tables.figures import labels_for, plot_curves, plot_jawopen

    if args.figure == "jawopen":
        samples = [Path(p) for p in args.samples]
        labels = labels_for(args.labels, samples, "sample folder")
        plotted = plot_jawopen(
            args.clip,
            Path(args.clips_dir),
            samples,
            labels,
            Path(args.out),
            args.start,
            args.duration,
        )
        log.info("JawOpen of %s: ground truth and %s -> %s", args.clip, plotted, args.out)
    else:
        scalars = [Path(p) for p in args.scalars]
        plot_curves(scalars, labels_for(args.labels, scalars, "scalars file"), Path(args.out))
        log.info("training curves of %d run(s) -> %s", len(scalars), args.out)
    return 0


def figures_docs() -> str:
    """The figures module's own description (usage of both figures), for ``--help``."""
    from adm.tables import figures

    return figures.__doc__ or ""
