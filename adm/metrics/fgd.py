"""FGD (Fréchet Gesture Distance; Yoon et al. 2020, BEAT/CaMN, EMAGE).

metrics.md: cut every generated and every ground-truth test sequence (normalised gestures
``[T, D]``) into windows of ``L`` frames with stride 10, encode each window with the motion
autoencoder (feature = ``mu``, 300-d), pool the features over the whole test set, and take the
Fréchet distance between the generated pool and the ground-truth pool.
"""

from __future__ import annotations

import numpy as np

from adm.metrics.frechet import frechet_distance
from adm.metrics.motion_autoencoder import MotionAutoencoder


def fgd(gen_features: np.ndarray, gt_features: np.ndarray) -> float:
    """Fréchet distance between pooled features ``gen [n, 300]`` and ``gt [m, 300]``."""
    return frechet_distance(gen_features, gt_features)


class FGD:
    """Accumulates window features of (generated, ground-truth) sequence pairs; EMAGE habit.

    Args:
        encoder: the FGD autoencoder (its ``length`` is the window length ``L``).
        stride: frames between window starts (metrics.md: 10).

    ``update(gen [T, D], gt [T', D])`` encodes both normalised sequences; ``compute()`` is
    the FGD of everything seen. ``gen_features`` / ``gt_features`` (``[n, 300]``) feed
    :func:`adm.metrics.diversity.diversity`.
    """

    def __init__(self, encoder: MotionAutoencoder, stride: int = 10):
        self.encoder = encoder
        self.length = encoder.length
        self.stride = stride
        self._gen: list[np.ndarray] = []
        self._gt: list[np.ndarray] = []

    def _encode(self, x: np.ndarray) -> np.ndarray:
        return self.encoder.encode_sequence(x, self.stride).cpu().numpy().astype(np.float64)

    def update(self, gen: np.ndarray, gt: np.ndarray) -> None:
        self._gen.append(self._encode(gen))
        self._gt.append(self._encode(gt))

    @property
    def gen_features(self) -> np.ndarray:
        return np.concatenate(self._gen) if self._gen else np.zeros((0, 300))

    @property
    def gt_features(self) -> np.ndarray:
        return np.concatenate(self._gt) if self._gt else np.zeros((0, 300))

    def compute(self) -> float:
        return fgd(self.gen_features, self.gt_features)
