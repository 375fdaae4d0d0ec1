"""DPM-Solver++(2M): on Gaussian data, where the exact x0-predictor is linear and known in
closed form, the ODE form converges to the exact probability-flow solution at second order and
the SDE form draws the data distribution as the full DDPM chain does; in the sampling chain it
makes one network call per step, draws noise only from each row's own generator, and a row's
sample does not depend on its batch companions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from adm.diffusion import make_diffusion
from adm.diffusion.solvers import LOWER_ORDER_BELOW, MultistepSolver, make_solver, solver_indices
from adm.errors import ConfigError
from adm.sampling.chain import sample_chain
from adm.sampling.generate import SampleConfig, sampling_diffusion

T = 1000
MU = torch.tensor([0.5, -1.0, 0.0, 2.0], dtype=torch.float64)
STD = torch.tensor([0.2, 1.0, 0.05, 0.6], dtype=torch.float64)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def diffusion():
    return make_diffusion("cosine", T, "x0")


def _abar(diffusion, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    values = torch.as_tensor(diffusion.alphas_cumprod)[t.cpu()].to(like)
    return values.reshape(-1, *([1] * (like.ndim - 1)))


def gaussian_denoiser(diffusion):
    """The exact ``E[x0 | x_t]`` for ``x0 ~ N(MU, STD^2)`` per channel (last dim):
    ``MU + alpha s^2 / (alpha^2 s^2 + sigma^2) (x_t - alpha MU)``."""

    def model(x_t, t, _cond):
        abar = _abar(diffusion, t, x_t)
        alpha, var = abar.sqrt(), 1.0 - abar
        mu, s2 = MU.to(x_t), STD.to(x_t).square()
        return mu + alpha * s2 / (abar * s2 + var) * (x_t - alpha * mu)

    return model


def exact_flow(diffusion, noise: torch.Tensor) -> torch.Tensor:
    """The probability-flow ODE solved exactly from ``noise`` at index T-1 to index 0, then
    denoised: along the flow of a Gaussian marginal the standardised value is constant."""
    abar = torch.as_tensor(diffusion.alphas_cumprod, dtype=torch.float64)
    mu, s2 = MU, STD.square()

    def spread(a):
        return (a * s2 + 1.0 - a).sqrt()

    z = (noise - abar[-1].sqrt() * mu) / spread(abar[-1])
    x_first = abar[0].sqrt() * mu + spread(abar[0]) * z
    t0 = torch.zeros(noise.shape[0], dtype=torch.long)
    return gaussian_denoiser(diffusion)(x_first, t0, None)


def _noise(rows: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(rows, 64, MU.numel(), generator=g, dtype=torch.float64)


def _flow_error(diffusion, solver: MultistepSolver, noise: torch.Tensor) -> float:
    """Largest error against the exact flow, in units of each channel's data std."""
    out = solver.sample(gaussian_denoiser(diffusion), noise.clone(), None)
    return float(((out - exact_flow(diffusion, noise)).abs() / STD).max())


def test_indices_run_from_the_noisiest_step_to_zero():
    assert solver_indices(T, 1) == [T - 1]
    assert solver_indices(10, 10) == list(range(9, -1, -1))
    for power in (0.5, 1.0, 2.0):
        for calls in [*range(2, T + 1, 37), T - 1, T]:
            points = solver_indices(T, calls, power)
            assert len(points) == calls and points[0] == T - 1 and points[-1] == 0
            assert all(a > b for a, b in zip(points, points[1:], strict=False))
    # Power 2 is denser near the clean end, power 0.5 near the noisy end.
    clean, noisy = solver_indices(T, 25, 2.0), solver_indices(T, 25, 0.5)
    assert clean[-2] - clean[-1] < clean[0] - clean[1]
    assert noisy[0] - noisy[1] < noisy[-2] - noisy[-1]
    assert make_solver(make_diffusion("cosine", T, "x0"), "dpmpp_2m_sde", 25).indices == clean
    with pytest.raises(ValueError, match="steps must be in"):
        solver_indices(10, 11)


