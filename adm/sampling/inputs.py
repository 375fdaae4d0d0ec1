"""A test clip's inputs in the model's units: normalised conditions, seed and speaker index.

Everything is normalised with the statistics stored IN the checkpoint (``norm``: motion with the
train split's ``norm_stats.json``, audio/text with the train features' statistics), so sampling
sees exactly the numbers the model was trained on, whatever files lie around later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from adm.errors import BadInputError
from adm.io.frames import read_frames
from adm.sampling.windows import ClipInputs
from adm.training.dataset import ClipArrays, load_clip_arrays

Norm = Mapping[str, tuple[torch.Tensor, torch.Tensor]]


@dataclass
class TestClip:
    """A clip to generate: what the export needs and the model inputs (the raw features are
    not kept: a test set's audio features take gigabytes).

    Attributes:
        stem: clip name.
        speaker: BEAT speaker id.
        source: the prepared clip file.
        fps: frame rate from the prepared clip's metadata.
        gesture_euler: ``[T, 141]`` the ground truth's Euler degrees (BEAT's unwrapped branch),
            or None when the prepared clip has no such column.
        inputs: the sampler's :class:`~adm.sampling.windows.ClipInputs`.
    """

    stem: str
    speaker: int
    source: Path
    fps: float
    gesture_euler: np.ndarray | None
    inputs: ClipInputs


def _stats(norm: Norm, stream: str) -> tuple[np.ndarray, np.ndarray]:
    mean, std = norm[stream]
    return mean.detach().cpu().numpy(), std.detach().cpu().numpy()


def normalize_motion(arrays: ClipArrays, tasks: Sequence[str], norm: Norm) -> np.ndarray:
    """The active tasks' motion, z-normalised and concatenated: ``[T, Dx]`` float32."""
    parts = []
    for task in tasks:
        mean, std = _stats(norm, task)
        values = arrays.motion(task)
        if values.shape[1] != mean.shape[0]:
            raise BadInputError(
                arrays.paths["clip"],
                f"{task} has {values.shape[1]} dims, the model's statistics {mean.shape[0]}",
            )
        parts.append((values - mean) / std)
    return np.concatenate(parts, axis=1).astype(np.float32)


def seed_frames_of(x: np.ndarray, seed_frames: int) -> np.ndarray:
    """The first ``seed_frames`` rows of ``x`` ``[T, D]``; a shorter clip repeats its last frame
    (a standing pose) to fill the seed."""
    head = x[:seed_frames]
    if len(head) < seed_frames:
        head = np.concatenate([head, np.repeat(head[-1:], seed_frames - len(head), axis=0)])
    return head


def _condition(arrays: ClipArrays, key: str, width: int, norm: Norm) -> torch.Tensor | None:
    """Normalised audio or text ``[T, width]``, or None when the model takes no such stream."""
    if width == 0:
        return None
    values = getattr(arrays, key)
    if values.shape[1] != width:
        raise BadInputError(
            arrays.paths[key], f"{values.shape[1]} dims per frame, the model expects {width}"
        )
    mean, std = _stats(norm, key)
    return torch.from_numpy(((values - mean) / std).astype(np.float32))


def _layout_blocks(layout: Any) -> Any:
    """The comparable part of an audio layout (its blocks), whatever else the metadata holds."""
    return layout.get("blocks", layout) if isinstance(layout, dict) else layout


def prepare_clip(
    stem: str,
    dirs: Mapping[str, str | Path],
    model_config: Any,
    norm: Norm,
    speakers: Sequence[int],
    audio_layout: Any = None,
    face_input: bool = False,
) -> TestClip:
    """Load a clip and build its sampler inputs for a model.

    Args:
        stem: clip name.
        dirs: ``{"clips": ..., "audio": ..., "text": ...}`` folders of the per-frame tables.
        model_config: the denoiser's config (``tasks``, ``seed_frames``, ``audio_dim``,
            ``text_dim``).
        norm: the checkpoint's statistics, stream -> ``(mean, std)``.
        speakers: BEAT speaker ids in the model's index order.
        audio_layout: the audio layout the model was trained on (checked when both are known).
        face_input: the model takes the ground-truth face as an input (CaMN in BEAT's setting).

    Raises:
        BadInputError: a file is missing or malformed, the speaker is unknown to the model, or
            the features do not match the model (each message names the file).
    """
    arrays = load_clip_arrays(stem, dirs["clips"], dirs["audio"], dirs["text"])
    if arrays.speaker not in speakers:
        raise BadInputError(
            arrays.paths["clip"],
            f"clip {stem}: speaker {arrays.speaker} is unknown to the model "
            f"(trained on speakers {list(speakers)})",
        )
    known = audio_layout is not None and arrays.audio_layout is not None
    if known and _layout_blocks(audio_layout) != _layout_blocks(arrays.audio_layout):
        raise BadInputError(
            arrays.paths["audio"],
            f"audio feature layout {_layout_blocks(arrays.audio_layout)} differs from the "
            f"model's {_layout_blocks(audio_layout)}",
        )
    table = read_frames(arrays.paths["clip"])
    euler = table.columns.get("gesture_euler")
    if euler is not None:
        euler = np.asarray(euler, dtype=np.float64)
    fps = float(table.metadata.get("fps", 30.0))
    tasks = tuple(model_config.tasks)
    x = normalize_motion(arrays, tasks, norm)
    inputs = ClipInputs(
        stem=stem,
        num_frames=arrays.num_frames,
        seed=torch.from_numpy(seed_frames_of(x, model_config.seed_frames)),
        speaker=list(speakers).index(arrays.speaker),
        audio=_condition(arrays, "audio", model_config.audio_dim, norm),
        text=_condition(arrays, "text", model_config.text_dim, norm),
        frames=frame_inputs(arrays, norm, face_input),
    )
    return TestClip(stem, arrays.speaker, arrays.paths["clip"], fps, euler, inputs)


def frame_inputs(arrays: ClipArrays, norm: Norm, face_input: bool) -> dict[str, torch.Tensor]:
    """The per-frame inputs some peers read, as training gives them: ``"semantic"`` ``[T]``,
    ``"emotion"`` ``[T]`` long and, with ``face_input``, the normalised face ``[T, 51]``."""
    frames = {
        "semantic": torch.from_numpy(arrays.semantic.astype(np.float32)),
        "emotion": torch.from_numpy(arrays.emotion.astype(np.int64)),
    }
    if face_input:
        mean, std = _stats(norm, "face")
        frames["face_input"] = torch.from_numpy(((arrays.face - mean) / std).astype(np.float32))
    return frames


def denormalize_tasks(x: np.ndarray, tasks: Sequence[str], norm: Norm) -> dict[str, np.ndarray]:
    """Split model output ``[T, Dx]`` into tasks and undo the z-normalisation: task -> ``[T, D]``
    float32; ``face`` is clipped to ``[0, 1]``, the range of ARKit blendshape weights."""
    out, start = {}, 0
    for task in tasks:
        mean, std = _stats(norm, task)
        width = mean.shape[0]
        values = x[:, start : start + width] * std + mean
        if task == "face":
            values = np.clip(values, 0.0, 1.0)
        out[task] = values.astype(np.float32)
        start += width
    return out
