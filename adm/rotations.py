"""Rotation conversions: Euler (BVH convention), axis-angle, 6D, matrices.

All numpy functions take any leading shape ``[...]`` and compute in float64. Conversions that
scipy's :class:`scipy.spatial.transform.Rotation` computes the same way (to float64 rounding)
go through it; matrix -> Euler stays here (its branch and gimbal-lock choices are ours), as do
the 6D representation, the branch-following :func:`euler_near` and the torch variants.

Conventions:
- Euler angles are in degrees. A BVH channel order such as ``"XYZ"`` means the intrinsic
  product ``R = Rx(a) @ Ry(b) @ Rz(c)`` (BEAT's BVH files, beat.md). Any permutation of the
  three axes is supported (the Tait-Bryan orders).
- Axis-angle vectors ``aa [..., 3]`` have direction = axis, norm = angle in radians; they map to
  matrices by Rodrigues' formula.
- 6D is Zhou et al. 2019 ("On the Continuity of Rotation Representations in Neural Networks"):
  the first two COLUMNS of the matrix, laid out ``[c0 (3), c1 (3)]``; back by Gram-Schmidt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial.transform import Rotation

if TYPE_CHECKING:  # torch is imported only by the torch variants (it is slow to import)
    import torch

_AXES = {"X": 0, "Y": 1, "Z": 2}


def _parse_order(order: str) -> tuple[int, int, int]:
    """``"XYZ"`` -> ``(0, 1, 2)``; any permutation of X, Y, Z (case-insensitive)."""
    up = order.upper()
    if len(up) != 3 or sorted(up) != ["X", "Y", "Z"]:
        raise ValueError(f"rotation order must be a permutation of 'XYZ', got {order!r}")
    return _AXES[up[0]], _AXES[up[1]], _AXES[up[2]]


def _axis_rotation(axis: int, theta: np.ndarray) -> np.ndarray:
    """Right-handed rotation about one axis by ``theta`` radians: ``[...] -> [..., 3, 3]``."""
    c, s = np.cos(theta), np.sin(theta)
    out = np.zeros((*theta.shape, 3, 3))
    i, j = (axis + 1) % 3, (axis + 2) % 3
    out[..., axis, axis] = 1.0
    out[..., i, i] = c
    out[..., j, j] = c
    out[..., j, i] = s
    out[..., i, j] = -s
    return out


def euler_to_matrix(angles_deg: np.ndarray, order: str = "XYZ") -> np.ndarray:
    """Euler degrees ``[..., 3]`` -> rotation matrices ``[..., 3, 3]`` (intrinsic, BVH).

    ``angles_deg[..., n]`` is the angle about axis ``order[n]``, and
    ``R = R_{order[0]} @ R_{order[1]} @ R_{order[2]}``.
    """
    _parse_order(order)
    deg = np.asarray(angles_deg, dtype=np.float64)
    if deg.shape[-1:] != (3,):
        raise ValueError(f"Euler angles need a last dim of 3, got shape {deg.shape}")
    # Upper-case axes are scipy's intrinsic rotations: R = R_a R_b R_c, as BVH.
    flat = Rotation.from_euler(order.upper(), deg.reshape(-1, 3), degrees=True)
    return flat.as_matrix().reshape(*deg.shape[:-1], 3, 3)


def matrix_to_euler(matrix: np.ndarray, order: str = "XYZ") -> np.ndarray:
    """Rotation matrices ``[..., 3, 3]`` -> Euler degrees ``[..., 3]`` on the principal branch.

    The first and last angles are in ``(-180, 180]``, the middle one in ``[-90, 90]``. With
    ``R = R_i(a) R_j(b) R_k(c)`` and ``s = +1`` for cyclic orders (XYZ, YZX, ZXY), ``-1``
    otherwise: ``sin b = s R[i,k]``, ``tan a = -s R[j,k] / R[k,k]``. The last angle is then
    solved from ``R_k(c) = (R_i(a) R_j(b))^T R`` rather than read off the matrix, so the
    triple reproduces ``R`` to rounding error even at or near gimbal lock (``b = +-90``), where
    only ``a +- c`` is defined and the first angle is taken with ``c = 0``.
    """
    i, j, k = _parse_order(order)
    r = np.asarray(matrix, dtype=np.float64)
    if r.shape[-2:] != (3, 3):
        raise ValueError(f"rotation matrices need trailing shape (3, 3), got {r.shape}")
    s = 1.0 if (j - i) % 3 == 1 else -1.0
    cos_b = np.hypot(r[..., i, i], r[..., i, j])
    b = np.arctan2(s * r[..., i, k], cos_b)
    # Column k carries a scaled by cos b. Any error in a is absorbed by c below (the residual is
    # err(a) * cos b, i.e. rounding), so column k serves until cos b is pure rounding; at lock
    # column j gives a with c = 0, a deterministic choice among the equivalent triples.
    locked = cos_b < 1e-14
    a_free = np.arctan2(-s * r[..., j, k], r[..., k, k])
    a_lock = np.arctan2(s * r[..., k, j], r[..., j, j])
    a = np.where(locked, a_lock, a_free)
    head = _axis_rotation(i, a) @ _axis_rotation(j, b)
    rest = np.swapaxes(head, -1, -2) @ r  # = R_k(c) up to rounding
    k1, k2 = (k + 1) % 3, (k + 2) % 3
    c = np.arctan2(rest[..., k2, k1] - rest[..., k1, k2], rest[..., k1, k1] + rest[..., k2, k2])
    return np.rad2deg(np.stack([a, b, c], axis=-1))


def _rotations(matrix: np.ndarray) -> tuple[Rotation, tuple[int, ...]]:
    """scipy rotations of matrices ``[..., 3, 3]`` (flattened) and the leading shape."""
    r = np.asarray(matrix, dtype=np.float64)
    if r.shape[-2:] != (3, 3):
        raise ValueError(f"rotation matrices need trailing shape (3, 3), got {r.shape}")
    return Rotation.from_matrix(r.reshape(-1, 3, 3)), r.shape[:-2]


def axis_angle_to_matrix(aa: np.ndarray) -> np.ndarray:
    """Axis-angle ``[..., 3]`` (radians) -> ``[..., 3, 3]``, smooth through the identity."""
    v = np.asarray(aa, dtype=np.float64)
    if v.shape[-1:] != (3,):
        raise ValueError(f"axis-angle needs a last dim of 3, got shape {v.shape}")
    return Rotation.from_rotvec(v.reshape(-1, 3)).as_matrix().reshape(*v.shape[:-1], 3, 3)


def matrix_to_quaternion(matrix: np.ndarray) -> np.ndarray:
    """``[..., 3, 3]`` -> unit quaternions ``[..., 4]`` as ``(w, x, y, z)`` with ``w >= 0``.

    scipy takes the quaternion component with the largest square from the trace or a diagonal
    entry and the others from off-diagonal sums (stable at the identity and near half turns).
    """
    rot, lead = _rotations(matrix)
    xyzw = rot.as_quat(canonical=True)  # canonical: w >= 0
    return xyzw[:, [3, 0, 1, 2]].reshape(*lead, 4)


def matrix_to_axis_angle(matrix: np.ndarray) -> np.ndarray:
    """``[..., 3, 3]`` -> axis-angle ``[..., 3]`` with angle in ``[0, pi]``.

    scipy goes through the quaternion and ``angle = 2 atan2(|v|, w)``, accurate at every
    angle, unlike ``acos((tr - 1) / 2)`` near 0 and pi.
    """
    rot, lead = _rotations(matrix)
    return rot.as_rotvec().reshape(*lead, 3)


def matrix_to_rot6d(matrix: np.ndarray) -> np.ndarray:
    """``[..., 3, 3]`` -> ``[..., 6]``: the first two columns ``[c0, c1]`` (Zhou et al. 2019)."""
    r = np.asarray(matrix, dtype=np.float64)
    return np.concatenate([r[..., :, 0], r[..., :, 1]], axis=-1)


def rot6d_to_matrix(rot6d: np.ndarray) -> np.ndarray:
    """``[..., 6]`` -> ``[..., 3, 3]`` by Gram-Schmidt on the two 3-vectors (Zhou et al. 2019).

    Any pair of non-parallel vectors is accepted, so network outputs need no constraint.
    """
    x = np.asarray(rot6d, dtype=np.float64)
    if x.shape[-1:] != (6,):
        raise ValueError(f"6D rotations need a last dim of 6, got shape {x.shape}")
    b1 = x[..., :3] / np.linalg.norm(x[..., :3], axis=-1, keepdims=True)
    a2 = x[..., 3:]
    b2 = a2 - np.sum(b1 * a2, axis=-1, keepdims=True) * b1
    b2 = b2 / np.linalg.norm(b2, axis=-1, keepdims=True)
    b3 = np.cross(b1, b2)
    return np.stack([b1, b2, b3], axis=-1)


def euler_to_axis_angle(angles_deg: np.ndarray, order: str = "XYZ") -> np.ndarray:
    """Euler degrees ``[..., 3]`` -> axis-angle ``[..., 3]`` (radians, angle in ``[0, pi]``)."""
    return matrix_to_axis_angle(euler_to_matrix(angles_deg, order))


def axis_angle_to_euler(aa: np.ndarray, order: str = "XYZ") -> np.ndarray:
    """Axis-angle ``[..., 3]`` -> Euler degrees ``[..., 3]`` on the principal branch."""
    return matrix_to_euler(axis_angle_to_matrix(aa), order)


def rotation_angle_between(r1: np.ndarray, r2: np.ndarray) -> np.ndarray:
    """Geodesic distance ``[...]`` in radians (``[0, pi]``) between ``[..., 3, 3]`` rotations.

    The angle of ``M = R1^T R2``, taken from its quaternion as ``2 atan2(|v|, |w|)``: small and
    near-half-turn angles are exact.
    """
    m = np.swapaxes(np.asarray(r1, dtype=np.float64), -1, -2) @ np.asarray(r2, dtype=np.float64)
    rot, lead = _rotations(m)
    return rot.magnitude().reshape(lead)


def _wrap_near(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Add the multiple of 360 to each angle that brings it closest to ``ref``."""
    return x + 360.0 * np.round((ref - x) / 360.0)


