"""The Live Link Face CSV: layout, timecodes, curves by name, head and eye rotations."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from tolerance import ops_tol

from adm.data.face import ARKIT_NAMES
from adm.generation.livelink import (
    EYE_RANGE_RAD,
    HEADER,
    head_rotation,
    timecode,
    write_livelink_csv,
)
from adm.skeleton import GESTURE_DIM, GESTURE_JOINTS


def test_timecodes_count_frames_at_the_rate():
    assert timecode(0, 60) == "00:00:00:00.000"
    assert timecode(59, 60) == "00:00:00:59.000"
    assert timecode(60, 60) == "00:00:01:00.000"
    assert timecode(30 * 3661 + 7, 30) == "01:01:01:07.000"


def test_csv_layout_curves_by_name_and_rotations(tmp_path):
    frames = 4
    face = np.zeros((frames, len(ARKIT_NAMES)))
    face[:] = (np.arange(len(ARKIT_NAMES)) + 1) / 100  # distinct values: a swap would show
    look = ARKIT_NAMES.index("eyeLookOutLeft")
    face[:, look] = 0.5
    neck = np.zeros((frames, GESTURE_DIM))
    yaw = np.linspace(-0.4, 0.4, frames)
    k = GESTURE_JOINTS.index("Neck")
    neck[:, 3 * k + 1] = yaw  # a turn about the vertical axis
    path = write_livelink_csv(tmp_path / "f.csv", face, 30, head_rotation(neck))
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == HEADER and len(HEADER) == 2 + 52 + 9
    assert len(rows) == 1 + frames and [r[1] for r in rows[1:]] == ["61"] * frames
    col = {name: i for i, name in enumerate(HEADER)}
    for k, name in enumerate(ARKIT_NAMES):
        column = name[0].upper() + name[1:]
        assert float(rows[1][col[column]]) == pytest.approx(face[0, k], abs=0.5e-6)
    assert all(float(r[col["TongueOut"]]) == 0.0 for r in rows[1:])
    heads = np.array([[float(r[col[c]]) for c in ("HeadYaw", "HeadPitch", "HeadRoll")]
                      for r in rows[1:]])  # fmt: skip
    # yaw recovered through matrix and Euler round trips (a few dozen roundings) and printing
    np.testing.assert_allclose(heads[:, 0], yaw, atol=0.5e-6 + ops_tol(50, 1.0, np.float64))
    np.testing.assert_allclose(heads[:, 1:], 0.0, atol=0.5e-6 + ops_tol(50, 1.0, np.float64))
    assert float(rows[1][col["LeftEyeYaw"]]) == pytest.approx(
        (0.5 - face[0, ARKIT_NAMES.index("eyeLookInLeft")]) * EYE_RANGE_RAD, abs=0.5e-6
    )


def test_only_live_link_rates_are_written(tmp_path):
    with pytest.raises(ValueError, match="30, 60"):
        write_livelink_csv(tmp_path / "f.csv", np.zeros((2, 51)), 25)
    assert not (tmp_path / "f.csv").exists()
