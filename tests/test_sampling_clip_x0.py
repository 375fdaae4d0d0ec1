"""``sample.clip_x0``: every step's x0 estimate clamped to the train frames' range (SAiD's DDIM
``clip_sample``), the range stored in the weights file by training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_training_dataset import TRAIN, write_corpus
from tiny import tiny_run

from adm.data.normalization import load_norm_stats
from adm.diffusion import make_diffusion
from adm.errors import BadInputError, ConfigError
from adm.io.frames import read_frames
from adm.sampling.chain import clip_generator, sample_chain
from adm.sampling.generate import SampleConfig, generate
from adm.sampling.windows import ClipInputs
from adm.training.checkpoint import load_checkpoint
from adm.training.config import parse_run_config
from adm.training.loop import train

pytestmark = pytest.mark.usefixtures("one_thread")

B, W, D = 3, 12, 4


def zero_eps(x_t, t, cond):
    """An eps network that always answers 0: its x0 estimate is ``x_t / sqrt(abar_t)``, which
    grows without bound at the noisy end of the chain (what an untrained eps model does)."""
    return torch.zeros_like(x_t)


def _run(sampler: str, bounds, eta: float = 0.0):
    respacing = "ddim10" if sampler == "ddim" else None
    diffusion = make_diffusion("cosine", 100, "eps", respacing=respacing)
    gens = [clip_generator(0, f"c{b}") for b in range(B)]
    return sample_chain(diffusion, zero_eps, (B, W, D), {}, gens, sampler, eta, x0_bounds=bounds)


@pytest.mark.parametrize(("sampler", "eta"), [("ddim", 0.0), ("ddim", 1.0), ("ddpm", 0.0)])
def test_the_clamped_chain_ends_inside_the_range_the_free_one_far_outside(sampler, eta):
    low = torch.tensor([-1.0, -0.5, 0.0, -2.0])
    high = torch.tensor([1.0, 0.5, 3.0, -1.0])
    free = _run(sampler, None, eta)
    assert (free.abs() > 10).any()  # the unclamped estimates blow up
    clamped = _run(sampler, (low, high), eta)
    # The last step returns the (clamped) x0 estimate itself: abar_prev = 1 at t = 0.
    tol = 16 * torch.finfo(torch.float32).eps * 3.0
    assert (clamped >= low - tol).all() and (clamped <= high + tol).all()


def test_without_bounds_the_chain_is_unchanged():
    diffusion = make_diffusion("cosine", 100, "eps", respacing="ddim10")

    def net(x_t, t, cond):
        return 0.3 * x_t

    gens = lambda: [clip_generator(1, f"c{b}") for b in range(B)]  # noqa: E731
    a = sample_chain(diffusion, net, (B, W, D), {}, gens(), "ddim")
    wide = (torch.full((D,), -1e30), torch.full((D,), 1e30))
    b = sample_chain(diffusion, net, (B, W, D), {}, gens(), "ddim", x0_bounds=wide)
    assert torch.equal(a, b)


def test_solvers_and_regression_networks_refuse_clip_x0():
    with pytest.raises(ConfigError, match="clip_x0"):
        SampleConfig(sampler="dpmpp_2m", clip_x0=True)

    class Regressor(torch.nn.Module):
        regression = True

        def __init__(self):
            super().__init__()
            self.config = type("C", (), {"window": 8, "seed_frames": 0, "x_dim": D})()

    clip = ClipInputs("a", 8, torch.zeros(0, D), 0, audio=torch.zeros(8, 1))
    bounds = (torch.zeros(D), torch.ones(D))
    with pytest.raises(ConfigError, match="clip_x0"):
        generate(Regressor(), None, [clip], SampleConfig(clip_x0=True), 0, x0_bounds=bounds)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("clip_x0")
    corpus = write_corpus(root / "corpus")
    train(corpus, [2, 4], root / "run", parse_run_config(tiny_run(steps=10)))
    return corpus, root / "run"


def test_training_stores_each_tasks_range_over_the_train_frames(trained):
    corpus, run = trained
    ckpt = load_checkpoint(run / "ema.safetensors")
    norm = load_norm_stats(corpus.norm)
    for task in ("gesture", "face"):
        frames = np.concatenate(
            [read_frames(corpus.clips_dir / f"{stem}.parquet")[task] for stem in TRAIN]
        )
        # The trainer normalises in float32: one rounding of (x - mean) / std per value.
        z = ((frames - norm.mean[task]) / norm.std[task]).astype(np.float32)
        low, high = (t.numpy() for t in ckpt.data_range[task])
        tol = 4 * np.finfo(np.float32).eps * np.abs(z).max()
        np.testing.assert_allclose(low, z.min(axis=0), rtol=0, atol=tol)
        np.testing.assert_allclose(high, z.max(axis=0), rtol=0, atol=tol)
    low, high = ckpt.x0_bounds()
    assert low.shape == high.shape == (ckpt.model.config.x_dim,)
    assert (low <= high).all()


def test_weights_without_a_range_name_the_file(trained):
    _, run = trained
    ckpt = load_checkpoint(run / "ema.safetensors")
    ckpt.data_range = {}
    with pytest.raises(BadInputError, match="clip_x0") as err:
        ckpt.x0_bounds()
    assert err.value.path == run / "ema.safetensors"
