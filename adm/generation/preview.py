"""An MP4 preview of generated motion: the skeleton beside a face driven by the blendshapes.

Left panel: BEAT's skeleton seen from the front, posed by forward kinematics of the BVH that
the gesture makes (the same Euler conversion as the written BVH). Right panel: a line-drawn face
whose eyes (blink, squint, wide, gaze), brows, jaw, lips (smile, frown, stretch, pucker,
funnel, sideways) and cheeks follow the ARKit weights. Frames are drawn with matplotlib and
piped as raw RGB to the ffmpeg binary that the ``imageio-ffmpeg`` package ships (no system
ffmpeg), which muxes the audio in as AAC. The file is written under a temporary name and
renamed when complete.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from adm.data.beat_skeleton import beat_header
from adm.data.face import ARKIT_NAMES
from adm.io.atomic import atomic_path
from adm.kinematics import forward_kinematics
from adm.skeleton import GESTURE_DIM, gesture_to_euler_motion

MAX_VIDEO_FPS = 30
"""Previews are drawn at no more than this rate: enough to judge motion, half the drawing time
of 60 fps data (which is shown every other frame)."""

_W = {name: k for k, name in enumerate(ARKIT_NAMES)}
_EYE_X, _EYE_Y = 0.42, 0.28
_MOUTH_Y = -0.62


def _check(gesture: np.ndarray, face: np.ndarray, fps: int, wav_path: Path | None) -> None:
    if gesture.ndim != 2 or gesture.shape[1] != GESTURE_DIM:
        raise ValueError(f"gesture must be [T, {GESTURE_DIM}], got {list(gesture.shape)}")
    if face.ndim != 2 or face.shape[1] != len(ARKIT_NAMES):
        raise ValueError(f"face must be [T, {len(ARKIT_NAMES)}], got {list(face.shape)}")
    if len(gesture) != len(face) or len(gesture) == 0:
        raise ValueError(
            f"gesture and face must have the same number of frames >= 1, got "
            f"{len(gesture)} and {len(face)}"
        )
    if not (np.isfinite(gesture).all() and np.isfinite(face).all()):
        raise ValueError("gesture and face must be finite")
    if not (isinstance(fps, int | np.integer) and fps > 0):
        raise ValueError(f"fps must be a positive integer, got {fps!r}")
    if wav_path is not None and not Path(wav_path).is_file():
        raise FileNotFoundError(2, "No such file", str(wav_path))


def video_rate(fps: int) -> tuple[int, int]:
    """(frame step, video fps): every ``step``-th motion frame is drawn, at ``fps / step``.

    The step is the smallest integer that brings the rate to at most :data:`MAX_VIDEO_FPS`
    while keeping it exact (60 -> every 2nd frame at 30 fps; 15 -> every frame at 15 fps);
    a rate with no such divisor keeps its own (the video then plays every frame).
    """
    for step in range(1, fps + 1):
        if fps % step == 0 and fps // step <= MAX_VIDEO_FPS:
            return step, fps // step
    return 1, fps  # pragma: no cover (step == fps always qualifies)


def skeleton_positions(gesture: np.ndarray, fps: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """World joint positions ``[T, 75, 3]`` of BEAT's skeleton posed by ``gesture`` ``[T, 141]``,
    and the parent index of each joint."""
    header = beat_header(fps)
    motion = gesture_to_euler_motion(gesture, header, unwrap=True)
    return forward_kinematics(header, motion), header.parents


def _upper_body(names: tuple[str, ...]) -> list[int]:
    # The legs stay at rest in generated motion: framing them would shrink the arms.
    return [j for j, n in enumerate(names) if not any(s in n for s in ("Leg", "Foot", "Toe"))]


def _w(weights: np.ndarray, name: str) -> float:
    return float(np.clip(weights[_W[name]], 0.0, 1.0))


def face_shapes(weights: np.ndarray) -> dict[str, np.ndarray]:
    """The face drawing for one frame of weights ``[51]``: name -> polyline ``[N, 2]``.

    Coordinates: the face is centred at 0, x to the viewer's right, y up; the subject's left
    (ARKit ``...Left``) is on the viewer's right, as in a mirror-free front view.
    """
    w = lambda name: _w(weights, name)  # noqa: E731
    theta = np.linspace(0.0, 2.0 * np.pi, 41)
    shapes: dict[str, np.ndarray] = {}
    # Head: the lower half drops with the jaw and widens with puffed cheeks.
    jaw = w("jawOpen") * (1.0 - 0.7 * w("mouthClose"))
    lower = np.sin(theta) < 0
    rx = 1.0 + 0.12 * w("cheekPuff") * lower
    ry = np.where(lower, 1.25 + 0.35 * jaw, 1.3)
    jaw_x = 0.15 * (w("jawLeft") - w("jawRight"))
    shapes["head"] = np.stack([rx * np.cos(theta) + jaw_x * lower, ry * np.sin(theta)], axis=1)
    for side, sign in (("Left", 1.0), ("Right", -1.0)):
        cx = sign * _EYE_X
        open_ = (1.0 - w(f"eyeBlink{side}")) * (1.0 - 0.5 * w(f"eyeSquint{side}"))
        h = 0.1 * open_ * (1.0 + 0.6 * w(f"eyeWide{side}")) + 0.004
        shapes[f"eye{side}"] = np.stack(
            [cx + 0.18 * np.cos(theta), _EYE_Y + h * np.sin(theta)], axis=1
        )
        # Gaze: "out" is towards the subject's own side, "in" towards the nose.
        gx = sign * 0.08 * (w(f"eyeLookOut{side}") - w(f"eyeLookIn{side}"))
        gy = 0.06 * (w(f"eyeLookUp{side}") - w(f"eyeLookDown{side}"))
        r = min(0.05, h)
        shapes[f"pupil{side}"] = np.stack(
            [cx + gx + r * np.cos(theta), _EYE_Y + np.clip(gy, -h + r, h - r) + r * np.sin(theta)],
            axis=1,
        )
        inner = 0.62 + 0.18 * w("browInnerUp") - 0.12 * w(f"browDown{side}")
        outer = 0.6 + 0.16 * w(f"browOuterUp{side}") - 0.05 * w(f"browDown{side}")
        shapes[f"brow{side}"] = np.array([[sign * 0.18, inner], [sign * 0.68, outer]])
    # Mouth: two lips between the corners; corners move with smile/frown/stretch/pucker.
    shift = 0.12 * (w("mouthLeft") - w("mouthRight")) + jaw_x
    half = {}
    lift = {}
    for side in ("Left", "Right"):
        narrow = 0.45 * w("mouthPucker") + 0.35 * w("mouthFunnel")
        half[side] = 0.34 * (1.0 + 0.35 * w(f"mouthStretch{side}") - narrow) + 0.06 * w(
            f"mouthSmile{side}"
        )
        lift[side] = 0.12 * w(f"mouthSmile{side}") - 0.1 * w(f"mouthFrown{side}")
    xs = np.linspace(-1.0, 1.0, 21)
    left_x, right_x = shift + half["Left"], shift - half["Right"]
    x = right_x + (xs + 1.0) / 2.0 * (left_x - right_x)
    corner_y = _MOUTH_Y + lift["Right"] + (xs + 1.0) / 2.0 * (lift["Left"] - lift["Right"])
    bulge = 1.0 - xs**2  # 0 at the corners, 1 in the middle
    up = (
        0.03 + 0.08 * (w("mouthUpperUpLeft") + w("mouthUpperUpRight")) / 2 + 0.05 * w("mouthFunnel")
    )
    down = (
        0.03
        + 0.5 * jaw
        + 0.08 * (w("mouthLowerDownLeft") + w("mouthLowerDownRight")) / 2
        + 0.05 * w("mouthFunnel")
        - 0.02 * (w("mouthRollLower") + w("mouthPressLeft") + w("mouthPressRight"))
    )
    upper = np.stack([x, corner_y + max(up, 0.0) * bulge], axis=1)
    lower = np.stack([x, corner_y - max(down, 0.0) * bulge], axis=1)
    shapes["lipUpper"] = upper
    shapes["lipLower"] = lower
    shapes["mouth"] = np.concatenate([upper, lower[::-1]])
    nose_y = 0.0 - 0.03 * (w("noseSneerLeft") + w("noseSneerRight"))
    shapes["nose"] = np.array([[0.0, 0.2], [-0.1, nose_y - 0.1], [0.08, nose_y - 0.12]])
    return shapes


def _frames(
    positions: np.ndarray,
    parents: tuple[int, ...],
    names: tuple[str, ...],
    face: np.ndarray,
    step: int,
    fps: int,
    size: tuple[int, int],
    title: str | None,
) -> Iterator[bytes]:
    """Raw RGB24 frames ``size[1] x size[0] x 3`` of the preview, one per drawn frame."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Polygon

    width, height = size
    fig = Figure(figsize=(width / 100, height / 100), dpi=100)
    canvas = FigureCanvasAgg(fig)  # its own canvas: no global backend, no pyplot state
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.03, top=0.9, wspace=0.05)
    ax_body, ax_face = fig.subplots(1, 2)
    upper = _upper_body(names)
    lo = positions[:, upper, :2].min(axis=(0, 1))
    hi = positions[:, upper, :2].max(axis=(0, 1))
    centre, span = (lo + hi) / 2, float((hi - lo).max()) / 2 + 5.0
    ax_body.set_xlim(centre[0] - span, centre[0] + span)
    ax_body.set_ylim(centre[1] - span, centre[1] + span)
    bones = [(p, j) for j, p in enumerate(parents) if p >= 0 and j in set(upper)]
    colors = [
        "tab:red" if names[j].startswith("Right") else
        ("tab:blue" if names[j].startswith("Left") else "0.2")
        for _, j in bones
    ]  # fmt: skip
    # Animated artists are left out of canvas.draw(): the static figure is drawn once and
    # each frame only redraws them over a copy of it (blitting, several times faster).
    skeleton = LineCollection([], colors=colors, linewidths=2.0, animated=True)
    ax_body.add_collection(skeleton)
    ax_face.set_xlim(-1.6, 1.6)
    ax_face.set_ylim(-1.9, 1.5)
    lines = {
        name: ax_face.plot([], [], color=color, lw=lw, animated=True)[0]
        for name, color, lw in (
            ("head", "0.2", 2.0), ("eyeLeft", "0.1", 1.5), ("eyeRight", "0.1", 1.5),
            ("browLeft", "0.1", 3.0), ("browRight", "0.1", 3.0), ("nose", "0.4", 1.5),
            ("lipUpper", "tab:red", 2.5), ("lipLower", "tab:red", 2.5),
        )
    }  # fmt: skip
    pupils = {
        side: ax_face.add_patch(Polygon(np.zeros((3, 2)), closed=True, color="0.1", animated=True))
        for side in ("Left", "Right")
    }
    mouth = ax_face.add_patch(
        Polygon(np.zeros((3, 2)), closed=True, color="0.25", alpha=0.8, animated=True)
    )
    for ax, label in ((ax_body, "gesture"), (ax_face, "face")):
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(label, fontsize=10)
    caption = fig.suptitle("", fontsize=11)
    caption.set_animated(True)
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)
    for f in range(0, len(face), step):
        canvas.restore_region(background)
        pos = positions[f]
        skeleton.set_segments([pos[[p, j], :2] for p, j in bones])
        shapes = face_shapes(face[f])
        for name, line in lines.items():
            line.set_data(shapes[name][:, 0], shapes[name][:, 1])
        for side, patch in pupils.items():
            patch.set_xy(shapes[f"pupil{side}"])
        mouth.set_xy(shapes["mouth"])
        caption.set_text(f"{title + '   ' if title else ''}t = {f / fps:6.2f} s")
        ax_body.draw_artist(skeleton)
        for artist in (mouth, *pupils.values(), *lines.values()):
            ax_face.draw_artist(artist)
        fig.draw_artist(caption)
        rgba = np.asarray(canvas.buffer_rgba())
        yield np.ascontiguousarray(rgba[..., :3]).tobytes()


