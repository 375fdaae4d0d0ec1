"""The peers' sampling protocols: DSG+'s seeded windows with a linear seam and Savitzky-Golay
smoothing, DiffSHEG's in-painted overlaps, and regression networks' one call per window."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.signal import savgol_filter

from adm.diffusion import make_diffusion
from adm.errors import ConfigError
from adm.sampling.chain import clip_generator, sample_chain
from adm.sampling.generate import SampleConfig, generate, smooth_gestures
from adm.sampling.windows import ClipInputs, Protocol, linear_weights, sample_windows

pytestmark = pytest.mark.usefixtures("one_thread")

W, S, D = 150, 30, 4  # DSG+'s window and seed at 30 fps


def _clip(frames: int, seed_frames: int = S) -> ClipInputs:
    audio = torch.arange(frames, dtype=torch.float32)[:, None]  # channel 0: the frame index
    seed = torch.full((seed_frames, D), -1.0)
    return ClipInputs("c", frames, seed, 0, audio=audio)


def _stub(calls):
    """Window output = 1000 * window index + frame index within the window (distinct values)."""

    def denoise(cond, rows):
        calls.append({k: v.clone() for k, v in cond.items()})
        k = len(calls) - 1
        local = torch.arange(W, dtype=torch.float32)[None, :, None]
        return (1000.0 * k + local).expand(len(rows), W, D).clone()

    return denoise


def test_dsg_windows_seeds_and_linear_seam_follow_its_protocol():
    frames = 390  # windows start at 0, 120, 240 (advance W - S = 120; the last ends at 390)
    calls = []
    out = sample_windows([_clip(frames)], _stub(calls), W, S, protocol=Protocol("linear"))[0]
    starts = [int(c["audio"][0, 0, 0]) for c in calls]
    assert starts == [0, 120, 240]
    # Every later window is seeded with the previous window's LAST 30 generated frames.
    for k in (1, 2):
        expected = 1000.0 * (k - 1) + torch.arange(W - S, W, dtype=torch.float32)
        assert torch.equal(calls[k]["seed"][0, :, 0], expected)
    # The 30 overlapping frames blend prev * (n - j)/(n + 1) + next * (j + 1)/(n + 1).
    j = torch.arange(S, dtype=torch.float32)
    prev = W - S + j  # window 0's frames 120..149
    new = 1000.0 + j  # window 1's frames 0..29
    blend = prev * (S - j) / (S + 1) + new * (j + 1) / (S + 1)
    tol = 8 * torch.finfo(torch.float32).eps * 1030.0
    assert torch.allclose(out[120:150, 0], blend, rtol=0, atol=tol)
    assert torch.equal(out[150:240, 0], 1000.0 + torch.arange(30, 120, dtype=torch.float32))
    assert torch.allclose(linear_weights(S), (j + 1) / (S + 1))


def test_savgol_smoothing_is_scipys_on_the_gesture_channels_only():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 6)).astype(np.float32)
    config = SampleConfig(savgol_window=15, savgol_order=2)
    out = smooth_gestures(x, slice(0, 4), config)
    assert np.array_equal(out[:, :4], savgol_filter(x[:, :4], 15, 2, axis=0).astype(np.float32))
    assert np.array_equal(out[:, 4:], x[:, 4:])  # the face is not smoothed
    assert np.array_equal(smooth_gestures(x, slice(0, 4), SampleConfig()), x)  # off by default
    short = x[:10]
    assert np.array_equal(smooth_gestures(short, slice(0, 4), config), short)


@pytest.mark.parametrize("bad", [{"savgol_window": 14}, {"savgol_window": 5, "savgol_order": 5}])
def test_bad_smoothing_settings_are_refused(bad):
    with pytest.raises(ConfigError, match="savgol"):
        SampleConfig(**bad)


def test_inpainting_needs_a_ddpm_or_ddim_sampler():
    with pytest.raises(ConfigError, match="inpaint"):
        SampleConfig(sampler="dpmpp_2m", seam="inpaint")


def test_inpainted_overlap_keeps_the_previous_tail_and_the_chain_honours_it():
    """The second window is asked to keep the first window's last `overlap` frames; the chain
    ends exactly on them, and the free frames still come from the model."""
    overlap = 8
    diffusion = make_diffusion("linear", 100, "eps", respacing="ddim10")
    calls, outputs = [], []

    def model(x_t, t, cond):
        return torch.zeros_like(x_t)  # eps = 0: every free frame drifts to x_t / sqrt(abar)

    def denoise(cond, rows):
        calls.append({k: v.clone() for k, v in cond.items()})
        gens = [clip_generator(0, f"c{i}") for i in rows]
        outputs.append(sample_chain(diffusion, model, (len(rows), 40, D), cond, gens, "ddim"))
        return outputs[-1]

    clip = ClipInputs("c", 70, torch.zeros(0, D), 0, audio=torch.zeros(70, 1))
    out = sample_windows([clip], denoise, 40, 0, protocol=Protocol("inpaint", overlap=overlap))[0]
    assert "known" not in calls[0]  # the first window has nothing to keep
    known, mask = calls[1]["known"], calls[1]["known_mask"]
    assert mask[0, :overlap].all() and not mask[0, overlap:].any()
    # What is kept is the first window's own last `overlap` frames ...
    assert torch.equal(known[0, :overlap], outputs[0][0, 40 - overlap :])
    # ... and the second window's chain ends exactly on them, its other frames free.
    assert torch.equal(outputs[1][0, :overlap], known[0, :overlap])
    assert not torch.equal(outputs[1][0, overlap : 2 * overlap], known[0, :overlap])
    # With both windows agreeing on the overlap, the linear blend leaves it unchanged.
    # (two products and a sum of float32 values: a few units of roundoff of the largest value)
    tol = 4 * torch.finfo(torch.float32).eps * float(known.abs().max())
    assert torch.allclose(out[40 - overlap : 40], known[0, :overlap], rtol=0, atol=tol)


def test_inpainting_changes_nothing_without_known_frames():
    diffusion = make_diffusion("linear", 100, "eps", respacing="ddim10")

    def model(x_t, t, cond):
        return 0.1 * x_t

    cond = {"mask": torch.ones(2, 12, dtype=torch.bool)}
    gens = lambda: [clip_generator(0, "a"), clip_generator(0, "b")]  # noqa: E731
    plain = sample_chain(diffusion, model, (2, 12, D), cond, gens(), "ddim")
    known = {**cond, "known": torch.zeros(2, 12, D), "known_mask": torch.zeros(2, 12).bool()}
    assert torch.equal(sample_chain(diffusion, model, (2, 12, D), known, gens(), "ddim"), plain)


class _Regressor(torch.nn.Module):
    """A regression network stub: predicts the seed's mean everywhere (counts its calls)."""

    regression = True

    def __init__(self):
        super().__init__()
        self.config = type("C", (), {"window": W, "seed_frames": 4, "x_dim": D})()
        self.task_slices = {"gesture": slice(0, D)}
        self.calls = 0

    def predict(self, cond):
        self.calls += 1
        return cond["audio"][..., :1].expand(-1, -1, D) * 0 + self.calls


