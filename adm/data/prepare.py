"""Turn one BEAT-format clip into one prepared Parquet file (the ``prepare_clip`` stage).

Reads the BVH, face JSON, wav, TextGrid and (when present) semantic and emotion annotations;
resamples every stream to the configured fps; cuts all streams to the common length (starts are
aligned, beat.md); converts the 47 gesture joints to axis-angle (141 dims, as the paper and
DiffSHEG); and writes one :mod:`adm.io.frames` table:

==================  =============  ==================================================
column              shape          meaning
==================  =============  ==================================================
``gesture``         [T, 141]       axis-angle of the 47 gesture joints (radians)
``gesture_euler``   [T, 141]       the same joints' Euler degrees, BEAT's unwrapped branch
``face``            [T, 51]        ARKit blendshape weights in ``ARKIT_NAMES`` order
``semantic``        [T]            semantic score of the annotation interval (0 if none)
``emotion``         [T]            emotion label 0-7
==================  =============  ==================================================

The metadata records the clip, speaker, fps, split, frame counts of every source stream and the
source file names and sizes, so that every later number can be traced back to its files.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

from adm.config import config_hash
from adm.data.annotations import (
    emotion_per_frame,
    read_emotion,
    read_semantic,
    semantic_score_per_frame,
)
from adm.data.audio import load_wav
from adm.data.bvh import BvhHeader, read_bvh
from adm.data.clips import camn_split, emotion_of_take, parse_clip_name
from adm.data.face import ARKIT_NAMES, read_face_json
from adm.data.resample import resample_frames
from adm.data.settings import PrepareConfig
from adm.data.textgrid import read_textgrid
from adm.errors import BadClipError, some_names
from adm.io.frames import FrameTable
from adm.skeleton import GESTURE_JOINTS, euler_motion_to_gesture, gesture_rotation_columns

log = logging.getLogger("adm.prepare")

AUDIO_RATE = 16000
REQUIRED = ("bvh", "json", "wav", "TextGrid")


def prepare_clip(stem: str, files: dict[str, Path], cfg: PrepareConfig) -> FrameTable:
    """Parse, resample and cut one clip.

    Args:
        stem: clip name, e.g. ``2_scott_0_1_1``.
        files: extension -> path; ``bvh``, ``json``, ``wav`` and ``TextGrid`` are required,
            ``txt`` (semantic) and ``csv`` (emotion) are optional.
        cfg: the prepare settings.

    Raises:
        BadClipError: a file is missing or malformed (the message names the file), or the
            streams have no frame in common.
    """
    clip = parse_clip_name(stem)
    for ext in REQUIRED:
        if ext not in files:
            folder = Path(next(iter(files.values()))).parent if files else Path()
            raise BadClipError(folder / f"{stem}.{ext}", f"required {ext} file of clip not found")
    bvh = read_bvh(files["bvh"], fps=cfg.bvh_fps)
    require_gesture_joints(bvh.header, files["bvh"])
    face = read_face_json(files["json"], fps=cfg.face_fps)
    audio = load_wav(files["wav"], target_sr=AUDIO_RATE)
    # The TextGrid is read here only to reject a clip without a word tier before any feature
    # job depends on it; the text features read it again.
    read_textgrid(files["TextGrid"])
    semantic = read_semantic(files["txt"]) if "txt" in files else []
    emotion = read_emotion(files["csv"]) if "csv" in files else []

    euler = resample_frames(bvh.motion, bvh.fps, cfg.fps, cfg.resample)
    weights = resample_frames(face.weights, face.fps, cfg.fps, cfg.resample)
    if cfg.resample == "filtered":
        weights = np.clip(weights, 0.0, 1.0)
    audio_frames = math.floor(len(audio) / AUDIO_RATE * cfg.fps + 1e-6)
    lengths = {"bvh": len(euler), "json": len(weights), "wav": audio_frames}
    num_frames = min(lengths.values())
    if cfg.whole_seconds:
        num_frames = num_frames // cfg.fps * cfg.fps
    if num_frames < 1:
        shortest = min(lengths, key=lengths.get)
        raise BadClipError(files[shortest], f"no frame in common at {cfg.fps} fps: {lengths}")
    spread = (max(lengths.values()) - min(lengths.values())) / cfg.fps
    if spread > cfg.max_length_mismatch_s:
        log.warning(
            "%s: stream lengths differ by %.2f s %s; cut to %d frames",
            stem,
            spread,
            lengths,
            num_frames,
        )

    euler = euler[:num_frames]
    columns = gesture_rotation_columns(bvh.header).reshape(-1)
    table = {
        "gesture": euler_motion_to_gesture(euler, bvh.header),
        "gesture_euler": euler[:, columns].astype(np.float32),
        "face": weights[:num_frames].astype(np.float32),
        "semantic": semantic_score_per_frame(semantic, num_frames, cfg.fps),
        "emotion": emotion_per_frame(
            emotion, num_frames, cfg.fps, default=emotion_of_take(clip.kind, clip.take)
        ),
    }
    metadata = {
        "clip": stem,
        "speaker": clip.speaker,
        "speaker_name": clip.name,
        "kind": clip.kind,
        "take": clip.take,
        "split": camn_split(clip),
        "fps": cfg.fps,
        "num_frames": num_frames,
        "source_frames": lengths,
        "source_fps": {"bvh": bvh.fps, "json": face.fps, "wav": AUDIO_RATE},
        "sources": {ext: Path(p).name for ext, p in sorted(files.items())},
        "source_bytes": {ext: Path(p).stat().st_size for ext, p in sorted(files.items())},
        "gesture_joints": list(GESTURE_JOINTS),
        "face_names": list(ARKIT_NAMES),
        "gesture_representation": "axis-angle",
        "prepare_config_hash": config_hash(cfg),
        "skipped": False,
    }
    return FrameTable(columns=table, metadata=metadata)


def require_gesture_joints(header: BvhHeader, path: Path) -> None:
    """Check that the 47 gesture joints are present, each with its three rotation channels.

    Raises:
        BadClipError: a joint is missing (all missing ones named) or lacks a rotation channel.
    """
    present = set(header.joints)
    missing = [j for j in GESTURE_JOINTS if j not in present]
    if missing:
        raise BadClipError(
            path,
            f"{len(missing)} of the {len(GESTURE_JOINTS)} gesture joints missing from the "
            f"HIERARCHY: {some_names(missing, 6)}",
        )
    for joint in GESTURE_JOINTS:
        channels = header.channels[header.joint_index(joint)]
        rotations = [c for c in channels if c.endswith("rotation")]
        if sorted(c[0] for c in rotations) != ["X", "Y", "Z"]:
            raise BadClipError(
                path,
                f"joint {joint} has rotation channels {rotations or 'none'} "
                f"(CHANNELS {' '.join(channels) or 'none'}); expected Xrotation, Yrotation and "
                "Zrotation, once each",
            )


def skipped_marker(stem: str, err: BadClipError) -> FrameTable:
    """An empty table standing for a clip skipped with ``on_bad_clip: skip``.

    The split stage lists it (clip, file, reason) in ``skipped.tsv`` and keeps it out of every
    split, so nothing is dropped silently and later runs see that the clip was looked at.
    """
    return FrameTable(
        columns={"semantic": np.zeros(0, np.float32)},
        metadata={"clip": stem, "skipped": True, "file": str(err.path), "reason": err.problem},
    )
