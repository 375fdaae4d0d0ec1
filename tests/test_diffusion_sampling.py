"""DDPM and DDIM samplers on toy problems with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from adm.diffusion.gaussian import GaussianDiffusion
from adm.diffusion.respace import make_diffusion
from adm.diffusion.schedules import cosine_betas

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


@pytest.mark.parametrize("prediction", ["x0", "eps"])
@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_oracle_denoiser_recovers_x0_from_noise(prediction: str, sampler: str) -> None:
    diffusion = GaussianDiffusion(cosine_betas(50), prediction=prediction)
    model = _oracle(diffusion)
    gen = torch.Generator().manual_seed(0)
    shape = (6, 4)
    if sampler == "ddpm":
        out = diffusion.p_sample_loop(model, shape, {}, generator=gen, noise=None)
    else:
        noise = torch.randn(shape, generator=gen, dtype=torch.float64)
        out = diffusion.ddim_sample_loop(model, shape, {}, noise=noise)
    assert out.shape == shape
    torch.testing.assert_close(out.double(), TARGET.expand(shape), rtol=0, atol=1e-5)


def test_ddpm_loop_is_reproducible_with_a_seeded_generator() -> None:
    diffusion = GaussianDiffusion(cosine_betas(20))
    model = _gaussian_posterior_model(0.0, 1.0, diffusion)
    a = diffusion.p_sample_loop(model, (3, 2), {}, generator=torch.Generator().manual_seed(5))
    b = diffusion.p_sample_loop(model, (3, 2), {}, generator=torch.Generator().manual_seed(5))
    c = diffusion.p_sample_loop(model, (3, 2), {}, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


def test_ddim_eta_zero_is_deterministic_given_the_noise() -> None:
    diffusion = GaussianDiffusion(cosine_betas(20))

    def model(x_t: torch.Tensor, t: torch.Tensor, cond: dict) -> torch.Tensor:
        return 0.5 * torch.tanh(x_t) + 0.01 * t[:, None].to(x_t.dtype)

    noise = torch.randn(4, 3, generator=torch.Generator().manual_seed(1))
    gen_a, gen_b = torch.Generator().manual_seed(10), torch.Generator().manual_seed(99)
    a = diffusion.ddim_sample_loop(model, (4, 3), {}, noise=noise, generator=gen_a)
    b = diffusion.ddim_sample_loop(model, (4, 3), {}, noise=noise, generator=gen_b)
    assert torch.equal(a, b)
    # No noise is drawn at all: the generator is left as it was.
    assert torch.equal(gen_a.get_state(), torch.Generator().manual_seed(10).get_state())
    # With eta > 0 the generator matters.
    c = diffusion.ddim_sample_loop(model, (4, 3), {}, noise=noise, eta=1.0, generator=gen_a)
    d = diffusion.ddim_sample_loop(model, (4, 3), {}, noise=noise, eta=1.0, generator=gen_b)
    assert not torch.allclose(c, d)


def test_ddim_eta_one_on_the_full_chain_is_ddpm() -> None:
    # DDIM's sigma at eta = 1 is the posterior std and its mean the posterior mean (Song et al.
    # 2021, section 4.1), so with the same random draws both samplers walk the same path.
    diffusion = GaussianDiffusion(cosine_betas(30))
    model = _gaussian_posterior_model(1.0, 0.5, diffusion)
    noise = torch.randn(5, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    ddpm = diffusion.p_sample_loop(
        model, (5, 3), {}, noise=noise, generator=torch.Generator().manual_seed(4)
    )
    ddim = diffusion.ddim_sample_loop(
        model, (5, 3), {}, noise=noise, eta=1.0, generator=torch.Generator().manual_seed(4)
    )
    torch.testing.assert_close(ddim, ddpm, rtol=1e-9, atol=1e-9)


def test_ddpm_and_respaced_ddim_reproduce_gaussian_data_statistics() -> None:
    # Data x0 ~ N(mu, s^2) with the exact x0 predictor: every sampler should give back about
    # N(mu, s^2). Fewer, larger steps with the fixed-small variance are slightly under-dispersed
    # (the x0 uncertainty is left out of the step variance), hence the looser bound there.
    mu, s, n = 1.0, 0.5, 4000
    full = make_diffusion("cosine", 100)
    model = _gaussian_posterior_model(mu, s, full)
    gen = torch.Generator().manual_seed(0)
    ddpm = full.p_sample_loop(model, (n, 2), {}, generator=gen)
    ddim_full = full.ddim_sample_loop(model, (n, 2), {}, eta=0.0, generator=gen)
    for samples in (ddpm, ddim_full):
        assert samples.mean().item() == pytest.approx(mu, abs=0.03)
        assert samples.std().item() == pytest.approx(s, rel=0.05)
    fast = make_diffusion("cosine", 100, respacing="ddim50")
    for eta in (0.0, 1.0):
        samples = fast.ddim_sample_loop(model, (n, 2), {}, eta=eta, generator=gen)
        assert samples.mean().item() == pytest.approx(mu, abs=0.03)
        assert samples.std().item() == pytest.approx(ddpm.std().item(), rel=0.1)


def test_loop_validates_noise_shape_and_model_output() -> None:
    diffusion = GaussianDiffusion(cosine_betas(5))
    with pytest.raises(ValueError, match="noise shape"):
        diffusion.p_sample_loop(_oracle(diffusion), (2, 4), {}, noise=torch.zeros(2, 3))

    def bad(x_t: torch.Tensor, t: torch.Tensor, cond: dict) -> torch.Tensor:
        return x_t[:, :1]

    with pytest.raises(ValueError, match="model output shape"):
        diffusion.p_sample_loop(bad, (2, 4), {})


def test_clip_denoised_clamps_the_x0_estimate() -> None:
    diffusion = GaussianDiffusion(cosine_betas(5))

    def model(x_t: torch.Tensor, t: torch.Tensor, cond: dict) -> torch.Tensor:
        return torch.full_like(x_t, 7.0)

    x_t, t = torch.zeros(2, 3), torch.tensor([4, 0])
    assert torch.all(diffusion.model_x0(model, x_t, t, {}) == 7.0)
    assert torch.all(diffusion.model_x0(model, x_t, t, {}, clip_denoised=1.0) == 1.0)
    out = diffusion.p_sample_loop(model, (2, 3), {}, clip_denoised=1.0)
    torch.testing.assert_close(out, torch.ones(2, 3))


def test_sampling_runs_without_gradients_and_passes_cond_through() -> None:
    diffusion = GaussianDiffusion(cosine_betas(4))
    seen: list[object] = []
    cond = {"audio": torch.ones(2, 3)}

    def model(x_t: torch.Tensor, t: torch.Tensor, c: dict) -> torch.Tensor:
        seen.append(c)
        assert not torch.is_grad_enabled()
        return torch.zeros_like(x_t)

    diffusion.p_sample_loop(model, (2, 3), cond)
    assert len(seen) == 4 and all(c is cond for c in seen)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cpu_generator_gives_the_same_sample_on_cuda() -> None:
    diffusion = GaussianDiffusion(cosine_betas(10))
    model = _gaussian_posterior_model(0.5, 1.0, diffusion)

    def on_cpu(x_t: torch.Tensor, t: torch.Tensor, cond: dict) -> torch.Tensor:
        # The toy model's schedule lookup lives on the CPU.
        return model(x_t.cpu(), t.cpu(), cond).to(x_t.device)

    samples = {}
    for device in ("cpu", "cuda"):
        gen = torch.Generator().manual_seed(8)
        samples[device] = diffusion.p_sample_loop(on_cpu, (3, 2), {}, generator=gen, device=device)
    assert samples["cuda"].device.type == "cuda"
    torch.testing.assert_close(samples["cuda"].cpu(), samples["cpu"], rtol=1e-5, atol=1e-5)
