"""Windowed whole-clip generation: window plan, seeding, seams and batching across clips."""

from __future__ import annotations

import pytest
import torch

from adm.sampling.windows import (
    ClipInputs,
    Window,
    crossfade_weights,
    plan_windows,
    sample_windows,
)

W, S, D = 40, 10, 3
HOP = W - S


def _clip(stem: str, frames: int, speaker: int = 0) -> ClipInputs:
    """A clip whose audio channel 0 is the absolute frame index (stubs read time from it)."""
    audio = torch.zeros(frames, 2)
    audio[:, 0] = torch.arange(frames, dtype=torch.float32)
    seed = 100.0 + torch.arange(S * D, dtype=torch.float32).reshape(S, D)  # "ground truth"
    return ClipInputs(stem, frames, seed, speaker, audio=audio, text=torch.ones(frames, 1))


def _frame_of(cond: dict[str, torch.Tensor]) -> torch.Tensor:
    """Absolute frame index ``[B, W]`` of each window frame (padding reads 0)."""
    return cond["audio"][..., 0]


class Recorder:
    """Stub denoiser: output ``f(frame, window index)`` ``[B, W, D]``; records every call."""

    def __init__(self, fn):
        self.fn = fn
        self.calls: list[dict] = []

    def __call__(self, cond, rows):
        frame = _frame_of(cond)
        k = torch.div(frame[:, 0], HOP, rounding_mode="floor")
        out = self.fn(frame, k)
        recorded = {key: value.clone() for key, value in cond.items()}
        self.calls.append({"cond": recorded, "rows": rows, "out": out.clone()})
        return out


def _identity_frames(frame, k):
    return frame[..., None].repeat(1, 1, D)


@pytest.mark.parametrize(
    "frames, expected",
    [
        (25, [Window(0, 25)]),  # shorter than a window: one padded window
        (W, [Window(0, W)]),  # exactly one window
        (2 * HOP + S, [Window(0, W), Window(HOP, W)]),  # k*(W-S)+S: k full windows
        (3 * HOP + S, [Window(0, W), Window(HOP, W), Window(2 * HOP, W)]),
        (W + 1, [Window(0, W), Window(HOP, 11)]),  # one frame more: a short last window
        (77, [Window(0, W), Window(HOP, W), Window(2 * HOP, 17)]),  # odd T
        (1, [Window(0, 1)]),
    ],
)
def test_plan_windows(frames, expected):
    plan = plan_windows(frames, W, S)
    assert plan == expected
    covered = set()
    for win in plan:
        covered |= set(range(win.start, win.start + win.valid))
    assert covered == set(range(frames))
    # every window after the first brings new frames beyond its seed overlap
    assert all(win.valid > S for win in plan[1:])


def test_plan_windows_rejects_bad_sizes():
    with pytest.raises(ValueError, match="at least one frame"):
        plan_windows(0, W, S)
    with pytest.raises(ValueError, match="seed frames"):
        plan_windows(10, W, W)


def test_crossfade_weights_rise_from_old_to_new():
    w = crossfade_weights(S)
    assert w.shape == (S,)
    assert torch.all(w[1:] > w[:-1])
    assert 0.0 < w[0] < 0.05 and 0.95 < w[-1] < 1.0
    torch.testing.assert_close(w + w.flip(0), torch.ones(S))  # symmetric crossfade


@pytest.mark.parametrize("frames", [25, W, 2 * HOP + S, 77, 131])
def test_output_covers_every_frame(frames):
    out = sample_windows([_clip("c", frames)], Recorder(_identity_frames), W, S)[0]
    assert out.shape == (frames, D)
    expected = torch.arange(frames, dtype=torch.float32)[:, None].expand(frames, D)
    torch.testing.assert_close(out, expected)


