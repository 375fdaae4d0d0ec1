"""Noise schedules: shapes, ranges, monotonicity and values known by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adm.diffusion.schedules import cosine_betas, linear_betas, make_betas
from adm.errors import ConfigError


@pytest.mark.parametrize(
    ("name", "steps"),
    [("cosine", 1), ("cosine", 10), ("cosine", 1000), ("linear", 50), ("linear", 1000)],
)
def test_shape_range_and_monotone_alphas_cumprod(name: str, steps: int) -> None:
    betas = make_betas(name, steps)
    assert betas.shape == (steps,)
    assert betas.dtype == np.float64
    assert np.all(betas > 0.0) and np.all(betas <= 0.999)
    abar = np.cumprod(1.0 - betas)
    assert np.all(np.diff(abar) < 0.0)
    assert 0.0 < abar[-1] < 1.0


def test_cosine_by_hand_two_steps_without_offset() -> None:
    # s = 0: f(0) = 1, f(1/2) = cos(pi/4)^2 = 1/2, f(1) = 0, so beta = [1/2, 1 -> clipped].
    betas = cosine_betas(2, s=0.0, max_beta=0.999)
    np.testing.assert_allclose(betas, [0.5, 0.999], rtol=1e-12)


def test_cosine_alphas_cumprod_at_half_of_the_chain() -> None:
    steps, s = 1000, 0.008
    abar = np.cumprod(1.0 - cosine_betas(steps, s=s))

    def f(u: float) -> float:
        return math.cos((u + s) / (1 + s) * math.pi / 2) ** 2

    # 0-based index 499 is the paper's t = 500 = T / 2.
    assert abar[499] == pytest.approx(f(0.5) / f(0.0), rel=1e-10)
    # Near the middle abar is roughly one half, the defining property of the cosine schedule.
    assert 0.45 < abar[499] < 0.52


def test_cosine_max_beta_clips_the_last_step() -> None:
    betas = cosine_betas(1000, max_beta=0.5)
    assert betas.max() == 0.5
    assert cosine_betas(1000)[-1] == 0.999


def test_linear_defaults_scale_with_the_number_of_steps() -> None:
    np.testing.assert_allclose(linear_betas(1000)[[0, -1]], [1e-4, 0.02], rtol=1e-12)
    np.testing.assert_allclose(linear_betas(100)[[0, -1]], [1e-3, 0.2], rtol=1e-12)
    betas = linear_betas(5, beta_start=0.1, beta_end=0.5)
    np.testing.assert_allclose(betas, [0.1, 0.2, 0.3, 0.4, 0.5], rtol=1e-12)


def test_bad_schedule_settings_name_the_key() -> None:
    with pytest.raises(ConfigError, match="diffusion.schedule"):
        make_betas("quadratic", 10)
    with pytest.raises(ConfigError, match="diffusion.steps"):
        make_betas("cosine", 0)
    with pytest.raises(ConfigError, match="beta_start"):
        linear_betas(10, beta_start=0.5, beta_end=0.1)
    # The 1000 / T scaling pushes the last beta to 2.0 at T = 10: refused, not silently clipped.
    with pytest.raises(ConfigError, match="T=10"):
        linear_betas(10)
