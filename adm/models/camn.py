"""CaMN (Liu et al., "BEAT", ECCV 2022): cascaded motion network, a regression peer.

Facts from PantoMatrix ``scripts/BEAT_2022/models/camn.py`` @6ca70b9, adapted to this corpus'
inputs (30 fps; per-frame audio features instead of the raw 16 kHz waveform; per-frame fastText
vectors instead of word indices):

- encoders: audio -> 128 per frame (CaMN: a strided conv stack over the waveform; here a stack
  of residual conv blocks over the per-frame features); words -> 128 (a 4-level causal TCN of
  width 256); speaker -> 8 (embedding, linear, LeakyReLU); emotion -> 8 (embedding, linear and
  four conv-norm layers of kernel 9 over time); the ground-truth face -> 32 (four residual conv
  blocks, kernels 7, 3, 3, 3, widths 16, 16, 16, 32), optional (``use_face``);
- fusion: an MLP maps [audio | emotion | speaker | words] to the audio's 128 dims, a second MLP
  maps [face | fused audio | emotion | speaker | words] to the face's 32 dims;
- cascade: the LSTM input is [seed motion | seed bit | speaker | emotion | words | audio |
  face]; a body BiLSTM (4 layers, 256, dropout 0.3, directions summed) and an MLP head predict
  the 27 body dims (:data:`adm.models.camn_config.BODY_JOINTS`); a hands BiLSTM of the same
  design takes the same input AND the body prediction and predicts the other 114 dims; the two
  are put back into the 141-dim layout.

No diffusion: ``forward(cond)`` is the motion itself, ``[B, T, 141]``, normalised.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from adm.models.camn_config import CaMNConfig, body_hand_columns
from adm.models.camn_layers import ConvNormAct, ConvStack, MaskedBiLSTM, ResidualConvBlock, WordTCN
from adm.models.checks import check_audio, check_bool_masks, check_features, check_seed
from adm.models.ids import check_ids
from adm.models.registry import register_denoiser


def _fusion_mlp(cin: int, hidden: int, cout: int) -> nn.Sequential:
    """CaMN's per-frame fusion MLP: Linear, LeakyReLU(0.1), Linear, LeakyReLU(0.1)."""
    return nn.Sequential(
        nn.Linear(cin, hidden), nn.LeakyReLU(0.1), nn.Linear(hidden, cout), nn.LeakyReLU(0.1)
    )