def test_regression_networks_make_one_call_per_window_and_no_chain():
    model = _Regressor()
    clip = ClipInputs("c", 400, torch.zeros(4, D), 0, audio=torch.zeros(400, 1))
    out = generate(model, None, [clip], SampleConfig(seam="linear"), seed=0)
    assert model.calls == 3  # windows at 0, 146, 292 (advance W - 4)
    assert out[0].shape == (400, D)


def test_whole_clip_runs_each_clip_in_one_window_of_its_length():
    model = _Regressor()
    clips = [
        ClipInputs("a", 400, torch.zeros(4, D), 0, audio=torch.zeros(400, 1)),
        ClipInputs("b", 250, torch.zeros(4, D), 0, audio=torch.zeros(250, 1)),
    ]
    out = generate(model, None, clips, SampleConfig(whole_clip=True), seed=0)
    assert model.calls == 1  # both clips in one batch, one window each
    assert [o.shape for o in out] == [(400, D), (250, D)]


def test_whole_clip_is_refused_for_diffusion_networks():
    model = _Regressor()
    model.regression = False
    clip = ClipInputs("a", 40, torch.zeros(4, D), 0, audio=torch.zeros(40, 1))
    with pytest.raises(ConfigError, match="whole_clip"):
        generate(model, None, [clip], SampleConfig(whole_clip=True), seed=0)
