"""Exponential moving average (EMA) of the denoiser's weights, the copy diffusion models sample
with (DDPM, Ho et al. 2020; improved-diffusion; MDM).

``ema <- d_t * ema + (1 - d_t) * theta`` after every optimiser step ``t = 0, 1, ...`` with the
warm-up ``d_t = min(d, (1 + t) / (10 + t))`` (TensorFlow's ExponentialMovingAverage with
``num_updates``): a plain 0.9999 would keep a short run's average at its random initialisation.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """Holds ``model``, a frozen eval-mode copy of the tracked module, and updates it.

    Args:
        module: the module to track (its current weights start the average).
        decay: the asymptotic decay ``d``.
    """

    def __init__(self, module: nn.Module, decay: float):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.model = copy.deepcopy(module).eval().requires_grad_(False)
        # Walking a network's module tree for its tensors takes milliseconds per step on a
        # model of a few thousand modules; the lists are taken once (loading weights copies
        # into the same tensors, so they stay valid).
        self._ema_tensors = (list(self.model.parameters()), list(self.model.buffers()))
        self._tracked: tuple[nn.Module, list[torch.Tensor], list[torch.Tensor]] | None = None

    def decay_at(self, step: int) -> float:
        """``d_t`` for the update after optimiser step ``step`` (0-based)."""
        return min(self.decay, (1.0 + step) / (10.0 + step))

    @torch.no_grad()
    def update(self, module: nn.Module, step: int) -> None:
        """Move the average towards ``module``'s current weights; buffers are copied."""
        weight = 1.0 - self.decay_at(step)
        if self._tracked is None or self._tracked[0] is not module:
            self._tracked = (
                module,
                [p.detach() for p in module.parameters()],
                list(module.buffers()),
            )
        _, params, buffers = self._tracked
        ema_params, ema_buffers = self._ema_tensors
        if len(ema_params) != len(params):
            raise ValueError("EMA: the module's parameters do not match the tracked copy")
        # One fused kernel per dtype/device group instead of one per tensor.
        torch._foreach_lerp_(ema_params, params, weight)
        for ema_buf, buf in zip(ema_buffers, buffers, strict=True):
            ema_buf.copy_(buf)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.model.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.model.load_state_dict(state)
