"""Registry of denoiser networks, so training and sampling code picks one by name.

Every registered class has a ``config_class`` (a frozen dataclass) and takes an instance of it;
:func:`build_denoiser` builds that config strictly from a plain dict (unknown keys are a
:class:`~adm.errors.ConfigError` naming the key), so a checkpoint's stored config dict rebuilds
the same network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from torch import nn

from adm.config import from_dict

M = TypeVar("M", bound=type[nn.Module])

_DENOISERS: dict[str, type[nn.Module]] = {}


def register_denoiser(name: str) -> Callable[[M], M]:
    """Class decorator: register a denoiser (which must define ``config_class``) as ``name``."""

    def decorate(cls: M) -> M:
        if not hasattr(cls, "config_class"):
            raise TypeError(f"denoiser {cls.__name__} has no config_class")
        if name in _DENOISERS and _DENOISERS[name] is not cls:
            raise ValueError(f"denoiser name {name!r} is already registered")
        _DENOISERS[name] = cls
        return cls

    return decorate


def available_denoisers() -> list[str]:
    """Names that :func:`build_denoiser` accepts, sorted."""
    return sorted(_DENOISERS)


def denoiser_class(name: str) -> type[nn.Module]:
    """The class registered as ``name``; ValueError listing the known names otherwise."""
    try:
        return _DENOISERS[name]
    except KeyError:
        known = ", ".join(available_denoisers()) or "none"
        raise ValueError(f"unknown denoiser {name!r} (known: {known})") from None


def build_denoiser(name: str, config: dict[str, Any], where: str = "model") -> nn.Module:
    """Build the denoiser ``name`` from a config dict (missing keys take the paper defaults).

    Raises:
        ValueError: unknown ``name``.
        ConfigError: unknown key or bad value in ``config``; the message names ``where.key``.
    """
    cls = denoiser_class(name)
    return cls(from_dict(cls.config_class, config, where=where))
