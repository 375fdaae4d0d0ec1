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
complete, so a kill at any moment leaves either a complete ``step_<N>`` or none.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from adm.errors import BadInputError
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
    """Save a weights file; metadata values that are not strings are stored as JSON."""
    meta = {k: v if isinstance(v, str) else json.dumps(v) for k, v in metadata.items()}
    save_file(dict(tensors), str(path), metadata=meta)


def read_metadata(path: str | Path) -> dict[str, str]:
    """The metadata of a weights file, without loading its tensors.

    Raises:
        BadInputError: missing, unreadable, or not an ``adm-checkpoint/1`` file.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInputError(path, "checkpoint weights not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = dict(f.metadata() or {})
    except (SafetensorError, OSError) as err:
        raise BadInputError(path, f"not a readable safetensors file ({err})") from None
    if metadata.get("format") != FORMAT:
        raise BadInputError(
            path, f"metadata 'format' is {metadata.get('format')!r}, expected {FORMAT!r}"
        )
    return metadata


def read_weights(path: Path, device: str | torch.device = "cpu"):
    """``(tensors, metadata)`` of a weights file.

    Raises:
        BadInputError: missing, unreadable, or not an ``adm-checkpoint/1`` file.
    """
    metadata = read_metadata(path)
    try:
        tensors = load_file(str(path), device=str(device))
    except (SafetensorError, OSError) as err:
        raise BadInputError(path, f"not a readable safetensors file ({err})") from None
    return tensors, metadata


def save_state(path: Path, state: Mapping[str, Any]) -> None:
    """Write the resumable state (tensors and plain types only)."""
    torch.save(dict(state), path)


def load_state(path: Path) -> dict[str, Any]:
    """Read ``state.pt`` without unpickling code (``weights_only=True``)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise BadInputError(path, "training state not found") from None
    except Exception as err:  # torch raises several types for a corrupt or foreign file
        raise BadInputError(path, f"not a training state file ({err})") from None


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


def clean_partial(root: Path) -> None:
    """Remove temporary folders left by a run killed while writing or deleting a checkpoint."""
    root = Path(root)
    if root.is_dir():
        for child in root.iterdir():
            if child.is_dir() and child.name.startswith((".tmp-", ".trash-")):
                shutil.rmtree(child, ignore_errors=True)


def _remove(folder: Path) -> None:
    # Renamed first: a kill during rmtree then leaves a ".trash-" folder, never a step_<N>
    # folder that lacks files.
    trash = folder.with_name(f".trash-{folder.name}-{os.getpid()}")
    os.replace(folder, trash)
    shutil.rmtree(trash, ignore_errors=True)


def write_checkpoint_dir(root: Path, step: int, writers: Mapping[str, Callable[[Path], None]]):
    """Create ``root/step_<step>`` atomically; ``writers`` maps file name -> ``write(path)``."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-step_{step}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        for name, write in writers.items():
            write(tmp / name)
        final = step_dir(root, step)
        if final.exists():
            _remove(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def prune_checkpoints(root: Path, keep: int) -> None:
    """Delete all but the ``keep`` newest complete checkpoints."""
    for _, folder in list_checkpoints(root)[:-keep] if keep > 0 else list_checkpoints(root):
        _remove(folder)


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
