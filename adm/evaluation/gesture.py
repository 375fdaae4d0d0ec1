"""Gesture metrics of one generated test set, accumulated clip by clip (metrics.md).

The ground-truth half of each metric comes from the test set's
:class:`~adm.evaluation.reference.GestureReference` (computed once per test set); this
evaluator handles the generated side:

- **FGD**: windows of ``L`` (the autoencoder's length) at stride 10 of the *normalised*
  generated gestures, encoded to ``mu``, pooled; Fréchet distance to the ground-truth
  features' mean and covariance.
- **diversity**: mean pairwise distance of the generated window features, z-normalised by the
  ground-truth features (Li et al. 2021); ``l1div``: BEAT's L1 diversity of the denormalised
  (raw axis-angle) generated gestures. The reference's values for the ground truth itself
  (``*_ground_truth``) are recorded beside them as what a model should approach.
- **Beat Align**: the clip's audio beats (from the reference) against the speed minima of the
  generated axis-angle gestures (the model's own representation; the minima do not depend on
  the unit). Both forms are computed per clip: the configured one (``beat_align``, BEAT's
  ``compat`` by default) and the other (``beat_align_corrected`` or ``beat_align_beat``).
- **SRGR**: generated axis-angle converted to Euler degrees on the ground truth's (unwrapped)
  branch (:func:`adm.metrics.srgr.gen_euler_from_axis_angle`), compared with the prepared
  clip's ``gesture_euler`` and weighted by its ``semantic`` scores; frame-weighted over clips.
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

from adm.data.normalization import NormStats
from adm.evaluation.config import EvalConfig
from adm.evaluation.inputs import TestClip
from adm.evaluation.reference import GestureReference, encode
from adm.metrics import (
    SRGR,
    BeatAlign,
    L1Div,
    MotionAutoencoder,
    diversity_from_stats,
    feature_stats,
    frechet_from_stats,
    gen_euler_from_axis_angle,
)


class TooFewWindows(ValueError):
    """The test set is too short for a metric's feature windows."""


class GestureEvaluator:
    """``update(clip, gesture [T, 141])`` per test clip, then ``compute()``."""

    def __init__(
        self,
        encoder: MotionAutoencoder,
        norm: NormStats,
        cfg: EvalConfig,
        reference: GestureReference,
    ):
        self.encoder = encoder
        self.norm = norm
        self.cfg = cfg
        self.reference = reference
        self.features: list[np.ndarray] = []
        self.l1div = L1Div()
        other = None if cfg.beat_align_compat == "beat" else "beat"
        self.other_name = "beat_align_corrected" if other is None else "beat_align_beat"
        options = {"sigma": cfg.beat_align_sigma, "trim_seconds": cfg.beat_align_trim_seconds}
        self.align = BeatAlign(compat=cfg.beat_align_compat, **options)
        self.align_other = BeatAlign(compat=other, **options)
        for acc in (self.align, self.align_other):
            for stem, times in reference.beats["beat" if acc.compat else "corrected"].items():
                acc.remember(stem, times)
        self.srgr = SRGR(threshold=cfg.srgr_threshold, align_branch=cfg.srgr_align_branch)
        self.timing: dict[str, float] = defaultdict(float)

    def _timed(self, name: str, fn):
        start = time.perf_counter()
        out = fn()
        self.timing[name] += time.perf_counter() - start
        return out

    def update(self, clip: TestClip, gesture: np.ndarray) -> None:
        """Score one clip: ``gesture [T, 141]`` generated axis-angle (radians)."""
        gen = np.asarray(gesture, dtype=np.float64)
        stride = self.cfg.fgd_stride
        x = self.norm.normalize("gesture", gen)
        self.features.append(self._timed("fgd", lambda: encode(self.encoder, x, stride)))
        self._timed("l1div", lambda: self.l1div.update(gen))
        rate = self.cfg.audio_rate
        # The clip's audio beats are in the reference: no audio is needed here.
        for acc in (self.align, self.align_other):
            self._timed("beat_align", lambda a=acc: a.update(None, rate, gen, clip.fps, clip.stem))
        self._timed(
            "srgr",
            lambda: self.srgr.update(
                gen_euler_from_axis_angle(gen, clip.gesture_euler),
                clip.gesture_euler,
                clip.semantic,
            ),
        )

    @staticmethod
    def _align_value(acc: BeatAlign) -> float | None:
        # None when no clip kept an audio beat (all shorter than the trim, or silent).
        return acc.compute() if acc.scores else None

    def compute(self) -> tuple[dict[str, float | None], dict[str, int]]:
        """``(metrics, counts)`` over every clip seen.

        Raises:
            TooFewWindows: fewer than 2 generated FGD windows.
        """
        gen = np.concatenate(self.features) if self.features else np.zeros((0, 300))
        if len(gen) < 2:
            raise TooFewWindows(
                f"the test clips give {len(gen)} FGD window(s) of {self.encoder.length} "
                "frames; FGD and diversity need at least 2"
            )
        ref = self.reference

        def fgd() -> float:
            mean, cov = feature_stats(gen, name="generated FGD features")
            return frechet_from_stats(mean, cov, ref.mean, ref.cov)

        metrics = {
            "fgd": self._timed("fgd", fgd),
            "diversity": self._timed(
                "diversity", lambda: diversity_from_stats(gen, ref.mean, ref.std)
            ),
            "diversity_ground_truth": ref.diversity,
            "l1div": self.l1div.compute(),
            "l1div_ground_truth": ref.l1div,
            "beat_align": self._align_value(self.align),
            self.other_name: self._align_value(self.align_other),
            "srgr": self.srgr.compute(),
        }
        counts = {
            "fgd_windows": len(gen),
            "beat_align_scored": len(self.align.scores),
            "beat_align_skipped": self.align.skipped,
        }
        return metrics, counts
