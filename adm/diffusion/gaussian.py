"""The Gaussian diffusion process (DDPM, Ho et al. 2020): schedule quantities, forward process,
posterior, eps/x0 conversions and training helpers; the reverse steps are in :mod:`.reverse`.

The process knows tensors and a denoiser callable ``model(x_t, t, cond) -> out`` only, nothing
about motion or datasets (the separation of OpenAI's improved-diffusion). ``x`` has any shape
``[B, ...]`` (the motion model uses ``[B, T_frames, D]``); ``t`` is ``[B]`` long, 0-based, so
``t = 0`` is the least noisy step; ``cond`` is passed to the model untouched. ``out`` is the
model's estimate of ``x_0`` (``prediction="x0"``, as MDM, DiffuseStyleGesture and the ADM paper)
or of the noise ``eps`` (``prediction="eps"``), with the shape of ``x``.

All schedule quantities are computed once in float64 (numpy) and cast to the dtype and device of
``x`` when gathered, so sampling in float32 on a GPU uses correctly rounded coefficients.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np
import torch

from adm.diffusion.reverse import ReverseSteps, randn_like
from adm.errors import ConfigError

Prediction = Literal["x0", "eps"]
Variance = Literal["fixed_small", "fixed_large"]


class TrainingTargets(NamedTuple):
    """``x_t`` to feed the model and the ``target`` it should output (``x_0`` or ``eps``)."""

    x_t: torch.Tensor
    target: torch.Tensor


class GaussianDiffusion(ReverseSteps):
    """A DDPM forward process ``q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I)`` and the
    reverse samplers built on a denoiser.

    Args:
        betas: ``[T]`` noise schedule (see :mod:`adm.diffusion.schedules`), values in (0, 1].
        prediction: what the model outputs, ``"x0"`` or ``"eps"``.
        variance: reverse-step variance. ``"fixed_small"`` is the posterior variance
            ``beta_tilde_t = beta_t (1 - abar_{t-1}) / (1 - abar_t)``; ``"fixed_large"`` is
            ``beta_t`` (with ``beta_tilde_1`` at the first step so its log stays finite), the two
            bounds of Ho et al. (2020) section 3.2.

    Attributes:
        num_timesteps: T. Every schedule array (``betas``, ``alphas_cumprod``, ...) is a float64
            numpy array ``[T]``; :meth:`as_tensor` returns one as a torch tensor.
        timestep_map: ``[T]`` int64, the timestep index the MODEL receives for step ``i``
            (identity here; :class:`adm.diffusion.respace.SpacedDiffusion` maps to the original
            chain so a network trained on 1000 steps can be sampled on fewer).
    """

    def __init__(
        self,
        betas: np.ndarray,
        prediction: Prediction = "x0",
        variance: Variance = "fixed_small",
    ) -> None:
        if prediction not in ("x0", "eps"):
            raise ConfigError(f"diffusion.prediction: expected 'x0' or 'eps', got {prediction!r}")
        if variance not in ("fixed_small", "fixed_large"):
            raise ConfigError(
                f"diffusion.variance: expected 'fixed_small' or 'fixed_large', got {variance!r}"
            )
        betas = np.asarray(betas, dtype=np.float64)
        if betas.ndim != 1 or betas.size < 1:
            raise ConfigError(f"diffusion betas: expected a non-empty 1-D array, got {betas.shape}")
        if not np.all((betas > 0.0) & (betas <= 1.0)):
            raise ConfigError("diffusion betas: every beta must lie in (0, 1]")
        self.prediction: Prediction = prediction
        self.variance: Variance = variance
        self.num_timesteps = int(betas.size)
        self.timestep_map = np.arange(self.num_timesteps, dtype=np.int64)

        self.betas = betas
        self.alphas = 1.0 - betas
        self.alphas_cumprod = np.cumprod(self.alphas)
        self.alphas_cumprod_prev = np.append(1.0, self.alphas_cumprod[:-1])
        self.sqrt_alphas_cumprod = np.sqrt(self.alphas_cumprod)
        self.sqrt_one_minus_alphas_cumprod = np.sqrt(1.0 - self.alphas_cumprod)
        self.sqrt_recip_alphas_cumprod = np.sqrt(1.0 / self.alphas_cumprod)
        self.sqrt_recipm1_alphas_cumprod = np.sqrt(1.0 / self.alphas_cumprod - 1.0)

        # Posterior q(x_{t-1} | x_t, x_0) (Ho et al. 2020, eq. 6-7).
        self.posterior_variance = (
            betas * (1.0 - self.alphas_cumprod_prev) / (1.0 - self.alphas_cumprod)
        )
        # beta_tilde at t = 0 is exactly 0; clip the log to the next value, as improved-diffusion
        # does, so it stays finite (the t = 0 step adds no noise anyway).
        first = self.posterior_variance[1] if self.num_timesteps > 1 else betas[0]
        self.posterior_log_variance_clipped = np.log(np.append(first, self.posterior_variance[1:]))
        self.posterior_mean_coef1 = (
            betas * np.sqrt(self.alphas_cumprod_prev) / (1.0 - self.alphas_cumprod)
        )
        self.posterior_mean_coef2 = (
            (1.0 - self.alphas_cumprod_prev) * np.sqrt(self.alphas) / (1.0 - self.alphas_cumprod)
        )
        if variance == "fixed_small":
            self.model_variance = np.append(first, self.posterior_variance[1:])
        else:
            self.model_variance = np.append(first, betas[1:])
        self.model_log_variance = np.log(self.model_variance)
        self._cache: dict[tuple[str, torch.device, torch.dtype], torch.Tensor] = {}

    # ----------------------------------------------------------------- schedule access
    def as_tensor(
        self, name: str, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> torch.Tensor:
        """Schedule array ``name`` (e.g. ``"alphas_cumprod"``) as a ``[T]`` tensor (cached)."""
        device = torch.device(device if device is not None else "cpu")
        dtype = dtype if dtype is not None else torch.float64
        key = (name, device, dtype)
        if key not in self._cache:
            array = getattr(self, name)
            self._cache[key] = torch.as_tensor(array).to(device=device, dtype=dtype)
        return self._cache[key]

    def _gather(self, name: str, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``name[t]`` as ``[B, 1, ..., 1]`` in the dtype/device of ``x`` ``[B, ...]``."""
        values = self.as_tensor(name, x.device, x.dtype)[t.to(x.device)]
        return values.reshape(t.shape[0], *([1] * (x.ndim - 1)))

    # ----------------------------------------------------------------- forward process
    def q_mean_variance(
        self, x0: torch.Tensor, t: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean ``sqrt(abar_t) x0`` and variance ``1 - abar_t`` of ``q(x_t | x_0)``."""
        mean = self._gather("sqrt_alphas_cumprod", t, x0) * x0
        return mean, self._gather("sqrt_one_minus_alphas_cumprod", t, x0).square().expand_as(x0)

    def q_sample(
        self,
        x0: torch.Tensor,
        t: torch.Tensor,
        noise: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Draw ``x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps``; ``x0`` ``[B, ...]``, ``t`` [B]."""
        if noise is None:
            noise = randn_like(x0, generator)
        return (
            self._gather("sqrt_alphas_cumprod", t, x0) * x0
            + self._gather("sqrt_one_minus_alphas_cumprod", t, x0) * noise
        )

    def q_posterior_mean_variance(
        self, x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Mean, variance and clipped log-variance of ``q(x_{t-1} | x_t, x_0)``, shape of x."""
        mean = (
            self._gather("posterior_mean_coef1", t, x_t) * x0
            + self._gather("posterior_mean_coef2", t, x_t) * x_t
        )
        var = self._gather("posterior_variance", t, x_t).expand_as(x_t)
        log_var = self._gather("posterior_log_variance_clipped", t, x_t).expand_as(x_t)
        return mean, var, log_var

    def predict_x0_from_eps(
        self, x_t: torch.Tensor, t: torch.Tensor, eps: torch.Tensor
    ) -> torch.Tensor:
        """Invert q_sample: ``x0 = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t)``."""
        return (
            self._gather("sqrt_recip_alphas_cumprod", t, x_t) * x_t
            - self._gather("sqrt_recipm1_alphas_cumprod", t, x_t) * eps
        )

    def predict_eps_from_x0(
        self, x_t: torch.Tensor, t: torch.Tensor, x0: torch.Tensor
    ) -> torch.Tensor:
        """Invert q_sample: ``eps = (x_t - sqrt(abar_t) x0) / sqrt(1 - abar_t)``."""
        return (self._gather("sqrt_recip_alphas_cumprod", t, x_t) * x_t - x0) / self._gather(
            "sqrt_recipm1_alphas_cumprod", t, x_t
        )

    # ----------------------------------------------------------------- training helpers
    def sample_timesteps(
        self,
        batch: int,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> torch.Tensor:
        """Uniform timesteps ``[batch]`` long in ``[0, T)`` (Ho et al. 2020, algorithm 1)."""
        gen_device = generator.device if generator is not None else device
        t = torch.randint(0, self.num_timesteps, (batch,), generator=generator, device=gen_device)
        return t.to(device) if device is not None else t

    def training_targets(
        self,
        x0: torch.Tensor,
        t: torch.Tensor,
        noise: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> TrainingTargets:
        """The noisy input ``x_t`` and what the model should predict from it (x0 or eps)."""
        if noise is None:
            noise = randn_like(x0, generator)
        x_t = self.q_sample(x0, t, noise)
        return TrainingTargets(x_t, x0 if self.prediction == "x0" else noise)

    # ----------------------------------------------------------------- model output
    def x0_from_output(self, out: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The model's estimate of ``x_0`` from its output ``out`` for ``x_t`` at steps ``t``,
        converting from eps when it predicts noise; all with the shape of ``x_t``."""
        if out.shape != x_t.shape:
            raise ValueError(f"model output shape {tuple(out.shape)} != x_t {tuple(x_t.shape)}")
        return out if self.prediction == "x0" else self.predict_x0_from_eps(x_t, t, out)
