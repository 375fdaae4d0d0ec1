"""Gesture diversity, the two named variants of metrics.md (both reported).

- :func:`diversity` (Li et al. 2021, "Audio2Gestures", the variant the paper cites): one
  feature vector per generated window (the FGD encoder's ``mu``), z-normalised with the mean
  and standard deviation of the ground-truth features, then the mean pairwise L2 distance
  ``2 / (n (n - 1)) * sum_{i<j} |f_i - f_j|``.
- :func:`l1div` (BEAT/CaMN, EMAGE): per sequence ``x [T, D]`` (denormalised motion), the sum
  over frames and dims of ``|x_t,d - mean_t(x)_d|``; sums and frame counts are accumulated over
  sequences and divided, i.e. the frame-weighted mean of ``sum_d |x_t,d - mean_t(x)_d|``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch


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


class L1Div:
    """BEAT's L1 diversity accumulator: ``update(x [T, D])`` per sequence, then ``compute()``."""

    def __init__(self) -> None:
        self.total = 0.0
        self.frames = 0

    def update(self, x: np.ndarray) -> None:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"l1div expects a sequence [T, D], got shape {x.shape}")
        if len(x) == 0:
            return
        self.total += float(np.abs(x - x.mean(axis=0)).sum())
        self.frames += len(x)

    def compute(self) -> float:
        if self.frames == 0:
            raise ValueError("l1div: no frames seen")
        return self.total / self.frames


def l1div(sequences: Iterable[np.ndarray]) -> float:
    """BEAT/EMAGE L1 diversity of denormalised sequences ``[T_i, D]`` (see module docstring)."""
    acc = L1Div()
    for x in sequences:
        acc.update(x)
    return acc.compute()
