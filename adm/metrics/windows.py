"""Fixed-length windows cut from sequences (FGD windows, face-VAE windows, training batches).

metrics.md: a sequence ``x [T, D]`` gives ``N = (T - L) // stride + 1`` windows of ``L``
frames starting at frames ``0, stride, 2 stride, ...`` (none when ``T < L``), as BEAT/CaMN cut
test sequences for FGD (stride 10) and SAiD encodes every window (stride 1).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def num_windows(num_frames: int, length: int, stride: int) -> int:
    """``(T - L) // stride + 1`` windows of ``length`` in ``num_frames`` frames (0 if too short)."""
    if length < 1 or stride < 1:
        raise ValueError(f"window length and stride must be >= 1, got {length} and {stride}")
    return 0 if num_frames < length else (num_frames - length) // stride + 1


def sliding_windows(x: np.ndarray, length: int, stride: int) -> np.ndarray:
    """Windows ``[N, length, D]`` of ``x [T, D]`` (a copy; ``[0, length, D]`` when ``T < L``)."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"expected a sequence [T, D], got shape {x.shape}")
    n = num_windows(x.shape[0], length, stride)
    if n == 0:
        return np.zeros((0, length, x.shape[1]), dtype=x.dtype)
    view = np.lib.stride_tricks.sliding_window_view(x, length, axis=0)  # [T-L+1, D, L]
    return np.ascontiguousarray(view[::stride][:n].transpose(0, 2, 1))


class SequenceWindows:
    """All windows of a list of sequences, gathered on demand (no copy of the whole set).

    Behaves like a read-only array ``[N, length, D]`` for ``len()``, ``shape`` and integer
    (array) indexing, so training loops can draw random batches from hours of motion without
    materialising every overlapping window.

    Args:
        sequences: arrays ``[T_i, D]`` with a common ``D``.
        length: window length ``L``.
        stride: step between window starts within a sequence.
    """

    def __init__(self, sequences: Sequence[np.ndarray], length: int, stride: int):
        self.sequences = [np.asarray(s, dtype=np.float32) for s in sequences]
        dims = {s.shape[1] for s in self.sequences if s.ndim == 2}
        if len(dims) != 1 or any(s.ndim != 2 for s in self.sequences):
            raise ValueError("SequenceWindows needs sequences [T, D] with one common D")
        self.length = length
        self.stride = stride
        counts = [num_windows(len(s), length, stride) for s in self.sequences]
        self._seq = np.repeat(np.arange(len(counts)), counts)
        self._start = np.concatenate([np.arange(c) * stride for c in counts] + [np.zeros(0, int)])
        self.shape = (int(sum(counts)), length, dims.pop())

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: np.ndarray | Sequence[int] | int) -> np.ndarray:
        idx = np.atleast_1d(np.asarray(index, dtype=np.int64))
        out = np.empty((len(idx), self.length, self.shape[2]), dtype=np.float32)
        for row, i in enumerate(idx):
            s, start = self._seq[i], self._start[i]
            out[row] = self.sequences[s][start : start + self.length]
        return out if np.ndim(index) else out[0]
