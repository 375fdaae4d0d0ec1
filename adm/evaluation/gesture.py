"""Gesture metrics of one generated test set, accumulated clip by clip (metrics.md).

The ground-truth half of each metric comes from the test set's
:class:`~adm.evaluation.reference.GestureReference` (computed once per test set); this
evaluator handles the generated side:

- **FGD**: windows of ``L`` (the autoencoder's length) at stride 10 of the *normalised*
  generated gestures, encoded to ``mu``, pooled; Fréchet distance to the ground-truth
  features' mean and covariance.
- **diversity**: mean pairwise distance of the generated window features, z-normalised by the
  ground-truth features (Li et al. 2021).
- **L1Div** (two forms), **Beat Align** (two forms) and **SRGR**: the motion-only metrics of
  :class:`~adm.evaluation.motion_scores.MotionScores`, against the clip's audio beats (from the
  reference), Euler angles and semantic scores.

The reference's values for the ground truth itself (diversity, both L1Div forms, both Beat
Align forms, SRGR against itself) are recorded beside ours as ``<metric>_ground_truth``: what
real motion scores on this test set.
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

from adm.data.normalization import NormStats
from adm.evaluation.config import EvalConfig
from adm.evaluation.inputs import TestClip
from adm.evaluation.motion_scores import MotionScores, configured
from adm.evaluation.reference import GestureReference, encode
from adm.metrics.diversity import diversity_from_stats
from adm.metrics.frechet import feature_stats, frechet_from_stats
from adm.metrics.motion_autoencoder import MotionAutoencoder


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
        self.motion = MotionScores(cfg, reference.beats)
        self.timing: dict[str, float] = defaultdict(float)

    def update(self, clip: TestClip, gesture: np.ndarray) -> None:
        """Score one clip: ``gesture [T, 141]`` generated axis-angle (radians)."""
        gen = np.asarray(gesture, dtype=np.float64)
        start = time.perf_counter()
        x = self.norm.normalize("gesture", gen)
        self.features.append(encode(self.encoder, x, self.cfg.fgd_stride))
        self.timing["fgd"] += time.perf_counter() - start
        self.motion.update(clip, gen)

    def compute(self) -> tuple[dict[str, float | None], dict[str, int]]:
        """``(metrics, counts)`` over every clip seen; the ground truth's own values (from the
        reference) are recorded beside ours as ``<metric>_ground_truth``.

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
        start = time.perf_counter()
        mean, cov = feature_stats(gen, name="generated FGD features")
        fgd = frechet_from_stats(mean, cov, ref.mean, ref.cov)
        self.timing["fgd"] += time.perf_counter() - start
        start = time.perf_counter()
        diversity = diversity_from_stats(gen, ref.mean, ref.std)
        self.timing["diversity"] += time.perf_counter() - start
        metrics: dict[str, float | None] = {"fgd": fgd, "diversity": diversity}
        metrics.update(self.motion.values())
        metrics["diversity_ground_truth"] = ref.diversity
        truth = configured(ref.motion, self.cfg)
        metrics.update({f"{k}_ground_truth": v for k, v in truth.items()})
        for name, seconds in self.motion.timing.items():
            self.timing[name] += seconds
        counts = {"fgd_windows": len(gen), **self.motion.counts()}
        return metrics, counts
