"""Facial blendshapes of one take, determined by the speech (BEAT's 51 ARKit weights, 60 fps).

The mouth follows the phones: each phone sets viseme targets (``visemes.py``) at its core (its
centre, or 30% and 70% into phones longer than 80 ms), silences relax the mouth to neutral, and
the targets are joined linearly and smoothed by a short Gaussian kernel, a simple form of the
coarticulation models of lip-sync animation (Cohen and Massaro 1993: neighbouring targets blend
by overlapping dominance). The brows rise (browInnerUp, browOuterUp) on pitch accents, here the
stressed words, as eyebrow raises co-occur with prosodic prominence (Cavé et al. 1996); the gaze
turns a little at each phrase. Everything so far is a function of the word and phone timings, so
the same speech always gives the same face. Blinks are the only random part (a separate RNG).
Weights lie in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from adm.data.face import ARKIT_NAMES
from adm.data.synth.speech import SpokenPhone, SpokenWord
from adm.data.synth.visemes import viseme_target

_COL = {name: i for i, name in enumerate(ARKIT_NAMES)}


@dataclass(frozen=True)
class FaceStyle:
    """A speaker's facial habits.

    Attributes:
        jaw_gain: scales the jaw opening of every viseme.
        lip_gain: scales the other mouth shapes.
        smile: resting smile (mouthSmileLeft/Right), 0-0.2.
        brow: height of a brow raise on a stressed word, 0-0.6.
        coarticulation: std of the smoothing kernel, seconds.
        blink_interval: (low, high) seconds between blinks (people blink every 2-6 s).
    """

    jaw_gain: float = 1.0
    lip_gain: float = 1.0
    smile: float = 0.05
    brow: float = 0.35
    coarticulation: float = 0.025
    blink_interval: tuple[float, float] = (2.0, 5.0)


def _mouth(phones: tuple[SpokenPhone, ...], t: np.ndarray, style: FaceStyle) -> np.ndarray:
    """Mouth weights [T, 51] from phone targets, neutral in silence, smoothed."""
    knots: list[tuple[float, dict[str, float]]] = [(0.0, {})]
    prev_end = 0.0
    for ph in phones:
        if ph.start - prev_end > 0.06:  # a pause: relax to neutral inside it
            knots += [(prev_end + 0.03, {}), (ph.start - 0.03, {})]
        target = viseme_target(ph.label)
        dur = ph.end - ph.start
        if dur > 0.08:
            knots += [(ph.start + 0.3 * dur, target), (ph.start + 0.7 * dur, target)]
        else:
            knots.append((0.5 * (ph.start + ph.end), target))
        prev_end = ph.end
    knots.append((prev_end + 0.03, {}))
    knots.append((max(float(t[-1]) if len(t) else 0.0, prev_end + 0.06), {}))
    times = np.array([k for k, _ in knots])
    out = np.zeros((len(t), len(ARKIT_NAMES)))
    names = sorted({n for _, tg in knots for n in tg})
    fps = 1.0 / (t[1] - t[0]) if len(t) > 1 else 60.0
    for name in names:
        vals = np.array([tg.get(name, 0.0) for _, tg in knots])
        gain = style.jaw_gain if name == "jawOpen" else style.lip_gain
        curve = np.interp(t, times, vals) * gain
        out[:, _COL[name]] = gaussian_filter1d(curve, style.coarticulation * fps, mode="nearest")
    return out


def _bump(t: np.ndarray, centre: float, width: float) -> np.ndarray:
    """Raised-cosine bump of total ``width`` seconds, 1 at ``centre``."""
    u = np.clip((t - centre) / (0.5 * width), -1.0, 1.0)
    return 0.5 * (1.0 + np.cos(np.pi * u))


def _phrase_starts(words: tuple[SpokenWord, ...], gap: float = 0.2) -> list[float]:
    starts = []
    prev_end = -np.inf
    for w in words:
        if w.start - prev_end > gap:
            starts.append(w.start)
        prev_end = w.end
    return starts


def face_weights(
    phones: tuple[SpokenPhone, ...],
    words: tuple[SpokenWord, ...],
    duration: float,
    style: FaceStyle,
    blink_rng: np.random.Generator,
    fps: float = 60.0,
) -> np.ndarray:
    """ARKit weights ``[round(duration * fps), 51]`` float32 in :data:`ARKIT_NAMES` order.

    Args:
        phones, words: the take's timed phones and words (seconds).
        duration: clip length, seconds.
        style: the speaker's facial habits.
        blink_rng: draws blink times and depths; nothing else is random.
    """
    n = int(round(duration * fps))
    t = np.arange(n) / fps
    w = _mouth(phones, t, style)
    # resting expression
    w[:, _COL["mouthSmileLeft"]] += style.smile
    w[:, _COL["mouthSmileRight"]] += style.smile
    # brow raises on stressed words, peaking shortly after the stressed vowel's onset
    brow = np.zeros(n)
    for word in words:
        if word.stressed:
            gain = 1.0 if word.category != "other" else 0.6
            brow = np.maximum(brow, gain * _bump(t, word.accent + 0.05, 0.5))
    w[:, _COL["browInnerUp"]] += 0.8 * style.brow * brow
    w[:, _COL["browOuterUpLeft"]] += style.brow * brow
    w[:, _COL["browOuterUpRight"]] += style.brow * brow
    # gaze: alternate a small look to each side at every phrase start, eased in over 0.3 s
    gaze = np.zeros(n)
    for k, start in enumerate(_phrase_starts(words)):
        side = 1.0 if k % 2 == 0 else -1.0
        gaze += side * 0.15 * np.clip((t - start) / 0.3, 0.0, 1.0) * (1.0 if k == 0 else 2.0)
    right, left = np.clip(gaze, 0, None), np.clip(-gaze, 0, None)
    w[:, _COL["eyeLookOutRight"]] += right
    w[:, _COL["eyeLookInLeft"]] += right
    w[:, _COL["eyeLookOutLeft"]] += left
    w[:, _COL["eyeLookInRight"]] += left
    # blinks: 60 ms closing, 120 ms opening, every 2-5 s
    blink = np.zeros(n)
    tb = float(blink_rng.uniform(0.3, style.blink_interval[0]))
    while tb < duration:
        depth = float(blink_rng.uniform(0.8, 1.0))
        closing = np.clip((t - (tb - 0.06)) / 0.06, 0.0, 1.0)
        opening = np.clip(1.0 - (t - tb) / 0.12, 0.0, 1.0)
        blink = np.maximum(blink, depth * np.where(t < tb, closing, opening))
        tb += float(blink_rng.uniform(*style.blink_interval))
    for name in ("eyeBlinkLeft", "eyeBlinkRight"):
        w[:, _COL[name]] += blink
    for name in ("eyeSquintLeft", "eyeSquintRight"):
        w[:, _COL[name]] += 0.15 * blink
    return np.clip(w, 0.0, 1.0).astype(np.float32)
