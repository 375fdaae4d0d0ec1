"""Load and write WAV audio: any PCM width or float, any rate, to float32 mono at a target rate.

BEAT v0.2.1 stores 16 kHz mono float32 WAV; other copies of the corpus hold int16 or 24-bit
integer PCM (``beat.md``). A small RIFF chunk parser (:func:`read_wav_info`) checks the header
and names what is wrong with a bad file (8-bit unsigned, 16/24/32-bit signed PCM, 32/64-bit
float, plain or ``WAVE_FORMAT_EXTENSIBLE`` headers are accepted); libsndfile (``soundfile``)
decodes the samples. Integers are scaled by ``2 ** (bits - 1)`` into ``[-1, 1)``, exactly as
libsndfile does for every width; channels are averaged; the rate is converted with a polyphase
filter (``scipy.signal.resample_poly``, exact rational ``up/down``).
"""

from __future__ import annotations

import io
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from adm.errors import BadClipError
from adm.io.atomic import atomic_path

PCM, IEEE_FLOAT, EXTENSIBLE = 0x0001, 0x0003, 0xFFFE
# Sample rates of real recordings; outside, the header is damaged (a rate of 1 Hz would make a
# minute of samples into days of audio, and resampling it would exhaust memory).
MIN_RATE, MAX_RATE = 1000, 768_000


@dataclass(frozen=True)
class WavInfo:
    """What the header of a WAV file says.

    Attributes:
        format_code: ``PCM`` (1) or ``IEEE_FLOAT`` (3), resolved through an extensible header.
        channels, sample_rate, bits: as declared.
        data_offset: byte offset of the first sample.
        num_frames: whole sample frames present (a short data chunk is cut to what exists).
    """

    format_code: int
    channels: int
    sample_rate: int
    bits: int
    data_offset: int
    num_frames: int

    @property
    def duration(self) -> float:
        return self.num_frames / self.sample_rate


