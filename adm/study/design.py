"""The study's design: the questions, the blind labels, the groups of videos and the order in
which each participant sees them.

A study shows ``G`` groups; each group is one stretch of speech animated by every method (one
video per method, same camera, same size, same audio). A participant sees the groups in a
random order and, within each group, the methods in a random order under the blind labels
A, B, C, ... (the label is the position shown, never the method). The order is drawn once per
participant and recorded with the votes, so the analysis can check for position bias.

The manifest (``manifest.json`` beside the videos) is the one description of a study that the
page, the simulation and the analysis read.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from adm.errors import BadInputError

# The paper's three questions (section 2.5), in the order they are asked.
QUESTIONS: dict[str, str] = {
    "gestures": "Which model's gestures are more diverse?",
    "face": "Which model's face is better aligned with the speech (lip sync)?",
    "overall": "Which is better overall?",
}

LABELS = string.ascii_uppercase
MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1


def blind_labels(count: int) -> list[str]:
    """The labels of ``count`` positions: ``["A", "B", "C"]`` for three methods."""
    if not 1 <= count <= len(LABELS):
        raise ValueError(f"a group shows 1-{len(LABELS)} videos, not {count}")
    return list(LABELS[:count])


@dataclass(frozen=True)
class Group:
    """One group: a stretch of one test clip's speech, animated by every method.

    Attributes:
        id: short name shown nowhere to participants (``g01``).
        clip: the test clip the speech comes from.
        start_s, end_s: the stretch of the clip, seconds.
        videos: method -> video file, relative to the manifest's folder. Files are named
            without the method so that a participant cannot read it from the address.
    """

    id: str
    clip: str
    start_s: float
    end_s: float
    videos: dict[str, str]


@dataclass
class Manifest:
    """A study: its methods, its groups and where the videos are.

    Attributes:
        methods: method ids, in config order (the analysis's column order).
        groups: the groups, in build order.
        folder: the manifest's folder; video paths are relative to it.
        info: how the materials were made (sample seed, window length, config), for the record.
    """

    methods: list[str]
    groups: list[Group]
    folder: Path = Path(".")
    info: dict[str, Any] = field(default_factory=dict)

    def video_path(self, group: Group, method: str) -> Path:
        return self.folder / group.videos[method]

    def group(self, group_id: str) -> Group:
        for group in self.groups:
            if group.id == group_id:
                return group
        raise KeyError(group_id)

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": MANIFEST_VERSION,
                "methods": self.methods,
                "questions": QUESTIONS,
                "groups": [
                    {
                        "id": g.id,
                        "clip": g.clip,
                        "start_s": g.start_s,
                        "end_s": g.end_s,
                        "videos": g.videos,
                    }
                    for g in self.groups
                ],
                "info": self.info,
            },
            indent=2,
        )


def load_manifest(path: str | Path, *, check_videos: bool = True) -> Manifest:
    """Read and check a manifest: every group has one existing, non-empty video per method.

    ``check_videos=False`` skips the video files (the analysis needs only the methods, and
    may run where the videos are not).

    Raises:
        BadInputError: the file is missing or malformed, or a video is missing or empty.
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInputError(path, "no such manifest (build it with the materials stage)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BadInputError(path, f"not a JSON manifest ({err})") from None
    if not isinstance(raw, dict) or raw.get("version") != MANIFEST_VERSION:
        raise BadInputError(path, f"not a study manifest of version {MANIFEST_VERSION}")
    methods = raw.get("methods")
    if (
        not isinstance(methods, list)
        or len(methods) < 2
        or not all(isinstance(m, str) and m for m in methods)
        or len(set(methods)) != len(methods)
    ):
        raise BadInputError(path, f"'methods' must list at least two distinct names: {methods!r}")
    groups: list[Group] = []
    for index, item in enumerate(raw.get("groups") or []):
        where = f"group {index + 1}"
        try:
            group = Group(
                id=str(item["id"]),
                clip=str(item["clip"]),
                start_s=float(item["start_s"]),
                end_s=float(item["end_s"]),
                videos={str(k): str(v) for k, v in dict(item["videos"]).items()},
            )
        except (KeyError, TypeError, ValueError) as err:
            raise BadInputError(path, f"{where} is malformed ({err!r})") from None
        if sorted(group.videos) != sorted(methods):
            raise BadInputError(
                path, f"group {group.id} has videos of {sorted(group.videos)}, not of {methods}"
            )
        for method, video in group.videos.items() if check_videos else ():
            file = path.parent / video
            if not file.is_file() or file.stat().st_size == 0:
                state = "is empty" if file.is_file() else "does not exist"
                raise BadInputError(
                    path, f"group {group.id}: the video of {method}, {file}, {state}"
                )
        groups.append(group)
    if not groups:
        raise BadInputError(path, "lists no groups")
    ids = [g.id for g in groups]
    if len(set(ids)) != len(ids):
        raise BadInputError(path, f"group ids repeat: {ids}")
    return Manifest(methods, groups, path.parent, dict(raw.get("info") or {}))


@dataclass(frozen=True)
class Plan:
    """What one participant sees: the groups in order, and per group the methods by position.

    Attributes:
        groups: group ids in the order shown.
        orders: group id -> methods in the order shown (position 0 is label A).
    """

    groups: list[str]
    orders: dict[str, list[str]]

    def to_json(self) -> str:
        return json.dumps({"groups": self.groups, "orders": self.orders}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        raw = json.loads(text)
        return cls(list(raw["groups"]), {k: list(v) for k, v in raw["orders"].items()})

    def method_of(self, group_id: str, label: str) -> str:
        return self.orders[group_id][LABELS.index(label)]

    def label_of(self, group_id: str, method: str) -> str:
        return LABELS[self.orders[group_id].index(method)]


def random_plan(
    group_ids: list[str], methods: list[str], rng: np.random.Generator, *, shuffle_groups=True
) -> Plan:
    """A fresh random order of the groups and, independently per group, of the methods."""
    order = list(group_ids)
    if shuffle_groups:
        order = [order[i] for i in rng.permutation(len(order))]
    orders = {g: [methods[i] for i in rng.permutation(len(methods))] for g in group_ids}
    return Plan(order, orders)
