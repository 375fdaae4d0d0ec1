"""``python -m adm.synthesize``: write the bundled synthetic BEAT-format corpus.

    python -m adm.synthesize --root results/data/synth --config '{"speakers": [2, 4]}' \
        [--workers 2] [--log results/logs/synthesize.log]

``--config`` is a JSON object of :class:`adm.data.synth.SynthConfig` fields (unknown keys are an
error). The command writes ``<root>/<spk>/<stem>.{wav,TextGrid,json,bvh,txt,csv}`` for every take
and, last, ``<root>/manifest.tsv``. The output depends only on the config (not on ``--workers``).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from adm.cli import positive_int, run_stage
from adm.config import from_dict, parse_json_arg
from adm.data.synth import SynthConfig, generate_corpus


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m adm.synthesize",
        description="Write the synthetic corpus in BEAT's file formats.",
    )
    p.add_argument("--root", required=True, type=Path, help="output folder of the corpus")
    p.add_argument("--config", default="{}", help="JSON object of SynthConfig fields")
    p.add_argument("--workers", type=positive_int, default=2, help="worker processes (default 2)")
    p.add_argument("--log", type=Path, default=None, help="also append log lines to this file")
    return p


def _run(args: argparse.Namespace) -> int:
    cfg = from_dict(SynthConfig, parse_json_arg(args.config), where="synth")
    if args.log is not None:
        args.log.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(args.log, encoding="utf-8")
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )
        logging.getLogger("adm").addHandler(handler)
    manifest = generate_corpus(cfg, args.root, workers=max(1, args.workers))
    logging.getLogger("adm.synth").info("manifest: %s", manifest)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_stage(_run, build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
