"""Prosody block: energy, d-energy, pitch, d-pitch (4 dims, DiffuseStyleGesture+ layout).

- energy: frame power in dB, ``10 log10(mean(x^2) + 1e-10)`` over a ``win_length`` window
  centred on each analysis frame (digital silence gives -100 dB, never -inf).
- pitch: fundamental frequency in Hz from a vectorised YIN tracker (de Cheveigne and
  Kawahara, 2002: difference function, cumulative mean normalised difference, absolute
  threshold, parabolic refinement); 0 Hz when unvoiced, as Praat reports it. Every frame is
  processed at once with FFT cross-correlations, so a minute of audio takes tens of
  milliseconds (``librosa.pyin`` takes tens of seconds).
- d-energy, d-pitch: time derivatives per second on the analysis grid (central differences).
  d-pitch is 0 wherever a neighbour is unvoiced, so voicing on/offsets do not read as
  swoops of hundreds of Hz.

All four share the acoustic grid: frame ``j`` is centred at ``j * hop / sr`` seconds.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

from adm.features.config import AudioFeatureConfig

#: Floor added to the frame power before the log (silence -> -100 dB).
POWER_FLOOR = 1e-10
#: Frames quieter than this (dB re full scale) are unvoiced whatever YIN finds: the
#: normalised difference of near-silence is dominated by rounding noise.
VOICING_FLOOR_DB = -80.0
#: Frames analysed per FFT batch, bounding memory on long (10-minute) takes.
_BLOCK = 4096


def centred_frames(audio: np.ndarray, length: int, hop: int, num_frames: int) -> np.ndarray:
    """Frames ``[F, length]`` with frame ``j`` centred on sample ``j * hop`` (zero padded)."""
    audio = np.asarray(audio, dtype=np.float32)
    half = length // 2
    needed = (num_frames - 1) * hop + length
    padded = np.zeros(max(needed, half + len(audio)), dtype=np.float32)
    padded[half : half + len(audio)] = audio
    windows = np.lib.stride_tricks.sliding_window_view(padded, length)
    return windows[: (num_frames - 1) * hop + 1 : hop]


def energy_db(audio: np.ndarray, config: AudioFeatureConfig, num_frames: int) -> np.ndarray:
    """Frame power in dB, ``[F]`` float64."""
    frames = centred_frames(audio, config.win_length, config.hop_length, num_frames)
    power = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / config.win_length
    return 10.0 * np.log10(power + POWER_FLOOR)


def _yin_block(frames: np.ndarray, window: int, tau_min: int, tau_max: int, thr: float):
    """YIN on a block of frames ``[B, window + tau_max]``; returns ``(lag [B], voiced [B])``."""
    length = frames.shape[1]
    n_fft = scipy.fft.next_fast_len(length, real=True)
    # float32 throughout: the FFTs run several times faster than in float64, and the dips
    # YIN looks for (d'(tau) < 0.15) are far above float32 rounding.
    x = np.ascontiguousarray(frames, dtype=np.float32)
    # r(tau) = sum_{n<W} x[n] x[n+tau]: correlate the frame with its first W samples. No
    # circular wrap: n + tau <= W - 1 + tau_max = length - 1 < n_fft.
    spec_all = scipy.fft.rfft(x, n=n_fft, axis=1)
    spec_head = scipy.fft.rfft(x[:, :window], n=n_fft, axis=1)
    corr = scipy.fft.irfft(np.conj(spec_head) * spec_all, n=n_fft, axis=1)[:, : tau_max + 1]
    # Energies of x[tau : tau + W] for every lag from a running sum of squares.
    cum = np.zeros((len(x), length + 1), dtype=np.float32)
    np.cumsum(x * x, axis=1, out=cum[:, 1:])
    lags = np.arange(tau_max + 1)
    energy_lag = cum[:, window : window + tau_max + 1] - cum[:, : tau_max + 1]
    diff = np.maximum(energy_lag[:, :1] + energy_lag - 2.0 * corr, 0.0)  # d(tau), d(0) = 0
    # Cumulative mean normalised difference d'(tau) = d(tau) * tau / sum_{k<=tau} d(k).
    running = np.cumsum(diff[:, 1:], axis=1)
    cmnd = np.ones_like(diff)
    cmnd[:, 1:] = diff[:, 1:] * lags[1:].astype(np.float32) / np.maximum(running, 1e-12)
    search = cmnd[:, tau_min : tau_max + 1]
    below = search < thr
    voiced = below.any(axis=1)
    first = np.argmax(below, axis=1)
    # From the first lag under the threshold, walk down to the bottom of that dip: the first
    # lag at or after it whose successor is not lower.
    rising = np.ones_like(below)
    rising[:, :-1] = search[:, 1:] >= search[:, :-1]
    cols = np.arange(search.shape[1])
    best = np.argmax(rising & (cols[None, :] >= first[:, None]), axis=1)
    tau = best + tau_min
    # Parabolic interpolation through (tau - 1, tau, tau + 1) for a sub-sample period.
    rows = np.arange(len(x))
    left = cmnd[rows, np.clip(tau - 1, 0, tau_max)]
    mid = cmnd[rows, tau]
    right = cmnd[rows, np.clip(tau + 1, 0, tau_max)]
    denom = left - 2.0 * mid + right
    shift = np.where(
        np.abs(denom) > 1e-12, 0.5 * (left - right) / np.where(denom == 0, 1, denom), 0
    )
    lag = tau + np.clip(shift, -1.0, 1.0)
    return lag, voiced


def pitch_hz(
    audio: np.ndarray, config: AudioFeatureConfig, num_frames: int, energy: np.ndarray
) -> np.ndarray:
    """Fundamental frequency ``[F]`` in Hz (0 where unvoiced) on the acoustic grid.

    Args:
        audio: ``[N]`` float32 waveform at ``config.sample_rate``.
        config: pitch range, threshold, window and hop.
        num_frames: F, the number of analysis frames.
        energy: ``[F]`` frame power in dB (:func:`energy_db`) for the silence gate.
    """
    sr = config.sample_rate
    tau_min = max(2, int(np.floor(sr / config.pitch_fmax)))
    tau_max = int(np.ceil(sr / config.pitch_fmin))
    # The integration window must hold at least one period of the lowest pitch.
    window = max(config.win_length, tau_max)
    frames = centred_frames(audio, window + tau_max, config.hop_length, num_frames)
    f0 = np.zeros(num_frames, dtype=np.float64)
    for start in range(0, num_frames, _BLOCK):
        stop = min(start + _BLOCK, num_frames)
        lag, voiced = _yin_block(
            frames[start:stop], window, tau_min, tau_max, config.pitch_threshold
        )
        voiced &= energy[start:stop] > VOICING_FLOOR_DB
        f0[start:stop] = np.where(voiced, sr / np.maximum(lag, 1.0), 0.0)
    return f0


def derivative(values: np.ndarray, spacing: float) -> np.ndarray:
    """Central-difference time derivative ``[F]`` per second of frames ``spacing`` s apart.

    A constant gives exactly 0; a single frame gives 0.
    """
    if len(values) < 2:
        return np.zeros_like(values, dtype=np.float64)
    return np.gradient(values, spacing)


def pitch_derivative(f0: np.ndarray, spacing: float) -> np.ndarray:
    """d-pitch in Hz/s, 0 where the frame or a neighbour is unvoiced."""
    d = derivative(f0, spacing)
    voiced = f0 > 0
    ok = voiced.copy()
    ok[1:] &= voiced[:-1]
    ok[:-1] &= voiced[1:]
    return np.where(ok, d, 0.0)


def prosody(audio: np.ndarray, config: AudioFeatureConfig, num_frames: int) -> np.ndarray:
    """Prosody block ``[F, 4]`` float32: energy (dB), d-energy (dB/s), pitch (Hz), d-pitch (Hz/s).

    ``num_frames`` is the acoustic grid's frame count, ``1 + len(audio) // hop``.
    """
    spacing = config.hop_length / config.sample_rate
    energy = energy_db(audio, config, num_frames)
    f0 = pitch_hz(audio, config, num_frames, energy)
    out = np.stack([energy, derivative(energy, spacing), f0, pitch_derivative(f0, spacing)], axis=1)
    return out.astype(np.float32)
