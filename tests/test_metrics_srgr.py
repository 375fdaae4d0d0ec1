"""SRGR: weights by semantic score, the 4-degree threshold, Euler branch alignment."""

import numpy as np
import pytest

from adm.metrics.srgr import SRGR, gen_euler_from_axis_angle, srgr
from adm.rotations import axis_angle_to_euler


def make_pose(rng, frames=12, joints=47):
    return rng.uniform(-60, 60, size=(frames, joints, 3))


def test_identical_motion_recalls_the_mean_weight():
    rng = np.random.default_rng(0)
    gt = make_pose(rng)
    sem = rng.choice([0.0, 0.1, 0.5, 1.0], size=12)
    assert srgr(gt.copy(), gt, sem) == pytest.approx(np.mean(sem / 0.165))
    assert srgr(gt.reshape(12, 141), gt.reshape(12, 141), sem) == pytest.approx(
        np.mean(sem) / 0.165
    )
    assert srgr(gt, gt, np.zeros(12)) == 0.0


def test_a_joint_beyond_the_threshold_fails():
    rng = np.random.default_rng(1)
    gt = make_pose(rng)
    sem = np.full(12, 0.33)  # weight 2 on every frame
    gen = gt.copy()
    gen[:, 5] += [2.0, 2.0, 1.0]  # L1 error 5 degrees >= 4: joint 5 fails everywhere
    gen[:, 6] += [1.0, 1.0, 1.9]  # 3.9 degrees: still a success
    assert srgr(gen, gt, sem) == pytest.approx(2.0 * 46 / 47)
    assert srgr(gen, gt, sem, threshold=6.0) == pytest.approx(2.0)


def test_whole_turns_are_not_misses_after_branch_alignment():
    rng = np.random.default_rng(2)
    gt = make_pose(rng)
    sem = np.ones(12) * 0.165
    gen = gt.copy()
    gen[:, :10, 0] += 360.0
    gen[:, 10:20, 2] -= 720.0
    assert srgr(gen, gt, sem) == pytest.approx(1.0)
    assert srgr(gen, gt, sem, align_branch=False) == pytest.approx(27 / 47)


def test_axis_angle_is_compared_on_the_unwrapped_branch():
    rng = np.random.default_rng(3)
    aa = rng.normal(scale=0.8, size=(10, 47, 3))
    gt = axis_angle_to_euler(aa) + 360.0 * rng.integers(-2, 3, size=(1, 47, 3))
    gen = gen_euler_from_axis_angle(aa.reshape(10, 141), gt)
    assert np.allclose(gen, gt, atol=1e-6)
    assert srgr(gen, gt, np.full(10, 0.165), align_branch=False) == pytest.approx(1.0)


def test_accumulator_weights_sequences_by_frames():
    rng = np.random.default_rng(4)
    a, b = make_pose(rng, 10), make_pose(rng, 30)
    acc = SRGR()
    r1 = acc.update(a, a, np.full(10, 0.165))  # 1.0
    r2 = acc.update(b + 10.0, b, np.full(30, 0.165))  # every joint fails: 0.0
    assert (r1, r2) == (pytest.approx(1.0), 0.0)
    assert acc.compute() == pytest.approx(10 / 40)
    with pytest.raises(ValueError, match="disagree"):
        srgr(a, a, np.ones(9))


def test_metric_modules_are_not_shadowed_by_their_functions():
    import importlib
    import types

    import adm.metrics

    for name in ("srgr", "fgd", "diversity", "beat_align", "face_distance", "frechet", "gmm"):
        module = importlib.import_module(f"adm.metrics.{name}")
        assert isinstance(module, types.ModuleType)
        assert getattr(adm.metrics, name) is module
