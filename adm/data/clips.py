"""BEAT clip names, emotions by take, the CaMN split and the files of a clip on disk.

A BEAT clip is named ``<spk>_<name>_<kind>_<start>_<end>`` (``2_scott_0_1_1``): speaker id and
name, kind 0 = English speech (takes 1-118, about a minute each) or 1 = conversation (takes 1-12,
about ten minutes), and the take range (``start == end`` in BEAT). Speech takes are grouped by
emotion in blocks, and the train/val/test split is the rule of CaMN (BEAT, Liu et al. 2022),
per ``beat.md``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

logger = logging.getLogger(__name__)

SPEAKER_NAMES: dict[int, str] = dict(
    enumerate(
        (
            "wayne",
            "scott",
            "solomon",
            "lawrence",
            "stewart",
            "carla",
            "sophie",
            "catherine",
            "miranda",
            "kieks",
            "nidal",
            "zhao",
            "lu",
            "zhang",
            "carlos",
            "jorge",
            "itoi",
            "daiki",
            "jaime",
            "li",
            "ayana",
            "luqi",
            "hailing",
            "kexin",
            "goto",
            "reamey",
            "yingqing",
            "tiffnay",
            "hanieh",
            "katya",
        ),  # fmt: skip
        start=1,
    )
)
SPEECH, CONVERSATION = 0, 1
NUM_TAKES = {SPEECH: 118, CONVERSATION: 12}
CLIP_EXTENSIONS = ("bvh", "json", "wav", "TextGrid", "txt", "csv")
ANNOTATION_EXTENSIONS = ("txt", "csv")
ANNOTATION_TREE = "beat_annotations_english"

# First take of each speech emotion block, in EMOTIONS order (neutral, happiness, ..., disgust).
_EMOTION_BLOCKS = (1, 65, 73, 81, 87, 95, 103, 111)
_PATTERN = re.compile(r"(\d+)_([a-z]+)_(\d+)_(\d+)_(\d+)")
_EXPECTED = "<speaker id>_<speaker name>_<0|1>_<start take>_<end take>, e.g. 2_scott_0_1_1"

# CaMN split (beat.md): speech takes 1-8 and the first take of each emotion block are test,
# takes 57-64 and the last take of each emotion block are val; conversation take 1 is test,
# take 12 is val; the rest train. 98/16/16 clips per complete speaker.
_TEST = {SPEECH: set(range(1, 9)) | set(_EMOTION_BLOCKS[1:]), CONVERSATION: {1}}
_VAL = {
    SPEECH: set(range(57, 65)) | {b - 1 for b in _EMOTION_BLOCKS[2:]} | {118},
    CONVERSATION: {12},
}


@dataclass(frozen=True, order=True)
class ClipName:
    """A parsed clip name; sorts by speaker, then kind and takes."""

    speaker: int
    name: str
    kind: int
    start: int
    end: int

    @property
    def stem(self) -> str:
        """The file stem, e.g. ``"2_scott_0_1_1"``."""
        return f"{self.speaker}_{self.name}_{self.kind}_{self.start}_{self.end}"

    @property
    def take(self) -> int:
        """The take number (the start take)."""
        return self.start


def parse_clip_name(stem: str) -> ClipName:
    """Parse ``"2_scott_0_1_1"``; ``ValueError`` naming the stem and the expected pattern."""
    m = _PATTERN.fullmatch(stem)
    if m is None:
        raise ValueError(f"clip name {stem!r} does not match {_EXPECTED}")
    speaker, name, kind, start, end = int(m[1]), m[2], int(m[3]), int(m[4]), int(m[5])
    if SPEAKER_NAMES.get(speaker) != name:
        expected = SPEAKER_NAMES.get(speaker, "none: ids are 1-30")
        raise ValueError(
            f"clip name {stem!r}: speaker {speaker} is named {expected!r}, not {name!r}"
        )
    if kind not in NUM_TAKES:
        raise ValueError(
            f"clip name {stem!r}: kind {kind} is neither 0 (speech) nor 1 (conversation)"
        )
    if not 1 <= start <= end:
        raise ValueError(f"clip name {stem!r}: takes must satisfy 1 <= start <= end")
    if end > NUM_TAKES[kind]:
        what = "speech" if kind == SPEECH else "conversation"
        raise ValueError(
            f"clip name {stem!r}: take {end} is beyond BEAT's {NUM_TAKES[kind]} {what} takes"
        )
    return ClipName(speaker, name, kind, start, end)


def clip_stem(speaker: int, kind: int, start: int, end: int | None = None) -> str:
    """The stem of a clip, e.g. ``clip_stem(2, 0, 1) == "2_scott_0_1_1"``; ``end`` defaults to
    ``start``."""
    if speaker not in SPEAKER_NAMES:
        raise ValueError(f"speaker id {speaker} is not 1-30")
    return parse_clip_name(
        f"{speaker}_{SPEAKER_NAMES[speaker]}_{kind}_{start}_{start if end is None else end}"
    ).stem


def emotion_of_take(kind: int, take: int) -> int:
    """Emotion label (index into ``EMOTIONS``) of a take: speech by block, conversation 0."""
    if kind not in NUM_TAKES or not 1 <= take <= NUM_TAKES[kind]:
        raise ValueError(f"no take {take} of kind {kind} in BEAT")
    if kind == CONVERSATION:
        return 0
    return sum(take >= first for first in _EMOTION_BLOCKS) - 1


def camn_split(clip: ClipName) -> Literal["train", "val", "test"]:
    """The CaMN split of a clip: ``"test"``, ``"val"`` or ``"train"``."""
    if clip.kind not in NUM_TAKES:
        raise ValueError(f"clip {clip.stem}: kind {clip.kind} is neither speech nor conversation")
    if clip.take in _TEST[clip.kind]:
        return "test"
    if clip.take in _VAL[clip.kind]:
        return "val"
    return "train"


def find_clip_files(root: Path, stem: str) -> dict[str, Path]:
    """The files of clip ``stem`` under a BEAT root, by extension (missing ones are absent).

    Looks in ``<root>/<spk>/``; annotations (``txt``/``csv``) may also live in a separate tree,
    ``<root>/../beat_annotations_english/<spk>/`` or ``<root>/beat_annotations_english/<spk>/``,
    as in older releases (``beat.md``).
    """
    root = Path(root)
    spk = str(parse_clip_name(stem).speaker)
    found: dict[str, Path] = {}
    for ext in CLIP_EXTENSIONS:
        folders = [root / spk]
        if ext in ANNOTATION_EXTENSIONS:
            folders += [root.parent / ANNOTATION_TREE / spk, root / ANNOTATION_TREE / spk]
        for folder in folders:
            if (folder / f"{stem}.{ext}").is_file():
                found[ext] = folder / f"{stem}.{ext}"
                break
    return found


def list_clips(root: Path, speakers: list[int]) -> list[ClipName]:
    """Every clip of ``speakers`` with a ``.bvh`` file in ``<root>/<spk>/``, sorted.

    Files whose names are not BEAT clip names (or belong to another speaker) are skipped.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: BEAT root folder not found")
    clips = []
    for spk in speakers:
        for path in sorted((root / str(spk)).glob("*.bvh")):
            try:
                clip = parse_clip_name(path.stem)
            except ValueError as e:
                logger.warning("skipping %s: %s", path, e)
                continue
            if clip.speaker == spk:
                clips.append(clip)
    return sorted(clips)
