"""The gesture metrics that need no feature network, for one stream of motion.

Both the generated samples (:mod:`adm.evaluation.gesture`) and the test set's own ground
truth (:mod:`adm.evaluation.reference`, the tables' ground-truth row) are scored by this one
class, so the two rows are computed the same way:

- ``l1div``: L1 diversity of the axis-angle gestures (radians), whole clips (our form);
- ``l1div_beat``: BEAT's test form, Euler degrees of the 47 joints decimated to 15 fps, windows
  of 34 frames every 10 (:mod:`adm.metrics.diversity`); the Euler angles are taken on the
  ground truth's unwrapped branch (the curves BEAT's models generate and its data hold);
- ``beat_align`` (the configured form, BEAT's by default) and the other form, from the audio
  beats remembered per clip;
- ``srgr`` against the clip's ground-truth Euler angles and semantic scores. With
  ``srgr_align_branch`` the generated triples are compared on the ground truth's branch, else
  on the principal branch (BEAT's raw comparison).
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

from adm.evaluation.config import EvalConfig
from adm.evaluation.inputs import TestClip
from adm.metrics.beat_align import BeatAlign
from adm.metrics.diversity import L1Div
from adm.metrics.srgr import SRGR, gen_euler_from_axis_angle
from adm.rotations import axis_angle_to_euler

#: The two Beat Align forms (``compat`` None / "beat") and their names for audio beats.
BEAT_FORMS = ("corrected", "beat")


def other_beat_align_name(cfg: EvalConfig) -> str:
    """The metric key of the Beat Align form that is not the configured one."""
    return "beat_align_corrected" if cfg.beat_align_compat == "beat" else "beat_align_beat"


def configured(canonical: dict[str, float | None], cfg: EvalConfig) -> dict[str, float | None]:
    """Canonical motion values renamed as the metrics file names them: the configured Beat
    Align form is ``beat_align``, the other keeps its own name."""
    out = {k: v for k, v in canonical.items() if not k.startswith("beat_align_")}
    configured_form = "beat" if cfg.beat_align_compat == "beat" else "corrected"
    out["beat_align"] = canonical[f"beat_align_{configured_form}"]
    other = other_beat_align_name(cfg)
    out[other] = canonical[other]
    return out


class MotionScores:
    """``update(clip, gesture [T, 141])`` per clip, then ``values()``.

    Args:
        cfg: the evaluation settings.
        beats: audio beat times per form (:data:`BEAT_FORMS`) and clip stem, in seconds.
    """

    def __init__(self, cfg: EvalConfig, beats: dict[str, dict[str, np.ndarray]]):
        self.cfg = cfg
        self.l1div = L1Div()
        self.l1div_beat = L1Div("beat")
        other = None if cfg.beat_align_compat == "beat" else "beat"
        self.other_name = other_beat_align_name(cfg)
        options = {"sigma": cfg.beat_align_sigma, "trim_seconds": cfg.beat_align_trim_seconds}
        self.align = BeatAlign(compat=cfg.beat_align_compat, **options)
        self.align_other = BeatAlign(compat=other, **options)
        self.beats = beats
        self.srgr = SRGR(threshold=cfg.srgr_threshold, align_branch=False)
        self.timing: dict[str, float] = defaultdict(float)

    def _timed(self, name: str, fn):
        start = time.perf_counter()
        out = fn()
        self.timing[name] += time.perf_counter() - start
        return out

    def update(self, clip: TestClip, gesture: np.ndarray, euler: np.ndarray | None = None) -> None:
        """Score one clip's ``gesture [T, 141]`` (axis-angle radians); ``euler [T, 141]`` is
        its Euler degrees on the ground truth's branch when already known (the ground truth's
        own), else converted here."""
        aa = np.asarray(gesture, dtype=np.float64)
        if euler is None:
            euler = self._timed(
                "srgr", lambda: gen_euler_from_axis_angle(aa, clip.gesture_euler).reshape(aa.shape)
            )
        euler = np.asarray(euler, dtype=np.float64).reshape(len(aa), -1)
        self._timed("l1div", lambda: self.l1div.update(aa))
        self._timed("l1div", lambda: self.l1div_beat.update(euler, clip.fps))
        for acc in (self.align, self.align_other):
            form = "beat" if acc.compat else "corrected"
            acc.remember(clip.stem, self.beats[form][clip.stem])
            self._timed(
                "beat_align",
                lambda a=acc: a.update(None, self.cfg.audio_rate, aa, clip.fps, clip.stem),
            )
        if self.cfg.srgr_align_branch:
            compared = euler
        else:
            compared = axis_angle_to_euler(aa.reshape(len(aa), -1, 3)).reshape(aa.shape)
        self._timed("srgr", lambda: self.srgr.update(compared, clip.gesture_euler, clip.semantic))

    @staticmethod
    def _align_value(acc: BeatAlign) -> float | None:
        # None when no clip kept an audio beat (all shorter than the trim, or silent).
        return acc.compute() if acc.scores else None

    def canonical(self) -> dict[str, float | None]:
        """Every value under a name that does not depend on the settings: ``l1div``,
        ``l1div_beat`` (None when no clip holds one 15-fps window), ``beat_align_beat``,
        ``beat_align_corrected`` and ``srgr`` (what the reference stores)."""
        forms = {acc.compat: self._align_value(acc) for acc in (self.align, self.align_other)}
        return {
            "l1div": self.l1div.compute(),
            "l1div_beat": self.l1div_beat.compute() if self.l1div_beat.frames else None,
            "beat_align_beat": forms["beat"],
            "beat_align_corrected": forms[None],
            "srgr": self.srgr.compute(),
        }

    def values(self) -> dict[str, float | None]:
        """:meth:`canonical` under the metrics file's names (:func:`configured`)."""
        return configured(self.canonical(), self.cfg)

    def counts(self) -> dict[str, int]:
        return {
            "beat_align_scored": len(self.align.scores),
            "beat_align_skipped": self.align.skipped,
            "l1div_beat_frames": self.l1div_beat.frames,
        }
