"""``python -m adm.norm_stats``: per-dim mean/std of gesture and face on the train split.

Example::

    python -m adm.norm_stats --train results/data/split/train.txt --clips-dir results/data/clips \
        --out results/data/norm_stats.json --min-std 1e-4
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from adm.cli import positive_float, run_stage
from adm.data.normalization import compute_norm_stats, save_norm_stats
from adm.data.split import read_split_list
from adm.errors import BadInputError

log = logging.getLogger("adm.norm_stats")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m adm.norm_stats", description=__doc__)
    parser.add_argument("--train", required=True, help="train split list (one stem a line)")
    parser.add_argument("--clips-dir", required=True, help="folder of prepared clips")
    parser.add_argument("--out", required=True, help="output JSON")
    parser.add_argument(
        "--min-std", type=positive_float, default=1e-4, help="floor on each std (> 0)"
    )
    return parser


def main(args: argparse.Namespace) -> int:
    stems = read_split_list(Path(args.train))
    if not stems:
        raise BadInputError(args.train, "the train split lists no clip")
    clips = [Path(args.clips_dir) / f"{s}.parquet" for s in stems]
    stats, frames = compute_norm_stats(clips, args.min_std)
    save_norm_stats(
        Path(args.out),
        stats,
        {"split": "train", "clips": stems, "num_frames": frames, "min_std": args.min_std},
    )
    log.info("normalisation statistics from %d train clips, %d frames", len(stems), frames)
    return 0


if __name__ == "__main__":
    sys.exit(run_stage(main, build_parser()))
