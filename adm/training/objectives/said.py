"""SAiD's objective: an error on the predicted noise plus the same error on its frame-to-frame
differences (SAiD ``script/train.py``, ``random_noise_loss``).

With eps prediction SAiD's target is the noise itself, and its "velocity" term compares the
frame differences of the prediction with those of the TARGET NOISE (not of x0):

    eps:      mean |eps_hat_f - eps_f|
    velocity: mean |(eps_hat_{f+1} - eps_hat_f) - (eps_{f+1} - eps_f)|

summed with weight 1 (``--weight_vel 1.0``). SAiD's code uses the L1 error (``nn.L1Loss``) for
both; ``norm: l2`` gives squared errors instead. Its optional vertex term needs the BlendVOCA
meshes and is off by default, so it is absent here.

Masking: the eps term averages over valid frames and dims; the velocity term sums over pairs of
consecutive frames that are both valid and divides by the same valid-frame count (the global
one, so data-parallel ranks average to the single-process loss), i.e. SAiD's mean over
``W - 1`` pairs scaled by ``(W - 1) / W`` on unpadded windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from adm.errors import ConfigError
from adm.training.objectives.base import LossInputs, Objective, register_objective


@dataclass(frozen=True)
class SAiDSettings:
    """``norm``: "l1" (SAiD's code) or "l2"; ``velocity_weight``: weight of the velocity term
    (SAiD: 1.0)."""

    norm: Literal["l1", "l2"] = "l1"
    velocity_weight: float = 1.0

    def __post_init__(self) -> None:
        if not self.velocity_weight >= 0:
            raise ConfigError(
                f"objective.velocity_weight: must be >= 0, got {self.velocity_weight}"
            )


def _masked_mean(err: Tensor, mask: Tensor, valid_frames: Tensor | float, scale: float) -> Tensor:
    """Sum of ``err`` [B, F, D] over rows where ``mask`` [B, F] is True, divided by the global
    valid-frame count times D and multiplied by ``scale``; 0-dim float32."""
    total = torch.where(mask[..., None], err, torch.zeros((), device=err.device)).sum()
    denom = torch.as_tensor(valid_frames, dtype=torch.float32, device=err.device).clamp_min(1.0)
    return total * scale / (denom * err.shape[-1])


@register_objective("said")
class SAiDObjective(Objective):
    """One task, ``face``, with terms ``eps`` and ``velocity``."""

    settings_class = SAiDSettings
    prediction = "eps"

    def _error(self, diff: Tensor) -> Tensor:
        return diff.abs() if self.settings.norm == "l1" else diff.square()

    def terms(self, inputs: LossInputs) -> dict[str, dict[str, Tensor]]:
        if inputs.eps is None:
            raise ValueError("objective 'said': needs the noise eps of a diffusion batch")
        out = {}
        for task, sl in inputs.task_slices.items():
            pred = inputs.pred[..., sl].float()
            eps = inputs.eps[..., sl].float()
            diff = pred - eps
            velocity = diff[:, 1:] - diff[:, :-1]  # = d(eps_hat) - d(eps)
            pairs = inputs.mask[:, 1:] & inputs.mask[:, :-1]
            args = (inputs.valid_frames, inputs.scale)
            out[task] = {
                "eps": _masked_mean(self._error(diff), inputs.mask, *args),
                "velocity": self.settings.velocity_weight
                * _masked_mean(self._error(velocity), pairs, *args),
            }
        return out
