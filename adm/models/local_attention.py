"""Windowed local self-attention over time ("cross-local attention", method.md step 2).

Follows the behaviour of lucidrains' ``local-attention`` as DiffuseStyleGesture+ uses it (window
15, look back one window, not causal, rotary positions), written here in plain torch:

1. queries, keys and values are projected and split into heads ``[B, H, T, Dh]``; rotary
   positions (absolute frame index) are applied to queries and keys;
2. the sequence is padded to a multiple of the window ``W`` and cut into ``n`` windows;
3. the queries of window ``j`` attend to the keys of windows ``j - look_back .. j + look_forward``
   (``(look_back + 1 + look_forward) * W`` keys), minus keys that are padding, outside the
   sequence, or invalid frames (``mask`` False).

A frame ``i`` in window ``w`` can therefore only influence outputs in windows
``w - look_forward .. w + look_back``. A query with no valid key returns zeros (no NaN), so
padded frames cannot poison later layers.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from adm.models.embeddings import RotaryEmbedding


class LocalAttention(nn.Module):
    """Multi-head local self-attention with rotary positions.

    Args:
        dim: model width D.
        heads: number of heads (D must split into heads of even width).
        window: window length W in frames.
        look_back: windows before the query's own window that it sees.
        look_forward: windows after the query's own window that it sees.
        dropout: dropout on the attention weights.

    ``forward(x [B, T, D], mask [B, T] bool | None) -> [B, T, D]``.
    """

    def __init__(
        self,
        dim: int,
        heads: int,
        window: int,
        look_back: int = 1,
        look_forward: int = 0,
        dropout: float = 0.0,
    ):
        super().__init__()
        if dim % heads:
            raise ValueError(f"width {dim} does not split into {heads} heads")
        if window <= 0 or look_back < 0 or look_forward < 0:
            raise ValueError("window must be positive and look_back/look_forward >= 0")
        self.heads = heads
        self.head_dim = dim // heads
        self.window = window
        self.look_back = look_back
        self.look_forward = look_forward
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.out = nn.Linear(dim, dim)
        self.rotary = RotaryEmbedding(self.head_dim)
        self.attn_drop = nn.Dropout(dropout)

    def _windows_with_context(self, x: Tensor) -> Tensor:
        """``[B, H, n*W, E]`` -> ``[B, H, n, (lb + 1 + lf) * W, E]`` (context windows per window).

        Missing neighbours at the ends are zero; the key mask built the same way marks them out.
        """
        b, h, length, e = x.shape
        w, lb, lf = self.window, self.look_back, self.look_forward
        n = length // w
        padded = F.pad(x, (0, 0, lb * w, lf * w))
        blocks = padded.reshape(b, h, n + lb + lf, w, e)
        return torch.cat([blocks[:, :, i : i + n] for i in range(lb + lf + 1)], dim=3)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        b, t, d = x.shape
        w = self.window
        if mask is None:
            mask = torch.ones(b, t, dtype=torch.bool, device=x.device)
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        q, k, v = (z.reshape(b, t, self.heads, self.head_dim).transpose(1, 2) for z in (q, k, v))
        positions = torch.arange(t, device=x.device)
        q = self.rotary(q, positions)
        k = self.rotary(k, positions)

        pad = (-t) % w
        n = (t + pad) // w
        q = F.pad(q, (0, 0, 0, pad)).reshape(b, self.heads, n, w, self.head_dim)
        k = self._windows_with_context(F.pad(k, (0, 0, 0, pad)))
        v = self._windows_with_context(F.pad(v, (0, 0, 0, pad)))
        # Key validity goes through the same windowing: padding and out-of-range neighbours are 0.
        valid = F.pad(mask.to(x.dtype), (0, pad))[:, None, :, None]  # [B, 1, n*W, 1]
        valid = self._windows_with_context(valid)[..., 0] > 0.5  # [B, 1, n, K]
        valid = valid[:, :, :, None, :]  # [B, 1, n, 1, K]

        scores = torch.einsum("bhnqe,bhnke->bhnqk", q, k) / math.sqrt(self.head_dim)
        # A finite fill keeps fully masked rows NaN-free; multiplying by `valid` afterwards makes
        # those rows exactly zero (in partly masked rows the fill already underflows to 0).
        scores = scores.masked_fill(~valid, torch.finfo(scores.dtype).min)
        attn = scores.softmax(dim=-1) * valid
        attn = self.attn_drop(attn)
        out = torch.einsum("bhnqk,bhnke->bhnqe", attn, v)
        out = out.reshape(b, self.heads, n * w, self.head_dim)[:, :, :t]
        return self.out(out.transpose(1, 2).reshape(b, t, d))
