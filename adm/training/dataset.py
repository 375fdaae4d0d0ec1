"""Training data: whole clips loaded into memory and cut into fixed-length windows.

Per clip, three per-frame tables share the frame count T (see the stage contracts):
``<clips>/<stem>.parquet`` (``gesture`` [T, 141] axis-angle, ``face`` [T, 51]; metadata
``speaker``), ``<audio>/<stem>.parquet`` (``audio`` [T, Da]; metadata ``layout``) and
``<text>/<stem>.parquet`` (``text`` [T, Dt]).

:class:`WindowDataset` holds every clip back to back in flat ``[N + 1, D]`` tensors (the extra
last row is zeros, the padding row) and enumerates windows ``(clip, start)`` every ``stride``
frames, as DiffuseStyleGesture+ cuts BEAT into 150-frame training samples. A clip shorter than
the window gives one window, padded to W with the zero row and masked out. A batch is gathered
with one indexing op, so it is as cheap on a GPU (where the trainer keeps the data) as on the CPU.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from adm.data.normalization import NormStats
from adm.errors import BadInputError
from adm.io.frames import read_frames
from adm.training.conditions import ConditionStats

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


@dataclass
class ClipArrays:
    """One clip's raw (un-normalised) streams, all with T frames.

    Attributes:
        stem: clip name (``2_scott_0_1_1``).
        speaker: BEAT speaker id from the clip metadata.
        gesture: ``[T, 141]`` axis-angle (radians).
        face: ``[T, 51]`` ARKit blendshape weights.
        audio: ``[T, Da]`` audio features.
        text: ``[T, Dt]`` text features.
        audio_layout: the audio file's ``layout`` metadata (named blocks).
        paths: the three source files, by stream ("clip", "audio", "text").
        semantic: ``[T]`` BEAT semantic score per frame (zeros when the clip has none).
        emotion: ``[T]`` BEAT emotion label 0-7 per frame (zeros when the clip has none).
    """

    stem: str
    speaker: int
    gesture: np.ndarray
    face: np.ndarray
    audio: np.ndarray
    text: np.ndarray
    audio_layout: Any
    paths: dict[str, Path]
    semantic: np.ndarray | None = None
    emotion: np.ndarray | None = None

    def __post_init__(self) -> None:
        frames = self.num_frames
        if self.semantic is None:
            self.semantic = np.zeros(frames, np.float32)
        if self.emotion is None:
            self.emotion = np.zeros(frames, np.int64)

    @property
    def num_frames(self) -> int:
        return int(self.gesture.shape[0])

    def motion(self, task: str) -> np.ndarray:
        """The raw motion stream of ``task`` ("gesture" or "face"), ``[T, D]``."""
        return {"gesture": self.gesture, "face": self.face}[task]


def _read_columns(
    path: Path, columns: list[str], what: str, annotations: tuple[str, ...] = ()
) -> tuple[dict[str, np.ndarray], dict]:
    """The ``[T, D]`` float32 ``columns`` of a frame table, and its ``[T]`` ``annotations``
    (per-frame labels, optional: absent ones are left out), with the table's metadata."""
    if not path.is_file():
        raise BadInputError(path, f"{what} not found")
    table = read_frames(path)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise BadInputError(path, f"{what} lacks column(s) {missing} (has {list(table.columns)})")
    arrays = {}
    for name in columns:
        values = np.asarray(table[name], dtype=np.float32)
        if values.ndim != 2:
            raise BadInputError(path, f"column {name!r}: expected [T, D], got {values.shape}")
        if not np.isfinite(values).all():
            raise BadInputError(path, f"column {name!r} holds non-finite values")
        arrays[name] = values
    for name in annotations:
        if name not in table.columns:
            continue
        values = np.asarray(table[name])
        if values.ndim != 1 or not np.isfinite(values.astype(np.float64)).all():
            raise BadInputError(path, f"column {name!r}: expected finite [T] values")
        arrays[name] = values
    return arrays, table.metadata


