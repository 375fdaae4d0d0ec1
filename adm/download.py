"""``python -m adm.download``: fetch BEAT v0.2.1 for the configured speakers (network needed).

Example::

    python -m adm.download --root results/data/corpus/beat --speakers 2 4 6 8 \
        --config '{"repo": "H-Liu1997/BEAT", "revision": "604f5ec"}'
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from adm.cli import run_stage, speaker_id
from adm.config import from_dict, parse_json_arg
from adm.data.download import download_beat
from adm.data.settings import BeatSourceConfig

log = logging.getLogger("adm.download")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m adm.download", description=__doc__)
    parser.add_argument("--root", required=True, help="target folder (<root>/<speaker>/...)")
    parser.add_argument(
        "--speakers", type=speaker_id, nargs="+", required=True, help="BEAT speaker ids (1-30)"
    )
    parser.add_argument("--config", default="{}", help="data.beat settings as JSON")
    return parser


def main(args: argparse.Namespace) -> int:
    cfg = from_dict(BeatSourceConfig, parse_json_arg(args.config), "data.beat")
    stems = download_beat(Path(args.root), cfg, list(dict.fromkeys(args.speakers)))
    log.info("BEAT ready: %d clips of speakers %s in %s", len(stems), args.speakers, args.root)
    return 0


if __name__ == "__main__":
    sys.exit(run_stage(main, build_parser()))
