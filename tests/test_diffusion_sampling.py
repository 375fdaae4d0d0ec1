"""DDPM and DDIM sampling (the production chain, one generator per row) on toy problems with
known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from adm.diffusion.gaussian import GaussianDiffusion
from adm.diffusion.respace import make_diffusion
from adm.diffusion.schedules import cosine_betas
from adm.sampling.chain import sample_chain

TARGET = torch.tensor([0.5, -1.0, 2.0, 0.0], dtype=torch.float64)


def _oracle(diffusion: GaussianDiffusion):
    """A perfect denoiser for the one-point data set ``x0 = TARGET``."""

    def model(x_t: torch.Tensor, t: torch.Tensor, cond: dict) -> torch.Tensor:
        x0 = TARGET.expand_as(x_t).to(x_t.dtype)
        if diffusion.prediction == "x0":
            return x0
        abar = diffusion.as_tensor("alphas_cumprod", x_t.device, x_t.dtype)[t][:, None]
        return (x_t - abar.sqrt() * x0) / (1 - abar).sqrt()

    return model


def _gaussian_posterior_model(mu: float, s: float, diffusion: GaussianDiffusion):
    """E[x0 | x_t] for data x0 ~ N(mu, s^2): the optimal x0 predictor, known in closed form."""
    abar_all = torch.as_tensor(np.cumprod(1 - diffusion.betas))

    def model(x_t: torch.Tensor, t: torch.Tensor, cond: dict) -> torch.Tensor:
        # ``t`` is the index the model was trained with, so look it up on the base chain.
        abar = abar_all[t][:, None].to(x_t.dtype)
        gain = abar.sqrt() * s**2 / (abar * s**2 + 1 - abar)
        return mu + gain * (x_t - abar.sqrt() * mu)

    return model


def _gens(rows: int, seed: int = 0) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(seed + b) for b in range(rows)]


@pytest.mark.parametrize("prediction", ["x0", "eps"])
@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_oracle_denoiser_recovers_x0_from_noise(prediction: str, sampler: str) -> None:
    diffusion = GaussianDiffusion(cosine_betas(50), prediction=prediction)
    shape = (6, 4)
    out = sample_chain(diffusion, _oracle(diffusion), shape, {}, _gens(6), sampler)
    assert out.shape == shape
    torch.testing.assert_close(out.double(), TARGET.expand(shape), rtol=0, atol=1e-5)


def test_ddpm_chain_is_reproducible_with_seeded_generators() -> None:
    diffusion = GaussianDiffusion(cosine_betas(20))
    model = _gaussian_posterior_model(0.0, 1.0, diffusion)
    a = sample_chain(diffusion, model, (3, 2), {}, _gens(3, seed=5))
    b = sample_chain(diffusion, model, (3, 2), {}, _gens(3, seed=5))
    c = sample_chain(diffusion, model, (3, 2), {}, _gens(3, seed=6))
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


def test_ddim_eta_zero_draws_only_the_starting_noise() -> None:
    diffusion = GaussianDiffusion(cosine_betas(20))

    def model(x_t: torch.Tensor, t: torch.Tensor, cond: dict) -> torch.Tensor:
        return 0.5 * torch.tanh(x_t) + 0.01 * t[:, None].to(x_t.dtype)

    gens = _gens(4, seed=10)
    a = sample_chain(diffusion, model, (4, 3), {}, gens, "ddim", eta=0.0)
    # Each generator gave the row its starting noise [1, 3] and nothing after it.
    for b, gen in enumerate(gens):
        expected = torch.Generator().manual_seed(10 + b)
        torch.randn(1, 3, generator=expected)
        assert torch.equal(gen.get_state(), expected.get_state())
    assert torch.equal(a, sample_chain(diffusion, model, (4, 3), {}, _gens(4, seed=10), "ddim"))
    # With eta > 0 every step draws: generators with the same start but other streams differ.
    c = sample_chain(diffusion, model, (4, 3), {}, _gens(4, seed=10), "ddim", eta=1.0)
    assert not torch.allclose(a, c)


@pytest.fixture
def float64():
    """Run the chain in float64 (its noise follows the default dtype), restoring it after."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


