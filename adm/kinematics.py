"""Forward kinematics of a BVH skeleton: joint rotations -> world positions.

BVH semantics: each joint has a local transform made of a translation (its ``OFFSET``, or its
position channels where it has them, as BEAT's root ``Hips`` does) and a rotation (its Euler
channels, intrinsic in channel order). World transforms compose down the tree:
``R_world[j] = R_world[p] @ R_local[j]`` and ``x_world[j] = x_world[p] + R_world[p] @ t_local[j]``
with ``p`` the parent. Vectorised over frames; the only loop is over joints.
"""

from __future__ import annotations

import numpy as np

from adm.data.bvh import BvhHeader
from adm.rotations import euler_to_matrix


def _topological(parents: tuple[int, ...]) -> list[int]:
    """Joint indices with every parent before its children (file order usually already is)."""
    done: list[int] = []
    seen: set[int] = set()
    for start in range(len(parents)):
        chain = []
        j = start
        while j >= 0 and j not in seen:
            chain.append(j)
            j = parents[j]
            if len(chain) > len(parents):
                raise ValueError("the joint parents form a cycle")
        for k in reversed(chain):
            seen.add(k)
            done.append(k)
    return done


def _local_transforms(
    header: BvhHeader, motion: np.ndarray, j: int
) -> tuple[np.ndarray, np.ndarray]:
    """Local rotation ``[T, 3, 3]`` and translation ``[T, 3]`` of joint ``j``."""
    name = header.joints[j]
    t = len(motion)
    trans = np.broadcast_to(header.offsets[j], (t, 3)).copy()
    # Position channels replace the offset on their axes (the root's translation in BEAT).
    for chan, col in zip(header.channels[j], header.channel_columns(name), strict=True):
        if chan.endswith("position"):
            trans[:, "XYZ".index(chan[0])] = motion[:, col]
    if any(c.endswith("rotation") for c in header.channels[j]):
        euler = motion[:, header.rotation_columns(name)]
        rot = euler_to_matrix(euler, header.rotation_order(name))
    else:
        rot = np.broadcast_to(np.eye(3), (t, 3, 3))
    return rot, trans


def global_transforms(header: BvhHeader, motion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World rotations ``[T, J, 3, 3]`` and positions ``[T, J, 3]`` (float64) of every joint.

    Args:
        header: the skeleton (joint tree, offsets, channel layout).
        motion: ``[T, C]`` channel values (positions in the file's units, Euler degrees).
    """
    m = np.asarray(motion, dtype=np.float64)
    if m.ndim != 2 or m.shape[1] != header.num_channels:
        raise ValueError(f"motion must be [T, {header.num_channels}], got {list(m.shape)}")
    t, n = len(m), len(header.joints)
    rots = np.empty((t, n, 3, 3))
    pos = np.empty((t, n, 3))
    for j in _topological(header.parents):
        rot, trans = _local_transforms(header, m, j)
        p = header.parents[j]
        if p < 0:
            rots[:, j] = rot
            pos[:, j] = trans
        else:
            rots[:, j] = rots[:, p] @ rot
            pos[:, j] = pos[:, p] + np.einsum("tab,tb->ta", rots[:, p], trans)
    return rots, pos


def forward_kinematics(header: BvhHeader, motion: np.ndarray) -> np.ndarray:
    """World positions ``[T, J, 3]`` (float64) of every joint, in header joint order."""
    return global_transforms(header, motion)[1]


def end_site_positions(header: BvhHeader, motion: np.ndarray) -> dict[int, np.ndarray]:
    """World positions ``[T, 3]`` of each ``End Site``, keyed by its joint's index.

    An end site is a fixed offset in its joint's frame: ``x = x_world[j] + R_world[j] @ o``.
    """
    rots, pos = global_transforms(header, motion)
    return {
        j: pos[:, j] + rots[:, j] @ np.asarray(offset, dtype=np.float64)
        for j, offset in sorted(header.end_sites.items())
    }
