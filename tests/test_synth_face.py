"""Synthetic face: lip sync from phones, determinism, brows, blinks, value range."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

from adm.data.face import ARKIT_NAMES
from adm.data.synth import SynthConfig, render_take, takes
from adm.data.synth.face import FaceStyle, face_weights
from adm.data.synth.sentences import sentence_from_text
from adm.data.synth.speakers import voice_of
from adm.data.synth.speech import SpokenPhone, speak_sentences

COL = {n: i for i, n in enumerate(ARKIT_NAMES)}
JAW = COL["jawOpen"]


@pytest.fixture(scope="module")
def rendered():
    cfg = SynthConfig(speakers=(4, 8), train_takes=1, val_takes=0, test_takes=1, clip_seconds=8.0)
    return [render_take(cfg, spec) for spec in takes(cfg)]


def envelope(audio: np.ndarray, n_frames: int, fps: float = 60.0, sr: int = 16000) -> np.ndarray:
    """RMS amplitude per face frame [n_frames], smoothed by a 25 ms Gaussian."""
    edges = np.round(np.arange(n_frames + 1) * sr / fps).astype(int)
    c = np.concatenate([[0.0], np.cumsum(audio.astype(np.float64) ** 2)])
    rms = np.sqrt((c[edges[1:]] - c[edges[:-1]]) / np.diff(edges))
    return gaussian_filter1d(rms, 1.5)


def test_jaw_follows_the_speech_envelope(rendered):
    for take in rendered:
        env = envelope(take.speech.audio, len(take.face))
        r = np.corrcoef(env, take.face[:, JAW])[0, 1]
        assert r >= 0.6, (take.spec.stem, r)


def test_mouth_closes_in_pauses_and_on_bilabials(rendered):
    for take in rendered:
        w, sp = take.face, take.speech
        assert w.min() >= 0.0 and w.max() <= 1.0 and w.shape[1] == 51
        for a, b in itertools.pairwise(sp.words):
            if b.start - a.end > 0.3:
                mid = int(round(0.5 * (a.end + b.start) * 60))
                assert w[mid, JAW] < 0.03
        vowels = [p for p in sp.phones if p.label[-1].isdigit()]
        bilabial = [p for p in sp.phones if p.label in ("P", "B", "M")]
        jaw_at = [w[int((p.start + p.end) * 30), JAW] for p in bilabial]
        vowel_jaw = [w[int((p.start + p.end) * 30), JAW] for p in vowels]
        assert np.mean(jaw_at) < 0.5 * np.mean(vowel_jaw)
        press = [w[int((p.start + p.end) * 30), COL["mouthPressLeft"]] for p in bilabial]
        assert np.mean(press) > 0.15


def test_visemes_shape_the_lips():
    t = 2.0
    phones = (SpokenPhone("UW1", 0.5, 0.8), SpokenPhone("IY1", 1.3, 1.6))
    w = face_weights(phones, (), t, FaceStyle(), np.random.default_rng(0))
    rounded, spread = w[int(0.65 * 60)], w[int(1.45 * 60)]
    assert rounded[COL["mouthPucker"]] > 0.3 and spread[COL["mouthPucker"]] < 0.05
    assert spread[COL["mouthStretchLeft"]] > 0.2 and rounded[COL["mouthStretchLeft"]] < 0.05


def test_same_text_gives_the_same_face_and_blinks_are_the_only_randomness():
    voice = voice_of(6)
    sentences = [sentence_from_text("Look at this big round idea, over there."),
                 sentence_from_text("I really believe the future is simple.")]  # fmt: skip
    a = speak_sentences(sentences, voice, [0.3, 3.2], 6.0)
    b = speak_sentences(sentences, voice, [0.3, 3.2], 6.0)
    style = FaceStyle()
    fa = face_weights(a.phones, a.words, 6.0, style, np.random.default_rng(1))
    fb = face_weights(b.phones, b.words, 6.0, style, np.random.default_rng(1))
    assert np.array_equal(fa, fb)
    fc = face_weights(a.phones, a.words, 6.0, style, np.random.default_rng(2))
    changed = np.flatnonzero(np.abs(fa - fc).max(axis=0) > 0)
    assert len(changed) > 0
    assert {ARKIT_NAMES[i] for i in changed} <= {
        "eyeBlinkLeft", "eyeBlinkRight", "eyeSquintLeft", "eyeSquintRight"
    }  # fmt: skip
    blink = fa[:, COL["eyeBlinkLeft"]]
    assert 1 <= np.sum(
        (blink[1:-1] > 0.7) & (blink[1:-1] >= blink[:-2]) & (blink[1:-1] > blink[2:])
    )


def test_brows_rise_on_stressed_words(rendered):
    for take in rendered:
        brow = take.face[:, COL["browInnerUp"]]
        stressed = [int((w.accent + 0.05) * 60) for w in take.speech.words if w.stressed]
        unstressed = [int((w.start + 0.05) * 60) for w in take.speech.words if not w.stressed]
        assert np.mean(brow[stressed]) > np.mean(brow[unstressed]) + 0.05
