"""``python -m adm.split``: CaMN train/val/test lists of the prepared clips, and skipped.tsv.

Example::

    python -m adm.split --outdir results/data/split --skipped results/data/skipped.tsv \
        results/data/clips/*.parquet
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from adm.cli import run_stage
from adm.data.split import SPLITS, split_clips, write_split

log = logging.getLogger("adm.split")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m adm.split", description=__doc__)
    parser.add_argument("clips", nargs="+", help="prepared clip Parquet files")
    parser.add_argument("--outdir", required=True, help="folder for train/val/test .txt lists")
    parser.add_argument("--skipped", required=True, help="TSV listing skipped clips and reasons")
    return parser


def main(args: argparse.Namespace) -> int:
    result = split_clips([Path(p) for p in args.clips])
    write_split(result, Path(args.outdir), Path(args.skipped))
    counts = ", ".join(f"{s} {len(result.splits[s])}" for s in SPLITS)
    log.info("split: %s; skipped %d", counts, len(result.skipped))
    for clip, file, reason in result.skipped:
        log.warning("skipped %s (%s): %s", clip, file, reason)
    if not result.splits["train"]:
        log.error("the train split is empty: no model can be trained")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run_stage(main, build_parser()))
