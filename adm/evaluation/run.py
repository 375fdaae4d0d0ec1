"""Evaluate one generated test set (a variant and a sampling seed, or the mean-pose baseline).

:func:`evaluate` streams the test clips one at a time (ground truth, generated motion, audio),
feeds the gesture and face evaluators of the tasks the samples contain, and returns the record
that ``adm evaluate`` writes as JSON: provenance (checkpoint, samples, metric models,
data), every metric value (raw, unscaled), counts and timing.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from adm.config import to_dict
from adm.data.normalization import load_norm_stats
from adm.data.split import read_split_list
from adm.errors import BadInputError, ConfigError
from adm.evaluation.baseline import NAME as MEAN_POSE
from adm.evaluation.baseline import mean_pose_clip
from adm.evaluation.config import EvalConfig
from adm.evaluation.face import FaceEvaluator
from adm.evaluation.gesture import GestureEvaluator, TooFewWindows
from adm.evaluation.inputs import (
    TASKS,
    GeneratedClip,
    TestClip,
    checkpoint_record,
    clip_wav_path,
    layout_summary,
    read_generated_clip,
    read_test_clip,
)
from adm.evaluation.reference import (
    MetricReference,
    build_reference,
    file_digest,
    reference_provenance,
)
from adm.evaluation.schedule import run_evaluators
from adm.logs import progress
from adm.metrics.checkpoint import load_face_vae, load_motion_autoencoder
from adm.metrics.checkpoint import read_metadata as read_metric_metadata

log = logging.getLogger("adm.evaluate")

FORMAT = "adm-metrics/1"
#: Sample metadata keys that describe how the samples were drawn (copied into the record).
SAMPLER_KEYS = (
    "sampler",
    "steps",
    "eta",
    "guidance",
    "seed",
    "variant",
    "sample_config_hash",
    "checkpoint_step",
)


@dataclass(frozen=True)
class EvalInputs:
    """Where everything comes from. Exactly one of ``samples`` and ``baseline`` is set."""

    clips_dir: Path
    split: Path
    corpus_root: Path
    norm: Path
    samples: Path | None = None
    baseline: str | None = None
    motion_ae: Path | None = None
    face_vae: Path | None = None
    checkpoint: Path | None = None
    variant: str | None = None
    seed: int | None = None
    reference: Path | None = None


def _find(meta: dict[str, Any], *keys: str) -> Any:
    """First of ``keys`` (``a.b`` looks inside a nested mapping) present in ``meta``."""
    for key in keys:
        value: Any = meta
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            return value
    return None


def _check_sample_provenance(gen: GeneratedClip, inputs: EvalInputs, ckpt: dict | None) -> None:
    """Samples drawn by another checkpoint, variant or seed than the command states: error."""
    meta, path = gen.metadata, gen.path
    # The sampling stage records the checkpoint's hash as "config_hash" (its own settings'
    # hash is "sample_config_hash").
    found = _find(meta, "checkpoint.config_hash", "checkpoint_config_hash", "config_hash")
    expected = ckpt.get("config_hash") if ckpt is not None else None
    if expected is not None and found is not None and found != expected:
        raise BadInputError(
            path,
            f"made by a checkpoint with config hash {found}, but --checkpoint "
            f"{inputs.checkpoint} has {expected}",
        )
    seed = meta.get("seed")
    if inputs.seed is not None and seed is not None and int(seed) != inputs.seed:
        raise BadInputError(path, f"sampled with seed {seed}, but --seed is {inputs.seed}")
    variant = _find(meta, "variant.name", "variant")
    if inputs.variant is not None and isinstance(variant, str) and variant != inputs.variant:
        raise BadInputError(
            path, f"made by variant {variant!r}, but --variant is {inputs.variant!r}"
        )


def _metric_model_record(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    meta = read_metric_metadata(path)
    return {"path": str(path), "kind": meta["kind"], "config": meta["config"], "fit": meta["extra"]}


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def evaluate(inputs: EvalInputs, cfg: EvalConfig) -> dict[str, Any]:
    """All metrics of one generated test set; the JSON-able record of the run.

    The ground-truth half of the metrics comes from ``inputs.reference`` (checked against the
    inputs) or, without one, from a reference built in memory first (the same code and
    numbers; see :mod:`adm.evaluation.reference`).

    Raises:
        BadInputError: a missing or malformed input (the message names the file), a missing
            sample for a test clip, samples whose tasks differ between clips, a test set too
            short for a metric's windows, or a reference built from other inputs.
        ConfigError: neither or both of samples and baseline; a metric model that the
            samples' tasks need was not given.
        MissingWeightsError: a metric-model file does not exist.
    """
    if (inputs.samples is None) == (inputs.baseline is None):
        raise ConfigError("give either --samples or --baseline, not both or neither")
    if inputs.baseline is not None and inputs.baseline != MEAN_POSE:
        raise ConfigError(f"--baseline: only {MEAN_POSE!r} is known, got {inputs.baseline!r}")
    started = time.perf_counter()
    stems = read_split_list(inputs.split)
    if not stems:
        raise BadInputError(inputs.split, "the test split lists no clip")
    norm = load_norm_stats(inputs.norm)
    ckpt = checkpoint_record(inputs.checkpoint) if inputs.checkpoint is not None else None
    device = _device()

    def generated(clip: TestClip) -> GeneratedClip:
        if inputs.samples is None:
            return mean_pose_clip(clip, norm)
        gen = read_generated_clip(inputs.samples, clip)
        _check_sample_provenance(gen, inputs, ckpt)
        return gen

    # The first sample decides the tasks, hence the metric models and the reference.
    first = generated(read_test_clip(inputs.clips_dir, stems[0]))
    tasks, first_meta = first.tasks, first.metadata
    motion_path, face_path = _metric_model_paths(tasks, inputs)
    start = time.perf_counter()
    reference, reference_info = _reference(inputs, cfg, stems, motion_path, face_path, device)
    timing: dict[str, float] = {"reference_s": time.perf_counter() - start, "load_s": 0.0}
    gesture_eval = face_eval = None
    if motion_path is not None:
        assert reference.gesture is not None
        motion = load_motion_autoencoder(motion_path, device)
        gesture_eval = GestureEvaluator(motion, norm, cfg, reference.gesture)
    if face_path is not None:
        assert reference.face is not None
        face_eval = FaceEvaluator(load_face_vae(face_path, device), cfg, reference.face)
    frames = 0
    fps: set[float] = set()
    sources: list[tuple[str, Path, Path | None]] = []
    passes = 0

    def pairs():
        """Every test clip with its sample; the first pass also checks and counts them."""
        nonlocal frames, passes
        passes += 1
        for stem in progress(stems, f"evaluate (pass {passes})", total=len(stems)):
            start = time.perf_counter()
            clip = read_test_clip(inputs.clips_dir, stem)
            gen = generated(clip)
            timing["load_s"] += time.perf_counter() - start
            if passes == 1:
                if gen.tasks != tasks:
                    raise BadInputError(
                        gen.path or clip.path,
                        f"holds tasks {list(gen.tasks)} but the other samples hold {list(tasks)}",
                    )
                if inputs.reference is not None:
                    # The wav matters to gestures only (Beat Align); face-only reads none.
                    needs_wav = motion_path is not None
                    wav = clip_wav_path(inputs.corpus_root, clip) if needs_wav else None
                    sources.append((stem, clip.path, wav))
                frames += clip.num_frames
                fps.add(clip.fps)
            yield clip, gen.streams

    def check_reference() -> None:
        if inputs.reference is not None:
            expected = reference_provenance(sources, cfg, inputs.norm, motion_path, face_path)
            reference.check(inputs.reference, expected, tasks)

    try:
        metrics, numbers = run_evaluators(pairs, gesture_eval, face_eval, check_reference)
    except TooFewWindows as err:
        raise BadInputError(inputs.split, str(err)) from None
    counts: dict[str, int] = {"clips": len(stems), "frames": frames, **numbers}
    for evaluator in (gesture_eval, face_eval):
        if evaluator is not None:
            timing.update({f"{k}_s": v for k, v in evaluator.timing.items()})
    timing["total_s"] = time.perf_counter() - started
    record = _record(inputs, cfg, tasks, ckpt, first_meta, metrics, counts, timing, stems, fps)
    if face_eval is not None:
        record["wind"] = face_eval.details["wind"]
    record["reference"] = reference_info
    return record


def _metric_model_paths(
    tasks: tuple[str, ...], inputs: EvalInputs
) -> tuple[Path | None, Path | None]:
    """The metric models the tasks need: ``(motion autoencoder, face VAE)``, None if unused."""
    motion = face = None
    if "gesture" in tasks:
        if inputs.motion_ae is None:
            raise ConfigError("--motion-ae is required: the samples hold gestures (FGD)")
        motion = inputs.motion_ae
    if "face" in tasks:
        if inputs.face_vae is None:
            raise ConfigError("--face-vae is required: the samples hold faces (FD, WInD)")
        face = inputs.face_vae
    return motion, face


def _reference(
    inputs: EvalInputs,
    cfg: EvalConfig,
    stems: list[str],
    motion: Path | None,
    face: Path | None,
    device: torch.device,
) -> tuple[MetricReference, dict[str, Any]]:
    """The test set's reference: loaded (its clip list checked now, the digests after the
    clips are read) or built in memory; and what the metrics record says of it."""
    if inputs.reference is None:
        reference = build_reference(
            inputs.clips_dir,
            stems,
            inputs.corpus_root,
            inputs.norm,
            cfg,
            motion,
            face,
            device,
            record=False,
        )
        return reference, {"path": None, "built": "in memory from the test clips"}
    reference = MetricReference.load(inputs.reference)
    if list(reference.clips) != list(stems):
        raise BadInputError(
            inputs.reference,
            f"was built for test clips {list(reference.clips)}, the split {inputs.split} "
            f"lists {list(stems)}",
        )
    for task, path in (("gesture", motion), ("face", face)):
        if path is not None and getattr(reference, task) is None:
            raise BadInputError(inputs.reference, f"holds no {task} statistics")
    return reference, {"path": str(inputs.reference), "sha256": file_digest(inputs.reference)}


def _record(inputs, cfg, tasks, ckpt, sample_meta, metrics, counts, timing, stems, fps):
    layout = ckpt.get("audio_layout") if ckpt else None
    if layout is None:
        layout = _find(sample_meta, "audio_layout", "feature_layout")
    sampler = {k: sample_meta[k] for k in SAMPLER_KEYS if k in sample_meta}
    variant = inputs.variant
    if variant is None:
        variant = (
            MEAN_POSE.replace("-", "_") if inputs.baseline else _find(ckpt or {}, "variant.name")
        )
    return {
        "format": FORMAT,
        "variant": variant,
        "seed": inputs.seed,
        "baseline": inputs.baseline,
        "tasks": list(tasks),
        "checkpoint": ckpt,
        "samples": None
        if inputs.samples is None
        else {"path": str(inputs.samples), "sampler": sampler},
        "metric_models": {
            "motion_ae": _metric_model_record(inputs.motion_ae if "gesture" in tasks else None),
            "face_vae": _metric_model_record(inputs.face_vae if "face" in tasks else None),
        },
        "data": {
            "source": cfg.data_source or Path(inputs.corpus_root).name,
            "clips_dir": str(inputs.clips_dir),
            "split": str(inputs.split),
            "corpus_root": str(inputs.corpus_root),
            "norm": str(inputs.norm),
            "clips": list(stems),
            "fps": sorted(fps),
        },
        "feature_layout": {"audio": layout, "summary": layout_summary(layout)},
        "config": to_dict(cfg),
        "metrics": {k: _finite(metrics[k]) for k in metric_names(tasks, cfg) if k in metrics},
        "counts": counts,
        "timing": {k: round(v, 4) for k, v in timing.items()},
    }


def _finite(value: Any) -> Any:
    # JSON has no NaN: an undefined value is recorded as null.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def metric_names(tasks: tuple[str, ...] | list[str], cfg: EvalConfig) -> list[str]:
    """The metric keys a record holds for ``tasks``, in a stable order."""
    other = "beat_align_corrected" if cfg.beat_align_compat == "beat" else "beat_align_beat"
    names: list[str] = []
    if "gesture" in tasks:
        names += ["fgd", "diversity", "l1div", "l1div_beat", "beat_align", other, "srgr"]
        names += [
            f"{name}_ground_truth"
            for name in ("diversity", "l1div", "l1div_beat", "beat_align", other, "srgr")
        ]
    if "face" in tasks:
        names += ["fd", "wind", "wind_std", "jaw_open_r", "jaw_open_r_clip_mean"]
    return names


__all__ = ["FORMAT", "TASKS", "EvalInputs", "evaluate", "metric_names"]
