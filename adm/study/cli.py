"""``adm study``: the user study of the paper's section 2.5.

Build the materials (groups of about 30 s, one video per method, the manifest)::

    adm study materials --config '{"methods": {...}, "groups": 9}' \\
        --split results/data/split/test.txt --samples results/samples \\
        --corpus results/data/corpus/synth --sample-seed 0 --outdir results/study/materials

Serve the study page (Streamlit; localhost unless --address says otherwise)::

    adm study serve --manifest results/study/materials/manifest.json \\
        --votes results/study/votes.sqlite

Analyse the votes (a database or a CSV file): per question the counts, the chi-square test
against equal preference, its dof, p and Cohen's w, and a position-bias check; writes
``study_table.{md,tex}``, ``study_counts.csv`` and ``figure5.png``::

    adm study analyse --votes results/study/votes.sqlite --outdir results/study

Simulate participants into a votes database (to try the analysis)::

    adm study simulate --votes /tmp/sim.sqlite --participants 17 --groups 9 \\
        --methods full no_uwp a2g_a2e --preference full=3 face:full=6 --seed 0
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
from pathlib import Path

from adm.commandline import non_negative_int, positive_float, positive_int, run_stage
from adm.config import from_dict, parse_json_arg
from adm.errors import BadInputError, ConfigError

log = logging.getLogger("adm.study")

PAGE = Path(__file__).with_name("page.py")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="adm study",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    materials = commands.add_parser("materials", help="cut the groups, render the videos")
    materials.add_argument("--config", required=True, help="the study: section as JSON")
    materials.add_argument("--split", required=True, help="test split file (one clip per line)")
    materials.add_argument("--samples", required=True, help="folder of <variant>/seed<k>/")
    materials.add_argument("--corpus", required=True, help="corpus folder: <speaker>/<clip>.wav")
    materials.add_argument("--sample-seed", type=non_negative_int, required=True)
    materials.add_argument("--outdir", required=True, help="materials folder (replaced whole)")
    materials.add_argument(
        "--workers", type=positive_int, default=1, help="videos rendered at once (processes)"
    )
    materials.set_defaults(run=run_materials)

    serve = commands.add_parser("serve", help="serve the study page")
    serve.add_argument("--manifest", required=True)
    serve.add_argument("--votes", required=True, help="SQLite database (created if absent)")
    serve.add_argument("--address", default="127.0.0.1", help="bind address (default: localhost)")
    serve.add_argument("--port", type=positive_int, default=8501)
    serve.set_defaults(run=run_serve)

    analyse = commands.add_parser("analyse", help="chi-square tests, table and figure")
    analyse.add_argument("--votes", required=True, help="votes database or CSV file")
    analyse.add_argument("--manifest", help="the study's manifest (gives the methods)")
    analyse.add_argument("--methods", nargs="+", help="the study's methods (else recorded ones)")
    analyse.add_argument("--outdir", required=True)
    analyse.set_defaults(run=run_analyse)

    simulate = commands.add_parser("simulate", help="fill a votes database with simulated votes")
    simulate.add_argument("--votes", required=True, help="SQLite database to fill")
    simulate.add_argument("--participants", type=positive_int, default=17)
    source = simulate.add_mutually_exclusive_group(required=True)
    source.add_argument("--manifest", help="take the methods and groups from a manifest")
    source.add_argument("--methods", nargs="+", help="method names (with --groups)")
    simulate.add_argument("--groups", type=positive_int, default=9, help="with --methods")
    simulate.add_argument(
        "--preference",
        nargs="*",
        default=[],
        metavar="[QUESTION:]METHOD=WEIGHT",
        help="relative chance of choosing a method (default 1 each: no preference)",
    )
    simulate.add_argument(
        "--position-weights",
        nargs="+",
        type=positive_float,
        help="relative chance of choosing the video shown at each position (default equal)",
    )
    simulate.add_argument("--seed", type=non_negative_int, default=0)
    simulate.set_defaults(run=run_simulate)
    return parser


def run_materials(args: argparse.Namespace) -> int:
    from adm.study.materials import StudyConfig, build_materials

    cfg = from_dict(StudyConfig, parse_json_arg(args.config), "study")
    split = Path(args.split)
    try:
        clips = [line.strip() for line in split.read_text(encoding="utf-8").splitlines()]
    except FileNotFoundError:
        raise BadInputError(split, "no such split file") from None
    clips = [c for c in clips if c]
    if not clips:
        raise BadInputError(split, "lists no clips")
    manifest = build_materials(
        cfg, clips, args.samples, args.corpus, args.sample_seed, args.outdir, args.workers
    )
    log.info(
        "%d groups x %d methods -> %s", len(manifest.groups), len(manifest.methods), args.outdir
    )
    return 0


def run_serve(args: argparse.Namespace) -> int:
    from adm.study.design import load_manifest

    load_manifest(args.manifest)  # a bad manifest stops here with one line, not in the page
    if importlib.util.find_spec("streamlit") is None:
        raise ConfigError("the study page needs Streamlit: pip install -e '.[study]'")
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(PAGE),
        "--server.address",
        args.address,
        "--server.port",
        str(args.port),
        "--server.headless",
        "true",
        # Nothing leaves the machine: no usage statistics.
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        # Participants see the page only: no deploy button, no developer menu.
        "--client.toolbarMode",
        "viewer",
        "--",
        "--manifest",
        str(Path(args.manifest).resolve()),
        "--votes",
        str(Path(args.votes).resolve()),
    ]
    log.info("study page on http://%s:%d", args.address, args.port)
    # Become the Streamlit server (one process: a stop signal reaches it directly).
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, command)


def run_analyse(args: argparse.Namespace) -> int:
    from adm.study.analysis import analyse, read_votes, summary_text, write_outputs

    methods = args.methods
    if args.manifest:
        from adm.study.design import load_manifest

        manifest_methods = load_manifest(args.manifest, check_videos=False).methods
        if methods and methods != manifest_methods:
            raise ConfigError(f"--methods {methods} differ from the manifest's {manifest_methods}")
        methods = manifest_methods
    votes, methods = read_votes(args.votes, methods)
    results = analyse(votes, methods)
    participants = len({v.participant for v in votes})
    print(
        f"{len(votes)} votes of {participants} participants; chi-square tests against equal "
        f"preference of {len(methods)} methods:"
    )
    print(summary_text(results, methods))
    for path in write_outputs(results, methods, args.outdir):
        print(f"wrote {path}")
    return 0


def run_simulate(args: argparse.Namespace) -> int:
    from adm.study.simulate import parse_preferences, simulate
    from adm.study.votes import VoteStore

    if args.manifest:
        from adm.study.design import load_manifest

        manifest = load_manifest(args.manifest)
        methods, group_ids = manifest.methods, [g.id for g in manifest.groups]
    else:
        methods, group_ids = args.methods, [f"g{i:02d}" for i in range(1, args.groups + 1)]
        if len(set(methods)) != len(methods) or len(methods) < 2:
            raise ConfigError(f"--methods: expected at least two distinct names, got {methods}")
    preferences = parse_preferences(args.preference, methods)
    ids = simulate(
        VoteStore(args.votes),
        methods,
        group_ids,
        args.participants,
        preferences,
        args.position_weights,
        args.seed,
    )
    print(f"{len(ids)} participants x {len(group_ids)} groups -> {args.votes}")
    return 0


def _dispatch(args: argparse.Namespace) -> int:
    return args.run(args)


def main(argv: list[str] | None = None) -> int:
    """Run one sub-command; expected errors become one ``error:`` line and exit status 1."""
    return run_stage(_dispatch, build_parser(), argv)
