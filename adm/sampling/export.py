"""Writers of a generated clip: a per-frame Parquet table, a BEAT BVH and a BEAT face JSON.

Per clip ``<stem>``, in the output folder:

- ``<stem>.parquet``: ``gesture`` ``[T, 141]`` axis-angle radians, ``gesture_euler``
  ``[T, 141]`` XYZ Euler degrees (on the ground truth's unwrapped branch when the prepared clip
  has one, as SRGR compares them (metrics.md); else unwrapped along time), ``face`` ``[T, 51]``
  in ``[0, 1]``; only the model's tasks. Metadata: how the sample was made.
- ``<stem>.bvh`` (gesture task): the BEAT 75-joint skeleton, the 47 generated joints as Euler
  angles unwrapped along time (smooth curves for animation tools), every other joint and the
  root at zero, at the clip's frame rate.
- ``<stem>.json`` (face task): BEAT's ARKit JSON at the clip's frame rate.

:func:`staged_folder` writes a whole run into a hidden sibling folder and renames it into place
only when every clip is written, so a failed run leaves no folder that looks complete.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from adm.data.beat_skeleton import beat_header
from adm.data.bvh import write_bvh
from adm.data.face import write_face_json
from adm.io.atomic import atomic_dir, write_text_atomic
from adm.io.frames import write_frames
from adm.rotations import axis_angle_to_euler, euler_near
from adm.skeleton import GESTURE_JOINTS, gesture_to_euler_motion, unwrap_euler_sequence

SAMPLES_TSV = "samples.tsv"


def staged_folder(outdir: str | Path) -> contextlib.AbstractContextManager[Path]:
    """Yield a temporary sibling of ``outdir`` to fill; it replaces ``outdir`` on success.

    On an exception the temporary folder is deleted and ``outdir`` is left as it was (absent
    after a first, failed run). An existing ``outdir`` is replaced as a whole: a folder of
    samples always comes from one run (:func:`adm.io.atomic.atomic_dir`).
    """
    return atomic_dir(outdir)


def gesture_euler(gesture: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """Axis-angle ``[T, 141]`` -> XYZ Euler degrees ``[T, 141]`` float32.

    With ``reference`` (the ground truth's ``gesture_euler`` of the same T), each joint's
    triple is the equivalent one nearest the reference (BEAT's unwrapped branch, metrics.md
    SRGR); otherwise each joint is unwrapped along time.
    """
    frames = len(gesture)
    aa = np.asarray(gesture, dtype=np.float64).reshape(frames, len(GESTURE_JOINTS), 3)
    euler = axis_angle_to_euler(aa, "XYZ")
    if reference is not None and np.shape(reference) == np.shape(gesture):
        ref = np.asarray(reference, dtype=np.float64).reshape(euler.shape)
        euler = euler_near(euler, ref, "XYZ")
    else:
        euler = unwrap_euler_sequence(euler, "XYZ")
    return euler.reshape(frames, -1).astype(np.float32)


def write_sample(
    folder: Path,
    stem: str,
    motion: Mapping[str, np.ndarray],
    fps: float,
    metadata: Mapping[str, Any],
    reference_euler: np.ndarray | None = None,
) -> list[Path]:
    """Write one generated clip's files into ``folder``; returns the paths written.

    Args:
        folder: output folder.
        stem: clip name.
        motion: task -> denormalised motion (``gesture`` ``[T, 141]`` axis-angle, ``face``
            ``[T, 51]``).
        fps: the clip's frame rate.
        metadata: stored in the Parquet file (JSON-serialisable).
        reference_euler: the ground truth's ``gesture_euler`` ``[T, 141]``, if known.
    """
    folder = Path(folder)
    columns: dict[str, np.ndarray] = {}
    written = []
    if "gesture" in motion:
        gesture = np.asarray(motion["gesture"], dtype=np.float32)
        columns["gesture"] = gesture
        columns["gesture_euler"] = gesture_euler(gesture, reference_euler)
        header = beat_header(fps)
        bvh = gesture_to_euler_motion(gesture, header, unwrap=True)
        write_bvh(folder / f"{stem}.bvh", header, bvh, fps)
        written.append(folder / f"{stem}.bvh")
    if "face" in motion:
        face = np.asarray(motion["face"], dtype=np.float32)
        columns["face"] = face
        write_face_json(folder / f"{stem}.json", face, fps)
        written.append(folder / f"{stem}.json")
    frames = {len(v) for v in columns.values()}
    if len(frames) != 1:
        raise ValueError(f"{stem}: tasks differ in frame count {sorted(frames)}")
    meta = {**metadata, "clip": stem, "fps": fps, "num_frames": frames.pop()}
    write_frames(folder / f"{stem}.parquet", columns, meta)
    written.insert(0, folder / f"{stem}.parquet")
    return written


def write_samples_tsv(folder: Path, rows: Sequence[tuple[str, int]]) -> Path:
    """``samples.tsv``: one ``clip<TAB>num_frames`` line per generated clip, with a header."""
    path = Path(folder) / SAMPLES_TSV
    lines = ["clip\tnum_frames"] + [f"{stem}\t{int(n)}" for stem, n in rows]
    write_text_atomic(path, "\n".join(lines) + "\n")
    return path
