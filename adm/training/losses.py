"""Per-task masked Huber loss on the predicted ``x0`` (method.md "Loss").

``L_task = mean over valid frames f and the task's dims d of Huber_delta(x0_hat - x0)``, with
``Huber_delta(e) = 0.5 e^2`` for ``|e| <= delta`` and ``delta (|e| - 0.5 delta)`` beyond. Padded
frames (mask False) count neither in the sum nor in the mean. The per-task losses are then
combined by the weighting module (fixed or uncertainty, :mod:`adm.weighting`).

Under data parallelism each of K ranks sees part of the batch and the gradients are averaged
over ranks. To make that average equal the single-process mean even when ranks hold different
numbers of valid frames, each rank divides its sum by the GLOBAL valid-frame count and scales by
K (``valid_frames``, ``scale``).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor


def masked_huber(
    pred: Tensor,
    target: Tensor,
    mask: Tensor,
    delta: float = 1.0,
    valid_frames: Tensor | float | None = None,
    scale: float = 1.0,
) -> Tensor:
    """Masked mean Huber loss (0-dim float32).

    Args:
        pred, target: ``[B, W, D]``.
        mask: ``[B, W]`` bool, True on frames that count.
        delta: Huber threshold.
        valid_frames: frames the mean is over (default: ``mask.sum()``).
        scale: multiplier of the result (the number of ranks under data parallelism).
    """
    err = F.huber_loss(pred.float(), target.float(), reduction="none", delta=delta)
    total = torch.where(mask[..., None], err, torch.zeros((), device=err.device)).sum()
    frames = mask.sum() if valid_frames is None else valid_frames
    denom = torch.as_tensor(frames, dtype=torch.float32, device=err.device).clamp_min(1.0)
    return total * scale / (denom * pred.shape[-1])


def task_losses(
    pred: Tensor,
    target: Tensor,
    mask: Tensor,
    task_slices: Mapping[str, slice],
    delta: float = 1.0,
    valid_frames: Tensor | float | None = None,
    scale: float = 1.0,
) -> dict[str, Tensor]:
    """``{task: masked Huber over the task's dims}`` for ``pred``/``target`` ``[B, W, Dx]``."""
    return {
        task: masked_huber(pred[..., sl], target[..., sl], mask, delta, valid_frames, scale)
        for task, sl in task_slices.items()
    }
