"""Read and write Praat TextGrid files (BEAT's word and phoneme timings).

BEAT ships one TextGrid per clip (Praat ``ooTextFile``, from forced alignment): tier 0 holds the
words (empty labels mark silence), tier 1 the phonemes (``beat.md``). Both Praat text layouts
are read: the long one (``xmin = 0.5`` lines) and the short one (bare values). Point tiers
(``TextTier``) are parsed and left out of :attr:`TextGrid.tiers`.

Tiers are found by NAME, never by position: the word tier is the interval tier named ``words``
or ``word`` (any case; also ``<speaker> - words`` as the Montreal Forced Aligner names the tiers
of a speaker), the phone tier ``phones``, ``phone``, ``phonemes`` or ``phoneme``. A file without
a word tier is an error: taking another tier (the phonemes) for the words would silently feed
the text condition phoneme labels.

The reader follows Praat's own rule for text files: a file is a sequence of values (numbers,
``"strings"`` with ``""`` as an escaped quote, ``<flags>``); in the long layout every value is
introduced by a label (``xmin =``, ``intervals: size =``) that is skipped.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adm.data.textfile import read_text
from adm.errors import BadClipError
from adm.io.atomic import write_text_atomic

_TOKEN = re.compile(r'"(?:[^"]|"")*"|<[A-Za-z]+>|[^\s"]+')
_TOLERANCE = 1e-6  # seconds; alignment tools round times, Praat itself writes them exactly
WORD_TIER_NAMES = ("words", "word")
PHONE_TIER_NAMES = ("phones", "phone", "phonemes", "phoneme")


def tier_kind(name: str) -> str | None:
    """``"words"``, ``"phones"`` or ``None`` for a tier name (case and an MFA speaker prefix
    ``"<speaker> - "`` ignored)."""
    base = name.rsplit(" - ", 1)[-1].strip().lower()
    if base in WORD_TIER_NAMES:
        return "words"
    if base in PHONE_TIER_NAMES:
        return "phones"
    return None


@dataclass(frozen=True)
class Interval:
    """A labelled span ``[start, end]`` in seconds; ``label == ""`` is silence."""

    start: float
    end: float
    label: str


@dataclass(frozen=True)
class TextGrid:
    """Interval tiers by name, in file order, each covering ``[xmin, xmax]`` seconds."""

    xmin: float
    xmax: float
    tiers: dict[str, tuple[Interval, ...]]

    @property
    def words(self) -> tuple[Interval, ...]:
        """The word tier (by name, see :func:`tier_kind`).

        Raises:
            KeyError: there is none (:func:`read_textgrid` refuses such files).
        """
        for name, intervals in self.tiers.items():
            if tier_kind(name) == "words":
                return intervals
        raise KeyError(f"no word tier among {list(self.tiers)}")

    @property
    def phones(self) -> tuple[Interval, ...]:
        """The phone tier (by name, see :func:`tier_kind`), empty when there is none."""
        for name, intervals in self.tiers.items():
            if tier_kind(name) == "phones":
                return intervals
        return ()


class _Values:
    """The value tokens of a TextGrid text with their line numbers; labels are skipped."""

    def __init__(self, path: Path, text: str):
        self.path = path
        newlines = [m.start() for m in re.finditer("\n", text)]
        long_layout = re.search(r"^\s*xmin\s*=", text, re.M) is not None
        found = [(m.group(), bisect.bisect(newlines, m.start()) + 1) for m in _TOKEN.finditer(text)]
        equals_lines = {line for tok, line in found if tok == "="}
        tokens: list[tuple[str, int]] = []
        after_equals = False
        for tok, line in found:
            if tok == "=":
                after_equals = True
                continue
            # A bare word before "=" is a label ("xmin =", "File type ="), and so is any bare
            # word on a line without "=" in the long layout ("item [1]:"); the rest are values.
            if after_equals or tok[0] in '"<':
                tokens.append((tok, line))
            elif line not in equals_lines and not long_layout:
                tokens.append((tok, line))
            after_equals = False
        self._it: Iterator[tuple[str, int]] = iter(tokens)
        self.line = 1

    def next_token(self, what: str) -> str:
        try:
            tok, self.line = next(self._it)
        except StopIteration:
            raise BadClipError(self.path, f"file ends where {what} was expected") from None
        return tok

    def number(self, what: str) -> float:
        tok = self.next_token(what)
        try:
            value = float(tok)
        except ValueError:
            value = float("nan")
        if not np.isfinite(value):
            raise BadClipError(self.path, f"line {self.line}: {what} {tok!r} is not a number")
        return value

    def count(self, what: str) -> int:
        value = self.number(what)
        if value < 0 or value != int(value):
            raise BadClipError(self.path, f"line {self.line}: bad {what} {value:g}")
        return int(value)

    def string(self, what: str) -> str:
        tok = self.next_token(what)
        if tok[0] != '"':
            raise BadClipError(self.path, f"line {self.line}: expected {what} string, got {tok!r}")
        return tok[1:-1].replace('""', '"')


def read_textgrid(path: str | Path) -> TextGrid:
    """Read a Praat TextGrid (long or short layout; UTF-8, or UTF-16 with a BOM).

    Raises:
        BadClipError: not a TextGrid, in another encoding (named), no tiers, no word tier (the
            tiers found are listed), several word tiers, intervals out of order, unparsable
            numbers (the line is named).
    """
    path = Path(path)
    values = _Values(path, read_text(path))
    try:
        file_type, object_class = values.string("File type"), values.string("Object class")
    except BadClipError:
        file_type = object_class = ""
    if not file_type.startswith("ooTextFile") or object_class != "TextGrid":
        raise BadClipError(path, "not a TextGrid: expected 'ooTextFile' and 'TextGrid' on top")
    xmin, xmax = values.number("xmin"), values.number("xmax")
    if values.next_token("'<exists>'") != "<exists>":
        raise BadClipError(path, "the TextGrid has no tiers")
    tiers: dict[str, tuple[Interval, ...]] = {}
    names: list[str] = []  # interval tier names as written (repeats kept)
    for _ in range(values.count("tier count")):
        kind, name = values.string("tier class"), values.string("tier name")
        values.number("tier xmin"), values.number("tier xmax")
        count = values.count("interval count")
        if kind == "TextTier":
            for _ in range(count):
                values.number("point time"), values.string("point mark")
            continue
        if kind != "IntervalTier":
            raise BadClipError(path, f"line {values.line}: unknown tier class {kind!r}")
        intervals: list[Interval] = []
        for _ in range(count):
            start, end = values.number("interval xmin"), values.number("interval xmax")
            label = values.string("interval text")
            previous = intervals[-1].end if intervals else -np.inf
            if end < start or start < previous - _TOLERANCE:
                raise BadClipError(
                    path,
                    f"line {values.line}: interval [{start}, {end}] of tier {name!r} is out of "
                    f"order (previous ends at {previous})",
                )
            intervals.append(Interval(start, end, label))
        names.append(name)
        key, k = name, 2
        while key in tiers:  # Praat allows repeated tier names; keep them all, suffixed
            key, k = f"{name}_{k}", k + 1
        tiers[key] = tuple(intervals)
    if not tiers:
        raise BadClipError(path, "no interval tier, so no word tier")
    word_tiers = [name for name in names if tier_kind(name) == "words"]
    if not word_tiers:
        raise BadClipError(
            path,
            f"no word tier: the interval tiers are named {names}; the words must be in a "
            "tier named 'words' or 'word' (any case, or '<speaker> - words')",
        )
    if len(word_tiers) > 1:
        raise BadClipError(
            path, f"several word tiers {word_tiers}: one speaker's words per file expected"
        )
    return TextGrid(xmin=xmin, xmax=xmax, tiers=tiers)


def _fill(intervals: Sequence[Interval], xmin: float, xmax: float, name: str) -> list[Interval]:
    """Sort ``intervals`` and add empty-label intervals so they tile ``[xmin, xmax]``."""
    out: list[Interval] = []
    t = xmin
    for iv in sorted(intervals, key=lambda iv: iv.start):
        if iv.end < iv.start or iv.start < t - _TOLERANCE or iv.end > xmax + _TOLERANCE:
            raise ValueError(f"tier {name!r}: interval {iv} overlaps or leaves [{xmin}, {xmax}]")
        if iv.start > t + _TOLERANCE:
            out.append(Interval(t, iv.start, ""))
        out.append(iv)
        t = iv.end
    if t < xmax - _TOLERANCE or not out:
        out.append(Interval(t, xmax, ""))
    return out


def write_textgrid(
    path: str | Path,
    tiers: Mapping[str, Sequence[Interval]],
    xmax: float,
    xmin: float = 0.0,
) -> None:
    """Write interval tiers as a long-layout Praat TextGrid, atomically.

    Gaps between the given intervals (and before the first / after the last) are filled with
    empty-label intervals, since Praat requires each tier to tile ``[xmin, xmax]``.
    """
    if not xmax > xmin:
        raise ValueError(f"xmax ({xmax}) must exceed xmin ({xmin})")

    def q(s: str) -> str:
        return '"' + s.replace('"', '""') + '"'

    def n(v: float) -> str:
        return repr(float(v))

    lines = ['File type = "ooTextFile"', 'Object class = "TextGrid"', ""]
    lines += [f"xmin = {n(xmin)} ", f"xmax = {n(xmax)} ", "tiers? <exists> "]
    lines += [f"size = {len(tiers)} ", "item []: "]
    for k, (name, intervals) in enumerate(tiers.items(), start=1):
        filled = _fill(intervals, xmin, xmax, name)
        lines += [
            f"    item [{k}]:",
            '        class = "IntervalTier" ',
            f"        name = {q(name)} ",
        ]
        lines += [f"        xmin = {n(xmin)} ", f"        xmax = {n(xmax)} "]
        lines.append(f"        intervals: size = {len(filled)} ")
        for i, iv in enumerate(filled, start=1):
            lines += [f"        intervals [{i}]:", f"            xmin = {n(iv.start)} "]
            lines += [f"            xmax = {n(iv.end)} ", f"            text = {q(iv.label)} "]
    write_text_atomic(path, "\n".join(lines) + "\n")


def word_per_frame(words: Sequence[Interval], num_frames: int, fps: float) -> list[str]:
    """The word label at each frame: ``[T]`` strings, ``""`` for silence or no interval.

    Frame ``i`` (time ``i / fps``) takes the label of the interval with ``start <= i/fps <= end``
    (``beat.md``). Where two intervals touch, the shared boundary belongs to the later one, so
    each frame gets exactly one label. ``words`` must be sorted and non-overlapping (as read).
    """
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    times = np.arange(num_frames) / fps
    starts = np.array([iv.start for iv in words], dtype=np.float64)
    ends = np.array([iv.end for iv in words], dtype=np.float64)
    # The last interval starting at or before t is the later one at a shared boundary.
    idx = np.searchsorted(starts, times, side="right") - 1
    return [
        words[i].label if i >= 0 and t <= ends[i] else "" for i, t in zip(idx, times, strict=True)
    ]
