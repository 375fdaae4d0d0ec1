"""The objective interface: :class:`LossInputs` in, ``{task: {term: loss}}`` out."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from torch import Tensor

from adm.config import from_dict
from adm.errors import ConfigError


@dataclass
class LossInputs:
    """What an objective may read of one training batch (this rank's rows).

    Attributes:
        pred: the network's output: ``[B, W, Dx]`` float32 (x0 or eps, per ``prediction``),
            or a dict of tensors for networks with several heads (e.g. latents and code logits).
        x0: ``[B, W, Dx]`` the clean motion, tasks concatenated in ``task_slices`` order.
        mask: ``[B, W]`` bool, True on valid (unpadded) frames.
        task_slices: channel range of each task inside ``x0``.
        valid_frames: the number of valid frames of the GLOBAL batch (means divide by it, so K
            ranks average to the single-process loss); 0-dim tensor or float.
        scale: the number of ranks (each rank's share is multiplied by it).
        x_t: ``[B, W, Dx]`` the noisy input (diffusion objectives; None for regression).
        t: ``[B]`` long diffusion steps (None for regression).
        eps: ``[B, W, Dx]`` the noise that made ``x_t`` (None for regression).
        diffusion: the training chain (``GaussianDiffusion``; None for regression), for
            conversions such as ``x0_hat`` from a predicted eps.
        cond: the batch's conditions (``"semantic"`` [B, W] float32 is there when the corpus
            carries semantic scores).
        progress: the fraction of training done (step / iterations) in a training step of an
            objective with ``draws_motion_noise``; None otherwise and in validation.
        motion_noise: ``[B, W, Dx]`` uniform [0, 1) draws of the trainer's noise generator for
            objectives with ``draws_motion_noise`` (drawn for the global batch like ``eps``, so
            resume and K ranks stay exact); None when the loss is evaluated.
    """

    pred: Any
    x0: Tensor
    mask: Tensor
    task_slices: Mapping[str, slice]
    valid_frames: Tensor | float
    scale: float = 1.0
    x_t: Tensor | None = None
    t: Tensor | None = None
    eps: Tensor | None = None
    diffusion: Any = None
    cond: Mapping[str, Tensor] = field(default_factory=dict)
    progress: float | None = None
    motion_noise: Tensor | None = None


class Objective:
    """Base class: subclasses set ``settings_class`` (a frozen dataclass) and implement
    :meth:`terms`. ``prediction`` is the diffusion target the objective expects ("x0", "eps",
    or None for regression objectives); the run config is checked against it."""

    settings_class: type
    prediction: str | None = None
    #: True: training steps pass ``motion_noise`` (see :class:`LossInputs`).
    draws_motion_noise: bool = False

    def __init__(self, settings: Any):
        self.settings = settings

    def terms(self, inputs: LossInputs) -> dict[str, dict[str, Tensor]]:
        """``{task: {term: 0-dim float32 loss}}`` for the tasks of ``inputs.task_slices``."""
        raise NotImplementedError

    def __call__(self, inputs: LossInputs) -> dict[str, dict[str, Tensor]]:
        out = self.terms(inputs)
        if set(out) != set(inputs.task_slices):
            raise ValueError(
                f"{type(self).__name__}: loss terms for tasks {sorted(out)}, "
                f"expected {sorted(inputs.task_slices)}"
            )
        return out


def task_totals(terms: Mapping[str, Mapping[str, Tensor]]) -> dict[str, Tensor]:
    """``{task: sum of its terms}``: what the loss weighting combines."""
    return {task: sum(parts.values()) for task, parts in terms.items()}  # type: ignore[misc]


O = TypeVar("O", bound=type[Objective])
_OBJECTIVES: dict[str, type[Objective]] = {}


def register_objective(name: str) -> Callable[[O], O]:
    """Class decorator registering an :class:`Objective` subclass as ``name``."""

    def decorate(cls: O) -> O:
        if name in _OBJECTIVES and _OBJECTIVES[name] is not cls:
            raise ValueError(f"objective name {name!r} is already registered")
        _OBJECTIVES[name] = cls
        return cls

    return decorate


def available_objectives() -> list[str]:
    from adm.training.objectives import load_objectives

    load_objectives()
    return sorted(_OBJECTIVES)


def build_objective(settings: Mapping[str, Any], where: str = "objective") -> Objective:
    """Build the objective ``settings["name"]`` from the rest of ``settings`` (strictly)."""
    known = available_objectives()
    settings = dict(settings)
    name = settings.pop("name", None)
    if name not in _OBJECTIVES:
        raise ConfigError(f"{where}.name: unknown objective {name!r} (known: {', '.join(known)})")
    cls = _OBJECTIVES[name]
    return cls(from_dict(cls.settings_class, settings, where=where))
