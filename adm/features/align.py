"""Map feature frames to motion frames by time, never by index ratios.

Motion frame ``i`` of a prepared clip sits at ``i / fps`` seconds and audio sample 0 at time 0
(BEAT's streams start aligned, beat.md). Each feature block is computed on its own grid (10 ms
acoustic frames, 20 ms WavLM frames) whose frame times are known exactly; a motion frame takes
the value at its own time, interpolated between the two source frames around it. Because every
lookup goes through absolute time, the mapping cannot drift, whatever the clip length.

The prepared clip's ``T`` is authoritative: :func:`fit_waveform` cuts or zero-pads the waveform
to the clip's duration ``T / fps`` before analysis, so frames past the end of a shorter
recording see silence (their features are those of silence, not a repeated last frame).
"""

from __future__ import annotations

import numpy as np


def motion_times(num_frames: int, fps: float) -> np.ndarray:
    """Times of motion frames, ``[T]`` seconds: ``i / fps``."""
    return np.arange(num_frames, dtype=np.float64) / float(fps)


def clip_samples(num_frames: int, fps: float, sample_rate: int) -> int:
    """Number of audio samples spanning ``num_frames`` motion frames (``T / fps`` seconds)."""
    return int(round(num_frames * sample_rate / float(fps)))


def fit_waveform(audio: np.ndarray, num_samples: int) -> np.ndarray:
    """Cut ``audio`` ``[N]`` to ``num_samples`` or pad it with zeros (silence) at the end."""
    audio = np.asarray(audio, dtype=np.float32)
    if len(audio) >= num_samples:
        return audio[:num_samples]
    return np.concatenate([audio, np.zeros(num_samples - len(audio), dtype=np.float32)])


def interpolate_by_time(
    values: np.ndarray,
    source_times: np.ndarray,
    target_times: np.ndarray,
    mode: str = "linear",
) -> np.ndarray:
    """Sample frame values at new times, linearly interpolated or from the nearest frame.

    Args:
        values: ``[F, D]`` (or ``[F]``) values at ``source_times``.
        source_times: ``[F]`` strictly increasing times in seconds.
        target_times: ``[T]`` times to sample.
        mode: ``linear`` (continuous features) or ``nearest`` (features with jumps that a
            blend would invent values for, e.g. pitch that drops to 0 when unvoiced).

    Returns:
        ``[T, D]`` (or ``[T]``) float32. Times before the first or after the last source frame
        take that frame's value (the source grid covers the clip up to half a frame at
        each end).
    """
    values = np.asarray(values)
    squeeze = values.ndim == 1
    if squeeze:
        values = values[:, None]
    source_times = np.asarray(source_times, dtype=np.float64)
    if len(source_times) != len(values):
        raise ValueError(f"{len(values)} frames but {len(source_times)} frame times")
    if len(values) == 0:
        raise ValueError("cannot interpolate from zero frames")
    if len(values) == 1:
        out = np.repeat(values.astype(np.float32), len(target_times), axis=0)
        return out[:, 0] if squeeze else out
    t = np.clip(np.asarray(target_times, dtype=np.float64), source_times[0], source_times[-1])
    # Index of the source frame at or before each target time, and the fraction to the next.
    hi = np.clip(np.searchsorted(source_times, t, side="right"), 1, len(source_times) - 1)
    lo = hi - 1
    frac = (t - source_times[lo]) / (source_times[hi] - source_times[lo])
    if mode == "nearest":
        frac = (frac >= 0.5).astype(np.float64)
    elif mode != "linear":
        raise ValueError(f"mode must be 'linear' or 'nearest', got {mode!r}")
    out = values[lo] * (1.0 - frac)[:, None] + values[hi] * frac[:, None]
    out = out.astype(np.float32)
    return out[:, 0] if squeeze else out


def events_to_frames(event_times: np.ndarray, num_frames: int, fps: float) -> np.ndarray:
    """A ``[T]`` float32 0/1 flag, 1 at the motion frame nearest each event time (seconds).

    Events past the last frame (more than half a frame period after it) are dropped.
    """
    flag = np.zeros(num_frames, dtype=np.float32)
    idx = np.rint(np.asarray(event_times, dtype=np.float64) * fps).astype(np.int64)
    idx = idx[(idx >= 0) & (idx < num_frames)]
    flag[idx] = 1.0
    return flag
