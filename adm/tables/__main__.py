"""``python -m adm.tables``: write one of the paper's tables as CSV, Markdown and LaTeX.

Example::

    python -m adm.tables --table 1 --metrics results/metrics/full/seed0.json \
        results/metrics/full/seed1.json results/metrics/mean_pose.json \
        --context '{"data_source": "synth", "scale": "bundled", "sampler": "DDIM-50"}' \
        --outdir results/tables

    python -m adm.tables --table 4 --scalars results/train/full/scalars.csv \
        no_uwp=results/train/no_uwp/scalars.csv --outdir results/tables

Tables 1-3 read metrics files (``python -m adm.evaluate``; ours = variant ``full``, Table 3
also ``no_uwp``, ``a2e``, ``a2g``); Table 4 reads training scalars (``[variant=]path``; the
variant defaults to the file's folder name). Writes ``<outdir>/table<N>.{csv,md,tex}``.
Context keys: ``data_source``, ``scale``, ``feature_layout``, ``sampler``, ``seeds``,
``notes`` (see :mod:`adm.tables.context`). Every file named must exist and be valid.
"""

from __future__ import annotations

import argparse
import logging
import sys

from adm.cli import run_stage
from adm.config import from_dict, parse_json_arg
from adm.errors import ConfigError
from adm.tables.build import table1, table2, table3
from adm.tables.context import TableContext
from adm.tables.dynamics import table4
from adm.tables.inputs import read_metrics_file, read_scalars
from adm.tables.render import write_table

log = logging.getLogger("adm.tables")
BUILDERS = {1: table1, 2: table2, 3: table3}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m adm.tables",
        description=__doc__,
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


def main(args: argparse.Namespace) -> int:
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
        table = BUILDERS[args.table](files, ctx)
    paths = write_table(table, args.outdir)
    log.info("table %d: %d rows -> %s", table.number, len(table.rows), ", ".join(map(str, paths)))
    return 0


if __name__ == "__main__":
    sys.exit(run_stage(main, build_parser()))
