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

A checkpoint written at step N (:func:`save_checkpoint`) lets a new process continue as if it
had never stopped (:func:`restore_checkpoint`). It is resumed only when it was written under
the same settings and data (the ``resume_key``; the number of iterations and the
logging/checkpoint cadence may differ, so a run can be extended); checkpoints of other settings
are moved aside (:func:`set_aside_stale`), never trained on. A damaged checkpoint (an unreadable
``state.pt``, weights whose digest does not match, a broken scalars file) is moved aside to
``damaged-step_<N>`` with a warning (:func:`set_aside_damaged`), and the run resumes from the
newest intact one. At the end, :func:`write_final_files` publishes the newest checkpoint's
files in the run folder.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from adm.errors import BadInputError
from adm.io.atomic import (
    atomic_dir,
    atomic_path,
    process_alive,
    remove_abandoned,
    remove_dir,
    reporting_write_failures,
)
from adm.io.tensors import load_tensors, read_tensor_metadata, save_tensors
from adm.models import build_denoiser
from adm.training.distributed import DistContext, barrier
from adm.training.rng import restore_rng, seed_everything
from adm.training.scalars import VAL_COLUMNS, ScalarLog

if TYPE_CHECKING:
    from adm.training.step import Trainer

log = logging.getLogger("adm.training")

FORMAT = "adm-checkpoint/1"
STATE_FORMAT = "adm-train-state/1"
#: The scalars so far, mirrored into the run folder while it trains (removed at the end).
LIVE_SCALARS = "scalars.live.csv"
#: What a finished run leaves in its folder, copied from its last checkpoint.
FINAL_FILES = ("model.safetensors", "ema.safetensors", "val_scalars.csv", "scalars.csv")
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


# ---------------------------------------------------------------------- resuming a run
@dataclass
class Start:
    """Where the loop starts: data position and the scalars recorded so far (the step is
    ``trainer.step``)."""

    epoch: int
    offset: int
    scalars: ScalarLog
    val: ScalarLog

    @classmethod
    def fresh(cls) -> Start:
        """The start of a run with no checkpoint: the first batch, no scalars."""
        return cls(0, 0, ScalarLog(), ScalarLog(VAL_COLUMNS))


def save_checkpoint(
    root: Path,
    trainer: Trainer,
    position: tuple[int, int],
    rng: list[dict[str, Any]],
    key: str,
    metadata: Mapping[str, Any],
    norm: Mapping[str, torch.Tensor],
    scalars: ScalarLog,
    val: ScalarLog,
    keep: int,
) -> Path:
    """Write ``root/step_<trainer.step>`` atomically and prune to the ``keep`` newest.

    Args:
        position: ``(epoch, batch offset)`` of the next batch.
        rng: :func:`adm.training.rng.capture_rng` of every rank, in rank order.
        key: the resume key of the run's settings and data.
        metadata: the weights files' metadata (``step`` included).
        norm: ``norm.<stream>.mean/std`` tensors.
    """
    step = trainer.step
    state = {
        "format": STATE_FORMAT,
        "step": step,
        "epoch": position[0],
        "offset": position[1],
        "world_size": len(rng),
        "resume_key": key,
        "optimizer": trainer.optimizer.state_dict(),
        "ema": {"decay": trainer.ema.decay, "updates": step},  # weights: ema.safetensors
        "rng": rng,
    }
    weighting = trainer.weighting.state_dict()
    frozen = frozen_tensors(trainer.denoiser)
    raw = {**weights_tensors(trainer.denoiser.state_dict(), weighting, norm), **frozen}
    ema = {**weights_tensors(trainer.ema.state_dict(), weighting, norm), **frozen}
    writers = {
        "model.safetensors": lambda p: write_weights(p, raw, metadata),
        "ema.safetensors": lambda p: write_weights(p, ema, metadata),
        "state.pt": lambda p: save_state(p, state),
        "scalars.csv": scalars.write,
        "val_scalars.csv": val.write,
    }
    folder = write_checkpoint_dir(root, step, writers)
    prune_checkpoints(root, keep)
    log.info("checkpoint %s", folder)
    return folder


def frozen_tensors(network: nn.Module) -> dict[str, torch.Tensor]:
    """``frozen.<name>`` tensors of a network's frozen parts (MambaTalk's stage-1 VQ-VAEs),
    stored in its weights files so that one file rebuilds the whole model; empty otherwise."""
    state = getattr(network, "frozen_state", None)
    if state is None:
        return {}
    return {f"frozen.{k}": v.detach().to("cpu", copy=True).contiguous() for k, v in state().items()}


