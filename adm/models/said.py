"""SAiD (Park & Cho 2024, "Speech-driven Blendshape Facial Animation with Diffusion"), face only.

A diffusion model of the blendshape sequence whose denoiser is a 1-D U-Net WITHOUT
down-sampling (latent diffusion's UNetModel with one level, ``channel_mult (1,)``): an input
conv 3, then per level ``res_blocks`` x [ResBlock, AlignedTransformer], a middle
[ResBlock, AlignedTransformer, ResBlock], ``res_blocks + 1`` x [concat skip, ResBlock,
AlignedTransformer] and an output GroupNorm, SiLU, zero-initialised conv 3. 192 channels, heads
of 32 channels (6 heads), attention at every block, timestep embedding sinusoid(192) ->
Linear, SiLU, Linear -> 768 added in every ResBlock.

The defining mechanism is the ALIGNMENT BIAS of every cross-attention: motion frame i attends
only to the audio frames of its band (:func:`adm.models.said_blocks.alignment_band`), so lips
follow the speech of their own instant. SAiD resamples its wav2vec2 features to the motion
frame rate (r = 1); here ``cond["audio"]`` holds the project's per-frame audio features, used
directly as the cross-attention context (SAiD's default has no audio projection either). The
network accepts audio of any length ``La`` and uses ``r = La / T``.

The network predicts eps. Classifier-free guidance: a learned null audio embedding
(``[audio_dim]``, randomly initialised as SAiD's) replaces every audio frame where
``cond["drop_speaker"]`` is True, and in training with probability ``cond_drop_prob`` (0.1).
SAiD has no speaker, text or seed input: ``cond["speaker"]`` and ``cond["text"]`` are ignored
and ``seed_frames`` must be 0.

Sampling in SAiD (``script/inference.py``): DDIM, 1000 steps, eta 0, guidance 2.0 in the form
``eps_c + 2.0 (eps_c - eps_u)``, which is :func:`adm.diffusion.guidance.guided_model`'s
``eps_u + s (eps_c - eps_u)`` with s = 3.0.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from adm.models.checks import check_bool_masks, check_noisy_input
from adm.models.embeddings import sinusoidal_embedding
from adm.models.registry import register_denoiser
from adm.models.said_blocks import (
    AlignedTransformer,
    MaskedGroupNorm,
    ResBlock,
    alignment_band,
    audio_valid,
    zero_module,
    zero_padding,
)
from adm.models.said_config import SAiDConfig


class _Stage(nn.Module):
    """One U-Net block: a ResBlock then an aligned transformer."""

    def __init__(self, c: SAiDConfig, in_channels: int, emb_dim: int):
        super().__init__()
        self.res = ResBlock(in_channels, c.channels, emb_dim, c.dropout, c.norm_groups)
        self.attn = AlignedTransformer(c.channels, c.audio_dim, c.head_dim, c.norm_groups)

    def forward(self, h, emb, audio, self_allowed, cross_allowed, mask):
        h = self.res(h, emb, mask)
        return self.attn(h, audio, self_allowed, cross_allowed, mask)


@register_denoiser("said")
class SAiDDenoiser(nn.Module):
    """``forward(x_t [B, T, 51], t [B] long, cond) -> eps_hat [B, T, 51]``.

    ``cond``: ``"audio"`` [B, La, audio_dim] (La = T for the project's per-frame features),
    optional ``"mask"`` [B, T] bool and ``"drop_speaker"`` [B] bool (True: null audio).
    Other keys are ignored.

    Attributes:
        config: the :class:`SAiDConfig`.
        task_slices: ``{"face": slice(0, 51)}``.
        x_dim: 51.
    """

    config_class = SAiDConfig

    def __init__(self, config: SAiDConfig):
        super().__init__()
        c = config
        self.config = c
        self.task_slices: dict[str, slice] = c.task_slices
        self.x_dim: int = c.x_dim
        emb_dim = 4 * c.channels
        self.time_mlp = nn.Sequential(
            nn.Linear(c.channels, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim)
        )
        self.null_audio = nn.Parameter(torch.randn(1, 1, c.audio_dim))
        self.conv_in = nn.Conv1d(self.x_dim, c.channels, 3, padding=1)
        self.down = nn.ModuleList([_Stage(c, c.channels, emb_dim) for _ in range(c.res_blocks)])
        self.mid_res1 = ResBlock(c.channels, c.channels, emb_dim, c.dropout, c.norm_groups)
        self.mid_attn = AlignedTransformer(c.channels, c.audio_dim, c.head_dim, c.norm_groups)
        self.mid_res2 = ResBlock(c.channels, c.channels, emb_dim, c.dropout, c.norm_groups)
        self.up = nn.ModuleList(
            [_Stage(c, 2 * c.channels, emb_dim) for _ in range(c.res_blocks + 1)]
        )
        self.norm_out = MaskedGroupNorm(c.norm_groups, c.channels)
        self.conv_out = zero_module(nn.Conv1d(c.channels, self.x_dim, 3, padding=1))

    def _check_inputs(self, x_t: Tensor, t: Tensor, cond: Mapping[str, Tensor]) -> None:
        """Shape/dtype checks naming the entry; metadata only (no host reads)."""
        c = self.config
        b, length = check_noisy_input(x_t, t, self.x_dim, c.tasks)
        audio = cond.get("audio")
        if audio is None or audio.dim() != 3 or audio.shape[0] != b or audio.shape[1] < 1:
            got = None if audio is None else list(audio.shape)
            raise ValueError(f"cond['audio']: expected [{b}, La >= 1, {c.audio_dim}], got {got}")
        if audio.shape[2] != c.audio_dim:
            raise ValueError(
                f"cond['audio']: expected {c.audio_dim} features, got {list(audio.shape)}"
            )
        check_bool_masks(cond, {"mask": (b, length), "drop_speaker": (b,)})

    def _context(self, audio: Tensor, cond: Mapping[str, Tensor], dtype: torch.dtype) -> Tensor:
        """The cross-attention context ``[B, La, audio_dim]``: audio, or the null embedding on
        every frame of the rows whose condition is dropped."""
        b = audio.shape[0]
        drop = cond.get("drop_speaker")
        drop = torch.zeros(b, dtype=torch.bool, device=audio.device) if drop is None else drop
        if self.training and self.config.cond_drop_prob > 0:
            drop = drop | (torch.rand(b, device=audio.device) < self.config.cond_drop_prob)
        null = self.null_audio.to(dtype).expand_as(audio)
        return torch.where(drop[:, None, None], null, audio.to(dtype))

    def forward(self, x_t: Tensor, t: Tensor, cond: Mapping[str, Tensor]) -> Tensor:
        """Predict the noise ``[B, T, 51]`` in ``x_t`` at steps ``t``."""
        self._check_inputs(x_t, t, cond)
        c = self.config
        length = x_t.shape[1]
        mask = cond.get("mask")
        audio = self._context(cond["audio"], cond, x_t.dtype)
        cross = alignment_band(length, audio.shape[1], c.align_pad, x_t.device)[None, None]
        self_allowed = None
        if mask is not None:
            cross = cross & audio_valid(mask, audio.shape[1])[:, None, None, :]
            self_allowed = mask[:, None, None, :]
        emb = self.time_mlp(sinusoidal_embedding(t, c.channels).to(x_t.dtype))
        ctx = (emb, audio, self_allowed, cross, mask)

        h = self.conv_in(zero_padding(x_t.transpose(1, 2), mask))
        skips = [h]
        for stage in self.down:
            h = stage(h, *ctx)
            skips.append(h)
        h = self.mid_res1(h, emb, mask)
        h = self.mid_attn(h, audio, self_allowed, cross, mask)
        h = self.mid_res2(h, emb, mask)
        for stage in self.up:
            h = stage(torch.cat([h, skips.pop()], dim=1), *ctx)
        out = self.conv_out(zero_padding(F.silu(self.norm_out(h, mask)), mask))
        return out.transpose(1, 2)
