"""Rotation conversions: hand-known cases, random round trips, identity and half turns."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import rotations_reference as reference
import torch
from tolerance import F64, ops_tol

from adm.rotations import (
    axis_angle_to_euler,
    axis_angle_to_matrix,
    axis_angle_to_matrix_torch,
    euler_near,
    euler_to_axis_angle,
    euler_to_matrix,
    matrix_to_axis_angle,
    matrix_to_euler,
    matrix_to_quaternion,
    matrix_to_rot6d,
    matrix_to_rot6d_torch,
    rot6d_to_matrix,
    rotation_angle_between,
)

ORDERS = ["".join(p) for p in itertools.permutations("XYZ")]


def _random_rotations(n: int, seed: int = 0) -> np.ndarray:
    """``[n, 3, 3]`` uniform random rotations from random unit quaternions."""
    q = np.random.default_rng(seed).normal(size=(n, 4))
    w, x, y, z = (q / np.linalg.norm(q, axis=1, keepdims=True)).T
    return np.stack(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    ).transpose(2, 0, 1)


@pytest.fixture(scope="module")
def rots() -> np.ndarray:
    return _random_rotations(10_000)


def test_axis_rotations_by_hand():
    # Rx(90) takes y to z, Ry(90) takes z to x, Rz(90) takes x to y (right-handed).
    ex, ey, ez = np.eye(3)
    np.testing.assert_allclose(euler_to_matrix([90, 0, 0]) @ ey, ez, atol=1e-15)
    np.testing.assert_allclose(euler_to_matrix([0, 90, 0]) @ ez, ex, atol=1e-15)
    np.testing.assert_allclose(euler_to_matrix([0, 0, 90]) @ ex, ey, atol=1e-15)
    np.testing.assert_allclose(axis_angle_to_matrix([np.pi / 2, 0, 0]) @ ey, ez, atol=1e-15)


def test_intrinsic_xyz_order_on_a_vector():
    # R = Rx(90) Ry(90) Rz(90): x -> (Rz) y -> (Ry) y -> (Rx) z.  The extrinsic reading
    # Rz Ry Rx would give x -> x -> -z -> y instead.
    r = euler_to_matrix([90.0, 90.0, 90.0], "XYZ")
    np.testing.assert_allclose(r @ np.array([1.0, 0, 0]), [0, 0, 1], atol=1e-15)
    # Channel order ZXY means Rz Rx Ry: x -> (Ry(90)) -z -> (Rx(90)) y -> (Rz(90)) -x.
    r = euler_to_matrix([90.0, 90.0, 90.0], "ZXY")
    np.testing.assert_allclose(r @ np.array([1.0, 0, 0]), [-1, 0, 0], atol=1e-15)


def test_euler_angles_follow_channel_order():
    # The n-th angle belongs to axis order[n]: 30 about Z written first in "ZXY".
    np.testing.assert_allclose(
        euler_to_matrix([30, 0, 0], "ZXY"), euler_to_matrix([0, 0, 30], "XYZ"), atol=1e-15
    )
    np.testing.assert_allclose(matrix_to_euler(euler_to_matrix([0, 0, 30]), "ZXY"), [30, 0, 0])


@pytest.mark.parametrize("order", ORDERS)
def test_euler_round_trip_random(rots, order):
    e = matrix_to_euler(rots, order)
    assert np.all(np.abs(e[:, [0, 2]]) <= 180) and np.all(np.abs(e[:, 1]) <= 90)
    back = euler_to_matrix(e, order)
    assert rotation_angle_between(rots, back).max() < 1e-9
    e2 = matrix_to_euler(back, order)
    assert rotation_angle_between(euler_to_matrix(e2, order), rots).max() < 1e-9


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("nudge", [0.0, 1e-12, 1e-7, 1e-3])
def test_euler_gimbal_lock(order, nudge):
    rng = np.random.default_rng(1)
    e = rng.uniform(-180, 180, (500, 3))
    e[:, 1] = rng.choice([-90.0, 90.0], 500) + nudge * rng.normal(size=500)
    r = euler_to_matrix(e, order)
    out = matrix_to_euler(r, order)
    assert np.all(np.isfinite(out))
    assert rotation_angle_between(r, euler_to_matrix(out, order)).max() < 1e-9


def test_bad_order_rejected():
    with pytest.raises(ValueError, match="XYX"):
        euler_to_matrix([0, 0, 0], "XYX")


def test_axis_angle_round_trip_random(rots):
    aa = matrix_to_axis_angle(rots)
    assert np.linalg.norm(aa, axis=-1).max() <= np.pi + 1e-12
    assert rotation_angle_between(rots, axis_angle_to_matrix(aa)).max() < 1e-9
    # And the other way for vectors inside the ball of radius pi.
    np.testing.assert_allclose(matrix_to_axis_angle(axis_angle_to_matrix(aa)), aa, atol=1e-9)


def test_axis_angle_identity_and_tiny():
    np.testing.assert_array_equal(axis_angle_to_matrix(np.zeros(3)), np.eye(3))
    np.testing.assert_array_equal(matrix_to_axis_angle(np.eye(3)), np.zeros(3))
    for t in (1e-12, 1e-6, 1e-4, 3e-4):
        aa = np.array([t, -2 * t, 0.5 * t])
        np.testing.assert_allclose(matrix_to_axis_angle(axis_angle_to_matrix(aa)), aa, rtol=1e-9)


@pytest.mark.parametrize("gap", [0.0, 1e-12, 1e-8, 1e-4])
def test_axis_angle_near_half_turn(gap):
    rng = np.random.default_rng(2)
    axis = rng.normal(size=(200, 3))
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    angle = np.pi - gap
    r = axis_angle_to_matrix(axis * angle)
    aa = matrix_to_axis_angle(r)
    # Angle exact; axis +-n (both are the same rotation at exactly pi).
    np.testing.assert_allclose(np.linalg.norm(aa, axis=1), angle, atol=1e-12)
    np.testing.assert_allclose(np.abs(np.sum(aa * axis, axis=1)), angle, atol=1e-12)
    assert rotation_angle_between(r, axis_angle_to_matrix(aa)).max() < 1e-12
    if gap > 0:  # below pi the sign is defined: the same vector comes back.
        np.testing.assert_allclose(aa, axis * angle, atol=1e-9)


def test_half_turn_about_x_by_hand():
    r = np.diag([1.0, -1.0, -1.0])
    aa = matrix_to_axis_angle(r)
    np.testing.assert_allclose(np.abs(aa), [np.pi, 0, 0], atol=1e-15)


def test_rot6d_round_trip_and_gram_schmidt(rots):
    six = matrix_to_rot6d(rots)
    assert six.shape == (10_000, 6)
    np.testing.assert_allclose(six[:, :3], rots[:, :, 0])
    assert rotation_angle_between(rots, rot6d_to_matrix(six)).max() < 1e-9
    # Unnormalised, non-orthogonal input still gives the rotation with that first column.
    r = rot6d_to_matrix(np.array([2.0, 0, 0, 1.0, 3.0, 0]))
    np.testing.assert_allclose(r, np.eye(3), atol=1e-15)


def test_euler_axis_angle_conveniences():
    np.testing.assert_allclose(euler_to_axis_angle([0, 0, 90]), [0, 0, np.pi / 2], atol=1e-15)
    np.testing.assert_allclose(axis_angle_to_euler([0, np.pi / 2, 0], "ZYX"), [0, 90, 0])


def test_rotation_angle_between_known():
    a = euler_to_matrix(np.array([[0, 0, 10.0], [0, 0, 179.0], [0, 0, 0]]))
    b = euler_to_matrix(np.array([[0, 0, 40.0], [0, 0, -179.0], [180, 0, 0]]))
    np.testing.assert_allclose(rotation_angle_between(a, b), np.deg2rad([30, 2, 180]))


def test_euler_near_picks_wrapped_and_flipped_branch():
    ref = np.array([[700.0, 10.0, -370.0], [190.0, 170.0, 170.0]])
    principal = np.array([[-20.0, 10.0, -10.0], [10.0, 10.0, -10.0]])
    out = euler_near(principal, ref)
    # Row 0: the same branch shifted by 720 / -360; row 1: the flipped branch (a+180, 180-b, c+180).
    np.testing.assert_allclose(out, [[700.0, 10.0, -370.0], [190.0, 170.0, 170.0]])
    for order in ORDERS:
        assert (
            rotation_angle_between(
                euler_to_matrix(out, order), euler_to_matrix(principal, order)
            ).max()
            < 1e-12
        )


@pytest.mark.parametrize("order", ORDERS)
def test_euler_near_recovers_unwrapped_angles(order):
    rng = np.random.default_rng(3)
    truth = rng.uniform(-750, 750, (2000, 3))
    truth[:, 1] = rng.uniform(-85, 85, 2000) + 360 * rng.integers(-2, 3, 2000)
    principal = matrix_to_euler(euler_to_matrix(truth, order), order)
    noisy_ref = truth + rng.uniform(-20, 20, truth.shape)
    np.testing.assert_allclose(euler_near(principal, noisy_ref, order), truth, atol=1e-9)


def test_torch_versions_match_numpy(rots):
    aa = matrix_to_axis_angle(rots[:100])
    aa[0] = 0.0
    aa[1] = [1e-7, 0, 0]
    got = axis_angle_to_matrix_torch(torch.from_numpy(aa)).numpy()
    np.testing.assert_allclose(got, axis_angle_to_matrix(aa), atol=1e-14)
    six = matrix_to_rot6d_torch(torch.from_numpy(rots[:5])).numpy()
    np.testing.assert_allclose(six, matrix_to_rot6d(rots[:5]))
    x = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    axis_angle_to_matrix_torch(x).sum().backward()
    assert torch.isfinite(x.grad).all()


def _edge_rotations() -> np.ndarray:
    """Identity, half turns about the axes and random axes, tiny and near-half-turn angles."""
    rng = np.random.default_rng(7)
    axes = rng.normal(size=(40, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    vectors = [
        np.zeros((1, 3)),
        np.pi * np.eye(3),
        np.pi * axes[:10],
        1e-9 * axes[10:20],
        1e-5 * axes[20:30],
        (np.pi - 1e-9) * axes[30:],
    ]
    return reference.axis_angle_to_matrix(np.concatenate(vectors))


@pytest.fixture(scope="module")
def many(rots) -> np.ndarray:
    return np.concatenate([rots[:2000], _edge_rotations()])


# scipy's results equal the hand-written formulas they replaced (tests/rotations_reference.py)
# to float64 rounding. Each route takes at most about 8 rounded operations on values of the
# output's magnitude (trig, products and sums of 3 terms, a square root or atan2), so the two
# differ by at most 16 roundings of that magnitude.
def test_euler_to_matrix_equals_the_per_axis_product():
    rng = np.random.default_rng(3)
    angles = rng.uniform(-180, 180, size=(2000, 3))
    angles[:100, 1] = rng.choice([-90.0, 90.0], 100)  # gimbal lock
    for order in ORDERS:
        np.testing.assert_allclose(
            euler_to_matrix(angles, order),
            reference.euler_to_matrix(angles, order),
            rtol=0,
            atol=ops_tol(16, 1.0, F64),
        )


def test_axis_angle_to_matrix_equals_rodrigues(many):
    aa = np.concatenate([reference.matrix_to_axis_angle(many), [[1e-12, 0, 0], [0, 0, 0]]])
    # Rodrigues' terms A K and B K^2 have magnitude up to 2 (|A t| <= 1, |B t^2| <= 2).
    np.testing.assert_allclose(
        axis_angle_to_matrix(aa),
        reference.axis_angle_to_matrix(aa),
        rtol=0,
        atol=ops_tol(16, 2.0, F64),
    )


def test_matrix_to_quaternion_and_axis_angle_equal_shepperd(many):
    q = matrix_to_quaternion(many)
    np.testing.assert_allclose(
        q, reference.matrix_to_quaternion(many), rtol=0, atol=ops_tol(16, 1.0, F64)
    )
    assert np.all(q[:, 0] >= 0)
    # Axis-angle: the quaternion's error, scaled by angle / sin(angle / 2) <= pi.
    np.testing.assert_allclose(
        matrix_to_axis_angle(many),
        reference.matrix_to_axis_angle(many),
        rtol=0,
        atol=ops_tol(16, np.pi, F64),
    )


def test_rotation_angle_between_equals_the_atan2_formula(many):
    other = np.concatenate([many[1:], many[:1]])
    for a, b in ((many, other), (many, many)):
        np.testing.assert_allclose(
            rotation_angle_between(a, b),
            reference.rotation_angle_between(a, b),
            rtol=0,
            atol=ops_tol(16, np.pi, F64),
        )


def test_leading_shapes_are_kept(rots):
    m = rots[:24].reshape(2, 3, 4, 3, 3)
    assert matrix_to_axis_angle(m).shape == (2, 3, 4, 3)
    assert matrix_to_quaternion(m).shape == (2, 3, 4, 4)
    assert rotation_angle_between(m, m).shape == (2, 3, 4)
    assert axis_angle_to_matrix(np.zeros((2, 5, 3))).shape == (2, 5, 3, 3)
    assert euler_to_matrix(np.zeros((4, 3))).shape == (4, 3, 3)
    np.testing.assert_array_equal(euler_to_matrix(np.zeros(3)), np.eye(3))
