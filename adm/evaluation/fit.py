"""Training the metric models on the train split (metrics.md): FGD autoencoder and face VAE.

- ``motion``: BEAT's motion autoencoder on windows of ``L`` frames (stride 10) of the
  *normalised* 141-d axis-angle gestures (train-split statistics), as the paper retrained it in
  its own gesture representation.
- ``face``: SAiD's blendshape VAE on windows of the raw 51 ARKit weights (in ``[0, 1]``; its
  decoder ends in Tanh, so the weights are not z-normalised).

Windows are cut lazily (:class:`adm.metrics.SequenceWindows`), so hours of motion cost only
their frames in memory. After training, the reconstruction error of the trained model in eval
mode (mean absolute error, from ``mu``) on up to 2048 train windows is measured for the record.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from adm.data.normalization import NormStats
from adm.errors import BadInputError
from adm.io.frames import read_frames
from adm.metrics.face_vae import fit_face_vae
from adm.metrics.fitting import Observer
from adm.metrics.motion_autoencoder import fit_motion_autoencoder
from adm.metrics.tensors import eval_mode
from adm.metrics.windows import SequenceWindows

log = logging.getLogger("adm.fit_metric_model")

COLUMN = {"motion": "gesture", "face": "face"}
RECON_WINDOWS = 2048


def train_sequences(
    clips_dir: str | Path, stems: Sequence[str], kind: str, norm: NormStats, split: str = "train"
) -> list[np.ndarray]:
    """The per-clip sequences ``[T_i, D]`` of ``kind`` (float32) of the clips ``stems`` of
    ``split`` (the train split for a fit; another split to measure held-out reconstruction).

    Raises:
        BadInputError: a clip is missing, marked skipped, or lacks the column.
    """
    column = COLUMN[kind]
    out = []
    for stem in stems:
        path = Path(clips_dir) / f"{stem}.parquet"
        if not path.is_file():
            raise BadInputError(path, f"prepared {split} clip {stem} not found")
        table = read_frames(path)
        if table.metadata.get("skipped"):
            raise BadInputError(path, f"clip is marked skipped but listed in the {split} split")
        if column not in table.columns:
            raise BadInputError(path, f"column {column!r} missing (has {sorted(table.columns)})")
        x = np.asarray(table[column], dtype=np.float64)
        if x.ndim != 2 or not np.isfinite(x).all():
            raise BadInputError(path, f"column {column!r}: expected finite [T, D], got {x.shape}")
        if kind == "motion":
            x = norm.normalize("gesture", x)
        out.append(x.astype(np.float32))
    return out


def reconstruction_error(model: torch.nn.Module, windows: SequenceWindows, seed: int) -> float:
    """Mean |recon - x| of the model (eval mode, decoding ``mu``) on up to 2048 windows."""
    rng = np.random.default_rng(seed)
    count = min(len(windows), RECON_WINDOWS)
    idx = np.sort(rng.choice(len(windows), size=count, replace=False))
    device = next(model.parameters()).device
    total = 0.0
    with eval_mode(model):
        for start in range(0, count, 256):
            x = torch.as_tensor(windows[idx[start : start + 256]], device=device)
            mu, _ = model.encoder(x)
            total += float((model.decoder(mu) - x).abs().sum())
    return total / (count * windows.shape[1] * windows.shape[2])


def fit_metric_model(
    kind: str,
    sequences: Sequence[np.ndarray],
    settings: dict[str, Any],
    device: torch.device | str = "cpu",
    where: str | Path = "train split",
    observe: Observer | None = None,
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Train the ``kind`` model on windows of ``sequences``; returns it and a training record.

    Args:
        settings: :meth:`adm.evaluation.config.FitConfig.resolved` of ``kind``.
        where: named in the error when the sequences give fewer than 2 windows.
        observe: called after every step with the model (:data:`adm.metrics.fitting.Observer`).

    Returns:
        The model (eval mode) and ``{"windows", "steps", "final_loss", "recon_l1", ...}``:
        ``final_loss`` is the mean training loss of the last 10 steps.
    """
    windows = SequenceWindows(sequences, settings["length"], settings["stride"])
    if len(windows) < 2:
        raise BadInputError(
            where,
            f"the train clips give {len(windows)} window(s) of {settings['length']} frames at "
            f"stride {settings['stride']}; training needs at least 2",
        )
    common = {
        "iterations": settings["iterations"],
        "epochs": settings["epochs"],
        "batch": min(settings["batch"], len(windows)),
        "lr": settings["lr"],
        "mlp_negative_slope": settings["mlp_negative_slope"],
        "seed": settings["seed"],
        "device": device,
        "progress": _progress_logger(),
        "observe": observe,
    }
    if kind == "motion":
        model = fit_motion_autoencoder(windows, **common)
    else:
        model = fit_face_vae(windows, beta=settings["beta"], **common)
    losses = list(model.train_losses)
    record = {
        "kind": kind,
        "windows": len(windows),
        "frames": int(sum(len(s) for s in sequences)),
        "sequences": len(sequences),
        "batch": common["batch"],
        "steps": len(losses),
        "first_loss": losses[0],
        "final_loss": float(np.mean(losses[-10:])),
        "recon_l1": reconstruction_error(model, windows, settings["seed"]),
        "settings": dict(settings),
    }
    return model, record


def _progress_logger():
    def report(step: int, total: int, loss: float) -> None:
        if step == 1 or step == total or step % max(1, total // 10) == 0:
            log.info("step %d/%d loss %.5g", step, total, loss)

    return report