def load_clip_arrays(
    stem: str, clips_dir: str | Path, audio_dir: str | Path, text_dir: str | Path
) -> ClipArrays:
    """Read one clip's motion and features (raw values) and check they agree.

    Raises:
        BadInputError: a file is missing or malformed (the message names it), or the frame
            counts differ (the message names both files).
    """
    paths = {
        "clip": Path(clips_dir) / f"{stem}.parquet",
        "audio": Path(audio_dir) / f"{stem}.parquet",
        "text": Path(text_dir) / f"{stem}.parquet",
    }
    motion, meta = _read_columns(
        paths["clip"], ["gesture", "face"], "prepared clip", ("semantic", "emotion")
    )
    audio, audio_meta = _read_columns(paths["audio"], ["audio"], f"audio features of {stem}")
    text, _ = _read_columns(paths["text"], ["text"], f"text features of {stem}")
    if meta.get("skipped"):
        raise BadInputError(paths["clip"], "clip is marked skipped but listed in a split")
    speaker = meta.get("speaker")
    if isinstance(speaker, bool) or not isinstance(speaker, int):
        raise BadInputError(
            paths["clip"], f"metadata 'speaker': expected a BEAT id, got {speaker!r}"
        )
    frames = motion["gesture"].shape[0]
    if motion["face"].shape[0] != frames:
        raise BadInputError(
            paths["clip"], f"gesture has {frames} frames but face {motion['face'].shape[0]}"
        )
    for key in ("semantic", "emotion"):
        if key in motion and motion[key].shape[0] != frames:
            raise BadInputError(
                paths["clip"], f"gesture has {frames} frames but {key} {motion[key].shape[0]}"
            )
    for key, values in (("audio", audio["audio"]), ("text", text["text"])):
        if values.shape[0] != frames:
            raise BadInputError(
                paths[key],
                f"{values.shape[0]} frames, but the prepared clip {paths['clip']} has {frames}",
            )
    return ClipArrays(
        stem=stem,
        speaker=speaker,
        gesture=motion["gesture"],
        face=motion["face"],
        audio=audio["audio"],
        text=text["text"],
        audio_layout=audio_meta.get("layout"),
        paths=paths,
        semantic=motion["semantic"].astype(np.float32) if "semantic" in motion else None,
        emotion=motion["emotion"].astype(np.int64) if "emotion" in motion else None,
    )


class Batch(NamedTuple):
    """A batch of windows: ``x0`` ``[B, W, Dx]`` and the denoiser's ``cond``.

    ``cond``: ``"audio"`` [B, W, Da] float32, ``"text"`` [B, W, Dt] float32, ``"speaker"`` [B]
    long (index into the speaker list), ``"seed"`` [B, S, Dx] (= ``x0[:, :S]``), ``"mask"``
    [B, W] bool (False on padded frames).
    """

    x0: Tensor
    cond: dict[str, Tensor]

    def to(self, device: torch.device | str, non_blocking: bool = False) -> Batch:
        cond = {k: v.to(device, non_blocking=non_blocking) for k, v in self.cond.items()}
        return Batch(self.x0.to(device, non_blocking=non_blocking), cond)


