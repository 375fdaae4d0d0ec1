"""``python -m adm.evaluate``: every metric of one generated test set, as a JSON record.

Example::

    python -m adm.evaluate --samples results/samples/full/seed0 --clips-dir results/data/clips \
        --split results/data/split/test.txt --corpus-root results/data/corpus/synth \
        --norm results/data/norm_stats.json \
        --motion-ae results/metric_models/motion_ae.safetensors \
        --face-vae results/metric_models/face_vae.safetensors \
        --checkpoint results/train/full/ema.safetensors --variant full --seed 0 \
        --reference results/metric_models/reference.npz \
        --out results/metrics/full/seed0.json --config '{}' --threads 1

For the tasks the samples hold: gestures give FGD, diversity, l1div, Beat Align (BEAT's form
and the corrected one) and SRGR; faces give FD, WInD (mean and std over mixture seeds) and the
jawOpen Pearson r (pooled and per-clip mean). ``--baseline mean-pose`` replaces
``--samples``/``--checkpoint`` with the train mean pose and face on every frame (a floor).
``--reference`` gives the test set's ground-truth statistics, computed once by
``python -m adm.reference`` (refused when built from other files or settings); without it they
are computed here first, with the same numbers. Config keys:
:class:`adm.evaluation.config.EvalConfig`. ``--threads`` (CPU threads, recorded as ``threads``)
fixes the last bits of the float32 metric-model features. The JSON is written atomically.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from adm.cli import non_negative_int, run_stage
from adm.config import from_dict, parse_json_arg
from adm.errors import ConfigError
from adm.evaluation.baseline import NAME as MEAN_POSE
from adm.evaluation.config import EvalConfig
from adm.evaluation.run import EvalInputs, evaluate
from adm.io.atomic import write_text_atomic
from adm.threads import add_threads_argument, set_threads

log = logging.getLogger("adm.evaluate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m adm.evaluate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--samples", help="folder of generated clips (<stem>.parquet)")
    what.add_argument("--baseline", choices=[MEAN_POSE], help="evaluate a baseline instead")
    parser.add_argument("--clips-dir", required=True, help="folder of prepared clips")
    parser.add_argument("--split", required=True, help="test split list (one stem a line)")
    parser.add_argument("--corpus-root", required=True, help="raw corpus (<speaker>/<wav>)")
    parser.add_argument("--norm", required=True, help="normalisation statistics JSON")
    parser.add_argument("--motion-ae", help="FGD motion autoencoder (needed for gestures)")
    parser.add_argument("--face-vae", help="face VAE (needed for faces)")
    parser.add_argument("--checkpoint", help="the weights the samples were drawn from")
    parser.add_argument("--variant", help="variant name recorded in the metrics file")
    parser.add_argument(
        "--seed", type=non_negative_int, help="sampling seed recorded in the metrics file"
    )
    parser.add_argument(
        "--reference",
        help="the test set's reference (python -m adm.reference); without it the ground-truth "
        "half of the metrics is computed here",
    )
    parser.add_argument("--out", required=True, help="output JSON")
    parser.add_argument("--config", default="{}", help="EvalConfig as a JSON object")
    add_threads_argument(parser)
    return parser


def _path(value: str | None) -> Path | None:
    return None if value is None else Path(value)


def main(args: argparse.Namespace) -> int:
    cfg = from_dict(EvalConfig, parse_json_arg(args.config), "evaluate")
    threads = set_threads(args.threads)
    if args.baseline is not None and args.checkpoint is not None:
        raise ConfigError("--checkpoint does not apply to --baseline (no model is sampled)")
    inputs = EvalInputs(
        clips_dir=Path(args.clips_dir),
        split=Path(args.split),
        corpus_root=Path(args.corpus_root),
        norm=Path(args.norm),
        samples=_path(args.samples),
        baseline=args.baseline,
        motion_ae=_path(args.motion_ae),
        face_vae=_path(args.face_vae),
        checkpoint=_path(args.checkpoint),
        variant=args.variant,
        seed=args.seed,
        reference=_path(args.reference),
    )
    record = {**evaluate(inputs, cfg), "threads": threads}
    write_text_atomic(Path(args.out), json.dumps(record, indent=1, allow_nan=False) + "\n")
    shown = ", ".join(f"{k} {v:.4g}" for k, v in record["metrics"].items() if isinstance(v, float))
    log.info(
        "%s seed %s: %d clips, %d frames: %s -> %s",
        record["variant"],
        record["seed"],
        record["counts"]["clips"],
        record["counts"]["frames"],
        shown,
        args.out,
    )
    return 0


if __name__ == "__main__":
    sys.exit(run_stage(main, build_parser()))
