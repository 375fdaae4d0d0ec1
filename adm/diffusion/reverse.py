"""Reverse-process steps: ancestral DDPM (Ho et al. 2020, algorithm 2) and DDIM (Song et al.
2021, eq. 12), shared by :class:`adm.diffusion.gaussian.GaussianDiffusion` as a mixin.

A step maps ``x_t`` to ``x_{t-1}`` given the network's output for ``x_t`` at step ``t``; the
chain that calls the network once per step and walks ``t`` from ``T - 1`` down to 0 is
:func:`adm.sampling.chain.sample_chain`. The mixin relies on the process providing
``x0_from_output``, ``q_posterior_mean_variance``, ``predict_eps_from_x0`` and ``_gather``
(schedule value at ``t`` broadcast to ``x``). Every random draw goes through :func:`randn_like`
with the caller's ``torch.Generator``, so a seeded generator reproduces a sample exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import torch

#: A denoiser ``model(x_t [B, ...], t [B] long, cond) -> out`` with the shape of ``x_t``.
Model = Callable[[torch.Tensor, torch.Tensor, Any], torch.Tensor]

#: Per-channel ``(low [D], high [D])`` the ``x_0`` estimate is clamped to, or None.
Bounds = tuple[torch.Tensor, torch.Tensor] | None


def clamp_x0(x0: torch.Tensor, bounds: Bounds) -> torch.Tensor:
    """``x0`` ``[B, ..., D]`` clamped channel-wise to ``bounds`` (unchanged when None).

    This is the "clip the denoised signal to the data's range" of DDPM/DDIM samplers
    (improved-diffusion's ``clip_denoised``, diffusers' ``clip_sample``): an eps-predicting
    network's ``x_0 = (x_t - sqrt(1 - abar) eps) / sqrt(abar)`` multiplies its error by up to
    ``1 / sqrt(abar)`` at the noisiest steps, and the clamp keeps those estimates on the data.
    """
    if bounds is None:
        return x0
    low, high = bounds
    return torch.maximum(torch.minimum(x0, high.to(x0)), low.to(x0))


class Step(NamedTuple):
    """One reverse step: ``sample`` is ``x_{t-1}`` and ``pred_x0`` the model's ``x_0``, both
    with the shape of ``x_t``."""

    sample: torch.Tensor
    pred_x0: torch.Tensor


class ReverseSteps:
    """DDPM and DDIM steps for a Gaussian diffusion process (see the module docstring).

    ``out`` is the network's output for ``x_t`` ``[B, ...]`` at steps ``t`` ``[B]`` (``x_0`` or
    ``eps``, as the process predicts).
    """

    def p_sample(
        self,
        out: torch.Tensor,
        x_t: torch.Tensor,
        t: torch.Tensor,
        generator: torch.Generator | None = None,
        x0_bounds: Bounds = None,
    ) -> Step:
        """One ancestral DDPM step ``x_t -> x_{t-1}`` (no noise added where ``t == 0``; the
        draw is made anyway, so every step takes the same amount from the generator);
        ``x0_bounds``: see :func:`clamp_x0`."""
        x0 = clamp_x0(self.x0_from_output(out, x_t, t), x0_bounds)
        mean, _, _ = self.q_posterior_mean_variance(x0, x_t, t)
        std = torch.exp(0.5 * self._gather("model_log_variance", t, x_t))
        noise = randn_like(x_t, generator)
        nonzero = (t != 0).to(x_t.dtype).reshape(-1, *([1] * (x_t.ndim - 1)))
        return Step(mean + nonzero * std * noise, x0)

    def ddim_sample(
        self,
        out: torch.Tensor,
        x_t: torch.Tensor,
        t: torch.Tensor,
        eta: float = 0.0,
        generator: torch.Generator | None = None,
        x0_bounds: Bounds = None,
    ) -> Step:
        """One DDIM step (Song et al. 2021, eq. 12); ``eta = 0`` is deterministic and draws no
        noise, ``eta = 1`` on the full chain is the DDPM posterior step. With ``x0_bounds``
        the estimate is clamped (:func:`clamp_x0`) and the step's eps re-derived from it."""
        x0 = clamp_x0(self.x0_from_output(out, x_t, t), x0_bounds)
        eps = self.predict_eps_from_x0(x_t, t, x0)
        abar = self._gather("alphas_cumprod", t, x_t)
        abar_prev = self._gather("alphas_cumprod_prev", t, x_t)
        sigma = eta * torch.sqrt((1 - abar_prev) / (1 - abar) * (1 - abar / abar_prev))
        mean = (
            x0 * torch.sqrt(abar_prev) + torch.sqrt((1 - abar_prev - sigma**2).clamp(min=0)) * eps
        )
        if eta == 0.0:
            return Step(mean, x0)
        nonzero = (t != 0).to(x_t.dtype).reshape(-1, *([1] * (x_t.ndim - 1)))
        return Step(mean + nonzero * sigma * randn_like(x_t, generator), x0)


def randn_like(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Standard normal noise with the shape/dtype/device of ``x``, drawn from ``generator``.

    The draw happens on the generator's own device and is then moved, so a CPU generator gives
    the same noise whether ``x`` lives on the CPU or a GPU.
    """
    if generator is None:
        return torch.randn(x.shape, dtype=x.dtype, device=x.device)
    noise = torch.randn(x.shape, dtype=x.dtype, device=generator.device, generator=generator)
    return noise.to(x.device)
