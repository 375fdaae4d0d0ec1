"""Save the complete training state, pick it up again, and publish a run's final files.

A checkpoint written at step N (:func:`save_checkpoint`) lets a new process continue as if it
had never stopped: weights and weighting parameters (``model.safetensors``), the EMA
(``ema.safetensors``), and in ``state.pt`` the optimiser, the data position ``(epoch, batch
offset)`` and the RNG states of every rank. :func:`resume_or_start` loads the newest complete
checkpoint when it was written under the same settings and data (the ``resume_key``; the number
of iterations and the logging/checkpoint cadence may differ, so a run can be extended), and
moves checkpoints of other settings aside, never training on from them. A damaged checkpoint
(an unreadable ``state.pt``, weights whose digest does not match, a broken scalars file) is
moved aside to ``damaged-step_<N>`` with a warning, and the run resumes from the newest intact
one.
"""

from __future__ import annotations

import csv
import logging
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from adm.errors import BadInputError
from adm.io.atomic import atomic_path
from adm.training import checkpoint as ckpt
from adm.training.distributed import DistContext, barrier
from adm.training.rng import restore_rng, seed_everything
from adm.training.scalars import VAL_COLUMNS, ScalarLog
from adm.training.step import Trainer

log = logging.getLogger("adm.training")

STATE_FORMAT = "adm-train-state/1"
LIVE_SCALARS = "scalars.live.csv"
FINAL_FILES = ("model.safetensors", "ema.safetensors", "val_scalars.csv", "scalars.csv")


@dataclass
class Start:
    """Where the loop starts: data position and the scalars recorded so far (the step is
    ``trainer.step``)."""

    epoch: int
    offset: int
    scalars: ScalarLog
    val: ScalarLog


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
    raw = ckpt.weights_tensors(trainer.denoiser.state_dict(), weighting, norm)
    ema = ckpt.weights_tensors(trainer.ema.state_dict(), weighting, norm)
    writers = {
        "model.safetensors": lambda p: ckpt.write_weights(p, raw, metadata),
        "ema.safetensors": lambda p: ckpt.write_weights(p, ema, metadata),
        "state.pt": lambda p: ckpt.save_state(p, state),
        "scalars.csv": scalars.write,
        "val_scalars.csv": val.write,
    }
    folder = ckpt.write_checkpoint_dir(root, step, writers)
    ckpt.prune_checkpoints(root, keep)
    log.info("checkpoint %s", folder)
    return folder


def _strip(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def _set_aside(root: Path, key: str, ctx: DistContext) -> None:
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
    state = ckpt.load_state(folder / "state.pt")
    missing = [k for k in _STATE_KEYS if k not in state]
    if missing:
        raise BadInputError(folder / "state.pt", f"training state lacks {missing}")
    for name in ("model.safetensors", "ema.safetensors"):
        ckpt.read_weights(folder / name)
    for name, columns in (("scalars.csv", None), ("val_scalars.csv", VAL_COLUMNS)):
        try:
            ScalarLog.read(folder / name, *(() if columns is None else (columns,)))
        except (OSError, ValueError, KeyError, csv.Error) as err:
            raise BadInputError(folder / name, f"unreadable scalars ({err})") from None


def set_aside_damaged(root: Path) -> None:
    """Move damaged checkpoints aside, newest first, until an intact one is found (kept for
    inspection as ``damaged-step_<N>``, never deleted; resuming ignores them)."""
    found = ckpt.list_checkpoints(root)
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


def resume_or_start(trainer: Trainer, root: Path, key: str, ctx: DistContext) -> Start:
    """Load the newest complete checkpoint under ``root`` into ``trainer``, or seed a fresh
    start (global RNGs seeded with ``seed + rank``, so ranks draw different dropout masks)."""
    seed = trainer.cfg.seed
    if ctx.is_main:
        ckpt.clean_partial(root)
        set_aside_damaged(root)
    barrier(ctx)
    found = ckpt.latest_checkpoint(root)
    state = None
    if found is not None:
        state = ckpt.load_state(found[1] / "state.pt")
        if state.get("format") != STATE_FORMAT or state.get("resume_key") != key:
            _set_aside(root, str(state.get("resume_key", "unknown")), ctx)
            found = state = None
    if found is None or state is None:
        seed_everything(seed + ctx.rank)
        return Start(0, 0, ScalarLog(), ScalarLog(VAL_COLUMNS))

    step, folder = found
    weights, _ = ckpt.read_weights(folder / "model.safetensors")
    trainer.denoiser.load_state_dict(_strip(weights, "denoiser."))
    trainer.weighting.load_state_dict(_strip(weights, "weighting."))
    ema, _ = ckpt.read_weights(folder / "ema.safetensors")
    trainer.ema.load_state_dict(_strip(ema, "denoiser."))
    trainer.optimizer.load_state_dict(state["optimizer"])
    trainer.step = int(state["step"])
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
        seed_everything(seed + ctx.rank + 7919 * trainer.step)
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
    found = ckpt.latest_checkpoint(root)
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