def test_padding_is_masked_and_zero():
    rec = Recorder(_identity_frames)
    sample_windows([_clip("c", 77)], rec, W, S)
    last = rec.calls[-1]["cond"]
    assert last["mask"][0].sum() == 17 and bool(last["mask"][0, :17].all())
    assert torch.all(last["audio"][0, 17:] == 0)
    assert all(bool(c["cond"]["mask"].all()) for c in rec.calls[:-1])


def test_seeds_come_from_ground_truth_then_previous_output():
    clip = _clip("c", 131)

    def wavy(frame, k):
        return torch.sin(frame[..., None] * torch.arange(1, D + 1)) + k[:, None, None]

    rec = Recorder(wavy)
    sample_windows([clip], rec, W, S)
    assert len(rec.calls) == 5
    torch.testing.assert_close(rec.calls[0]["cond"]["seed"][0], clip.seed)
    for prev, call in zip(rec.calls, rec.calls[1:], strict=False):
        torch.testing.assert_close(call["cond"]["seed"][0], prev["out"][0, W - S :])
        assert not torch.equal(call["cond"]["seed"][0], clip.seed)
    assert rec.calls[0]["cond"]["speaker"].tolist() == [0]


def _max_steps(x: torch.Tensor, frames: list[int]) -> float:
    """Largest |x[t] - x[t-1]| over the transitions into ``frames``."""
    return max(float((x[t] - x[t - 1]).abs().max()) for t in frames)


def test_seams_are_blended():
    # A smooth curve of the absolute frame, plus an offset that flips between windows: the
    # windows disagree on their overlap, as real samples do, and only blending hides it.
    def curve(frame, k):
        return (torch.sin(0.1 * frame) + 0.5 * (k % 2)[:, None])[..., None].expand(-1, -1, D)

    frames = 4 * HOP + S
    out = sample_windows([_clip("c", frames)], Recorder(curve), W, S)[0]
    seams = [t for k in range(1, 4) for t in range(k * HOP, k * HOP + S + 1)]
    inside = [t for t in range(1, frames) if t not in seams]
    assert _max_steps(out, seams) <= 1.5 * _max_steps(out, inside)
    # Control: pasting windows without the crossfade gives a jump of ~0.5 at each seam.
    hard = torch.sin(0.1 * torch.arange(frames)) + 0.5 * ((torch.arange(frames) // HOP) % 2)
    assert _max_steps(hard[:, None], seams) > 3 * _max_steps(out, inside)


def test_overlap_takes_both_windows():
    def offset(frame, k):
        return k[:, None, None].expand(-1, W, D).float()

    out = sample_windows([_clip("c", W + HOP)], Recorder(offset), W, S)[0]
    assert torch.all(out[:HOP] == 0) and torch.all(out[W:] == 1)
    torch.testing.assert_close(out[HOP:W, 0], crossfade_weights(S))


def test_batching_across_clips_matches_one_at_a_time():
    clips = [_clip("a", 131, 0), _clip("b", 25, 1), _clip("c", 77, 2), _clip("d", 100, 3)]

    def fn(frame, k):  # elementwise in the batch: any row's output ignores the other rows
        return torch.cos(0.05 * frame)[..., None] * torch.arange(1, D + 1) + 0.3 * k[:, None, None]

    rec = Recorder(fn)
    together = sample_windows(clips, rec, W, S, batch=3)
    alone = [sample_windows([c], Recorder(fn), W, S, batch=3)[0] for c in clips]
    for a, b in zip(together, alone, strict=True):
        assert torch.equal(a, b)
    # window 0: clips 0-2 then 3 (batch 3); later windows only the clips still running
    assert [c["rows"] for c in rec.calls] == [[0, 1, 2], [3], [0, 2, 3], [0, 2, 3], [0], [0]]
    assert rec.calls[1]["cond"]["speaker"].tolist() == [3]


def test_wrong_denoiser_shape_is_an_error():
    with pytest.raises(ValueError, match="denoiser returned"):
        sample_windows([_clip("c", 50)], lambda cond, rows: torch.zeros(1, W, D + 1), W, S)
