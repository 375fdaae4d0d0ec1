"""Noise schedules: the betas ``beta_1..beta_T`` of a DDPM forward process, as float64 arrays.

Two schedules are provided:

* **cosine** (Nichol & Dhariwal 2021, "Improved Denoising Diffusion Probabilistic Models", eq. 17):
  ``abar(t) = f(t) / f(0)`` with ``f(t) = cos(((t / T + s) / (1 + s)) * pi / 2) ** 2`` and
  ``beta_t = 1 - abar(t) / abar(t - 1)``, clipped to ``max_beta`` so that the last steps stay
  invertible. DiffuseStyleGesture+ and the ADM paper use it with T = 1000.
* **linear** (Ho et al. 2020): betas evenly spaced from ``1e-4`` to ``0.02`` at T = 1000; for
  other T both ends are scaled by ``1000 / T`` so the total amount of noise stays comparable.
"""

from __future__ import annotations

import math

import numpy as np

from adm.errors import ConfigError

SCHEDULES = ("cosine", "linear")


def cosine_betas(num_timesteps: int, s: float = 0.008, max_beta: float = 0.999) -> np.ndarray:
    """Cosine schedule of Nichol & Dhariwal (2021).

    Args:
        num_timesteps: T, the number of diffusion steps (>= 1).
        s: small offset that keeps ``beta_1`` from being vanishingly small near t = 0.
        max_beta: upper clip of each beta (< 1, otherwise ``abar`` reaches exactly 0).

    Returns:
        float64 array ``[T]``; ``betas[i]`` is the beta of step ``i`` (0-based), i.e. the step
        from ``x_i`` (clean side) to ``x_{i+1}`` in the paper's 1-based notation.
    """
    _check_steps(num_timesteps)
    if not 0.0 < max_beta < 1.0:
        raise ConfigError(f"diffusion.max_beta: expected a value in (0, 1), got {max_beta!r}")

    def f(u: float) -> float:
        return math.cos((u + s) / (1.0 + s) * math.pi / 2.0) ** 2

    steps = np.arange(num_timesteps + 1, dtype=np.float64) / num_timesteps
    fs = np.array([f(u) for u in steps], dtype=np.float64)
    betas = 1.0 - fs[1:] / fs[:-1]
    return np.minimum(betas, max_beta)


def linear_betas(
    num_timesteps: int, beta_start: float | None = None, beta_end: float | None = None
) -> np.ndarray:
    """Linear schedule of Ho et al. (2020), scaled by ``1000 / T`` as in improved-diffusion.

    Args:
        num_timesteps: T.
        beta_start: first beta; default ``1e-4 * 1000 / T``.
        beta_end: last beta; default ``0.02 * 1000 / T``.

    Returns:
        float64 array ``[T]``.
    """
    _check_steps(num_timesteps)
    scale = 1000.0 / num_timesteps
    start = 1e-4 * scale if beta_start is None else float(beta_start)
    end = 0.02 * scale if beta_end is None else float(beta_end)
    if not (0.0 < start <= end < 1.0):
        raise ConfigError(
            f"diffusion linear schedule: expected 0 < beta_start <= beta_end < 1, got "
            f"beta_start={start!r}, beta_end={end!r} (T={num_timesteps})"
        )
    return np.linspace(start, end, num_timesteps, dtype=np.float64)


def make_betas(name: str, num_timesteps: int) -> np.ndarray:
    """The betas ``[T]`` (float64) of the schedule called ``name`` ("cosine" or "linear")."""
    if name == "cosine":
        return cosine_betas(num_timesteps)
    if name == "linear":
        return linear_betas(num_timesteps)
    raise ConfigError(f"diffusion.schedule: expected one of {SCHEDULES}, got {name!r}")


def _check_steps(num_timesteps: int) -> None:
    if (
        isinstance(num_timesteps, bool)
        or not isinstance(num_timesteps, int | np.integer)
        or num_timesteps < 1
    ):
        raise ConfigError(f"diffusion.steps: expected a positive integer, got {num_timesteps!r}")
