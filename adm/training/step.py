"""One optimisation step of a method's network, and the validation loss.

Diffusion networks follow algorithm 1 of DDPM (Ho et al. 2020): draw ``t ~ U{0..T-1}`` and
``eps ~ N(0, I)``, form ``x_t``, predict ``out = model(x_t, t, cond)`` (x0 for ADM, MDM and
DiffuseStyleGesture+; eps for DiffSHEG and SAiD). Regression networks (``regression = True``:
CaMN, MambaTalk) predict from the conditions alone, ``out = model(cond)``. The method's objective
(:mod:`adm.training.objectives`; ADM: the masked Huber loss per task) gives loss terms grouped by
task, and the weighting module combines the tasks (UWP: Kendall et al. 2018). One AdamW updates
the network and the weighting parameters, the latter in their own parameter group (no weight
decay, learning rate ``train.weighting_lr``, by default the network's); the EMA copy follows
each step.

Data parallelism: ``t`` and ``eps`` are drawn for the GLOBAL batch from a generator seeded alike
on every rank, and rank r keeps rows ``r, r + K, ...``, the rows its sampler shard holds (see
:mod:`adm.training.sampler`); the loss is normalised by the global valid-frame count. K ranks
with batch B/K thus compute the same gradient as one process with batch B (up to float
rounding), given a deterministic network (no dropout).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from adm.diffusion import GaussianDiffusion
from adm.optim import adamw
from adm.training.config import TrainConfig
from adm.training.dataset import Batch
from adm.training.distributed import DistContext, all_reduce_sum
from adm.training.ema import EMA
from adm.training.objectives import LossInputs, Objective, task_totals
from adm.weighting import LossWeighting


def is_regression(network: nn.Module) -> bool:
    """True for networks that predict motion from the conditions alone (no diffusion chain)."""
    return bool(getattr(network, "regression", False))


def _as_float(pred: Tensor | dict) -> Tensor | dict:
    """The network output in float32 (autocast may have left it in bfloat16)."""
    if isinstance(pred, dict):
        return {k: _as_float(v) for k, v in pred.items()}
    return pred.float() if torch.is_tensor(pred) and pred.is_floating_point() else pred


def network_output(
    network: nn.Module,
    diffusion: GaussianDiffusion,
    x0: Tensor,
    t: Tensor | None,
    eps: Tensor | None,
    cond: dict[str, Tensor],
) -> tuple[Tensor | dict, Tensor | None]:
    """``(out, x_t)``: the network's output for ``x0``'s noisy version at ``t`` (diffusion) or
    for the conditions alone (regression, ``x_t`` None)."""
    if is_regression(network):
        return network(cond), None
    x_t = diffusion.q_sample(x0, t, eps)
    return network(x_t, t, cond), x_t


class LossModule(nn.Module):
    """The network and the loss weighting as one module (what DDP wraps and syncs).

    ``forward(x0, t, eps, cond, valid_frames, scale) -> (total, {task: loss})``; the network
    runs under bfloat16 autocast when ``bf16`` (CUDA), the objective in float32.
    """

    def __init__(
        self,
        denoiser: nn.Module,
        weighting: LossWeighting,
        objective: Objective,
        diffusion: GaussianDiffusion,
        bf16: bool,
    ):
        super().__init__()
        self.denoiser = denoiser
        self.weighting = weighting
        self.objective = objective
        self.diffusion = diffusion
        self.bf16 = bf16

    def forward(
        self,
        x0: Tensor,
        t: Tensor | None,
        eps: Tensor | None,
        cond: dict[str, Tensor],
        valid_frames: Tensor,
        scale: float,
        progress: float | None = None,
        motion_noise: Tensor | None = None,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        with torch.autocast(x0.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            pred, x_t = network_output(self.denoiser, self.diffusion, x0, t, eps, cond)
        inputs = LossInputs(
            pred=_as_float(pred),
            x0=x0,
            mask=cond["mask"],
            task_slices=self.denoiser.task_slices,
            valid_frames=valid_frames,
            scale=scale,
            x_t=x_t,
            t=t,
            eps=eps,
            diffusion=self.diffusion,
            cond=cond,
            progress=progress,
            motion_noise=motion_noise,
        )
        losses = task_totals(self.objective(inputs))
        return self.weighting(losses), losses


def build_optimizer(
    denoiser: nn.Module, weighting: LossWeighting, cfg: TrainConfig
) -> torch.optim.AdamW:
    """AdamW over two parameter groups: the network (``cfg.lr``, ``cfg.weight_decay``) and the
    loss weighting's parameters, if any (``cfg.weighting_lr`` or ``cfg.lr``, no decay).

    The weighting gets its own rate because Adam moves each log-variance ``s_k`` by about the
    rate per step whatever the loss scale: at the network's rate the ``s_k`` of a short run
    move together and the weights stay near 1:1 (see :attr:`TrainConfig.weighting_lr`).
    """
    groups = [{"params": list(denoiser.parameters()), "weight_decay": cfg.weight_decay}]
    weighting_params = list(weighting.parameters())
    if weighting_params:
        lr = cfg.lr if cfg.weighting_lr is None else cfg.weighting_lr
        groups.append({"params": weighting_params, "weight_decay": 0.0, "lr": lr})
    return adamw(groups, lr=cfg.lr, betas=tuple(cfg.betas))


class Trainer:
    """Optimiser, EMA and the noise generator around a denoiser and its loss weighting.

    Args:
        denoiser: the network (moved to ``ctx.device``).
        weighting: the task-loss weighting (its parameters are optimised too).
        diffusion: the training chain (unused by regression networks).
        cfg: the training settings.
        ctx: this process's rank, world size and device.
        objective: the method's loss terms (default: ADM's per-task Huber, ``cfg.huber_delta``).
    """

    def __init__(
        self,
        denoiser: nn.Module,
        weighting: LossWeighting,
        diffusion: GaussianDiffusion,
        cfg: TrainConfig,
        ctx: DistContext,
        objective: Objective | None = None,
    ):
        if objective is None:
            from adm.training.objectives import build_objective

            objective = build_objective({"name": "task_huber", "delta": cfg.huber_delta})
        self.cfg, self.ctx, self.diffusion = cfg, ctx, diffusion
        self.objective = objective
        device = ctx.device
        cuda = device.type == "cuda"
        self.denoiser = denoiser.to(device)
        self.weighting = weighting.to(device)
        self.tasks: tuple[str, ...] = tuple(denoiser.task_slices)
        self.module = LossModule(
            self.denoiser, self.weighting, objective, diffusion, cfg.bf16 and cuda
        )
        self.ema = EMA(self.denoiser, cfg.ema_decay)
        self._parameters = list(self.denoiser.parameters())  # taken once: see EMA
        wrapped: nn.Module = self.module
        if ctx.distributed:
            # Without seed frames the seed projections take no part in the loss.
            unused = getattr(getattr(denoiser, "config", None), "seed_frames", 1) == 0
            wrapped = DistributedDataParallel(
                self.module,
                device_ids=[device.index] if cuda else None,
                find_unused_parameters=unused,
            )
        if cfg.compile and cuda:
            wrapped = torch.compile(wrapped)
        self.wrapped = wrapped
        self.optimizer = build_optimizer(self.denoiser, self.weighting, cfg)
        # Same seed on every rank: each draws the global batch's t/eps and keeps its rows.
        self.noise = torch.Generator(device=device)
        self.noise.manual_seed(cfg.seed)
        self.step = 0

    def generators(self) -> dict[str, torch.Generator]:
        """The trainer's own generators (checkpointed with the global ones)."""
        return {"noise": self.noise}

    def _draw(self, x0: Tensor, generator: torch.Generator, world: int, rank: int):
        """``t`` [B] and ``eps`` [B, W, D] of this rank's rows of a ``B * world`` batch."""
        total = x0.shape[0] * world
        t = self.diffusion.sample_timesteps(total, generator=generator, device=x0.device)
        eps = torch.randn((total, *x0.shape[1:]), generator=generator, device=generator.device)
        return t[rank::world], eps[rank::world].to(device=x0.device, dtype=x0.dtype)

    def _drop_text(self, text: Tensor, world: int, rank: int) -> Tensor:
        """``text`` [B, W, Dt] with each window replaced, with probability
        ``train.text_dropout``, by the "no transcript" input: zeros, the train mean in
        normalised units (what generation without a transcript feeds). Drawn for the global
        batch from the noise generator, as ``t`` and ``eps``, so resume stays exact."""
        total = text.shape[0] * world
        draw = torch.rand(total, generator=self.noise, device=self.noise.device)
        keep = (draw >= self.cfg.text_dropout)[rank::world].to(text.device, text.dtype)
        return text * keep[:, None, None]

    def train_step(self, batch: Batch) -> dict[str, Tensor]:
        """One optimiser step on this rank's ``batch``; returns detached losses.

        Keys ``"total"`` and one per task; each is this rank's share, whose mean over ranks is
        the loss of the global batch.
        """
        x0, cond = batch.to(self.ctx.device, non_blocking=True)  # no-op if already there
        world, rank = self.ctx.world_size, self.ctx.rank
        t = eps = None
        if not is_regression(self.denoiser):
            t, eps = self._draw(x0, self.noise, world, rank)
        if self.cfg.text_dropout > 0 and "text" in cond:
            cond = {**cond, "text": self._drop_text(cond["text"], world, rank)}
        # Only objectives that ask get the noise and the progress: every other one sees the same
        # None each step (a float that changes every step would recompile a compiled module).
        noise = progress = None
        if self.objective.draws_motion_noise:
            total_rows = x0.shape[0] * world
            shape = (total_rows, *x0.shape[1:])
            noise = torch.rand(shape, generator=self.noise, device=self.noise.device)
            noise = noise[rank::world].to(device=x0.device, dtype=x0.dtype)
            progress = self.step / max(self.cfg.iterations, 1)
        valid = all_reduce_sum(cond["mask"].sum(), self.ctx)
        self.module.train()
        total, losses = self.wrapped(x0, t, eps, cond, valid, float(world), progress, noise)
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        if self.cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self._parameters, self.cfg.grad_clip)
        self.optimizer.step()
        self.ema.update(self.denoiser, self.step)
        self.step += 1
        return {"total": total.detach(), **{k: v.detach() for k, v in losses.items()}}

    @torch.no_grad()
    def evaluate(self, batches: Iterable[Batch], seed: int) -> dict[str, float]:
        """Loss of the EMA network over ``batches`` (the model sampling uses).

        ``t`` and ``eps`` come from a generator seeded with ``seed``, so successive evaluations
        compare like with like. Per-task losses are exact means over all valid frames; the
        ``"total"`` combines them with the current weighting.
        """
        model = self.ema.model
        device = self.ctx.device
        gen = torch.Generator(device=device)
        gen.manual_seed(seed)
        sums = dict.fromkeys(self.tasks, 0.0)
        frames = 0
        for batch in batches:
            x0, cond = batch.to(device)
            t = eps = None
            if not is_regression(model):
                t, eps = self._draw(x0, gen, 1, 0)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.module.bf16):
                pred, x_t = network_output(model, self.diffusion, x0, t, eps, cond)
            n = int(cond["mask"].sum())
            inputs = LossInputs(
                pred=_as_float(pred),
                x0=x0,
                mask=cond["mask"],
                task_slices=model.task_slices,
                valid_frames=float(n),
                x_t=x_t,
                t=t,
                eps=eps,
                diffusion=self.diffusion,
                cond=cond,
            )
            losses = task_totals(self.objective(inputs))
            for task, value in losses.items():
                sums[task] += float(value) * n
            frames += n
        means = {k: v / max(frames, 1) for k, v in sums.items()}
        tensors = {k: torch.tensor(v, device=device) for k, v in means.items()}
        return {"total": float(self.weighting(tensors)), **means}
