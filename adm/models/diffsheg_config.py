"""Configuration of the DiffSHEG denoiser (Chen et al., CVPR 2024; the UniEG network).

Defaults are DiffSHEG's BEAT settings (JeremyCJM/DiffSHEG @3ebf305: ``options/*.py``,
``runner.py``, ``models/transformer.py``); the data fields (``audio_dim``, ``text_dim``,
``num_speakers``, ``window``, ``seed_frames``) and the diffusion fields are filled by the trainer
from the run. Build it with ``adm.config.from_dict(DiffSHEGConfig, {...})``: unknown keys are a
:class:`~adm.errors.ConfigError` naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adm.errors import ConfigError
from adm.models.task_layout import TaskLayout

#: DiffSHEG generates both streams jointly; its tasks, in output order.
JOINT_TASKS = ("gesture", "face")


def _beat_task_dims() -> dict[str, int]:
    # BEAT gestures as axis-angle (47 joints x 3) and 51 ARKit blendshapes.
    return {"gesture": 141, "face": 51}


@dataclass(frozen=True)
class DiffSHEGConfig(TaskLayout):
    """Sizes and options of :class:`adm.models.diffsheg.DiffSHEGDenoiser`.

    Attributes:
        tasks: must be ("gesture", "face"): DiffSHEG is a joint model whose gesture branch reads
            the face branch's estimate, so a single-task run is refused.
        task_dims: feature width of every known task.
        audio_dim: per-frame audio feature width (the configured features, in place of
            DiffSHEG's mel spectrogram and HuBERT; must be > 0).
        text_dim: per-frame text feature width; DiffSHEG's BEAT model does not read text, so the
            network ignores ``cond["text"]`` (the field is kept for the trainer's bookkeeping).
        num_speakers: speaker ids ``0 .. num_speakers - 1`` (BEAT: 30); one extra "null" id
            serves the unconditional branch of classifier-free guidance.
        window: training window in frames (DiffSHEG: 34 at 15 fps), read by trainer/sampler.
        seed_frames: S; the network reads no seed motion (DiffSHEG joins windows by in-painting
            at sampling time), so 0 by default.
        layers: transformer layers per branch (8).
        latent: width of each branch (512); the timestep/speaker embedding is 4x this (2048).
        heads: heads of the linear self-attention (8).
        ff: hidden width of each feed-forward block (1024).
        dropout: dropout in the FiLM and feed-forward blocks (0).
        audio_width: width of the audio encoder layer (DiffSHEG: 128 mel bins); the configured
            audio features are first mapped to it by a Linear.
        audio_latent: width of each branch's per-layer audio projection (256).
        cond_drop_prob: probability of replacing the speaker by the null speaker in training
            (0: DiffSHEG trains BEAT without classifier-free guidance).
        diffusion_schedule, diffusion_steps: the training chain ("linear", 1000), for the
            ``abar`` table the network uses to turn the face eps into an x0 estimate (the
            schedule name is checked when the network builds the table, so that reading this
            config does not import torch).
    """

    tasks: tuple[str, ...] = JOINT_TASKS
    task_dims: dict[str, int] = field(default_factory=_beat_task_dims)
    audio_dim: int = 1133
    text_dim: int = 301
    num_speakers: int = 30
    window: int = 34
    seed_frames: int = 0
    layers: int = 8
    latent: int = 512
    heads: int = 8
    ff: int = 1024
    dropout: float = 0.0
    audio_width: int = 128
    audio_latent: int = 256
    cond_drop_prob: float = 0.0
    diffusion_schedule: str = "linear"
    diffusion_steps: int = 1000

    def __post_init__(self) -> None:
        where = "model"
        if tuple(self.tasks) != JOINT_TASKS:
            raise ConfigError(
                f"{where}.tasks: DiffSHEG generates gestures and faces jointly; expected "
                f"{list(JOINT_TASKS)}, got {list(self.tasks)}"
            )
        for task in self.tasks:
            if self.task_dims.get(task, 0) <= 0:
                raise ConfigError(f"{where}.task_dims.{task}: must be a positive width")
        positive = (
            "audio_dim num_speakers window layers latent heads ff audio_width audio_latent "
            "diffusion_steps"
        ).split()
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{where}.{name}: must be positive, got {getattr(self, name)}")
        for name in ("text_dim", "seed_frames"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{where}.{name}: must be >= 0, got {getattr(self, name)}")
        for name in ("latent", "audio_width"):
            if getattr(self, name) % self.heads:
                raise ConfigError(
                    f"{where}.{name}: {getattr(self, name)} does not split into {self.heads} heads"
                )
        if self.latent % 2:
            raise ConfigError(f"{where}.latent: must be even for the sinusoidal encodings")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"{where}.dropout: must be in [0, 1), got {self.dropout}")
        if not 0.0 <= self.cond_drop_prob <= 1.0:
            raise ConfigError(
                f"{where}.cond_drop_prob: must be in [0, 1], got {self.cond_drop_prob}"
            )

    @property
    def time_dim(self) -> int:
        """Width of the timestep + speaker embedding that drives the FiLM blocks (4 x latent)."""
        return 4 * self.latent
