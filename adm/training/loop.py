"""The training run: data, model, resume, the step loop, scalars, checkpoints, final files.

``train(paths, speakers, outdir, run)`` runs a :class:`TrainingRun`, which

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

Under ``torchrun`` every rank runs it; only rank 0 logs and writes.
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
from adm.models import build_denoiser, denoiser_class
from adm.threads import current_threads
from adm.training import checkpoint as ckpt
from adm.training.checkpoint import FINAL_FILES, LIVE_SCALARS, Start
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
from adm.training.objectives import build_objective
from adm.training.rng import capture_rng, seed_everything
from adm.training.sampler import BatchStream, WindowBatchSampler
from adm.training.scalars import COLUMNS, TASKS
from adm.training.step import Trainer
from adm.weighting import build_weighting

log = logging.getLogger("adm.training")

__all__ = ["FINAL_FILES", "TrainingRun", "train"]


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


def _build(
    run: RunConfig,
    corpus: Corpus,
    speakers: Sequence[int],
    ctx: DistContext,
    frozen_dir: Path | None = None,
) -> Trainer:
    model_config = resolve_model_config(run, len(speakers), corpus.audio_dim, corpus.text_dim)
    torch.manual_seed(run.train.seed)  # identical initial weights on every rank
    denoiser = build_denoiser(run.model_name, model_config)
    load_frozen = getattr(denoiser, "load_frozen_parts", None)
    if load_frozen is not None:  # a two-stage network (MambaTalk): its stage-1 VQ-VAEs
        if frozen_dir is None:
            raise ConfigError(
                f"model.name: {run.model_name!r} needs its stage-1 networks: pass --vq-dir "
                "(written by `adm train-vq`)"
            )
        load_frozen(frozen_dir)
    weighting = build_weighting(
        run.variant.weighting.name, denoiser.config.tasks, **run.variant.weighting.kwargs()
    )
    d = run.diffusion
    diffusion = make_diffusion(d.schedule, d.steps, d.prediction, variance=d.variance)
    objective = build_objective(run.objective)
    return Trainer(denoiser, weighting, diffusion, run.train, ctx, objective)


def _check_objective(run: RunConfig) -> None:
    """The objective must expect what the network outputs: the diffusion's prediction target
    for a diffusion network, the motion itself for a regression network (no target)."""
    objective = build_objective(run.objective)
    regression = bool(getattr(denoiser_class(run.model_name), "regression", False))
    expected = None if regression else run.diffusion.prediction
    if objective.prediction is not None and objective.prediction != expected:
        what = "a regression network" if regression else f"diffusion.prediction {expected!r}"
        raise ConfigError(
            f"objective.name: {run.objective['name']!r} expects {objective.prediction!r} "
            f"outputs, but model {run.model_name!r} with {what} gives another"
        )


def _check_settings(run: RunConfig, speakers: list[int], ctx: DistContext) -> tuple[str, ...]:
    """The run's tasks, after the checks that need no data.

    Raises:
        ConfigError: repeated speakers, a batch that does not split over the processes, or
            an unknown task.
    """
    if not speakers or len(set(speakers)) != len(speakers):
        raise ConfigError(f"--speakers: expected distinct speaker ids, got {speakers}")
    if run.train.batch % ctx.world_size:
        raise ConfigError(
            f"train.batch: {run.train.batch} does not split over {ctx.world_size} processes"
        )
    tasks = resolve_tasks(run)
    _check_objective(run)
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise ConfigError(f"variant.tasks: unknown task(s) {unknown} (known: {list(TASKS)})")
    return tasks


class TrainingRun:
    """One training run in ``outdir``: the corpus in memory, the denoiser and its optimiser
    (:class:`adm.training.step.Trainer`), the checkpoints under ``outdir/checkpoints``.

    Building it loads the data and the model; :meth:`run` resumes or starts, steps until
    ``train.iterations`` and writes the final files.

    Raises:
        BadInputError: an input file is missing or malformed.
        ConfigError: a setting is invalid or contradicts the data.
    """

    def __init__(
        self,
        paths: DataPaths,
        speakers: Sequence[int],
        outdir: str | Path,
        run: RunConfig,
        ctx: DistContext | None = None,
    ):
        self.ctx = ctx = ctx or init_distributed()
        self.cfg = cfg = run.train
        self.outdir, self.root = Path(outdir), Path(outdir) / "checkpoints"
        self.speakers = [int(s) for s in speakers]
        tasks = _check_settings(run, self.speakers, ctx)
        corpus = load_corpus(
            paths,
            tasks,
            self.speakers,
            cfg.window,
            cfg.window_stride,
            cfg.seed_frames,
            cfg.condition_dtype,
            face_input=bool(getattr(denoiser_class(run.model_name), "face_input", False)),
        )
        self.trainer = _build(run, corpus, self.speakers, ctx, paths.vq_dir)
        self._place_data(corpus)
        self.per_rank = cfg.batch // ctx.world_size
        self.sampler = self._batch_sampler(paths.split_dir / "train.txt")
        self.metadata = self._metadata(run, corpus)
        self.norm = {
            **corpus.norm_tensors(),
            **corpus.range_tensors(self.trainer.denoiser.task_slices),
        }
        self.key = config_hash(
            {"run": trajectory_config(run), "speakers": self.speakers, "data": corpus.fingerprint()}
        )

    def _place_data(self, corpus: Corpus) -> None:
        """The train and val windows where the model runs, and the loader's worker count."""
        on_gpu = self.ctx.device.type == "cuda"
        self.num_workers = 0 if on_gpu else self.cfg.num_workers
        # On a GPU the whole corpus lives in device memory: a batch is one gather, no copies.
        self.train_data = corpus.train.to(self.ctx.device) if on_gpu else corpus.train
        self.val_data = corpus.val
        if on_gpu and corpus.val is not None:
            self.val_data = corpus.val.to(self.ctx.device)

    def _batch_sampler(self, train_list: Path) -> WindowBatchSampler:
        """This rank's shard of each epoch's batches.

        Raises:
            BadInputError: fewer training windows than one batch (named by the train list).
        """
        ctx, cfg = self.ctx, self.cfg
        sampler = WindowBatchSampler(
            len(self.train_data), self.per_rank, cfg.seed, ctx.rank, ctx.world_size
        )
        if sampler.batches_per_epoch == 0:
            raise BadInputError(
                train_list,
                f"{len(self.train_data)} training windows, fewer than one batch of {cfg.batch}",
            )
        return sampler

    def _metadata(self, run: RunConfig, corpus: Corpus) -> dict:
        """What every weights file records of the run (the step is added per checkpoint)."""
        return {
            "format": ckpt.FORMAT,
            "denoiser": run.model_name,
            "model_config": to_dict(self.trainer.denoiser.config),
            "diffusion": to_dict(run.diffusion),
            "variant": {**to_dict(run.variant), "tasks": list(self.trainer.tasks)},
            "objective": run.objective,
            **self._frozen_metadata(),
            "speakers": self.speakers,
            "audio_layout": corpus.audio_layout,
            "config_hash": config_hash({"config": run.raw, "speakers": self.speakers}),
            "train": to_dict(self.cfg),
            # The weights depend on it in their last bits (float32 sums split over threads).
            "threads": current_threads(),
        }

    def _frozen_metadata(self) -> dict:
        """``frozen_config`` of a network with frozen parts (stored with its weights)."""
        config = getattr(self.trainer.denoiser, "frozen_config", None)
        return {} if config is None else {"frozen_config": config()}

    # ------------------------------------------------------------------ the run
    def run(self) -> Path:
        """Resume or start, train until ``train.iterations``, write the final files; returns
        ``outdir``."""
        start = self.resume_or_start()
        self.stream = BatchStream(
            self.train_data,
            self.sampler,
            num_workers=self.num_workers,
            epoch=start.epoch,
            offset=start.offset,
        )
        self.scalars, self.val_log = start.scalars, start.val
        if self.ctx.is_main:
            self.outdir.mkdir(parents=True, exist_ok=True)
            self.scalars.mirror(self.outdir / LIVE_SCALARS)
            self._announce()
        self._loop()
        if self.ctx.is_main:
            ckpt.write_final_files(self.outdir, self.root, self.cfg.iterations)
        barrier(self.ctx)
        return self.outdir

    def resume_or_start(self) -> Start:
        """Load the newest complete checkpoint written under the same settings and data, or
        seed a fresh start (global RNGs seeded with ``seed + rank``, so ranks draw different
        dropout masks). Damaged checkpoints and those of other settings are moved aside."""
        ctx = self.ctx
        if ctx.is_main:
            ckpt.clean_partial(self.root)
            ckpt.set_aside_damaged(self.root)
        barrier(ctx)
        found = ckpt.latest_checkpoint(self.root)
        if found is not None:
            state = ckpt.load_state(found[1] / "state.pt")
            if state.get("format") == ckpt.STATE_FORMAT and state.get("resume_key") == self.key:
                return ckpt.restore_checkpoint(self.trainer, found[1], state, ctx)
            ckpt.set_aside_stale(self.root, str(state.get("resume_key", "unknown")), ctx)
        seed_everything(self.cfg.seed + ctx.rank)
        return Start.fresh()

    def _loop(self) -> None:
        """Step until ``train.iterations``: a scalars row every ``log_every`` steps and at the
        first and last, a checkpoint every ``checkpoint_every`` steps and at the last."""
        cfg = self.cfg
        meter = _Meter(self.trainer.tasks, self.ctx.device)
        steps = range(self.trainer.step, cfg.iterations)
        self.bar = self.ctx.is_main and is_terminal()
        for _ in progress(steps, "train", total=len(steps)) if self.bar else steps:
            meter.add(self.trainer.train_step(next(self.stream)))
            step = self.trainer.step
            if step == 1 or step % cfg.log_every == 0 or step == cfg.iterations:
                self._record(meter.row(step, self.trainer, self.ctx))
            if step % cfg.checkpoint_every == 0 or step == cfg.iterations:
                self.save(step)
                meter.restart_clock()

    # ------------------------------------------------------------------ logging
    def _announce(self) -> None:
        log.info(
            "device %s x %d, batch %d (%d per process), %d batches per epoch, steps %d..%d",
            self.ctx.device,
            self.ctx.world_size,
            self.cfg.batch,
            self.per_rank,
            self.sampler.batches_per_epoch,
            self.trainer.step,
            self.cfg.iterations,
        )

    def _record(self, row: dict) -> None:
        """Append a scalars row (rank 0), and log it when no progress bar shows."""
        if not self.ctx.is_main:
            return
        self.scalars.append(row)
        if not self.bar:
            log.info(
                "step %d/%d loss %.5f (%s) %.2f it/s",
                row["step"],
                self.cfg.iterations,
                row["loss_total"],
                ", ".join(
                    f"{t} {row[f'loss_{t}']:.5f} w {row[f'weight_{t}']:.4f}"
                    for t in self.trainer.tasks
                ),
                row["it_per_s"],
            )

    # ------------------------------------------------------------------ checkpoints
    def save(self, step: int) -> None:
        """Validate (rank 0) and write the checkpoint of ``step`` with every rank's RNGs."""
        rng = all_gather_objects(capture_rng(self.trainer.generators()), self.ctx)
        if not self.ctx.is_main:
            return
        if self.val_data is not None:
            self._validate(step)
        ckpt.save_checkpoint(
            self.root,
            self.trainer,
            self.stream.position,
            rng,
            self.key,
            {**self.metadata, "step": str(step)},
            self.norm,
            self.scalars,
            self.val_log,
            self.cfg.keep_checkpoints,
        )

    def _validate(self, step: int) -> None:
        """The EMA model's loss on the val windows, recorded and logged."""
        batches = _val_batches(self.val_data, self.per_rank)
        val = self.trainer.evaluate(batches, seed=self.cfg.seed)
        self.val_log.append({"step": step, **{f"loss_{k}": v for k, v in val.items()}})
        log.info(
            "step %d val loss %.5f (%s)",
            step,
            val["total"],
            ", ".join(f"{t} {val[t]:.5f}" for t in self.trainer.tasks),
        )


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
    return TrainingRun(paths, speakers, outdir, run, ctx).run()
