"""The MP4 preview: streams, durations, what the panels show, and nothing left on failure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adm.data.audio import write_wav
from adm.data.face import ARKIT_NAMES
from adm.generation.preview import face_shapes, render_preview, skeleton_positions, video_rate
from adm.generation.probe import probe_media
from adm.skeleton import GESTURE_DIM, GESTURE_JOINTS

SR = 16000
# AAC codes audio in frames of 1024 samples: the stream's length is rounded up to whole frames
# and the encoder's priming may add one more; at the preview's audio rate that is at most:
AAC_SLACK = 2 * 1024 / SR
SIZE = (320, 160)


def _motion(frames: int, fps: int) -> tuple[np.ndarray, np.ndarray]:
    """A right forearm swinging and the jaw opening and closing once a second."""
    t = np.arange(frames) / fps
    gesture = np.zeros((frames, GESTURE_DIM))
    fore = GESTURE_JOINTS.index("RightForeArm")
    gesture[:, 3 * fore + 2] = 1.2 * np.sin(2 * np.pi * t)
    face = np.zeros((frames, len(ARKIT_NAMES)))
    face[:, ARKIT_NAMES.index("jawOpen")] = 0.5 - 0.5 * np.cos(2 * np.pi * t)
    return gesture, face


def _wav(path: Path, seconds: float) -> Path:
    t = np.arange(int(seconds * SR)) / SR
    write_wav(path, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), SR)
    return path


@pytest.mark.parametrize("fps", [30, 60])
def test_preview_has_video_and_audio_of_the_motions_length(tmp_path, fps):
    gesture, face = _motion(int(1.5 * fps), fps)
    out = render_preview(
        gesture, face, fps, _wav(tmp_path / "a.wav", 1.5), tmp_path / "p.mp4", size=SIZE
    )
    media = probe_media(out)
    assert media.streams == ("Video", "Audio")
    step, video_fps = video_rate(fps)
    assert video_fps == 30 and media.video_frames == int(1.5 * fps) // step
    assert media.video_seconds == pytest.approx(1.5, abs=0.5 / video_fps)
    assert abs(media.audio_seconds - 1.5) <= AAC_SLACK
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav", "p.mp4"]  # no temporaries


def test_preview_without_audio_has_one_stream(tmp_path):
    gesture, face = _motion(15, 15)
    media = probe_media(render_preview(gesture, face, 15, None, tmp_path / "p.mp4", size=SIZE))
    assert media.streams == ("Video",)
    assert media.video_frames == 15 and media.audio_seconds == 0.0


def test_preview_frames_show_the_arm_and_the_jaw_moving(tmp_path):
    import imageio_ffmpeg

    fps = 30
    gesture, face = _motion(fps, fps)  # t = 0: arm at rest, jaw closed; t = 0.25 s: both moved
    out = render_preview(gesture, face, fps, None, tmp_path / "p.mp4", size=SIZE, title="x")
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    w, h = meta["size"]
    frames = [np.frombuffer(f, np.uint8).reshape(h, w, 3).astype(int) for f in reader]
    rest, moved = frames[0], frames[fps // 4]
    # below the caption, the left half is the skeleton and the right half the face
    body = np.abs(rest[h // 5 :, : w // 2] - moved[h // 5 :, : w // 2]).max(axis=-1)
    head = np.abs(rest[h // 5 :, w // 2 :] - moved[h // 5 :, w // 2 :]).max(axis=-1)
    # a change far above H.264's compression noise over whole strokes, in both panels
    assert (body > 100).sum() > 20 and (head > 100).sum() > 20


def test_face_shapes_follow_the_blendshapes():
    idx = {name: k for k, name in enumerate(ARKIT_NAMES)}
    neutral = face_shapes(np.zeros(len(ARKIT_NAMES)))
    jaw = np.zeros(len(ARKIT_NAMES))
    jaw[idx["jawOpen"]] = 1.0
    opened = face_shapes(jaw)
    assert opened["lipLower"][:, 1].min() < neutral["lipLower"][:, 1].min() - 0.3
    assert opened["head"][:, 1].min() < neutral["head"][:, 1].min() - 0.2
    blink = np.zeros(len(ARKIT_NAMES))
    blink[idx["eyeBlinkLeft"]] = 1.0
    shut = face_shapes(blink)
    height = lambda s: np.ptp(s[:, 1])  # noqa: E731
    # the subject's left eye is on the viewer's right, and only it closes
    assert shut["eyeLeft"][:, 0].mean() > 0
    assert height(shut["eyeLeft"]) < 0.1 * height(neutral["eyeLeft"])
    assert height(shut["eyeRight"]) == pytest.approx(height(neutral["eyeRight"]))
    smile = np.zeros(len(ARKIT_NAMES))
    smile[[idx["mouthSmileLeft"], idx["mouthSmileRight"]]] = 1.0
    corners = face_shapes(smile)["lipUpper"][[0, -1], 1]
    assert (corners > neutral["lipUpper"][[0, -1], 1] + 0.1).all()
    brow = np.zeros(len(ARKIT_NAMES))
    brow[idx["browInnerUp"]] = 1.0
    assert face_shapes(brow)["browLeft"][0, 1] > neutral["browLeft"][0, 1] + 0.1


def test_skeleton_follows_the_gesture():
    gesture, _ = _motion(30, 30)
    pos, _ = skeleton_positions(gesture, 30)
    from adm.data.beat_skeleton import BEAT_JOINTS

    hand = BEAT_JOINTS.index("RightHand")
    spine = BEAT_JOINTS.index("Spine")
    assert np.ptp(pos[:, hand], axis=0).max() > 10.0  # the hand swings (cm)
    assert np.ptp(pos[:, spine], axis=0).max() == 0.0  # the spine does not


def test_failed_render_leaves_nothing(tmp_path):
    gesture, face = _motion(30, 30)
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    with pytest.raises(OSError):
        render_preview(gesture, face, 30, bad, tmp_path / "out" / "p.mp4", size=SIZE)
    assert list((tmp_path / "out").iterdir()) == []


def test_preview_refuses_mismatched_streams(tmp_path):
    gesture, face = _motion(30, 30)
    with pytest.raises(ValueError, match="same number of frames"):
        render_preview(gesture, face[:20], 30, None, tmp_path / "p.mp4")
    with pytest.raises(ValueError, match=r"\[T, 141\]"):
        render_preview(gesture[:, :10], face, 30, None, tmp_path / "p.mp4")
    assert not (tmp_path / "p.mp4").exists()
