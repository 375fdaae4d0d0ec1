"""Configuration of the SAiD denoiser (:mod:`adm.models.said`), free of torch so that settings
can be checked before any job runs.

Defaults are SAiD's (``yunik1004/SAiD`` ``UNet1DConditionModel``: latent diffusion's UNetModel
with ``model_channels 192, num_res_blocks 1, channel_mult (1,), attention_resolutions (1,),
num_head_channels 32, transformer_depth 1``, dropout 0.1; ``uncond_prob 0.1``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adm.errors import ConfigError
from adm.models.task_layout import TaskLayout


def _paper_task_dims() -> dict[str, int]:
    return {"gesture": 141, "face": 51}


@dataclass(frozen=True)
class SAiDConfig(TaskLayout):
    """Sizes of :class:`adm.models.said.SAiDDenoiser`; defaults are SAiD's.

    Attributes:
        tasks: must be ("face",): SAiD animates the face only.
        task_dims: feature width of every known task (face: 51 ARKit weights).
        audio_dim: per-frame audio feature width (the cross-attention context width).
        text_dim, num_speakers: filled by the trainer; SAiD reads neither.
        window: training window in frames (read by the trainer and sampler).
        seed_frames: must be 0 (SAiD takes no seed motion).
        channels: U-Net width (192).
        res_blocks: ResBlocks per level on the way in (1); the way out has one more.
        head_dim: channels per attention head (32, so 6 heads at 192).
        norm_groups: GroupNorm groups (32).
        dropout: ResBlock dropout (0.1; the attention layers have none, as SAiD's).
        cond_drop_prob: training probability of the null audio (0.1).
        align_pad: the ``+ 1`` of the alignment band's half-width ``r / 2 + 1``.
    """

    tasks: tuple[str, ...] = ("face",)
    task_dims: dict[str, int] = field(default_factory=_paper_task_dims)
    audio_dim: int = 1133
    text_dim: int = 301
    num_speakers: int = 4
    window: int = 150
    seed_frames: int = 0
    channels: int = 192
    res_blocks: int = 1
    head_dim: int = 32
    norm_groups: int = 32
    dropout: float = 0.1
    cond_drop_prob: float = 0.1
    align_pad: float = 1.0

    def __post_init__(self) -> None:
        where = "model"
        if tuple(self.tasks) != ("face",):
            raise ConfigError(
                f"{where}.tasks: SAiD generates the face only, expected ['face'], "
                f"got {list(self.tasks)}"
            )
        if self.task_dims.get("face", 0) <= 0:
            raise ConfigError(f"{where}.task_dims.face: must be a positive width")
        if self.seed_frames != 0:
            raise ConfigError(
                f"{where}.seed_frames: SAiD takes no seed motion, expected 0, "
                f"got {self.seed_frames}"
            )
        for name in ("audio_dim", "window", "channels", "res_blocks", "head_dim", "norm_groups"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{where}.{name}: must be positive, got {getattr(self, name)}")
        for name in ("text_dim", "num_speakers"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{where}.{name}: must be >= 0, got {getattr(self, name)}")
        if self.channels % self.head_dim:
            raise ConfigError(
                f"{where}.head_dim: channels {self.channels} not divisible by {self.head_dim}"
            )
        if self.channels % self.norm_groups:
            raise ConfigError(
                f"{where}.norm_groups: channels {self.channels} not divisible by {self.norm_groups}"
            )
        if self.channels % 2:
            raise ConfigError(f"{where}.channels: must be even for the sinusoidal encoding")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"{where}.dropout: must be in [0, 1), got {self.dropout}")
        if not 0.0 <= self.cond_drop_prob <= 1.0:
            raise ConfigError(
                f"{where}.cond_drop_prob: must be in [0, 1], got {self.cond_drop_prob}"
            )
        if self.align_pad < 0:
            raise ConfigError(f"{where}.align_pad: must be >= 0, got {self.align_pad}")
