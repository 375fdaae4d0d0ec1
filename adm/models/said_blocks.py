"""Building blocks of the SAiD denoiser (Park & Cho 2024), all on ``[B, C, T]`` feature maps.

- :func:`alignment_band`: which audio frames each motion frame may attend to (SAiD's alignment
  bias, the paper's mechanism for lip synchronisation).
- :class:`MaskedGroupNorm`: GroupNorm whose statistics cover valid frames only.
- :class:`ResBlock`: the latent-diffusion residual block (norm, SiLU, conv 3, + timestep
  embedding, norm, SiLU, dropout, zero-initialised conv 3, skip).
- :class:`AlignedTransformer`: norm, then self-attention, cross-attention to the audio under the
  alignment band, and a GEGLU feed-forward, each pre-LayerNorm and residual; a zero-initialised
  1x1 projection and a residual around the whole.

Padding (``mask`` [B, T] bool, True = valid): padded frames are set to zero before every
convolution and ignored as attention keys and in the norms' statistics, so the VALUES at padded
frames never change the outputs at valid frames (a valid frame next to the padding still sees
zeros through a convolution's kernel, as at the sequence ends).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def alignment_band(frames: int, audio_frames: int, pad: float, device=None) -> Tensor:
    """``[frames, audio_frames]`` bool: True where motion frame i may attend to audio frame j.

    With ``r = audio_frames / frames`` the centre of frame i on the audio axis is
    ``(i + 0.5) r`` and the half-width ``r / 2 + pad``; both ends are rounded (half to even,
    as Python's ``round``) and clipped to the audio, the upper end exclusive:
    ``max(round(c - h), 0) <= j < min(round(c + h), audio_frames)``. For r = 1 and pad = 1 that
    is j in {i - 1, i, i + 1}; for r = 2 it is j in {2i - 1, .., 2i + 2}.
    """
    ratio = audio_frames / frames
    half = ratio / 2 + pad
    centre = (torch.arange(frames, device=device, dtype=torch.float64) + 0.5) * ratio
    lo = torch.round(centre - half).clamp_min(0)
    hi = torch.round(centre + half).clamp_max(audio_frames)
    j = torch.arange(audio_frames, device=device, dtype=torch.float64)
    return (j[None, :] >= lo[:, None]) & (j[None, :] < hi[:, None])


def audio_valid(mask: Tensor, audio_frames: int) -> Tensor:
    """``[B, audio_frames]`` bool: audio frame j is valid when the motion frame it falls in is
    (frame ``floor((j + 0.5) T / audio_frames)`` of ``mask`` [B, T])."""
    frames = mask.shape[1]
    centre = (torch.arange(audio_frames, device=mask.device, dtype=torch.float64) + 0.5) * (
        frames / audio_frames
    )
    return mask[:, centre.floor().long().clamp_max(frames - 1)]


def zero_padding(x: Tensor, mask: Tensor | None) -> Tensor:
    """``x`` [B, C, T] with padded frames set to zero (``mask`` [B, T]); ``x`` if no mask."""
    if mask is None:
        return x
    return torch.where(mask[:, None, :], x, torch.zeros((), dtype=x.dtype, device=x.device))


def zero_module(module: nn.Module) -> nn.Module:
    """Set a module's parameters to zero: the block starts as the identity (residual only)."""
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


class MaskedGroupNorm(nn.GroupNorm):
    """GroupNorm over ``[B, C, T]`` whose mean and variance use valid frames only.

    Computed in float32 (as latent diffusion's GroupNorm32). Without a mask it is the plain
    GroupNorm."""

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:  # type: ignore[override]
        if mask is None:
            return super().forward(x.float()).to(x.dtype)
        b, c, t = x.shape
        g = self.num_groups
        xf = x.float().reshape(b, g, c // g, t)
        m = mask[:, None, None, :]
        zero = torch.zeros((), dtype=xf.dtype, device=xf.device)
        count = (mask.sum(dim=1).to(xf.dtype) * (c // g)).clamp_min(1.0)[:, None, None, None]
        mean = torch.where(m, xf, zero).sum(dim=(2, 3), keepdim=True) / count
        var = torch.where(m, (xf - mean).square(), zero).sum(dim=(2, 3), keepdim=True) / count
        out = ((xf - mean) * torch.rsqrt(var + self.eps)).reshape(b, c, t)
        if self.affine:
            out = out * self.weight[None, :, None] + self.bias[None, :, None]
        return out.to(x.dtype)


class ResBlock(nn.Module):
    """Residual block ``[B, C_in, T] -> [B, C_out, T]`` with an additive timestep embedding."""

    def __init__(self, channels: int, out_channels: int, emb_dim: int, dropout: float, groups: int):
        super().__init__()
        self.norm_in = MaskedGroupNorm(groups, channels)
        self.conv_in = nn.Conv1d(channels, out_channels, 3, padding=1)
        self.emb = nn.Linear(emb_dim, out_channels)
        self.norm_out = MaskedGroupNorm(groups, out_channels)
        self.drop = nn.Dropout(dropout)
        self.conv_out = zero_module(nn.Conv1d(out_channels, out_channels, 3, padding=1))
        self.skip = (
            nn.Identity() if channels == out_channels else nn.Conv1d(channels, out_channels, 1)
        )

    def forward(self, x: Tensor, emb: Tensor, mask: Tensor | None) -> Tensor:
        h = self.conv_in(zero_padding(F.silu(self.norm_in(x, mask)), mask))
        h = h + self.emb(F.silu(emb)).to(h.dtype)[..., None]
        h = self.drop(F.silu(self.norm_out(h, mask)))
        return self.skip(x) + self.conv_out(zero_padding(h, mask))


class Attention(nn.Module):
    """Multi-head attention ``[B, Tq, C] x [B, Tk, Dk] -> [B, Tq, C]`` under a bool mask.

    ``allowed`` broadcasts to ``[B, 1, Tq, Tk]`` (True = may attend); masked keys get weight
    exactly 0. A row with nothing allowed (only at padded query frames, whose outputs no valid
    frame sees) attends to every key instead, so it stays finite whatever the kernel does with
    an empty row. Computed by ``scaled_dot_product_attention`` (scale ``1/sqrt(head_dim)``):
    its fused kernel made the bundled SAiD's training job about 12% shorter on the CPU than
    scores, softmax and product written out (``docs/benchmarks.md``, run G)."""

    def __init__(self, dim: int, context_dim: int, heads: int, head_dim: int):
        super().__init__()
        self.heads, self.head_dim = heads, head_dim
        inner = heads * head_dim
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_k = nn.Linear(context_dim, inner, bias=False)
        self.to_v = nn.Linear(context_dim, inner, bias=False)
        self.to_out = nn.Linear(inner, dim)

    def forward(self, x: Tensor, context: Tensor, allowed: Tensor | None) -> Tensor:
        b = x.shape[0]

        def split(h: Tensor) -> Tensor:  # [B, L, H*Dh] -> [B, H, L, Dh]
            return h.reshape(b, h.shape[1], self.heads, self.head_dim).transpose(1, 2)

        q, k, v = split(self.to_q(x)), split(self.to_k(context)), split(self.to_v(context))
        if allowed is not None:
            allowed = allowed | (allowed.sum(dim=-1, keepdim=True) == 0)  # no host read
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
        return self.to_out(out.transpose(1, 2).reshape(b, x.shape[1], -1))


class GEGLUFeedForward(nn.Module):
    """``Linear(C -> 2 * mult C)``, ``a * gelu(gate)``, ``Linear(mult C -> C)``."""

    def __init__(self, dim: int, mult: int = 4):
        super().__init__()
        self.proj = nn.Linear(dim, 2 * mult * dim)
        self.out = nn.Linear(mult * dim, dim)

    def forward(self, x: Tensor) -> Tensor:
        a, gate = self.proj(x).chunk(2, dim=-1)
        return self.out(a * F.gelu(gate))


class AlignedTransformer(nn.Module):
    """``[B, C, T] -> [B, C, T]``: one transformer layer whose cross-attention to the audio
    ``[B, La, Da]`` is restricted to each frame's alignment band."""

    def __init__(self, channels: int, audio_dim: int, head_dim: int, groups: int):
        super().__init__()
        heads = channels // head_dim
        self.norm = MaskedGroupNorm(groups, channels, eps=1e-6)
        self.norm_self = nn.LayerNorm(channels)
        self.self_attn = Attention(channels, channels, heads, head_dim)
        self.norm_cross = nn.LayerNorm(channels)
        self.cross_attn = Attention(channels, audio_dim, heads, head_dim)
        self.norm_ff = nn.LayerNorm(channels)
        self.ff = GEGLUFeedForward(channels)
        self.proj_out = zero_module(nn.Conv1d(channels, channels, 1))

    def forward(
        self,
        x: Tensor,
        audio: Tensor,
        self_allowed: Tensor | None,
        cross_allowed: Tensor,
        mask: Tensor | None,
    ) -> Tensor:
        """``self_allowed`` [B, 1, 1, T] (valid keys) or None; ``cross_allowed``
        [B or 1, 1, T, La] (band and valid audio)."""
        h = self.norm(x, mask).transpose(1, 2)  # [B, T, C]
        hn = self.norm_self(h)
        h = h + self.self_attn(hn, hn, self_allowed)
        h = h + self.cross_attn(self.norm_cross(h), audio, cross_allowed)
        h = h + self.ff(self.norm_ff(h))
        return x + self.proj_out(h.transpose(1, 2))