class WindowDataset(Dataset):
    """Fixed-length windows over clips held in memory.

    Args:
        x: ``[N + 1, Dx]`` float32 normalised motion of the active tasks, clips back to back;
            the last row is the zero padding row.
        audio: ``[N + 1, Da]`` normalised audio features (any float dtype; batches are float32).
        text: ``[N + 1, Dt]`` normalised text features.
        base: ``[M]`` long, flat row of each window's first frame.
        valid: ``[M]`` long, real frames in each window (``W`` unless the clip is shorter).
        speaker: ``[M]`` long, speaker index of each window.
        window: W.
        seed_frames: S.
        frame_streams: further per-frame ``[N + 1, ...]`` streams gathered into ``cond`` under
            their key: ``"semantic"`` float32, ``"emotion"`` long and, for networks that take
            the ground-truth face as an input (CaMN), ``"face_input"`` ``[N + 1, 51]``
            normalised; the padding row is zeros.
    """

    def __init__(
        self,
        x: Tensor,
        audio: Tensor,
        text: Tensor,
        base: Tensor,
        valid: Tensor,
        speaker: Tensor,
        window: int,
        seed_frames: int,
        frame_streams: dict[str, Tensor] | None = None,
    ):
        self.x, self.audio, self.text = x, audio, text
        self.frame_streams = dict(frame_streams or {})
        self.base, self.valid, self.speaker = base, valid, speaker
        self.window, self.seed_frames = int(window), int(seed_frames)
        self.pad_row = x.shape[0] - 1

    def __len__(self) -> int:
        return int(self.base.shape[0])

    @property
    def x_dim(self) -> int:
        return int(self.x.shape[1])

    def batch(self, indices: Tensor | Sequence[int]) -> Batch:
        """Gather windows ``indices`` ``[B]`` into a :class:`Batch` (on the data's device)."""
        idx = torch.as_tensor(indices, dtype=torch.long, device=self.base.device)
        offsets = torch.arange(self.window, device=idx.device)
        mask = offsets[None, :] < self.valid[idx][:, None]  # [B, W]
        rows = torch.where(mask, self.base[idx][:, None] + offsets, self.pad_row)
        x0 = self.x[rows]
        cond = {
            "audio": self.audio[rows].float(),
            "text": self.text[rows].float(),
            "speaker": self.speaker[idx],
            "seed": x0[:, : self.seed_frames],
            "mask": mask,
        }
        for key, stream in self.frame_streams.items():
            cond[key] = stream[rows]
        return Batch(x0, cond)

    def __getitems__(self, indices: list[int]) -> Batch:
        # DataLoader fetches a whole batch through this hook in one gather.
        return self.batch(indices)

    def __getitem__(self, index: int) -> Batch:
        one = self.batch([index])
        return Batch(one.x0[0], {k: v[0] for k, v in one.cond.items()})

    def to(self, device: torch.device | str) -> WindowDataset:
        """A copy of the dataset with every tensor on ``device``."""
        move = [t.to(device) for t in (self.x, self.audio, self.text)]
        index = [t.to(device) for t in (self.base, self.valid, self.speaker)]
        streams = {k: v.to(device) for k, v in self.frame_streams.items()}
        return WindowDataset(*move, *index, self.window, self.seed_frames, streams)


def window_starts(
    num_frames: int, window: int, stride: int, cover_tail: bool = False
) -> list[tuple[int, int]]:
    """``(start, valid_frames)`` of each window of a ``num_frames`` clip.

    Windows start every ``stride`` frames while they fit; a clip shorter than ``window`` gives
    the single window ``(0, num_frames)`` (padded by the dataset). With ``cover_tail`` the
    frames after the last full window get one more, padded window (with ``stride == window``
    every frame then lies in exactly one window: the val windows).
    """
    if num_frames < window:
        return [(0, num_frames)] if num_frames > 0 else []
    starts = [(s, window) for s in range(0, num_frames - window + 1, stride)]
    tail = starts[-1][0] + stride
    if cover_tail and tail < num_frames and starts[-1][0] + window < num_frames:
        starts.append((tail, num_frames - tail))
    return starts


