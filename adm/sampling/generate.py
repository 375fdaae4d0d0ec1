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
from adm.sampling.repaint import Repaint
from adm.sampling.windows import ClipInputs, Protocol, sample_windows

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
        seam: how windows join: "cosine" (ADM), "linear" (DSG+), "inpaint" (DiffSHEG); see
            :mod:`adm.sampling.windows`.
        overlap: frames consecutive windows share; None = the model's seed frames.
        savgol_window: Savitzky-Golay smoothing of the generated gestures over time (DSG+: 15
            frames); 0 = none.
        savgol_order: polynomial order of that smoothing (DSG+: 2).
        whole_clip: generate each clip in ONE window of its own length (CaMN's test protocol:
            a regression network of any length, seeded by the clip's first seed frames).
        clip_x0: clamp every step's ``x_0`` estimate to the train frames' per-channel range
            (stored in the weights file). SAiD's sampler does this (diffusers' DDIM
            ``clip_sample`` to [-1, 1], a bound of its [0, 1] blendshape data): with eps
            prediction the estimate's error grows as ``1 / sqrt(abar_t)`` at the noisiest steps.
            "ddpm" and "ddim" only.
        inpaint_steps, jump_length, jump_n_sample, inpaint_blend: DiffSHEG's schedule for the
            windows after a clip's first (``seam`` "inpaint"; :mod:`adm.sampling.repaint`):
            only the chain's last ``inpaint_steps`` steps (None: all; DiffSHEG 15 of 25),
            resampling jumps of ``jump_length`` steps taken ``jump_n_sample - 1`` times
            (DiffSHEG's BEAT script: 3 and 2; 0 and 1: none), and the overlap blended linearly
            once the noise scale is below ``inpaint_blend`` (DiffSHEG: 0.2; 0: replaced).
    """

    sampler: Literal["ddpm", "ddim", "dpmpp_2m", "dpmpp_2m_sde"] = "ddpm"
    steps: int = 50
    eta: float = 0.0
    guidance: float = 1.0
    batch: int = 16
    seam: Literal["cosine", "linear", "inpaint"] = "cosine"
    overlap: int | None = None
    savgol_window: int = 0
    savgol_order: int = 2
    whole_clip: bool = False
    clip_x0: bool = False
    inpaint_steps: int | None = None
    jump_length: int = 0
    jump_n_sample: int = 1
    inpaint_blend: float = 0.0

    def __post_init__(self) -> None:
        if self.steps <= 0:
            raise ConfigError(f"config.steps: must be positive, got {self.steps}")
        if self.eta < 0:
            raise ConfigError(f"config.eta: must be >= 0, got {self.eta}")
        if self.guidance < 0:
            raise ConfigError(f"config.guidance: must be >= 0, got {self.guidance}")
        if self.batch <= 0:
            raise ConfigError(f"config.batch: must be positive, got {self.batch}")
        if self.overlap is not None and self.overlap < 0:
            raise ConfigError(f"config.overlap: must be >= 0, got {self.overlap}")
        if self.savgol_window < 0 or (self.savgol_window and self.savgol_window % 2 == 0):
            raise ConfigError(
                f"config.savgol_window: expected 0 or an odd length, got {self.savgol_window}"
            )
        if self.savgol_order < 0 or (
            self.savgol_window and self.savgol_order >= self.savgol_window
        ):
            raise ConfigError(
                f"config.savgol_order: must be >= 0 and below savgol_window, "
                f"got {self.savgol_order}"
            )
        if self.seam == "inpaint" and self.sampler not in ("ddpm", "ddim"):
            raise ConfigError(f"config.seam: inpaint runs with ddpm or ddim, not {self.sampler}")
        if self.clip_x0 and self.sampler not in ("ddpm", "ddim"):
            raise ConfigError(f"config.clip_x0: runs with ddpm or ddim, not {self.sampler}")
        if self.inpaint_steps is not None and self.inpaint_steps <= 0:
            raise ConfigError(f"config.inpaint_steps: must be positive, got {self.inpaint_steps}")
        if self.jump_length < 0 or self.jump_n_sample < 1:
            raise ConfigError(
                f"config.jump_length/jump_n_sample: need >= 0 and >= 1, got "
                f"{self.jump_length} and {self.jump_n_sample}"
            )
        if not 0.0 <= self.inpaint_blend <= 1.0:
            raise ConfigError(f"config.inpaint_blend: must be in [0, 1], got {self.inpaint_blend}")
        if self.seam != "inpaint" and self.repaint != Repaint():
            raise ConfigError(
                "config.inpaint_steps/jump_length/jump_n_sample/inpaint_blend: only with "
                f"seam 'inpaint', got seam {self.seam!r}"
            )

    @property
    def repaint(self) -> Repaint:
        """The in-painted windows' schedule (:class:`adm.sampling.repaint.Repaint`)."""
        return Repaint(self.inpaint_steps, self.jump_length, self.jump_n_sample, self.inpaint_blend)


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
    x0_bounds: tuple[Tensor, Tensor] | None = None,
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
        x0_bounds: ``(low [Dx], high [Dx])`` for ``config.clip_x0`` (the checkpoint's
            :meth:`~adm.training.checkpoint.LoadedCheckpoint.x0_bounds`).

    Returns:
        Per clip, ``[T, Dx]`` float32 in normalised units (the tasks concatenated in order).
    """
    window, seed_frames = int(model.config.window), int(model.config.seed_frames)
    regression = getattr(model, "regression", False)
    if config.clip_x0 and (regression or x0_bounds is None):
        why = "a regression network has no chain" if regression else "no data range given"
        raise ConfigError(f"config.clip_x0: {why}")
    bounds = tuple(b.to(device) for b in x0_bounds) if config.clip_x0 and x0_bounds else None
    if config.whole_clip:
        if not regression:
            raise ConfigError("config.whole_clip: only for regression networks (any length)")
        window = max(max((c.num_frames for c in clips), default=1), seed_frames + 1)
    chain = diffusion.num_timesteps if diffusion is not None and not regression else None
    if chain is not None and config.inpaint_steps is not None and config.inpaint_steps > chain:
        raise ConfigError(f"config.inpaint_steps: {config.inpaint_steps} of a {chain}-step chain")
    check = getattr(model, "check_speakers", None)
    if check is not None:  # once here, not in every network call (a device sync on a GPU)
        check(torch.tensor([c.speaker for c in clips], dtype=torch.long))
    generators = [clip_generator(seed, c.stem) for c in clips]
    dim = int(model.config.x_dim)
    start = time.perf_counter()

    if regression:
        # CaMN, MambaTalk: one prediction per window from the conditions (and seed) alone.
        def denoise(cond: dict[str, Tensor], rows: list[int]) -> Tensor:
            with torch.no_grad():
                return model.predict(cond)
    else:
        net = guided_model(model, config.guidance)

        def denoise(cond: dict[str, Tensor], rows: list[int]) -> Tensor:
            shape = (len(rows), window, dim)
            gens = [generators[i] for i in rows]
            return sample_chain(
                diffusion, net, shape, cond, gens, config.sampler, config.eta, device,
                config.steps, x0_bounds=bounds, repaint=config.repaint,
            )  # fmt: skip

    def report(k: int, count: int, rows: list[int]) -> None:
        log.info(
            "window %d/%d: %d clip(s), %.1f s elapsed",
            k + 1,
            count,
            len(rows),
            time.perf_counter() - start,
        )

    protocol = Protocol(seam=config.seam, overlap=config.overlap)
    outputs = sample_windows(
        clips,
        denoise,
        window,
        seed_frames,
        config.batch,
        device=device,
        on_window=report,
        protocol=protocol,
    )
    gesture = getattr(model, "task_slices", {}).get("gesture")
    return [smooth_gestures(o.numpy(), gesture, config) for o in outputs]


def smooth_gestures(x: np.ndarray, gesture: slice | None, config: SampleConfig) -> np.ndarray:
    """``x`` ``[T, Dx]`` with its gesture channels Savitzky-Golay smoothed over time (DSG+'s
    post-processing; scipy's ``savgol_filter``), when ``config.savgol_window`` > 0.

    The filter is linear with coefficients summing to 1, so smoothing the normalised values
    equals smoothing the rotations themselves. A clip shorter than the filter is left as is.
    """
    if not config.savgol_window or gesture is None or len(x) < config.savgol_window:
        return x
    from scipy.signal import savgol_filter

    out = x.copy()
    out[:, gesture] = savgol_filter(
        x[:, gesture], config.savgol_window, config.savgol_order, axis=0
    ).astype(x.dtype)
    return out
