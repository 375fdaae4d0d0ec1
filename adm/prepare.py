"""``python -m adm.prepare``: one BEAT-format clip -> one prepared Parquet file.

Example::

    python -m adm.prepare --clip 2_scott_0_1_1 --root results/data/corpus/beat \
        --out results/data/clips/2_scott_0_1_1.parquet --config '{"fps": 30}'
"""

from __future__ import annotations

import argparse
import logging
import sys

from adm.cli import clip_name, run_stage
from adm.config import from_dict, parse_json_arg
from adm.data.clips import find_clip_files, parse_clip_name
from adm.data.prepare import REQUIRED, prepare_clip, skipped_marker
from adm.data.settings import PrepareConfig
from adm.errors import BadClipError, BadInputError
from adm.io.frames import write_frames

log = logging.getLogger("adm.prepare")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m adm.prepare", description=__doc__)
    parser.add_argument(
        "--clip", required=True, type=clip_name, help="clip stem, e.g. 2_scott_0_1_1"
    )
    parser.add_argument("--root", required=True, help="corpus root holding <speaker>/<clip>.*")
    parser.add_argument("--out", required=True, help="output Parquet path")
    parser.add_argument("--config", default="{}", help="PrepareConfig as a JSON object")
    return parser


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    cfg = from_dict(PrepareConfig, parse_json_arg(args.config), "data.prepare")
    root = Path(args.root)
    if not root.is_dir():
        raise BadInputError(root, "corpus root folder not found (--root)")
    files = find_clip_files(root, args.clip)
    try:
        missing = [ext for ext in REQUIRED if ext not in files]
        if missing:
            folder = root / str(parse_clip_name(args.clip).speaker)
            also = f" (nor its {', '.join(missing[1:])})" if len(missing) > 1 else ""
            raise BadClipError(
                folder / f"{args.clip}.{missing[0]}", f"required file of the clip not found{also}"
            )
        table = prepare_clip(args.clip, files, cfg)
    except BadClipError as err:
        if cfg.on_bad_clip != "skip":
            raise
        log.warning("skipping clip %s: %s", args.clip, err)
        table = skipped_marker(args.clip, err)
    write_frames(args.out, table.columns, table.metadata)
    log.info("%s: %d frames at %d fps -> %s", args.clip, table.num_frames, cfg.fps, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(run_stage(main, build_parser()))
