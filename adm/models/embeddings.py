"""Fixed position / timestep encodings and the timestep MLP.

- :func:`sinusoidal_embedding`: the Transformer sinusoid (Vaswani et al. 2017), also the DDPM /
  improved-diffusion timestep embedding.
- :class:`TimestepEmbedder`: ``Z_t = MLP(sinusoid(t))`` as in MDM and DiffuseStyleGesture+.
- :class:`SinusoidalPositionalEncoding`: fixed frame positions added before the encoder (MDM).
- :class:`RotaryEmbedding`: rotary position encoding of queries/keys (Su et al., RoFormer 2021)
  for the local attention, which DSG+ uses through lucidrains' ``local-attention``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def sinusoidal_embedding(positions: Tensor, dim: int, max_period: float = 10000.0) -> Tensor:
    """Sinusoidal features of (possibly fractional) positions.

    Args:
        positions: ``[...]`` float or integer positions / timesteps.
        dim: even output width.
        max_period: longest wavelength.

    Returns:
        ``[..., dim]``: ``[cos(p w_0..w_{d/2-1}) | sin(p w_0..w_{d/2-1})]`` with geometric
        frequencies ``w_i = max_period^(-i / (d/2))``.
    """
    if dim % 2:
        raise ValueError(f"sinusoidal embedding width must be even, got {dim}")
    half = dim // 2
    freqs = torch.exp(
        -math.log(max_period)
        * torch.arange(half, device=positions.device, dtype=torch.float32)
        / half
    )
    angles = positions.float()[..., None] * freqs
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)


class TimestepEmbedder(nn.Module):
    """``Z_t``: diffusion step ``t`` [B] -> sinusoid -> Linear, SiLU, Linear -> ``[B, dim]``."""

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t: Tensor) -> Tensor:
        return self.mlp(sinusoidal_embedding(t, self.dim))


class SinusoidalPositionalEncoding(nn.Module):
    """Adds fixed sinusoidal positions to a sequence ``[B, L, D]`` (then dropout), as MDM does.

    Fixed rather than learned so that sequences longer than the training window (long-take
    sampling) still get meaningful positions.
    """

    def __init__(self, dim: int, dropout: float = 0.0):
        super().__init__()
        self.dim = dim
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        pos = torch.arange(x.shape[1], device=x.device)
        return self.dropout(x + sinusoidal_embedding(pos, self.dim).to(x.dtype))


class RotaryEmbedding(nn.Module):
    """Rotary position encoding for ``[B, H, L, Dh]`` queries and keys (RoFormer).

    Channel ``i`` and ``i + Dh/2`` form a pair rotated by angle ``pos * w_i``; the dot product of a
    rotated query and key then depends only on their distance, so absolute frame indices can be
    used before the sequence is cut into windows.
    """

    def __init__(self, head_dim: int, base: float = 10000.0):
        super().__init__()
        if head_dim % 2:
            raise ValueError(f"rotary encoding needs an even head width, got {head_dim}")
        inv_freq = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, x: Tensor, positions: Tensor) -> Tensor:
        """Rotate ``x`` [..., L, Dh] by ``positions`` [L]; returns the same shape."""
        angles = positions.float()[:, None] * self.inv_freq  # [L, Dh/2]
        cos = torch.cat([angles.cos(), angles.cos()], dim=-1).to(x.dtype)
        sin = torch.cat([angles.sin(), angles.sin()], dim=-1).to(x.dtype)
        x1, x2 = x.chunk(2, dim=-1)
        return x * cos + torch.cat([-x2, x1], dim=-1) * sin
