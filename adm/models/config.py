"""Configuration of the ADM denoiser (method.md, "Denoiser"; paper section 1.3-1.4).

Every size of the network is a field whose default is the paper's value (or, where the paper is
silent, the DiffuseStyleGesture+ value it follows). Build it from a dict with
``adm.config.from_dict(ADMConfig, {...})``: unknown keys are a :class:`~adm.errors.ConfigError`
naming the key, and inconsistent values are refused here rather than deep inside ``forward``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from adm.errors import ConfigError
from adm.models.task_layout import TaskLayout


def _paper_task_dims() -> dict[str, int]:
    # BEAT gestures as axis-angle (47 joints x 3) and 51 ARKit blendshapes (beat.md).
    return {"gesture": 141, "face": 51}


@dataclass(frozen=True)
class ADMConfig(TaskLayout):
    """Sizes and options of :class:`adm.models.adm_denoiser.ADMDenoiser`.

    Attributes:
        tasks: active tasks in output order; ``x`` is their concatenation (gesture then face).
        task_dims: feature width of every known task.
        audio_dim: per-frame audio feature width (1133 = MFCC 40 | mel 64 | prosody 4 |
            WavLM 1024 | onset 1; 109 without WavLM; 0 for no audio).
        text_dim: per-frame text feature width (fastText 300 + silence flag 1; 0 for no text).
        num_speakers: speaker ids are ``0 .. num_speakers - 1``; one extra "null" id serves the
            unconditional branch of classifier-free guidance.
        seed_frames: S, ground-truth frames given as seed motion (DSG+: 30).
        window: training window length in frames (150), read by the trainer and the sampler;
            the network itself takes any ``T >= seed_frames``.
        latent: model width (384).
        cond_dim: width of the audio/text projection ``Z_f`` and of each seed projection (96).
        id_dim: speaker embedding width ``Z_id`` (384).
        time_dim: timestep embedding width ``Z_t`` (384).
        local_window: local-attention window in frames (15).
        local_heads: local-attention heads (8).
        local_look_back: windows each query looks back (1, as DSG+).
        local_look_forward: windows each query looks ahead (0 = as DSG+).
        layers, heads, ff, dropout, activation: the transformer encoder (8, 4, 1024, 0.1, gelu).
        norm_first: pre-norm encoder layers; False is the post-norm layer of MDM / DSG+.
        decoder_hidden: hidden width of each task's two-layer decoder; 0 = a single Linear.
        cond_drop_prob: probability of replacing the speaker by the null speaker in training.
        seed_layout: "prefix" (DSG+): the seed features fill the first S condition frames and
            audio/text only the remaining T - S; "all": audio/text on every frame, seed features
            on the first S frames and zero after.
        shared_combine: how ``Z_t`` and ``Z_id`` form ``Z_s``: "sum" (needs time_dim == id_dim)
            or "concat".
    """

    tasks: tuple[str, ...] = ("gesture", "face")
    task_dims: dict[str, int] = field(default_factory=_paper_task_dims)
    audio_dim: int = 1133
    text_dim: int = 301
    num_speakers: int = 4
    seed_frames: int = 30
    window: int = 150
    latent: int = 384
    cond_dim: int = 96
    id_dim: int = 384
    time_dim: int = 384
    local_window: int = 15
    local_heads: int = 8
    local_look_back: int = 1
    local_look_forward: int = 0
    layers: int = 8
    heads: int = 4
    ff: int = 1024
    dropout: float = 0.1
    activation: Literal["gelu", "relu"] = "gelu"
    norm_first: bool = False
    decoder_hidden: int = 384
    cond_drop_prob: float = 0.1
    seed_layout: Literal["prefix", "all"] = "prefix"
    shared_combine: Literal["sum", "concat"] = "sum"

    def __post_init__(self) -> None:
        where = "model"
        if not self.tasks:
            raise ConfigError(f"{where}.tasks: at least one task is needed")
        if len(set(self.tasks)) != len(self.tasks):
            raise ConfigError(f"{where}.tasks: repeated task in {list(self.tasks)}")
        for task in self.tasks:
            if task not in self.task_dims:
                raise ConfigError(
                    f"{where}.tasks: task {task!r} has no entry in task_dims "
                    f"(known: {sorted(self.task_dims)})"
                )
            if self.task_dims[task] <= 0:
                raise ConfigError(f"{where}.task_dims.{task}: must be positive")
        positive = (
            "num_speakers window latent cond_dim id_dim time_dim local_window local_heads "
            "layers heads ff"
        ).split()
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{where}.{name}: must be positive, got {getattr(self, name)}")
        for name in ("audio_dim", "text_dim", "seed_frames", "decoder_hidden"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{where}.{name}: must be >= 0, got {getattr(self, name)}")
        for name in ("local_look_back", "local_look_forward"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{where}.{name}: must be >= 0, got {getattr(self, name)}")
        if self.latent % self.local_heads or (self.latent // self.local_heads) % 2:
            raise ConfigError(
                f"{where}.local_heads: latent {self.latent} must split into {self.local_heads} "
                "heads of even width (rotary encoding rotates pairs of channels)"
            )
        if self.latent % self.heads:
            raise ConfigError(f"{where}.heads: latent {self.latent} not divisible by {self.heads}")
        if self.latent % 2:
            raise ConfigError(f"{where}.latent: must be even for the sinusoidal encoding")
        if self.time_dim % 2:
            raise ConfigError(f"{where}.time_dim: must be even for the sinusoidal encoding")
        if self.shared_combine == "sum" and self.time_dim != self.id_dim:
            raise ConfigError(
                f"{where}.shared_combine: 'sum' needs time_dim == id_dim "
                f"(got {self.time_dim} and {self.id_dim})"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"{where}.dropout: must be in [0, 1), got {self.dropout}")
        if not 0.0 <= self.cond_drop_prob <= 1.0:
            raise ConfigError(
                f"{where}.cond_drop_prob: must be in [0, 1], got {self.cond_drop_prob}"
            )
