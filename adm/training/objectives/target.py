"""Objectives on the prediction target alone: ADM's per-task Huber and DSG's MSE.

- ``task_huber`` (ADM, method.md "Loss"): per task, the masked Huber loss (``delta``) between
  the network output and the diffusion target (x0 for ADM), averaged over valid frames and the
  task's dims (:func:`adm.training.losses.masked_huber`).
- ``mse`` (DiffuseStyleGesture+): per task, the masked mean squared error between output and
  target, the loss of DSG+'s ``training_losses`` with x0 prediction (no Huber, no weighting: DSG
  has one task, gestures).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from adm.errors import ConfigError
from adm.training.losses import masked_huber
from adm.training.objectives.base import LossInputs, Objective, register_objective


def diffusion_target(inputs: LossInputs) -> Tensor:
    """What the network should output: ``x0``, or ``eps`` for an eps-predicting chain."""
    if inputs.diffusion is None or inputs.diffusion.prediction == "x0":
        return inputs.x0
    return inputs.eps


def masked_mse(
    pred: Tensor, target: Tensor, mask: Tensor, valid_frames: Tensor | float, scale: float = 1.0
) -> Tensor:
    """Mean of ``(pred - target)^2`` over valid frames and dims; ``[B, W, D]`` inputs, 0-dim out.

    Divides by the GLOBAL valid-frame count times ``D`` and multiplies by ``scale`` (ranks)."""
    err = (pred.float() - target.float()).square()
    total = torch.where(mask[..., None], err, torch.zeros((), device=err.device)).sum()
    denom = torch.as_tensor(valid_frames, dtype=torch.float32, device=err.device).clamp_min(1.0)
    return total * scale / (denom * pred.shape[-1])


@dataclass(frozen=True)
class HuberSettings:
    """``delta``: the Huber threshold (ADM: 1.0 on normalised motion)."""

    delta: float = 1.0

    def __post_init__(self) -> None:
        if not self.delta > 0:
            raise ConfigError(f"objective.delta: must be positive, got {self.delta}")


@register_objective("task_huber")
class TaskHuber(Objective):
    """ADM: one term per task, ``huber``."""

    settings_class = HuberSettings

    def terms(self, inputs: LossInputs) -> dict[str, dict[str, Tensor]]:
        target = diffusion_target(inputs)
        pred = inputs.pred.float()
        return {
            task: {
                "huber": masked_huber(
                    pred[..., sl],
                    target[..., sl],
                    inputs.mask,
                    self.settings.delta,
                    inputs.valid_frames,
                    inputs.scale,
                )
            }
            for task, sl in inputs.task_slices.items()
        }


@dataclass(frozen=True)
class NoSettings:
    """An objective without settings."""


@register_objective("mse")
class TaskMSE(Objective):
    """DSG+: one term per task, ``mse`` between the output and the diffusion target."""

    settings_class = NoSettings

    def terms(self, inputs: LossInputs) -> dict[str, dict[str, Tensor]]:
        target = diffusion_target(inputs)
        return {
            task: {
                "mse": masked_mse(
                    inputs.pred[..., sl],
                    target[..., sl],
                    inputs.mask,
                    inputs.valid_frames,
                    inputs.scale,
                )
            }
            for task, sl in inputs.task_slices.items()
        }
