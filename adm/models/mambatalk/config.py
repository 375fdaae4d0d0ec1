"""Configuration of MambaTalk's stage-2 network (MambaTalk's values as defaults).

Sizes from ``configs/mambatalk.yaml`` and ``models/mambatalk.py`` (kkakkkka/MambaTalk
@b3c30e4c): ``hidden_size`` 768, ``audio_f`` 512, ``motion_f`` 256, ``vae_codebook_size`` 256,
VQ latent width 256, ``pose_length`` 64, ``pre_frames`` 4, ``n_layer`` 1, 8 cross-attention
decoder layers, 4 attention heads (8 in the per-part scans), a 3-stage motion encoder and a
4-layer Mamba face scan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from adm.errors import ConfigError
from adm.models.mambatalk.parts import PARTS, active_parts


def _paper_task_dims() -> dict[str, int]:
    return {"gesture": 141, "face": 51}


def _mambatalk_decoding() -> dict[str, str]:
    # MambaTalk decodes a part from its predicted codes when the part's code loss has weight
    # (cu = ch = 1), else from its predicted latent snapped to the nearest code (cf = 0: face).
    return {"upper": "codes", "hands": "codes", "face": "latent"}


@dataclass(frozen=True)
class MambaTalkConfig:
    """Sizes and options of :class:`adm.models.mambatalk.network.MambaTalk`.

    Attributes:
        tasks, task_dims, audio_dim, text_dim, num_speakers, window, seed_frames: the data
            interface (filled by the trainer); ``seed_frames`` is MambaTalk's ``pre_frames``
            (4): the known motion frames, every later frame is a learnable query; ``window``
            is MambaTalk's ``pose_length`` (64), also the period of the positional encoding
            (MambaTalk's period and table length are both ``pose_length``: one position per
            frame of a window).
        hidden: model width (``hidden_size`` 768).
        fusion_dim: width of the gated text/audio features (``audio_f`` 512).
        motion_dim: width of the motion encoder (``motion_f`` 256).
        motion_layers: conv stages of the motion encoder (3).
        latent_dim: width of a VQ-VAE latent/code (256); must match the attached VQ-VAEs.
        codebook_size: codes per VQ-VAE (256); must match the attached VQ-VAEs.
        heads: attention heads of the global self-attention and the decoder (4).
        part_heads: attention heads of each part's local scan (8).
        decoder_layers: layers of the cross-attention decoder (8).
        scan_layers: Mamba layers of the global scans and of each body part's scan (1).
        face_scan_layers: Mamba layers of the face's local scan (4).
        d_state, d_conv, expand: the Mamba mixer (16, 4, 2: mamba-ssm's defaults).
        dropout: dropout of attention layers and positional encoding (0.1, PyTorch's default).
        decode_from: per part, what :meth:`predict` decodes: "codes" (argmax of the code
            logits) or "latent" (the predicted latent snapped to its nearest code).
    """

    tasks: tuple[str, ...] = ("gesture", "face")
    task_dims: dict[str, int] = field(default_factory=_paper_task_dims)
    audio_dim: int = 1133
    text_dim: int = 301
    num_speakers: int = 4
    window: int = 64
    seed_frames: int = 4
    hidden: int = 768
    fusion_dim: int = 512
    motion_dim: int = 256
    motion_layers: int = 3
    latent_dim: int = 256
    codebook_size: int = 256
    heads: int = 4
    part_heads: int = 8
    decoder_layers: int = 8
    scan_layers: int = 1
    face_scan_layers: int = 4
    d_state: int = 16
    d_conv: int = 4
    expand: int = 2
    dropout: float = 0.1
    decode_from: dict[str, Literal["codes", "latent"]] = field(default_factory=_mambatalk_decoding)

    def __post_init__(self) -> None:
        where = "model"
        if not self.tasks or len(set(self.tasks)) != len(self.tasks):
            raise ConfigError(f"{where}.tasks: one or more distinct tasks, got {self.tasks}")
        for task in self.tasks:
            if task not in ("gesture", "face"):
                raise ConfigError(
                    f"{where}.tasks: MambaTalk models 'gesture' and 'face', not {task!r}"
                )
        expected = _paper_task_dims()
        for task in self.tasks:
            if self.task_dims.get(task) != expected[task]:
                raise ConfigError(
                    f"{where}.task_dims.{task}: MambaTalk's part VQ-VAEs split the {expected[task]}"
                    f"-dim layout, got {self.task_dims.get(task)}"
                )
        positive = (
            "audio_dim text_dim num_speakers window hidden fusion_dim motion_dim motion_layers "
            "latent_dim codebook_size heads part_heads decoder_layers scan_layers "
            "face_scan_layers d_state d_conv expand"
        ).split()
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{where}.{name}: must be positive, got {getattr(self, name)}")
        if self.seed_frames < 0 or self.seed_frames >= self.window:
            raise ConfigError(
                f"{where}.seed_frames: must be in [0, window={self.window}), got {self.seed_frames}"
            )
        for name in ("heads", "part_heads"):
            if self.hidden % getattr(self, name):
                raise ConfigError(
                    f"{where}.{name}: hidden {self.hidden} not divisible by {getattr(self, name)}"
                )
        if self.hidden % 2:
            raise ConfigError(f"{where}.hidden: must be even for the sinusoidal encoding")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"{where}.dropout: must be in [0, 1), got {self.dropout}")
        unknown = sorted(set(self.decode_from) - set(PARTS))
        if unknown:
            raise ConfigError(f"{where}.decode_from: unknown part {unknown[0]!r} (parts: {PARTS})")
        missing = [p for p in self.parts if p not in self.decode_from]
        if missing:
            raise ConfigError(f"{where}.decode_from: no entry for part {missing[0]!r}")

    @property
    def parts(self) -> tuple[str, ...]:
        """The VQ-VAE parts of the active tasks (upper, hands for gesture; face for face)."""
        return active_parts(self.tasks)

    @property
    def x_dim(self) -> int:
        """Width of ``x``: the sum of the active tasks' dims (192 for gesture + face)."""
        return sum(self.task_dims[t] for t in self.tasks)

    @property
    def task_slices(self) -> dict[str, slice]:
        """Channel range of each active task inside ``x`` (gesture before face)."""
        slices, start = {}, 0
        for task in ("gesture", "face"):
            if task in self.tasks:
                slices[task] = slice(start, start + self.task_dims[task])
                start += self.task_dims[task]
        return slices
