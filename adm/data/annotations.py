"""BEAT's per-clip annotations: semantic relevance (``.txt``) and emotion (``.csv``).

Semantic file (tab-separated, one gesture interval per line; ``beat.md``)::

    type  start  end  duration  score  [keywords]
    07_iconic_h  3.119  4.785  1.666  0.7  relaxing

``score`` (0.1-1.0) is the semantic relevance used by SRGR (BEAT, Liu et al. 2022): a frame's
score is that of the interval containing it, else 0. Emotion file (comma-separated, with or
without a header row)::

    name,start,end,duration,label
    00_neutral,0,63.908,63.908,0

``label`` indexes :data:`EMOTIONS`. The duration columns are redundant and not trusted.

Only the first non-blank line may be a header (a row with no number where the times go); any
later row that does not parse is an error naming its line, and a file with no interval at all
is an error too: a damaged annotation must not turn into "no semantic gesture anywhere", which
would silently take SRGR's weights away.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adm.data.textfile import read_text
from adm.errors import BadClipError
from adm.io.atomic import write_text_atomic

SEMANTIC_TYPES: tuple[str, ...] = (
    "00_nogesture", "01_beat_align",
    "02_deictic_l", "03_deictic_m", "04_deictic_h",
    "05_iconic_l", "06_iconic_m", "07_iconic_h",
    "08_metaphoric_l", "09_metaphoric_m", "10_metaphoric_h",
    "habit", "need_cut",
)  # fmt: skip
EMOTIONS: tuple[str, ...] = (
    "neutral", "happiness", "anger", "sadness", "contempt", "surprise", "fear", "disgust",
)  # fmt: skip


@dataclass(frozen=True)
class SemanticInterval:
    """A gesture interval ``[start, end]`` seconds with its semantic ``score`` in [0, 1]."""

    type: str
    start: float
    end: float
    score: float
    keywords: str = ""


@dataclass(frozen=True)
class EmotionInterval:
    """An interval ``[start, end]`` seconds with emotion ``label`` (index into EMOTIONS)."""

    name: str
    start: float
    end: float
    label: int


def _read_lines(path: Path) -> list[str]:
    return read_text(path).splitlines()


def _no_interval(path: Path, header: bool) -> BadClipError:
    what = "only a header line" if header else "no line"
    return BadClipError(path, f"no annotated interval: the file has {what}")


def _span(path: Path, no: int, start: str, end: str) -> tuple[float, float]:
    try:
        s, e = float(start), float(end)
    except ValueError:
        raise BadClipError(
            path, f"line {no}: start/end {start!r}, {end!r} are not numbers"
        ) from None
    if not (0 <= s <= e < float("inf")):
        raise BadClipError(path, f"line {no}: need 0 <= start <= end, got {s} .. {e}")
    return s, e


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_semantic(path: str | Path) -> list[SemanticInterval]:
    """Read a BEAT semantic ``.txt`` file (a leading header row, if any, is skipped).

    Raises:
        BadClipError: a row with too few fields, non-numeric times or score, ``start > end`` or a
            score outside [0, 1] (the line is named); no interval at all.
    """
    path = Path(path)
    out: list[SemanticInterval] = []
    first, header = True, False
    for no, line in enumerate(_read_lines(path), start=1):
        if not line.strip():
            continue
        fields = [f.strip() for f in line.strip().split("\t")]
        if len(fields) < 5:  # some copies use spaces; keywords may then contain spaces too
            words = line.split()
            fields = words[:5] + ([" ".join(words[5:])] if len(words) > 5 else [])
        if first and not any(_is_number(f) for f in fields[1:5]):
            first, header = False, True
            continue  # a header row: no number where start/end/duration/score go
        first = False
        if len(fields) < 5:
            raise BadClipError(path, f"line {no}: {len(fields)} fields, expected 5 or 6")
        start, end = _span(path, no, fields[1], fields[2])
        if not _is_number(fields[4]) or not 0 <= float(fields[4]) <= 1:
            raise BadClipError(path, f"line {no}: score {fields[4]!r} is not a number in [0, 1]")
        keywords = "\t".join(fields[5:]).strip()
        out.append(SemanticInterval(fields[0], start, end, float(fields[4]), keywords))
    if not out:
        raise _no_interval(path, header)
    return out


def write_semantic(path: str | Path, intervals: Sequence[SemanticInterval]) -> None:
    """Write intervals as a BEAT semantic ``.txt`` file (tab-separated, no header), atomically."""
    rows = []
    for iv in intervals:
        dur = round(iv.end - iv.start, 6)
        row = f"{iv.type}\t{iv.start!r}\t{iv.end!r}\t{dur!r}\t{iv.score!r}"
        rows.append(row + (f"\t{iv.keywords}" if iv.keywords else ""))
    write_text_atomic(path, "".join(r + "\n" for r in rows))


def read_emotion(path: str | Path) -> list[EmotionInterval]:
    """Read a BEAT emotion ``.csv`` file (``name,start,end,duration,label``; header optional).

    Raises:
        BadClipError: a row without 5 fields, non-numeric times, or a label outside 0-7 (the
            line is named); no interval at all.
    """
    path = Path(path)
    out: list[EmotionInterval] = []
    rows = csv.reader(io.StringIO("\n".join(_read_lines(path))), skipinitialspace=True)
    first, header = True, False
    for no, row in enumerate(rows, start=1):
        row = [f.strip() for f in row]
        if not any(row):
            continue
        if first and not any(_is_number(f) for f in row[1:]):
            first, header = False, True
            continue  # a header row: no number where start/end/duration/label go
        first = False
        if len(row) != 5:
            raise BadClipError(path, f"line {no}: {len(row)} fields, expected 5")
        start, end = _span(path, no, row[1], row[2])
        if not row[4].isdigit() or int(row[4]) >= len(EMOTIONS):
            raise BadClipError(path, f"line {no}: emotion label {row[4]!r} is not 0-7")
        out.append(EmotionInterval(row[0], start, end, int(row[4])))
    if not out:
        raise _no_interval(path, header)
    return out


def write_emotion(path: str | Path, intervals: Sequence[EmotionInterval]) -> None:
    """Write intervals as a BEAT emotion ``.csv`` file (no header, like BEAT), atomically."""
    rows = []
    for iv in intervals:
        if not 0 <= iv.label < len(EMOTIONS):
            raise ValueError(f"emotion label {iv.label} is not 0-{len(EMOTIONS) - 1}")
        dur = round(iv.end - iv.start, 6)
        rows.append(f"{iv.name},{iv.start!r},{iv.end!r},{dur!r},{iv.label}\n")
    write_text_atomic(path, "".join(rows))


def _frame_ranges(
    spans: Sequence[tuple[float, float]], num_frames: int, fps: float
) -> list[tuple[int, int]]:
    """Frame index ranges ``[lo, hi)`` with ``start <= i / fps <= end`` for each span."""
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    times = np.arange(num_frames) / fps
    return [
        (int(np.searchsorted(times, s, "left")), int(np.searchsorted(times, e, "right")))
        for s, e in spans
    ]


def semantic_score_per_frame(
    intervals: Sequence[SemanticInterval], num_frames: int, fps: float
) -> np.ndarray:
    """Semantic score ``[T]`` float32 per frame: the containing interval's score, else 0.

    Where intervals touch or overlap, the later one in the file wins.
    """
    out = np.zeros(num_frames, dtype=np.float32)
    ranges = _frame_ranges([(iv.start, iv.end) for iv in intervals], num_frames, fps)
    for iv, (lo, hi) in zip(intervals, ranges, strict=True):
        out[lo:hi] = iv.score
    return out


def emotion_per_frame(
    intervals: Sequence[EmotionInterval], num_frames: int, fps: float, default: int
) -> np.ndarray:
    """Emotion label ``[T]`` int8 per frame: the containing interval's label, else ``default``.

    ``default`` is typically the take's emotion (:func:`adm.data.clips.emotion_of_take`). Where
    intervals touch or overlap, the later one in the file wins.
    """
    out = np.full(num_frames, default, dtype=np.int8)
    ranges = _frame_ranges([(iv.start, iv.end) for iv in intervals], num_frames, fps)
    for iv, (lo, hi) in zip(intervals, ranges, strict=True):
        out[lo:hi] = iv.label
    return out
