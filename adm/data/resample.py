"""Frame-rate conversion of motion streams (beat.md, "Resampling to 30 fps").

Peers decimate: keep every k-th frame with no filtering (BVH 120 -> 30 fps keeps every 4th
frame, face 60 -> 30 every 2nd). That is the faithful default. ``filtered`` applies a polyphase
low-pass (scipy ``resample_poly``) first, for any rational ratio; Euler angles stay on their
unwrapped branch, so filtering them does not cross a wrap-around.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Literal

import numpy as np


def decimation_step(source_fps: float, target_fps: float) -> int:
    """The integer k with ``source_fps = k * target_fps``; ValueError when there is none."""
    ratio = source_fps / target_fps
    step = round(ratio)
    if step < 1 or abs(ratio - step) > 1e-6 * ratio:
        raise ValueError(
            f"cannot decimate {source_fps:g} fps to {target_fps:g} fps: the ratio {ratio:.4f} is "
            "not an integer (use data.prepare.resample: filtered)"
        )
    return step


def resample_frames(
    frames: np.ndarray,
    source_fps: float,
    target_fps: float,
    method: Literal["decimate", "filtered"] = "decimate",
) -> np.ndarray:
    """Resample ``frames`` [T, D] from ``source_fps`` to ``target_fps``.

    Returns:
        [T', D] float32; with ``decimate`` T' = ceil(T / k) and frame i is source frame i * k,
        so time i / target_fps is preserved exactly.
    """
    frames = np.asarray(frames)
    if abs(source_fps - target_fps) < 1e-9:
        return frames.astype(np.float32, copy=False)
    if method == "decimate":
        return np.ascontiguousarray(frames[:: decimation_step(source_fps, target_fps)], np.float32)
    from scipy.signal import resample_poly  # slow to import; only needed here

    ratio = Fraction(target_fps / source_fps).limit_denominator(1000)
    out = resample_poly(frames.astype(np.float64), ratio.numerator, ratio.denominator, axis=0)
    return out.astype(np.float32)
