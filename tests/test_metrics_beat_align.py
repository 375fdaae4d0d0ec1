"""Beat Align: the score, audio onsets of clicks, motion beats, BEAT's compat quirks."""

import numpy as np
import pytest

from adm.metrics.beat_align import (
    BeatAlign,
    audio_beats,
    beat_align,
    beat_align_score,
    joint_speed,
    motion_beats,
    onset_frames,
)
from adm.skeleton import GESTURE_JOINTS

SR = 16000
HOP = 512
CLICK_FRAMES = np.array([20, 45, 70, 95, 130, 160, 190, 220])


def click_track(frames=CLICK_FRAMES, seconds=8):
    """Silence with short clicks starting exactly at the given hop-512 frame boundaries."""
    y = np.zeros(SR * seconds, np.float32)
    for f in frames:
        y[f * HOP : f * HOP + 64] += 0.8 * np.hanning(64).astype(np.float32)
    return y


def test_score_is_one_for_coincident_beats_and_gaussian_in_the_offset():
    beats = np.array([1.0, 2.0, 3.5, 5.0])
    assert beat_align_score(beats, beats) == pytest.approx(1.0)
    for delta in (0.05, 0.2, 0.4):
        expected = np.exp(-(delta**2) / (2 * 0.3**2))
        assert beat_align_score(beats, beats + delta) == pytest.approx(expected)
        assert beat_align_score(beats, beats - delta, sigma=0.1) == pytest.approx(
            np.exp(-(delta**2) / (2 * 0.1**2))
        )


def test_direction_chooses_the_outer_mean():
    audio, motion = np.array([1.0]), np.array([1.0, 5.0])
    assert beat_align_score(audio, motion) == pytest.approx(1.0)
    far = np.exp(-(4.0**2) / (2 * 0.3**2))
    assert beat_align_score(audio, motion, direction="motion") == pytest.approx((1 + far) / 2)
    assert beat_align_score(audio, np.array([])) == 0.0
    assert np.isnan(beat_align_score(np.array([]), motion))


def test_click_onsets_land_on_the_clicks():
    y = click_track()
    clicks = CLICK_FRAMES * HOP / SR
    raw = onset_frames(y, SR, backtrack=False) * HOP / SR
    beats = audio_beats(y, SR)
    assert len(raw) == len(beats) == len(clicks)
    # Raw onsets: within one hop after each click.
    assert np.all((raw >= clicks) & (raw <= clicks + HOP / SR + 1e-9))
    # Backtracked to the RMS minimum: RMS frames are centred 2048-sample windows, so the energy
    # starts to rise two hops before the click; the beat is at most three hops early.
    assert np.all((beats <= clicks) & (beats >= clicks - 3 * HOP / SR - 1e-9))


def test_compat_beat_converts_frames_with_librosa_default_rate():
    y = click_track()
    ours, beat = audio_beats(y, SR), audio_beats(y, SR, compat="beat")
    assert np.allclose(beat / ours, 16000 / 22050)
    cut = 32 * HOP / SR  # trim a whole number of hops, so frames stay aligned
    trimmed = audio_beats(y, SR, trim_seconds=cut)
    assert np.allclose(trimmed, ours[ours > cut] - cut)


def test_motion_beats_are_speed_minima_in_seconds():
    speed = np.ones(100)
    speed[[10, 40, 75]] = 0.1
    assert np.allclose(motion_beats(speed, fps=30), [10 / 30, 40 / 30, 75 / 30])
    assert np.allclose(motion_beats(speed, fps=30, trim_seconds=1.0), [10 / 30, 45 / 30])


def test_joint_speed_averages_the_named_wrists():
    motion = np.zeros((5, 47, 3))
    right, left = GESTURE_JOINTS.index("RightHand"), GESTURE_JOINTS.index("LeftHand")
    motion[:, right, 0] = np.arange(5) * 2.0  # speed 2 per frame
    motion[:, left, 1] = np.arange(5) * 4.0  # speed 4 per frame
    motion[:, 0, 1] = np.arange(5) * 100.0  # Spine moves a lot but is not a wrist
    assert np.allclose(joint_speed(motion), 3.0)  # mean of the two wrists
    assert np.allclose(joint_speed(motion.reshape(5, 141), joints=["RightHand"]), 2.0)
    assert np.allclose(joint_speed(motion, joints=[0]), 100.0)
    with pytest.raises(ValueError, match="Wrist"):
        joint_speed(motion, joints=["Wrist"])


def test_compat_beat_reads_the_ring_finger_columns():
    assert GESTURE_JOINTS[12] == "RightHandRing2"  # columns 36:39 of the 141-d vector
    motion = np.zeros((6, 141))
    motion[:, 36] = np.arange(6) * 3.0
    motion[:, 18:21] = np.arange(6)[:, None] * 5.0  # the real right wrist moves too
    assert np.allclose(joint_speed(motion, compat="beat"), 3.0)
    assert np.allclose(joint_speed(motion), np.sqrt(3 * 25.0) / 2)


def test_end_to_end_and_accumulator_cache():
    fps = 30
    y = click_track()
    beats = audio_beats(y, SR)
    frames = int(8 * fps)
    speed = np.ones(frames - 1)
    speed[np.round(beats * fps).astype(int)] = 0.0
    speed[0] = 0.5  # a minimum at frame 0 is not a local minimum (argrelextrema)
    # Motion whose right wrist speed is exactly that curve.
    motion = np.zeros((frames, 47, 3))
    motion[1:, GESTURE_JOINTS.index("RightHand"), 0] = np.cumsum(speed)
    score = beat_align(y, SR, motion, fps, joints=["RightHand"])
    nearest = np.abs(beats[:, None] - np.round(beats * fps)[None, :] / fps).min(axis=1)
    expected = np.mean(np.exp(-(nearest**2) / (2 * 0.3**2)))
    assert score == pytest.approx(expected) and score > 0.99

    acc = BeatAlign(joints=["RightHand"])
    assert acc.update(y, SR, motion, fps, key="take") == pytest.approx(score)
    # Same key: the cached audio beats are used, whatever audio is passed.
    assert acc.update(np.zeros_like(y), SR, motion, fps, key="take") == pytest.approx(score)
    assert np.isnan(acc.update(np.zeros(SR, np.float32), SR, motion, fps))
    assert acc.skipped == 1  # silence has no audio beat: left out of the mean
    assert acc.compute() == pytest.approx(score)
