"""Forward kinematics: hand-computed chains and invariants on a real BEAT skeleton."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adm.data.bvh import BvhHeader, read_bvh
from adm.kinematics import end_site_positions, forward_kinematics, global_transforms

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared/fixtures/beat"
BVH = FIXTURES / "2_scott_0_1_1.bvh"

ROT = ("Xrotation", "Yrotation", "Zrotation")
POS = ("Xposition", "Yposition", "Zposition")


def _chain() -> BvhHeader:
    """Root (6 channels) -> A at +x 1 -> B at +y 2 -> end site at +z 3."""
    return BvhHeader(
        ("Root", "A", "B"),
        (-1, 0, 1),
        np.array([[0.0, 0, 0], [1, 0, 0], [0, 2, 0]]),
        (POS + ROT, ROT, ROT),
        {2: np.array([0.0, 0, 3])},
    )


def _motion(**values: list[float]) -> np.ndarray:
    """One frame of the chain's 12 channels, zero except the named joints' triples."""
    m = np.zeros((1, 12))
    slots = {"root_pos": 0, "root_rot": 3, "a": 6, "b": 9}
    for key, v in values.items():
        m[0, slots[key] : slots[key] + 3] = v
    return m


def test_zero_rotation_gives_cumulative_offsets():
    h = _chain()
    pos = forward_kinematics(h, np.zeros((2, 12)))
    assert pos.shape == (2, 3, 3)
    np.testing.assert_allclose(pos[0], [[0, 0, 0], [1, 0, 0], [1, 2, 0]])
    np.testing.assert_allclose(end_site_positions(h, np.zeros((1, 12)))[2], [[1, 2, 3]])


def test_root_translation_moves_everything():
    pos = forward_kinematics(_chain(), _motion(root_pos=[10, 20, 30]))
    np.testing.assert_allclose(pos[0], [[10, 20, 30], [11, 20, 30], [11, 22, 30]])


def test_ninety_degrees_at_one_joint_moves_its_child():
    h = _chain()
    # Rz(90) at A turns B's offset (0, 2, 0) into (-2, 0, 0); A itself stays at (1, 0, 0).
    m = _motion(a=[0, 0, 90])
    pos = forward_kinematics(h, m)
    np.testing.assert_allclose(pos[0], [[0, 0, 0], [1, 0, 0], [-1, 0, 0]], atol=1e-12)
    # The end site (0, 0, 3) in B's frame is unaffected by a rotation about z.
    np.testing.assert_allclose(end_site_positions(h, m)[2], [[-1, 0, 3]], atol=1e-12)
    # Rx(90) at B rotates only the end site: (0, 0, 3) -> (0, -3, 0).
    np.testing.assert_allclose(
        end_site_positions(h, _motion(b=[90, 0, 0]))[2], [[1, -1, 0]], atol=1e-12
    )


def test_rotations_compose_down_the_chain_in_channel_order():
    h = _chain()
    # Root XYZ (90, 90, 0) = Rx(90) Ry(90): A's offset x -> (Ry) -z -> (Rx) y, so A = (0, 1, 0).
    # B's offset y: Ry keeps y, Rx(90) takes y to z, so B = A + (0, 0, 2).
    m = _motion(root_rot=[90, 90, 0])
    pos = forward_kinematics(h, m)
    np.testing.assert_allclose(pos[0], [[0, 0, 0], [0, 1, 0], [0, 1, 2]], atol=1e-12)
    rots, _ = global_transforms(h, m)
    np.testing.assert_allclose(rots[0, 2] @ [1, 0, 0], [0, 1, 0], atol=1e-12)


def test_children_listed_before_parents():
    h = _chain()
    m = _motion(root_pos=[1, 2, 3], root_rot=[10, 20, 30], a=[40, -50, 60], b=[5, 6, 7])
    reordered = BvhHeader(
        ("B", "Root", "A"),
        (2, -1, 1),
        h.offsets[[2, 0, 1]],
        (ROT, POS + ROT, ROT),
        {0: h.end_sites[2]},
    )
    m2 = m[:, np.r_[9:12, 0:9]]
    np.testing.assert_allclose(
        forward_kinematics(reordered, m2)[:, [1, 2, 0]], forward_kinematics(h, m)
    )


def test_shape_error():
    with pytest.raises(ValueError, match=r"\[T, 12\]"):
        forward_kinematics(_chain(), np.zeros((2, 11)))


def test_real_skeleton_keeps_bone_lengths():
    if not BVH.exists():
        pytest.skip(f"BEAT fixture {BVH} is absent (only present beside the development tree)")
    b = read_bvh(BVH, fps=15)
    h, motion = b.header, b.motion[::8]
    pos = forward_kinematics(h, motion)
    assert pos.shape == (len(motion), 75, 3)
    parents = np.array(h.parents)
    bones = np.linalg.norm(pos[:, 1:] - pos[:, parents[1:]], axis=-1)
    np.testing.assert_allclose(
        bones, np.broadcast_to(np.linalg.norm(h.offsets[1:], axis=-1), bones.shape), atol=1e-9
    )
    # The root follows its position channels; the head stays above the hips.
    np.testing.assert_allclose(pos[:, 0], motion[:, :3], atol=1e-6)
    head = h.joint_index("Head")
    assert np.all(pos[:, head, 1] > pos[:, 0, 1] + 40)
    ends = end_site_positions(h, motion)
    assert h.joint_index("HeadEnd") in ends
