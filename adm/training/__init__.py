"""Training of the diffusion denoiser: data windows, the step, checkpoints, resume, DDP.

``adm train`` is the command; the sampling stage reuses :func:`load_checkpoint`,
:func:`load_clip_arrays` and :class:`ConditionStats` to prepare whole test clips exactly as the
training clips were.
"""

from adm.training.checkpoint import LoadedCheckpoint, load_checkpoint
from adm.training.conditions import ConditionStats
from adm.training.config import (
    DiffusionConfig,
    RunConfig,
    TrainConfig,
    VariantConfig,
    WeightingConfig,
    parse_run_config,
)
from adm.training.dataset import (
    Batch,
    ClipArrays,
    WindowDataset,
    build_window_dataset,
    load_clip_arrays,
)
from adm.training.losses import masked_huber, task_losses

__all__ = [
    "Batch",
    "ClipArrays",
    "ConditionStats",
    "DiffusionConfig",
    "LoadedCheckpoint",
    "RunConfig",
    "TrainConfig",
    "VariantConfig",
    "WeightingConfig",
    "WindowDataset",
    "build_window_dataset",
    "load_checkpoint",
    "load_clip_arrays",
    "masked_huber",
    "parse_run_config",
    "task_losses",
]
