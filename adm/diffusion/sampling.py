"""Reverse-process samplers: ancestral DDPM (Ho et al. 2020, algorithm 2) and DDIM (Song et al.
2021, eq. 12), shared by :class:`adm.diffusion.gaussian.GaussianDiffusion` as a mixin.

The mixin relies on the process providing ``num_timesteps``, ``model_x0``,
``q_posterior_mean_variance``, ``predict_eps_from_x0`` and ``_gather`` (schedule value at ``t``
broadcast to ``x``). Every random draw goes through :func:`randn_like` with the caller's
``torch.Generator``, so a seeded generator reproduces a sample exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import torch
from tqdm import tqdm

Model = Callable[[torch.Tensor, torch.Tensor, Any], torch.Tensor]


class Step(NamedTuple):
    """One reverse step: ``sample`` is ``x_{t-1}`` and ``pred_x0`` the model's ``x_0``, both
    with the shape of ``x_t``."""

    sample: torch.Tensor
    pred_x0: torch.Tensor


class ReverseSampling:
    """DDPM and DDIM sampling for a Gaussian diffusion process (see the module docstring)."""

    def p_sample(
        self,
        model: Model,
        x_t: torch.Tensor,
        t: torch.Tensor,
        cond: Any,
        generator: torch.Generator | None = None,
        clip_denoised: float | None = None,
    ) -> Step:
        """One ancestral DDPM step ``x_t -> x_{t-1}`` (no noise added where ``t == 0``)."""
        x0 = self.model_x0(model, x_t, t, cond, clip_denoised)
        mean, _, _ = self.q_posterior_mean_variance(x0, x_t, t)
        std = torch.exp(0.5 * self._gather("model_log_variance", t, x_t))
        noise = randn_like(x_t, generator)
        nonzero = (t != 0).to(x_t.dtype).reshape(-1, *([1] * (x_t.ndim - 1)))
        return Step(mean + nonzero * std * noise, x0)

    def ddim_sample(
        self,
        model: Model,
        x_t: torch.Tensor,
        t: torch.Tensor,
        cond: Any,
        eta: float = 0.0,
        generator: torch.Generator | None = None,
        clip_denoised: float | None = None,
    ) -> Step:
        """One DDIM step (Song et al. 2021, eq. 12); ``eta = 0`` is deterministic and draws no
        noise, ``eta = 1`` on the full chain is the DDPM posterior step."""
        x0 = self.model_x0(model, x_t, t, cond, clip_denoised)
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

    def p_sample_loop(
        self,
        model: Model,
        shape: tuple[int, ...],
        cond: Any,
        *,
        noise: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        progress: bool = False,
        device: torch.device | str | None = None,
        clip_denoised: float | None = None,
    ) -> torch.Tensor:
        """Full ancestral sampling from ``x_{T-1} = noise`` to ``x_0``; returns ``shape``."""
        kwargs = {"clip_denoised": clip_denoised}
        return self._loop(
            self.p_sample, model, shape, cond, noise, generator, progress, device, kwargs
        )

    def ddim_sample_loop(
        self,
        model: Model,
        shape: tuple[int, ...],
        cond: Any,
        *,
        eta: float = 0.0,
        noise: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        progress: bool = False,
        device: torch.device | str | None = None,
        clip_denoised: float | None = None,
    ) -> torch.Tensor:
        """DDIM sampling over this process's steps (respace it for fewer); returns ``shape``."""
        kwargs = {"eta": eta, "clip_denoised": clip_denoised}
        return self._loop(
            self.ddim_sample, model, shape, cond, noise, generator, progress, device, kwargs
        )

    def _loop(
        self,
        step: Callable[..., Step],
        model: Model,
        shape: tuple[int, ...],
        cond: Any,
        noise: torch.Tensor | None,
        generator: torch.Generator | None,
        progress: bool,
        device: torch.device | str | None,
        kwargs: dict[str, Any],
    ) -> torch.Tensor:
        """Run ``step`` from the noisiest step ``T - 1`` down to 0, without gradients."""
        device = _infer_device(device, noise, cond)
        if noise is not None:
            if tuple(noise.shape) != tuple(shape):
                raise ValueError(f"noise shape {tuple(noise.shape)} != requested {tuple(shape)}")
            x = noise.to(device)
        else:
            x = randn_like(torch.empty(shape, device=device), generator)
        steps = range(self.num_timesteps - 1, -1, -1)
        with torch.no_grad():
            for i in tqdm(steps, desc="sampling", disable=not progress, leave=False):
                t = torch.full((shape[0],), i, dtype=torch.long, device=device)
                x = step(model, x, t, cond, generator=generator, **kwargs).sample
        return x


def randn_like(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Standard normal noise with the shape/dtype/device of ``x``, drawn from ``generator``.

    The draw happens on the generator's own device and is then moved, so a CPU generator gives
    the same noise whether ``x`` lives on the CPU or a GPU.
    """
    if generator is None:
        return torch.randn(x.shape, dtype=x.dtype, device=x.device)
    noise = torch.randn(x.shape, dtype=x.dtype, device=generator.device, generator=generator)
    return noise.to(x.device)


def _infer_device(
    device: torch.device | str | None, noise: torch.Tensor | None, cond: Any
) -> torch.device:
    """Explicit ``device``, else that of ``noise``, else of the first tensor in ``cond``, else
    CPU."""
    if device is not None:
        return torch.device(device)
    if noise is not None:
        return noise.device
    values = cond.values() if isinstance(cond, dict) else [cond]
    for value in values:
        if isinstance(value, torch.Tensor):
            return value.device
    return torch.device("cpu")
