"""DiffSHEG's UniEG denoiser (Chen et al., CVPR 2024): ``eps_hat = UniEG(x_t, t, cond)``.

The motion ``x = [gesture | face]`` is diffused jointly with epsilon prediction. Two transformer
branches of :class:`~adm.models.diffsheg_layers.UniEGLayer` share an audio encoding:

- audio: the configured per-frame features -> Linear -> ``a`` (128, DiffSHEG's mel width);
  ``a`` goes through one linear-attention layer stylised by the timestep (DiffSHEG's audio
  encoder), and ``[a | encoded a]`` is each branch's audio input, which every branch projects
  (Linear -> 256) and concatenates to the hidden state in every layer;
- expression branch: noisy face -> Linear -> + sinusoidal positions -> 8 layers -> Linear ->
  ``eps_face``;
- **uni-directional flow**: ``x0_face_hat = sqrt(1 / abar_t) x_t,face - sqrt(1 / abar_t - 1)
  eps_face`` with ``eps_face`` DETACHED, concatenated to the conditions of every gesture layer;
  no path leads from gestures to the face, and the gesture loss sends no gradient into the
  expression branch;
- gesture branch: as the expression branch on the noisy gestures -> ``eps_gesture``.

Each branch's FiLM blocks are driven by its own ``MLP(sinusoid(t)) + MLP(one-hot speaker)``; the
speaker one-hot has one extra "null" row for classifier-free guidance (``cond["drop_speaker"]``,
and in training with probability ``cond_drop_prob``).

Adapted to this project (DiffSHEG reads a 128-bin mel spectrogram plus HuBERT features encoded
by a small convolution): the configured audio features take both roles through one Linear; the
positions are the fixed sinusoid (DiffSHEG's ``pe_sinu``). ``cond["text"]`` and ``cond["seed"]``
are not read (DiffSHEG's BEAT model uses neither).

Masking: ``cond["mask"]`` [B, T] (True = valid) removes padded frames from every attention, so
padded frames cannot change outputs at valid frames; outputs at padded frames are unspecified.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from adm.diffusion.schedules import make_betas
from adm.models.checks import check_bool_masks, check_features, check_noisy_input, check_speaker
from adm.models.diffsheg_config import DiffSHEGConfig
from adm.models.diffsheg_layers import TimeSpeakerEmbedding, UniEGLayer
from adm.models.embeddings import sinusoidal_embedding
from adm.models.ids import check_ids
from adm.models.registry import register_denoiser


class UniEGBranch(nn.Module):
    """One UniEG transformer: ``[B, T, in_dim]`` noisy stream -> ``[B, T, in_dim]`` eps.

    ``extra_dim``: width of a per-frame condition added to every layer besides the audio
    (the face x0 estimate for the gesture branch; 0 for the expression branch).
    """

    def __init__(self, c: DiffSHEGConfig, in_dim: int, extra_dim: int = 0):
        super().__init__()
        self.latent = c.latent
        self.embedding = TimeSpeakerEmbedding(c.latent, c.time_dim, c.num_speakers + 1)
        self.motion_in = nn.Linear(in_dim, c.latent)
        self.audio_proj = nn.Linear(2 * c.audio_width, c.audio_latent)
        self.layers = nn.ModuleList(
            UniEGLayer(c.latent, c.audio_latent + extra_dim, c.heads, c.ff, c.time_dim, c.dropout)
            for _ in range(c.layers)
        )
        self.out = nn.Linear(c.latent, in_dim)

    def forward(
        self,
        x: Tensor,
        t_sinusoid: Tensor,
        speaker_onehot: Tensor,
        audio: Tensor,
        mask: Tensor,
        extra: Tensor | None = None,
    ) -> Tensor:
        """``x`` [B, T, in_dim], ``t_sinusoid`` [B, latent], ``speaker_onehot`` [B, S + 1],
        ``audio`` [B, T, 2 * audio_width], ``mask`` [B, T], ``extra`` [B, T, extra_dim]."""
        emb = self.embedding(t_sinusoid, speaker_onehot)
        positions = torch.arange(x.shape[1], device=x.device)
        h = self.motion_in(x) + sinusoidal_embedding(positions, self.latent).to(x.dtype)
        cond = self.audio_proj(audio)
        if extra is not None:
            cond = torch.cat([cond, extra], dim=-1)
        for layer in self.layers:
            h = layer(h, cond, emb, mask)
        return self.out(h)


@register_denoiser("diffsheg")
class DiffSHEGDenoiser(nn.Module):
    """The UniEG network: ``forward(x_t [B, T, Dx], t [B] long, cond) -> eps_hat [B, T, Dx]``.

    ``cond`` holds ``"audio"`` [B, T, audio_dim], ``"speaker"`` [B] long, optional ``"mask"``
    [B, T] bool and optional ``"drop_speaker"`` [B] bool; other keys are ignored.

    Attributes:
        config: the :class:`DiffSHEGConfig`.
        task_slices: channel range of each task in ``x`` (gesture, then face).
        x_dim: Dx.
    """

    config_class = DiffSHEGConfig

    def __init__(self, config: DiffSHEGConfig):
        super().__init__()
        c = config
        self.config = c
        self.task_slices: dict[str, slice] = c.task_slices
        self.x_dim: int = c.x_dim

        self.audio_in = nn.Linear(c.audio_dim, c.audio_width)
        self.audio_time = TimeSpeakerEmbedding(c.latent, c.time_dim)
        self.audio_encoder = UniEGLayer(c.audio_width, 0, c.heads, c.ff, c.time_dim, c.dropout)
        face_dim = c.task_dims["face"]
        self.expression = UniEGBranch(c, face_dim)
        self.gesture = UniEGBranch(c, c.task_dims["gesture"], extra_dim=face_dim)

        # x0 = sqrt(1 / abar_t) x_t - sqrt(1 / abar_t - 1) eps, coefficients from float64.
        betas = torch.from_numpy(make_betas(c.diffusion_schedule, c.diffusion_steps))
        abar = torch.cumprod(1.0 - betas, dim=0)
        self.register_buffer("sqrt_recip_abar", abar.rsqrt().float(), persistent=False)
        self.register_buffer(
            "sqrt_recipm1_abar", (1.0 / abar - 1.0).sqrt().float(), persistent=False
        )

    # ------------------------------------------------------------------ inputs
    def check_speakers(self, speaker: Tensor) -> None:
        """Raise unless every speaker id ``[B]`` is in ``[0, num_speakers)`` (reads values, so
        callers check once per sampling call; :meth:`forward` checks shapes only)."""
        check_ids("speaker", speaker, self.config.num_speakers)

    def _check_inputs(self, x_t: Tensor, t: Tensor, cond: Mapping[str, Tensor]) -> None:
        """Shape and dtype checks naming the offending entry (metadata only: no host sync)."""
        c = self.config
        b, length = check_noisy_input(x_t, t, self.x_dim, c.tasks)
        check_features(cond, "audio", b, length, c.audio_dim)
        check_speaker(cond, b)
        check_bool_masks(cond, {"mask": (b, length), "drop_speaker": (b,)})

    def _speaker_onehot(self, cond: Mapping[str, Tensor], dtype: torch.dtype) -> Tensor:
        """``[B, num_speakers + 1]``: the speaker, or the null row where it is dropped."""
        n = self.config.num_speakers
        speaker = cond["speaker"].long()
        drop = cond.get("drop_speaker")
        drop = torch.zeros_like(speaker, dtype=torch.bool) if drop is None else drop
        if self.training and self.config.cond_drop_prob > 0:
            drop = drop | (
                torch.rand(speaker.shape, device=speaker.device) < self.config.cond_drop_prob
            )
        speaker = torch.where(drop, torch.full_like(speaker, n), speaker)
        return F.one_hot(speaker, n + 1).to(dtype)

    def face_x0(self, x_face: Tensor, t: Tensor, eps_face: Tensor) -> Tensor:
        """``x0_face_hat`` [B, T, Df] from the noisy face and the DETACHED face eps: the only
        link between the branches, and one that carries no gradient into the face branch."""
        a = self.sqrt_recip_abar[t].to(x_face.dtype)[:, None, None]
        b = self.sqrt_recipm1_abar[t].to(x_face.dtype)[:, None, None]
        return a * x_face - b * eps_face.detach()

    # ------------------------------------------------------------------ forward
    def forward(self, x_t: Tensor, t: Tensor, cond: Mapping[str, Tensor]) -> Tensor:
        """Predict eps ``[B, T, Dx]`` = ``[eps_gesture | eps_face]`` from ``x_t`` at step ``t``."""
        self._check_inputs(x_t, t, cond)
        b, length = x_t.shape[:2]
        mask = cond.get("mask")
        if mask is None:
            mask = torch.ones(b, length, dtype=torch.bool, device=x_t.device)
        sl = self.task_slices
        x_gesture, x_face = x_t[..., sl["gesture"]], x_t[..., sl["face"]]

        t_sinusoid = sinusoidal_embedding(t, self.config.latent).to(x_t.dtype)
        a = self.audio_in(cond["audio"].to(x_t.dtype))
        encoded = self.audio_encoder(a, None, self.audio_time(t_sinusoid), mask)
        audio = torch.cat([a, encoded], dim=-1)
        speaker = self._speaker_onehot(cond, x_t.dtype)

        eps_face = self.expression(x_face, t_sinusoid, speaker, audio, mask)
        x0_face = self.face_x0(x_face, t, eps_face)
        eps_gesture = self.gesture(x_gesture, t_sinusoid, speaker, audio, mask, extra=x0_face)
        return torch.cat([eps_gesture, eps_face], dim=-1)
