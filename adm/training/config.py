"""Settings of a training run: the optimiser/loop (:class:`TrainConfig`), the ablation variant
(:class:`VariantConfig`), the diffusion process, and how they combine with the model config.

A run receives one JSON object (``--config``)::

    {"model":     {"name": "adm", ...ADMConfig keys},
     "diffusion": {"schedule": "cosine", "steps": 1000, "prediction": "x0"},
     "train":     {...TrainConfig keys},
     "variant":   {"name": "full", "tasks": [...], "weighting": {"name": "uncertainty"}},
     "objective": {"name": "task_huber", "delta": 1.0}}

``objective`` names the method's loss terms (:mod:`adm.training.objectives`); absent, it is ADM's
per-task Huber with ``train.huber_delta``.

Every section is built strictly (:func:`adm.config.from_dict`): an unknown key is a
:class:`~adm.errors.ConfigError` that names it. Values the data decides (speaker count, audio and
text widths) are filled into the model config by :func:`resolve_model_config`; a value the JSON
states that disagrees with the data or with ``train`` is an error rather than silently replaced.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

from adm.config import from_dict, to_dict
from adm.errors import ConfigError
from adm.models import denoiser_class

#: TrainConfig fields that do not change the optimisation trajectory: a run may resume from a
#: checkpoint written under other values of these (e.g. more iterations to extend a run).
NON_TRAJECTORY_FIELDS = (
    "iterations",
    "log_every",
    "checkpoint_every",
    "keep_checkpoints",
    "num_workers",
)

CONDITION_DTYPES = ("float32", "float16", "bfloat16")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation and bookkeeping of a training run.

    Defaults are the paper's (180k iterations, batch 200, 150-frame windows, 30 seed frames) and,
    where it is silent, DiffuseStyleGesture+'s (AdamW, lr 3e-5, no weight decay).

    Attributes:
        batch: global batch size; under ``torchrun`` each of K processes takes ``batch / K``.
        iterations: optimiser steps in total.
        lr, weight_decay, betas: AdamW; the loss-weighting parameters never get weight decay.
        weighting_lr: learning rate of the loss-weighting parameters (UWP's ``s_k``), their own
            AdamW parameter group; ``None`` uses ``lr`` (one rate for everything, the paper's
            setting). Adam moves every ``s_k`` by about this much per step, so the learned
            weights settle at ``w_k ~ 1 / L_k`` only after roughly ``|log L_k| / weighting_lr``
            steps: a short run needs a larger rate than the network's.
        grad_clip: max global L2 norm of the denoiser's gradients (0 = no clipping); the
            weighting parameters are not clipped.
        ema_decay: EMA decay d; step t uses ``min(d, (1 + t) / (10 + t))`` so that short runs
            still get a useful average (the warm-up of TensorFlow's ExponentialMovingAverage).
        window: W, training window length in frames.
        seed_frames: S, ground-truth frames given as seed motion (first S of the window).
        window_stride: training windows start every ``window_stride`` frames of a clip.
        huber_delta: delta of the per-task Huber loss.
        log_every: a scalars row and a log line every this many steps (also at step 1 and last).
        checkpoint_every: a resumable checkpoint (and the val loss) every this many steps.
        keep_checkpoints: periodic checkpoints kept on disk (oldest removed first).
        seed: seeds model init, data order, diffusion noise and dropout.
        bf16: bfloat16 autocast of the denoiser forward (CUDA only; ignored on CPU).
        compile: ``torch.compile`` the training module (CUDA only; ignored on CPU).
        num_workers: DataLoader workers gathering windows (only when the data stays on the CPU;
            on CUDA the windows are gathered on the GPU itself).
        condition_dtype: storage dtype of audio/text features in memory ("float32", "float16",
            "bfloat16"); halves the footprint of the 1133-dim audio features.
        text_dropout: probability that a training window's text condition is replaced by the
            "no transcript" input (zeros in normalised units, the train mean), so that the
            model can generate from audio alone; 0 disables it.
    """

    batch: int = 200
    iterations: int = 180_000
    lr: float = 3e-5
    weighting_lr: float | None = None
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    grad_clip: float = 1.0
    ema_decay: float = 0.9999
    window: int = 150
    seed_frames: int = 30
    window_stride: int = 10
    huber_delta: float = 1.0
    log_every: int = 50
    checkpoint_every: int = 1000
    keep_checkpoints: int = 2
    seed: int = 0
    bf16: bool = True
    compile: bool = False
    num_workers: int = 0
    condition_dtype: str = "float32"
    text_dropout: float = 0.1

    def __post_init__(self) -> None:
        where = "train"
        for name in (
            "batch",
            "iterations",
            "window",
            "window_stride",
            "log_every",
            "checkpoint_every",
            "keep_checkpoints",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{where}.{name}: must be positive, got {getattr(self, name)}")
        for name in ("seed_frames", "num_workers", "weight_decay", "grad_clip", "seed"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{where}.{name}: must be >= 0, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ConfigError(f"{where}.lr: must be positive, got {self.lr}")
        if self.weighting_lr is not None and not self.weighting_lr > 0:
            raise ConfigError(f"{where}.weighting_lr: must be positive, got {self.weighting_lr}")
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ConfigError(f"{where}.betas: expected two numbers in [0, 1), got {self.betas}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ConfigError(f"{where}.ema_decay: must be in [0, 1), got {self.ema_decay}")
        if self.huber_delta <= 0:
            raise ConfigError(f"{where}.huber_delta: must be positive, got {self.huber_delta}")
        if self.seed_frames >= self.window:
            raise ConfigError(
                f"{where}.seed_frames: {self.seed_frames} must be smaller than window {self.window}"
            )
        if not 0.0 <= self.text_dropout <= 1.0:
            raise ConfigError(f"{where}.text_dropout: must be in [0, 1], got {self.text_dropout}")
        if self.condition_dtype not in CONDITION_DTYPES:
            raise ConfigError(
                f"{where}.condition_dtype: expected one of {list(CONDITION_DTYPES)}, "
                f"got {self.condition_dtype!r}"
            )


@dataclass(frozen=True)
class WeightingConfig:
    """How task losses combine (:func:`adm.weighting.build_weighting`).

    Attributes:
        name: "uncertainty" (UWP, Kendall et al. 2018) or "fixed".
        weights: fixed weights per task (default 1 each); only for "fixed".
        init_log_var: initial ``s_k = log sigma_k^2`` (one number or per task); only for
            "uncertainty" (default 0: sigma 1, weights 1:1).
    """

    name: Literal["fixed", "uncertainty"] = "uncertainty"
    weights: dict[str, float] | None = None
    init_log_var: float | dict[str, float] | None = None

    def __post_init__(self) -> None:
        if self.name == "fixed" and self.init_log_var is not None:
            raise ConfigError(
                "variant.weighting.init_log_var: only for the 'uncertainty' weighting"
            )
        if self.name == "uncertainty" and self.weights is not None:
            raise ConfigError("variant.weighting.weights: only for the 'fixed' weighting")

    def kwargs(self) -> dict[str, Any]:
        """Keyword options for :func:`adm.weighting.build_weighting`."""
        if self.name == "fixed":
            return {} if self.weights is None else {"weights": dict(self.weights)}
        return {} if self.init_log_var is None else {"init_log_var": self.init_log_var}


@dataclass(frozen=True)
class VariantConfig:
    """An ablation variant merged over the base model config (paper Table 3).

    Attributes:
        name: label of the variant ("full", "no_uwp", "a2e", "a2g", ...).
        tasks: tasks the model generates, in output order; None keeps the model's tasks.
        weighting: the task-loss weighting.
    """

    name: str = "full"
    tasks: tuple[str, ...] | None = None
    weighting: WeightingConfig = field(default_factory=WeightingConfig)


@dataclass(frozen=True)
class DiffusionConfig:
    """The training chain (:func:`adm.diffusion.make_diffusion`): DDPM, cosine, 1000, x0."""

    schedule: Literal["cosine", "linear"] = "cosine"
    steps: int = 1000
    prediction: Literal["x0", "eps"] = "x0"
    variance: Literal["fixed_small", "fixed_large"] = "fixed_small"

    def __post_init__(self) -> None:
        if self.steps <= 0:
            raise ConfigError(f"diffusion.steps: must be positive, got {self.steps}")


@dataclass(frozen=True)
class RunConfig:
    """The whole ``--config`` object of ``adm train``.

    Attributes:
        model_name: registry name of the denoiser (``model.name``).
        model: the remaining ``model`` keys (the network's config keys), as given.
        diffusion, train, variant: the parsed sections.
        raw: the JSON object as received (hashed into checkpoints).
        objective: the objective's settings dict (``name`` and its keys), built by
            :func:`adm.training.objectives.build_objective`.
    """

    model_name: str
    model: dict[str, Any]
    diffusion: DiffusionConfig
    train: TrainConfig
    variant: VariantConfig
    raw: dict[str, Any]
    objective: dict[str, Any] = field(default_factory=dict)


SECTIONS = ("model", "diffusion", "train", "variant", "objective")


def parse_run_config(data: dict[str, Any]) -> RunConfig:
    """Build a :class:`RunConfig` from the ``--config`` object; unknown keys are errors."""
    if not isinstance(data, dict):
        raise ConfigError(f"config: expected a mapping, got {data!r}")
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"config: unknown key {unknown[0]!r} (known keys: {', '.join(SECTIONS)})")
    model = dict(data.get("model") or {})
    name = model.pop("name", "adm")
    if not isinstance(name, str):
        raise ConfigError(f"model.name: expected a string, got {name!r}")
    train = from_dict(TrainConfig, data.get("train") or {}, "train")
    objective = data.get("objective")
    if objective is None:
        objective = {"name": "task_huber", "delta": train.huber_delta}
    elif not isinstance(objective, dict) or not isinstance(objective.get("name"), str):
        raise ConfigError(f"objective: expected a mapping with a 'name', got {objective!r}")
    return RunConfig(
        model_name=name,
        model=model,
        diffusion=from_dict(DiffusionConfig, data.get("diffusion") or {}, "diffusion"),
        train=train,
        variant=from_dict(VariantConfig, data.get("variant") or {}, "variant"),
        raw=copy.deepcopy(data),
        objective=dict(objective),
    )


def _fill(model: dict[str, Any], key: str, value: Any, source: str) -> None:
    """Set ``model[key] = value`` unless the config states another value (then an error)."""
    if key in model and model[key] != value:
        raise ConfigError(
            f"model.{key}: the config says {model[key]!r} but {source} gives {value!r}"
        )
    model[key] = value


def resolve_model_config(
    run: RunConfig, num_speakers: int, audio_dim: int, text_dim: int
) -> dict[str, Any]:
    """The model config dict the denoiser is built from.

    The variant's ``tasks`` replace the model's; the speaker count and feature widths come from
    the data, window and seed length from ``train``. A model key that contradicts them is a
    ConfigError naming it.
    """
    model = copy.deepcopy(run.model)
    if run.variant.tasks is not None:
        model["tasks"] = list(run.variant.tasks)
    _fill(model, "num_speakers", num_speakers, "--speakers")
    _fill(model, "audio_dim", audio_dim, "the audio features")
    _fill(model, "text_dim", text_dim, "the text features")
    _fill(model, "window", run.train.window, "train.window")
    _fill(model, "seed_frames", run.train.seed_frames, "train.seed_frames")
    # Networks that need the noise schedule themselves (DiffSHEG's x0 estimate) declare it.
    fields = _config_fields(run.model_name)
    if "diffusion_schedule" in fields:
        _fill(model, "diffusion_schedule", run.diffusion.schedule, "diffusion.schedule")
    if "diffusion_steps" in fields:
        _fill(model, "diffusion_steps", run.diffusion.steps, "diffusion.steps")
    return model


def _config_fields(model_name: str) -> set[str]:
    """Field names of the registered network's config class."""
    import dataclasses

    try:
        config_class = denoiser_class(model_name).config_class
    except ValueError as err:
        raise ConfigError(f"model.name: {err}") from None
    return {f.name for f in dataclasses.fields(config_class)}


def trajectory_config(run: RunConfig) -> dict[str, Any]:
    """The parts of the config that shape the weights (what a resumed run must share)."""
    train = {k: v for k, v in to_dict(run.train).items() if k not in NON_TRAJECTORY_FIELDS}
    out = {
        "model": {"name": run.model_name, **run.model},
        "diffusion": to_dict(run.diffusion),
        "train": train,
        "variant": to_dict(run.variant),
    }
    if "objective" in run.raw:  # ADM runs (no objective key) keep their resume key
        out["objective"] = run.objective
    return out


def resolve_tasks(run: RunConfig) -> tuple[str, ...]:
    """The tasks the run trains: the variant's, else the model config's, else its default."""
    if run.variant.tasks is not None:
        return tuple(run.variant.tasks)
    if "tasks" in run.model:
        tasks = run.model["tasks"]
        if not isinstance(tasks, list | tuple) or not all(isinstance(t, str) for t in tasks):
            raise ConfigError(f"model.tasks: expected a list of task names, got {tasks!r}")
        return tuple(tasks)
    try:
        config_class = denoiser_class(run.model_name).config_class
    except ValueError as err:
        raise ConfigError(f"model.name: {err}") from None
    return tuple(config_class().tasks)
