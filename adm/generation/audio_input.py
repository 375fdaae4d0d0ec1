"""The user's recording: any file libsndfile reads (wav, flac, ogg, ...), any rate and channels.

The audio is read with ``soundfile`` in blocks, averaged to mono and resampled to the feature
rate with a polyphase filter (``scipy.signal.resample_poly``, as the training features were),
so memory is the mono waveform at the feature rate plus one block (a 10-minute file at 16 kHz is
38 MB). What cannot be used is refused with one line naming the file: unreadable, empty,
shorter than :data:`MIN_SECONDS`, or silent (peak below :data:`SILENCE_PEAK`).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adm.errors import BadInputError

MIN_SECONDS = 1.0
"""Shortest recording accepted: below a second there is no gesture to make."""

SILENCE_PEAK = 10 ** (-60 / 20)
"""A recording whose peak stays below -60 dBFS carries no speech to follow."""

_BLOCK = 1 << 18  # frames read at a time


@dataclass(frozen=True)
class Recording:
    """A mono waveform at ``sample_rate``.

    Attributes:
        samples: ``[N]`` float32 in [-1, 1].
        sample_rate: Hz.
        source_rate: the file's own rate; source_channels: its channel count.
        sha256: digest of the file's bytes.
        path: the file read.
    """

    samples: np.ndarray
    sample_rate: int
    source_rate: int
    source_channels: int
    sha256: str
    path: Path

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_recording(path: str | Path, sample_rate: int = 16000) -> Recording:
    """Read ``path`` as mono float32 at ``sample_rate``.

    Raises:
        BadInputError: the file is missing, not audio libsndfile reads, empty, shorter than
            a second, or silent; the message names the file.
    """
    import soundfile

    path = Path(path)
    if not path.is_file():
        raise BadInputError(path, "no such audio file")
    try:
        info = soundfile.info(str(path))
        blocks = [
            np.asarray(b, dtype=np.float64).reshape(len(b), -1).mean(axis=1)
            for b in soundfile.blocks(str(path), blocksize=_BLOCK, dtype="float64", always_2d=True)
        ]
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as err:
        raise BadInputError(path, f"cannot read it as audio ({err})") from None
    mono = np.concatenate(blocks) if blocks else np.zeros(0)
    if len(mono) == 0:
        raise BadInputError(path, "the audio is empty (no samples)")
    seconds = len(mono) / info.samplerate
    if seconds < MIN_SECONDS:
        raise BadInputError(
            path, f"the audio lasts {seconds:.3f} s; at least {MIN_SECONDS:g} s is needed"
        )
    if not np.isfinite(mono).all():
        raise BadInputError(path, "the audio holds non-finite samples")
    peak = float(np.abs(mono).max())
    if peak < SILENCE_PEAK:
        raise BadInputError(
            path, f"the audio is silent (peak {20 * math.log10(max(peak, 1e-12)):.0f} dBFS)"
        )
    if info.samplerate != sample_rate:
        from scipy.signal import resample_poly

        g = math.gcd(sample_rate, info.samplerate)
        mono = resample_poly(mono, sample_rate // g, info.samplerate // g)
    samples = np.clip(mono, -1.0, 1.0).astype(np.float32)
    return Recording(samples, sample_rate, int(info.samplerate), int(info.channels),
                     file_sha256(path), path)  # fmt: skip
