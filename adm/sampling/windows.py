"""Whole clips of any length from a fixed-window model: seeded windows, blended seams.

The denoiser sees ``W``-frame windows (150) whose first ``S`` frames (30) carry seed motion
(method.md; DiffuseStyleGesture+). A clip of ``T`` frames is generated as follows, which is the
protocol of DSG+ and of the paper:

- Window ``k`` starts at frame ``k * (W - S)``: consecutive windows overlap by ``S`` frames.
  The number of windows is the fewest whose last one reaches frame ``T``; the last window is
  padded to ``W`` frames with ``mask`` False on the padding (the model ignores masked frames)
  and trimmed afterwards. A clip shorter than ``W`` is one padded window.
- The FIRST window's seed is the ground truth's first ``S`` frames: it gives the model a start
  pose, as in DSG+ and the paper. Every later window's seed is the previous window's generated
  last ``S`` frames, so the clip is generated autoregressively over window index. The output
  is the model's everywhere, the first ``S`` frames included (the ground truth is never pasted
  in, so metrics see generated motion only).
- The ``S`` overlapping frames are crossfaded with raised-cosine weights from the previous
  window's last ``S`` outputs to the new window's first ``S`` outputs, so seams carry no jump.

Peers keep their own protocols (:class:`Protocol`): DiffuseStyleGesture+ blends the overlap
linearly (weights ``(j + 1) / (S + 1)``); DiffSHEG has no seed frames: its windows overlap by
``overlap`` frames and the overlap of each new window is IN-PAINTED from the previous window's
tail (the sampler receives ``cond["known"]`` ``[B, W, Dx]`` and ``cond["known_mask"]`` ``[B, W]``
and keeps those frames on the forward-noised known values at every step, RePaint-style, on
DiffSHEG's own schedule when configured: :mod:`adm.sampling.repaint`), then the overlap is
blended linearly.
- Windows with the same index of all clips go in one batch (at most ``batch`` rows; clips
  that have ended drop out): the autoregressive loop runs as many window steps as the
  longest clip needs, not as the clips need together.

Nothing here knows about diffusion: :func:`sample_windows` takes any ``denoise(cond, rows)``
callable returning ``x0`` ``[B, W, Dx]`` (a regression network's prediction as well).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

#: ``denoise(cond, rows) -> x0 [B, W, Dx]``; ``rows`` are the clips' positions in the input
#: list (so a sampler can keep per-clip state such as its noise generator).
Denoise = Callable[[dict[str, Tensor], list[int]], Tensor]


@dataclass(frozen=True)
class Window:
    """One window of a clip: frames ``[start, start + valid)``, padded to W when valid < W."""

    start: int
    valid: int


@dataclass(frozen=True)
class Protocol:
    """How windows join (see the module docstring).

    Attributes:
        seam: "cosine" (ADM: raised-cosine crossfade of the overlap), "linear" (DSG+: linear
            crossfade), "inpaint" (DiffSHEG: the overlap is in-painted from the previous
            window's tail, then crossfaded linearly).
        overlap: frames shared by consecutive windows; None = the model's seed frames S.
    """

    seam: str = "cosine"
    overlap: int | None = None

    def __post_init__(self) -> None:
        if self.seam not in SEAMS:
            raise ValueError(f"seam must be one of {list(SEAMS)}, got {self.seam!r}")


SEAMS = ("cosine", "linear", "inpaint")


@dataclass
class ClipInputs:
    """What the sampler needs of one clip, in the model's normalised units.

    Attributes:
        stem: clip name (for messages).
        num_frames: T.
        seed: ``[S, Dx]`` the ground truth's first S frames (edge-padded when T < S).
        speaker: the speaker's index in the model's speaker list.
        audio: ``[T, Da]`` normalised audio features, or None if the model takes no audio.
        text: ``[T, Dt]`` normalised text features, or None if the model takes no text.
        frames: further per-frame inputs ``[T, ...]`` by cond key (``"semantic"``,
            ``"emotion"``, ``"face_input"``), windowed like audio.
    """

    stem: str
    num_frames: int
    seed: Tensor
    speaker: int
    audio: Tensor | None = None
    text: Tensor | None = None
    frames: dict[str, Tensor] = field(default_factory=dict)


def plan_windows(num_frames: int, window: int, seed_frames: int) -> list[Window]:
    """The windows covering a ``num_frames`` clip (see the module docstring).

    Example: ``plan_windows(250, 150, 30)`` is ``[Window(0, 150), Window(120, 130)]``.

    Raises:
        ValueError: no frames, or ``seed_frames`` not in ``[0, window)``.
    """
    if num_frames <= 0:
        raise ValueError(f"a clip needs at least one frame, got {num_frames}")
    if not 0 <= seed_frames < window:
        raise ValueError(f"seed frames {seed_frames} must lie in [0, window {window})")
    hop = window - seed_frames
    count = 1 if num_frames <= window else 1 + math.ceil((num_frames - window) / hop)
    return [Window(k * hop, min(window, num_frames - k * hop)) for k in range(count)]


def linear_weights(frames: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """Linear weights ``[frames]`` of the NEW window across an overlap: ``(j + 1) / (frames + 1)``
    (DiffuseStyleGesture+'s blend of the seed overlap)."""
    return (torch.arange(1, frames + 1, dtype=torch.float64) / (frames + 1)).to(dtype)


def seam_weights(seam: str, frames: int) -> Tensor:
    """The new window's weights ``[frames]`` over an overlap for ``seam``."""
    return crossfade_weights(frames) if seam == "cosine" else linear_weights(frames)


def crossfade_weights(frames: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """Raised-cosine weights ``[frames]`` of the NEW window across an overlap.

    ``w_j = (1 - cos(pi (j + 1) / (frames + 1))) / 2`` rises strictly from near 0 to near 1
    (the end points 0 and 1 are left out: both windows contribute to every overlap frame), with
    zero slope at both ends so the blend joins each window without a kink.
    """
    j = torch.arange(1, frames + 1, dtype=torch.float64)
    return (0.5 - 0.5 * torch.cos(math.pi * j / (frames + 1))).to(dtype)


def _window_rows(values: Tensor, win: Window, window: int) -> Tensor:
    """Frames of ``values`` ``[T, ...]`` in ``win``, zero-padded to ``[window, ...]``."""
    rows = values[win.start : win.start + win.valid]
    if win.valid == window:
        return rows
    return torch.cat([rows, rows.new_zeros(window - win.valid, *rows.shape[1:])])


def window_batch(
    clips: Sequence[ClipInputs],
    rows: Sequence[int],
    windows: Sequence[Window],
    seeds: Sequence[Tensor],
    window: int,
) -> dict[str, Tensor]:
    """The denoiser's ``cond`` for one window of each clip in ``rows``.

    Returns ``"speaker"`` [B] long, ``"seed"`` [B, S, Dx], ``"mask"`` [B, W] bool (False on
    padding) and, when the clips have them, ``"audio"`` [B, W, Da] and ``"text"`` [B, W, Dt].
    """
    mask = torch.zeros(len(rows), window, dtype=torch.bool)
    for b, win in enumerate(windows):
        mask[b, : win.valid] = True
    cond = {
        "speaker": torch.tensor([clips[i].speaker for i in rows], dtype=torch.long),
        "seed": torch.stack([seeds[i] for i in rows]),
        "mask": mask,
    }
    for key in ("audio", "text"):
        values = [getattr(clips[i], key) for i in rows]
        if values[0] is not None:
            cond[key] = torch.stack(
                [_window_rows(v, win, window) for v, win in zip(values, windows, strict=True)]
            )
    for key in clips[rows[0]].frames if rows else ():
        values = [clips[i].frames[key] for i in rows]
        cond[key] = torch.stack(
            [_window_rows(v, win, window) for v, win in zip(values, windows, strict=True)]
        )
    return cond


def _stitch(out: Tensor, x0: Tensor, win: Window, first: bool, fade: Tensor) -> None:
    """Write window output ``x0`` ``[W, Dx]`` into the clip ``out`` ``[T, Dx]`` in place,
    blending the overlap with the new window's weights ``fade`` ``[overlap]``."""
    if first:
        out[: win.valid] = x0[: win.valid]
        return
    s = fade.shape[0]
    overlap = slice(win.start, win.start + s)
    w = fade[:, None]
    out[overlap] = (1.0 - w) * out[overlap] + w * x0[:s]
    out[win.start + s : win.start + win.valid] = x0[s : win.valid]


def sample_windows(
    clips: Sequence[ClipInputs],
    denoise: Denoise,
    window: int,
    seed_frames: int,
    batch: int = 16,
    device: torch.device | str = "cpu",
    on_window: Callable[[int, int, list[int]], None] | None = None,
    protocol: Protocol | None = None,
) -> list[Tensor]:
    """Generate every clip in full, autoregressively over window index, batched across clips.

    Args:
        clips: the clips' inputs (seed ``[S, Dx]`` with ``S == seed_frames``).
        denoise: ``denoise(cond, rows) -> x0 [B, W, Dx]``; ``cond`` is on ``device``.
        window, seed_frames: W and S of the model.
        batch: most windows per ``denoise`` call.
        device: where the conditions go.
        on_window: called as ``on_window(k, count, rows)`` before each call (progress).
        protocol: how windows join (default: ADM's, overlap S with a raised-cosine blend).

    Returns:
        Per clip, ``[T, Dx]`` float32 on the CPU (normalised units, as the model outputs).
    """
    protocol = protocol or Protocol()
    if batch <= 0:
        raise ValueError(f"batch must be positive, got {batch}")
    overlap = seed_frames if protocol.overlap is None else int(protocol.overlap)
    if overlap < seed_frames:
        raise ValueError(f"overlap {overlap} is shorter than the {seed_frames} seed frames")
    plans = [plan_windows(c.num_frames, window, overlap) for c in clips]
    seeds: list[Tensor] = []
    for clip in clips:
        if clip.seed.shape[0] != seed_frames:
            raise ValueError(
                f"{clip.stem}: seed has {clip.seed.shape[0]} frames, the model {seed_frames}"
            )
        seeds.append(clip.seed.float())
    dim = seeds[0].shape[1] if seeds else 0
    outputs = [torch.zeros(c.num_frames, dim) for c in clips]
    fade = seam_weights(protocol.seam, overlap)
    tails: list[Tensor | None] = [None] * len(clips)  # the previous window's last frames
    count = max((len(p) for p in plans), default=0)
    for k in range(count):
        active = [i for i, plan in enumerate(plans) if len(plan) > k]
        for lo in range(0, len(active), batch):
            rows = active[lo : lo + batch]
            if on_window is not None:
                on_window(k, count, rows)
            wins = [plans[i][k] for i in rows]
            cond = window_batch(clips, rows, wins, seeds, window)
            if protocol.seam == "inpaint" and k > 0 and overlap > 0:
                cond.update(_known_overlap([tails[i] for i in rows], window, dim, overlap))
            cond = {key: value.to(device) for key, value in cond.items()}
            x0 = denoise(cond, rows).detach().float().cpu()
            if tuple(x0.shape) != (len(rows), window, dim):
                raise ValueError(
                    f"denoiser returned {list(x0.shape)}, expected {[len(rows), window, dim]}"
                )
            for b, i in enumerate(rows):
                _stitch(outputs[i], x0[b], wins[b], k == 0, fade)
                # The next window's seed is this window's generated tail (DSG+); a window
                # followed by another is always full, so frames W-S..W-1 are real.
                seeds[i] = x0[b, window - seed_frames :].clone()
                tails[i] = x0[b, window - overlap :].clone()
    return outputs


def _known_overlap(
    tails: Sequence[Tensor], window: int, dim: int, overlap: int
) -> dict[str, Tensor]:
    """``known`` ``[B, W, Dx]`` (the previous windows' tails on the first ``overlap`` frames,
    zeros after) and ``known_mask`` ``[B, W]`` (True on those frames), for in-painting."""
    known = torch.zeros(len(tails), window, dim)
    mask = torch.zeros(len(tails), window, dtype=torch.bool)
    for b, tail in enumerate(tails):
        known[b, :overlap] = tail
        mask[b, :overlap] = True
    return {"known": known, "known_mask": mask}
