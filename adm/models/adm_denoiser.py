"""The ADM denoiser: ``x0_hat = Denoise(x_t, t, cond)`` (method.md "Denoiser"; paper 1.3-1.4).

Shared features (paper 1.3): ``Z_f`` = Linear(audio | text -> 96) per frame; ``Z_id`` =
Linear(one-hot speaker -> 384) with one extra "null" speaker for classifier-free guidance;
``Z_t`` = MLP(sinusoid(t)) -> 384; ``Z_s = Z_t + Z_id``. Task-specific features, per task k:
seed motion Linear(dim_k -> 96) per frame (``Z_g``, ``Z_e``) and noisy motion Linear(dim_k -> 384)
(``Z_g_noise``, ``Z_e_noise``).

Per frame ``[Z_s, Z_f, Z_g, Z_e, Z_g_noise, Z_e_noise]`` -> Linear -> 384, then cross-local
attention (window 15, 8 heads, look back one window, rotary; residual + LayerNorm), then a
transformer encoder (8 layers, 4 heads, ff 1024, GELU) over ``[global token = Z_s | frames]``
with fixed sinusoidal frame positions, then one decoder per task. The outputs are concatenated
in task order: the network predicts x0 directly, as MDM and DiffuseStyleGesture+ (DSG+) do.

Seed layout (DSG+, ``seed_layout="prefix"``): the seed features fill condition frames
``0 .. S-1`` and audio/text only frames ``S .. T-1``, so the audio/text of the first S frames is
never read. With ``"all"`` audio/text fill every frame and the seed features are zero after S.

Masking: ``cond["mask"]`` [B, T] (True = valid) masks keys in both attentions, so padded frames
cannot change outputs at valid frames; outputs at padded frames are unspecified.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from adm.models.checks import (
    check_bool_masks,
    check_features,
    check_noisy_input,
    check_seed,
    check_speaker,
)
from adm.models.config import ADMConfig
from adm.models.embeddings import SinusoidalPositionalEncoding, TimestepEmbedder
from adm.models.ids import check_ids
from adm.models.local_attention import LocalAttention
from adm.models.registry import register_denoiser

_ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU}


def _task_decoder(latent: int, hidden: int, out_dim: int, activation: str) -> nn.Module:
    """Per-task output head ``[.., latent] -> [.., out_dim]``: two layers, or one if hidden=0."""
    if hidden == 0:
        return nn.Linear(latent, out_dim)
    return nn.Sequential(
        nn.Linear(latent, hidden), _ACTIVATIONS[activation](), nn.Linear(hidden, out_dim)
    )


@register_denoiser("adm")
class ADMDenoiser(nn.Module):
    """The ADM denoiser network.

    ``forward(x_t [B, T, Dx], t [B] long, cond) -> x0_hat [B, T, Dx]`` where ``cond`` holds
    ``"audio"`` [B, T, audio_dim] (absent if audio_dim is 0), ``"text"`` [B, T, text_dim]
    (absent if text_dim is 0), ``"speaker"`` [B] long, ``"seed"`` [B, S, Dx] (S = seed_frames;
    absent if 0), optional ``"mask"`` [B, T] bool and optional ``"drop_speaker"`` [B] bool.

    Attributes:
        config: the :class:`ADMConfig`.
        task_slices: channel range of each task in ``x``.
        x_dim: Dx, the width of ``x``.
    """

    config_class = ADMConfig

    def __init__(self, config: ADMConfig):
        super().__init__()
        c = config
        self.config = c
        self.task_slices: dict[str, slice] = c.task_slices
        self.x_dim: int = c.x_dim
        n_tasks = len(c.tasks)

        # Shared features.
        feat_in = c.audio_dim + c.text_dim
        self.feature_proj = nn.Linear(feat_in, c.cond_dim) if feat_in > 0 else None
        self.speaker_proj = nn.Linear(c.num_speakers + 1, c.id_dim)  # last row: null speaker
        self.time_embed = TimestepEmbedder(c.time_dim)
        shared_dim = c.time_dim if c.shared_combine == "sum" else c.time_dim + c.id_dim

        # Task-specific features.
        self.seed_proj = nn.ModuleDict({k: nn.Linear(c.task_dims[k], c.cond_dim) for k in c.tasks})
        self.noise_proj = nn.ModuleDict({k: nn.Linear(c.task_dims[k], c.latent) for k in c.tasks})

        # Joint token, cross-local attention.
        token_in = shared_dim + c.cond_dim + n_tasks * (c.cond_dim + c.latent)
        self.input_proj = nn.Linear(token_in, c.latent)
        self.local_attn = LocalAttention(
            c.latent,
            c.local_heads,
            c.local_window,
            look_back=c.local_look_back,
            look_forward=c.local_look_forward,
            dropout=c.dropout,
        )
        self.local_drop = nn.Dropout(c.dropout)
        self.local_norm = nn.LayerNorm(c.latent)

        # Self-attention over [global token | frames].
        self.global_proj = (
            nn.Identity() if shared_dim == c.latent else nn.Linear(shared_dim, c.latent)
        )
        self.pos_enc = SinusoidalPositionalEncoding(c.latent, c.dropout)
        layer = nn.TransformerEncoderLayer(
            c.latent,
            c.heads,
            c.ff,
            c.dropout,
            activation=c.activation,
            batch_first=True,
            norm_first=c.norm_first,
        )
        self.encoder = nn.TransformerEncoder(
            layer,
            c.layers,
            norm=nn.LayerNorm(c.latent) if c.norm_first else None,
            enable_nested_tensor=False,
        )

        self.decoders = nn.ModuleDict(
            {
                k: _task_decoder(c.latent, c.decoder_hidden, c.task_dims[k], c.activation)
                for k in c.tasks
            }
        )

    # ------------------------------------------------------------------ inputs
    def check_speakers(self, speaker: Tensor) -> None:
        """Raise unless every speaker index ``[B]`` is one of the model's ``[0, num_speakers)``.

        This reads the values, which on a GPU waits for the device; callers check once per
        sampling call (or per dataset) rather than per network call, which is why
        :meth:`forward` checks shapes only. An id equal to ``num_speakers`` would otherwise
        silently select the null speaker.
        """
        check_ids("speaker", speaker, self.config.num_speakers)

    def _check_inputs(self, x_t: Tensor, t: Tensor, cond: Mapping[str, Tensor]) -> None:
        """Shape and dtype checks with messages that name the offending entry.

        They read only tensor metadata, never values, so the forward pass never waits for the
        device (speaker values: :meth:`check_speakers`, once per sampling call)."""
        c = self.config
        b, length = check_noisy_input(x_t, t, self.x_dim, c.tasks)
        check_features(cond, "audio", b, length, c.audio_dim)
        check_features(cond, "text", b, length, c.text_dim)
        check_speaker(cond, b)
        check_seed(cond, b, length, c.seed_frames, self.x_dim, "x_t")
        check_bool_masks(cond, {"mask": (b, length), "drop_speaker": (b,)})

    def _shared(self, t: Tensor, cond: Mapping[str, Tensor], dtype: torch.dtype) -> Tensor:
        """``Z_s`` [B, shared_dim] from the timestep and the (possibly dropped) speaker."""
        c = self.config
        speaker = cond["speaker"].long()
        drop = cond.get("drop_speaker")
        drop = torch.zeros_like(speaker, dtype=torch.bool) if drop is None else drop
        if self.training and c.cond_drop_prob > 0:
            drop = drop | (torch.rand(speaker.shape, device=speaker.device) < c.cond_drop_prob)
        speaker = torch.where(drop, torch.full_like(speaker, c.num_speakers), speaker)
        z_id = self.speaker_proj(F.one_hot(speaker, c.num_speakers + 1).to(dtype))
        z_t = self.time_embed(t).to(dtype)
        return z_t + z_id if c.shared_combine == "sum" else torch.cat([z_t, z_id], dim=-1)

    def _frame_features(self, x_t: Tensor, cond: Mapping[str, Tensor]) -> list[Tensor]:
        """``[Z_f, Z_g.., Z_noise..]``, each ``[B, T, .]``, laid out over frames per seed_layout."""
        c = self.config
        b, length = x_t.shape[:2]
        frames = torch.arange(length, device=x_t.device)
        seed_rows = (frames < c.seed_frames).to(x_t.dtype)[None, :, None]  # [1, T, 1]
        feat_rows = 1.0 - seed_rows if c.seed_layout == "prefix" else torch.ones_like(seed_rows)

        parts = [cond[k] for k in ("audio", "text") if cond.get(k) is not None]
        parts = [p for p in parts if p.shape[-1] > 0]
        if self.feature_proj is None:
            z_f = x_t.new_zeros(b, length, c.cond_dim)
        else:
            # Zeroing (bias included) rather than skipping keeps one token layout for all T.
            z_f = self.feature_proj(torch.cat(parts, dim=-1).to(x_t.dtype)) * feat_rows

        seeds, noises = [], []
        pad = length - c.seed_frames
        for task, sl in self.task_slices.items():
            if c.seed_frames > 0:
                seed = F.pad(cond["seed"][..., sl].to(x_t.dtype), (0, 0, 0, pad))
                seeds.append(self.seed_proj[task](seed) * seed_rows)
            else:
                seeds.append(x_t.new_zeros(b, length, c.cond_dim))
            noises.append(self.noise_proj[task](x_t[..., sl]))
        return [z_f, *seeds, *noises]

    # ------------------------------------------------------------------ forward
    def forward(self, x_t: Tensor, t: Tensor, cond: Mapping[str, Tensor]) -> Tensor:
        """Predict x0 ``[B, T, Dx]`` from the noisy motion ``x_t`` at step ``t``."""
        self._check_inputs(x_t, t, cond)
        b, length = x_t.shape[:2]
        mask = cond.get("mask")

        z_s = self._shared(t, cond, x_t.dtype)  # [B, shared]
        token = torch.cat(
            [z_s[:, None].expand(b, length, -1), *self._frame_features(x_t, cond)], dim=-1
        )
        h = self.input_proj(token)  # [B, T, latent]
        h = self.local_norm(h + self.local_drop(self.local_attn(h, mask)))

        seq = self.pos_enc(torch.cat([self.global_proj(z_s)[:, None], h], dim=1))
        padding = None
        if mask is not None:
            padding = torch.cat([mask.new_zeros(b, 1), ~mask], dim=1)  # True = ignore
        out = self.encoder(seq, src_key_padding_mask=padding)[:, 1:]  # [B, T, latent]
        return torch.cat([self.decoders[k](out) for k in self.config.tasks], dim=-1)
