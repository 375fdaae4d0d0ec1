"""DiffSHEG's training objective (JeremyCJM/DiffSHEG @3ebf305, ``DDPMTrainer_beat.backward_G``).

The network predicts eps; ``x0_hat`` is recovered from it (``predict_x0_from_eps``). Per task
(gesture channels, face channels), with every mean over valid frames and the task's dims:

- ``eps``: ``1000 x MSE(eps_hat, eps)``;
- ``velocity``: ``1 x MSE`` of the temporal differences of ``x0_hat`` and ``x0``, over pairs of
  consecutive valid frames (DiffSHEG logs this term x100 but adds it to the loss x1);
- ``huber``: ``100 x SmoothL1_beta=0.1((s + 1) x0_hat, (s + 1) x0)`` with ``s`` the BEAT semantic
  score of the frame (0 where the corpus has none): DiffSHEG scales both sides by ``s + 1``
  inside the loss, so the weight acts on the error before the Huber bend.

DiffSHEG averages each term over all 192 channels at once. Each task's term here is its share
of that mean (the task's channels summed, divided by all Dx channels: the mean over the task's
dims times ``D_task / Dx``), so the fixed 1:1 weighting of the tasks gives exactly DiffSHEG's
loss, and the uncertainty weighting can combine the same terms (DiffSHEG + UWP).

Means divide by the global valid-frame count (``LossInputs.valid_frames``), also for the
velocity term, whose numerator has one pair fewer per sequence than frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from adm.errors import ConfigError
from adm.training.objectives.base import LossInputs, Objective, register_objective
from adm.training.objectives.target import masked_mse


@dataclass(frozen=True)
class DiffSHEGSettings:
    """DiffSHEG's weights: ``eps_weight`` 1000, ``velocity_weight`` 1, ``huber_weight`` 100 and
    the smooth-L1 threshold ``huber_beta`` 0.1 (``loss_factory.HuberLoss``)."""

    eps_weight: float = 1000.0
    velocity_weight: float = 1.0
    huber_weight: float = 100.0
    huber_beta: float = 0.1

    def __post_init__(self) -> None:
        for name in ("eps_weight", "velocity_weight", "huber_weight"):
            if not getattr(self, name) >= 0:
                raise ConfigError(f"objective.{name}: must be >= 0, got {getattr(self, name)}")
        if not self.huber_beta > 0:
            raise ConfigError(f"objective.huber_beta: must be positive, got {self.huber_beta}")


def masked_smooth_l1(
    pred: Tensor,
    target: Tensor,
    mask: Tensor,
    beta: float,
    valid_frames: Tensor | float,
    scale: float = 1.0,
) -> Tensor:
    """Mean smooth-L1 (``0.5 e^2 / beta`` below ``beta``, ``|e| - beta / 2`` above) over valid
    frames and dims; ``[B, W, D]`` inputs, ``[B, W]`` mask, 0-dim out (as ``masked_mse``)."""
    err = F.smooth_l1_loss(pred.float(), target.float(), reduction="none", beta=beta)
    total = torch.where(mask[..., None], err, torch.zeros((), device=err.device)).sum()
    denom = torch.as_tensor(valid_frames, dtype=torch.float32, device=err.device).clamp_min(1.0)
    return total * scale / (denom * pred.shape[-1])


@register_objective("diffsheg")
class DiffSHEGObjective(Objective):
    """Per task: ``eps``, ``velocity`` and ``huber`` (see the module docstring)."""

    settings_class = DiffSHEGSettings
    prediction = "eps"

    def terms(self, inputs: LossInputs) -> dict[str, dict[str, Tensor]]:
        if inputs.diffusion is None or inputs.x_t is None or inputs.eps is None:
            raise ValueError("diffsheg objective: needs a diffusion batch (x_t, t, eps)")
        s = self.settings
        pred = inputs.pred.float()
        x0 = inputs.x0.float()
        x0_hat = inputs.diffusion.predict_x0_from_eps(inputs.x_t.float(), inputs.t, pred)
        mask, frames, ranks = inputs.mask, inputs.valid_frames, inputs.scale
        pairs = mask[:, 1:] & mask[:, :-1]
        semantic = inputs.cond.get("semantic")
        weight = 1.0 if semantic is None else semantic.float()[..., None] + 1.0

        out = {}
        for task, sl in inputs.task_slices.items():
            est, ref = x0_hat[..., sl], x0[..., sl]
            share = est.shape[-1] / x0.shape[-1]  # the task's part of the all-channel mean
            eps = masked_mse(pred[..., sl], inputs.eps[..., sl], mask, frames, ranks)
            velocity = masked_mse(est.diff(dim=1), ref.diff(dim=1), pairs, frames, ranks)
            huber = masked_smooth_l1(weight * est, weight * ref, mask, s.huber_beta, frames, ranks)
            out[task] = {
                "eps": s.eps_weight * share * eps,
                "velocity": s.velocity_weight * share * velocity,
                "huber": s.huber_weight * share * huber,
            }
        return out
