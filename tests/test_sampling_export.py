"""Writers of generated clips: Euler branches, BVH/JSON round trips, the staged folder."""

from __future__ import annotations

import numpy as np
import pytest
from tolerance import ops_tol, stored_rotation_tol

from adm.data.bvh import read_bvh
from adm.data.face import read_face_json
from adm.io.frames import read_frames
from adm.rotations import (
    axis_angle_to_matrix,
    euler_to_axis_angle,
    euler_to_matrix,
    rotation_angle_between,
)
from adm.sampling.export import gesture_euler, staged_folder, write_sample, write_samples_tsv
from adm.skeleton import gesture_rotation_columns


def _spin(frames: int) -> np.ndarray:
    """Axis-angle ``[T, 141]``: joint 0 turns about X through several full turns, others rest."""
    euler = np.zeros((frames, 47, 3))
    euler[:, 0, 0] = np.linspace(0.0, 700.0, frames)
    euler[:, 5, 2] = 30.0
    return euler_to_axis_angle(euler).reshape(frames, 141).astype(np.float32)


#: The axis-angle input is float32 (|error| <= u pi per component: about 3 u pi radians of
#: rotation, in degrees); the unwrapped Euler degrees come back in float32 (one rounding of up
#: to 720 degrees); the float64 conversions between add 16-odd roundings.
SPIN_TOL = np.degrees(3 * ops_tol(1, np.pi)) + ops_tol(1, 720.0) + ops_tol(16, 720.0, np.float64)


def test_euler_unwraps_along_time_without_reference():
    euler = gesture_euler(_spin(50)).reshape(50, 47, 3)
    np.testing.assert_allclose(euler[:, 0, 0], np.linspace(0.0, 700.0, 50), atol=SPIN_TOL)
    np.testing.assert_allclose(euler[:, 5, 2], 30.0, atol=SPIN_TOL)


def test_euler_follows_reference_branch():
    gesture = _spin(20)
    reference = np.zeros((20, 141))
    reference[:, 0] = np.linspace(0.0, 700.0, 20) + 720.0  # two turns further, as BEAT can be
    reference[:, 5 * 3 + 2] = 30.0 - 360.0
    euler = gesture_euler(gesture, reference).reshape(20, 47, 3)
    np.testing.assert_allclose(euler[:, 0, 0], reference[:, 0], atol=SPIN_TOL)
    np.testing.assert_allclose(euler[:, 5, 2], -330.0, atol=SPIN_TOL)


def test_write_sample_round_trips(tmp_path):
    frames = 33
    rng = np.random.default_rng(0)
    gesture = rng.normal(0.0, 0.8, (frames, 141)).astype(np.float32)
    face = rng.uniform(0.0, 1.0, (frames, 51)).astype(np.float32)
    meta = {"variant": "full", "seed": 3}
    paths = write_sample(tmp_path, "c", {"gesture": gesture, "face": face}, 30.0, meta)
    assert [p.name for p in paths] == ["c.parquet", "c.bvh", "c.json"]
    bvh = read_bvh(tmp_path / "c.bvh")
    assert len(bvh.header.joints) == 75 and bvh.motion.shape == (frames, 228)
    cols = gesture_rotation_columns(bvh.header)
    rot = euler_to_matrix(bvh.motion[:, cols].astype(np.float64))
    geodesic = rotation_angle_between(rot, axis_angle_to_matrix(gesture.reshape(frames, 47, 3)))
    # Euler degrees are stored in float32 and printed with 6 decimals (5e-7 degrees each).
    printed = 3 * np.radians(0.5e-6)
    euler = np.radians(bvh.motion[:, cols])
    assert geodesic.max() <= stored_rotation_tol(euler, gesture) + printed
    weights = read_face_json(tmp_path / "c.json", 30.0).weights
    np.testing.assert_allclose(weights, face, atol=ops_tol(1, 1.0), rtol=0)  # float32 repr
    table = read_frames(tmp_path / "c.parquet")
    assert table.metadata == {**meta, "clip": "c", "fps": 30.0, "num_frames": frames}
    assert set(table.columns) == {"gesture", "gesture_euler", "face"}


def test_samples_tsv(tmp_path):
    path = write_samples_tsv(tmp_path, [("a", 10), ("b", 7)])
    assert path.read_text() == "clip\tnum_frames\na\t10\nb\t7\n"


def test_staged_folder_replaces_on_success(tmp_path):
    out = tmp_path / "seed0"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with staged_folder(out) as folder:
        assert folder != out and folder.parent == out.parent
        assert (out / "old.txt").exists()  # untouched while the run is going
        (folder / "new.txt").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seed0"]


def test_staged_folder_failure_keeps_old_and_leaves_no_temp(tmp_path):
    out = tmp_path / "seed0"
    with pytest.raises(RuntimeError):
        with staged_folder(out) as folder:
            (folder / "half.parquet").write_text("x")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with staged_folder(out):
            raise RuntimeError("killed")
    assert [p.name for p in tmp_path.iterdir()] == ["seed0"]
    assert (out / "old.txt").read_text() == "old"
