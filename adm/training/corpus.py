"""Load the train and val splits into window datasets, with their normalisation statistics.

Motion statistics come from ``norm_stats.json`` (train split, computed by the data stage);
audio/text statistics are computed here on the train clips (:mod:`adm.training.conditions`).
Val clips are normalised with the same train statistics and cut into non-overlapping windows
(stride = window, plus a padded window for each clip's tail), so every val frame counts once.

The clips are read twice, one at a time: a first pass sums the condition statistics and counts
the frames, a second normalises each clip straight into the dataset's flat tensors. Memory
therefore holds the dataset (in ``condition_dtype``) and one clip, not every clip's raw float32
arrays as well: for a BEAT-sized corpus (1.3 million train frames of 1,133 audio and 301 text
dims) that is the difference between about 9 GB and 18 GB in float32 (4.5 GB and 13 GB in
float16). Reading twice costs seconds; the run it feeds takes hours.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from adm.data.normalization import NormStats, load_norm_stats
from adm.data.split import read_split_list
from adm.errors import BadInputError
from adm.logs import progress
from adm.training.conditions import ConditionStats
from adm.training.dataset import ClipArrays, WindowDataset, build_window_dataset, load_clip_arrays

log = logging.getLogger("adm.training")

MOTION_STREAMS = ("gesture", "face")


@dataclass(frozen=True)
class DataPaths:
    """Where a training run reads its inputs (the ``adm train`` options)."""

    clips_dir: Path
    audio_dir: Path
    text_dir: Path
    split_dir: Path
    norm: Path
    vq_dir: Path | None = None  # stage-1 VQ-VAEs of a two-stage network (MambaTalk)


@dataclass
class Corpus:
    """Everything a run needs from disk.

    Attributes:
        train: windows of the train clips (CPU tensors).
        val: windows of the val clips, or None when the val list is absent or empty.
        norm: motion statistics (gesture, face).
        conditions: audio/text statistics of the train clips.
        audio_dim, text_dim: feature widths.
        audio_layout: the audio files' block layout.
        train_stems: the train clip names, in list order.
    """

    train: WindowDataset
    val: WindowDataset | None
    norm: NormStats
    conditions: ConditionStats
    audio_dim: int
    text_dim: int
    audio_layout: Any
    train_stems: list[str]

    def norm_tensors(self) -> dict[str, torch.Tensor]:
        """``norm.<stream>.mean/std`` for gesture, face, audio and text (checkpoint layout)."""
        out = {}
        for name in MOTION_STREAMS:
            out[f"norm.{name}.mean"] = torch.from_numpy(self.norm.mean[name].copy())
            out[f"norm.{name}.std"] = torch.from_numpy(self.norm.std[name].copy())
        return {**out, **self.conditions.tensors("norm")}

    def range_tensors(self, task_slices: dict[str, slice]) -> dict[str, torch.Tensor]:
        """``range.<task>.min/max`` ``[D]``: each task's per-channel extent over the train
        windows' frames in normalised units, what a sampler may clamp its ``x_0`` estimate to
        (``sample.clip_x0``). The dataset's last row is its zero padding and is left out."""
        frames = self.train.x[:-1]
        out = {}
        for task, cols in task_slices.items():
            values = frames[:, cols].float()
            out[f"range.{task}.min"] = values.amin(dim=0).contiguous()
            out[f"range.{task}.max"] = values.amax(dim=0).contiguous()
        return out

    def fingerprint(self) -> str:
        """Hash of the data identity (clip list and all statistics), to validate a resume."""
        h = hashlib.sha256("\n".join(self.train_stems).encode())
        for name in MOTION_STREAMS:
            h.update(self.norm.mean[name].tobytes() + self.norm.std[name].tobytes())
        h.update(self.conditions.fingerprint())
        return h.hexdigest()[:16]


def _read_list(path: Path, required: bool) -> list[str]:
    if not path.is_file():
        if required:
            raise BadInputError(path, "split list not found")
        return []
    return read_split_list(path)


