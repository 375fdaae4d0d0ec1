"""Acoustic blocks (MFCC, log-mel, prosody, onset) on signals with hand-known answers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft
from tolerance import gamma

from adm.features.audio import compute_audio_features
from adm.features.config import AudioFeatureConfig
from adm.features.prosody import prosody
from adm.jit import load_librosa

SR, FPS = 16000, 30
CONFIG = AudioFeatureConfig()  # wavlm = "none": the 109 acoustic dims


def tone(freq: float, seconds: float, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    # A voice-like harmonic tone (fundamental plus two weaker harmonics).
    x = np.sin(2 * np.pi * freq * t) + 0.4 * np.sin(4 * np.pi * freq * t + 0.5)
    x += 0.2 * np.sin(6 * np.pi * freq * t + 1.0)
    return (amp * x / 1.6).astype(np.float32)


def with_clicks(seconds: float, times: list[float]) -> np.ndarray:
    x = np.zeros(int(seconds * SR), np.float32)
    for t in times:
        i = int(t * SR)
        x[i : i + 48] += 0.5 * np.hanning(48) * np.sign(np.sin(np.arange(48) + 0.5))
    return x


def features(x: np.ndarray, num_frames: int, config: AudioFeatureConfig = CONFIG):
    out, layout = compute_audio_features(x, num_frames, FPS, config)
    return {name: out[:, layout.slice(name)] for name in layout.names}, out


@pytest.mark.parametrize("f0", [70.0, 150.0, 240.0, 450.0])
def test_pitch_of_harmonic_tones_within_half_a_percent(f0):
    x = tone(f0, 1.0)
    p = prosody(x, CONFIG, 1 + len(x) // CONFIG.hop_length)
    inner = p[5:-5, 2]
    assert np.all(np.abs(inner - f0) < 0.005 * f0)


def test_noise_and_silence_are_unvoiced():
    noise = np.random.default_rng(0).standard_normal(SR).astype(np.float32) * 0.1
    for x in (noise, np.zeros(SR, np.float32)):
        p = prosody(x, CONFIG, 1 + len(x) // CONFIG.hop_length)
        assert (p[:, 2] > 0).mean() < 0.05
        assert np.all(p[:, 3][p[:, 2] == 0] == 0)


def test_energy_of_a_sine_and_d_pitch_of_a_glide():
    t = np.arange(2 * SR) / SR
    sine = (0.5 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    p = prosody(sine, CONFIG, 1 + len(sine) // CONFIG.hop_length)
    # mean(x^2) = 0.5^2 / 2 -> 10 log10(0.125) = -9.03 dB, flat, so d-energy ~ 0.
    np.testing.assert_allclose(p[10:-10, 0], 10 * np.log10(0.125), atol=0.2)
    assert np.abs(p[10:-10, 1]).max() < 20.0
    glide = (0.3 * np.sin(2 * np.pi * np.cumsum(100 + 100 * t) / SR)).astype(np.float32)
    p = prosody(glide, CONFIG, 1 + len(glide) // CONFIG.hop_length)
    np.testing.assert_allclose(np.median(p[20:-20, 3]), 100.0, rtol=0.05)  # Hz per second


def test_log_mel_peaks_at_the_tone_and_mfcc_is_its_dct():
    sine = (0.5 * np.sin(2 * np.pi * 1000 * np.arange(SR) / SR)).astype(np.float32)
    blocks, _ = features(sine, 30)
    centres = load_librosa().mel_frequencies(CONFIG.n_mels + 2, fmax=SR / 2)[1:-1]
    peak_band = np.argmax(blocks["logmel"][15])
    assert abs(centres[peak_band] - 1000.0) < 60.0
    dct = scipy.fft.dct(blocks["logmel"], type=2, norm="ortho", axis=1)[:, : CONFIG.n_mfcc]
    # Two float32 FFT-based DCTs of the same 64 bands: each within gamma(log2 64 + 3) of the
    # row's L2 norm (the FFT's error grows with log n; 3 more roundings for pre/post twiddles).
    rows = np.linalg.norm(blocks["logmel"].astype(np.float64), axis=1, keepdims=True)
    assert (np.abs(blocks["mfcc"] - dct) <= 2 * gamma(6 + 3) * rows).all()


@pytest.mark.parametrize(
    ("seconds", "clicks"), [(1.5, [0.7]), (4.3, [1.75, 3.1]), (7.1, [0.5, 1.8, 3.4, 6.0])]
)
def test_a_click_lands_on_its_motion_frame_in_the_onset_flag(seconds, clicks):
    blocks, _ = features(with_clicks(seconds, clicks), int(seconds * FPS))
    found = np.nonzero(blocks["onset"][:, 0])[0]
    assert len(found) == len(clicks)
    for frame, t in zip(found, clicks, strict=True):
        assert abs(frame - round(t * FPS)) <= 1


def test_silent_audio_gives_finite_features_and_no_onsets():
    blocks, out = features(np.zeros(3 * SR, np.float32), 90)
    assert out.shape == (90, 109) and np.isfinite(out).all()
    assert not blocks["onset"].any()
    np.testing.assert_array_equal(blocks["prosody"][:, 0], -100.0)  # dB floor, not -inf
    assert not blocks["prosody"][:, 1:].any()


@pytest.mark.parametrize("num_frames", [1, 7, 149])
def test_clips_shorter_than_a_training_window(num_frames):
    x = tone(180.0, num_frames / FPS)
    _, out = features(x, num_frames)
    assert out.shape == (num_frames, 109) and np.isfinite(out).all()


def test_audio_shorter_or_longer_than_the_clip_gives_exactly_t_rows():
    x = tone(200.0, 2.0)
    long_blocks, long_out = features(x, 30)  # audio 2 s, clip 1 s: cut
    assert long_out.shape == (30, 109)
    short_blocks, short_out = features(x, 90)  # audio 2 s, clip 3 s: silence after 2 s
    assert short_out.shape == (90, 109) and np.isfinite(short_out).all()
    # The same frames, though the mel product may block its float32 sums differently for
    # another frame count: gamma(n_fft / 2 + 1) relative, 10 / ln 10 dB per unit of relative
    # error, for each of the two runs.
    tol = 2 * 10 / np.log(10) * gamma(CONFIG.n_fft // 2 + 1 + 2)
    np.testing.assert_allclose(short_blocks["logmel"][:25], long_blocks["logmel"][:25], atol=tol)
    assert np.all(short_blocks["prosody"][70:, 0] == -100.0)
    assert np.all(short_blocks["prosody"][70:, 2] == 0.0)
    assert np.all(short_blocks["prosody"][10:50, 2] > 190.0)


def test_switching_blocks_off_keeps_the_others_identical():
    x = tone(200.0, 1.0) + with_clicks(1.0, [0.5])
    full, _ = features(x, 30)
    only = AudioFeatureConfig(blocks=("onset", "logmel"))
    part, out = features(x, 30, only)
    assert out.shape == (30, 65)
    np.testing.assert_array_equal(part["logmel"], full["logmel"])
    np.testing.assert_array_equal(part["onset"], full["onset"])
