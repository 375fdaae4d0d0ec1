"""DiffSHEG's in-painting schedule for the windows after a clip's first (its "harmonize" DDIM
loop, after RePaint, Lugmayr et al. 2022).

A window whose first frames are known (the previous window's tail) is sampled

- over the last ``steps`` steps of the respaced chain only, starting from pure noise at the
  first of them (DiffSHEG: 15 of DDIM-25, ``int(0.6 * 25)``);
- with **resampling jumps**: after reaching step ``j`` for ``j`` in ``0, L, 2L, ...`` (below
  ``steps - L``), the sample is pushed ``L`` steps back up the chain by forward noising, one step
  at a time, and denoised again; ``n - 1`` such jumps per ``j`` (DiffSHEG's BEAT script:
  ``jump_length`` L = 3, ``jump_n_sample`` n = 2);
- with the known frames reset after every denoising step to their values noised to the new
  step (:func:`adm.sampling.chain._inpaint`), and, once that noise's scale
  ``sqrt(1 - abar)`` falls below ``blend_below`` (DiffSHEG: 0.2), blended linearly into the
  generated frames across the overlap instead of replacing them.

The schedule is a list of respaced step indices ending in -1; a pair ``(a, b)`` of consecutive
entries is a denoising step at ``a`` when ``b < a`` and a forward (noising) step otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class Repaint:
    """How windows with known frames are sampled (see the module docstring).

    Attributes:
        steps: run only the chain's last ``steps`` steps (None: all of them).
        jump_length: L, steps of each resampling jump (0: no jumps).
        jump_n_sample: n, passes over each jumped stretch (1: no jumps).
        blend_below: noise scale under which the overlap is blended, not replaced (0: never).
    """

    steps: int | None = None
    jump_length: int = 0
    jump_n_sample: int = 1
    blend_below: float = 0.0


def jump_schedule(steps: int, jump_length: int = 0, jump_n_sample: int = 1) -> list[int]:
    """The visited step indices: ``steps - 1`` down to 0 with the resampling jumps, then -1.

    ``jump_length`` 0 (or ``jump_n_sample`` 1) gives the plain ``[steps - 1, ..., 0, -1]``.
    Example: ``jump_schedule(6, 2, 2) == [5, 4, 3, 2, 3, 4, 3, 2, 1, 0, 1, 2, 1, 0, -1]``
    (jumps from 2 and from 0, each taken once; they start below ``steps - jump_length``).
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if jump_length < 0 or jump_n_sample < 1:
        raise ValueError(
            f"need jump_length >= 0 and jump_n_sample >= 1, got {jump_length}, {jump_n_sample}"
        )
    jumps = (
        {j: jump_n_sample - 1 for j in range(0, steps - jump_length, jump_length)}
        if jump_length
        else {}
    )
    t, out = steps, []
    while t >= 1:
        t -= 1
        out.append(t)
        if jumps.get(t, 0) > 0:
            jumps[t] -= 1
            for _ in range(jump_length):
                t += 1
                out.append(t)
    out.append(-1)
    return out


def overlap_blend_weights(mask: Tensor) -> Tensor:
    """Per known frame, the weight of the GENERATED frame in DiffSHEG's final blend: 0 on the
    first known frame of a row rising linearly to 1 on its last (``linspace(0, 1, n)``), 0 off
    the mask. ``mask`` ``[B, W]`` bool -> ``[B, W]`` float32."""
    count = mask.sum(dim=1, keepdim=True).clamp(min=2) - 1
    position = torch.cumsum(mask.to(torch.long), dim=1) - 1
    return torch.where(mask, position.float() / count.float(), torch.zeros((), dtype=torch.float32))
