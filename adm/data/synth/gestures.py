"""Gesture forms and stroke planning: which gesture, with which hand, when.

Gestures follow McNeill and Kendon's phase model: a *preparation* brings the hand from rest to
the start of the *stroke*, the stroke ends at its *apex* (the peak, where the hand stops and
wrist speed has a minimum), an optional *hold* keeps the apex pose, and a *retraction* returns to
rest. Stroke peaks co-occur with prosodic prominence, so each apex is timed on the onset of a
stressed word (Loehr 2004; BEAT's beat-alignment metric rests on the same finding).

Forms are written for the RIGHT arm as Euler XYZ angles in degrees (BEAT's channels) of the
joints without their side prefix (``"Arm"``, ``"ForeArm"``, ``"Hand"``); the left arm uses the
mirror image through the body's sagittal plane, ``(x, y, z) -> (x, -y, -z)``, which is how BEAT's
left and right arm angles relate. In this skeleton the right arm's bones point along -X in the
T-pose: ``Arm`` Z lowers the arm (90 = straight down), ``Arm`` X < 0 raises it forward,
``ForeArm`` Y bends the elbow forward, ``Hand`` X turns the palm (negative = towards up).

What a gesture is drawn from is random (per speaker: a vocabulary of forms; per stroke: hand,
amplitude, hold, timing) and comes from the gesture RNG only, never from the speech RNG: the same
sentence spoken twice gets different gestures.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from adm.data.synth.speech import SpokenWord

Kind = Literal["beat", "deictic", "iconic", "metaphoric"]
Hand = Literal["right", "left", "both"]
Pose = dict[str, tuple[float, float, float]]
KINDS: tuple[Kind, ...] = ("beat", "deictic", "iconic", "metaphoric")

_FINGERS = ("Index", "Middle", "Ring", "Pinky")


def _shape(curl: tuple[float, float, float, float], spread: float, thumb: tuple) -> Pose:
    """Finger joint angles of a hand shape: per-finger curl (Z), fan spread (Y), thumb pose."""
    pose: Pose = {}
    for k, (finger, c) in enumerate(zip(_FINGERS, curl, strict=True)):
        fan = spread * (1.5 - k)  # index fans one way, pinky the other
        pose[f"Hand{finger}1"] = (0.0, -fan, c)
        pose[f"Hand{finger}2"] = (0.0, 0.0, c * 1.1)
        pose[f"Hand{finger}3"] = (0.0, 0.0, c * 0.7)
    t1, t2 = thumb
    pose["HandThumb1"] = t1
    pose["HandThumb2"] = t2
    pose["HandThumb3"] = (0.0, 0.0, t2[2] * 0.8)
    return pose


HAND_SHAPES: dict[str, Pose] = {
    "relaxed": _shape((15, 20, 25, 30), 4, ((40, 0, 0), (0, 0, 10))),
    "open": _shape((3, 3, 4, 5), 8, ((30, 0, -10), (0, 0, 0))),
    "point": _shape((2, 85, 88, 90), 0, ((55, 0, 15), (0, 0, 35))),
    "cup": _shape((35, 38, 40, 42), 5, ((50, 0, 15), (0, 0, 20))),
    "pinch": _shape((50, 60, 65, 70), 2, ((45, 0, 25), (0, 0, 30))),
}
"""Finger poses (right hand). Curl is about Z; BEAT's relaxed hands curl 20-30 degrees."""


@dataclass(frozen=True)
class Form:
    """One gesture form of a speaker's vocabulary (right-arm angles, degrees).

    Attributes:
        name: prototype name, e.g. ``"point_forward"``.
        kind: beat, deictic, iconic or metaphoric.
        ready: arm pose at the start of the stroke (after preparation).
        apex: arm pose at the stroke peak.
        shape: hand shape name in :data:`HAND_SHAPES`.
        hands: ``"one"`` or ``"both"``: the hands the form is usually made with.
    """

    name: str
    kind: Kind
    ready: Pose
    apex: Pose
    shape: str
    hands: Literal["one", "both"]


def _f(name: str, kind: Kind, ready: dict, apex: dict, shape: str, hands: str = "one") -> Form:
    base = {"Shoulder": (0.0, -8.0, 5.0), "Hand": (0.0, 0.0, 0.0)}
    r = {**base, **{k: tuple(map(float, v)) for k, v in ready.items()}}
    a = {**r, **{k: tuple(map(float, v)) for k, v in apex.items()}}
    return Form(name, kind, r, a, shape, hands)  # type: ignore[arg-type]


