"""SRGR, Semantic-Relevant Gesture Recall (BEAT/CaMN, Liu et al. 2022).

On Euler degrees of the 47 gesture joints: joint ``j`` succeeds at frame ``t`` when
``sum_xyz |gen - gt| < threshold`` (4 degrees); each frame is weighted by
``w_t = sem_t / 0.165`` where ``sem_t`` is the semantic score of the annotation interval that
contains the frame (0 if none; 0.165 rescales BEAT's mean score so that a perfect recall on
annotated frames lands near 1), and

    SRGR = sum_{t,j} success_tj * w_t / (T * J).

Sequences are pooled by a frame-weighted mean (:class:`SRGR`).

Wrapping: BEAT's ground-truth Euler angles are unwrapped (a forearm reaches +-746 degrees),
while our model generates axis-angle. Generated rotations are therefore compared as Euler
triples on the ground truth's branch: :func:`gen_euler_from_axis_angle` converts axis-angle to
Euler and picks, per frame and joint, the equivalent triple nearest the ground truth
(:func:`adm.rotations.euler_near`: both Tait-Bryan solutions, each angle +- 360 k). ``srgr``
applies the same branch alignment to Euler inputs (``align_branch=True``), so a generated
angle that differs from the ground truth by whole turns is not counted as a miss; with
``align_branch=False`` it compares the raw numbers, as BEAT's code does.
"""

from __future__ import annotations

import numpy as np

from adm.metrics.finite import require_finite
from adm.rotations import axis_angle_to_euler, euler_near


def _joints3(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2 and x.shape[1] % 3 == 0:
        x = x.reshape(len(x), -1, 3)
    if x.ndim != 3 or x.shape[2] != 3:
        raise ValueError(f"{name} must be [T, J, 3] or [T, J*3], got shape {x.shape}")
    return x


def gen_euler_from_axis_angle(
    gen_axis_angle: np.ndarray, gt_euler: np.ndarray, order: str = "XYZ"
) -> np.ndarray:
    """Generated axis-angle ``[T, J, 3]`` (radians) -> Euler degrees ``[T, J, 3]`` on the
    ground truth's (unwrapped) branch; ``[T, J*3]`` inputs are accepted."""
    aa = _joints3(gen_axis_angle, "generated axis-angle")
    gt = _joints3(gt_euler, "ground-truth Euler")
    if aa.shape != gt.shape:
        raise ValueError(f"shapes differ: generated {aa.shape}, ground truth {gt.shape}")
    return euler_near(axis_angle_to_euler(aa, order), gt, order)


def srgr(
    gen_euler: np.ndarray,
    gt_euler: np.ndarray,
    semantic: np.ndarray,
    *,
    threshold: float = 4.0,
    norm: float = 0.165,
    align_branch: bool = True,
    order: str = "XYZ",
) -> float:
    """SRGR of one sequence.

    Args:
        gen_euler: generated Euler degrees ``[T, J, 3]`` (or ``[T, J*3]``).
        gt_euler: ground-truth Euler degrees, same shape.
        semantic: ``[T]`` semantic score of each frame (0 outside annotations).
        threshold: success when the L1 error of a joint's triple is below it (degrees).
        norm: frame weight is ``semantic / norm``.
        align_branch: move generated triples to the ground truth's Euler branch first.
    """
    gen = _joints3(gen_euler, "generated Euler")
    gt = _joints3(gt_euler, "ground-truth Euler")
    sem = np.asarray(semantic, dtype=np.float64).ravel()
    if gen.shape != gt.shape or len(sem) != len(gt):
        raise ValueError(
            f"SRGR shapes disagree: generated {gen.shape}, ground truth {gt.shape}, "
            f"semantic {sem.shape}"
        )
    if len(gt) == 0:
        raise ValueError("SRGR of an empty sequence")
    require_finite(gen, "SRGR generated Euler angles")
    require_finite(gt, "SRGR ground-truth Euler angles")
    require_finite(sem, "SRGR semantic scores")
    if align_branch:
        gen = euler_near(gen, gt, order)
    success = (np.abs(gen - gt).sum(axis=-1) < threshold).astype(np.float64)  # [T, J]
    weighted = success * (sem / norm)[:, None]
    return float(weighted.sum() / success.size)


class SRGR:
    """Frame-weighted mean of per-sequence SRGR: ``update(gen, gt, semantic)``, ``compute()``.

    Options are those of :func:`srgr`.
    """

    def __init__(
        self,
        *,
        threshold: float = 4.0,
        norm: float = 0.165,
        align_branch: bool = True,
        order: str = "XYZ",
    ):
        self.threshold = threshold
        self.norm = norm
        self.align_branch = align_branch
        self.order = order
        self.weighted = 0.0
        self.frames = 0

    def update(self, gen_euler: np.ndarray, gt_euler: np.ndarray, semantic: np.ndarray) -> float:
        rate = srgr(
            gen_euler,
            gt_euler,
            semantic,
            threshold=self.threshold,
            norm=self.norm,
            align_branch=self.align_branch,
            order=self.order,
        )
        frames = len(np.asarray(semantic).ravel())
        self.weighted += rate * frames
        self.frames += frames
        return rate

    def compute(self) -> float:
        if self.frames == 0:
            raise ValueError("SRGR: no frames seen")
        return self.weighted / self.frames