def _head(hidden: int, cout: int) -> nn.Sequential:
    """CaMN's output head after each LSTM: Linear(h, h/2), LeakyReLU(0.1), Linear(h/2, cout)."""
    return nn.Sequential(
        nn.Linear(hidden, hidden // 2), nn.LeakyReLU(0.1), nn.Linear(hidden // 2, cout)
    )


@register_denoiser("camn")
class CaMN(nn.Module):
    """CaMN's cascade: ``forward(cond) -> [B, T, 141]`` gesture (normalised axis-angle).

    ``cond``: "audio" [B, T, audio_dim], "text" [B, T, text_dim] (if text_dim > 0), "speaker"
    [B] long, optional "mask" [B, T] bool (valid frames first, padding at the end), "seed"
    [B, seed_frames, 141] (if seed_frames > 0), optional "emotion" [B] or [B, T] long (absent: 0),
    "face_input" [B, T, 51] (if use_face). Other keys are ignored.
    """

    config_class = CaMNConfig
    regression = True
    face_input = True

    def __init__(self, config: CaMNConfig):
        super().__init__()
        c = config
        self.config = c
        self.task_slices = c.task_slices
        self.x_dim = c.x_dim
        half = c.hidden // 2

        widths = [c.audio_dim] + [c.audio_hidden] * (c.audio_blocks - 1) + [c.audio_f]
        self.audio_encoder = ConvStack(
            [
                ResidualConvBlock(widths[i], widths[i + 1], c.audio_kernel)
                for i in range(c.audio_blocks)
            ]
        )
        self.text_encoder = (
            WordTCN(
                c.text_dim,
                c.word_dims,
                c.text_hidden,
                c.text_layers,
                c.text_kernel,
                c.word_f,
                c.text_dropout,
                c.embed_dropout,
            )
            if c.text_dim > 0
            else None
        )
        word_f = c.word_f if c.text_dim > 0 else 0
        self.speaker_embedding = nn.Sequential(
            nn.Embedding(c.num_speakers, c.speaker_f),
            nn.Linear(c.speaker_f, c.speaker_f),
            nn.LeakyReLU(0.1),
        )
        self.emotion_embedding = nn.Sequential(
            nn.Embedding(c.num_emotions, c.emotion_f), nn.Linear(c.emotion_f, c.emotion_f)
        )
        self.emotion_tail = ConvStack(
            [
                ConvNormAct(c.emotion_f, 8, 9),
                ConvNormAct(8, 16, 9),
                ConvNormAct(16, 16, 9),
                ConvNormAct(16, c.emotion_f, 9),
            ]
        )
        context = c.audio_f + c.emotion_f + c.speaker_f + word_f
        self.audio_fusion = _fusion_mlp(context, half, c.audio_f)
        if c.use_face:
            h = c.face_f // 2
            self.face_encoder = ConvStack(
                [
                    ResidualConvBlock(c.face_dim, h, 7, project=True),
                    ResidualConvBlock(h, h, 3, project=True),
                    ResidualConvBlock(h, h, 3),
                    ResidualConvBlock(h, c.face_f, 3, project=True),
                ]
            )
            self.face_fusion = _fusion_mlp(c.face_f + context, half, c.face_f)
        else:
            self.face_encoder = self.face_fusion = None

        body, hands = body_hand_columns()
        self.body_dim, self.hands_dim = len(body), len(hands)
        self.in_size = self.x_dim + 1 + context + (c.face_f if c.use_face else 0)
        self.body_lstm = MaskedBiLSTM(self.in_size, c.hidden, c.layers, c.dropout)
        self.body_out = _head(c.hidden, self.body_dim)
        self.hands_lstm = MaskedBiLSTM(self.in_size + self.body_dim, c.hidden, c.layers, c.dropout)
        self.hands_out = _head(c.hidden, self.hands_dim)
        # [body | hands] -> the 141-dim layout: position i takes column assemble[i].
        order = torch.tensor(body + hands).argsort()
        self.register_buffer("assemble", order, persistent=False)

    # ------------------------------------------------------------------ inputs
    def check_speakers(self, speaker: Tensor) -> None:
        """Raise unless every speaker id ``[B]`` is in ``[0, num_speakers)``. Reads the values (a
        device wait on a GPU): call once per dataset or sampling call; :meth:`forward` checks
        shapes only."""
        check_ids("speaker", speaker, self.config.num_speakers)

    def _check_inputs(self, cond: Mapping[str, Tensor]) -> tuple[int, int]:
        """Shape checks naming the offending ``cond`` key; reads metadata only. Returns (B, T)."""
        c = self.config
        b, length = check_audio(cond, c.audio_dim)
        if c.text_dim > 0:  # a text-free CaMN ignores any text it is given
            check_features(cond, "text", b, length, c.text_dim)
        if c.use_face:
            check_features(cond, "face_input", b, length, c.face_dim)
        for key, shapes in (("speaker", [(b,)]), ("emotion", [(b,), (b, length)])):
            value = cond.get(key)
            if value is None and key == "emotion":
                continue
            if value is None or tuple(value.shape) not in shapes or value.is_floating_point():
                got = None if value is None else f"{value.dtype} {list(value.shape)}"
                want = " or ".join(str(list(s)) for s in shapes)
                raise ValueError(f"cond[{key!r}]: expected integer ids of shape {want}, got {got}")
        check_seed(cond, b, length, c.seed_frames, self.x_dim, "cond['audio']")
        check_bool_masks(cond, {"mask": (b, length)})
        return b, length

    def _seed_input(self, cond: Mapping[str, Tensor], b: int, length: int, ref: Tensor) -> Tensor:
        """``[B, T, 142]``: the seed motion on the first S frames and zero after, plus a channel
        that is 1 on the seed frames and 0 after (CaMN's ``in_pre_pose``)."""
        s = self.config.seed_frames
        if s > 0:
            motion = F.pad(cond["seed"].to(ref.dtype), (0, 0, 0, length - s))
        else:
            motion = ref.new_zeros(b, length, self.x_dim)
        bit = (torch.arange(length, device=ref.device) < s).to(ref.dtype)
        return torch.cat([motion, bit[None, :, None].expand(b, -1, -1)], dim=-1)

    # ------------------------------------------------------------------ network
    def encode(self, cond: Mapping[str, Tensor]) -> tuple[Tensor, Tensor]:
        """The LSTMs' input ``[B, T, in_size]`` and the valid lengths ``[B]``."""
        b, length = self._check_inputs(cond)
        audio = cond["audio"]
        mask = cond.get("mask")
        if mask is None:
            mask = torch.ones(b, length, dtype=torch.bool, device=audio.device)
        lengths = mask.sum(dim=1)
        m = mask[:, None, :].to(audio.dtype)

        speaker = self.speaker_embedding(cond["speaker"].long())[:, None].expand(-1, length, -1)
        emotion_ids = cond.get("emotion")
        if emotion_ids is None:
            emotion_ids = torch.zeros(b, dtype=torch.long, device=audio.device)
        emotion = self.emotion_embedding(emotion_ids.long())
        if emotion.dim() == 2:  # one id per window: the same label on every frame
            emotion = emotion[:, None].expand(-1, length, -1)
        # else one id per frame [B, T] (BEAT's per-frame labels, as CaMN reads them)
        emotion = self.emotion_tail(emotion, m)
        words = [] if self.text_encoder is None else [self.text_encoder(cond["text"])]

        heard = self.audio_encoder(audio, m)
        heard = self.audio_fusion(torch.cat([heard, emotion, speaker, *words], dim=-1))
        parts = [self._seed_input(cond, b, length, audio), speaker, emotion, *words, heard]
        if self.face_encoder is not None:
            seen = self.face_encoder(cond["face_input"], m)
            seen = self.face_fusion(torch.cat([seen, heard, emotion, speaker, *words], dim=-1))
            parts.append(seen)
        return torch.cat(parts, dim=-1), lengths

    def cascade(self, features: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Body ``[B, T, 27]`` from the features, then hands ``[B, T, 114]`` from the features
        and the body."""
        body = self.body_out(self.body_lstm(features, lengths))
        hands = self.hands_out(self.hands_lstm(torch.cat([features, body], dim=-1), lengths))
        return body, hands

    def forward(self, cond: Mapping[str, Tensor]) -> Tensor:
        """``[B, T, 141]``: the predicted gesture (training and sampling alike)."""
        body, hands = self.cascade(*self.encode(cond))
        return torch.index_select(torch.cat([body, hands], dim=-1), -1, self.assemble)

    def predict(self, cond: Mapping[str, Tensor]) -> Tensor:
        """The motion ``[B, T, 141]`` for sampling (call on a model in ``eval()`` mode)."""
        return self.forward(cond)
