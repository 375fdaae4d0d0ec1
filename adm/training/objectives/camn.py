"""CaMN's reconstruction objective (PantoMatrix ``scripts/BEAT_2022`` @6ca70b9).

``camn_trainer.py`` multiplies both the target and the predicted pose (normalised) by
``semantic + 1`` per frame, takes its ``huber_loss`` between them and multiplies by
``rec_weight`` = 500 (``configs/camn_beat_4english_15_141.yaml``). That Huber
(``optimizers/loss_factory.py``) is ``beta * smooth_l1(a / beta, b / beta)`` with beta 0.1,
which equals ``smooth_l1`` with threshold beta: ``0.5 e^2 / beta`` below it, ``|e| - beta / 2``
above; the mean runs over every frame and dim. CaMN's adversarial term is off in its BEAT
config (``no_adv_epoch`` 200 > 100 epochs) and is not part of this objective.

Regression: the network's output is the motion, the target is ``x0``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from adm.errors import ConfigError
from adm.training.objectives.base import LossInputs, Objective, register_objective


@dataclass(frozen=True)
class CaMNSettings:
    """``beta``: the Huber (smooth L1) threshold on normalised poses (0.1); ``weight``: the
    reconstruction weight (500)."""

    beta: float = 0.1
    weight: float = 500.0

    def __post_init__(self) -> None:
        if not self.beta > 0:
            raise ConfigError(f"objective.beta: must be positive, got {self.beta}")
        if not self.weight > 0:
            raise ConfigError(f"objective.weight: must be positive, got {self.weight}")


def semantic_huber(
    pred: Tensor,
    target: Tensor,
    semantic: Tensor,
    mask: Tensor,
    beta: float,
    valid_frames: Tensor | float,
    scale: float = 1.0,
) -> Tensor:
    """Mean over valid frames and dims of ``smooth_l1_beta((s + 1) pred, (s + 1) target)``.

    ``pred``, ``target`` ``[B, W, D]``; ``semantic`` ``[B, W]``; ``mask`` ``[B, W]`` bool.
    Divides by the GLOBAL valid-frame count times ``D`` and multiplies by ``scale`` (ranks)."""
    w = (semantic.float() + 1.0)[..., None]
    err = F.smooth_l1_loss(w * pred.float(), w * target.float(), reduction="none", beta=beta)
    total = torch.where(mask[..., None], err, torch.zeros((), device=err.device)).sum()
    denom = torch.as_tensor(valid_frames, dtype=torch.float32, device=err.device).clamp_min(1.0)
    return total * scale / (denom * pred.shape[-1])


@register_objective("camn")
class CaMNObjective(Objective):
    """One term per task, ``huber``: ``weight`` x the semantic-weighted Huber of the predicted
    motion against ``x0`` (CaMN has one task, the gesture)."""

    settings_class = CaMNSettings
    prediction = None

    def terms(self, inputs: LossInputs) -> dict[str, dict[str, Tensor]]:
        semantic = inputs.cond.get("semantic")
        if semantic is None:
            semantic = torch.zeros(inputs.mask.shape, device=inputs.x0.device)
        s = self.settings
        return {
            task: {
                "huber": s.weight
                * semantic_huber(
                    inputs.pred[..., sl],
                    inputs.x0[..., sl],
                    semantic,
                    inputs.mask,
                    s.beta,
                    inputs.valid_frames,
                    inputs.scale,
                )
            }
            for task, sl in inputs.task_slices.items()
        }