def _iter_clips(stems: Sequence[str], paths: DataPaths, what: str) -> Iterator[ClipArrays]:
    """Each clip of ``stems`` read from disk in turn (only one is held at a time)."""
    for stem in progress(stems, what, total=len(stems)):
        yield load_clip_arrays(stem, paths.clips_dir, paths.audio_dir, paths.text_dir)


@dataclass(frozen=True)
class _Survey:
    """What a first pass over the train clips learns: frames, widths, layout, statistics."""

    frames: int
    audio_dim: int
    text_dim: int
    audio_layout: Any
    conditions: ConditionStats | None


def _survey(stems: Sequence[str], paths: DataPaths, what: str, with_stats: bool = True) -> _Survey:
    """Count the frames of ``stems`` and check that their audio layouts agree; with
    ``with_stats`` also sum the condition statistics. One clip is in memory at a time."""
    first: dict[str, Any] = {}
    frames = 0

    def conditions() -> Iterator[dict[str, np.ndarray]]:
        nonlocal frames
        for clip in _iter_clips(stems, paths, what):
            if not first:
                first.update(path=clip.paths["audio"], layout=clip.audio_layout)
                first.update(audio_dim=clip.audio.shape[1], text_dim=clip.text.shape[1])
            elif clip.audio_layout != first["layout"]:
                raise BadInputError(
                    clip.paths["audio"],
                    f"audio layout {clip.audio_layout} differs from {first['path']}",
                )
            frames += clip.num_frames
            yield {"audio": clip.audio, "text": clip.text}

    if with_stats:
        stats = ConditionStats.compute(conditions())
    else:
        stats = None
        for _ in conditions():
            pass
    return _Survey(frames, first["audio_dim"], first["text_dim"], first["layout"], stats)


def _check_norm(norm: NormStats, path: Path) -> None:
    for name in MOTION_STREAMS:
        if name not in norm.mean:
            raise BadInputError(
                path, f"no statistics for stream {name!r} (has {sorted(norm.mean)})"
            )


def load_corpus(
    paths: DataPaths,
    tasks: Sequence[str],
    speakers: Sequence[int],
    window: int,
    stride: int,
    seed_frames: int,
    condition_dtype: str = "float32",
    face_input: bool = False,
) -> Corpus:
    """Read, check and normalise the train (and val) clips into window datasets.

    ``face_input``: the batches carry the normalised ground-truth face as an input (CaMN).

    Raises:
        BadInputError: a list, clip or feature file is missing or malformed (named).
    """
    norm = load_norm_stats(paths.norm)
    _check_norm(norm, paths.norm)
    train_list = paths.split_dir / "train.txt"
    stems = _read_list(train_list, required=True)
    if not stems:
        raise BadInputError(train_list, "the train split is empty")
    survey = _survey(stems, paths, "train statistics")
    conditions = survey.conditions
    common = dict(
        tasks=tasks,
        norm=norm,
        conditions=conditions,
        speakers=speakers,
        window=window,
        seed_frames=seed_frames,
        condition_dtype=condition_dtype,
        face_input=face_input,
    )
    train = build_window_dataset(
        _iter_clips(stems, paths, "load train"), stride=stride, num_frames=survey.frames, **common
    )
    frames = survey.frames
    val_stems = _read_list(paths.split_dir / "val.txt", required=False)
    val = None
    if val_stems:
        val_frames = _survey(val_stems, paths, "count val", with_stats=False).frames
        val = build_window_dataset(
            _iter_clips(val_stems, paths, "load val"),
            stride=window,
            cover_tail=True,
            num_frames=val_frames,
            **common,
        )
    else:
        log.warning("no val clips in %s: no validation loss", paths.split_dir / "val.txt")
    log.info(
        "train: %d clips, %d frames, %d windows of %d; val: %d clips, %d windows",
        len(stems),
        frames,
        len(train),
        window,
        len(val_stems),
        0 if val is None else len(val),
    )
    return Corpus(
        train=train,
        val=val,
        norm=norm,
        conditions=conditions,
        audio_dim=int(survey.audio_dim),
        text_dim=int(survey.text_dim),
        audio_layout=survey.audio_layout,
        train_stems=list(stems),
    )
