"""Sampling a trained model on whole clips: the sampler settings and the generation loop.

The sampler is the full DDPM chain the model was trained on (the paper), DDIM (Song et al.
2021) over ``steps`` uniformly strided steps of it, or DPM-Solver++(2M) with ``steps`` network
calls (Lu et al. 2022; :mod:`adm.diffusion.solvers`) (our additions, for speed), optionally with
classifier-free guidance on the speaker (Ho & Salimans 2022; DiffuseStyleGesture+ drops the
speaker in training for this). Clips are generated window by window as
:mod:`adm.sampling.windows` describes; every clip draws its noise from its own generator seeded
from ``(seed, clip)`` (:func:`adm.sampling.chain.clip_generator`), so a run is reproducible and
a clip's sample does not depend on which clips share its batches.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import Tensor, nn

from adm.diffusion import GaussianDiffusion, guided_model, make_diffusion
from adm.diffusion.solvers import SOLVERS
from adm.errors import ConfigError
from adm.sampling.chain import clip_generator, sample_chain
from adm.sampling.windows import ClipInputs, sample_windows

log = logging.getLogger("adm.sampling")


@dataclass(frozen=True)
class SampleConfig:
    """How to sample (``--config`` of ``adm sample``).

    Attributes:
        sampler: "ddpm" runs every step of the training chain (the paper; ``steps`` unused);
            "ddim" runs ``steps`` uniformly strided steps of it; "dpmpp_2m" (deterministic) and
            "dpmpp_2m_sde" (stochastic) run DPM-Solver++(2M) with ``steps`` network calls.
        steps: DDIM steps (must divide the chain into a whole stride, e.g. 50 of 1000) or
            solver calls (any count up to the chain's length).
        eta: DDIM stochasticity, 0 = deterministic given the initial noise.
        guidance: classifier-free guidance scale on the speaker; 1 = off (one network call per
            step), 0 = unconditional.
        batch: most windows per network call (windows of different clips share a batch).
    """

    sampler: Literal["ddpm", "ddim", "dpmpp_2m", "dpmpp_2m_sde"] = "ddpm"
    steps: int = 50
    eta: float = 0.0
    guidance: float = 1.0
    batch: int = 16

    def __post_init__(self) -> None:
        if self.steps <= 0:
            raise ConfigError(f"config.steps: must be positive, got {self.steps}")
        if self.eta < 0:
            raise ConfigError(f"config.eta: must be >= 0, got {self.eta}")
        if self.guidance < 0:
            raise ConfigError(f"config.guidance: must be >= 0, got {self.guidance}")
        if self.batch <= 0:
            raise ConfigError(f"config.batch: must be positive, got {self.batch}")


def pick_device() -> torch.device:
    """CUDA when present, else the CPU (found at run time, never configured)."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def sampling_diffusion(diffusion_config: dict, config: SampleConfig) -> GaussianDiffusion:
    """The process to sample with: the training chain, respaced to ``ddim<steps>`` for DDIM
    (the solvers pick their own points of the full chain).

    Raises:
        ConfigError: the DDIM step count does not give a whole stride of the chain, or a
            solver asks for more calls than the chain has steps.
    """
    known = ("schedule", "steps", "prediction", "variance")
    base = {k: diffusion_config[k] for k in known if k in diffusion_config}
    respacing = f"ddim{config.steps}" if config.sampler == "ddim" else None
    diffusion = make_diffusion(**base, respacing=respacing)
    if config.sampler in SOLVERS and config.steps > diffusion.num_timesteps:
        raise ConfigError(
            f"config.steps: {config.sampler} makes at most one call per step of the "
            f"{diffusion.num_timesteps}-step chain, got {config.steps}"
        )
    return diffusion


def generate(
    model: nn.Module,
    diffusion: GaussianDiffusion,
    clips: Sequence[ClipInputs],
    config: SampleConfig,
    seed: int,
    device: torch.device | str = "cpu",
) -> list[np.ndarray]:
    """Generate every clip in full.

    Args:
        model: the denoiser (eval mode, on ``device``); ``model.config.window`` and
            ``seed_frames`` give W and S.
        diffusion: from :func:`sampling_diffusion`.
        clips: the clips' inputs (see :func:`adm.sampling.inputs.prepare_clip`).
        config: sampler settings.
        seed: the sampling seed; clip noise comes from ``clip_generator(seed, stem)``.
        device: where the network runs.

    Returns:
        Per clip, ``[T, Dx]`` float32 in normalised units (the tasks concatenated in order).
    """
    window, seed_frames = int(model.config.window), int(model.config.seed_frames)
    check = getattr(model, "check_speakers", None)
    if check is not None:  # once here, not in every network call (a device sync on a GPU)
        check(torch.tensor([c.speaker for c in clips], dtype=torch.long))
    net = guided_model(model, config.guidance)
    generators = [clip_generator(seed, c.stem) for c in clips]
    dim = int(model.config.x_dim)
    start = time.perf_counter()

    def denoise(cond: dict[str, Tensor], rows: list[int]) -> Tensor:
        shape = (len(rows), window, dim)
        gens = [generators[i] for i in rows]
        return sample_chain(
            diffusion, net, shape, cond, gens, config.sampler, config.eta, device, config.steps
        )

    def report(k: int, count: int, rows: list[int]) -> None:
        log.info(
            "window %d/%d: %d clip(s), %.1f s elapsed",
            k + 1,
            count,
            len(rows),
            time.perf_counter() - start,
        )

    outputs = sample_windows(
        clips, denoise, window, seed_frames, config.batch, device=device, on_window=report
    )
    return [o.numpy() for o in outputs]
