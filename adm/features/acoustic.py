"""Spectral blocks of the audio condition: log-mel (64) and MFCC (40).

Both come from one short-time power spectrogram (Hann window, centred frames, so frame ``j`` is
centred at ``j * hop / sr`` seconds): mel power -> dB gives the log-mel block, and the DCT-II
(orthonormal) of those same dB bands gives the MFCCs, as ``librosa.feature.mfcc(S=...)`` defines
them. Sharing the spectrogram keeps the spectral blocks a few milliseconds per minute of audio.
The layout (MFCC 40, log-mel 64) is DiffuseStyleGesture+'s, which the paper adopts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from adm.features.config import AudioFeatureConfig
from adm.jit import load_librosa

#: Floor of the mel power before the log, so that digital silence is finite (-100 dB).
POWER_FLOOR = 1e-10


@dataclass(frozen=True)
class Spectrogram:
    """A power spectrogram and the time of each frame.

    Attributes:
        power: ``[n_fft // 2 + 1, F]`` power (magnitude squared).
        times: ``[F]`` frame centre times in seconds.
    """

    power: np.ndarray
    times: np.ndarray


def frame_times(num_frames: int, hop_length: int, sample_rate: int) -> np.ndarray:
    """Centre times ``[F]`` of centred analysis frames: ``j * hop / sr`` seconds."""
    return np.arange(num_frames, dtype=np.float64) * hop_length / sample_rate


def power_spectrogram(audio: np.ndarray, config: AudioFeatureConfig) -> Spectrogram:
    """Short-time power spectrum of ``audio`` ``[N]`` (float32, ``config.sample_rate``).

    Frames are centred (zero padding of ``n_fft / 2`` at both ends), so there are
    ``1 + N // hop`` frames and the first is centred on sample 0.
    """
    stft = load_librosa().stft(
        np.asarray(audio, dtype=np.float32),
        n_fft=config.n_fft,
        hop_length=config.hop_length,
        win_length=config.win_length,
        window="hann",
        center=True,
        pad_mode="constant",
    )
    power = stft.real**2 + stft.imag**2
    return Spectrogram(power, frame_times(power.shape[1], config.hop_length, config.sample_rate))


@lru_cache(maxsize=8)
def _mel_basis(
    sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None
) -> np.ndarray:
    # Slaney-normalised triangular filters (librosa's default), [n_mels, n_fft // 2 + 1].
    return load_librosa().filters.mel(
        sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax
    )


def log_mel(spec: Spectrogram, config: AudioFeatureConfig) -> np.ndarray:
    """Log-mel block ``[F, n_mels]`` in dB (``10 log10(max(mel power, 1e-10))``).

    No per-clip ``top_db`` clipping: levels stay comparable across clips.
    """
    basis = _mel_basis(config.sample_rate, config.n_fft, config.n_mels, config.fmin, config.fmax)
    mel = basis @ spec.power
    db = load_librosa().power_to_db(mel, ref=1.0, amin=POWER_FLOOR, top_db=None)
    return np.ascontiguousarray(db.T, dtype=np.float32)


def mfcc(log_mel_db: np.ndarray, config: AudioFeatureConfig) -> np.ndarray:
    """MFCC block ``[F, n_mfcc]``: orthonormal DCT-II over the dB mel bands ``[F, n_mels]``."""
    coeffs = load_librosa().feature.mfcc(
        S=log_mel_db.T, n_mfcc=config.n_mfcc, dct_type=2, norm="ortho"
    )
    return np.ascontiguousarray(coeffs.T, dtype=np.float32)
