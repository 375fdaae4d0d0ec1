"""Words with times for the text condition: a TextGrid as is, or plain text aligned roughly.

- **TextGrid** (``.TextGrid``): the word tier is used as it is (``adm.data.textgrid``).
- **Plain text** (any other file, UTF-8): the words are spread over the parts of the audio
  where someone speaks, in reading order, each word taking time in proportion to its letter
  count. Speech is found by frame energy: 25 ms frames every 10 ms whose RMS lies within
  :data:`SPEECH_DB` dB of the loudest frame, with gaps shorter than :data:`MIN_PAUSE_S` closed.
  This is an APPROXIMATE alignment (no acoustic model): each word lands near, not on, its real
  span; it is good enough to tell the model which words are spoken around when, not for
  lip-level timing (the face follows the audio, not the text).
- **None**: no words; the model then gets its "no transcript" input (see ``train.text_dropout``).

A transcript that cannot belong to the audio is refused: a TextGrid whose words run past the
end of the audio (beyond :data:`END_SLACK_S`), or plain text with more words than
:data:`MAX_WORDS_PER_SECOND` per second of detected speech.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from adm.data.textfile import read_text
from adm.data.textgrid import Interval, read_textgrid
from adm.errors import BadInputError

SPEECH_DB = 35.0
MIN_PAUSE_S = 0.15
END_SLACK_S = 0.5
MAX_WORDS_PER_SECOND = 8.0  # fast speech is 4-5 words per second
_WORD = re.compile(r"[\w']+", re.UNICODE)


def speech_spans(audio: np.ndarray, sample_rate: int) -> list[tuple[float, float]]:
    """``(start, end)`` seconds of the parts of ``audio`` ``[N]`` where someone speaks."""
    win, hop = int(0.025 * sample_rate), int(0.010 * sample_rate)
    if len(audio) < win:
        return [(0.0, len(audio) / sample_rate)]
    frames = np.lib.stride_tricks.sliding_window_view(audio.astype(np.float64), win)[::hop]
    db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    active = db >= db.max() - SPEECH_DB
    spans: list[list[float]] = []
    for k in np.flatnonzero(active):
        start, end = k * hop / sample_rate, (k * hop + win) / sample_rate
        if spans and start - spans[-1][1] < MIN_PAUSE_S:
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return [(a, b) for a, b in spans]


def align_plain_text(
    words: list[str], audio: np.ndarray, sample_rate: int, path: Path
) -> list[Interval]:
    """Spread ``words`` over the speech of ``audio`` by letter count (see the module docstring)."""
    spans = speech_spans(audio, sample_rate)
    speech = sum(b - a for a, b in spans)
    if len(words) > MAX_WORDS_PER_SECOND * max(speech, 1e-3):
        raise BadInputError(
            path,
            f"{len(words)} words cannot be spoken in the {speech:.1f} s of speech in the audio "
            f"(more than {MAX_WORDS_PER_SECOND:g} words per second): is it the right transcript?",
        )
    weights = np.array([len(w) for w in words], dtype=np.float64)
    bounds = np.concatenate([[0.0], np.cumsum(weights) / weights.sum() * speech])
    starts = np.array([a for a, _ in spans])
    offsets = np.concatenate([[0.0], np.cumsum([b - a for a, b in spans])])

    def to_time(s: float) -> float:  # speech-time -> audio time
        k = min(int(np.searchsorted(offsets, s, side="right")) - 1, len(spans) - 1)
        return float(starts[k] + (s - offsets[k]))

    out: list[Interval] = []
    for k, word in enumerate(words):
        start, end = to_time(bounds[k]), to_time(bounds[k + 1] - 1e-9)
        out.append(Interval(start, max(end, start), word))
    return out


def load_words(
    path: str | Path | None, audio: np.ndarray, sample_rate: int
) -> tuple[list[Interval], str]:
    """The words of the transcript at ``path`` (or none) and how they were timed.

    Returns:
        ``(words, method)`` with ``method`` one of ``"textgrid"``, ``"approximate"``,
        ``"none"``.

    Raises:
        BadInputError: unreadable or malformed, no word in it, or it does not fit the audio.
    """
    if path is None:
        return [], "none"
    path = Path(path)
    if not path.is_file():
        raise BadInputError(path, "no such transcript file")
    seconds = len(audio) / sample_rate
    if path.suffix.lower() == ".textgrid":
        words = [w for w in read_textgrid(path).words if w.label.strip()]
        if not words:
            raise BadInputError(path, "the word tier has no words")
        last = max(w.end for w in words)
        if last > seconds + END_SLACK_S:
            raise BadInputError(
                path,
                f"words run to {last:.2f} s but the audio lasts {seconds:.2f} s: the "
                "transcript does not fit the audio",
            )
        return words, "textgrid"
    words = _WORD.findall(read_text(path))
    if not words:
        raise BadInputError(path, "the transcript holds no words")
    return align_plain_text(words, audio, sample_rate, path), "approximate"