def euler_near(angles_deg: np.ndarray, reference_deg: np.ndarray, order: str = "XYZ") -> np.ndarray:
    """The Euler triple of the same rotation nearest (L1) to ``reference_deg``: ``[..., 3]``.

    A Tait-Bryan rotation ``R_i(a) R_j(b) R_k(c)`` equals ``R_i(a+180) R_j(180-b) R_k(c+180)``
    (conjugating by a half turn about i flips j, and two half turns about perpendicular axes
    make a half turn about the third), and each angle may move by any multiple of 360. Both
    branches are wrapped per angle towards the reference and the closer one is kept. This maps
    principal-branch angles onto BEAT's unwrapped curves (metrics.md, SRGR). At exact gimbal
    lock the continuum ``(a+t, b, c-+t)`` is not searched.
    """
    _parse_order(order)
    x = np.asarray(angles_deg, dtype=np.float64)
    ref = np.broadcast_to(np.asarray(reference_deg, dtype=np.float64), x.shape)
    first = _wrap_near(x, ref)
    flipped = np.stack([x[..., 0] + 180.0, 180.0 - x[..., 1], x[..., 2] + 180.0], axis=-1)
    second = _wrap_near(flipped, ref)
    d1 = np.abs(first - ref).sum(-1, keepdims=True)
    d2 = np.abs(second - ref).sum(-1, keepdims=True)
    return np.where(d2 < d1, second, first)


