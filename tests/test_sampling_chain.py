"""The reverse chain with per-clip generators: the process's steps in order, batch independent."""

from __future__ import annotations

import pytest
import torch
from tiny import TINY_DENOISER

from adm.diffusion import make_diffusion
from adm.models import build_denoiser
from adm.sampling.chain import clip_generator, sample_chain

W, S, DX = 24, 6, 192
TINY = {
    **TINY_DENOISER,
    "window": W,
    "seed_frames": S,
    "audio_dim": 7,
    "text_dim": 5,
    "num_speakers": 3,
}


pytestmark = pytest.mark.usefixtures("one_thread")


def _cond(batch: int, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "audio": torch.randn(batch, W, 7, generator=g),
        "text": torch.randn(batch, W, 5, generator=g),
        "speaker": torch.arange(batch) % 3,
        "seed": torch.randn(batch, S, DX, generator=g),
        "mask": torch.ones(batch, W, dtype=torch.bool),
    }


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_denoiser("adm", TINY).eval()


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize(
    "sampler, respacing, eta", [("ddpm", None, 0.0), ("ddim", "ddim4", 0.0), ("ddim", "ddim4", 0.7)]
)
def test_one_row_walks_the_steps_of_the_process(model, sampler, respacing, eta):
    # The chain written out: noise from the row's generator, then from step T - 1 down to 0 the
    # network on the original timestep and the process's step drawing from the same generator.
    diffusion = make_diffusion("cosine", 12, "x0", respacing=respacing)
    cond = _cond(1)
    ours = sample_chain(diffusion, model, (1, W, DX), cond, [_gen(5)], sampler, eta)
    gen = _gen(5)
    x = torch.randn(1, W, DX, generator=gen)
    with torch.no_grad():
        for i in reversed(range(diffusion.num_timesteps)):
            t = torch.tensor([i])
            out = model(x, torch.tensor([int(diffusion.timestep_map[i])]), cond)
            if sampler == "ddpm":
                x = diffusion.p_sample(out, x, t, generator=gen).sample
            else:
                x = diffusion.ddim_sample(out, x, t, eta=eta, generator=gen).sample
    assert torch.equal(ours, x)


def _rowwise(x_t, t, cond):
    """An elementwise stand-in network: row b depends only on row b of every input."""
    scale = (1.0 + t.float() / 100.0)[:, None, None]
    return torch.tanh(x_t) / scale + cond["seed"].mean(dim=1, keepdim=True)


@pytest.mark.parametrize("sampler, eta", [("ddpm", 0.0), ("ddim", 0.5), ("ddim", 0.0)])
def test_rows_do_not_depend_on_their_batch(sampler, eta):
    diffusion = make_diffusion("cosine", 10, "x0", respacing="ddim5" if sampler == "ddim" else None)
    cond = _cond(3, seed=1)
    together = sample_chain(
        diffusion, _rowwise, (3, W, DX), cond, [_gen(1), _gen(2), _gen(3)], sampler, eta
    )
    for b in range(3):
        one = {k: v[b : b + 1] for k, v in cond.items()}
        alone = sample_chain(diffusion, _rowwise, (1, W, DX), one, [_gen(b + 1)], sampler, eta)
        assert torch.equal(together[b : b + 1], alone)


def test_ddpm_rows_differ_with_their_generators():
    diffusion = make_diffusion("cosine", 10, "x0")
    cond = _cond(1)
    a = sample_chain(diffusion, _rowwise, (1, W, DX), cond, [_gen(1)])
    b = sample_chain(diffusion, _rowwise, (1, W, DX), cond, [_gen(1)])
    c = sample_chain(diffusion, _rowwise, (1, W, DX), cond, [_gen(2)])
    assert torch.equal(a, b)
    assert (a - c).abs().max() > 0.1


def test_clip_generator_depends_on_seed_and_clip():
    def draw(seed, stem):
        return torch.randn(4, generator=clip_generator(seed, stem))

    assert torch.equal(draw(0, "2_scott_0_1_1"), draw(0, "2_scott_0_1_1"))
    assert not torch.equal(draw(0, "2_scott_0_1_1"), draw(1, "2_scott_0_1_1"))
    assert not torch.equal(draw(0, "2_scott_0_1_1"), draw(0, "2_scott_0_2_2"))


def test_generator_count_must_match_batch():
    diffusion = make_diffusion("cosine", 4, "x0")
    with pytest.raises(ValueError, match="2 generators for a batch of 3"):
        sample_chain(diffusion, _rowwise, (3, W, DX), _cond(3), [_gen(0), _gen(1)])


def test_bench_sample_reports_both_samplers(capsys):
    from adm.bench import sample as bench

    argv = ["--size", "tiny", "--seconds", "6", "--measure-steps", "2", "--ddim-steps", "4"]
    assert bench.main([*argv, "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "180 frames at 30 fps -> 2 window(s)" in out
    assert "timed 2 of 1000 steps, scaled by 500" in out
    assert "timed 2 of 4 steps, scaled by 2" in out
    rows = [line.split() for line in out.splitlines() if line.startswith(("ddpm", "ddim"))]
    assert [r[0] for r in rows] == ["ddpm", "ddim"] and all(float(r[5]) > 0 for r in rows)
