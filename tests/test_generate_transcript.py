"""Plain-text transcripts are spread over the speech; transcripts that cannot fit are refused."""

from __future__ import annotations

import numpy as np
import pytest

from adm.errors import BadInputError
from adm.generation.transcript import MIN_PAUSE_S, align_plain_text, load_words, speech_spans

SR = 16000


def _speech(spans: list[tuple[float, float]], seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    audio = 1e-4 * np.sin(2 * np.pi * 50 * t)  # a hum 70 dB below the speech
    for a, b in spans:
        on = (t >= a) & (t < b)
        audio[on] = 0.5 * np.sin(2 * np.pi * 200 * t[on])
    return audio


def test_speech_spans_follow_the_energy():
    found = speech_spans(_speech([(0.5, 1.5), (2.5, 3.0)], 4.0), SR)
    assert len(found) == 2
    for (a, b), (x, y) in zip([(0.5, 1.5), (2.5, 3.0)], found, strict=True):
        assert abs(x - a) <= 0.025 and abs(y - b) <= 0.025  # one 25 ms analysis frame


def test_words_land_in_the_speech_in_order_by_length(tmp_path):
    audio = _speech([(0.5, 1.5), (2.5, 3.5)], 4.0)
    words = align_plain_text(["aa", "bbbb", "aa", "bbbb"], audio, SR, tmp_path / "t.txt")
    assert [w.label for w in words] == ["aa", "bbbb", "aa", "bbbb"]
    assert all(a.end <= b.start + 1e-6 for a, b in zip(words, words[1:], strict=False))
    # 12 letters over 2 s of speech: "aa" takes 1/3 s, "bbbb" 2/3 s, each within a span
    assert words[0].start == pytest.approx(0.5, abs=0.03)
    assert words[1].end == pytest.approx(1.5, abs=0.03)
    assert words[2].start == pytest.approx(2.5, abs=0.03)
    assert words[0].end - words[0].start == pytest.approx(1 / 3, abs=0.03)
    assert MIN_PAUSE_S < 1.0  # the 1 s pause splits the spans


def test_transcripts_that_do_not_fit_are_refused(tmp_path):
    audio = _speech([(0.0, 2.0)], 2.0)
    text = tmp_path / "t.txt"
    text.write_text("word " * 40)
    with pytest.raises(BadInputError, match="40 words cannot be spoken in the 2.0 s"):
        load_words(text, audio, SR)
    empty = tmp_path / "e.txt"
    empty.write_text("  ...  \n")
    with pytest.raises(BadInputError, match="holds no words"):
        load_words(empty, audio, SR)
    with pytest.raises(BadInputError, match="no such transcript"):
        load_words(tmp_path / "missing.TextGrid", audio, SR)
    assert load_words(None, audio, SR) == ([], "none")
