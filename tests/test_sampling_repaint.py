"""DiffSHEG's schedule for in-painted windows: the last steps of the chain, RePaint's
resampling jumps and the linear blend of the overlap at the low-noise end."""

from __future__ import annotations

import pytest
import torch

from adm.diffusion import make_diffusion
from adm.errors import ConfigError
from adm.sampling.chain import clip_generator, sample_chain
from adm.sampling.generate import SampleConfig
from adm.sampling.repaint import Repaint, jump_schedule, overlap_blend_weights

pytestmark = pytest.mark.usefixtures("one_thread")

W, D, OVERLAP = 16, 3, 5


def test_the_schedule_of_diffsheg_ddim25_with_its_beat_jumps():
    # DiffSHEG's get_schedule_jump_cjm_ddim(25, jump_length=3, jump_n_sample=2): start at step
    # 15 of 25, jump back 3 steps once from steps 9, 6, 3 and 0.
    expected = [14, 13, 12, 11, 10, 9, 10, 11, 12, 11, 10, 9, 8, 7, 6, 7, 8, 9, 8, 7, 6, 5, 4, 3]
    expected += [4, 5, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, -1]
    assert jump_schedule(15, 3, 2) == expected
    assert jump_schedule(5) == [4, 3, 2, 1, 0, -1] == jump_schedule(5, 3, 1)
    assert jump_schedule(8, 2, 3).count(0) == 3  # n passes over the stretch above step 0


def test_blend_weights_rise_from_0_to_1_across_each_rows_known_frames():
    mask = torch.zeros(3, 8, dtype=torch.bool)
    mask[0, :5] = True
    mask[1, :1] = True
    weights = overlap_blend_weights(mask)
    assert torch.allclose(weights[0, :5], torch.linspace(0, 1, 5))
    assert weights[1, 0] == 0 and (weights[:, 5:] == 0).all() and (weights[2] == 0).all()


class Recorder:
    """An eps network that records the steps it is called at and answers a fixed fraction of x."""

    def __init__(self):
        self.steps = []

    def __call__(self, x_t, t, cond):
        self.steps.append(int(t[0]))
        return 0.5 * x_t


def _sample(repaint, rows=2, known_value=2.0, seed=0):
    diffusion = make_diffusion("linear", 1000, "eps", respacing="ddim25")
    known = torch.full((rows, W, D), known_value)
    mask = torch.zeros(rows, W, dtype=torch.bool)
    mask[:, :OVERLAP] = True
    net = Recorder()
    gens = [clip_generator(seed, f"clip{b}") for b in range(rows)]
    cond = {"known": known, "known_mask": mask}
    x = sample_chain(diffusion, net, (rows, W, D), cond, gens, "ddim", repaint=repaint)
    return x, net.steps, diffusion


def test_in_painted_windows_call_the_network_on_the_schedules_denoising_steps():
    x, steps, diffusion = _sample(Repaint(steps=15, jump_length=3, jump_n_sample=2))
    schedule = jump_schedule(15, 3, 2)
    denoised = [a for a, b in zip(schedule[:-1], schedule[1:], strict=True) if b < a]
    assert steps == [int(diffusion.timestep_map[i]) for i in denoised]
    assert len(steps) == 27 and steps[0] == 560  # step 14 of DDIM-25 (stride 40)
    _, plain, _ = _sample(None)
    assert plain == list(range(960, -1, -40))


def test_the_overlap_is_replaced_without_blend_and_blended_with_it():
    replaced, _, _ = _sample(Repaint(steps=15))
    assert torch.equal(replaced[:, :OVERLAP], torch.full((2, OVERLAP, D), 2.0))
    blended, _, _ = _sample(Repaint(steps=15, blend_below=0.2))
    # The first known frame keeps the known value (generated weight 0), the last is the
    # generated frame itself (weight 1), so it differs from the known value.
    assert torch.equal(blended[:, 0], torch.full((2, D), 2.0))
    assert not torch.allclose(blended[:, OVERLAP - 1], torch.full((2, D), 2.0))
    assert torch.isfinite(blended).all()


def test_a_clips_jumps_draw_only_from_its_own_generator():
    repaint = Repaint(steps=15, jump_length=3, jump_n_sample=2, blend_below=0.2)
    together, _, _ = _sample(repaint, rows=2)
    alone, _, _ = _sample(repaint, rows=1)
    assert torch.equal(together[:1], alone)
    again, _, _ = _sample(repaint, rows=2)
    assert torch.equal(together, again)


def test_the_settings_are_checked():
    with pytest.raises(ConfigError, match="seam 'inpaint'"):
        SampleConfig(jump_length=3, jump_n_sample=2)
    with pytest.raises(ConfigError, match="inpaint_blend"):
        SampleConfig(seam="inpaint", inpaint_blend=1.5)
    with pytest.raises(ValueError, match="repaint.steps"):
        _sample(Repaint(steps=26))
    assert SampleConfig(seam="inpaint", inpaint_steps=15, jump_length=3).repaint == Repaint(
        15, 3, 1, 0.0
    )
