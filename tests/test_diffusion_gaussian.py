"""The forward process, the posterior and the eps/x0 algebra against closed forms (float64)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tolerance import ops_tol

from adm.diffusion.gaussian import GaussianDiffusion
from adm.diffusion.schedules import cosine_betas, linear_betas
from adm.errors import ConfigError


def _diffusion(steps: int = 10, **kwargs) -> GaussianDiffusion:
    return GaussianDiffusion(cosine_betas(steps), **kwargs)


def test_q_sample_moments_match_the_marginal() -> None:
    diffusion = _diffusion(10)
    t = torch.tensor([0, 3, 6, 9])
    x0 = torch.full((4, 40_000), 1.5, dtype=torch.float64)
    x_t = diffusion.q_sample(x0, t, generator=torch.Generator().manual_seed(0))
    abar = diffusion.alphas_cumprod[t.numpy()]
    np.testing.assert_allclose(x_t.mean(1).numpy(), np.sqrt(abar) * 1.5, atol=0.02)
    np.testing.assert_allclose(x_t.var(1).numpy(), 1.0 - abar, rtol=0.03, atol=1e-4)
    mean, var = diffusion.q_mean_variance(x0[:, :3], t)
    np.testing.assert_allclose(mean[:, 0].numpy(), np.sqrt(abar) * 1.5, rtol=1e-12)
    np.testing.assert_allclose(var[:, 0].numpy(), 1.0 - abar, rtol=1e-12)


def test_q_sample_broadcasts_per_batch_row_over_a_motion_shaped_tensor() -> None:
    diffusion = _diffusion(10)
    x0 = torch.randn(3, 5, 4, dtype=torch.float64)
    noise = torch.randn(3, 5, 4, dtype=torch.float64)
    t = torch.tensor([9, 0, 4])
    x_t = diffusion.q_sample(x0, t, noise)
    for b in range(3):
        abar = diffusion.alphas_cumprod[t[b]]
        expected = np.sqrt(abar) * x0[b] + np.sqrt(1 - abar) * noise[b]
        torch.testing.assert_close(x_t[b], expected, rtol=1e-12, atol=1e-12)


def test_posterior_matches_closed_form_and_gaussian_product() -> None:
    betas = linear_betas(50)
    diffusion = GaussianDiffusion(betas)
    abar = np.cumprod(1.0 - betas)
    x0 = torch.tensor([[0.7, -1.2, 2.0]], dtype=torch.float64).repeat(3, 1)
    x_t = torch.tensor([[0.1, 0.4, -0.9]], dtype=torch.float64).repeat(3, 1)
    t = torch.tensor([1, 20, 49])
    mean, var, log_var = diffusion.q_posterior_mean_variance(x0, x_t, t)
    for row, step in enumerate(t.tolist()):
        a_t, ab_t, ab_prev = 1 - betas[step], abar[step], abar[step - 1]
        # Ho et al. (2020) eq. 7.
        mu = (
            np.sqrt(ab_prev) * betas[step] * x0[row] + np.sqrt(a_t) * (1 - ab_prev) * x_t[row]
        ) / (1 - ab_t)
        beta_tilde = betas[step] * (1 - ab_prev) / (1 - ab_t)
        torch.testing.assert_close(mean[row], mu, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(var[row].numpy(), beta_tilde, rtol=1e-12)
        np.testing.assert_allclose(log_var[row].numpy(), np.log(beta_tilde), rtol=1e-12)
        # Bayes: q(x_{t-1} | x_t, x0) ∝ q(x_t | x_{t-1}) q(x_{t-1} | x0), a product of Gaussians
        # N(x_t; sqrt(a_t) x_{t-1}, beta_t) and N(x_{t-1}; sqrt(ab_prev) x0, 1 - ab_prev).
        precision = a_t / betas[step] + 1 / (1 - ab_prev)
        mu_bayes = (
            np.sqrt(a_t) * x_t[row] / betas[step] + np.sqrt(ab_prev) * x0[row] / (1 - ab_prev)
        ) / precision
        torch.testing.assert_close(mean[row], mu_bayes, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(var[row].numpy(), 1 / precision, rtol=1e-10)


def test_posterior_at_the_first_step_returns_x0_with_finite_log_variance() -> None:
    diffusion = _diffusion(10)
    x0 = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    x_t = torch.tensor([[5.0, 5.0]], dtype=torch.float64)
    mean, var, log_var = diffusion.q_posterior_mean_variance(x0, x_t, torch.tensor([0]))
    torch.testing.assert_close(mean, x0, rtol=1e-12, atol=1e-12)
    assert torch.all(var == 0.0)
    assert torch.all(torch.isfinite(log_var))
    np.testing.assert_allclose(log_var[0, 0].item(), np.log(diffusion.posterior_variance[1]))


def test_fixed_large_uses_betas_and_fixed_small_beta_tilde() -> None:
    small = _diffusion(10, variance="fixed_small")
    large = _diffusion(10, variance="fixed_large")
    np.testing.assert_allclose(large.model_variance[1:], large.betas[1:], rtol=1e-12)
    np.testing.assert_allclose(small.model_variance[1:], small.posterior_variance[1:], rtol=1e-12)
    assert np.all(small.model_variance[1:] < large.model_variance[1:])


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_eps_and_x0_conversions_invert_each_other(dtype: torch.dtype) -> None:
    diffusion = _diffusion(20)
    gen = torch.Generator().manual_seed(1)
    x0 = torch.randn(5, 3, 2, generator=gen, dtype=dtype)
    eps = torch.randn(5, 3, 2, generator=gen, dtype=dtype)
    t = torch.tensor([0, 4, 9, 15, 19])
    x_t = diffusion.q_sample(x0, t, eps)
    # Per element, in the dtype: x_t = a x0 + b eps and its inversions take about 12 roundings
    # (4 coefficients cast to the dtype, 4 products, 2 sums, 1 division, 1 more product), each
    # relative to the terms in play; 1/a and b/a = sqrt(1/abar - 1) scale x_t's error.
    abar = torch.as_tensor(diffusion.alphas_cumprod[t.numpy()], dtype=torch.float64)
    shape = (-1,) + (1,) * (x0.dim() - 1)
    a, b = abar.sqrt().view(shape), (1 - abar).sqrt().view(shape)
    terms = (a * x0.abs() + b * eps.abs()).double()
    x0_tol = ops_tol(12, 1.0, dtype) * terms / a
    got = diffusion.predict_x0_from_eps(x_t, t, eps)
    assert ((got.double() - x0.double()).abs() <= x0_tol).all()
    # eps from x0 divides by b/a: large near t = 0, where eps is barely in x_t.
    eps_tol = ops_tol(12, 1.0, dtype) * (terms / a + x0.double().abs()) / (b / a)
    got = diffusion.predict_eps_from_x0(x_t, t, x0)
    assert ((got.double() - eps.double()).abs() <= eps_tol).all()
    assert diffusion.predict_x0_from_eps(x_t, t, eps).dtype == dtype


def test_training_targets_follow_the_prediction_type() -> None:
    x0 = torch.randn(4, 6, 3)
    noise = torch.randn(4, 6, 3)
    t = torch.tensor([0, 1, 2, 9])
    for prediction, expected in (("x0", x0), ("eps", noise)):
        diffusion = _diffusion(10, prediction=prediction)
        x_t, target = diffusion.training_targets(x0, t, noise)
        torch.testing.assert_close(x_t, diffusion.q_sample(x0, t, noise))
        assert target is expected


def test_sample_timesteps_are_uniform_and_reproducible() -> None:
    diffusion = _diffusion(7)
    t = diffusion.sample_timesteps(7000, torch.Generator().manual_seed(3))
    assert t.dtype == torch.long and t.shape == (7000,)
    counts = torch.bincount(t, minlength=7)
    assert counts.numel() == 7 and counts.min() > 850 and counts.max() < 1150
    again = diffusion.sample_timesteps(7000, torch.Generator().manual_seed(3))
    assert torch.equal(t, again)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="diffusion.prediction"):
        _diffusion(10, prediction="v")
    with pytest.raises(ConfigError, match="diffusion.variance"):
        _diffusion(10, variance="learned")
    with pytest.raises(ConfigError, match="betas"):
        GaussianDiffusion(np.array([0.1, 0.0, 0.2]))


def test_as_tensor_exposes_float64_schedule() -> None:
    diffusion = _diffusion(10)
    abar = diffusion.as_tensor("alphas_cumprod")
    assert abar.dtype == torch.float64 and abar.shape == (10,)
    np.testing.assert_array_equal(abar.numpy(), diffusion.alphas_cumprod)
