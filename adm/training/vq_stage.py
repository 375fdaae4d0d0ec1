"""Stage 1 of a two-stage network (MambaTalk): one VQ-VAE per body part, trained on the train
split's normalised motion and written as ``<outdir>/<part>.safetensors`` (``adm train-vq``).

The parts come from the tasks (gesture: upper body and hands; face: the face), the channels
from :mod:`adm.models.mambatalk.parts`. Windows of ``window`` frames every ``stride`` frames
(MambaTalk: 64 and 20), Adam at ``lr`` (3e-4), ``steps`` minibatches of ``batch`` windows; the
same seed and thread count give the same weights. Stage 2 (``adm train --vq-dir``) loads them
frozen and stores them with its own weights.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adm.data.normalization import load_norm_stats
from adm.data.split import read_split_list
from adm.errors import BadInputError, ConfigError
from adm.io.frames import read_frames

log = logging.getLogger("adm.training")

TASK_DIMS = {"gesture": 141, "face": 51}


@dataclass(frozen=True)
class VQStageConfig:
    """The ``--config`` of ``adm train-vq`` (MambaTalk's values as defaults).

    Attributes:
        tasks: the tasks whose parts get a VQ-VAE (the stage-2 network's tasks).
        latent_dim, codebook_size, layers, beta: each part VQ-VAE's sizes (must equal the
            stage-2 network's ``latent_dim`` and ``codebook_size``).
        window, stride: training windows (frames) and the frames between their starts.
        steps, lr, batch, seed: the optimisation (Adam).
    """

    tasks: tuple[str, ...] = ("gesture", "face")
    latent_dim: int = 256
    codebook_size: int = 256
    layers: int = 2
    beta: float = 1.0
    window: int = 64
    stride: int = 20
    steps: int = 20000
    lr: float = 3e-4
    batch: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = [t for t in self.tasks if t not in TASK_DIMS]
        if not self.tasks or unknown:
            raise ConfigError(f"vq.tasks: expected tasks among {list(TASK_DIMS)}, got {self.tasks}")
        for name in ("latent_dim", "codebook_size", "layers", "window", "stride", "steps", "batch"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"vq.{name}: must be positive, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ConfigError(f"vq.lr: must be positive, got {self.lr}")
        if self.beta < 0 or self.seed < 0:
            raise ConfigError(f"vq.beta and vq.seed: must be >= 0, got {self.beta}, {self.seed}")


def load_motion(clips_dir: Path, stems: list[str], tasks: tuple[str, ...], norm: Path):
    """Each clip's normalised motion of ``tasks``, concatenated: a list of ``[T, Dx]`` float32."""
    stats = load_norm_stats(norm)
    out = []
    for stem in stems:
        path = Path(clips_dir) / f"{stem}.parquet"
        table = read_frames(path, columns=list(tasks))
        parts = []
        for task in tasks:
            values = np.asarray(table[task], dtype=np.float32)
            if values.ndim != 2 or values.shape[1] != TASK_DIMS[task]:
                raise BadInputError(
                    path, f"{task}: expected [T, {TASK_DIMS[task]}], got {values.shape}"
                )
            parts.append(stats.normalize(task, values))
        out.append(np.concatenate(parts, axis=1).astype(np.float32))
    return out


def train_vqs(
    clips_dir: Path, train_list: Path, norm: Path, config: VQStageConfig, outdir: Path
) -> list[Path]:
    """Train and write every part's VQ-VAE; returns the files written.

    Raises:
        BadInputError: the train list or a clip is missing or malformed (named), or no clip is
            as long as one window.
    """
    from adm.models.mambatalk.parts import active_parts, part_channels
    from adm.models.mambatalk.vq import VQConfig, part_windows, save_part_vq, train_part_vq, vq_file

    stems = read_split_list(train_list)
    if not stems:
        raise BadInputError(train_list, "the train split is empty")
    motion = load_motion(clips_dir, stems, config.tasks, norm)
    slices, start = {}, 0
    for task in config.tasks:
        slices[task] = slice(start, start + TASK_DIMS[task])
        start += TASK_DIMS[task]
    channels = part_channels(slices)
    written = []
    for part in active_parts(config.tasks):
        columns = list(channels[part])
        try:
            windows = part_windows([m[:, columns] for m in motion], config.window, config.stride)
        except ValueError as err:
            raise BadInputError(train_list, f"{part} VQ-VAE: {err}") from None
        vq_config = VQConfig(
            part=part,
            latent_dim=config.latent_dim,
            codebook_size=config.codebook_size,
            layers=config.layers,
            beta=config.beta,
            window=config.window,
        )
        model, losses = train_part_vq(
            windows, vq_config, config.steps, config.lr, config.seed, config.batch
        )
        path = vq_file(outdir, part)
        save_part_vq(path, model)
        log.info(
            "%s VQ-VAE: %d windows, loss %.4g -> %.4g over %d steps -> %s",
            part, len(windows), losses[0], np.mean(losses[-20:]), len(losses), path,
        )  # fmt: skip
        written.append(path)
    return written
