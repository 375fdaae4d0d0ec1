"""Face metrics of one generated test set (metrics.md; SAiD's FD and WInD).

- **FD** and **WInD**: every window (stride 1) of the generated blendshape weights (raw, in
  ``[0, 1]``, as the VAE is trained) encoded to the face VAE's ``mu``; Fréchet distance to the
  ground-truth latents' mean and covariance, and WInD over mixture seeds 0..9 against the
  ground-truth mixtures of the same seeds (both from the test set's
  :class:`~adm.evaluation.reference.FaceReference`). The metrics hold WInD's mean and sample
  std; :attr:`FaceEvaluator.details` holds every repeat's seed and score and each fit's
  iterations and convergence (the metrics file's ``wind`` section): the score is heavy tailed,
  so the spread is part of the result.
- **jawOpen Pearson r** between generated and ground-truth jawOpen curves: ``jaw_open_r``
  pools the frames of all test clips into one pair of curves; ``jaw_open_r_clip_mean`` is the
  mean of the per-clip r. A constant curve (e.g. the mean-pose baseline) has no r: such clips
  are left out of the per-clip mean (``jaw_open_r_clips`` counts those kept) and a value that
  is undefined everywhere is recorded as null.
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

from adm.evaluation.config import EvalConfig
from adm.evaluation.gesture import TooFewWindows
from adm.evaluation.inputs import TestClip
from adm.evaluation.reference import FaceReference, encode
from adm.metrics.face_distance import wind
from adm.metrics.face_vae import FaceVAE
from adm.metrics.frechet import feature_stats, frechet_from_stats

JAW_OPEN = "jawOpen"


def pearson_r(a: np.ndarray, b: np.ndarray) -> float | None:
    """Pearson correlation of two curves ``[T]``; None when either is constant or ``T < 2``."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if len(a) != len(b):
        raise ValueError(f"curves differ in length: {len(a)} and {len(b)}")
    if len(a) < 2:
        return None
    da, db = a - a.mean(), b - b.mean()
    norm = np.sqrt((da @ da) * (db @ db))
    if norm <= 1e-12 * max(1.0, len(a)):
        return None
    return float(np.clip((da @ db) / norm, -1.0, 1.0))


class FaceEvaluator:
    """``update(clip, face [T, 51])`` per test clip, then ``compute()``."""

    def __init__(self, vae: FaceVAE, cfg: EvalConfig, reference: FaceReference):
        self.vae = vae
        self.cfg = cfg
        self.reference = reference
        self.latents: list[np.ndarray] = []
        self.jaw_gen: list[np.ndarray] = []
        self.jaw_gt: list[np.ndarray] = []
        self.clip_r: list[float] = []
        self.timing: dict[str, float] = defaultdict(float)
        self.details: dict[str, dict] = {}

    def update(self, clip: TestClip, face: np.ndarray) -> None:
        """Score one clip: ``face [T, 51]`` generated weights in ARKit order."""
        gen = np.asarray(face, dtype=np.float64)
        start = time.perf_counter()
        self.latents.append(encode(self.vae, gen, self.cfg.face_stride))
        self.timing["fd"] += time.perf_counter() - start
        jaw = clip.face_names.index(JAW_OPEN)
        self.jaw_gen.append(gen[:, jaw])
        self.jaw_gt.append(clip.face[:, jaw])
        r = pearson_r(gen[:, jaw], clip.face[:, jaw])
        if r is not None:
            self.clip_r.append(r)

    def compute(self) -> tuple[dict[str, float | None], dict[str, int]]:
        """``(metrics, counts)`` over every clip seen.

        Raises:
            TooFewWindows: fewer generated latent windows than WInD's mixture has components
                (or < 2).
        """
        gen = np.concatenate(self.latents) if self.latents else np.zeros((0, 64))
        need = max(2, self.cfg.wind_components)
        if len(gen) < need:
            raise TooFewWindows(
                f"the test clips give {len(gen)} face window(s) of {self.vae.length} frames; "
                f"FD and WInD need at least {need}"
            )
        ref = self.reference
        start = time.perf_counter()
        mean, cov = feature_stats(gen, name="generated face latents")
        fd = frechet_from_stats(mean, cov, ref.mean, ref.cov)
        self.timing["fd"] += time.perf_counter() - start
        start = time.perf_counter()
        result = wind(
            gen,
            ref.mixtures,
            components=self.cfg.wind_components,
            repeats=self.cfg.wind_repeats,
            seed=self.cfg.wind_seed,
            method=self.cfg.wind_method,
        )
        self.timing["wind"] += time.perf_counter() - start
        self.details["wind"] = {"method": self.cfg.wind_method, **result.record()}
        metrics = {
            "fd": fd,
            "wind": result.mean,
            "wind_std": result.std,
            "jaw_open_r": pearson_r(np.concatenate(self.jaw_gen), np.concatenate(self.jaw_gt)),
            "jaw_open_r_clip_mean": float(np.mean(self.clip_r)) if self.clip_r else None,
        }
        counts = {"face_windows": len(gen), "jaw_open_r_clips": len(self.clip_r)}
        return metrics, counts
