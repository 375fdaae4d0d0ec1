"""The 47-joint BEAT gesture subset and its 141-dim axis-angle representation.

The paper (method.md) and DiffSHEG model BEAT's upper body and hands: 47 joints (beat.md),
Euler angles converted to axis-angle, 3 dims per joint in the order of :data:`GESTURE_JOINTS`,
``[T, 141]``. Joints are always found in a BVH header by NAME, never by column number, so a file
whose joints are ordered differently still yields the same representation.

BEAT's Euler curves are unwrapped (forearm angles reach about +-746 degrees); axis-angle removes
that. Going back, :func:`gesture_to_euler_motion` either follows a reference's unwrapped branch
(to compare with BEAT ground truth, metrics.md SRGR) or unwraps along time (smooth BVH curves).
"""

from __future__ import annotations

import numpy as np

from adm.data.bvh import BvhHeader
from adm.rotations import axis_angle_to_euler, euler_near, euler_to_axis_angle


def _side(side: str) -> tuple[str, ...]:
    names = ["Shoulder", "Arm", "ForeArm", "Hand"]
    names += [f"HandMiddle{k}" for k in (1, 2, 3)]
    for finger in ("Ring", "Pinky", "Index"):
        names += [f"Hand{finger}"] + [f"Hand{finger}{k}" for k in (1, 2, 3)]
    names += [f"HandThumb{k}" for k in (1, 2, 3)]
    return tuple(side + n for n in names)


GESTURE_JOINTS: tuple[str, ...] = ("Spine", "Neck", "Neck1", *_side("Right"), *_side("Left"))
"""The 47 gesture joints of beat.md, in representation order (right side before left)."""

GESTURE_DIM: int = 3 * len(GESTURE_JOINTS)  # 141

ARM_JOINTS: tuple[str, ...] = (
    "RightShoulder", "RightArm", "RightForeArm", "RightHand",
    "LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand",
)  # fmt: skip
"""Both arm chains, shoulder to wrist (metrics that look at arms only)."""

WRIST_JOINTS: tuple[str, ...] = ("RightHand", "LeftHand")
"""The wrists: Beat Align's default motion joints (metrics.md)."""


def gesture_rotation_columns(
    header: BvhHeader, joints: tuple[str, ...] = GESTURE_JOINTS
) -> np.ndarray:
    """Motion columns ``[len(joints), 3]`` of each joint's rotation channels, found by name.

    Raises:
        ValueError: a joint is missing; the message names it and lists the header's joints.
    """
    present = set(header.joints)
    missing = [j for j in joints if j not in present]
    if missing:
        raise ValueError(
            f"joint {missing[0]!r} is not in the BVH header"
            + (f" (nor {missing[1:]})" if len(missing) > 1 else "")
            + f"; the file's joints are {list(header.joints)}"
        )
    return np.stack([header.rotation_columns(j) for j in joints]).astype(int)


def _order_groups(header: BvhHeader, joints: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Euler order -> positions in ``joints`` using it (BEAT: all ``"XYZ"``), to vectorise."""
    groups: dict[str, list[int]] = {}
    for n, j in enumerate(joints):
        groups.setdefault(header.rotation_order(j), []).append(n)
    return {order: np.array(idx, dtype=int) for order, idx in groups.items()}


def _check_motion(motion: np.ndarray, header: BvhHeader, name: str) -> np.ndarray:
    m = np.asarray(motion)
    if m.ndim != 2 or m.shape[1] != header.num_channels:
        raise ValueError(f"{name} must be [T, {header.num_channels}], got {list(m.shape)}")
    return m


def euler_motion_to_gesture(
    motion: np.ndarray, header: BvhHeader, joints: tuple[str, ...] = GESTURE_JOINTS
) -> np.ndarray:
    """BVH motion ``[T, C]`` (Euler degrees) -> axis-angle ``[T, 3 * len(joints)]`` float32.

    Each joint's angles are read by name and converted with its own channel order; the output
    is joint-major (``[..., 3 n : 3 n + 3]`` is ``joints[n]``), angle in ``[0, pi]``.
    """
    m = _check_motion(motion, header, "motion")
    cols = gesture_rotation_columns(header, joints)
    euler = m[:, cols].astype(np.float64)  # [T, J, 3]
    out = np.empty_like(euler)
    for order, idx in _order_groups(header, joints).items():
        out[:, idx] = euler_to_axis_angle(euler[:, idx], order)
    return out.reshape(len(m), -1).astype(np.float32)


def unwrap_euler_sequence(euler: np.ndarray, order: str = "XYZ") -> np.ndarray:
    """Per frame, the equivalent Euler triple nearest the previous output frame.

    Args:
        euler: ``[T, ..., 3]`` degrees (any branch per frame, e.g. principal angles).
        order: the channel order shared by all entries.

    Returns:
        ``[T, ..., 3]`` float64, the same rotations, continuous in time where the rotations
        are, so animation tools interpolating the curves do not spin through a wrap.
    """
    e = np.asarray(euler, dtype=np.float64)
    out = np.empty_like(e)
    if len(e) == 0:
        return out
    out[0] = e[0]
    for t in range(1, len(e)):
        out[t] = euler_near(e[t], out[t - 1], order)
    return out


def gesture_to_euler_motion(
    gesture: np.ndarray,
    header: BvhHeader,
    base_motion: np.ndarray | None = None,
    reference: np.ndarray | None = None,
    *,
    unwrap: bool = False,
    joints: tuple[str, ...] = GESTURE_JOINTS,
) -> np.ndarray:
    """Axis-angle ``[T, 3 * len(joints)]`` -> BVH motion ``[T, C]`` float32 (Euler degrees).

    Args:
        gesture: joint-major axis-angle, as :func:`euler_motion_to_gesture` returns.
        header: target skeleton; each joint's Euler order comes from its channels.
        base_motion: ``[C]`` or ``[T, C]`` values for every other channel (root, legs, tips,
            e.g. a rest or mean pose); zeros when ``None``.
        reference: ``[T, C]`` Euler motion whose branch to follow (BEAT's unwrapped ground
            truth): each triple is the equivalent one nearest the reference (``euler_near``).
        unwrap: without ``reference``, unwrap each joint along time
            (:func:`unwrap_euler_sequence`); otherwise principal angles are written.
        joints: the joints the gesture dims belong to.
    """
    g = np.asarray(gesture, dtype=np.float64)
    if g.ndim != 2 or g.shape[1] != 3 * len(joints):
        raise ValueError(f"gesture must be [T, {3 * len(joints)}], got {list(g.shape)}")
    t, c = len(g), header.num_channels
    if base_motion is None:
        out = np.zeros((t, c))
    else:
        base = np.asarray(base_motion, dtype=np.float64)
        if base.shape not in ((c,), (t, c)):
            raise ValueError(f"base_motion must be [{c}] or [{t}, {c}], got {list(base.shape)}")
        out = np.array(np.broadcast_to(base, (t, c)))
    ref = None if reference is None else _check_motion(reference, header, "reference")
    if ref is not None and len(ref) != t:
        raise ValueError(f"reference has {len(ref)} frames, gesture has {t}")
    cols = gesture_rotation_columns(header, joints)
    aa = g.reshape(t, len(joints), 3)
    for order, idx in _order_groups(header, joints).items():
        euler = axis_angle_to_euler(aa[:, idx], order)  # [T, n, 3]
        if ref is not None:
            euler = euler_near(euler, ref[:, cols[idx]].astype(np.float64), order)
        elif unwrap:
            euler = unwrap_euler_sequence(euler, order)
        out[:, cols[idx]] = euler
    return out.astype(np.float32)