def read_wav_info(path: str | Path) -> WavInfo:
    """Parse the RIFF/WAVE header of ``path`` without reading the samples.

    Raises:
        BadClipError: missing or empty file, not RIFF/WAVE, no ``fmt``/``data`` chunk,
            unsupported format code or sample width, zero samples.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        f = path.open("rb")
    except OSError as e:
        raise BadClipError(path, f"cannot read: {e.strerror or e}") from None
    with f:
        if size == 0:
            raise BadClipError(path, "empty file")
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise BadClipError(path, "not a WAV file: no RIFF/WAVE header")
        fmt: bytes | None = None
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            cid, csize = struct.unpack("<4sI", f.read(8))
            if cid == b"fmt ":
                fmt = f.read(min(csize, 40))
            elif cid == b"data":
                if fmt is None:
                    raise BadClipError(path, "'data' chunk comes before the 'fmt ' chunk")
                # Streaming writers leave the size 0 or 0xFFFFFFFF: trust the file length.
                available = size - pos - 8
                nbytes = available if csize in (0, 0xFFFFFFFF) else min(csize, available)
                return _info(path, fmt, pos + 8, nbytes)
            pos += 8 + csize + (csize & 1)  # chunks are padded to even sizes
    raise BadClipError(path, "no 'data' chunk" if fmt is not None else "no 'fmt ' chunk")


def _info(path: Path, fmt: bytes, offset: int, nbytes: int) -> WavInfo:
    if len(fmt) < 16:
        raise BadClipError(path, f"'fmt ' chunk is {len(fmt)} bytes, expected at least 16")
    code, channels, rate, _, block_align, bits = struct.unpack("<HHIIHH", fmt[:16])
    if code == EXTENSIBLE:
        if len(fmt) < 26:
            raise BadClipError(path, "WAVE_FORMAT_EXTENSIBLE header without a sub-format")
        code = struct.unpack("<H", fmt[24:26])[0]  # first 2 bytes of the sub-format GUID
    supported = {PCM: (8, 16, 24, 32), IEEE_FLOAT: (32, 64)}
    if code not in supported:
        raise BadClipError(path, f"unsupported WAV format code 0x{code:04X} (PCM or float only)")
    if bits not in supported[code]:
        raise BadClipError(path, f"unsupported sample width: {bits} bits for format {code}")
    if channels < 1 or not MIN_RATE <= rate <= MAX_RATE:
        raise BadClipError(
            path,
            f"bad header: {channels} channels at {rate} Hz (expected >= 1 channel at "
            f"{MIN_RATE}-{MAX_RATE} Hz)",
        )
    frame_bytes = channels * bits // 8
    if block_align not in (0, frame_bytes):
        raise BadClipError(path, f"block align {block_align} != {channels} x {bits // 8} bytes")
    frames = nbytes // frame_bytes
    if frames == 0:
        raise BadClipError(path, "zero samples in the 'data' chunk")
    return WavInfo(code, channels, rate, bits, offset, frames)


def wav_duration(path: str | Path) -> float:
    """Duration in seconds from the header alone (cheap)."""
    return read_wav_info(path).duration


#: libsndfile's name for each sample format the header parser accepts.
_SUBTYPES = {
    (PCM, 8): "PCM_U8",  # 8-bit WAV is unsigned, centred on 128
    (PCM, 16): "PCM_16",
    (PCM, 24): "PCM_24",
    (PCM, 32): "PCM_32",
    (IEEE_FLOAT, 32): "FLOAT",
    (IEEE_FLOAT, 64): "DOUBLE",
}


def _read_samples(path: Path, info: WavInfo) -> np.ndarray:
    """Samples ``[num_frames, channels]`` float64 in ``[-1, 1]``, decoded by libsndfile.

    The samples are handed to libsndfile as raw little-endian data from the offset and frame
    count the header parser found, so files it reads differently (a streaming writer's data
    size of 0, a truncated data chunk) load as the parser describes them.
    """
    import soundfile  # only needed here

    with path.open("rb") as f:
        f.seek(info.data_offset)
        raw = f.read(info.num_frames * info.channels * info.bits // 8)
    x, _ = soundfile.read(
        io.BytesIO(raw),
        dtype="float64",
        always_2d=True,
        format="RAW",
        subtype=_SUBTYPES[info.format_code, info.bits],
        endian="LITTLE",
        samplerate=info.sample_rate,
        channels=info.channels,
    )
    return x


def load_wav(path: str | Path, target_sr: int = 16000) -> np.ndarray:
    """Load a WAV file as mono float32 ``[N]`` in ``[-1, 1]`` at ``target_sr`` Hz.

    ``N = ceil(frames * target_sr / sample_rate)``. Channels are averaged. Values are clipped to
    ``[-1, 1]`` at the end (float files and resampling ripple may slightly exceed it).
    """
    path = Path(path)
    if target_sr < 1:
        raise ValueError(f"target_sr must be >= 1, got {target_sr}")
    info = read_wav_info(path)
    x = _read_samples(path, info).mean(axis=1)
    if not np.isfinite(x).all():
        raise BadClipError(path, f"non-finite sample at index {int(np.argmin(np.isfinite(x)))}")
    if info.sample_rate != target_sr:
        from scipy.signal import resample_poly  # slow to import; only needed here

        g = math.gcd(target_sr, info.sample_rate)
        x = resample_poly(x, target_sr // g, info.sample_rate // g)
    return np.clip(x, -1.0, 1.0).astype(np.float32)


def write_wav(
    path: str | Path,
    audio: np.ndarray,
    sample_rate: int,
    sample_format: Literal["float32", "int16", "int24"] = "float32",
) -> None:
    """Write ``audio`` ``[N]`` (or ``[N, C]``) in ``[-1, 1]`` as a WAV file, atomically.

    Integer formats clip to ``[-1, 1]`` and scale by ``2 ** (bits - 1) - 1``; float32 writes a
    ``WAVE_FORMAT_IEEE_FLOAT`` file with the ``fact`` chunk the format asks for.
    """
    x = np.asarray(audio, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    if x.ndim != 2 or x.shape[1] < 1:
        raise ValueError(f"audio must be [N] or [N, C], got {list(np.shape(audio))}")
    if sample_rate < 1:
        raise ValueError(f"sample_rate must be >= 1, got {sample_rate}")
    frames, channels = x.shape
    if sample_format == "float32":
        code, bits, data = IEEE_FLOAT, 32, x.astype("<f4").tobytes()
    elif sample_format == "int16":
        code, bits = PCM, 16
        data = np.round(np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()
    elif sample_format == "int24":
        code, bits = PCM, 24
        v = np.round(np.clip(x, -1, 1) * 8388607).astype("<i4").reshape(-1, 1)
        data = v.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()  # drop the high byte
    else:
        raise ValueError(f"sample_format must be float32, int16 or int24, got {sample_format!r}")
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", code, channels, sample_rate, sample_rate * block, block, bits)
    chunks = []
    if code == IEEE_FLOAT:  # non-PCM formats carry cbSize and a fact chunk (sample frames)
        chunks.append(b"fmt " + struct.pack("<I", 18) + fmt + b"\0\0")
        chunks.append(b"fact" + struct.pack("<II", 4, frames))
    else:
        chunks.append(b"fmt " + struct.pack("<I", 16) + fmt)
    chunks.append(b"data" + struct.pack("<I", len(data)) + data + b"\0" * (len(data) & 1))
    body = b"WAVE" + b"".join(chunks)
    with atomic_path(path) as tmp:
        tmp.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