def _strip(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def set_aside_stale(root: Path, key: str, ctx: DistContext) -> None:
    """Move checkpoints written under other settings out of the way (kept, not deleted)."""
    barrier(ctx)
    if ctx.is_main:
        stale = root.with_name(f"{root.name}.stale-{key}")
        if stale.exists():
            shutil.rmtree(stale)
        os.replace(root, stale)
        log.warning(
            "checkpoints in %s were written with other settings or data: moved to %s", root, stale
        )
    barrier(ctx)


_STATE_KEYS = ("format", "step", "epoch", "offset", "optimizer", "rng", "resume_key")


def check_intact(folder: Path) -> None:
    """Read every file of a checkpoint folder as resuming would.

    Raises:
        BadInputError: a file is unreadable or damaged; the message names it.
    """
    state = load_state(folder / "state.pt")
    missing = [k for k in _STATE_KEYS if k not in state]
    if missing:
        raise BadInputError(folder / "state.pt", f"training state lacks {missing}")
    for name in ("model.safetensors", "ema.safetensors"):
        read_weights(folder / name)
    for name, columns in (("scalars.csv", None), ("val_scalars.csv", VAL_COLUMNS)):
        try:
            ScalarLog.read(folder / name, *(() if columns is None else (columns,)))
        except (OSError, ValueError, KeyError, csv.Error) as err:
            raise BadInputError(folder / name, f"unreadable scalars ({err})") from None


def set_aside_damaged(root: Path) -> None:
    """Move damaged checkpoints aside, newest first, until an intact one is found (kept for
    inspection as ``damaged-step_<N>``, never deleted; resuming ignores them)."""
    found = list_checkpoints(root)
    for index in range(len(found) - 1, -1, -1):
        step, folder = found[index]
        try:
            check_intact(folder)
            return
        except BadInputError as err:
            aside = folder.with_name(f"damaged-{folder.name}")
            if aside.exists():
                shutil.rmtree(aside)
            os.replace(folder, aside)
            older = f"step {found[index - 1][0]}" if index > 0 else "none: training starts afresh"
            log.warning(
                "checkpoint of step %d is damaged (%s); moved to %s; resuming from %s",
                step,
                err,
                aside,
                older,
            )


def restore_checkpoint(
    trainer: Trainer, folder: Path, state: Mapping[str, Any], ctx: DistContext
) -> Start:
    """Load the checkpoint ``folder`` (its ``state.pt`` already read as ``state``) into
    ``trainer``: weights, weighting, EMA, optimiser, step and this rank's RNG states.

    Returns where the data stream continues and the scalars recorded up to the step.
    """
    weights, _ = read_weights(folder / "model.safetensors")
    trainer.denoiser.load_state_dict(_strip(weights, "denoiser."))
    trainer.weighting.load_state_dict(_strip(weights, "weighting."))
    ema, _ = read_weights(folder / "ema.safetensors")
    trainer.ema.load_state_dict(_strip(ema, "denoiser."))
    trainer.optimizer.load_state_dict(state["optimizer"])
    trainer.step = step = int(state["step"])
    rng = state["rng"]
    if len(rng) == ctx.world_size:
        restore_rng(rng[ctx.rank], trainer.generators())
    else:
        # Per-rank dropout streams cannot carry over to another process count; the data order
        # and the diffusion noise (shared by all ranks) still continue exactly.
        log.warning(
            "resuming a %d-process checkpoint with %d processes: dropout RNG reseeded",
            len(rng),
            ctx.world_size,
        )
        seed_everything(trainer.cfg.seed + ctx.rank + 7919 * step)
        trainer.noise.set_state(rng[0]["generators"]["noise"])
    if ctx.is_main:
        log.info("resuming from %s (step %d)", folder, step)
    return Start(
        int(state["epoch"]),
        int(state["offset"]),
        ScalarLog.read(folder / "scalars.csv").until(step),
        ScalarLog.read(folder / "val_scalars.csv", VAL_COLUMNS).until(step),
    )


def write_final_files(outdir: Path, root: Path, iterations: int) -> None:
    """Copy the newest checkpoint's files into ``outdir`` (each atomically)."""
    found = latest_checkpoint(root)
    if found is None:
        raise RuntimeError(f"{root}: no complete checkpoint to take the final files from")
    step, folder = found
    if step != iterations:
        log.warning("final files from step %d (train.iterations is %d)", step, iterations)
    for name in FINAL_FILES:
        with atomic_path(outdir / name) as tmp:
            shutil.copyfile(folder / name, tmp)
    (outdir / LIVE_SCALARS).unlink(missing_ok=True)
    log.info("wrote %s", ", ".join(str(outdir / n) for n in FINAL_FILES))


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
        data_range: task -> ``(min [D], max [D])``, the train frames' extent in normalised
            units (empty for weights written before it was stored).
        file: the weights file read.
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
    data_range: dict[str, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)
    file: Path | None = None

    @property
    def step(self) -> int:
        return int(self.metadata["step"])

    def x0_bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(low [Dx], high [Dx])``: the data range of every task, in output order, for
        ``sample.clip_x0``.

        Raises:
            BadInputError: the weights file stores no range for one of the tasks (written
                before ranges were stored: retrain, or sample without ``clip_x0``).
        """
        missing = [task for task in self.tasks if task not in self.data_range]
        if missing:
            raise BadInputError(
                self.file or "checkpoint",
                f"no data range of {missing} for sample.clip_x0 (weights written before "
                "ranges were stored): retrain, or set clip_x0: false",
            )
        low = torch.cat([self.data_range[task][0] for task in self.tasks])
        high = torch.cat([self.data_range[task][1] for task in self.tasks])
        return low, high


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
    if "frozen_config" in metadata:
        try:
            model.load_frozen(json.loads(metadata["frozen_config"]), _strip(tensors, "frozen."))
        except (ValueError, AttributeError) as err:  # ConfigError and bad JSON included
            raise BadInputError(file, f"frozen parts: {err}") from None
    norm = {}
    for stream in NORM_STREAMS:
        keys = (f"norm.{stream}.mean", f"norm.{stream}.std")
        if not all(k in tensors for k in keys):
            raise BadInputError(file, f"normalisation tensors {list(keys)} missing")
        norm[stream] = (tensors[keys[0]], tensors[keys[1]])
    weighting = {
        k[len("weighting.") :]: v for k, v in tensors.items() if k.startswith("weighting.")
    }
    data_range = {
        task: (tensors[f"range.{task}.min"], tensors[f"range.{task}.max"])
        for task in model.config.tasks
        if f"range.{task}.min" in tensors and f"range.{task}.max" in tensors
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
        data_range=data_range,
        file=file,
    )
