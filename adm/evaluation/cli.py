"""The evaluation's commands: ``adm fit-metric-model|reference|evaluate``.

Each command is a pair: ``<name>_parser()`` builds its options, ``<name>(args)`` runs it
(through :func:`adm.commandline.run_stage`, see :mod:`adm.commands`); each one's help text
below says what it writes.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from adm.commandline import non_negative_int, paired
from adm.config import from_dict, parse_json_arg
from adm.errors import BadInputError, ConfigError
from adm.evaluation.baseline import NAME as MEAN_POSE
from adm.evaluation.config import KINDS
from adm.threads import add_threads_argument, set_threads

log = logging.getLogger("adm.evaluation")

# --- adm fit-metric-model ------------------------------------------------------------------------
FIT_METRIC_MODEL_HELP = """Train the FGD motion autoencoder or the face VAE.

Example::

    adm fit-metric-model --kind motion --clips-dir results/data/clips \
        --split results/data/split/train.txt --norm results/data/norm_stats.json \
        --out results/metric_models/motion_ae.safetensors --config '{"iterations": 10000}' \
        --threads 1

``--kind motion`` trains BEAT's autoencoder on normalised 141-d gesture windows (stride 10);
``--kind face`` trains SAiD's VAE on windows of the 51 raw blendshape weights. The config keys
are those of :class:`adm.evaluation.config.FitConfig` (``length``, ``stride``, ``iterations`` or
``epochs``, ``batch``, ``lr``, ``mlp_negative_slope``, ``beta``, ``seed``); unset keys take the
kind's defaults. The model is saved as safetensors with its config in the metadata and the
training record (windows, steps, final loss, reconstruction error, train clips, CPU threads)
beside it. The weights depend on ``--threads`` in their last bits; the same count gives the
same model.
"""


def fit_metric_model_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=FIT_METRIC_MODEL_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--kind", required=True, choices=KINDS, help="which metric model")
    parser.add_argument("--clips-dir", required=True, help="folder of prepared clips")
    parser.add_argument("--split", required=True, help="train split list (one stem a line)")
    parser.add_argument("--norm", required=True, help="normalisation statistics JSON")
    parser.add_argument("--out", required=True, help="output .safetensors")
    parser.add_argument("--config", default="{}", help="FitConfig as a JSON object")
    add_threads_argument(parser)
    return parser


def fit_metric_model(args: argparse.Namespace) -> int:
    import torch

    from adm.data.normalization import load_norm_stats
    from adm.data.split import read_split_list
    from adm.evaluation.config import FitConfig
    from adm.evaluation.fit import fit_metric_model as fit
    from adm.evaluation.fit import train_sequences
    from adm.metrics.checkpoint import save_metric_model

    cfg = from_dict(FitConfig, parse_json_arg(args.config), "metric_model")
    settings = cfg.resolved(args.kind)
    threads = set_threads(args.threads)
    split = Path(args.split)
    stems = read_split_list(split)
    if not stems:
        raise BadInputError(split, "the train split lists no clip")
    norm = load_norm_stats(Path(args.norm))
    sequences = train_sequences(args.clips_dir, stems, args.kind, norm)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    log.info(
        "%s model: %d train clips, window %d stride %d, on %s",
        args.kind,
        len(stems),
        settings["length"],
        settings["stride"],
        device,
    )
    model, record = fit(args.kind, sequences, settings, device, split)
    record.update({"split": str(split), "clips": stems, "norm": str(args.norm), "threads": threads})
    save_metric_model(Path(args.out), model, record)
    log.info(
        "%s model: %d steps on %d windows; final loss %.5g, reconstruction L1 %.5g -> %s",
        args.kind,
        record["steps"],
        record["windows"],
        record["final_loss"],
        record["recon_l1"],
        args.out,
    )
    return 0


# --- adm reference -------------------------------------------------------------------------------
REFERENCE_HELP = """``adm reference``: the ground-truth half of every metric, once per test set.

Example::

    adm reference --clips-dir results/data/clips \
        --split results/data/split/test.txt --corpus-root results/data/corpus/synth \
        --norm results/data/norm_stats.json \
        --motion-ae results/metric_models/motion.safetensors \
        --face-vae results/metric_models/face.safetensors \
        --out results/metric_models/reference.npz --config '{}' --threads 1

