"""Task-loss weighting: how the per-task losses become one training loss.

One interface, :class:`LossWeighting`, with two implementations:

- :class:`FixedWeighting`: ``L = sum_k w_k L_k`` with constant weights (the "no UWP" ablation
  with 1:1 weights, or a single task such as A2E ``{"face": 1}``).
- :class:`UncertaintyWeighting`: homoscedastic task uncertainty (Kendall, Gal and Cipolla,
  "Multi-Task Learning Using Uncertainty to Weigh Losses", CVPR 2018), as method.md "Loss: UWP"
  states it: ``L = sum_k L_k / (2 sigma_k^2) + log sigma_k``, parametrised by
  ``s_k = log sigma_k^2`` for stability: ``L = sum_k 0.5 exp(-s_k) L_k + 0.5 s_k``.

Both report the normalised weights ``w_k = c_k / sum_j c_j`` of the per-task factors ``c_k``
(``c_k = 1 / (2 sigma_k^2)`` for UWP), the paper's 0.506 / 0.494 figure, and a sigma per task,
for the training-scalars CSV (``sigma_<task>``, ``weight_<task>``). The learnable ``s_k`` are
parameters of the module, so the trainer optimises and checkpoints them with the network.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Literal

import torch
from torch import Tensor, nn

from adm.errors import ConfigError


class LossWeighting(nn.Module):
    """Combines per-task scalar losses into the total loss.

    Subclasses define ``tasks`` and :meth:`factors` (the multiplier of each task loss).
    """

    tasks: tuple[str, ...]

    def _check(self, losses: Mapping[str, Tensor]) -> None:
        if set(losses) != set(self.tasks):
            raise ValueError(
                f"losses for tasks {sorted(losses)} do not match the weighted tasks "
                f"{sorted(self.tasks)}"
            )

    def forward(self, losses: Mapping[str, Tensor]) -> Tensor:
        """Total loss (0-dim tensor) from ``{task: 0-dim loss}``."""
        raise NotImplementedError

    def factors(self) -> dict[str, float]:
        """Current multiplier of each task loss in the total."""
        raise NotImplementedError

    def weights(self) -> dict[str, float]:
        """Normalised weights ``w_k = factor_k / sum_j factor_j`` (they sum to 1)."""
        factors = self.factors()
        total = sum(factors.values())
        return {k: v / total for k, v in factors.items()}

    def sigmas(self) -> dict[str, float]:
        """``sigma_k`` with ``factor_k = 1 / (2 sigma_k^2)`` (infinite for a zero factor)."""
        return {
            k: (math.sqrt(1.0 / (2.0 * f)) if f > 0 else math.inf)
            for k, f in self.factors().items()
        }

    def log_values(self) -> dict[str, float]:
        """Scalars to record each logging step: ``sigma_<task>`` and ``weight_<task>``."""
        sigmas, weights = self.sigmas(), self.weights()
        values: dict[str, float] = {}
        for task in self.tasks:
            values[f"sigma_{task}"] = sigmas[task]
            values[f"weight_{task}"] = weights[task]
        return values


class FixedWeighting(LossWeighting):
    """``L = sum_k w_k L_k`` with constant, non-negative weights (no parameters).

    Args:
        weights: ``{task: w_k}``; at least one must be positive. ``sigmas()`` reports the
            equivalent ``sigma_k = (2 w_k)^(-1/2)`` so both weightings log the same columns.
    """

    def __init__(self, weights: Mapping[str, float]):
        super().__init__()
        if not weights:
            raise ConfigError("weighting.weights: at least one task weight is needed")
        for task, w in weights.items():
            if not isinstance(w, int | float) or isinstance(w, bool) or w < 0 or math.isnan(w):
                raise ConfigError(f"weighting.weights.{task}: expected a number >= 0, got {w!r}")
        if sum(weights.values()) <= 0:
            raise ConfigError("weighting.weights: at least one weight must be positive")
        self.tasks = tuple(weights)
        self._weights = {k: float(v) for k, v in weights.items()}

    def forward(self, losses: Mapping[str, Tensor]) -> Tensor:
        self._check(losses)
        return sum(self._weights[k] * losses[k] for k in self.tasks)  # type: ignore[return-value]

    def factors(self) -> dict[str, float]:
        return dict(self._weights)

    def extra_repr(self) -> str:
        return f"weights={self._weights}"


class UncertaintyWeighting(LossWeighting):
    """Kendall et al. (2018) uncertainty weighting with ``s_k = log sigma_k^2`` learnable.

    ``L = sum_k 0.5 exp(-s_k) L_k + 0.5 s_k``. With the same ``init_log_var`` for every task the
    weights start equal (1:1); ``init_log_var = 0`` means sigma_k = 1.

    Args:
        tasks: task names, in order.
        init_log_var: initial ``s_k``, one number for all tasks or ``{task: s_k}``.

    Parameters: ``log_var[task]``, a 0-dim ``nn.Parameter`` per task.
    """

    def __init__(self, tasks: Iterable[str], init_log_var: float | Mapping[str, float] = 0.0):
        super().__init__()
        self.tasks = tuple(tasks)
        if not self.tasks or len(set(self.tasks)) != len(self.tasks):
            raise ConfigError(f"weighting.tasks: expected distinct task names, got {self.tasks}")
        if isinstance(init_log_var, Mapping):
            if set(init_log_var) != set(self.tasks):
                raise ConfigError(
                    f"weighting.init_log_var: keys {sorted(init_log_var)} do not match tasks "
                    f"{sorted(self.tasks)}"
                )
            init = {k: float(init_log_var[k]) for k in self.tasks}
        else:
            init = {k: float(init_log_var) for k in self.tasks}
        self.log_var = nn.ParameterDict(
            {k: nn.Parameter(torch.tensor(init[k], dtype=torch.float32)) for k in self.tasks}
        )

    def forward(self, losses: Mapping[str, Tensor]) -> Tensor:
        self._check(losses)
        total = None
        for task in self.tasks:
            s = self.log_var[task]
            term = 0.5 * torch.exp(-s) * losses[task] + 0.5 * s
            total = term if total is None else total + term
        return total  # type: ignore[return-value]

    def factors(self) -> dict[str, float]:
        return {k: 0.5 * math.exp(-float(self.log_var[k].detach())) for k in self.tasks}


def build_weighting(
    name: Literal["fixed", "uncertainty"], tasks: Iterable[str], **kwargs: object
) -> LossWeighting:
    """Build a weighting by name for ``tasks``.

    ``"fixed"`` takes ``weights={task: w}`` (default 1 per task; its keys must be ``tasks``);
    ``"uncertainty"`` takes ``init_log_var``. Unknown names or options are a ConfigError.
    """
    tasks = tuple(tasks)
    if name == "fixed":
        unknown = sorted(set(kwargs) - {"weights"})
        if unknown:
            raise ConfigError(f"weighting: unknown option {unknown[0]!r} for 'fixed'")
        weights = kwargs.get("weights")
        weights = {k: 1.0 for k in tasks} if weights is None else weights
        if not isinstance(weights, Mapping) or set(weights) != set(tasks):
            raise ConfigError(
                f"weighting.weights: expected one weight per task {list(tasks)}, got {weights!r}"
            )
        return FixedWeighting({k: weights[k] for k in tasks})
    if name == "uncertainty":
        unknown = sorted(set(kwargs) - {"init_log_var"})
        if unknown:
            raise ConfigError(f"weighting: unknown option {unknown[0]!r} for 'uncertainty'")
        return UncertaintyWeighting(tasks, **kwargs)  # type: ignore[arg-type]
    raise ConfigError(f"weighting: unknown name {name!r} (known: fixed, uncertainty)")
