"""The files one generation writes, into one folder that appears only when all are written.

- ``motion.bvh`` (Blender, MotionBuilder, any BVH tool): BEAT's 75-joint skeleton at the motion
  rate; the 47 generated joints as Euler angles unwrapped along time, root and legs at zero.
- ``face.json`` (BEAT-format tools, adm itself): BEAT's ARKit JSON (51 weights), face rate.
- ``face_livelink.csv`` (Unreal Live Link, MetaHuman): a Live Link Face take at the face rate
  (:mod:`adm.generation.livelink`).
- ``preview.mp4`` (a quick look): skeleton and face side by side with the audio
  (:mod:`adm.generation.preview`).
- ``provenance.json`` (reproducing it): checkpoint, its config hash, seed, sampler, audio and
  transcript digests.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from adm.data.beat_skeleton import beat_header
from adm.data.bvh import write_bvh
from adm.data.face import write_face_json
from adm.generation.livelink import head_rotation, write_livelink_csv
from adm.generation.preview import render_preview
from adm.io.atomic import atomic_dir, write_text_atomic
from adm.skeleton import gesture_to_euler_motion

OUTPUTS = ("bvh", "json", "csv", "mp4")
FILES = {
    "bvh": "motion.bvh",
    "json": "face.json",
    "csv": "face_livelink.csv",
    "mp4": "preview.mp4",
    "provenance": "provenance.json",
}
NEEDS = {"bvh": "gesture", "json": "face", "csv": "face"}


def resample_frames(values: np.ndarray, fps: float, target_fps: float) -> np.ndarray:
    """``values`` ``[T, D]`` at ``fps`` linearly interpolated to ``round(T * target / fps)``
    frames at ``target_fps`` (the last frame is held past the end)."""
    values = np.asarray(values, dtype=np.float64)
    if target_fps == fps:
        return values
    frames = int(round(len(values) * target_fps / fps))
    src = np.arange(len(values)) / fps
    dst = np.arange(frames) / target_fps
    return np.stack([np.interp(dst, src, values[:, d]) for d in range(values.shape[1])], axis=1)


def write_outputs(
    outdir: str | Path,
    motion: Mapping[str, np.ndarray],
    fps: int,
    face_fps: int,
    outputs: tuple[str, ...],
    audio_path: Path,
    provenance: Mapping[str, Any],
    rest: Mapping[str, np.ndarray],
    title: str | None = None,
) -> dict[str, Path]:
    """Write the requested ``outputs`` of ``motion`` (task -> ``[T, D]``) into ``outdir``.

    Args:
        rest: task -> ``[D]`` values that stand in for a stream the model does not produce
            (the train mean), so the preview still has a body and a face.
    Returns:
        output name -> path (final location).
    """
    outdir = Path(outdir)
    frames = len(next(iter(motion.values())))
    full = {t: motion.get(t, np.broadcast_to(rest[t], (frames, len(rest[t])))) for t in rest}
    written: dict[str, Path] = {}
    with atomic_dir(outdir) as tmp:
        if "bvh" in outputs:
            header = beat_header(fps)
            euler = gesture_to_euler_motion(motion["gesture"], header, unwrap=True)
            write_bvh(tmp / FILES["bvh"], header, euler, fps)
        face = resample_frames(motion["face"], fps, face_fps) if "face" in motion else None
        if "json" in outputs:
            write_face_json(tmp / FILES["json"], face, face_fps)
        if "csv" in outputs:
            head = None
            if "gesture" in motion:
                head = resample_frames(head_rotation(motion["gesture"]), fps, face_fps)
            write_livelink_csv(tmp / FILES["csv"], face, face_fps, head)
        if "mp4" in outputs:
            render_preview(full["gesture"], full["face"], fps, audio_path, tmp / FILES["mp4"],
                           title=title)  # fmt: skip
        record = {**provenance, "outputs": {k: FILES[k] for k in outputs}}
        write_text_atomic(tmp / FILES["provenance"], json.dumps(record, indent=2) + "\n")
        written = {k: outdir / FILES[k] for k in (*outputs, "provenance")}
    return written
