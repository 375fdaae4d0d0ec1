"""Timestep respacing: kept steps, the respaced schedule and the model's timestep indices."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from adm.diffusion.gaussian import GaussianDiffusion
from adm.diffusion.respace import SpacedDiffusion, make_diffusion, space_timesteps
from adm.diffusion.schedules import cosine_betas
from adm.errors import ConfigError
from adm.sampling.chain import sample_chain


def test_space_timesteps_by_hand() -> None:
    assert space_timesteps(1000, "ddim50") == list(range(0, 1000, 20))
    assert space_timesteps(10, "ddim5") == [0, 2, 4, 6, 8]
    # Two sections of 5 steps: 2 kept of [0..4] -> ends 0, 4; 3 of [5..9] -> 5, 7, 9.
    assert space_timesteps(10, [2, 3]) == [0, 4, 5, 7, 9]
    assert space_timesteps(10, "2,3") == [0, 4, 5, 7, 9]
    assert space_timesteps(10, 10) == list(range(10))
    assert space_timesteps(10, 4) == [0, 3, 6, 9]
    # One step keeps the noisiest one, so a one-step sampler starts from noise.
    assert space_timesteps(10, 1) == [9]


def test_space_timesteps_refuses_impossible_requests() -> None:
    with pytest.raises(ConfigError, match="no integer stride"):
        space_timesteps(1000, "ddim600")
    with pytest.raises(ConfigError, match="cannot keep 11"):
        space_timesteps(10, 11)
    with pytest.raises(ConfigError, match="diffusion.respacing"):
        space_timesteps(10, "fast")


def test_respacing_to_all_steps_reproduces_the_base_process() -> None:
    betas = cosine_betas(100)
    spaced = SpacedDiffusion(range(100), betas)
    np.testing.assert_allclose(spaced.betas, betas, rtol=1e-10, atol=1e-15)
    np.testing.assert_array_equal(spaced.timestep_map, np.arange(100))
    full = make_diffusion("cosine", 100, respacing=None)
    np.testing.assert_allclose(full.betas, betas, rtol=1e-10, atol=1e-15)
    assert make_diffusion("cosine", 100, respacing="").num_timesteps == 100


def test_spaced_alphas_cumprod_equal_the_base_at_kept_steps() -> None:
    base = GaussianDiffusion(cosine_betas(1000))
    spaced = make_diffusion("cosine", 1000, respacing="ddim50")
    kept = list(range(0, 1000, 20))
    assert spaced.num_timesteps == 50 and spaced.base_num_timesteps == 1000
    assert spaced.use_timesteps == kept
    np.testing.assert_allclose(spaced.alphas_cumprod, base.alphas_cumprod[kept], rtol=1e-10)
    # So q(x_t | x0) of the spaced process at step k is the base marginal at kept[k].
    x0, noise = torch.ones(1, 2, dtype=torch.float64), torch.ones(1, 2, dtype=torch.float64)
    spaced_xt = spaced.q_sample(x0, torch.tensor([7]), noise)
    base_xt = base.q_sample(x0, torch.tensor([kept[7]]), noise)
    torch.testing.assert_close(spaced_xt, base_xt, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_the_model_receives_original_timesteps(sampler: str) -> None:
    spaced = make_diffusion("cosine", 100, respacing="10,5")
    seen: list[list[int]] = []

    def model(x_t: torch.Tensor, t: torch.Tensor, cond: dict) -> torch.Tensor:
        seen.append(t.tolist())
        return torch.zeros_like(x_t)

    sample_chain(spaced, model, (2, 3), {}, [torch.Generator(), torch.Generator()], sampler)
    kept = space_timesteps(100, "10,5")
    assert kept[:3] == [0, 5, 11] and kept[-1] == 99 and len(kept) == 15
    assert seen == [[s, s] for s in reversed(kept)]


def test_make_diffusion_passes_its_settings_on() -> None:
    diffusion = make_diffusion("linear", 50, prediction="eps", variance="fixed_large")
    assert diffusion.prediction == "eps" and diffusion.variance == "fixed_large"
    np.testing.assert_allclose(diffusion.betas[[0, -1]], [2e-3, 0.4], rtol=1e-10)
    with pytest.raises(ConfigError, match="diffusion.schedule"):
        make_diffusion("sigmoid", 50)
    with pytest.raises(ConfigError, match="kept steps"):
        SpacedDiffusion([0, 100], cosine_betas(100))