PROTOTYPES: tuple[Form, ...] = (
    _f("baton", "beat", {"Arm": (-15, 20, 75), "ForeArm": (0, 95, 0), "Hand": (-30, 0, -10)},
       {"ForeArm": (0, 70, 0), "Hand": (-30, 0, 15)}, "relaxed"),
    _f("chop", "beat", {"Arm": (-20, 15, 70), "ForeArm": (0, 100, 0), "Hand": (0, 0, -15)},
       {"ForeArm": (0, 75, 0), "Hand": (0, 0, 10)}, "open"),
    _f("flick", "beat", {"Arm": (-15, 25, 75), "ForeArm": (0, 85, 0), "Hand": (-50, 0, 0)},
       {"Arm": (-15, 35, 68), "Hand": (-70, 0, -15)}, "relaxed"),
    _f("point_forward", "deictic", {"Arm": (-30, 20, 68), "ForeArm": (0, 70, 0),
       "Hand": (-20, 0, 0)}, {"Arm": (-50, 20, 60), "ForeArm": (0, 30, 0)}, "point"),
    _f("point_side", "deictic", {"Arm": (-20, 30, 60), "ForeArm": (0, 60, 0)},
       {"Arm": (-20, 40, 40), "ForeArm": (0, 20, 0)}, "point"),
    _f("point_self", "deictic", {"Arm": (-15, 15, 78), "ForeArm": (0, 90, 0),
       "Hand": (-20, 0, 0)}, {"Arm": (-20, 5, 84), "ForeArm": (25, 105, 0),
       "Hand": (-40, 0, 10)}, "point"),
    _f("wide", "iconic", {"Arm": (-20, 25, 60), "ForeArm": (0, 75, 0), "Hand": (-60, 0, 0)},
       {"Arm": (-25, 30, 45), "ForeArm": (0, 60, 0)}, "open", "both"),
    _f("round", "iconic", {"Arm": (-20, 20, 70), "ForeArm": (0, 85, 0), "Hand": (-50, 0, 0)},
       {"Arm": (-30, 25, 64), "ForeArm": (20, 90, 0), "Hand": (-60, 0, 10)}, "cup", "both"),
    _f("tall", "iconic", {"Arm": (-40, 10, 72), "ForeArm": (0, 100, 0), "Hand": (-40, 0, 0)},
       {"Arm": (-70, 10, 70), "Hand": (-80, 0, 0)}, "open"),
    _f("pinch", "iconic", {"Arm": (-15, 15, 75), "ForeArm": (0, 90, 0), "Hand": (-20, 0, 0)},
       {"ForeArm": (15, 100, 0), "Hand": (-30, 0, -10)}, "pinch"),
    _f("present", "metaphoric", {"Arm": (-15, 20, 72), "ForeArm": (0, 80, 0),
       "Hand": (-60, 0, 0)}, {"Arm": (-25, 25, 65), "ForeArm": (0, 75, 0),
       "Hand": (-85, 0, 0)}, "open", "both"),
    _f("weigh", "metaphoric", {"Arm": (-20, 20, 70), "ForeArm": (0, 80, 0), "Hand": (-80, 0, 0)},
       {"ForeArm": (0, 100, 0), "Hand": (-85, 0, 10)}, "open", "both"),
    _f("sweep", "metaphoric", {"Arm": (-15, 15, 75), "ForeArm": (10, 80, 0), "Hand": (-30, 0, 0)},
       {"Arm": (-30, 40, 55), "ForeArm": (-10, 60, 0), "Hand": (-40, 0, 0)}, "open"),
)  # fmt: skip
"""Prototype forms; a speaker's vocabulary perturbs a subset of them."""


def speaker_vocabulary(rng: np.random.Generator, jitter_deg: float = 6.0) -> tuple[Form, ...]:
    """A speaker's own gesture forms: 2 of each kind, each perturbed once for this speaker.

    The same angle offset is added to the ready and apex pose of a form (Gaussian,
    ``jitter_deg`` std), so that the stroke's direction is kept and only its placement changes.
    """
    forms: list[Form] = []
    for kind in KINDS:
        protos = [f for f in PROTOTYPES if f.kind == kind]
        pick = rng.choice(len(protos), size=min(2, len(protos)), replace=False)
        for i in sorted(int(p) for p in pick):
            proto = protos[i]
            offset = {j: tuple(rng.normal(0.0, jitter_deg, 3)) for j in ("Arm", "ForeArm", "Hand")}

            def moved(pose: Pose, offset: dict = offset) -> Pose:
                return {
                    j: tuple(float(a + b) for a, b in zip(v, offset.get(j, (0, 0, 0)), strict=True))
                    for j, v in pose.items()
                }  # type: ignore[misc]

            forms.append(replace(proto, ready=moved(proto.ready), apex=moved(proto.apex)))
    return tuple(forms)


