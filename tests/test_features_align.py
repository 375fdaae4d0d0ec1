"""Time alignment of feature frames to motion frames."""

from __future__ import annotations

import numpy as np
import pytest

from adm.features.align import (
    clip_samples,
    events_to_frames,
    fit_waveform,
    interpolate_by_time,
    motion_times,
)


def test_linear_interpolation_hits_hand_computed_values():
    values = np.array([[0.0, 10.0], [1.0, 20.0], [3.0, 0.0]])
    times = np.array([0.0, 0.1, 0.2])
    out = interpolate_by_time(values, times, np.array([0.0, 0.05, 0.15, 0.2]))
    np.testing.assert_allclose(out, [[0, 10], [0.5, 15], [2, 10], [3, 0]], atol=1e-6)


def test_nearest_mode_never_blends():
    values = np.array([0.0, 200.0, 0.0])
    times, targets = np.array([0.0, 0.01, 0.02]), np.array([0.004, 0.006, 0.016])
    out = interpolate_by_time(values, times, targets, mode="nearest")
    np.testing.assert_array_equal(out, [0.0, 200.0, 0.0])
    np.testing.assert_allclose(interpolate_by_time(values, times, targets), [80, 120, 80])


def test_times_outside_the_grid_take_the_edge_frames():
    out = interpolate_by_time(np.array([1.0, 2.0]), np.array([0.1, 0.2]), np.array([0.0, 0.5]))
    np.testing.assert_array_equal(out, [1.0, 2.0])


@pytest.mark.parametrize("minutes", [0.1, 1.0, 10.0])
def test_no_drift_for_any_clip_length(minutes):
    # A feature whose value is its own frame time (10 ms grid) must read back the motion
    # frame's time (30 fps) everywhere, also at the end of a 10-minute take.
    num_frames = int(minutes * 60 * 30)
    grid = np.arange(int(minutes * 60 * 100) + 2) * 0.01
    out = interpolate_by_time(grid, grid, motion_times(num_frames, 30))
    np.testing.assert_allclose(out, np.arange(num_frames) / 30, atol=1e-4)


def test_clip_samples_and_fit_waveform_give_the_clip_duration():
    assert clip_samples(300, 30, 16000) == 160000
    assert clip_samples(1, 30, 16000) == 533
    short = fit_waveform(np.ones(100, np.float32), 160)
    assert short.shape == (160,) and short[:100].all() and not short[100:].any()
    np.testing.assert_array_equal(fit_waveform(np.arange(10.0), 4), [0, 1, 2, 3])


def test_events_land_on_the_nearest_frame_and_outside_events_are_dropped():
    flag = events_to_frames(np.array([0.0, 0.049, 0.051, 1.0, -0.2, 0.34]), 10, 30)
    assert np.nonzero(flag)[0].tolist() == [0, 1, 2]
