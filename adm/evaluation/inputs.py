"""Inputs of the evaluate stage: ground-truth test clips, generated samples, audio, provenance.

- A prepared test clip ``<clips>/<stem>.parquet`` gives the ground truth: ``gesture`` ``[T, 141]``
  axis-angle (radians), ``gesture_euler`` ``[T, 141]`` (Euler degrees on BEAT's unwrapped
  branch), ``face`` ``[T, 51]`` blendshape weights, ``semantic`` ``[T]``; metadata ``fps``,
  ``speaker``, ``sources`` (raw file names, the wav among them).
- A generated clip ``<samples>/<stem>.parquet`` (the sampling stage's output) holds the columns
  of the tasks its model generates: ``gesture`` ``[T, 141]`` and/or ``face`` ``[T, 51]``, with
  the same ``T`` as the ground truth.
- The clip's audio for Beat Align is its wav in the raw corpus
  (``<corpus_root>/<speaker>/<sources["wav"]>``), cut to the clip's ``T / fps`` seconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from adm.data.audio import load_wav
from adm.data.face import ARKIT_NAMES
from adm.errors import BadInputError
from adm.io.frames import read_frames
from adm.metrics.finite import first_non_finite
from adm.skeleton import GESTURE_DIM

TASKS = ("gesture", "face")
TASK_DIMS = {"gesture": GESTURE_DIM, "face": len(ARKIT_NAMES)}


@dataclass
class TestClip:
    """One ground-truth test clip.

    Attributes:
        stem: clip name; ``path`` the prepared file.
        speaker: BEAT speaker id; ``fps`` frame rate.
        gesture: ``[T, 141]`` axis-angle; ``gesture_euler``: ``[T, 141]`` Euler degrees.
        face: ``[T, 51]`` weights; ``semantic``: ``[T]`` semantic score per frame.
        face_names: the face columns' names (ARKit order).
        sources: raw file names by extension.
    """

    stem: str
    path: Path
    speaker: int
    fps: float
    gesture: np.ndarray
    gesture_euler: np.ndarray
    face: np.ndarray
    semantic: np.ndarray
    face_names: tuple[str, ...]
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(self.gesture.shape[0])

    def motion(self, task: str) -> np.ndarray:
        return {"gesture": self.gesture, "face": self.face}[task]


@dataclass
class GeneratedClip:
    """Generated motion of one clip: ``gesture [T, 141]`` and/or ``face [T, 51]``."""

    stem: str
    path: Path | None
    streams: dict[str, np.ndarray]
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(t for t in TASKS if t in self.streams)


def _column(table, path: Path, name: str, width: int | None, what: str) -> np.ndarray:
    """Column ``name`` as ``[T, width]`` float64. A NaN or inf is refused with the stream's
    name (``what``) and its first bad frame: no metric is computed from broken motion."""
    if name not in table.columns:
        raise BadInputError(path, f"column {name!r} missing (has {sorted(table.columns)})")
    values = np.asarray(table[name], dtype=np.float64)
    if width is not None and (values.ndim != 2 or values.shape[1] != width):
        raise BadInputError(path, f"column {name!r}: expected [T, {width}], got {values.shape}")
    bad = first_non_finite(values)
    if bad is not None:
        frame, columns = bad
        shown = ", ".join(str(c) for c in columns[:8]) + (" ..." if len(columns) > 8 else "")
        raise BadInputError(
            path,
            f"{what} stream '{name}': frame {frame} (of {len(values)}) holds NaN or inf "
            f"(dim(s) {shown}); refusing to score it",
        )
    return values


def read_test_clip(clips_dir: str | Path, stem: str) -> TestClip:
    """Read the ground truth of one test clip.

    Raises:
        BadInputError: the file is missing or malformed, or the clip is a skipped marker.
    """
    path = Path(clips_dir) / f"{stem}.parquet"
    if not path.is_file():
        raise BadInputError(path, f"prepared test clip {stem} not found")
    table = read_frames(path)
    meta = table.metadata
    if meta.get("skipped"):
        raise BadInputError(path, "clip is marked skipped but listed in the test split")
    fps = meta.get("fps")
    if isinstance(fps, bool) or not isinstance(fps, int | float) or fps <= 0:
        raise BadInputError(path, f"metadata 'fps': expected a positive number, got {fps!r}")
    semantic = (
        np.asarray(table["semantic"], dtype=np.float64) if "semantic" in table.columns else None
    )
    if semantic is None or semantic.ndim != 1:
        raise BadInputError(path, "column 'semantic' [T] missing")
    speaker = meta.get("speaker")
    if isinstance(speaker, bool) or not isinstance(speaker, int):
        raise BadInputError(path, f"metadata 'speaker': expected a BEAT id, got {speaker!r}")
    return TestClip(
        stem=stem,
        path=path,
        speaker=speaker,
        fps=float(fps),
        gesture=_column(table, path, "gesture", GESTURE_DIM, "ground-truth"),
        gesture_euler=_column(table, path, "gesture_euler", GESTURE_DIM, "ground-truth"),
        face=_column(table, path, "face", len(ARKIT_NAMES), "ground-truth"),
        semantic=semantic,
        face_names=tuple(meta.get("face_names") or ARKIT_NAMES),
        sources=dict(meta.get("sources") or {}),
    )


def read_generated_clip(samples_dir: str | Path, clip: TestClip) -> GeneratedClip:
    """Read the generated motion of ``clip`` from ``<samples_dir>/<stem>.parquet``.

    Raises:
        BadInputError: the sample is missing (the message names the clip and the file), holds
            no task column, a stream holds NaN or inf (the message names the stream and its
            first bad frame), or its frame count differs from the ground truth's.
    """
    path = Path(samples_dir) / f"{clip.stem}.parquet"
    if not path.is_file():
        raise BadInputError(path, f"no generated sample for test clip {clip.stem}")
    table = read_frames(path)
    streams = {
        task: _column(table, path, task, TASK_DIMS[task], "generated")
        for task in TASKS
        if task in table.columns
    }
    if not streams:
        raise BadInputError(path, f"holds neither a 'gesture' nor a 'face' column ({clip.stem})")
    for task, values in streams.items():
        if len(values) != clip.num_frames:
            raise BadInputError(
                path,
                f"{task} has {len(values)} frames but the ground truth {clip.path} has "
                f"{clip.num_frames}",
            )
    named = table.metadata.get("clip")
    if named is not None and named != clip.stem:
        raise BadInputError(path, f"metadata 'clip' is {named!r}, expected {clip.stem!r}")
    return GeneratedClip(clip.stem, path, streams, dict(table.metadata))


def clip_wav_path(corpus_root: str | Path, clip: TestClip) -> Path:
    """The clip's wav in the raw corpus: ``<corpus_root>/<speaker>/<sources["wav"]>``.

    Raises:
        BadInputError: the clip names no wav, or the wav is missing.
    """
    name = clip.sources.get("wav")
    if not name:
        raise BadInputError(clip.path, "metadata 'sources' names no wav file (Beat Align needs it)")
    path = Path(corpus_root) / str(clip.speaker) / name
    if not path.is_file():
        raise BadInputError(path, f"audio of test clip {clip.stem} not found")
    return path


def load_clip_audio(corpus_root: str | Path, clip: TestClip, rate: int = 16000) -> np.ndarray:
    """The clip's speech ``[N]`` float32 at ``rate`` Hz, cut to ``T / fps`` seconds.

    Raises:
        BadInputError: the clip names no wav, or the wav is missing or unreadable.
    """
    path = clip_wav_path(corpus_root, clip)
    audio = load_wav(path, target_sr=rate)
    return audio[: int(round(clip.num_frames / clip.fps * rate))]


def checkpoint_record(path: str | Path) -> dict[str, Any]:
    """Provenance of a trained model's weights file, read from its metadata alone.

    Returns:
        ``path``, ``config_hash``, ``step`` and the decoded ``variant``, ``diffusion``,
        ``audio_layout``, ``speakers``, ``denoiser``.

    Raises:
        BadInputError: missing, unreadable, or not an ``adm-checkpoint/1`` file.
    """
    from adm.training.checkpoint import read_metadata  # torch is imported only when needed

    path = Path(path)
    meta = read_metadata(path)
    record: dict[str, Any] = {"path": str(path)}
    for key in ("config_hash", "step", "denoiser"):
        record[key] = meta.get(key)
    if record["step"] is not None:
        record["step"] = int(record["step"])
    for key in ("variant", "diffusion", "audio_layout", "speakers"):
        try:
            record[key] = json.loads(meta[key]) if key in meta else None
        except json.JSONDecodeError as err:
            raise BadInputError(path, f"metadata {key!r} is not JSON ({err})") from None
    return record


def layout_summary(layout: Any) -> str | None:
    """``"mfcc 40 | logmel 64 | ... (N dims, with WavLM)"`` from an audio layout record.

    Accepts a ``{"dim", "blocks": [...]}`` mapping or a bare list of ``{name, width}`` blocks.
    """
    blocks = layout.get("blocks") if isinstance(layout, dict) else layout
    if not isinstance(blocks, list) or not blocks:
        return None
    try:
        parts = [f"{b['name']} {int(b['width'])}" for b in blocks]
        dim = sum(int(b["width"]) for b in blocks)
        wavlm = any(b["name"] == "wavlm" for b in blocks)
    except (KeyError, TypeError, ValueError):
        return None
    return f"{' | '.join(parts)} ({dim} dims, {'with' if wavlm else 'without'} WavLM)"