def render_preview(
    gesture: np.ndarray,
    face: np.ndarray,
    fps: int,
    wav_path: Path | None,
    out_mp4: Path,
    *,
    size: tuple[int, int] = (960, 480),
    title: str | None = None,
) -> Path:
    """Write an H.264 MP4 of the skeleton and the face, with the audio as an AAC stream.

    Args:
        gesture: ``[T, 141]`` axis-angle radians of the 47 gesture joints (adm's layout).
        face: ``[T, 51]`` ARKit weights in BEAT's name order (values outside [0, 1] are drawn
            clipped).
        fps: frame rate of both streams; the video plays at :func:`video_rate`.
        wav_path: audio to mux in (anything ffmpeg reads), or ``None`` for a silent video.
        out_mp4: the file to write (its folder is created); replaced only when complete.
        size: video width and height in pixels (multiples of 16 keep them exact).
        title: shown above the panels with the time.

    Returns:
        ``out_mp4``.

    Raises:
        ValueError: shapes, frame counts or ``fps`` are wrong, or the motion is not finite.
        FileNotFoundError: ``wav_path`` does not exist.
        WriteError: the file cannot be written; nothing is left behind.
    """
    import imageio_ffmpeg

    gesture = np.asarray(gesture, dtype=np.float64)
    face = np.asarray(face, dtype=np.float64)
    _check(gesture, face, fps, wav_path)
    step, video_fps = video_rate(int(fps))
    positions, parents = skeleton_positions(gesture, int(fps))
    names = beat_header(fps).joints
    out_mp4 = Path(out_mp4)
    with atomic_path(out_mp4) as tmp:
        writer = imageio_ffmpeg.write_frames(
            str(tmp),
            size,
            fps=video_fps,
            codec="libx264",
            pix_fmt_out="yuv420p",
            macro_block_size=1,
            quality=6,
            audio_path=None if wav_path is None else str(wav_path),
            audio_codec="aac",
            # the temporary name ends in .tmp: name the container
            output_params=["-f", "mp4", "-movflags", "+faststart"],
            ffmpeg_log_level="error",
        )
        writer.send(None)  # start ffmpeg
        try:
            for frame in _frames(positions, parents, names, face, step, fps, size, title):
                writer.send(frame)
        finally:
            writer.close()
    return out_mp4
