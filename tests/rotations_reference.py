"""The hand-written numpy rotations adm used before scipy's ``Rotation`` replaced them.

Kept as the reference of the exactness tests in ``test_rotations.py``: the scipy-based
functions must give these outputs to float64 rounding (Rodrigues' formula, the per-axis Euler
product, Shepperd's quaternion and the atan2 geodesic angle).
"""

from __future__ import annotations

import numpy as np


def euler_to_matrix(angles_deg: np.ndarray, order: str = "XYZ") -> np.ndarray:
    """Euler degrees ``[..., 3]`` -> rotation matrices ``[..., 3, 3]`` (intrinsic, BVH):
    ``R = R_{order[0]} @ R_{order[1]} @ R_{order[2]}``, each factor a rotation about one axis
    (here by Rodrigues' formula on ``angle * axis``)."""
    rad = np.deg2rad(np.asarray(angles_deg, dtype=np.float64))
    factors = [
        axis_angle_to_matrix(rad[..., n, None] * np.eye(3)["XYZ".index(a)])
        for n, a in enumerate(order.upper())
    ]
    return factors[0] @ factors[1] @ factors[2]


def _skew(v: np.ndarray) -> np.ndarray:
    """``[..., 3] -> [..., 3, 3]`` cross-product matrix: ``skew(v) @ x == cross(v, x)``."""
    out = np.zeros((*v.shape[:-1], 3, 3))
    out[..., 0, 1] = -v[..., 2]
    out[..., 0, 2] = v[..., 1]
    out[..., 1, 0] = v[..., 2]
    out[..., 1, 2] = -v[..., 0]
    out[..., 2, 0] = -v[..., 1]
    out[..., 2, 1] = v[..., 0]
    return out


def axis_angle_to_matrix(aa: np.ndarray) -> np.ndarray:
    """Axis-angle ``[..., 3]`` (radians) -> ``[..., 3, 3]`` by Rodrigues' formula.

    ``R = I + A K + B K^2`` with ``K = skew(aa)``, ``A = sin(t)/t``, ``B = (1 - cos t)/t^2``
    written as ``2 sin^2(t/2)/t^2`` (no cancellation), and Taylor series below ``t = 1e-4``
    so that the identity is reached smoothly.
    """
    v = np.asarray(aa, dtype=np.float64)
    if v.shape[-1:] != (3,):
        raise ValueError(f"axis-angle needs a last dim of 3, got shape {v.shape}")
    t = np.linalg.norm(v, axis=-1)
    small = t < 1e-4
    ts = np.where(small, 1.0, t)
    t2 = t * t
    a = np.where(small, 1.0 - t2 / 6.0 + t2 * t2 / 120.0, np.sin(ts) / ts)
    b = np.where(small, 0.5 - t2 / 24.0 + t2 * t2 / 720.0, 2.0 * (np.sin(ts / 2) / ts) ** 2)
    kmat = _skew(v)
    return np.eye(3) + a[..., None, None] * kmat + b[..., None, None] * (kmat @ kmat)


def matrix_to_quaternion(matrix: np.ndarray) -> np.ndarray:
    """``[..., 3, 3]`` -> unit quaternions ``[..., 4]`` as ``(w, x, y, z)`` with ``w >= 0``.

    Shepperd's method: the quaternion component with the largest square (from the trace or a
    diagonal entry) is taken by a square root and the other three from the symmetric and
    antisymmetric off-diagonal sums, so no branch divides by a small number (stable at the
    identity and near a half turn, where the trace alone loses the axis).
    """
    r = np.asarray(matrix, dtype=np.float64)
    if r.shape[-2:] != (3, 3):
        raise ValueError(f"rotation matrices need trailing shape (3, 3), got {r.shape}")
    r00, r11, r22 = r[..., 0, 0], r[..., 1, 1], r[..., 2, 2]
    asym = (r[..., 2, 1] - r[..., 1, 2], r[..., 0, 2] - r[..., 2, 0], r[..., 1, 0] - r[..., 0, 1])
    sym01, sym02, sym12 = (
        r[..., 0, 1] + r[..., 1, 0],
        r[..., 0, 2] + r[..., 2, 0],
        r[..., 1, 2] + r[..., 2, 1],
    )
    diag = np.stack([r00 + r11 + r22, r00 - r11 - r22, r11 - r00 - r22, r22 - r00 - r11], -1)
    big = 0.5 * np.sqrt(np.maximum(1.0 + diag, 1e-300))  # |q_n| for each candidate n
    inv = 0.25 / big
    cands = np.stack(
        [
            np.stack(
                [big[..., 0], asym[0] * inv[..., 0], asym[1] * inv[..., 0], asym[2] * inv[..., 0]],
                -1,
            ),
            np.stack(
                [asym[0] * inv[..., 1], big[..., 1], sym01 * inv[..., 1], sym02 * inv[..., 1]], -1
            ),
            np.stack(
                [asym[1] * inv[..., 2], sym01 * inv[..., 2], big[..., 2], sym12 * inv[..., 2]], -1
            ),
            np.stack(
                [asym[2] * inv[..., 3], sym02 * inv[..., 3], sym12 * inv[..., 3], big[..., 3]], -1
            ),
        ],
        axis=-2,
    )  # [..., 4 candidates, 4]
    best = np.argmax(diag, axis=-1)[..., None, None]
    q = np.take_along_axis(cands, np.broadcast_to(best, (*best.shape[:-1], 4)), axis=-2)[..., 0, :]
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    return np.where(q[..., :1] < 0, -q, q)


def matrix_to_axis_angle(matrix: np.ndarray) -> np.ndarray:
    """``[..., 3, 3]`` -> axis-angle ``[..., 3]`` with angle in ``[0, pi]``.

    Goes through the Shepperd quaternion (diagonal method) and ``angle = 2 atan2(|v|, w)``,
    which is accurate at every angle, unlike ``acos((tr - 1) / 2)`` near 0 and pi.
    """
    q = matrix_to_quaternion(matrix)
    w, v = q[..., 0], q[..., 1:]
    sin_half = np.linalg.norm(v, axis=-1)
    angle = 2.0 * np.arctan2(sin_half, w)
    # angle / sin_half -> 2 / w as the rotation vanishes (w -> 1).
    tiny = sin_half < 1e-12
    scale = np.where(tiny, 2.0 / np.maximum(w, 0.5), angle / np.where(tiny, 1.0, sin_half))
    return v * scale[..., None]


def rotation_angle_between(r1: np.ndarray, r2: np.ndarray) -> np.ndarray:
    """Geodesic distance ``[...]`` in radians (``[0, pi]``) between ``[..., 3, 3]`` rotations.

    The angle of ``M = R1^T R2`` as ``atan2(|vee(M - M^T)| / 2, (tr M - 1) / 2)``: both
    arguments are accurate in absolute terms, so small and near-half-turn angles are exact.
    """
    m = np.swapaxes(np.asarray(r1, dtype=np.float64), -1, -2) @ np.asarray(r2, dtype=np.float64)
    vee = np.stack(
        [m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]],
        axis=-1,
    )
    sin_t = 0.5 * np.linalg.norm(vee, axis=-1)
    cos_t = 0.5 * (m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2] - 1.0)
    return np.arctan2(sin_t, cos_t)