def test_first_order_ode_step_is_the_ddim_step(diffusion):
    # With no previous estimate the update is DDIM's (Song et al. eq. 12, eta 0) between the two
    # points: x_t = sigma_t / sigma_s x_s + (alpha_t - sigma_t alpha_s / sigma_s) x0.
    solver = make_solver(diffusion, "dpmpp_2m", 20)
    a, b, c, d = solver.coefficients(1)
    s, t = solver.indices[0], solver.indices[1]
    abar = diffusion.alphas_cumprod
    alpha_s, sigma_s = math.sqrt(abar[s]), math.sqrt(1 - abar[s])
    alpha_t, sigma_t = math.sqrt(abar[t]), math.sqrt(1 - abar[t])
    assert c == 0.0 and d == 0.0
    assert a == pytest.approx(sigma_t / sigma_s, rel=1e-12)
    assert b == pytest.approx(alpha_t - sigma_t * alpha_s / sigma_s, rel=1e-9)


def test_first_order_sde_step_is_the_ddpm_posterior(diffusion):
    # The stochastic first-order step is q(x_t | x_s, x0) of the two points: mean coefficients
    # of Ho et al. eq. 7 and the posterior variance beta_tilde.
    solver = make_solver(diffusion, "dpmpp_2m_sde", 20)
    a, b, c, d = solver.coefficients(1)
    s, t = solver.indices[0], solver.indices[1]
    abar_s, abar_t = diffusion.alphas_cumprod[s], diffusion.alphas_cumprod[t]
    beta = 1 - abar_s / abar_t  # the beta of the respaced step t -> s
    assert c == 0.0
    assert a == pytest.approx(math.sqrt(1 - beta) * (1 - abar_t) / (1 - abar_s), rel=1e-9)
    assert b == pytest.approx(math.sqrt(abar_t) * beta / (1 - abar_s), rel=1e-9)
    assert d**2 == pytest.approx(beta * (1 - abar_t) / (1 - abar_s), rel=1e-9)


def test_ode_solver_converges_to_the_exact_flow_at_second_order(diffusion):
    # Global error C h^p: doubling the calls divides it by 2^p, p = 2 for DPM-Solver++(2M)
    # (Lu et al. 2022, theorem 4.1) and p = 1 for the first-order (DDIM) update on the same
    # points. The observed order, log2 of the error ratio, must be well above 1 (a wrong
    # multistep coefficient falls back to first order or worse) and the first-order update must
    # stay near 1, which shows the comparison can tell them apart.
    noise = _noise(4)
    ks = (25, 50, 100)
    second = {k: _flow_error(diffusion, make_solver(diffusion, "dpmpp_2m", k), noise) for k in ks}
    first = {k: _flow_error(diffusion, _first_order(k, diffusion), noise) for k in ks}
    for errors, low, high in ((second, 1.5, 3.0), (first, 0.8, 1.2)):
        for k in (25, 50):
            assert low < math.log2(errors[k] / errors[2 * k]) < high, errors
    # float64 rounding over 100 steps stays far below the smallest error measured.
    assert second[100] > 1e3 * 100 * np.finfo(np.float64).eps * float(noise.abs().max())
    # 50 calls land within 5% of each channel's data std of the exact flow, and 3 times
    # closer than the first-order update with the same calls.
    assert second[50] < 0.05 and second[50] < first[50] / 3, (second, first)


def _first_order(calls: int, diffusion) -> MultistepSolver:
    """The solver's points with the first-order (DDIM) update at every step."""
    solver = MultistepSolver(diffusion, calls)
    original = solver.coefficients

    def coefficients(k):
        a, b, _c, d = original(k)
        return a, b, 0.0, d

    solver.coefficients = coefficients
    return solver


