"""Refusing broken motion: a metric never returns a number computed from NaN or inf.

Without this check NaN frames pass silently through several metrics (SRGR counts them as
misses, Beat Align's speed minima skip them, L1Div turns NaN). Every metric that takes motion
calls :func:`require_finite` first; the evaluate stage checks each generated sample as it is
read, so its error names the sample file as well (:mod:`adm.evaluation.inputs`).
"""

from __future__ import annotations

import numpy as np


class NonFiniteError(ValueError):
    """Motion holds NaN or inf. ``frame`` is the first bad frame (row), ``columns`` the bad
    columns of that frame, ``what`` names the array."""

    def __init__(self, what: str, frame: int, columns: list[int], frames: int):
        self.what, self.frame, self.columns, self.frames = what, frame, columns, frames
        shown = ", ".join(str(c) for c in columns[:8]) + (" ..." if len(columns) > 8 else "")
        super().__init__(
            f"{what}: frame {frame} (of {frames}) holds NaN or inf (column(s) {shown})"
        )


def first_non_finite(x: np.ndarray) -> tuple[int, list[int]] | None:
    """``(frame, columns)`` of the first row of ``x [T, ...]`` with a NaN or inf, else None."""
    x = np.asarray(x)
    bad = ~np.isfinite(x.reshape(len(x), -1)) if x.ndim > 1 else ~np.isfinite(x)[:, None]
    rows = np.flatnonzero(bad.any(axis=1))
    if len(rows) == 0:
        return None
    frame = int(rows[0])
    return frame, [int(c) for c in np.flatnonzero(bad[frame])]


def require_finite(x: np.ndarray, what: str) -> None:
    """Raise :class:`NonFiniteError` when ``x [T, ...]`` holds NaN or inf."""
    x = np.asarray(x)
    if x.ndim == 0 or np.isfinite(x).all():
        return
    frame, columns = first_non_finite(x)  # type: ignore[misc]
    raise NonFiniteError(what, frame, columns, len(x))
