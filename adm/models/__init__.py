"""Denoiser networks: ``model(x_t [B, T, Dx], t [B], cond) -> x0_hat [B, T, Dx]``.

Importing the package registers every network; pick one with :func:`build_denoiser`.
"""

from adm.models.adm_denoiser import ADMDenoiser
from adm.models.config import ADMConfig
from adm.models.registry import (
    available_denoisers,
    build_denoiser,
    denoiser_class,
    register_denoiser,
)

__all__ = [
    "ADMConfig",
    "ADMDenoiser",
    "available_denoisers",
    "build_denoiser",
    "denoiser_class",
    "register_denoiser",
]