@pytest.mark.usefixtures("float64")
def test_ddim_eta_one_on_the_full_chain_is_ddpm() -> None:
    # DDIM's sigma at eta = 1 is the posterior std and its mean the posterior mean (Song et al.
    # 2021, section 4.1), so with the same random draws both samplers walk the same path; they
    # differ only by the rounding of two formulas for one number (float64 here).
    diffusion = GaussianDiffusion(cosine_betas(30))
    model = _gaussian_posterior_model(1.0, 0.5, diffusion)
    ddpm = sample_chain(diffusion, model, (5, 3), {}, _gens(5, seed=4), "ddpm")
    ddim = sample_chain(diffusion, model, (5, 3), {}, _gens(5, seed=4), "ddim", eta=1.0)
    assert ddim.dtype == torch.float64
    torch.testing.assert_close(ddim, ddpm, rtol=1e-9, atol=1e-9)


def test_ddpm_and_respaced_ddim_reproduce_gaussian_data_statistics() -> None:
    # Data x0 ~ N(mu, s^2) with the exact x0 predictor: every sampler should give back about
    # N(mu, s^2). Fewer, larger steps with the fixed-small variance are slightly under-dispersed
    # (the x0 uncertainty is left out of the step variance), hence the looser bound there.
    # The toy model is elementwise, so two rows of 4000 values are 8000 independent samples.
    mu, s, shape = 1.0, 0.5, (2, 4000)
    full = make_diffusion("cosine", 100)
    model = _gaussian_posterior_model(mu, s, full)
    ddpm = sample_chain(full, model, shape, {}, _gens(2), "ddpm")
    ddim_full = sample_chain(full, model, shape, {}, _gens(2, seed=2), "ddim", eta=0.0)
    for samples in (ddpm, ddim_full):
        assert samples.mean().item() == pytest.approx(mu, abs=0.03)
        assert samples.std().item() == pytest.approx(s, rel=0.05)
    fast = make_diffusion("cosine", 100, respacing="ddim50")
    for eta in (0.0, 1.0):
        samples = sample_chain(fast, model, shape, {}, _gens(2, seed=4), "ddim", eta=eta)
        assert samples.mean().item() == pytest.approx(mu, abs=0.03)
        assert samples.std().item() == pytest.approx(ddpm.std().item(), rel=0.1)


def test_a_model_output_of_the_wrong_shape_is_refused() -> None:
    diffusion = GaussianDiffusion(cosine_betas(5))

    def bad(x_t: torch.Tensor, t: torch.Tensor, cond: dict) -> torch.Tensor:
        return x_t[:, :1]

    with pytest.raises(ValueError, match="model output shape"):
        sample_chain(diffusion, bad, (2, 4), {}, _gens(2))


def test_sampling_runs_without_gradients_and_passes_cond_through() -> None:
    diffusion = GaussianDiffusion(cosine_betas(4))
    seen: list[object] = []
    cond = {"audio": torch.ones(2, 3)}

    def model(x_t: torch.Tensor, t: torch.Tensor, c: dict) -> torch.Tensor:
        seen.append(c)
        assert not torch.is_grad_enabled()
        return torch.zeros_like(x_t)

    sample_chain(diffusion, model, (2, 3), cond, _gens(2))
    assert len(seen) == 4 and all(c is cond for c in seen)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cpu_generators_give_the_same_sample_on_cuda() -> None:
    diffusion = GaussianDiffusion(cosine_betas(10))
    model = _gaussian_posterior_model(0.5, 1.0, diffusion)

    def on_cpu(x_t: torch.Tensor, t: torch.Tensor, cond: dict) -> torch.Tensor:
        # The toy model's schedule lookup lives on the CPU.
        return model(x_t.cpu(), t.cpu(), cond).to(x_t.device)

    samples = {
        device: sample_chain(diffusion, on_cpu, (3, 2), {}, _gens(3, seed=8), device=device)
        for device in ("cpu", "cuda")
    }
    assert samples["cuda"].device.type == "cuda"
    torch.testing.assert_close(samples["cuda"].cpu(), samples["cpu"], rtol=1e-5, atol=1e-5)
