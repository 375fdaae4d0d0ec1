"""Settings of the bundled synthetic corpus and the clips it contains.

Two shapes. ``bundled`` (the default) holds a few speech takes of ``clip_seconds`` per speaker,
numbered as BEAT speech takes so that the CaMN split rule (``clips.camn_split``) puts them where
they belong: test takes are the first CaMN test takes (1, 2, ...), validation takes the first
CaMN validation takes (57, 58, ...), training takes the first CaMN training takes (9, 10, ...).
``beat`` is BEAT's own shape, to rehearse a run of the real size offline: every speaker has all
118 speech takes of ``speech_seconds`` and all 12 conversation takes of
``conversation_seconds`` (130 clips, 98/16/16 by CaMN's rule; about 4 hours per speaker at the
defaults). Stems are BEAT's, ``<spk>_<name>_<kind>_<take>_<take>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from adm.config import from_dict
from adm.data.clips import (
    CLIP_EXTENSIONS,
    CONVERSATION,
    NUM_TAKES,
    SPEAKER_NAMES,
    SPEECH,
    camn_split,
    clip_stem,
    parse_clip_name,
)
from adm.errors import ConfigError

MANIFEST = "manifest.tsv"
Shape = Literal["bundled", "beat"]
SHAPES = get_args(Shape)


@dataclass(frozen=True)
class SynthConfig:
    """The synthetic corpus (build with ``adm.config.from_dict``; unknown keys are errors).

    Attributes:
        speakers: BEAT speaker ids (1-30); each gets its own voice, face and gesture style.
        shape: ``"bundled"`` (the ``*_takes`` speech takes of ``clip_seconds``) or ``"beat"``
            (BEAT's 118 speech and 12 conversation takes per speaker).
        train_takes, val_takes, test_takes: speech takes per speaker in each CaMN split
            (``bundled`` shape).
        clip_seconds: length of every take (audio, face and body), seconds (``bundled`` shape).
        speech_seconds, conversation_seconds: length of a speech and of a conversation take
            (``beat`` shape; BEAT's are about one and ten minutes).
        seed: seeds everything: sentences, voices' styles, blinks and gestures.
        gesture_seed: seeds the gestures only (default: ``seed``); changing it keeps the speech
            and face and draws new gestures, the one-to-many part of the data.
        sample_rate: audio rate of the WAV files (BEAT: 16 kHz).
        body_fps: BVH frame rate (BEAT: 120).
        face_fps: face JSON frame rate (BEAT: 60).
        pause_seconds: (low, high) of the silence between phrases.
        noise_rms: RMS of the faint noise floor added to the audio (a quiet room).
    """

    speakers: tuple[int, ...] = (2, 4, 6, 8)
    shape: Shape = "bundled"
    train_takes: int = 8
    val_takes: int = 2
    test_takes: int = 2
    clip_seconds: float = 20.0
    speech_seconds: float = 60.0
    conversation_seconds: float = 600.0
    seed: int = 2024
    gesture_seed: int | None = None
    sample_rate: int = 16000
    body_fps: float = 120.0
    face_fps: float = 60.0
    pause_seconds: tuple[float, float] = (0.35, 0.9)
    noise_rms: float = 0.001

    def __post_init__(self) -> None:
        if not self.speakers:
            raise ConfigError("synth.speakers: expected at least one speaker")
        for s in self.speakers:
            if s not in SPEAKER_NAMES:
                raise ConfigError(f"synth.speakers: {s} is not a BEAT speaker id (1-30)")
        if len(set(self.speakers)) != len(self.speakers):
            raise ConfigError(f"synth.speakers: repeated speaker in {list(self.speakers)}")
        for split, n in (("train", self.train_takes), ("val", self.val_takes),
                         ("test", self.test_takes)):  # fmt: skip
            available = len(_split_takes(split))
            if not 0 <= n <= available:
                raise ConfigError(f"synth.{split}_takes: expected 0-{available}, got {n}")
        if self.train_takes + self.val_takes + self.test_takes == 0:
            raise ConfigError("synth: every *_takes is 0, so the corpus would be empty")
        if self.shape not in SHAPES:
            raise ConfigError(f"synth.shape: expected one of {list(SHAPES)}, got {self.shape!r}")
        for key in ("clip_seconds", "speech_seconds", "conversation_seconds"):
            if not getattr(self, key) >= 4.0:
                raise ConfigError(f"synth.{key}: expected >= 4, got {getattr(self, key)}")
        if self.sample_rate < 8000:
            raise ConfigError(f"synth.sample_rate: expected >= 8000, got {self.sample_rate}")
        for key in ("body_fps", "face_fps"):
            if not getattr(self, key) > 0:
                raise ConfigError(f"synth.{key}: expected > 0, got {getattr(self, key)}")
        lo, hi = self.pause_seconds if len(self.pause_seconds) == 2 else (-1.0, -1.0)
        if not 0.1 <= lo <= hi:
            raise ConfigError(
                f"synth.pause_seconds: expected [low, high] with 0.1 <= low <= high, "
                f"got {list(self.pause_seconds)}"
            )
        if not 0.0 <= self.noise_rms < 0.05:
            raise ConfigError(f"synth.noise_rms: expected 0-0.05, got {self.noise_rms}")


def _split_takes(split: str) -> list[int]:
    """BEAT speech takes of a CaMN split in increasing order (the split does not depend on the
    speaker, so speaker 2's name stands in)."""
    return [
        t
        for t in range(1, NUM_TAKES[SPEECH] + 1)
        if camn_split(parse_clip_name(clip_stem(2, SPEECH, t))) == split
    ]


@dataclass(frozen=True)
class TakeSpec:
    """One take of the corpus: speaker, BEAT take number, stem, CaMN split, length in seconds
    and kind (0 speech, 1 conversation)."""

    speaker: int
    take: int
    stem: str
    split: str
    seconds: float
    kind: int = SPEECH

    def seed_sequence(self, seed: int, stream: int) -> np.random.SeedSequence:
        """Independent seed of one random stream (0 speech, 1 blinks, 2 gestures) of this take.

        A conversation take appends its kind, so that it does not replay the speech take of
        the same number (speech takes keep the entropy they always had).
        """
        entropy = [seed, self.speaker, self.take, stream]
        return np.random.SeedSequence(entropy if self.kind == SPEECH else [*entropy, self.kind])


def _as_config(cfg: SynthConfig | Mapping[str, Any]) -> SynthConfig:
    if isinstance(cfg, SynthConfig):
        return cfg
    return from_dict(SynthConfig, dict(cfg), where="synth")


def takes(cfg: SynthConfig | Mapping[str, Any]) -> list[TakeSpec]:
    """Every take of the corpus, by speaker; in the ``bundled`` shape the test, val, then train
    takes in take order, in the ``beat`` shape every speech take, then every conversation take,
    in take order (as BEAT lists them).

    ``cfg`` may also be a plain mapping of :class:`SynthConfig` fields (as a workflow's config
    file gives it); unknown keys are a :class:`ConfigError`.
    """
    cfg = _as_config(cfg)
    out = []
    for spk in cfg.speakers:
        if cfg.shape == "beat":
            lengths = {SPEECH: cfg.speech_seconds, CONVERSATION: cfg.conversation_seconds}
            for kind, seconds in lengths.items():
                for take in range(1, NUM_TAKES[kind] + 1):
                    stem = clip_stem(spk, kind, take)
                    split = camn_split(parse_clip_name(stem))
                    out.append(TakeSpec(spk, take, stem, split, seconds, kind))
            continue
        for split, n in (("test", cfg.test_takes), ("val", cfg.val_takes),
                         ("train", cfg.train_takes)):  # fmt: skip
            for take in _split_takes(split)[:n]:
                stem = clip_stem(spk, SPEECH, take)
                out.append(TakeSpec(spk, take, stem, split, cfg.clip_seconds))
    return out


def expected_stems(cfg: SynthConfig | Mapping[str, Any]) -> list[str]:
    """Stems of every clip the corpus will contain, e.g. ``"2_scott_0_9_9"`` (``cfg`` as in
    :func:`takes`)."""
    return [t.stem for t in takes(cfg)]


def expected_files(cfg: SynthConfig | Mapping[str, Any], root: str | Path) -> list[Path]:
    """Every file ``adm synthesize`` writes under ``root``: the six files of each
    clip (``<root>/<spk>/<stem>.{wav,TextGrid,json,bvh,txt,csv}``), then the manifest (``cfg``
    as in :func:`takes`)."""
    root = Path(root)
    files = [
        root / str(t.speaker) / f"{t.stem}.{ext}" for t in takes(cfg) for ext in CLIP_EXTENSIONS
    ]
    return [*files, root / MANIFEST]
