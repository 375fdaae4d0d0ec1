"""Timestep respacing: sample a network trained on T steps with a subset of them (improved-diffusion
section 4, "Improving sampling speed"; DDIM, Song et al. 2021).

Keeping steps ``S = [s_0 < s_1 < ... < s_{K-1}]`` of the base chain defines a new K-step process
with the same marginals at the kept steps: ``abar'_k = abar_{s_k}`` and so
``beta'_k = 1 - abar_{s_k} / abar_{s_{k-1}}``. The model is still called with the ORIGINAL index
``s_k``, the one it saw in training.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from adm.diffusion.gaussian import GaussianDiffusion, Prediction, Variance
from adm.diffusion.schedules import make_betas
from adm.errors import ConfigError


def space_timesteps(num_timesteps: int, section_counts: int | Sequence[int] | str) -> list[int]:
    """Which of ``num_timesteps`` base steps to keep, sorted.

    ``section_counts`` is:

    * ``"ddimN"``: DDIM's uniform stride, ``range(0, T, stride)`` with the stride giving exactly N
      steps (an error when no integer stride does);
    * an int N, a list ``[n_0, n_1, ...]`` or a comma-separated string ``"n_0,n_1"``: the chain is
      cut into ``len(list)`` equal sections and section i keeps ``n_i`` evenly spaced steps,
      including both of its ends when ``n_i >= 2``, and its noisiest step when ``n_i == 1`` (so a
      one-step sampler starts from noise).

    Example: ``space_timesteps(10, [2, 3]) == [0, 4, 5, 7, 9]``.
    """
    where = "diffusion.respacing"
    if isinstance(section_counts, str):
        text = section_counts.strip()
        if text.startswith("ddim"):
            try:
                desired = int(text[len("ddim") :])
            except ValueError:
                raise ConfigError(
                    f"{where}: expected 'ddimN' with an integer N, got {text!r}"
                ) from None
            for stride in range(1, num_timesteps + 1):
                if len(range(0, num_timesteps, stride)) == desired:
                    return list(range(0, num_timesteps, stride))
            raise ConfigError(
                f"{where}: no integer stride gives exactly {desired} of {num_timesteps} steps "
                f"for {text!r}; choose another N or give a step count such as '{desired}'"
            )
        try:
            counts = [int(part) for part in text.split(",")]
        except ValueError:
            raise ConfigError(
                f"{where}: expected 'ddimN', an integer or comma-separated integers, got {text!r}"
            ) from None
    elif isinstance(section_counts, int | np.integer):
        counts = [int(section_counts)]
    else:
        counts = [int(c) for c in section_counts]

    if not counts:
        raise ConfigError(f"{where}: expected at least one section, got {section_counts!r}")
    if len(counts) > num_timesteps:
        raise ConfigError(f"{where}: {len(counts)} sections for only {num_timesteps} steps")
    size_per, extra = divmod(num_timesteps, len(counts))
    kept: list[int] = []
    start = 0
    for i, count in enumerate(counts):
        size = size_per + (1 if i < extra else 0)
        if not 1 <= count <= size:
            raise ConfigError(
                f"{where}: section {i} has {size} steps, cannot keep {count} (need 1..{size})"
            )
        if count == 1:
            kept.append(start + size - 1)
        else:
            stride = (size - 1) / (count - 1)
            kept.extend(start + round(stride * j) for j in range(count))
        start += size
    return sorted(set(kept))


class SpacedDiffusion(GaussianDiffusion):
    """A :class:`GaussianDiffusion` over a subset ``use_timesteps`` of a base chain.

    Args:
        use_timesteps: base step indices to keep (any order; duplicates ignored).
        base_betas: ``[T]`` betas of the base chain the model was trained on.
        prediction, variance: as :class:`GaussianDiffusion`.

    Attributes:
        use_timesteps: the kept base indices, sorted (list of int).
        base_num_timesteps: T of the base chain.
        timestep_map: ``[K]``: step k of this process calls the model with base index
            ``use_timesteps[k]``.
    """

    def __init__(
        self,
        use_timesteps: Iterable[int],
        base_betas: np.ndarray,
        prediction: Prediction = "x0",
        variance: Variance = "fixed_small",
    ) -> None:
        base_betas = np.asarray(base_betas, dtype=np.float64)
        kept = sorted({int(s) for s in use_timesteps})
        if not kept:
            raise ConfigError("diffusion.respacing: no timesteps kept")
        if kept[0] < 0 or kept[-1] >= base_betas.size:
            raise ConfigError(
                f"diffusion.respacing: kept steps must lie in [0, {base_betas.size}), got "
                f"{kept[0]}..{kept[-1]}"
            )
        base_abar = np.cumprod(1.0 - base_betas)
        # beta'_k = 1 - abar_{s_k} / abar_{s_{k-1}}, with abar before the first kept step = 1.
        abar_kept = base_abar[kept]
        betas = 1.0 - abar_kept / np.append(1.0, abar_kept[:-1])
        super().__init__(betas, prediction=prediction, variance=variance)
        self.use_timesteps = kept
        self.base_num_timesteps = int(base_betas.size)
        self.timestep_map = np.asarray(kept, dtype=np.int64)


def make_diffusion(
    schedule: str = "cosine",
    steps: int = 1000,
    prediction: Prediction = "x0",
    respacing: str | None = None,
    variance: Variance = "fixed_small",
) -> SpacedDiffusion:
    """The process the project trains and samples with.

    Args:
        schedule: "cosine" (the paper, via DiffuseStyleGesture+) or "linear".
        steps: T of the training chain (the paper: 1000).
        prediction: "x0" (the paper) or "eps".
        respacing: None or "" for the full chain (the paper's sampler), "ddimN" for N
            uniformly strided steps, or section counts such as "250" or "10,20,30".
        variance: "fixed_small" (the paper) or "fixed_large".

    Returns:
        A :class:`SpacedDiffusion` (with all steps kept when ``respacing`` is empty, identical to
        the base process), whose ``timestep_map`` feeds original indices to the model.
    """
    betas = make_betas(schedule, steps)
    kept = range(steps) if not respacing else space_timesteps(steps, respacing)
    return SpacedDiffusion(kept, betas, prediction=prediction, variance=variance)
