"""Onset block: a 0/1 flag at the motion frame nearest each acoustic onset (1 dim).

Onsets are librosa's (``onset_strength`` spectral flux on the log-mel bands, then
``onset_detect`` peak picking), as DiffuseStyleGesture+ and BEAT's Beat Align use them. The
strength envelope is computed from the log-mel block already at hand rather than from a new
spectrogram. With ``center=True`` librosa shifts the envelope by ``n_fft / (2 hop)`` frames so
that an onset is reported at the time its sound starts, not when it first enters a window.
"""

from __future__ import annotations

import numpy as np

from adm.features.align import events_to_frames
from adm.features.config import AudioFeatureConfig
from adm.jit import load_librosa


def onset_times(log_mel_db: np.ndarray, config: AudioFeatureConfig) -> np.ndarray:
    """Onset times in seconds, ``[K]``, from the log-mel block ``[F, n_mels]`` (dB).

    Silent or constant audio gives no onsets.
    """
    librosa = load_librosa()
    envelope = librosa.onset.onset_strength(
        S=np.ascontiguousarray(log_mel_db.T),
        sr=config.sample_rate,
        hop_length=config.hop_length,
        n_fft=config.n_fft,
        center=True,
    )
    if not np.any(envelope > 0):
        return np.zeros(0, dtype=np.float64)
    return librosa.onset.onset_detect(
        onset_envelope=envelope,
        sr=config.sample_rate,
        hop_length=config.hop_length,
        units="time",
        backtrack=False,
    )


def onset_flag(times: np.ndarray, num_frames: int, fps: float) -> np.ndarray:
    """Onset block ``[T, 1]`` float32: 1 at frame ``round(t * fps)`` for each onset time."""
    return events_to_frames(times, num_frames, fps)[:, None]