def _moments_tolerance(n: int) -> tuple[float, float]:
    """Five standard errors of a sample mean (in data stds) and of a sample variance (relative)
    from ``n`` independent normal draws."""
    return 5.0 / math.sqrt(n), 5.0 * math.sqrt(2.0 / (n - 1))


def _sample(diffusion, sampler: str, steps: int | None, rows: int = 32, width: int = 256):
    gens = [torch.Generator().manual_seed(1000 + b) for b in range(rows)]
    model = gaussian_denoiser(diffusion)
    shape = (rows, width, MU.numel())
    return sample_chain(diffusion, model, shape, {}, gens, sampler, 0.0, "cpu", steps)


def ddpm_moments(diffusion) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact mean and variance per channel of the full DDPM chain's output with the exact
    denoiser: each step ``x' = c1 D(x) + c2 x + std z`` is affine in ``x`` (``D`` is), so
    ``m' = A m + B`` and ``v' = A^2 v + std^2`` from ``N(0, 1)`` at ``T - 1``, in float64."""
    mu, s2 = MU, STD.square()
    mean, var = torch.zeros_like(MU), torch.ones_like(MU)
    for t in range(diffusion.num_timesteps - 1, -1, -1):
        abar = float(diffusion.alphas_cumprod[t])
        gain = abar**0.5 * s2 / (abar * s2 + 1.0 - abar)  # D(x) = mu + gain (x - alpha mu)
        c1, c2 = diffusion.posterior_mean_coef1[t], diffusion.posterior_mean_coef2[t]
        a, b = c1 * gain + c2, c1 * (mu - gain * abar**0.5 * mu)
        noise = diffusion.model_variance[t] if t > 0 else 0.0
        mean, var = a * mean + b, a * a * var + noise
    return mean, var


@pytest.mark.parametrize("sampler, steps", [("ddpm", None), ("dpmpp_2m", 25), ("dpmpp_2m_sde", 50)])
def test_few_step_samples_are_as_close_to_the_data_as_ddpm_1000(diffusion, sampler, steps):
    # Every sampler here is a linear map of Gaussian noise, so its output is Gaussian per channel
    # and its mean and variance say everything. The full DDPM chain is not exact either (its
    # fixed posterior variance is exact only for a point mass: it shrinks a channel of std 0.05
    # by about 8% in variance), so each sampler's moments must be as close to the data's as the
    # DDPM chain's exact moments are, within five standard errors of the sample moments; the
    # DDPM chain itself (the first case) must match its exact moments.
    rows, width = 32, 256
    n = rows * width
    mean_tol, var_tol = _moments_tolerance(n)
    out = _sample(diffusion, sampler, steps, rows, width).double().reshape(n, -1)
    mean, var = out.mean(0), out.var(0)
    ddpm_mean, ddpm_var = ddpm_moments(diffusion)
    if sampler == "ddpm":
        assert ((mean - ddpm_mean).abs() / STD).max() < mean_tol, (mean, ddpm_mean)
        assert ((var / ddpm_var - 1.0).abs()).max() < var_tol, (var, ddpm_var)
        return
    mean_off, var_off = (ddpm_mean - MU).abs() / STD, (ddpm_var / STD.square() - 1.0).abs()
    assert ((mean - MU).abs() / STD <= mean_off + mean_tol).all(), mean
    assert ((var / STD.square() - 1.0).abs() <= var_off + var_tol).all(), (var, ddpm_var)


def _rowwise(x_t, t, cond):
    """An elementwise stand-in network: row b depends only on row b of every input."""
    scale = (1.0 + t.float() / 100.0)[:, None, None]
    return torch.tanh(x_t) / scale + cond["bias"]


def _cond(rows: int) -> dict[str, torch.Tensor]:
    return {"bias": torch.linspace(-1, 1, rows)[:, None, None]}


@pytest.mark.parametrize("sampler", ["dpmpp_2m", "dpmpp_2m_sde"])
def test_rows_do_not_depend_on_their_batch(sampler):
    diffusion = make_diffusion("cosine", 50, "x0")
    cond = _cond(3)
    gens = [torch.Generator().manual_seed(b) for b in range(3)]
    together = sample_chain(diffusion, _rowwise, (3, 8, 5), cond, gens, sampler, steps=10)
    for b in range(3):
        one = {"bias": cond["bias"][b : b + 1]}
        gen = [torch.Generator().manual_seed(b)]
        alone = sample_chain(diffusion, _rowwise, (1, 8, 5), one, gen, sampler, steps=10)
        assert torch.equal(together[b : b + 1], alone)


@pytest.mark.parametrize("sampler", ["dpmpp_2m", "dpmpp_2m_sde"])
def test_same_generators_same_sample_and_one_call_per_step(sampler):
    diffusion = make_diffusion("cosine", 50, "x0")
    calls = []

    def counted(x_t, t, cond):
        calls.append(int(t[0]))
        return _rowwise(x_t, t, cond)

    def run(seed):
        gens = [torch.Generator().manual_seed(seed)]
        return sample_chain(diffusion, counted, (1, 8, 5), _cond(1), gens, sampler, steps=7)

    a, b, c = run(3), run(3), run(4)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert calls[:7] == solver_indices(50, 7) and len(calls) == 21


def test_the_ode_solver_draws_only_the_initial_noise():
    diffusion = make_diffusion("cosine", 50, "x0")
    used, fresh = torch.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    sample_chain(diffusion, _rowwise, (1, 8, 5), _cond(1), [used], "dpmpp_2m", steps=10)
    torch.randn(1, 8, 5, generator=fresh)
    assert torch.equal(used.get_state(), fresh.get_state())
    # The stochastic form draws once more per step after the first.
    used, fresh = torch.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    sample_chain(diffusion, _rowwise, (1, 8, 5), _cond(1), [used], "dpmpp_2m_sde", steps=10)
    for _ in range(10):
        torch.randn(1, 8, 5, generator=fresh)
    assert torch.equal(used.get_state(), fresh.get_state())


def test_lower_order_final_step_below_the_threshold(diffusion):
    few = make_solver(diffusion, "dpmpp_2m", LOWER_ORDER_BELOW - 1)
    many = make_solver(diffusion, "dpmpp_2m", LOWER_ORDER_BELOW)
    assert few.coefficients(few.calls - 1)[2] == 0.0 and few.coefficients(2)[2] != 0.0
    assert many.coefficients(many.calls - 1)[2] != 0.0


def test_sample_config_accepts_solvers_and_bounds_their_steps():
    diffusion_config = {"schedule": "cosine", "steps": 100, "prediction": "x0"}
    process = sampling_diffusion(diffusion_config, SampleConfig(sampler="dpmpp_2m", steps=20))
    assert process.num_timesteps == 100  # the solver picks its points on the full chain
    with pytest.raises(ConfigError, match="config.steps"):
        sampling_diffusion(diffusion_config, SampleConfig(sampler="dpmpp_2m_sde", steps=101))


def test_tables_name_each_sampler_with_its_calls():
    from pathlib import Path

    import yaml

    from adm.experiment.config import Experiment
    from adm.experiment.stages import sampler_label as config_label
    from adm.samplers import sampler_label

    assert sampler_label("ddpm", 50, 1000) == "DDPM-1000"
    assert sampler_label("ddim", 50) == "DDIM-50"
    assert sampler_label("dpmpp_2m_sde", 25) == "DPM++2M-SDE-25"
    # The shipped config with its sample section asking for a solver over the preset's DDIM.
    config = yaml.safe_load((Path(__file__).parents[1] / "config.yaml").read_text())
    config["sample"] = {**(config.get("sample") or {}), "sampler": "dpmpp_2m", "steps": 20}
    assert config_label(Experiment.from_config(config)) == "DPM++2M-20"
