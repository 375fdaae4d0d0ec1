"""The reverse diffusion chain over a batch of windows, with one noise generator per clip.

This is the sampling loop: from noise at step ``T - 1`` down to ``x_0``, one network call per
step for the whole batch, then the process's own step (:mod:`adm.diffusion.reverse`: DDPM, Ho
et al. 2020 algorithm 2, or DDIM, Song et al. 2021 eq. 12) on that output.

A batch mixes windows of different clips, and which clips share a batch depends on how many
are sampled together. To make a clip's sample independent of its batch companions, every
random draw of row ``b`` comes from that clip's own ``torch.Generator``: the initial noise and
the noise of each DDPM (or DDIM, eta > 0) step, so the cheap per-step update of those samplers
runs row by row. The few-step solvers of :mod:`adm.diffusion.solvers` (DPM-Solver++) run the
same way: the initial noise comes from each row's generator, the deterministic form draws
nothing after it, and the stochastic form draws each step's noise row by row from the same
generators. Generators live on the CPU (noise is drawn there and moved), so a seed gives the
same noise on any device.

In-painting (DiffSHEG's long-clip protocol, after RePaint, Lugmayr et al. 2022): when ``cond``
holds ``"known"`` ``[B, W, Dx]`` and ``"known_mask"`` ``[B, W]``, every step's result is reset on
the known frames to the known values noised to that step's level (``q_sample``, noise from
the row's generator), and to the known values themselves after the last step. With a
:class:`~adm.sampling.repaint.Repaint` schedule such windows run DiffSHEG's own loop: the last
steps of the chain only, RePaint's resampling jumps, and a linear blend of the overlap at the
low-noise end (:mod:`adm.sampling.repaint`). Only the DDPM and DDIM loops support in-painting.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor

from adm.diffusion import GaussianDiffusion, randn_like
from adm.diffusion.reverse import Bounds, Model
from adm.diffusion.solvers import SOLVERS, make_solver
from adm.sampling.repaint import Repaint, jump_schedule, overlap_blend_weights

Sampler = Literal["ddpm", "ddim", "dpmpp_2m", "dpmpp_2m_sde"]


def clip_generator(seed: int, stem: str) -> torch.Generator:
    """A CPU generator seeded from ``(seed, stem)``: a clip's noise depends on nothing else.

    The seed is the first 8 bytes of ``sha256("<seed>/<stem>")`` (63 bits), so clips get
    unrelated streams and the same ``--seed`` reproduces every clip exactly.
    """
    digest = hashlib.sha256(f"{int(seed)}/{stem}".encode()).digest()
    return torch.Generator(device="cpu").manual_seed(int.from_bytes(digest[:8], "big") >> 1)


def sample_chain(
    diffusion: GaussianDiffusion,
    model: Model,
    shape: tuple[int, ...],
    cond: dict[str, Tensor],
    generators: Sequence[torch.Generator],
    sampler: Sampler = "ddpm",
    eta: float = 0.0,
    device: torch.device | str = "cpu",
    steps: int | None = None,
    x0_bounds: Bounds = None,
    repaint: Repaint | None = None,
) -> Tensor:
    """Sample ``x_0`` ``shape`` = ``[B, ...]`` from noise, row ``b`` drawing from ``generators[b]``.

    Args:
        diffusion: the process to run (the full training chain, or a respaced one for DDIM).
        model: ``model(x_t, t, cond)``; called with the process's ``timestep_map`` indices.
        shape: ``[B, ...]`` (the motion model's ``[B, W, Dx]``).
        cond: the conditions, batched as ``x``.
        generators: one CPU generator per row.
        sampler: "ddpm" (ancestral steps), "ddim", or a solver of
            :data:`adm.diffusion.solvers.SOLVERS` ("dpmpp_2m", "dpmpp_2m_sde").
        eta: DDIM stochasticity (0 = deterministic, no noise drawn after the start).
        device: where ``x`` and the model live.
        steps: network calls of a solver (the process's own steps for "ddpm"/"ddim").
        x0_bounds: per-channel ``(low [Dx], high [Dx])`` every step's ``x_0`` estimate is
            clamped to (:func:`adm.diffusion.reverse.clamp_x0`; "ddpm" and "ddim" only).
        repaint: the schedule of windows with known frames (None: every step once, reset).
    """
    if len(generators) != shape[0]:
        raise ValueError(f"{len(generators)} generators for a batch of {shape[0]}")
    if sampler not in ("ddpm", "ddim", *SOLVERS):
        known = ["ddpm", "ddim", *SOLVERS]
        raise ValueError(f"sampler must be one of {known}, got {sampler!r}")
    one = (1, *shape[1:])
    x = torch.cat([randn_like(torch.empty(one, device=device), g) for g in generators])
    if x0_bounds is not None and sampler in SOLVERS:
        raise ValueError(f"clamping the x0 estimate runs with ddpm or ddim, not {sampler!r}")
    known, known_mask = cond.get("known"), cond.get("known_mask")
    if known is not None:
        cond = {k: v for k, v in cond.items() if k not in ("known", "known_mask")}
        if sampler in SOLVERS:
            raise ValueError(f"in-painting runs with ddpm or ddim, not {sampler!r}")
    if sampler in SOLVERS:
        if steps is None:
            raise ValueError(f"sampler {sampler!r} needs a step count")

        def noise(like: Tensor) -> Tensor:
            return torch.cat([randn_like(like[b : b + 1], g) for b, g in enumerate(generators)])

        return make_solver(diffusion, sampler, steps).sample(model, x, cond, noise)
    timestep_map = torch.as_tensor(diffusion.timestep_map, dtype=torch.long, device=device)
    n = diffusion.num_timesteps
    if known is not None and repaint is not None:
        if repaint.steps is not None and not 1 <= repaint.steps <= n:
            raise ValueError(f"repaint.steps must be in 1..{n}, got {repaint.steps}")
        schedule = jump_schedule(repaint.steps or n, repaint.jump_length, repaint.jump_n_sample)
        blend_below = repaint.blend_below
    else:
        schedule, blend_below = [*range(n - 1, -1, -1), -1], 0.0
    with torch.no_grad():
        for i, following in zip(schedule[:-1], schedule[1:], strict=True):
            if following > i:  # a resampling jump: one forward step i -> i + 1
                x = _renoise(diffusion, x, i, generators)
                continue
            t = torch.full((shape[0],), i, dtype=torch.long, device=device)
            out = model(x, timestep_map[t], cond)  # one network call for the whole batch
            if sampler == "ddim" and eta == 0.0:
                # No noise at all: the batched update is the row-wise one, element for element.
                x = diffusion.ddim_sample(out, x, t, eta=0.0, x0_bounds=x0_bounds).sample
            else:
                rows = [slice(b, b + 1) for b in range(shape[0])]
                if sampler == "ddpm":
                    updates = [
                        diffusion.p_sample(out[r], x[r], t[r], generator=g, x0_bounds=x0_bounds)
                        for r, g in zip(rows, generators, strict=True)
                    ]
                else:
                    updates = [
                        diffusion.ddim_sample(
                            out[r], x[r], t[r], eta=eta, generator=g, x0_bounds=x0_bounds
                        )
                        for r, g in zip(rows, generators, strict=True)
                    ]
                x = torch.cat([update.sample for update in updates])
            if known is not None:
                x = _inpaint(diffusion, x, known, known_mask, i - 1, generators, blend_below)
    return x


def _renoise(
    diffusion: GaussianDiffusion, x: Tensor, step: int, generators: Sequence[torch.Generator]
) -> Tensor:
    """One forward step of RePaint's jump: ``sqrt(1 - beta) x + sqrt(beta) noise`` with the
    (respaced) chain's ``beta`` at ``step``, as DiffSHEG's ``undo`` (which indexes ``beta`` by
    the step it leaves; noise from each row's generator)."""
    beta = float(diffusion.betas[step])
    noise = torch.cat([randn_like(x[b : b + 1], g) for b, g in enumerate(generators)])
    return (1.0 - beta) ** 0.5 * x + beta**0.5 * noise


def _inpaint(
    diffusion: GaussianDiffusion,
    x: Tensor,
    known: Tensor,
    mask: Tensor,
    step: int,
    generators: Sequence[torch.Generator],
    blend_below: float = 0.0,
) -> Tensor:
    """``x`` ``[B, W, D]`` with the ``mask`` ``[B, W]`` frames replaced by ``known`` noised to
    ``step`` of the process (``step < 0``: the known values themselves). When that noise's scale
    ``sqrt(1 - abar_step)`` is below ``blend_below``, the replacement is instead blended with
    ``x`` across each row's known frames, ``x``'s weight rising linearly from 0 to 1
    (DiffSHEG's ``addBlend``)."""
    if step < 0:
        target, noise_scale = known.to(x.dtype), 0.0
    else:
        noise = torch.cat([randn_like(x[b : b + 1], g) for b, g in enumerate(generators)])
        t = torch.full((x.shape[0],), step, dtype=torch.long, device=x.device)
        target = diffusion.q_sample(known.to(x.dtype), t, noise)
        noise_scale = float(1.0 - diffusion.alphas_cumprod[step]) ** 0.5
    if noise_scale < blend_below:
        w = overlap_blend_weights(mask).to(device=x.device, dtype=x.dtype)[..., None]
        target = target * (1 - w) + x * w
    return torch.where(mask[..., None], target, x)
