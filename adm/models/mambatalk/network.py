"""MambaTalk stage 2: per-part VQ latents and codes from speech, text and speaker.

Structure (``models/mambatalk.py``, kkakkkka/MambaTalk @b3c30e4c), per frame ``[B, T, .]``:

1. text and audio features, each projected to ``fusion_dim`` separately for the face and the
   body, fused by a learned per-channel softmax gate (``at_attn_face``/``at_attn_body``);
2. speaker embeddings (face, body), each through one self-attention layer;
3. global scan: the motion input (the ``seed_frames`` known frames, a learnable query on every
   other frame) through a conv encoder; its projection plus the body speaker embedding and a
   periodic positional encoding through a self-attention layer gives the global motion; a
   Mamba scan over the fused face features and one over the motion features give the global
   features;
4. local scan: a transformer decoder cross-attends the global motion (queries) to the body's
   fused features; per body part an MLP gives its latent, a scan (self-attention + Mamba) over
   [own latent + speaker + position, the other parts' latents] refines it; the face scan (4
   Mamba layers) runs over [face speaker embedding + position, global features]; each part ends
   in a Linear to the VQ latent width and an MLP classifier to the code logits.

Adaptations to adm's data: audio and text are adm's per-frame features (a per-frame MLP and a
Linear replace MambaTalk's raw-waveform conv encoder and its fastText lookup table); the motion
input is adm's normalised motion ``x`` (every active task); known frames are whole frames (the
seed), as at MambaTalk's inference. MambaTalk's training adds two masked-motion passes: the
ground-truth motion as the input, each element replaced by the learnable query with a
probability that grows over training. ``cond["motion"]`` ``[B, T, Dx]`` with ``cond["known"]``
``[B, T, Dx]`` bool (True: the element is shown) gives that input instead of the seed, and the
output's ``"with_motion"`` reruns the network on the same conditions with such an input
(:class:`~adm.training.objectives.mambatalk.MambaTalkLoss` uses it).

The frozen part VQ-VAEs are not part of this module's parameters or state dict: stage 2 is
trained and saved on its own, and :meth:`MambaTalk.attach_vqs` gives it the VQ-VAEs (loaded
with :func:`adm.models.mambatalk.vq.load_part_vq`) before :meth:`MambaTalk.predict` or the
objective's targets are needed. ``.to()``/``.cuda()`` move the attached VQ-VAEs along.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path

import torch
from torch import Tensor, nn

from adm.config import from_dict
from adm.errors import ConfigError
from adm.models.checks import (
    check_audio,
    check_bool_masks,
    check_features,
    check_seed,
    check_speaker,
)
from adm.models.mambatalk.blocks import (
    MLP,
    MambaStack,
    PeriodicPositionalEncoding,
    SoftmaxGate,
    encoder_layer,
)
from adm.models.mambatalk.config import MambaTalkConfig
from adm.models.mambatalk.parts import part_channels
from adm.models.mambatalk.vq import PartVQ, VQConfig, conv_encoder, freeze, load_part_vqs
from adm.models.registry import register_denoiser


class _PartHead(nn.Module):
    """A VQ latent ``[B, T, latent_dim]`` and its code logits ``[B, T, codebook_size]``."""

    def __init__(self, hidden: int, latent_dim: int, codebook_size: int):
        super().__init__()
        self.to_latent = nn.Linear(hidden, latent_dim)
        self.classifier = MLP(latent_dim, hidden, codebook_size)

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor]:
        latent = self.to_latent(h)
        return latent, self.classifier(latent)


@register_denoiser("mambatalk")
class MambaTalk(nn.Module):
    """MambaTalk's stage-2 network (regression: no diffusion).

    ``forward(cond)`` returns ``{"latent": {part: [B, T, latent_dim]}, "logits": {part:
    [B, T, codebook_size]}, "encode_targets": callable}`` for the parts of the active tasks
    (one latent per frame: MambaTalk's VQ-VAEs keep the frame rate); ``encode_targets(x0
    [B, T, Dx], mask [B, T])`` gives the attached VQ-VAEs' quantised latents and codes of the
    ground truth (what :class:`adm.training.objectives.mambatalk.MambaTalkLoss` compares with).
    ``predict(cond)`` decodes the prediction with the VQ decoders to ``[B, T, Dx]``.
    """

    config_class = MambaTalkConfig
    regression = True

    def __init__(self, config: MambaTalkConfig):
        super().__init__()
        c = self.config = config
        self.task_slices = c.task_slices
        self.x_dim = c.x_dim
        self.parts = c.parts
        self.body_parts = tuple(p for p in self.parts if p != "face")
        mamba = {"d_state": c.d_state, "d_conv": c.d_conv, "expand": c.expand}

        # 1. text/audio per frame, fused by a softmax gate (face and body separately)
        self.text_face = nn.Linear(c.text_dim, c.fusion_dim)
        self.text_body = nn.Linear(c.text_dim, c.fusion_dim)
        self.audio_face = MLP(c.audio_dim, c.fusion_dim, c.fusion_dim)
        self.audio_body = MLP(c.audio_dim, c.fusion_dim, c.fusion_dim)
        self.gate_face = SoftmaxGate(c.fusion_dim)
        self.gate_body = SoftmaxGate(c.fusion_dim)

        # 2. speakers; the extra last row is the null speaker (drop_speaker)
        self.speaker_face = nn.Embedding(c.num_speakers + 1, c.hidden)
        self.speaker_body = nn.Embedding(c.num_speakers + 1, c.hidden)
        self.speaker_face_attn = encoder_layer(c.hidden, c.heads, c.hidden, c.dropout)
        self.speaker_body_attn = encoder_layer(c.hidden, c.heads, c.hidden, c.dropout)

        # 3. global scan
        self.query = nn.Parameter(torch.zeros(c.x_dim))
        self.motion_encoder = conv_encoder(c.x_dim, c.motion_dim, c.motion_layers)
        self.motion_proj = nn.Sequential(
            MLP(c.motion_dim, c.hidden, c.motion_dim), nn.Linear(c.motion_dim, c.hidden)
        )
        self.position = PeriodicPositionalEncoding(c.hidden, c.window, c.dropout)
        self.motion_attn = encoder_layer(c.hidden, c.heads, c.hidden, c.dropout)
        self.face_global_scan = MambaStack(
            c.fusion_dim, c.scan_layers, 2 * c.fusion_dim, out_dim=c.fusion_dim, **mamba
        )
        self.body_global_scan = MambaStack(
            c.motion_dim, c.scan_layers, c.hidden, out_dim=c.motion_dim, **mamba
        )
        self.global_out = nn.Linear(c.fusion_dim + c.motion_dim, c.hidden)

        # 4. local scan
        self.audio_memory = nn.Linear(c.fusion_dim, c.hidden)
        self.decoder = nn.TransformerDecoder(
            nn.TransformerDecoderLayer(
                c.hidden, c.heads, dim_feedforward=c.hidden, dropout=c.dropout, batch_first=True
            ),
            num_layers=c.decoder_layers,
        )
        self.to_part = nn.ModuleDict(
            {p: MLP(c.hidden, c.hidden, c.hidden) for p in self.body_parts}
        )
        self.part_proj = nn.ModuleDict({p: nn.Linear(2 * c.hidden, c.hidden) for p in self.parts})
        self.part_scan = nn.ModuleDict(
            {
                p: MambaStack(
                    c.hidden,
                    c.scan_layers,
                    c.hidden,
                    attention_heads=c.part_heads,
                    dropout=c.dropout,
                    **mamba,
                )
                for p in self.body_parts
            }
        )
        if "face" in self.parts:
            self.part_scan["face"] = MambaStack(
                c.hidden, c.face_scan_layers, c.hidden, out_dim=c.hidden, **mamba
            )
        self.heads = nn.ModuleDict(
            {p: _PartHead(c.hidden, c.latent_dim, c.codebook_size) for p in self.parts}
        )
        channels = part_channels(self.task_slices)
        for p in self.parts:
            self.register_buffer(f"channels_{p}", torch.tensor(channels[p]), persistent=False)
        self._vqs: dict[str, PartVQ] = {}  # not submodules: kept out of the state dict

    # ------------------------------------------------------------------ VQ-VAEs
    def attach_vqs(self, vqs: Mapping[str, PartVQ]) -> None:
        """Give the network its frozen part VQ-VAEs (``{part: PartVQ}`` for every active part).

        Raises:
            ConfigError: a part is missing, or a VQ-VAE does not fit (part, latent width,
                codebook size) the network's config.
        """
        c = self.config
        for part in self.parts:
            vq = vqs.get(part)
            if vq is None:
                raise ConfigError(f"model: no VQ-VAE for part {part!r} (needs {list(self.parts)})")
            vc = vq.config
            if vc.part != part:
                raise ConfigError(f"model: the VQ-VAE given for {part!r} is the {vc.part!r} one")
            for name in ("latent_dim", "codebook_size"):
                if getattr(vc, name) != getattr(c, name):
                    raise ConfigError(
                        f"model.{name}: {getattr(c, name)}, but the {part!r} VQ-VAE has "
                        f"{getattr(vc, name)}"
                    )
        device = self.query.device
        self._vqs = {p: freeze(vqs[p]).to(device) for p in self.parts}

    # The frozen stage-1 networks travel with the trained weights: the trainer stores them in
    # every weights file (``frozen.<part>.<name>`` tensors, their configs in the metadata), so
    # that sampling rebuilds the whole model from one file, like any other network.
    def load_frozen_parts(self, folder: str | Path) -> None:
        """Attach the part VQ-VAEs written by ``adm train-vq`` into ``folder``."""
        self.attach_vqs(load_part_vqs(folder, self.parts))

    def frozen_config(self) -> dict[str, dict]:
        """``{part: VQConfig as a dict}`` of the attached VQ-VAEs."""
        return {p: asdict(self._vq(p).config) for p in self.parts}

    def frozen_state(self) -> dict[str, Tensor]:
        """``{"<part>.<name>": tensor}``: the attached VQ-VAEs' weights."""
        return {
            f"{p}.{name}": value
            for p in self.parts
            for name, value in self._vq(p).state_dict().items()
        }

    def load_frozen(self, config: Mapping[str, dict], tensors: Mapping[str, Tensor]) -> None:
        """Rebuild and attach the VQ-VAEs from :meth:`frozen_config` and :meth:`frozen_state`.

        Raises:
            ConfigError: a part's config or weights do not fit.
        """
        vqs = {}
        for part in self.parts:
            if part not in config:
                raise ConfigError(f"frozen_config: no VQ-VAE for part {part!r}")
            vq = PartVQ(from_dict(VQConfig, config[part], where=f"frozen_config.{part}"))
            prefix = f"{part}."
            state = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
            try:
                vq.load_state_dict(state)
            except RuntimeError as err:
                first = str(err).strip().splitlines()[0]
                raise ConfigError(f"frozen.{part}: weights do not fit ({first})") from None
            vqs[part] = vq.to(self.query.device)
        self.attach_vqs(vqs)

    def _apply(self, fn, recurse=True):  # noqa: ANN001  (moves the attached VQ-VAEs too)
        super()._apply(fn, recurse)
        for vq in self._vqs.values():
            vq._apply(fn, recurse)
        return self

    def _vq(self, part: str) -> PartVQ:
        if part not in self._vqs:
            raise RuntimeError("MambaTalk: call attach_vqs() with the part VQ-VAEs first")
        return self._vqs[part]

    def channels(self, part: str) -> Tensor:
        """Channels of ``x`` that ``part`` covers (long ``[D_part]``)."""
        return getattr(self, f"channels_{part}")

    @torch.no_grad()
    def encode_targets(self, x0: Tensor, mask: Tensor) -> dict[str, dict[str, Tensor]]:
        """The VQ-VAEs' view of the ground truth ``x0 [B, T, Dx]``: ``{"latent": {part:
        [B, T, latent_dim]} (quantised), "codes": {part: [B, T] long}}``. Padded frames are
        zeroed first, so valid frames' targets do not depend on what padding holds."""
        x0 = torch.where(mask[..., None], x0, torch.zeros((), dtype=x0.dtype, device=x0.device))
        latent, codes = {}, {}
        for p in self.parts:
            vq = self._vq(p)
            latent[p], codes[p] = vq.quantize(vq.encode(x0.index_select(-1, self.channels(p))))
        return {"latent": latent, "codes": codes}

    # ------------------------------------------------------------------ inputs
    def _check(self, cond: Mapping[str, Tensor]) -> tuple[int, int]:
        """Shape checks naming the cond key; reads no tensor values (no host sync)."""
        c = self.config
        b, length = check_audio(cond, c.audio_dim)
        check_features(cond, "text", b, length, c.text_dim)
        check_speaker(cond, b)
        check_seed(cond, b, length, c.seed_frames, self.x_dim, "cond['audio']")
        masks = {"mask": (b, length), "drop_speaker": (b,), "known": (b, length, self.x_dim)}
        check_bool_masks(cond, masks)
        if ("known" in cond) != ("motion" in cond):
            raise ValueError("cond['motion'] and cond['known']: give both or neither")
        if "motion" in cond:
            check_features(cond, "motion", b, length, self.x_dim)
        return b, length

    def _speakers(self, cond: Mapping[str, Tensor], length: int) -> tuple[Tensor, Tensor]:
        """Face and body speaker embeddings ``[B, T, hidden]``.

        MambaTalk runs its self-attention layer over T copies of the embedding; attention over
        identical tokens returns that token's value, so one token is run and repeated."""
        speaker = cond["speaker"].long()
        drop = cond.get("drop_speaker")
        if drop is not None:
            speaker = torch.where(drop, torch.full_like(speaker, self.config.num_speakers), speaker)
        face = self.speaker_face_attn(self.speaker_face(speaker)[:, None])
        body = self.speaker_body_attn(self.speaker_body(speaker)[:, None])
        return face.expand(-1, length, -1), body.expand(-1, length, -1)

    def _motion_input(self, cond: Mapping[str, Tensor], valid: Tensor) -> Tensor:
        """``[B, T, Dx]``: the seed on its frames, the learnable query on every other frame; or,
        given ``cond["motion"]`` and ``cond["known"]``, the motion where known, else the query.
        ``valid`` ``[B, T, 1]``: padded frames show the query only (their motion, even NaN,
        never reaches the conv encoder that mixes neighbouring frames)."""
        b, length = valid.shape[:2]
        if "known" in cond:
            query = self.query.expand(b, length, -1)
            shown = cond["known"] & valid
            return torch.where(shown, cond["motion"].to(query.dtype), query)
        s = self.config.seed_frames
        query = self.query.expand(b, length - s, -1)
        if s == 0:
            return query
        return torch.cat([cond["seed"].to(query.dtype), query], dim=1)

    # ------------------------------------------------------------------ network
    def forward(self, cond: Mapping[str, Tensor]) -> dict[str, object]:
        """Predicted latents and code logits of every active part (see the class doc)."""
        b, length = self._check(cond)
        mask = cond.get("mask")
        if mask is None:
            mask = torch.ones(b, length, dtype=torch.bool, device=cond["audio"].device)
        padding = ~mask
        valid = mask[..., None]
        zero = torch.zeros((), dtype=cond["audio"].dtype, device=mask.device)
        # zeroed, so that nothing padding holds (even NaN) reaches a valid frame
        audio = torch.where(valid, cond["audio"], zero)
        text = torch.where(valid, cond["text"].to(audio.dtype), zero)

        fused_face = self.gate_face(self.text_face(text), self.audio_face(audio))
        fused_body = self.gate_body(self.text_body(text), self.audio_body(audio))
        spk_face, spk_body = self._speakers(cond, length)

        # global scan
        motion = self._motion_input(cond, valid)
        motion_feat = self.motion_encoder(motion.transpose(1, 2)).transpose(1, 2)
        global_motion = self.position(self.motion_proj(motion_feat) + spk_body)
        global_motion = self.motion_attn(global_motion, src_key_padding_mask=padding)
        global_feat = self.global_out(
            torch.cat(
                [self.face_global_scan(fused_face), self.body_global_scan(motion_feat)], dim=-1
            )
        )

        # local scan (MambaTalk adds the position, not the speaker, to the decoder queries)
        queries = self.decoder(
            self.position(global_motion),
            self.audio_memory(fused_body),
            tgt_key_padding_mask=padding,
            memory_key_padding_mask=padding,
        )
        global_motion = global_motion + queries
        part_latent = {p: self.to_part[p](global_motion) for p in self.body_parts}
        latent, logits = {}, {}
        for p in self.body_parts:
            others = sum(
                (part_latent[q] for q in self.body_parts if q != p),
                torch.zeros_like(part_latent[p]),
            )
            own = self.position(part_latent[p] + spk_body)
            h = self.part_scan[p](self.part_proj[p](torch.cat([own, others], -1)), padding)
            latent[p], logits[p] = self.heads[p](h + part_latent[p])
        if "face" in self.parts:
            face_in = torch.cat([self.position(spk_face), global_feat], dim=-1)
            h = self.part_scan["face"](self.part_proj["face"](face_in))
            latent["face"], logits["face"] = self.heads["face"](h)
        order = {p: i for i, p in enumerate(self.parts)}
        latent = dict(sorted(latent.items(), key=lambda kv: order[kv[0]]))
        logits = dict(sorted(logits.items(), key=lambda kv: order[kv[0]]))
        encode: Callable[[Tensor, Tensor], dict] = self.encode_targets
        rerun: Callable[[Tensor, Tensor], dict] = functools.partial(self._with_motion, cond)
        return {
            "latent": latent,
            "logits": logits,
            "encode_targets": encode,
            "with_motion": rerun,
            # whether another call on the same inputs could differ (dropout is active)
            "stochastic": self.training and self.config.dropout > 0,
        }

    def _with_motion(self, cond: Mapping[str, Tensor], motion: Tensor, known: Tensor) -> dict:
        """The network's output on ``cond`` with the motion input ``motion`` ``[B, T, Dx]`` shown
        where ``known`` ``[B, T, Dx]`` is True (MambaTalk's masked-motion pass), under the
        autocast state the first pass ran in."""
        device = motion.device.type
        enabled = torch.is_autocast_enabled(device)
        dtype = torch.get_autocast_dtype(device)
        with torch.autocast(device, dtype=dtype, enabled=enabled):
            return self.forward({**cond, "motion": motion, "known": known})

    @torch.no_grad()
    def predict(self, cond: Mapping[str, Tensor]) -> Tensor:
        """Motion ``[B, T, Dx]``: each part's predicted codes (``decode_from`` "codes": argmax
        of the logits) or predicted latent snapped to its nearest code ("latent"), through
        the part's frozen VQ decoder, written into the part's channels of ``x``."""
        out = self.forward(cond)
        first = out["latent"][self.parts[0]]
        motion = first.new_zeros(*first.shape[:2], self.x_dim)
        for p in self.parts:
            vq = self._vq(p)
            if self.config.decode_from[p] == "codes":
                z = vq.lookup(out["logits"][p].argmax(-1))
            else:
                z = vq.quantize(out["latent"][p])[0]
            motion[..., self.channels(p)] = vq.decode(z).to(motion.dtype)
        return motion
