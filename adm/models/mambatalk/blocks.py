"""Building blocks of MambaTalk's stage-2 network, all ``[B, T, C]`` in and out.

The Mamba mixer is mambapy's pure-PyTorch ``MambaBlock`` (selective scan, causal in time);
the residual layer around it follows mamba-ssm's ``Block`` as MambaTalk builds it
(``models/mamba_block.py`` ``create_block``: LayerNorm, mixer, residual; LayerNorm, gated MLP,
residual).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from mambapy.mamba import MambaBlock, MambaConfig
from torch import Tensor, nn


class MLP(nn.Sequential):
    """``Linear -> LeakyReLU(0.2) -> Linear`` (MambaTalk's ``MLP``)."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int):
        super().__init__(nn.Linear(in_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, out_dim))


class GatedMLP(nn.Module):
    """``fc2(y * silu(gate))`` with ``[y, gate] = fc1(x)`` (mamba-ssm's gated MLP)."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, 2 * hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: Tensor) -> Tensor:
        y, gate = self.fc1(x).chunk(2, dim=-1)
        return self.fc2(y * F.silu(gate))


class MambaLayer(nn.Module):
    """``x + mamba(LN(x))``, then ``x + mlp(LN(x))`` (no MLP when ``mlp_hidden`` is 0).

    Causal: frame ``t`` of the output depends on frames ``<= t`` only."""

    def __init__(self, dim: int, mlp_hidden: int, d_state: int, d_conv: int, expand: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        cfg = MambaConfig(
            d_model=dim, n_layers=1, d_state=d_state, d_conv=d_conv, expand_factor=expand
        )
        self.mixer = MambaBlock(cfg)
        self.norm2 = nn.LayerNorm(dim) if mlp_hidden else None
        self.mlp = GatedMLP(dim, mlp_hidden) if mlp_hidden else None

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.mixer(self.norm1(x))
        if self.mlp is not None:
            x = x + self.mlp(self.norm2(x))
        return x


class MambaStack(nn.Module):
    """``layers`` :class:`MambaLayer` s and a final LayerNorm, optionally preceded by one
    self-attention encoder layer (MambaTalk's ``MambaModel``, the per-part local scan) and
    followed by a Linear to ``out_dim`` (MambaTalk's ``MambaScan``)."""

    def __init__(
        self,
        dim: int,
        layers: int,
        mlp_hidden: int,
        *,
        d_state: int,
        d_conv: int,
        expand: int,
        out_dim: int | None = None,
        attention_heads: int = 0,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.attention = (
            encoder_layer(dim, attention_heads, dim, dropout) if attention_heads else None
        )
        self.layers = nn.ModuleList(
            MambaLayer(dim, mlp_hidden, d_state, d_conv, expand) for _ in range(layers)
        )
        self.norm = nn.LayerNorm(dim)
        self.out = nn.Linear(dim, out_dim) if out_dim is not None else None

    def forward(self, x: Tensor, padding: Tensor | None = None) -> Tensor:
        """``x [B, T, dim]``; ``padding [B, T]`` bool, True on padded frames (attention keys)."""
        if self.attention is not None:
            x = self.attention(x, src_key_padding_mask=padding)
        for layer in self.layers:
            x = layer(x)
        x = self.norm(x)
        return self.out(x) if self.out is not None else x


def encoder_layer(dim: int, heads: int, ff: int, dropout: float) -> nn.TransformerEncoderLayer:
    """A post-norm self-attention layer (PyTorch's default, as MambaTalk uses it)."""
    return nn.TransformerEncoderLayer(
        dim, heads, dim_feedforward=ff, dropout=dropout, batch_first=True
    )


class PeriodicPositionalEncoding(nn.Module):
    """``x + pe[t mod period]`` with sinusoidal ``pe`` (then dropout), for any length ``T``."""

    def __init__(self, dim: int, period: int, dropout: float):
        super().__init__()
        position = torch.arange(period, dtype=torch.float32)[:, None]
        freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(1e4) / dim))
        pe = torch.zeros(period, dim)
        pe[:, 0::2] = torch.sin(position * freq)
        pe[:, 1::2] = torch.cos(position * freq)
        self.register_buffer("pe", pe, persistent=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        idx = torch.arange(x.shape[1], device=x.device) % self.pe.shape[0]
        return self.dropout(x + self.pe[idx].to(x.dtype))


class SoftmaxGate(nn.Module):
    """Per-frame, per-channel fusion of text and audio features (MambaTalk ``at_attn_*``):
    ``w = softmax over {text, audio} of Linear([text, audio])``, out ``w_t text + w_a audio``."""

    def __init__(self, dim: int):
        super().__init__()
        self.proj = nn.Linear(2 * dim, 2 * dim)

    def forward(self, text: Tensor, audio: Tensor) -> Tensor:
        b, t, c = text.shape
        weights = self.proj(torch.cat([text, audio], dim=-1)).reshape(b, t, c, 2).softmax(-1)
        return text * weights[..., 1] + audio * weights[..., 0]
