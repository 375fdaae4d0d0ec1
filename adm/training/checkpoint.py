"""Checkpoints: safetensors weights that carry their own config, plus a resumable state file.

A checkpoint folder (``<outdir>/checkpoints/step_<N>/``) holds

- ``model.safetensors``: tensors ``denoiser.*`` (the network), ``weighting.*`` (the learnable
  loss-weighting parameters, e.g. ``weighting.log_var.gesture``) and ``norm.<stream>.mean/std``
  for ``gesture``, ``face``, ``audio``, ``text``; metadata (all strings): ``format``
  (``adm-checkpoint/1``), ``denoiser`` (registry name), ``model_config``, ``diffusion``,
  ``variant``, ``speakers``, ``audio_layout`` (JSON each), ``step``, ``config_hash``;
- ``ema.safetensors``: the same layout with the EMA weights of the network;
- ``state.pt``: optimiser, EMA, step, data position and RNG states, read back with
  ``torch.load(..., weights_only=True)`` (tensors and plain types only);
- ``scalars.csv``, ``val_scalars.csv``: the training and validation scalars up to this step.

As nanoGPT's checkpoints do, the weights file rebuilds the model without any other input
(:func:`load_checkpoint`). A folder is written under a temporary name and renamed when
complete, so a kill at any moment leaves either a complete ``step_<N>`` or none
(:func:`adm.io.atomic.atomic_dir`; the next run removes what a killed one left). The weights
files carry a digest of their tensors (:mod:`adm.io.tensors`), checked on every load. Every
file of a checkpoint gets the same mode, that of any file the user creates (``0666 & ~umask``).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from adm.errors import BadInputError
from adm.io.atomic import (
    atomic_dir,
    process_alive,
    remove_abandoned,
    remove_dir,
    reporting_write_failures,
)
from adm.io.tensors import load_tensors, read_tensor_metadata, save_tensors
from adm.models import build_denoiser

log = logging.getLogger("adm.training")

FORMAT = "adm-checkpoint/1"
CHECKPOINT_FILES = (
    "model.safetensors",
    "ema.safetensors",
    "state.pt",
    "scalars.csv",
    "val_scalars.csv",
)
NORM_STREAMS = ("gesture", "face", "audio", "text")
_STEP_DIR = re.compile(r"^step_(\d+)$")
_JSON_KEYS = ("model_config", "diffusion", "variant", "speakers", "audio_layout")


def weights_tensors(
    denoiser: Mapping[str, torch.Tensor],
    weighting: Mapping[str, torch.Tensor],
    norm: Mapping[str, torch.Tensor],
) -> dict[str, torch.Tensor]:
    """The flat tensor dict of a weights file (CPU, contiguous, unshared)."""
    out: dict[str, torch.Tensor] = {}
    for prefix, tensors in (("denoiser", denoiser), ("weighting", weighting)):
        for name, value in tensors.items():
            out[f"{prefix}.{name}"] = value.detach().to("cpu", copy=True).contiguous()
    for name, value in norm.items():
        out[name] = value.detach().to("cpu", copy=True).contiguous()
    return out


def write_weights(path: Path, tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, Any]):
    """Save a weights file (with its tensor digest); metadata values that are not strings are
    stored as JSON."""
    meta = {k: v if isinstance(v, str) else json.dumps(v) for k, v in metadata.items()}
    save_tensors(path, tensors, meta)


def _check_format(path: Path, metadata: Mapping[str, str]) -> None:
    if metadata.get("format") != FORMAT:
        raise BadInputError(
            path, f"metadata 'format' is {metadata.get('format')!r}, expected {FORMAT!r}"
        )


def read_metadata(path: str | Path) -> dict[str, str]:
    """The metadata of a weights file, without loading its tensors.

    Raises:
        BadInputError: missing, unreadable, or not an ``adm-checkpoint/1`` file.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInputError(path, "checkpoint weights not found")
    metadata = read_tensor_metadata(path)
    _check_format(path, metadata)
    return metadata


def read_weights(path: Path, device: str | torch.device = "cpu"):
    """``(tensors, metadata)`` of a weights file, its tensor digest checked.

    Raises:
        BadInputError: missing, unreadable, damaged, or not an ``adm-checkpoint/1`` file.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInputError(path, "checkpoint weights not found")
    tensors, metadata = load_tensors(path, device)
    _check_format(path, metadata)
    return tensors, metadata


def save_state(path: Path, state: Mapping[str, Any]) -> None:
    """Write the resumable state (tensors and plain types only).

    Written through a Python file object, so that a full disk surfaces as the ``OSError``
    behind torch's own error (reported as a :class:`adm.errors.WriteError` naming the file).
    """
    with reporting_write_failures(path), open(path, "wb") as fh:
        torch.save(dict(state), fh)


def load_state(path: Path) -> dict[str, Any]:
    """Read ``state.pt`` without unpickling code (``weights_only=True``).

    Raises:
        BadInputError: missing, or not a readable training state (truncated, damaged).
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise BadInputError(path, "training state not found") from None
    except Exception as err:  # torch raises several types for a corrupt or foreign file
        text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise BadInputError(path, f"not a readable training state file ({text})") from None
    if not isinstance(state, dict):
        raise BadInputError(path, f"not a training state file (holds a {type(state).__name__})")
    return state


# ---------------------------------------------------------------------- checkpoint folders
def step_dir(root: Path, step: int) -> Path:
    return Path(root) / f"step_{step}"


