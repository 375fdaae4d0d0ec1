"""The 47-joint gesture subset: selection by name, axis-angle round trips on a real BEAT file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adm.data.beat_skeleton import beat_header
from adm.data.bvh import Bvh, BvhHeader, read_bvh
from adm.rotations import euler_to_matrix, rotation_angle_between
from adm.skeleton import (
    ARM_JOINTS,
    GESTURE_DIM,
    GESTURE_JOINTS,
    WRIST_JOINTS,
    euler_motion_to_gesture,
    gesture_rotation_columns,
    gesture_to_euler_motion,
    unwrap_euler_sequence,
)

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared/fixtures/beat"
BVH = FIXTURES / "2_scott_0_1_1.bvh"


@pytest.fixture(scope="module")
def bvh() -> Bvh:
    if not BVH.exists():
        pytest.skip(f"BEAT fixture {BVH} is absent (only present beside the development tree)")
    return read_bvh(BVH, fps=15)


def _permuted(header: BvhHeader, motion: np.ndarray, perm: np.ndarray):
    """The same skeleton with its joints (and their motion columns) listed in ``perm`` order."""
    inverse = np.argsort(perm)
    joints = tuple(header.joints[p] for p in perm)
    parents = tuple(int(inverse[header.parents[p]]) if header.parents[p] >= 0 else -1 for p in perm)
    ends = {int(inverse[j]): o for j, o in header.end_sites.items()}
    new = BvhHeader(
        joints, parents, header.offsets[perm], tuple(header.channels[p] for p in perm), ends
    )
    cols = np.concatenate([header.channel_columns(j) for j in joints])
    return new, motion[:, cols]


def test_gesture_joint_list():
    assert len(GESTURE_JOINTS) == 47 and GESTURE_DIM == 141
    assert len(set(GESTURE_JOINTS)) == 47
    assert GESTURE_JOINTS[:7] == (
        "Spine", "Neck", "Neck1", "RightShoulder", "RightArm", "RightForeArm", "RightHand",
    )  # fmt: skip
    assert GESTURE_JOINTS[25] == "LeftShoulder" and GESTURE_JOINTS[-1] == "LeftHandThumb3"
    assert GESTURE_JOINTS[GESTURE_JOINTS.index("RightHandRing") + 1] == "RightHandRing1"
    excluded = ("Hips", "Spine1", "Spine3", "Head", "HeadEnd", "RightHandMiddle4", "LeftUpLeg")
    assert not set(excluded) & set(GESTURE_JOINTS)
    assert set(ARM_JOINTS) <= set(GESTURE_JOINTS) and set(WRIST_JOINTS) <= set(ARM_JOINTS)


def test_columns_by_name_on_real_header(bvh):
    h = bvh.header
    assert bvh.motion.shape == (957, 228)
    cols = gesture_rotation_columns(h)
    assert cols.shape == (47, 3)
    # Hips has 6 channels then every joint 3, in file order: Spine is joint 1, Neck joint 5,
    # RightShoulder joint 9 (Head and HeadEnd sit between Neck1 and it).
    np.testing.assert_array_equal(cols[0], [6, 7, 8])
    np.testing.assert_array_equal(cols[1], [18, 19, 20])
    np.testing.assert_array_equal(cols[3], [30, 31, 32])
    assert len(set(cols.ravel())) == 141


def test_builtin_beat_header_selects_the_same_columns(bvh):
    np.testing.assert_array_equal(
        gesture_rotation_columns(beat_header()), gesture_rotation_columns(bvh.header)
    )


def test_real_bvh_to_axis_angle_and_back(bvh):
    h, motion = bvh.header, bvh.motion
    g = euler_motion_to_gesture(motion, h)
    assert g.shape == (957, 141) and g.dtype == np.float32
    assert np.linalg.norm(g.reshape(-1, 47, 3), axis=-1).max() <= np.pi + 1e-6
    cols = gesture_rotation_columns(h)
    truth = motion[:, cols].astype(np.float64)  # [T, 47, 3] unwrapped Euler
    assert np.abs(truth).max() > 700  # the fixture really is unwrapped

    back = gesture_to_euler_motion(g, h)
    assert back.shape == (957, 228) and back.dtype == np.float32
    assert np.abs(back[:, cols]).max() <= 180  # principal branch, not the file's numbers
    err = rotation_angle_between(euler_to_matrix(truth), euler_to_matrix(back[:, cols]))
    assert err.max() < 1e-4

    near = gesture_to_euler_motion(g, h, reference=motion)
    assert np.abs(near[:, cols] - truth).max() < 1e-3


def test_other_channels_keep_the_base_pose(bvh):
    h, motion = bvh.header, bvh.motion
    g = euler_motion_to_gesture(motion[:4], h)
    rest = np.ones(h.num_channels, dtype=np.float32) * 7.0
    out = gesture_to_euler_motion(g, h, base_motion=rest)
    others = np.setdiff1d(np.arange(h.num_channels), gesture_rotation_columns(h).ravel())
    assert len(others) == 228 - 141
    np.testing.assert_array_equal(out[:, others], 7.0)
    np.testing.assert_array_equal(gesture_to_euler_motion(g, h)[:, others], 0.0)
    out = gesture_to_euler_motion(g, h, base_motion=motion[:4])
    np.testing.assert_array_equal(out[:, others], motion[:4, others])


def test_selection_by_name_survives_permuted_joints(bvh):
    h, motion = bvh.header, bvh.motion[:50]
    perm = np.random.default_rng(0).permutation(len(h.joints))
    h2, m2 = _permuted(h, motion, perm)
    assert h2.joints != h.joints
    g1 = euler_motion_to_gesture(motion, h)
    g2 = euler_motion_to_gesture(m2, h2)
    np.testing.assert_array_equal(g1, g2)
    near = gesture_to_euler_motion(g2, h2, reference=m2)
    np.testing.assert_allclose(
        near[:, gesture_rotation_columns(h2)], motion[:, gesture_rotation_columns(h)], atol=1e-3
    )


def test_missing_joint_is_named():
    header = BvhHeader(
        ("Hips", "Spine"), (-1, 0), np.zeros((2, 3)), (("Xrotation", "Yrotation", "Zrotation"),) * 2
    )
    with pytest.raises(ValueError, match=r"'Neck'.*file's joints are \['Hips', 'Spine'\]"):
        gesture_rotation_columns(header)


def test_order_from_channels_is_used():
    # One joint with channel order ZXY; a rotation of 90 about Z must land in its first column.
    header = BvhHeader(("Root", "J"), (-1, 0), np.zeros((2, 3)),
                       (("Xrotation", "Yrotation", "Zrotation"),
                        ("Zrotation", "Xrotation", "Yrotation")))  # fmt: skip
    motion = np.array([[0, 0, 0, 90.0, 0, 0]], dtype=np.float32)
    g = euler_motion_to_gesture(motion, header, joints=("J",))
    np.testing.assert_allclose(g, [[0, 0, np.pi / 2]], atol=1e-6)
    back = gesture_to_euler_motion(g, header, joints=("J",))
    np.testing.assert_allclose(back[0, 3:], [90, 0, 0], atol=1e-4)


def test_shape_errors(bvh):
    with pytest.raises(ValueError, match=r"\[T, 228\]"):
        euler_motion_to_gesture(bvh.motion[:, :100], bvh.header)
    with pytest.raises(ValueError, match=r"\[T, 141\]"):
        gesture_to_euler_motion(np.zeros((3, 140)), bvh.header)
    with pytest.raises(ValueError, match="base_motion"):
        gesture_to_euler_motion(np.zeros((3, 141)), bvh.header, base_motion=np.zeros(5))


def test_unwrap_follows_a_spin_and_a_flip():
    t = np.linspace(0, 1, 101)
    # 1000 degrees about X: principal angles wrap at 180, the unwrapped curve is the ramp.
    spin = np.stack([1000 * t, np.zeros_like(t), np.zeros_like(t)], -1)
    principal = ((spin + 180) % 360) - 180
    np.testing.assert_allclose(unwrap_euler_sequence(principal), spin, atol=1e-9)
    # 0 -> 171 degrees about Y (the middle angle): past 90 the principal branch jumps to
    # (180, 180 - b, 180); unwrapping returns to the ramp.
    ramp = np.stack([np.zeros_like(t), 171 * t, np.zeros_like(t)], -1)
    flipped = np.where(ramp[:, 1:2] > 90, [180, 0, 180] + ramp * [0, -1, 0] + [0, 180, 0], ramp)
    assert np.abs(np.diff(flipped, axis=0)).max() > 100
    np.testing.assert_allclose(unwrap_euler_sequence(flipped), ramp, atol=1e-9)
    # Extra dims ride along: [T, 2, 3].
    both = unwrap_euler_sequence(np.stack([principal, flipped], 1))
    np.testing.assert_allclose(both, np.stack([spin, ramp], 1), atol=1e-9)


def test_gesture_to_euler_unwrap_option(bvh):
    h = bvh.header
    g = euler_motion_to_gesture(bvh.motion, h)
    cols = gesture_rotation_columns(h)
    principal = gesture_to_euler_motion(g, h)[:, cols]
    smooth = gesture_to_euler_motion(g, h, unwrap=True)[:, cols]
    assert np.abs(np.diff(smooth, axis=0)).max() < np.abs(np.diff(principal, axis=0)).max()
    err = rotation_angle_between(euler_to_matrix(smooth), euler_to_matrix(principal))
    assert err.max() < 1e-4
