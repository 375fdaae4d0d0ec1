"""Configuration of the CaMN peer (BEAT, ECCV 2022) and its body/hands split of the gesture.

Facts from PantoMatrix ``scripts/BEAT_2022`` @6ca70b9 (``models/camn.py``, ``camn_trainer.py``,
``configs/camn_beat_4english_15_141.yaml``, ``utils/config.py``): audio 128, words 128 (a
4-level TCN of width 256 over 300-dim fastText vectors), speaker 8, emotion 8 (8 emotions),
face 32, two bidirectional LSTMs of 4 layers and width 256 with dropout 0.3, 34-frame windows at
15 fps with 4 seed frames. This module imports no torch, so settings can be checked cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adm.errors import ConfigError
from adm.models.task_layout import TaskLayout
from adm.skeleton import GESTURE_DIM, GESTURE_JOINTS

BODY_JOINTS: tuple[str, ...] = (
    "Spine", "Neck", "Neck1",
    "RightShoulder", "RightArm", "RightForeArm",
    "LeftShoulder", "LeftArm", "LeftForeArm",
)  # fmt: skip
"""The joints CaMN's body LSTM predicts (its output columns 0:18 and 75:84 of BEAT's 141-dim
layout, which lists the same 47 joints in the same order as :data:`GESTURE_JOINTS`); the hands
LSTM predicts the other 38 joints, wrists included."""


def body_hand_columns() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Gesture columns ``(body, hands)``: 27 and 114 indices into the 141-dim axis-angle vector,
    each ascending; together they cover every column exactly once."""
    body_set = set(BODY_JOINTS)
    body, hands = [], []
    for n, joint in enumerate(GESTURE_JOINTS):
        (body if joint in body_set else hands).extend(range(3 * n, 3 * n + 3))
    return tuple(body), tuple(hands)


def _beat_task_dims() -> dict[str, int]:
    return {"gesture": GESTURE_DIM, "face": 51}


@dataclass(frozen=True)
class CaMNConfig(TaskLayout):
    """Sizes and options of :class:`adm.models.camn.CaMN`.

    Attributes:
        tasks: CaMN generates gestures only: ``("gesture",)``.
        task_dims: feature width of every known task (the gesture must be the 141-dim layout).
        audio_dim: per-frame audio feature width (must be > 0: the audio drives the fusion).
        text_dim: per-frame text feature width (fastText 300 + silence flag 1; 0 = no text).
        num_speakers: speaker ids ``0 .. num_speakers - 1`` (BEAT's CaMN: 30).
        window: training window in frames: 68 at 30 fps, the duration of CaMN's 34 frames at
            15 fps (read by the trainer and the sampler; the network takes any length).
        seed_frames: ground-truth frames given with a mask bit: 8 at 30 fps (CaMN: 4 at 15 fps).
        audio_f: audio feature width per frame after the encoder and the audio fusion (128).
        audio_hidden: width of the audio encoder's inner blocks.
        audio_blocks: residual conv blocks of the audio encoder (the last one maps to audio_f).
        audio_kernel: their kernel size (frames).
        word_dims: width of the learned word projection that replaces CaMN's fastText embedding.
        word_f: text feature width after the TCN's output layer (128).
        text_hidden: TCN width (256); text_layers: TCN levels (4, dilations 1, 2, 4, 8).
        text_kernel: TCN kernel (2, causal).
        text_dropout: TCN dropout (0.3); embed_dropout: dropout of the word vectors (0.1).
        speaker_f: speaker embedding width (8).
        num_emotions, emotion_f: BEAT's 8 emotions, embedded in 8 dims.
        use_face: feed the ground-truth face (``cond["face_input"]``) through the face encoder,
            as CaMN does on BEAT; False builds no face encoder and ignores the input.
        face_dim: face input width (51 ARKit weights); face_f: its encoding width (32).
        hidden: LSTM width (256; the fusion MLPs use hidden // 2); layers: LSTM layers (4).
        dropout: dropout between LSTM layers (0.3).
    """

    tasks: tuple[str, ...] = ("gesture",)
    task_dims: dict[str, int] = field(default_factory=_beat_task_dims)
    audio_dim: int = 1133
    text_dim: int = 301
    num_speakers: int = 30
    window: int = 68
    seed_frames: int = 8
    audio_f: int = 128
    audio_hidden: int = 64
    audio_blocks: int = 3
    audio_kernel: int = 3
    word_dims: int = 300
    word_f: int = 128
    text_hidden: int = 256
    text_layers: int = 4
    text_kernel: int = 2
    text_dropout: float = 0.3
    embed_dropout: float = 0.1
    speaker_f: int = 8
    num_emotions: int = 8
    emotion_f: int = 8
    use_face: bool = True
    face_dim: int = 51
    face_f: int = 32
    hidden: int = 256
    layers: int = 4
    dropout: float = 0.3

    def __post_init__(self) -> None:
        where = "model"
        if tuple(self.tasks) != ("gesture",):
            raise ConfigError(
                f"{where}.tasks: CaMN generates gestures only, expected ['gesture'], "
                f"got {list(self.tasks)}"
            )
        if self.task_dims.get("gesture") != GESTURE_DIM:
            raise ConfigError(
                f"{where}.task_dims.gesture: CaMN splits the {GESTURE_DIM}-dim gesture into body "
                f"and hands, got {self.task_dims.get('gesture')}"
            )
        positive = (
            "audio_dim num_speakers window audio_f audio_hidden audio_blocks audio_kernel "
            "word_dims word_f text_hidden text_layers text_kernel speaker_f num_emotions "
            "emotion_f face_dim face_f hidden layers"
        ).split()
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{where}.{name}: must be positive, got {getattr(self, name)}")
        for name in ("text_dim", "seed_frames"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{where}.{name}: must be >= 0, got {getattr(self, name)}")
        if self.seed_frames > self.window:
            raise ConfigError(
                f"{where}.seed_frames: {self.seed_frames} exceeds the window ({self.window})"
            )
        if self.audio_kernel % 2 == 0:
            raise ConfigError(
                f"{where}.audio_kernel: must be odd (centred convolution), got {self.audio_kernel}"
            )
        if self.face_f % 2:
            raise ConfigError(f"{where}.face_f: must be even (inner width face_f / 2)")
        for name in ("dropout", "text_dropout", "embed_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"{where}.{name}: must be in [0, 1), got {getattr(self, name)}")