def axis_angle_to_matrix_torch(aa: torch.Tensor) -> torch.Tensor:
    """Torch Rodrigues ``[..., 3] -> [..., 3, 3]``, same maths as :func:`axis_angle_to_matrix`.

    Differentiable at zero (Taylor branch), in the input's dtype and device.
    """
    import torch

    t2 = (aa * aa).sum(-1)
    t = torch.sqrt(t2.clamp_min(1e-24))
    small = t < 1e-4
    ts = torch.where(small, torch.ones_like(t), t)
    a = torch.where(small, 1.0 - t2 / 6.0 + t2 * t2 / 120.0, torch.sin(ts) / ts)
    b = torch.where(small, 0.5 - t2 / 24.0 + t2 * t2 / 720.0, 2.0 * (torch.sin(ts / 2) / ts) ** 2)
    x, y, z = aa.unbind(-1)
    zero = torch.zeros_like(x)
    kmat = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).reshape(*aa.shape[:-1], 3, 3)
    eye = torch.eye(3, dtype=aa.dtype, device=aa.device)
    return eye + a[..., None, None] * kmat + b[..., None, None] * (kmat @ kmat)


def matrix_to_rot6d_torch(matrix: torch.Tensor) -> torch.Tensor:
    """Torch ``[..., 3, 3] -> [..., 6]``: first two columns, as :func:`matrix_to_rot6d`."""
    import torch

    return torch.cat([matrix[..., :, 0], matrix[..., :, 1]], dim=-1)
