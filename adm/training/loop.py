"""The training run: data, model, resume, the step loop, scalars, checkpoints, final files.

``train(paths, speakers, outdir, run)``:

1. loads the train (and val) clips into memory (:mod:`adm.training.corpus`) and builds the
   denoiser from the model config completed by the data (speaker count, feature widths);
2. resumes from the newest complete ``<outdir>/checkpoints/step_<N>/`` when there is one
   written under the same settings and data (weights, optimiser, EMA, data position, every RNG),
   so a run killed at any point continues exactly where its last checkpoint left it;
3. steps until ``train.iterations``: a scalars row every ``log_every`` steps, a checkpoint (and
   the EMA model's val loss) every ``checkpoint_every`` steps and at the end;
4. writes ``model.safetensors``, ``ema.safetensors``, ``scalars.csv`` and ``val_scalars.csv``
   into ``outdir`` (each atomically) from the final checkpoint. While it runs, the scalars so
   far are mirrored to ``<outdir>/scalars.live.csv`` (removed at the end).

Under ``torchrun`` every rank runs this function; only rank 0 logs and writes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch

from adm.config import config_hash, to_dict
from adm.diffusion import make_diffusion
from adm.errors import BadInputError, ConfigError
from adm.logs import is_terminal, progress
from adm.models import build_denoiser
from adm.threads import current_threads
from adm.training import checkpoint as ckpt
from adm.training.config import RunConfig, resolve_model_config, resolve_tasks, trajectory_config
from adm.training.corpus import Corpus, DataPaths, load_corpus
from adm.training.dataset import Batch, WindowDataset
from adm.training.distributed import (
    DistContext,
    all_gather_objects,
    all_reduce_sum,
    barrier,
    init_distributed,
)
from adm.training.resume import (
    FINAL_FILES,
    LIVE_SCALARS,
    resume_or_start,
    save_checkpoint,
    write_final_files,
)
from adm.training.rng import capture_rng
from adm.training.sampler import BatchStream, WindowBatchSampler
from adm.training.scalars import COLUMNS, TASKS
from adm.training.step import Trainer
from adm.weighting import build_weighting

log = logging.getLogger("adm.training")

__all__ = ["FINAL_FILES", "train"]


class _Meter:
    """Mean losses and steps per second between two scalars rows."""

    def __init__(self, tasks: Sequence[str], device: torch.device):
        self.tasks = tuple(tasks)
        self.sums = torch.zeros(1 + len(self.tasks), device=device)
        self.steps = 0
        self.restart_clock()

    def restart_clock(self) -> None:
        self.t0, self.clock_steps = time.perf_counter(), 0

    def add(self, losses: dict[str, torch.Tensor]) -> None:
        # Accumulated on the device: no host sync except when a row is written.
        self.sums += torch.stack([losses["total"], *(losses[t] for t in self.tasks)])
        self.steps += 1
        self.clock_steps += 1

    def row(self, step: int, trainer: Trainer, ctx: DistContext) -> dict:
        """The scalars row for ``step`` (a collective under torchrun: every rank calls it)."""
        sums = all_reduce_sum(self.sums.clone(), ctx) / ctx.world_size
        means = (sums / max(self.steps, 1)).tolist()
        rate = self.clock_steps / max(time.perf_counter() - self.t0, 1e-9)
        self.sums.zero_()
        self.steps = 0
        self.restart_clock()
        row: dict = {
            "step": step,
            "loss_total": means[0],
            "lr": trainer.optimizer.param_groups[0]["lr"],
        }
        row.update({f"loss_{t}": v for t, v in zip(self.tasks, means[1:], strict=True)})
        row.update({k: v for k, v in trainer.weighting.log_values().items()})
        row.update({f"weight_{t}": 0.0 for t in TASKS if t not in self.tasks})
        row["it_per_s"] = rate
        return {k: v for k, v in row.items() if k in COLUMNS}


def _val_batches(dataset: WindowDataset, batch: int) -> Iterator[Batch]:
    for start in range(0, len(dataset), batch):
        yield dataset.batch(torch.arange(start, min(start + batch, len(dataset))))


def _build(run: RunConfig, corpus: Corpus, speakers: Sequence[int], ctx: DistContext) -> Trainer:
    model_config = resolve_model_config(run, len(speakers), corpus.audio_dim, corpus.text_dim)
    torch.manual_seed(run.train.seed)  # identical initial weights on every rank
    denoiser = build_denoiser(run.model_name, model_config)
    weighting = build_weighting(
        run.variant.weighting.name, denoiser.config.tasks, **run.variant.weighting.kwargs()
    )
    d = run.diffusion
    diffusion = make_diffusion(d.schedule, d.steps, d.prediction, variance=d.variance)
    return Trainer(denoiser, weighting, diffusion, run.train, ctx)


def train(
    paths: DataPaths,
    speakers: Sequence[int],
    outdir: str | Path,
    run: RunConfig,
    ctx: DistContext | None = None,
) -> Path:
    """Train (or resume) a run and write its final files into ``outdir``; returns ``outdir``.

    Raises:
        BadInputError: an input file is missing or malformed.
        ConfigError: a setting is invalid or contradicts the data.
    """
    ctx = ctx or init_distributed()
    cfg, outdir = run.train, Path(outdir)
    speakers = [int(s) for s in speakers]
    if not speakers or len(set(speakers)) != len(speakers):
        raise ConfigError(f"--speakers: expected distinct speaker ids, got {speakers}")
    if cfg.batch % ctx.world_size:
        raise ConfigError(
            f"train.batch: {cfg.batch} does not split over {ctx.world_size} processes"
        )
    tasks = resolve_tasks(run)
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise ConfigError(f"variant.tasks: unknown task(s) {unknown} (known: {list(TASKS)})")
    corpus = load_corpus(
        paths, tasks, speakers, cfg.window, cfg.window_stride, cfg.seed_frames, cfg.condition_dtype
    )
    trainer = _build(run, corpus, speakers, ctx)
    on_gpu = ctx.device.type == "cuda"
    # On a GPU the whole corpus lives in device memory: a batch is one gather, no host copies.
    train_data = corpus.train.to(ctx.device) if on_gpu else corpus.train
    val_data = corpus.val.to(ctx.device) if on_gpu and corpus.val is not None else corpus.val
    per_rank = cfg.batch // ctx.world_size
    sampler = WindowBatchSampler(len(train_data), per_rank, cfg.seed, ctx.rank, ctx.world_size)
    if sampler.batches_per_epoch == 0:
        raise BadInputError(
            paths.split_dir / "train.txt",
            f"{len(train_data)} training windows, fewer than one batch of {cfg.batch}",
        )
    metadata = {
        "format": ckpt.FORMAT,
        "denoiser": run.model_name,
        "model_config": to_dict(trainer.denoiser.config),
        "diffusion": to_dict(run.diffusion),
        "variant": {**to_dict(run.variant), "tasks": list(trainer.tasks)},
        "speakers": speakers,
        "audio_layout": corpus.audio_layout,
        "config_hash": config_hash({"config": run.raw, "speakers": speakers}),
        "train": to_dict(cfg),
        # The weights depend on it in their last bits (float32 sums split over threads).
        "threads": current_threads(),
    }
    norm = corpus.norm_tensors()
    key = config_hash(
        {"run": trajectory_config(run), "speakers": speakers, "data": corpus.fingerprint()}
    )
    root = outdir / "checkpoints"
    start = resume_or_start(trainer, root, key, ctx)
    stream = BatchStream(
        train_data,
        sampler,
        num_workers=0 if on_gpu else cfg.num_workers,
        epoch=start.epoch,
        offset=start.offset,
    )
    scalars, val_log = start.scalars, start.val
    if ctx.is_main:
        outdir.mkdir(parents=True, exist_ok=True)
        scalars.mirror(outdir / LIVE_SCALARS)
        log.info(
            "device %s x %d, batch %d (%d per process), %d batches per epoch, steps %d..%d",
            ctx.device,
            ctx.world_size,
            cfg.batch,
            per_rank,
            sampler.batches_per_epoch,
            trainer.step,
            cfg.iterations,
        )

    def save(step: int) -> None:
        rng = all_gather_objects(capture_rng(trainer.generators()), ctx)
        if not ctx.is_main:
            return
        if val_data is not None:
            val = trainer.evaluate(_val_batches(val_data, per_rank), seed=cfg.seed)
            val_log.append({"step": step, **{f"loss_{k}": v for k, v in val.items()}})
            log.info(
                "step %d val loss %.5f (%s)",
                step,
                val["total"],
                ", ".join(f"{t} {val[t]:.5f}" for t in trainer.tasks),
            )
        save_checkpoint(
            root,
            trainer,
            stream.position,
            rng,
            key,
            {**metadata, "step": str(step)},
            norm,
            scalars,
            val_log,
            cfg.keep_checkpoints,
        )

    meter = _Meter(trainer.tasks, ctx.device)
    steps = range(trainer.step, cfg.iterations)
    bar = ctx.is_main and is_terminal()
    for _ in progress(steps, "train", total=len(steps)) if bar else steps:
        meter.add(trainer.train_step(next(stream)))
        step = trainer.step
        if step == 1 or step % cfg.log_every == 0 or step == cfg.iterations:
            row = meter.row(step, trainer, ctx)
            if ctx.is_main:
                scalars.append(row)
                if not bar:
                    log.info(
                        "step %d/%d loss %.5f (%s) %.2f it/s",
                        step,
                        cfg.iterations,
                        row["loss_total"],
                        ", ".join(
                            f"{t} {row[f'loss_{t}']:.5f} w {row[f'weight_{t}']:.4f}"
                            for t in trainer.tasks
                        ),
                        row["it_per_s"],
                    )
        if step % cfg.checkpoint_every == 0 or step == cfg.iterations:
            save(step)
            meter.restart_clock()
    if ctx.is_main:
        write_final_files(outdir, root, cfg.iterations)
    barrier(ctx)
    return outdir
