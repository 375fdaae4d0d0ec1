"""Synthetic speech: eSpeak NG binding, word/phone alignment, audio against the TextGrid."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from adm.data.synth import SynthConfig, render_take, takes
from adm.data.synth.espeak import open_engine
from adm.data.synth.sentences import make_sentence, sentence_from_text
from adm.data.synth.speakers import voice_of
from adm.data.synth.speech import align, speak_sentences
from adm.data.synth.visemes import VOWELS, base_phone, to_arpabet

ARPABET = VOWELS | set("B CH D DH F G HH JH K L M N NG P R S SH T TH V W Y Z ZH".split())


@pytest.fixture(scope="module")
def rendered():
    cfg = SynthConfig(speakers=(2, 6), train_takes=1, val_takes=0, test_takes=1, clip_seconds=7.0)
    return [render_take(cfg, spec) for spec in takes(cfg)]


def _rms(audio: np.ndarray, sr: int, spans: list[tuple[float, float]]) -> float:
    parts = [audio[int(a * sr) : int(b * sr)] for a, b in spans if b - a > 0]
    x = np.concatenate(parts).astype(np.float64)
    return float(np.sqrt(np.mean(x * x)))


def test_words_carry_the_energy_and_the_pauses_are_silent(rendered):
    for take in rendered:
        sp = take.speech
        assert sp.audio.dtype == np.float32 and len(sp.audio) == 7 * 16000
        words = [(w.start, w.end) for w in sp.words]
        # pauses between phrases: gaps between consecutive words longer than 0.25 s
        gaps = [
            (a.end + 0.05, b.start - 0.05)
            for a, b in itertools.pairwise(sp.words)
            if b.start - a.end > 0.25
        ]
        assert gaps, "a take has several phrases with pauses between them"
        assert _rms(sp.audio, 16000, words) > 20 * _rms(sp.audio, 16000, gaps)


def test_every_written_word_gets_an_interval_in_order(rendered):
    for take in rendered:
        sp = take.speech
        spoken = " ".join(sp.texts).lower()
        labels = [w.label for w in sp.words]
        assert " ".join(labels) == " ".join(
            "".join(c for c in tok if c.isalnum() or c == "'") for tok in spoken.split()
        )
        for a, b in itertools.pairwise(sp.words):
            assert a.start < a.end <= b.start + 1e-9
        assert any(w.stressed for w in sp.words) and not all(w.stressed for w in sp.words)


def test_phones_are_arpabet_and_lie_inside_words(rendered):
    sp = rendered[0].speech
    assert {base_phone(p.label) for p in sp.phones} <= ARPABET
    for w in sp.words:
        inside = [p for p in sp.phones if w.start - 1e-9 <= p.start < w.end]
        assert inside, w
        assert all(p.end <= w.end + 1e-9 for p in inside)
    assert to_arpabet("'aU") == ("AW1",) and to_arpabet("@L") == ("AH0", "L")


def test_numbers_and_merged_words_still_get_intervals():
    voice = voice_of(2)
    sentence = sentence_from_text("We met in 2024 at the big tower over there.")
    with open_engine() as tts:
        utt = tts.speak(sentence.text, voice)
    words, _ = align(sentence, utt)
    assert [w.label for w in words] == [t.label for t in sentence.tokens]
    number = words[3]
    assert number.label == "2024" and number.end - number.start > 0.5  # read as four words
    assert words[6].category == "iconic" and words[-1].category == "deictic"


def test_same_text_gives_the_same_audio_whatever_was_said_before():
    voice = voice_of(6)  # a breathy voice: its noise generator must not depend on the clock
    rng = np.random.default_rng(3)
    sents = [make_sentence(rng) for _ in range(3)]
    first = speak_sentences(sents[:1], voice, [0.2], 4.0)
    with open_engine() as tts:
        for s in sents[1:]:
            tts.speak(s.text, voice)  # leave state behind in a shared engine
    again = speak_sentences(sents[:1], voice, [0.2], 4.0)
    assert np.array_equal(first.audio, again.audio)
    assert first.words == again.words and first.phones == again.phones


def _pitch_hz(audio: np.ndarray, sr: int = 16000) -> float:
    """Median F0 of voiced 40 ms frames by autocorrelation (60-400 Hz)."""
    n = int(0.04 * sr)
    f0 = []
    for i in range(0, len(audio) - n, n):
        x = audio[i : i + n].astype(np.float64)
        if np.sqrt(np.mean(x * x)) < 0.05:
            continue
        x = x - x.mean()
        ac = np.correlate(x, x, "full")[n - 1 :]
        lo, hi = sr // 400, sr // 60
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.5 * ac[0]:
            f0.append(sr / lag)
    return float(np.median(f0))


def test_speakers_have_distinct_voices(rendered):
    male = _pitch_hz(rendered[0].speech.audio)  # speaker 2, a male variant
    female = _pitch_hz(rendered[2].speech.audio)  # speaker 6, a female variant
    assert rendered[0].spec.speaker == 2 and rendered[2].spec.speaker == 6
    assert 70 < male < 180 and female > 1.4 * male
