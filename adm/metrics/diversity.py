"""Gesture diversity, the two named variants of metrics.md (both reported).

- :func:`diversity` (Li et al. 2021, "Audio2Gestures", the variant the paper cites): one
  feature vector per generated window (the FGD encoder's ``mu``), z-normalised with the mean
  and standard deviation of the ground-truth features, then the mean pairwise L2 distance
  ``2 / (n (n - 1)) * sum_{i<j} |f_i - f_j|``.
- :func:`l1div` (BEAT/CaMN, EMAGE): per sequence ``x [T, D]`` (denormalised motion), the sum
  over frames and dims of ``|x_t,d - mean_t(x)_d|``; sums and frame counts are accumulated over
  sequences and divided, i.e. the frame-weighted mean of ``sum_d |x_t,d - mean_t(x)_d|``.

  ``compat="beat"`` is the form BEAT's test code reports (the field's scale): the sequence is
  Euler degrees of the 47 joints at 15 fps (``fps`` is decimated to 15 by keeping every k-th
  frame, as BEAT's data are), cut into windows of 34 frames at stride 10
  (``(T - 34) // 10 + 1`` windows, the clip's tail beyond the last window dropped); the windows'
  frames are stacked (overlapping frames count once per window) and the deviation is taken
  from the mean of that stack; sums and stacked-frame counts accumulate over clips. A clip
  shorter than one window contributes nothing (counted in ``skipped``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
import torch

from adm.metrics.finite import require_finite

Compat = Literal["beat"] | None
#: BEAT's test protocol for L1Div: 15 fps, windows of 34 frames every 10 frames.
BEAT_FPS = 15.0
BEAT_WINDOW = 34
BEAT_STRIDE = 10


def mean_pairwise_distance(x: np.ndarray, block: int = 1024) -> float:
    """Mean L2 distance over pairs ``i < j`` of rows of ``x [n, d]`` (exact, O(n^2 d)).

    Computed from Gram blocks (``|a-b|^2 = |a|^2 + |b|^2 - 2 a.b``) in float64 torch (all
    threads, in place), so ten thousand windows take about a second and memory stays at
    ``block x n``.
    """
    x = torch.as_tensor(np.asarray(x, dtype=np.float64))
    n = x.shape[0]
    if n < 2:
        raise ValueError(f"diversity needs at least 2 feature rows, got {n}")
    sq = torch.einsum("ij,ij->i", x, x)
    total = torch.zeros((), dtype=torch.float64)
    for start in range(0, n, block):
        rows = x[start : start + block]
        b = len(rows)
        # Columns from ``start`` on: pairs with an earlier row were counted in earlier blocks.
        d2 = torch.addmm(
            sq[start : start + b, None] + sq[None, start:], rows, x[start:].T, alpha=-2.0
        )
        dist = d2.clamp_(min=0.0).sqrt_()
        total += torch.triu(dist[:, :b], diagonal=1).sum() + dist[:, b:].sum()
    return float(total) * 2.0 / (n * (n - 1))


def diversity(features: np.ndarray, gt_features: np.ndarray, *, eps: float = 1e-8) -> float:
    """Mean pairwise L2 distance of ``features [n, d]`` z-normalised by ``gt_features [m, d]``.

    The ground-truth mean and (population) standard deviation are per feature dim; a std
    below ``eps`` is floored to ``eps``.
    """
    f = np.asarray(features, dtype=np.float64)
    g = np.asarray(gt_features, dtype=np.float64)
    if f.ndim != 2 or g.ndim != 2 or f.shape[1] != g.shape[1]:
        raise ValueError(f"diversity needs [n, d] and [m, d] features, got {f.shape}, {g.shape}")
    if g.shape[0] < 2:
        raise ValueError(f"diversity needs at least 2 ground-truth rows, got {g.shape[0]}")
    return diversity_from_stats(f, g.mean(axis=0), g.std(axis=0), eps=eps)


def diversity_from_stats(
    features: np.ndarray, gt_mean: np.ndarray, gt_std: np.ndarray, *, eps: float = 1e-8
) -> float:
    """:func:`diversity` with the ground truth's per-dim mean ``[d]`` and std ``[d]`` given."""
    f = np.asarray(features, dtype=np.float64)
    mean, std = np.asarray(gt_mean, np.float64), np.asarray(gt_std, np.float64)
    if f.ndim != 2 or mean.shape != (f.shape[1],) or std.shape != mean.shape:
        raise ValueError(
            f"diversity needs [n, d] features and [d] statistics, got {f.shape}, "
            f"{mean.shape}, {std.shape}"
        )
    return mean_pairwise_distance((f - mean) / np.maximum(std, eps))