def build_window_dataset(
    clips: Iterable[ClipArrays],
    tasks: Sequence[str],
    norm: NormStats,
    conditions: ConditionStats,
    speakers: Sequence[int],
    window: int,
    stride: int,
    seed_frames: int,
    condition_dtype: str = "float32",
    cover_tail: bool = False,
    face_input: bool = False,
    num_frames: int | None = None,
) -> WindowDataset:
    """Normalise ``clips`` and lay them out as a :class:`WindowDataset` (on the CPU).

    Motion is z-normalised per task with ``norm`` (the train-split stats file) and the active
    ``tasks`` concatenated in order; audio/text with ``conditions``; speaker ids become indices
    into ``speakers``. ``cover_tail``: see :func:`window_starts`. Every batch also carries the
    per-frame ``semantic`` scores and ``emotion`` labels, and with ``face_input`` the normalised
    ground-truth face (an input of CaMN).

    With ``num_frames`` (the clips' total frame count, known beforehand) ``clips`` is iterated
    once and may load each clip on demand: the flat tensors are allocated at the first clip and
    filled clip by clip, so memory holds the dataset plus one clip, never every clip's raw
    arrays beside it (a BEAT-sized corpus is 1.3 million train frames of 1,434 condition dims).
    Without it ``clips`` is read into a list first.

    Raises:
        BadInputError: a clip's speaker is not in ``speakers``, a stream's width differs from
            its statistics or from the other clips, or the clips hold more or fewer frames than
            ``num_frames`` (the message names the file).
    """
    if num_frames is None:
        clips = list(clips)
        num_frames = sum(c.num_frames for c in clips)
    dtype = DTYPES[condition_dtype]
    dims = {"x": 0}
    for task in tasks:
        if task not in norm.mean:
            raise ValueError(f"normalisation statistics have no stream {task!r}")
        dims["x"] += int(norm.mean[task].shape[0])
    first: dict[str, Path] = {}  # the first clip's files, named when a later one disagrees
    base, valid, speaker = [], [], []
    offset = 0
    for clip in clips:
        if not first:
            first = dict(clip.paths)
            dims |= {"audio": clip.audio.shape[1], "text": clip.text.shape[1]}
            x = torch.zeros(num_frames + 1, dims["x"], dtype=torch.float32)
            audio = torch.zeros(num_frames + 1, dims["audio"], dtype=dtype)
            text = torch.zeros(num_frames + 1, dims["text"], dtype=dtype)
            streams = {
                "semantic": torch.zeros(num_frames + 1, dtype=torch.float32),
                "emotion": torch.zeros(num_frames + 1, dtype=torch.long),
            }
            if face_input:
                streams["face_input"] = torch.zeros(num_frames + 1, norm.mean["face"].shape[0])
        for task in tasks:
            width = norm.mean[task].shape[0]
            if clip.motion(task).shape[1] != width:
                raise BadInputError(
                    clip.paths["clip"],
                    f"{task} has {clip.motion(task).shape[1]} dims, the statistics {width}",
                )
        for key in ("audio", "text"):
            if getattr(clip, key).shape[1] != dims[key]:
                raise BadInputError(
                    clip.paths[key],
                    f"{getattr(clip, key).shape[1]} dims, but {first[key]} has {dims[key]}",
                )
        if clip.speaker not in speakers:
            raise BadInputError(
                clip.paths["clip"],
                f"speaker {clip.speaker} is not among --speakers {list(speakers)}",
            )
        frames = clip.num_frames
        if offset + frames > num_frames:
            raise BadInputError(
                clip.paths["clip"],
                f"the clips hold more than the {num_frames} frames counted before loading "
                f"(a file changed while the corpus was read?)",
            )
        rows = slice(offset, offset + frames)
        motion = [norm.normalize(t, clip.motion(t)) for t in tasks]
        x[rows] = torch.from_numpy(np.concatenate(motion, axis=1).astype(np.float32))
        audio[rows] = torch.from_numpy(conditions.normalize("audio", clip.audio))
        text[rows] = torch.from_numpy(conditions.normalize("text", clip.text))
        streams["semantic"][rows] = torch.from_numpy(clip.semantic.astype(np.float32))
        streams["emotion"][rows] = torch.from_numpy(clip.emotion.astype(np.int64))
        if face_input:
            face = norm.normalize("face", clip.face).astype(np.float32)
            streams["face_input"][rows] = torch.from_numpy(face)
        index = list(speakers).index(clip.speaker)
        for start, n in window_starts(frames, window, stride, cover_tail):
            base.append(offset + start)
            valid.append(n)
            speaker.append(index)
        offset += frames
    if not first:
        raise ValueError("no clips to build windows from")
    if offset != num_frames:
        raise BadInputError(
            first["clip"],
            f"the clips hold {offset} frames, not the {num_frames} counted before loading "
            f"(a file changed while the corpus was read?)",
        )
    base_t, valid_t, speaker_t = (torch.tensor(v, dtype=torch.long) for v in (base, valid, speaker))
    return WindowDataset(x, audio, text, base_t, valid_t, speaker_t, window, seed_frames, streams)
