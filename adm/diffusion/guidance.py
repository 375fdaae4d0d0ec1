"""Classifier-free guidance (Ho & Salimans 2022) on the speaker/style condition.

DiffuseStyleGesture+ trains with the speaker condition dropped with probability 0.1 and samples
with ``out = uncond + scale * (cond_out - uncond)``; MDM applies the same blend to x0
predictions. The denoiser learns the unconditional branch through ``cond["drop_speaker"]``
(``[B]`` bool): where it is True the model nulls its speaker embedding.
"""

from __future__ import annotations

from typing import Any

import torch

from adm.diffusion.reverse import Model


def guided_model(model: Model, scale: float) -> Model:
    """Wrap ``model(x_t, t, cond)`` with classifier-free guidance of strength ``scale``.

    Args:
        model: denoiser, ``x_t`` ``[B, ...]``, ``t`` ``[B]``, ``cond`` a dict; returns a tensor
            ``[B, ...]`` (x0 or eps, the blend is linear either way).
        scale: guidance weight; 1 is the plain conditional model (returned unchanged, so no
            extra call), 0 the unconditional one, > 1 pushes away from the unconditional output.

    Returns:
        A callable ``(x_t, t, cond) -> uncond + scale * (cond_out - uncond)``. Both branches
        run as ONE forward pass of batch ``2B``: every tensor in ``cond`` whose first dimension is
        ``B`` is repeated, other values are passed as they are. The conditional half keeps the
        caller's ``drop_speaker`` (False everywhere when absent); the unconditional half has it
        True everywhere.
    """
    scale = float(scale)
    if scale == 1.0:
        return model

    def guided(x_t: torch.Tensor, t: torch.Tensor, cond: dict[str, Any]) -> torch.Tensor:
        batch = x_t.shape[0]
        drop = cond.get("drop_speaker")
        if drop is None:
            drop = torch.zeros(batch, dtype=torch.bool, device=x_t.device)
        drop = drop.to(device=x_t.device, dtype=torch.bool)
        both = {key: _repeat(value, batch) for key, value in cond.items()}
        both["drop_speaker"] = torch.cat([drop, torch.ones_like(drop)])
        out = model(torch.cat([x_t, x_t]), torch.cat([t, t]), both)
        cond_out, uncond = out[:batch], out[batch:]
        return uncond + scale * (cond_out - uncond)

    return guided


def _repeat(value: Any, batch: int) -> Any:
    """Stack a batched tensor ``[B, ...]`` twice along dim 0; leave anything else alone."""
    if isinstance(value, torch.Tensor) and value.ndim >= 1 and value.shape[0] == batch:
        return torch.cat([value, value])
    return value
