"""Gaussian diffusion over tensors: schedules, the DDPM/DDIM process, respacing and guidance.

Nothing here knows about BEAT or motion; a denoiser is any callable ``model(x_t, t, cond)``.
"""

from adm.diffusion.gaussian import GaussianDiffusion, TrainingTargets
from adm.diffusion.guidance import guided_model
from adm.diffusion.respace import SpacedDiffusion, make_diffusion, space_timesteps
from adm.diffusion.reverse import Step, randn_like
from adm.diffusion.schedules import cosine_betas, linear_betas, make_betas

__all__ = [
    "GaussianDiffusion",
    "SpacedDiffusion",
    "Step",
    "TrainingTargets",
    "cosine_betas",
    "guided_model",
    "linear_betas",
    "make_betas",
    "make_diffusion",
    "randn_like",
    "space_timesteps",
]