def beat_windows(
    x: np.ndarray,
    fps: float,
    *,
    target_fps: float = BEAT_FPS,
    length: int = BEAT_WINDOW,
    stride: int = BEAT_STRIDE,
) -> np.ndarray:
    """BEAT's test windows of ``x [T, D]`` at ``fps``, stacked: ``[N * length, D]``.

    ``x`` is decimated to ``target_fps`` (every ``fps / target_fps``-th frame from frame 0;
    the ratio must be a whole number), then ``N = (T' - length) // stride + 1`` windows start
    every ``stride`` frames (``N = 0`` for a clip shorter than one window).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"l1div expects a sequence [T, D], got shape {x.shape}")
    step = fps / target_fps
    if fps <= 0 or step < 1 or abs(step - round(step)) > 1e-9:
        raise ValueError(
            f"l1div (BEAT form) decimates to {target_fps:g} fps by keeping every k-th frame; "
            f"{fps:g} fps is not a whole multiple of it"
        )
    x = x[:: int(round(step))]
    count = (len(x) - length) // stride + 1 if len(x) >= length else 0
    if count == 0:
        return np.zeros((0, x.shape[1]))
    starts = np.arange(count) * stride
    return x[starts[:, None] + np.arange(length)].reshape(count * length, x.shape[1])


class L1Div:
    """L1 diversity accumulator: ``update(x [T, D], fps)`` per sequence, then ``compute()``.

    Args:
        compat: ``None`` (whole sequences of denormalised motion, any representation) or
            ``"beat"`` (BEAT's test form on Euler degrees; see the module docstring).
        target_fps, length, stride: the BEAT form's decimated rate and windows.
    """

    def __init__(
        self,
        compat: Compat = None,
        *,
        target_fps: float = BEAT_FPS,
        length: int = BEAT_WINDOW,
        stride: int = BEAT_STRIDE,
    ) -> None:
        if compat not in (None, "beat"):
            raise ValueError(f"l1div compat must be None or 'beat', got {compat!r}")
        self.compat = compat
        self.target_fps, self.length, self.stride = target_fps, length, stride
        self.total = 0.0
        self.frames = 0
        self.skipped = 0

    def update(self, x: np.ndarray, fps: float | None = None) -> None:
        """Add one sequence ``x [T, D]`` (the BEAT form needs its ``fps``)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"l1div expects a sequence [T, D], got shape {x.shape}")
        require_finite(x, "l1div input")
        if self.compat == "beat":
            if fps is None:
                raise ValueError("l1div (BEAT form) needs the sequence's fps")
            x = beat_windows(
                x, fps, target_fps=self.target_fps, length=self.length, stride=self.stride
            )
        if len(x) == 0:
            self.skipped += 1
            return
        self.total += float(np.abs(x - x.mean(axis=0)).sum())
        self.frames += len(x)

    def compute(self) -> float:
        if self.frames == 0:
            raise ValueError("l1div: no frames seen")
        return self.total / self.frames


def l1div(
    sequences: Iterable[np.ndarray], *, compat: Compat = None, fps: float | None = None
) -> float:
    """L1 diversity of sequences ``[T_i, D]`` (see the module docstring; the BEAT form takes
    Euler degrees and their ``fps``)."""
    acc = L1Div(compat)
    for x in sequences:
        acc.update(x, fps)
    return acc.compute()
