"""Building blocks of DiffSHEG's UniEG transformers (Chen et al., CVPR 2024, section 3.2).

Each layer of a branch (:class:`UniEGLayer`):

1. condition projection with a residual: ``h <- h + MLP([h | conditions])`` (DiffSHEG's
   "mlp_includeX" projection with ``cond_residual``);
2. :class:`LinearSelfAttention`, DiffSHEG's efficient attention: queries softmaxed over their
   features, keys over time, ``attention = k^T v`` per head, so the cost is linear in T;
3. :class:`FeedForward`;

2 and 3 each end in a :class:`FiLM` stylisation block (scale and shift from the timestep +
speaker embedding) and a residual. The FiLM output layer starts at zero, so a fresh sub-block is
the identity and the network starts as the condition projections alone.

Shapes: sequences are ``[B, T, D]``, the embedding ``emb`` ``[B, E]``, ``mask`` ``[B, T]`` bool
(True = valid frame).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class FiLM(nn.Module):
    """Stylisation: ``out(LayerNorm(y) * (1 + scale) + shift)`` with ``(scale, shift)`` a
    Linear of ``SiLU(emb)``; ``out`` is SiLU, dropout and a zero-initialised Linear."""

    def __init__(self, dim: int, emb_dim: int, dropout: float):
        super().__init__()
        self.emb = nn.Sequential(nn.SiLU(), nn.Linear(emb_dim, 2 * dim))
        self.norm = nn.LayerNorm(dim)
        self.out = nn.Sequential(nn.SiLU(), nn.Dropout(dropout), nn.Linear(dim, dim))
        nn.init.zeros_(self.out[-1].weight)
        nn.init.zeros_(self.out[-1].bias)

    def forward(self, y: Tensor, emb: Tensor) -> Tensor:
        """``y`` [B, T, D], ``emb`` [B, E] -> [B, T, D]."""
        scale, shift = self.emb(emb)[:, None].chunk(2, dim=-1)
        return self.out(self.norm(y) * (1 + scale) + shift)


class LinearSelfAttention(nn.Module):
    """Efficient (linear) temporal self-attention with a FiLM output and a residual.

    Padded frames are excluded as keys and values: their key logits are replaced by the dtype's
    lowest value before the softmax over time (weight exactly 0 whenever a valid key exists)
    and their values by 0, so valid outputs do not depend on what padded frames contain.
    """

    def __init__(self, dim: int, heads: int, emb_dim: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.norm = nn.LayerNorm(dim)
        self.query = nn.Linear(dim, dim)
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)
        self.film = FiLM(dim, emb_dim, dropout)

    def forward(self, x: Tensor, emb: Tensor, mask: Tensor) -> Tensor:
        b, length, dim = x.shape
        split = (b, length, self.heads, dim // self.heads)
        xn = self.norm(x)
        valid = mask[:, :, None, None]  # [B, T, 1, 1]
        q = self.query(xn).view(split).softmax(dim=-1)  # over each head's features
        k = self.key(xn).view(split)
        k = k.masked_fill(~valid, torch.finfo(k.dtype).min).softmax(dim=1)  # over time
        v = self.value(xn).view(split).masked_fill(~valid, 0.0)
        context = torch.einsum("bthd,bthe->bhde", k, v)  # [B, H, Dh, Dh]
        y = torch.einsum("bthd,bhde->bthe", q, context).reshape(b, length, dim)
        return x + self.film(y, emb)


class FeedForward(nn.Module):
    """``x + FiLM(Linear(GELU(Linear(x))))``; the second Linear starts at zero (as DiffSHEG)."""

    def __init__(self, dim: int, hidden: int, emb_dim: int, dropout: float):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, dim)
        )
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)
        self.film = FiLM(dim, emb_dim, dropout)

    def forward(self, x: Tensor, emb: Tensor) -> Tensor:
        return x + self.film(self.net(x), emb)


class UniEGLayer(nn.Module):
    """One layer: condition projection (residual), linear self-attention, feed-forward.

    ``cond_dim`` is the width of the per-frame conditions concatenated to the hidden state
    (0 for the audio encoder layer, which has no condition projection).
    """

    def __init__(self, dim: int, cond_dim: int, heads: int, ff: int, emb_dim: int, dropout: float):
        super().__init__()
        self.cond_proj: nn.Module | None = None
        if cond_dim > 0:
            width = dim + cond_dim
            self.cond_proj = nn.Sequential(
                nn.LayerNorm(width),
                nn.Linear(width, 2 * dim),
                nn.SiLU(),
                nn.Linear(2 * dim, dim),
            )
        self.attention = LinearSelfAttention(dim, heads, emb_dim, dropout)
        self.ffn = FeedForward(dim, ff, emb_dim, dropout)

    def forward(self, h: Tensor, cond: Tensor | None, emb: Tensor, mask: Tensor) -> Tensor:
        """``h`` [B, T, D], ``cond`` [B, T, cond_dim] or None, ``emb`` [B, E] -> [B, T, D]."""
        if self.cond_proj is not None:
            h = h + self.cond_proj(torch.cat([h, cond], dim=-1))
        return self.ffn(self.attention(h, emb, mask), emb)


class TimeSpeakerEmbedding(nn.Module):
    """``emb = MLP(sinusoid(t)) + MLP(one-hot speaker)`` [B, E] (speaker part optional)."""

    def __init__(self, sinusoid_dim: int, emb_dim: int, speaker_dim: int = 0):
        super().__init__()
        self.time = nn.Sequential(
            nn.Linear(sinusoid_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim)
        )
        self.speaker = None
        if speaker_dim > 0:
            self.speaker = nn.Sequential(
                nn.Linear(speaker_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim)
            )

    def forward(self, t_sinusoid: Tensor, speaker_onehot: Tensor | None = None) -> Tensor:
        emb = self.time(t_sinusoid)
        if self.speaker is not None:
            emb = emb + self.speaker(speaker_onehot)
        return emb