@dataclass(frozen=True)
class Stroke:
    """One planned gesture, times in seconds.

    ``start`` (preparation begins) < ``stroke_start`` (ready pose) < ``peak`` (apex, on the
    ``word`` onset) <= ``hold_end`` < ``end`` (back at rest unless the next gesture follows).
    ``level`` is BEAT's l/m/h grade of the gesture, from its ``amplitude`` (the fraction of the
    form's excursion from rest, 0.55-1.1 by default).
    """

    form: Form
    hand: Hand
    amplitude: float
    level: Literal["l", "m", "h"]
    start: float
    stroke_start: float
    peak: float
    hold_end: float
    end: float
    word: str

    @property
    def kind(self) -> Kind:
        return self.form.kind

    def arms(self) -> tuple[str, ...]:
        """The arms the stroke uses: ``("Right",)``, ``("Left",)`` or both."""
        return {"right": ("Right",), "left": ("Left",), "both": ("Right", "Left")}[self.hand]


@dataclass(frozen=True)
class GestureStyle:
    """How often and how a speaker gestures (drawn per speaker, see ``speakers.py``).

    Attributes:
        rate: probability that a stressed word gets a gesture when the hands are free.
        right_bias: probability of the right hand for a one-handed form.
        kind_follows_word: probability that the form's kind is the class the word invites
            (deictic/iconic/metaphoric words); otherwise the kind is drawn from ``kind_weights``.
        kind_weights: weights of beat, deictic, iconic, metaphoric for the other words.
        amplitude: (low, high) of the uniform stroke amplitude.
        hold: (low, high) of the post-stroke hold, seconds.
        stroke_time: (low, high) of the stroke phase, seconds.
        lead: mean of peak minus word onset, seconds (strokes slightly precede speech).
    """

    rate: float = 0.6
    right_bias: float = 0.6
    kind_follows_word: float = 0.7
    kind_weights: tuple[float, float, float, float] = (0.55, 0.15, 0.15, 0.15)
    amplitude: tuple[float, float] = (0.55, 1.1)
    hold: tuple[float, float] = (0.1, 0.5)
    stroke_time: tuple[float, float] = (0.15, 0.3)
    lead: float = -0.03


def _level(amplitude: float, low: float, high: float) -> Literal["l", "m", "h"]:
    """BEAT's low/medium/high grade: the third of the amplitude range the stroke falls in."""
    u = (amplitude - low) / max(high - low, 1e-9)
    return "l" if u < 1 / 3 else ("m" if u < 2 / 3 else "h")


def plan_strokes(
    words: tuple[SpokenWord, ...] | list[SpokenWord],
    duration: float,
    vocabulary: tuple[Form, ...],
    style: GestureStyle,
    rng: np.random.Generator,
) -> list[Stroke]:
    """Place gesture strokes on stressed words.

    Walks the stressed words in time order. For each, with probability ``style.rate`` it draws a
    form, hand, amplitude and phase durations; the stroke is kept when its preparation starts
    after the clip start and after the hands' previous hold, and its retraction ends before the
    clip end. The apex lands on the word onset plus a small lead (Gaussian, 40 ms std, clipped
    to +-0.15 s).
    """
    by_kind = {k: [f for f in vocabulary if f.kind == k] for k in KINDS}
    busy = {"Right": 0.0, "Left": 0.0}  # when each arm's last hold ends
    weights = np.asarray(style.kind_weights, dtype=float)
    strokes: list[Stroke] = []
    for word in words:
        if not word.stressed or rng.random() >= style.rate:
            continue
        if word.category != "other" and rng.random() < style.kind_follows_word:
            kind: Kind = word.category  # type: ignore[assignment]
        else:
            kind = KINDS[int(rng.choice(4, p=weights / weights.sum()))]
        forms = by_kind[kind] or list(vocabulary)
        form = forms[int(rng.integers(len(forms)))]
        if form.hands == "both" and rng.random() < 0.75:
            hand: Hand = "both"
        else:
            hand = "right" if rng.random() < style.right_bias else "left"
        amplitude = float(rng.uniform(*style.amplitude))
        stroke_time = float(rng.uniform(*style.stroke_time))
        prep = float(rng.uniform(0.3, 0.55))
        hold = float(rng.uniform(*style.hold))
        retract = float(rng.uniform(0.5, 0.9))
        lead = float(np.clip(rng.normal(style.lead, 0.04), -0.15, 0.15))
        peak = word.start + lead
        stroke = Stroke(
            form=form, hand=hand, amplitude=amplitude, level=_level(amplitude, *style.amplitude),
            start=peak - stroke_time - prep, stroke_start=peak - stroke_time, peak=peak,
            hold_end=peak + hold, end=peak + hold + retract, word=word.label,
        )  # fmt: skip
        if stroke.start < 0.05 or stroke.end > duration - 0.05:
            continue
        if any(busy[a] > stroke.start - 0.05 for a in stroke.arms()):
            continue
        for a in stroke.arms():
            busy[a] = stroke.hold_end
        strokes.append(stroke)
    return strokes
