"""``python -m adm.reference``: the ground-truth half of every metric, once per test set.

Example::

    python -m adm.reference --clips-dir results/data/clips \
        --split results/data/split/test.txt --corpus-root results/data/corpus/synth \
        --norm results/data/norm_stats.json \
        --motion-ae results/metric_models/motion.safetensors \
        --face-vae results/metric_models/face.safetensors \
        --out results/metric_models/reference.npz --config '{}' --threads 1

Writes one ``.npz`` (:class:`adm.evaluation.reference.MetricReference`): the ground-truth FGD
feature statistics, the ground truth's own diversity and L1 diversity, every clip's audio beats
in both Beat Align forms, the face latents' statistics and WInD's ground-truth mixtures, with
the digests of every file and the settings they came from. ``python -m adm.evaluate
--reference`` then evaluates each method against it without recomputing the ground truth, and
refuses a reference built from other files or settings. The config keys are those of
:class:`adm.evaluation.config.EvalConfig` (the evaluate stage's); ``--threads`` (CPU threads,
recorded in the provenance) fixes the features' last bits; the file is written atomically.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import torch

from adm.cli import run_stage
from adm.config import from_dict, parse_json_arg
from adm.data.split import read_split_list
from adm.errors import BadInputError, ConfigError
from adm.evaluation.config import EvalConfig
from adm.evaluation.reference import build_reference
from adm.threads import add_threads_argument, set_threads

log = logging.getLogger("adm.reference")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m adm.reference",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--clips-dir", required=True, help="folder of prepared clips")
    parser.add_argument("--split", required=True, help="test split list (one stem a line)")
    parser.add_argument("--corpus-root", required=True, help="raw corpus (<speaker>/<wav>)")
    parser.add_argument("--norm", required=True, help="normalisation statistics JSON")
    parser.add_argument("--motion-ae", help="FGD motion autoencoder (gesture statistics)")
    parser.add_argument("--face-vae", help="face VAE (face statistics)")
    parser.add_argument("--out", required=True, help="output .npz")
    parser.add_argument("--config", default="{}", help="EvalConfig as a JSON object")
    add_threads_argument(parser)
    return parser


def main(args: argparse.Namespace) -> int:
    cfg = from_dict(EvalConfig, parse_json_arg(args.config), "evaluate")
    threads = set_threads(args.threads)
    if args.motion_ae is None and args.face_vae is None:
        raise ConfigError("give --motion-ae, --face-vae or both")
    split = Path(args.split)
    stems = read_split_list(split)
    if not stems:
        raise BadInputError(split, "the test split lists no clip")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    reference = build_reference(
        Path(args.clips_dir),
        stems,
        Path(args.corpus_root),
        Path(args.norm),
        cfg,
        None if args.motion_ae is None else Path(args.motion_ae),
        None if args.face_vae is None else Path(args.face_vae),
        device,
    )
    reference.provenance["threads"] = threads  # the features' last bits depend on it
    reference.save(Path(args.out))
    parts = []
    if reference.gesture is not None:
        parts.append(f"{reference.gesture.windows} FGD windows")
    if reference.face is not None:
        parts.append(
            f"{reference.face.windows} face windows, {len(reference.face.mixtures)} mixtures"
        )
    log.info("reference of %d test clips (%s) -> %s", len(stems), ", ".join(parts), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(run_stage(main, build_parser()))
