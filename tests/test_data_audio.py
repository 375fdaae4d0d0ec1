"""WAV loading: every sample format and rate to float32 mono 16 kHz, and bad files."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from tolerance import ops_tol

from adm.data.audio import load_wav, read_wav_info, wav_duration, write_wav
from adm.errors import BadClipError


def _sine(freq: float, rate: int, seconds: float = 0.5, amp: float = 0.5) -> np.ndarray:
    return amp * np.sin(2 * np.pi * freq * np.arange(int(rate * seconds)) / rate)


def _peak_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spectrum)])


@pytest.mark.parametrize("fmt", ["int16", "int24", "float32"])
@pytest.mark.parametrize("rate", [16000, 44100, 48000])
def test_formats_and_rates_load_as_16k_mono(tmp_path, fmt, rate):
    x = _sine(440.0, rate)
    path = tmp_path / f"{fmt}_{rate}.wav"
    write_wav(path, x, rate, fmt)
    assert wav_duration(path) == pytest.approx(0.5)
    y = load_wav(path)
    assert y.dtype == np.float32 and y.ndim == 1
    assert len(y) == math.ceil(len(x) * 16000 / rate)
    assert abs(_peak_hz(y, 16000) - 440.0) <= 16000 / len(y)  # within one FFT bin
    assert np.abs(y).max() == pytest.approx(0.5, abs=0.02)
    if rate == 16000:
        # One quantisation step of the integer formats; one float32 rounding of |x| <= 0.5.
        tol = {"int16": 1 / 32767, "int24": 1 / 8388607, "float32": ops_tol(1, 0.5)}[fmt]
        np.testing.assert_allclose(y, x, atol=tol)


def test_stereo_is_averaged(tmp_path):
    left = _sine(300.0, 16000)
    right = _sine(500.0, 16000, amp=0.25)
    write_wav(tmp_path / "s.wav", np.stack([left, right], axis=1), 16000, "float32")
    assert read_wav_info(tmp_path / "s.wav").channels == 2
    # Each channel stored in float32 (one rounding), then their float32 mean (two more).
    tol = ops_tol(3, np.abs(left).max() + np.abs(right).max())
    np.testing.assert_allclose(load_wav(tmp_path / "s.wav"), (left + right) / 2, atol=tol)


def test_24_bit_sign_extension_and_scale(tmp_path):
    # Hand-made 24-bit little-endian samples: -1, +1, full-scale negative and positive.
    data = bytes([0xFF, 0xFF, 0xFF, 0x01, 0x00, 0x00, 0x00, 0x00, 0x80, 0xFF, 0xFF, 0x7F])
    fmt = struct.pack("<HHIIHH", 1, 1, 16000, 48000, 3, 24)
    body = b"WAVEfmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", 12) + data
    (tmp_path / "a.wav").write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    y = load_wav(tmp_path / "a.wav")
    np.testing.assert_array_equal(y, np.float32([-(2.0**-23), 2.0**-23, -1.0, 1 - 2.0**-23]))


def test_extensible_header_and_extra_chunks(tmp_path):
    samples = np.array([0, 16384, -16384, 32767], dtype="<i2")
    guid_tail = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    fmt = struct.pack("<HHIIHH", 0xFFFE, 1, 16000, 32000, 2, 16)
    fmt += struct.pack("<HHI", 22, 16, 0x4) + struct.pack("<H", 1) + guid_tail
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"LIST" + struct.pack("<I", 3) + b"abc\x00"  # odd chunk, padded
    body += b"data" + struct.pack("<I", 8) + samples.tobytes()
    (tmp_path / "e.wav").write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    np.testing.assert_allclose(load_wav(tmp_path / "e.wav"), samples / 32768.0)


def test_real_24_bit_fixture(beat_wav_path):
    info = read_wav_info(beat_wav_path)
    assert (info.bits, info.sample_rate, info.channels) == (24, 16000, 1)
    assert wav_duration(beat_wav_path) == 68.0
    y = load_wav(beat_wav_path)
    assert y.dtype == np.float32 and y.shape == (68 * 16000,)
    assert -1.0 <= y.min() < -0.1 and 0.1 < y.max() <= 1.0


def _riff(body: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WAVE" + body


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty file"),
        (b"ID3\x03\x00 this is an mp3", "not a WAV file"),
        (_riff(b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16)), "no 'data'"),
        (
            _riff(
                b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16) + b"data\0\0\0\0"
            ),
            "zero samples",
        ),
        (
            _riff(b"fmt " + struct.pack("<IHHIIHH", 16, 6, 1, 8000, 8000, 1, 8) + b"data\1\0\0\0x"),
            "unsupported WAV format code 0x0006",
        ),
    ],
)
def test_bad_files(tmp_path, content, problem):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(BadClipError, match=problem) as err:
        load_wav(path)
    assert str(err.value).startswith(str(path))


def test_missing_file(tmp_path):
    with pytest.raises(BadClipError, match="cannot read"):
        load_wav(tmp_path / "absent.wav")


def _decode_reference(data: bytes, code: int, bits: int, channels: int) -> np.ndarray:
    """The samples of a data chunk ``[N]`` (channel mean, clipped, float32), decoded with numpy
    alone: integers scaled by ``2 ** (bits - 1)``, 8-bit unsigned around 128, 24-bit as
    little-endian 3-byte two's complement. The reader's result must equal it bit for bit."""
    if code == 3:
        x = np.frombuffer(data, dtype=f"<f{bits // 8}").astype(np.float64)
    elif bits == 8:
        x = (np.frombuffer(data, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    elif bits == 24:
        b = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        x = (((b[:, 0] << 8) | (b[:, 1] << 16) | (b[:, 2] << 24)) >> 8) / 2.0**23
    else:
        x = np.frombuffer(data, dtype=f"<i{bits // 8}").astype(np.float64) / 2.0 ** (bits - 1)
    return np.clip(x.reshape(-1, channels).mean(axis=1), -1.0, 1.0).astype(np.float32)


def test_real_24_bit_fixture_is_decoded_exactly(beat_wav_path):
    info = read_wav_info(beat_wav_path)
    with open(beat_wav_path, "rb") as f:
        f.seek(info.data_offset)
        data = f.read(info.num_frames * 3)
    expected = _decode_reference(data, info.format_code, 24, 1)
    np.testing.assert_array_equal(load_wav(beat_wav_path), expected)


def _raw_wav(code: int, channels: int, bits: int, data: bytes, size: int | None = None) -> bytes:
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", code, channels, 16000, 16000 * block, block, bits)
    size = len(data) if size is None else size
    body = b"WAVEfmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize(
    ("code", "channels", "bits", "size"),
    [
        (1, 1, 8, None),
        (1, 2, 16, None),
        (1, 1, 24, None),
        (1, 2, 32, None),
        (3, 1, 32, None),
        (3, 2, 64, None),
        (1, 1, 16, 0),  # a streaming writer's size: the file length counts
        (1, 1, 16, 0xFFFFFFFF),
        (1, 1, 24, 10**6),  # a truncated data chunk: the frames present count
    ],
)
def test_every_sample_format_is_decoded_exactly(tmp_path, code, channels, bits, size):
    rng = np.random.default_rng(bits + channels)
    frames = 999
    if code == 3:
        data = rng.uniform(-1, 1, frames * channels).astype(f"<f{bits // 8}").tobytes()
    else:  # every byte value, so full-scale samples of both signs occur
        data = rng.integers(0, 256, frames * channels * bits // 8, dtype=np.uint8).tobytes()
    path = tmp_path / "x.wav"
    path.write_bytes(_raw_wav(code, channels, bits, data, size))
    y = load_wav(path)
    assert y.shape == (frames,)
    np.testing.assert_array_equal(y, _decode_reference(data, code, bits, channels))
