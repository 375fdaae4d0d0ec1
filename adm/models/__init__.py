"""Denoiser networks: ``model(x_t [B, T, Dx], t [B], cond) -> x0_hat [B, T, Dx]``.

Importing a network registers it; pick one with :func:`build_denoiser`. The names below are
loaded on first use, so that reading a model's settings (:mod:`adm.models.config`) does not
import torch (the pipeline's graph checks them before any job runs).
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "ADMConfig": "adm.models.config",
    "ADMDenoiser": "adm.models.adm_denoiser",
    "available_denoisers": "adm.models.registry",
    "build_denoiser": "adm.models.registry",
    "denoiser_class": "adm.models.registry",
    "register_denoiser": "adm.models.registry",
}

__all__ = sorted(_HOMES)

#: Modules of the peers' networks, imported (and so registered) whenever the registry is used.
PEER_MODULES = (
    "adm.models.said",
    "adm.models.diffsheg",
    "adm.models.camn",
    "adm.models.mambatalk",
)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'adm.models' has no attribute {name!r}")
    if _HOMES[name] == "adm.models.registry":
        importlib.import_module("adm.models.adm_denoiser")  # registers the ADM denoiser
        for module in PEER_MODULES:
            importlib.import_module(module)
    return getattr(importlib.import_module(_HOMES[name]), name)