def list_checkpoints(root: Path) -> list[tuple[int, Path]]:
    """Complete checkpoint folders under ``root`` as ``(step, path)``, oldest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        match = _STEP_DIR.match(child.name)
        if match and child.is_dir() and all((child / f).is_file() for f in CHECKPOINT_FILES):
            found.append((int(match.group(1)), child))
    return sorted(found)


def latest_checkpoint(root: Path) -> tuple[int, Path] | None:
    """The newest complete checkpoint, or None."""
    found = list_checkpoints(root)
    return found[-1] if found else None


_LEGACY_TEMP = re.compile(r"^\.(?:tmp|trash)-step_\d+-(\d+)$")


def clean_partial(root: Path) -> None:
    """Remove the temporary folders left by a run killed while writing or deleting a
    checkpoint (those of a process that still runs are kept)."""
    root = Path(root)
    remove_abandoned(root)
    if root.is_dir():  # names used by earlier versions: .tmp-step_<N>-<pid>, .trash-...
        for child in root.iterdir():
            legacy = _LEGACY_TEMP.match(child.name)
            if legacy and child.is_dir() and not process_alive(int(legacy[1])):
                shutil.rmtree(child, ignore_errors=True)


def write_checkpoint_dir(root: Path, step: int, writers: Mapping[str, Callable[[Path], None]]):
    """Create ``root/step_<step>`` atomically; ``writers`` maps file name -> ``write(path)``.

    Raises:
        WriteError: a file could not be written (disk full, ...); the message names it and
            no part of the folder is left.
    """
    final = step_dir(root, step)
    with atomic_dir(final) as tmp:
        for name, write in writers.items():
            with reporting_write_failures(final / name, tmp / name):
                write(tmp / name)
    return final


def prune_checkpoints(root: Path, keep: int) -> None:
    """Delete all but the ``keep`` newest complete checkpoints."""
    for _, folder in list_checkpoints(root)[:-keep] if keep > 0 else list_checkpoints(root):
        remove_dir(folder)


# ---------------------------------------------------------------------- loading for sampling
@dataclass
class LoadedCheckpoint:
    """A trained model ready to sample, with everything needed to prepare its inputs.

    Attributes:
        model: the denoiser (eval mode) with the EMA or raw weights.
        diffusion_config: the training chain (schedule, steps, prediction, variance).
        norm: stream -> ``(mean [D], std [D])`` for gesture, face, audio, text.
        speakers: BEAT speaker ids in the model's index order.
        tasks: the model's tasks in output order.
        variant: the variant config (name, tasks, weighting).
        audio_layout: the audio features' block layout the model was trained on.
        weighting: the weighting parameters (``log_var.<task>`` for UWP; empty for fixed).
        metadata: the raw metadata strings.
    """

    model: nn.Module
    diffusion_config: dict[str, Any]
    norm: dict[str, tuple[torch.Tensor, torch.Tensor]]
    speakers: list[int]
    tasks: tuple[str, ...]
    variant: dict[str, Any]
    audio_layout: Any
    weighting: dict[str, torch.Tensor]
    metadata: dict[str, str]

    @property
    def step(self) -> int:
        return int(self.metadata["step"])


def _weights_file(path: Path, ema: bool) -> Path:
    path = Path(path)
    if path.is_dir():
        return path / ("ema.safetensors" if ema else "model.safetensors")
    return path


def load_checkpoint(
    path: str | Path, device: str | torch.device = "cpu", ema: bool = True
) -> LoadedCheckpoint:
    """Rebuild a trained model from its weights file alone.

    Args:
        path: a run folder or checkpoint folder (``ema.safetensors`` / ``model.safetensors``
            inside is used, per ``ema``), or a ``.safetensors`` file (used as is).
        device: where to put the model and tensors.
        ema: use the EMA weights (what sampling should use) rather than the raw ones.

    Raises:
        BadInputError: the file is missing, malformed, or its tensors do not fit its config.
    """
    file = _weights_file(Path(path), ema)
    tensors, metadata = read_weights(file, device)
    missing = [k for k in ("denoiser", *_JSON_KEYS, "step") if k not in metadata]
    if missing:
        raise BadInputError(file, f"metadata lacks {missing}")
    try:
        parsed = {k: json.loads(metadata[k]) for k in _JSON_KEYS}
    except json.JSONDecodeError as err:
        raise BadInputError(file, f"metadata is not valid JSON ({err})") from None
    try:
        model = build_denoiser(metadata["denoiser"], parsed["model_config"])
    except ValueError as err:  # ConfigError included: a foreign or damaged config
        raise BadInputError(file, f"metadata model_config: {err}") from None
    state = {k[len("denoiser.") :]: v for k, v in tensors.items() if k.startswith("denoiser.")}
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise BadInputError(file, f"weights do not fit the stored model config ({err})") from None
    norm = {}
    for stream in NORM_STREAMS:
        keys = (f"norm.{stream}.mean", f"norm.{stream}.std")
        if not all(k in tensors for k in keys):
            raise BadInputError(file, f"normalisation tensors {list(keys)} missing")
        norm[stream] = (tensors[keys[0]], tensors[keys[1]])
    weighting = {
        k[len("weighting.") :]: v for k, v in tensors.items() if k.startswith("weighting.")
    }
    return LoadedCheckpoint(
        model=model.to(device).eval(),
        diffusion_config=parsed["diffusion"],
        norm=norm,
        speakers=[int(s) for s in parsed["speakers"]],
        tasks=tuple(model.config.tasks),
        variant=parsed["variant"],
        audio_layout=parsed["audio_layout"],
        weighting=weighting,
        metadata=metadata,
    )
