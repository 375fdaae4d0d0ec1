"""Per-speaker identity of the synthetic corpus: voice, facial habits, posture, gesture style.

BEAT's speakers 2, 4, 6 and 8 (scott, lawrence, carla, catherine) get hand-picked eSpeak NG
voices (two male, two female variants, distinct pitch and rate); any other speaker id gets a
voice derived from the id. Everything else about a speaker (facial habits, posture, idle
motion, gesture vocabulary and rate) is drawn once from a generator seeded by (corpus seed,
speaker), so a speaker keeps the same style in every take and differs from the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adm.data.synth.body import BodyStyle
from adm.data.synth.espeak import Voice
from adm.data.synth.face import FaceStyle
from adm.data.synth.gestures import Form, GestureStyle, speaker_vocabulary

_VOICES: dict[int, Voice] = {
    2: Voice("en-us", "m3", gender=1, rate=165, pitch=42, pitch_range=60),
    4: Voice("en", "m6", gender=1, rate=150, pitch=35, pitch_range=45),
    6: Voice("en-us", "f2", gender=2, rate=175, pitch=60, pitch_range=70),
    8: Voice("en", "f4", gender=2, rate=158, pitch=55, pitch_range=55),
}
_VARIANTS = ("m1", "f1", "m2", "f3", "m4", "f5", "m5", "f2", "m6", "f4")


def voice_of(speaker: int) -> Voice:
    """The eSpeak NG voice of ``speaker`` (fixed for 2/4/6/8, derived from the id otherwise)."""
    if speaker in _VOICES:
        return _VOICES[speaker]
    variant = _VARIANTS[speaker % len(_VARIANTS)]
    return Voice(
        "en-us",
        variant,
        gender=1 if variant[0] == "m" else 2,
        rate=145 + (speaker * 7) % 40,
        pitch=35 + (speaker * 11) % 30,
        pitch_range=45 + (speaker * 13) % 30,
    )


@dataclass(frozen=True)
class SpeakerStyle:
    """Everything that makes one synthetic speaker recognisable."""

    speaker: int
    voice: Voice
    face: FaceStyle
    body: BodyStyle
    gesture: GestureStyle
    vocabulary: tuple[Form, ...]


def speaker_style(speaker: int, seed: int) -> SpeakerStyle:
    """The style of ``speaker`` for a corpus generated with ``seed`` (deterministic)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, speaker, 7]))
    face = FaceStyle(
        jaw_gain=float(rng.uniform(0.85, 1.15)),
        lip_gain=float(rng.uniform(0.8, 1.2)),
        smile=float(rng.uniform(0.0, 0.15)),
        brow=float(rng.uniform(0.2, 0.5)),
        coarticulation=float(rng.uniform(0.02, 0.03)),
    )
    body = BodyStyle(
        spine_lean=float(rng.uniform(4.0, 12.0)),
        neck_pitch=float(rng.uniform(0.0, 8.0)),
        rest_abduction=float(rng.uniform(-8.0, 4.0)),
        rest_elbow=float(rng.uniform(-5.0, 15.0)),
        sway=float(rng.uniform(0.8, 2.5)),
        sway_hz=float(rng.uniform(0.1, 0.25)),
        breath_hz=float(rng.uniform(0.2, 0.3)),
        breath=float(rng.uniform(0.5, 1.2)),
        nod=float(rng.uniform(2.0, 6.0)),
    )
    weights = rng.dirichlet([6.0, 2.0, 2.0, 2.0])
    gesture = GestureStyle(
        rate=float(rng.uniform(0.45, 0.8)),
        right_bias=float(rng.uniform(0.45, 0.8)),
        kind_follows_word=float(rng.uniform(0.55, 0.85)),
        kind_weights=tuple(float(w) for w in weights),  # type: ignore[arg-type]
        hold=(0.08, float(rng.uniform(0.3, 0.6))),
        lead=float(rng.uniform(-0.06, 0.0)),
    )
    return SpeakerStyle(speaker, voice_of(speaker), face, body, gesture, speaker_vocabulary(rng))
