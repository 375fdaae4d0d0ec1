"""Evaluate one generated test set (a variant and a sampling seed, or the mean-pose baseline).

:func:`evaluate` streams the test clips one at a time (ground truth, generated motion, audio),
feeds the gesture and face evaluators of the tasks the samples contain, and returns the record
that ``python -m adm.evaluate`` writes as JSON: provenance (checkpoint, samples, metric models,
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
    checkpoint_record,
    layout_summary,
    load_clip_audio,
    read_generated_clip,
    read_test_clip,
)
from adm.logs import progress
from adm.metrics import load_face_vae, load_motion_autoencoder
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

    Raises:
        BadInputError: a missing or malformed input (the message names the file), a missing
            sample for a test clip, samples whose tasks differ between clips, or a test set too
            short for a metric's windows.
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
    gesture_eval: GestureEvaluator | None = None
    face_eval: FaceEvaluator | None = None
    tasks: tuple[str, ...] | None = None
    first_meta: dict[str, Any] = {}
    frames = 0
    fps: set[float] = set()
    load_time = 0.0
    for stem in progress(stems, "evaluate", total=len(stems)):
        start = time.perf_counter()
        clip = read_test_clip(inputs.clips_dir, stem)
        if inputs.samples is not None:
            gen = read_generated_clip(inputs.samples, clip)
            _check_sample_provenance(gen, inputs, ckpt)
        else:
            gen = mean_pose_clip(clip, norm)
        load_time += time.perf_counter() - start
        if tasks is None:
            tasks, first_meta = gen.tasks, gen.metadata
            gesture_eval, face_eval = _evaluators(tasks, inputs, norm, cfg, device)
        elif gen.tasks != tasks:
            raise BadInputError(
                gen.path or clip.path,
                f"holds tasks {list(gen.tasks)} but the other samples hold {list(tasks)}",
            )
        if gesture_eval is not None:
            start = time.perf_counter()
            audio = load_clip_audio(inputs.corpus_root, clip, cfg.audio_rate)
            load_time += time.perf_counter() - start
            gesture_eval.update(clip, gen.streams["gesture"], audio)
        if face_eval is not None:
            face_eval.update(clip, gen.streams["face"])
        frames += clip.num_frames
        fps.add(clip.fps)
    assert tasks is not None
    metrics: dict[str, Any] = {}
    counts: dict[str, int] = {"clips": len(stems), "frames": frames}
    timing: dict[str, float] = {"load_s": load_time}
    try:
        for evaluator in (gesture_eval, face_eval):
            if evaluator is not None:
                values, numbers = evaluator.compute()
                metrics.update(values)
                counts.update(numbers)
                timing.update({f"{k}_s": v for k, v in evaluator.timing.items()})
    except TooFewWindows as err:
        raise BadInputError(inputs.split, str(err)) from None
    timing["total_s"] = time.perf_counter() - started
    return _record(inputs, cfg, tasks, ckpt, first_meta, metrics, counts, timing, stems, fps)


def _evaluators(tasks, inputs: EvalInputs, norm, cfg: EvalConfig, device):
    gesture_eval = face_eval = None
    if "gesture" in tasks:
        if inputs.motion_ae is None:
            raise ConfigError("--motion-ae is required: the samples hold gestures (FGD)")
        gesture_eval = GestureEvaluator(
            load_motion_autoencoder(inputs.motion_ae, device), norm, cfg
        )
    if "face" in tasks:
        if inputs.face_vae is None:
            raise ConfigError("--face-vae is required: the samples hold faces (FD, WInD)")
        face_eval = FaceEvaluator(load_face_vae(inputs.face_vae, device), cfg)
    return gesture_eval, face_eval


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
        names += ["fgd", "diversity", "l1div", "beat_align", other, "srgr"]
        names += ["diversity_ground_truth", "l1div_ground_truth"]
    if "face" in tasks:
        names += ["fd", "wind", "wind_std", "jaw_open_r", "jaw_open_r_clip_mean"]
    return names


__all__ = ["FORMAT", "TASKS", "EvalInputs", "evaluate", "metric_names"]