Writes one ``.npz`` (:class:`adm.evaluation.reference.MetricReference`): the ground-truth FGD
feature statistics, the ground truth's own diversity and L1 diversity, every clip's audio beats
in both Beat Align forms, the face latents' statistics and WInD's ground-truth mixtures, with
the digests of every file and the settings they came from. ``adm evaluate
--reference`` then evaluates each method against it without recomputing the ground truth, and
refuses a reference built from other files or settings. The config keys are those of
:class:`adm.evaluation.config.EvalConfig` (the evaluate stage's); ``--threads`` (CPU threads,
recorded in the provenance) fixes the features' last bits; the file is written atomically.
"""


def reference_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=REFERENCE_HELP,
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


def reference(args: argparse.Namespace) -> int:
    import torch

    from adm.data.split import read_split_list
    from adm.evaluation.config import EvalConfig
    from adm.evaluation.reference import build_reference

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


# --- adm evaluate --------------------------------------------------------------------------------
EVALUATE_HELP = """``adm evaluate``: every metric of one generated test set, as a JSON record.

Example::

    adm evaluate --samples results/samples/full/seed0 --clips-dir results/data/clips \
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
Several ``--samples`` folders (one per sampling seed, with their ``--seed`` and ``--out`` in
the same order) are evaluated one after the other in one process, which starts up (torch,
the libraries' kernels) once. ``--reference`` gives the test set's ground-truth statistics,
computed once by ``adm reference`` (refused when built from other files or settings); without
it they are computed here first, with the same numbers. Config keys:
:class:`adm.evaluation.config.EvalConfig`. ``--threads`` (CPU threads, recorded as ``threads``)
fixes the last bits of the float32 metric-model features. The JSON is written atomically.
"""


def evaluate_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=EVALUATE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--samples", nargs="+", help="folders of generated clips (<stem>.parquet), one per seed"
    )
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
        "--seed",
        type=non_negative_int,
        nargs="+",
        help="each folder's sampling seed, recorded in its metrics file",
    )
    parser.add_argument(
        "--reference",
        help="the test set's reference (adm reference); without it the ground-truth "
        "half of the metrics is computed here",
    )
    parser.add_argument("--out", required=True, nargs="+", help="each folder's output JSON")
    parser.add_argument("--config", default="{}", help="EvalConfig as a JSON object")
    add_threads_argument(parser)
    return parser


def _path(value: str | None) -> Path | None:
    return None if value is None else Path(value)


def evaluate(args: argparse.Namespace) -> int:
    from adm.evaluation import run as evaluation
    from adm.evaluation.config import EvalConfig
    from adm.io.atomic import write_text_atomic

    cfg = from_dict(EvalConfig, parse_json_arg(args.config), "evaluate")
    threads = set_threads(args.threads)
    if args.baseline is not None and args.checkpoint is not None:
        raise ConfigError("--checkpoint does not apply to --baseline (no model is sampled)")
    folders = [None] if args.samples is None else args.samples
    seeds = args.seed if args.seed is not None else [None] * len(folders)
    for samples, seed, out in paired("samples folder", samples=folders, seed=seeds, out=args.out):
        inputs = evaluation.EvalInputs(
            clips_dir=Path(args.clips_dir),
            split=Path(args.split),
            corpus_root=Path(args.corpus_root),
            norm=Path(args.norm),
            samples=_path(samples),
            baseline=args.baseline,
            motion_ae=_path(args.motion_ae),
            face_vae=_path(args.face_vae),
            checkpoint=_path(args.checkpoint),
            variant=args.variant,
            seed=seed,
            reference=_path(args.reference),
        )
        record = {**evaluation.evaluate(inputs, cfg), "threads": threads}
        write_text_atomic(Path(out), json.dumps(record, indent=1, allow_nan=False) + "\n")
        metrics = record["metrics"].items()
        shown = ", ".join(f"{k} {v:.4g}" for k, v in metrics if isinstance(v, float))
        log.info(
            "%s seed %s: %d clips, %d frames: %s -> %s",
            record["variant"],
            record["seed"],
            record["counts"]["clips"],
            record["counts"]["frames"],
            shown,
            out,
        )
    return 0
