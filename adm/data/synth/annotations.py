"""BEAT annotations of a synthetic take: semantic gesture intervals and the take's emotion.

Each planned stroke becomes one semantic interval from the start of its stroke phase to the end
of its hold, typed with BEAT's codes (``01_beat_align``, ``02``-``04_deictic_l/m/h``,
``05``-``07_iconic_l/m/h``, ``08``-``10_metaphoric_l/m/h``) and scored by semantic relevance:
beats 0.1, deictic 0.2-0.4, iconic 0.5-0.7, metaphoric 0.8-1.0 (low/medium/high grade from the
stroke's amplitude); the keyword is the word the stroke lands on. BEAT's intervals do not
overlap, so where the strokes of two hands overlap the earlier interval is cut at the start of
the later one. The emotion file labels the whole take by its BEAT take number.
"""

from __future__ import annotations

from adm.data.annotations import EMOTIONS, EmotionInterval, SemanticInterval
from adm.data.clips import emotion_of_take
from adm.data.synth.gestures import Stroke

_CODES = {
    ("beat", "l"): "01_beat_align", ("beat", "m"): "01_beat_align",
    ("beat", "h"): "01_beat_align",
    ("deictic", "l"): "02_deictic_l", ("deictic", "m"): "03_deictic_m",
    ("deictic", "h"): "04_deictic_h",
    ("iconic", "l"): "05_iconic_l", ("iconic", "m"): "06_iconic_m",
    ("iconic", "h"): "07_iconic_h",
    ("metaphoric", "l"): "08_metaphoric_l", ("metaphoric", "m"): "09_metaphoric_m",
    ("metaphoric", "h"): "10_metaphoric_h",
}  # fmt: skip


def semantic_type(stroke: Stroke) -> str:
    """BEAT semantic type code of a stroke, e.g. ``"06_iconic_m"``."""
    return _CODES[(stroke.kind, stroke.level)]


def semantic_score(code: str) -> float:
    """Semantic relevance of a type code: ``01`` -> 0.1 ... ``10`` -> 1.0."""
    return int(code[:2]) / 10.0


def semantic_intervals(strokes: list[Stroke], decimals: int = 3) -> list[SemanticInterval]:
    """Non-overlapping semantic intervals ``[stroke_start, hold_end]`` of ``strokes``, in time
    order, times rounded to ``decimals``."""
    rows = sorted(strokes, key=lambda s: s.stroke_start)
    out: list[SemanticInterval] = []
    for k, s in enumerate(rows):
        start = round(s.stroke_start, decimals)
        end = round(s.hold_end, decimals)
        if k + 1 < len(rows):
            end = min(end, round(rows[k + 1].stroke_start, decimals))
        code = semantic_type(s)
        out.append(SemanticInterval(code, start, max(end, start), semantic_score(code), s.word))
    return out


def emotion_intervals(kind: int, take: int, duration: float) -> list[EmotionInterval]:
    """One emotion interval covering a take of ``kind`` (0 speech, 1 conversation), labelled
    as BEAT labels that take."""
    label = emotion_of_take(kind, take)
    return [EmotionInterval(f"{label:02d}_{EMOTIONS[label]}", 0.0, float(duration), label)]
