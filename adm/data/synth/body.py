"""Body motion of one take: rest posture, idle sway, breathing, gesture strokes; BEAT BVH channels.

The arms move through keyframes (rest, ready, apex, held apex, rest) interpolated with the
minimum-jerk profile of human point-to-point reaching (Flash and Hogan 1985): velocity is zero
at every keyframe, so each stroke's apex is a wrist-speed minimum, as in recorded gestures.
On top come a speaker-specific idle sway of the spine and neck, breathing (spine flexion and a
shoulder lift) and head nods at stroke peaks. Angles are BEAT's Euler XYZ degrees; every joint
is clipped to the anatomical limits in :data:`JOINT_LIMITS`. The root (``Hips``) stays at the
origin with zero rotation, as BEAT v0.2.1 sets the root translation to zero at frame 0, and the
legs keep the rest pose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adm.data.bvh import BvhHeader
from adm.data.synth.gestures import HAND_SHAPES, Pose, Stroke

REST_ARM: Pose = {
    "Shoulder": (0.0, -8.0, 5.0),
    "Arm": (-8.0, 12.0, 80.0),  # arms hanging, slightly away from the hips and forward
    "ForeArm": (0.0, 20.0, 0.0),  # elbows a little bent
    "Hand": (0.0, 0.0, 0.0),
    **HAND_SHAPES["relaxed"],
}
"""The relaxed right-arm pose (arms down, not the T-pose of the skeleton's offsets)."""

_FINGER_1 = {"Index1", "Middle1", "Ring1", "Pinky1"}
_FINGER_23 = {f"{f}{k}" for f in ("Index", "Middle", "Ring", "Pinky") for k in (2, 3)}

# Right-side joint limits, Euler XYZ degrees: (low xyz, high xyz). Sources: ranges of motion
# in clinical goniometry (shoulder flexion to ~180, abduction to ~180, elbow flexion 0-145,
# wrist flexion/extension ~60, finger flexion to ~90-110), narrowed to speaking gestures.
JOINT_LIMITS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "Spine": ((-10, -15, -10), (25, 15, 10)),
    "Neck": ((-20, -35, -20), (30, 35, 20)),
    "Neck1": ((-15, -20, -15), (20, 20, 15)),
    "Shoulder": ((-5, -25, -10), (5, 10, 20)),
    "Arm": ((-95, -30, -10), (40, 90, 100)),  # X<0 raises forward, Z=90 is arm down
    "ForeArm": ((-60, 0, -30), (60, 145, 30)),  # Y = elbow flexion, no hyperextension
    "Hand": ((-95, -30, -60), (60, 30, 60)),  # X = palm turn, Z = wrist flexion
    "HandIndex": ((-10, -10, -10), (10, 10, 10)),
    "HandRing": ((-10, -10, -10), (10, 10, 10)),
    "HandPinky": ((-10, -10, -10), (10, 10, 10)),
    **{f"Hand{j}": ((-10, -25, -15), (10, 25, 95)) for j in _FINGER_1},
    **{f"Hand{j}": ((-5, -5, -5), (5, 5, 110)) for j in _FINGER_23},
    "HandThumb1": ((0, -30, -30), (75, 30, 45)),
    "HandThumb2": ((-20, -20, -20), (20, 20, 60)),
    "HandThumb3": ((-10, -10, -10), (10, 10, 80)),
}  # fmt: skip
"""Limits of the right side; the left side is their mirror image (see :func:`mirror`)."""


def mirror(v: tuple[float, float, float] | np.ndarray) -> np.ndarray:
    """Right-side Euler XYZ angles ``[..., 3]`` -> the left side's: ``(x, -y, -z)``."""
    return np.asarray(v, dtype=np.float64) * np.array([1.0, -1.0, -1.0])


def limits(joint: str) -> tuple[np.ndarray, np.ndarray]:
    """(low [3], high [3]) limits of a BEAT joint name (sided or not); +-180 when unlimited."""
    for side in ("Right", "Left"):
        if joint.startswith(side) and joint[len(side) :] in JOINT_LIMITS:
            lo, hi = (np.asarray(v, float) for v in JOINT_LIMITS[joint[len(side) :]])
            if side == "Left":
                lo, hi = np.minimum(mirror(lo), mirror(hi)), np.maximum(mirror(lo), mirror(hi))
            return lo, hi
    if joint in JOINT_LIMITS:
        return tuple(np.asarray(v, float) for v in JOINT_LIMITS[joint])  # type: ignore[return-value]
    return np.full(3, -180.0), np.full(3, 180.0)


@dataclass(frozen=True)
class BodyStyle:
    """A speaker's posture and idle motion.

    Attributes:
        spine_lean: forward lean of the spine (Spine X), degrees.
        neck_pitch: head pitch (Neck X), degrees.
        rest_abduction: added to the rest arm's ``Arm`` Z (negative = arms further out).
        rest_elbow: added to the rest elbow flexion (``ForeArm`` Y).
        sway: amplitude of the idle sway of the spine and neck, degrees.
        sway_hz: main sway frequency.
        breath_hz: breathing frequency (adults at rest: 0.2-0.3 Hz).
        breath: amplitude of the breathing motion, degrees.
        nod: head nod at a stroke peak (Neck X), degrees.
    """

    spine_lean: float = 8.0
    neck_pitch: float = 4.0
    rest_abduction: float = 0.0
    rest_elbow: float = 0.0
    sway: float = 1.5
    sway_hz: float = 0.15
    breath_hz: float = 0.25
    breath: float = 0.8
    nod: float = 4.0


def rest_arm(style: BodyStyle) -> Pose:
    """The speaker's relaxed right-arm pose."""
    pose = dict(REST_ARM)
    x, y, z = pose["Arm"]
    pose["Arm"] = (x, y, z + style.rest_abduction)
    x, y, z = pose["ForeArm"]
    pose["ForeArm"] = (x, y + style.rest_elbow, z)
    return pose


def _scaled(pose: Pose, rest: Pose, amount: float, shape: str) -> Pose:
    """``rest + amount * (pose - rest)`` per arm joint, with the fingers in ``shape``."""
    out: Pose = {}
    target = {**rest, **pose, **HAND_SHAPES[shape]}
    for j, r in rest.items():
        t = np.asarray(target.get(j, r))
        k = amount if j in ("Shoulder", "Arm", "ForeArm", "Hand") else 1.0
        out[j] = tuple(np.asarray(r) + k * (t - np.asarray(r)))  # type: ignore[assignment]
    return out


def minimum_jerk(u: np.ndarray) -> np.ndarray:
    """Minimum-jerk position profile ``10u^3 - 15u^4 + 6u^5`` on ``u`` in [0, 1]."""
    u = np.clip(u, 0.0, 1.0)
    return u**3 * (10.0 - 15.0 * u + 6.0 * u * u)


def interpolate_keyframes(times: np.ndarray, values: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Minimum-jerk interpolation of keyframes ``values`` [K, D] at ``times`` [K] -> [len(t), D].

    Before the first and after the last keyframe the value is held.
    """
    idx = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 1)
    nxt = np.minimum(idx + 1, len(times) - 1)
    span = np.maximum(times[nxt] - times[idx], 1e-9)
    s = minimum_jerk((t - times[idx]) / span)[:, None]
    return values[idx] + s * (values[nxt] - values[idx])


def arm_keyframes(
    strokes: list[Stroke], side: str, rest: Pose, duration: float
) -> tuple[np.ndarray, list[Pose]]:
    """Keyframe times [K] and right-convention poses of one arm (``side`` "Right"/"Left").

    Each stroke contributes ready, apex and held-apex keyframes (the hold drifts on by 10% of
    the stroke, so the hand never freezes); the arm returns to rest after a stroke unless the
    next one's preparation begins before the retraction would end (co-articulated gestures).
    """
    mine = [s for s in strokes if side in s.arms()]
    times: list[float] = [0.0]
    poses: list[Pose] = [rest]
    for i, s in enumerate(mine):
        ready = _scaled(s.form.ready, rest, s.amplitude, s.form.shape)
        apex = _scaled(s.form.apex, rest, s.amplitude, s.form.shape)
        held = {
            j: tuple(np.asarray(apex[j]) + 0.1 * (np.asarray(apex[j]) - np.asarray(ready[j])))
            for j in apex
        }  # type: ignore[misc]
        if s.start > times[-1]:
            times.append(s.start)
            poses.append(poses[-1])  # preparation starts from where the arm is
        times += [s.stroke_start, s.peak, s.hold_end]
        poses += [ready, apex, held]
        follows = i + 1 < len(mine) and mine[i + 1].start < s.end
        if not follows:
            times.append(s.end)
            poses.append(rest)
    if times[-1] < duration:
        times.append(duration)
        poses.append(poses[-1])
    return np.asarray(times), poses


def body_motion(
    header: BvhHeader,
    strokes: list[Stroke],
    duration: float,
    fps: float,
    style: BodyStyle,
    rng: np.random.Generator,
) -> np.ndarray:
    """BEAT BVH channels ``[T, C]`` (``T = round(duration * fps)``) for one take.

    Args:
        header: BEAT skeleton (joints are found by name).
        strokes: planned gestures (see ``gestures.plan_strokes``).
        style: the speaker's posture and idle motion.
        rng: the gesture RNG (idle phases and jitter come from it, not from the speech RNG).
    """
    n = int(round(duration * fps))
    t = np.arange(n) / fps
    angles: dict[str, np.ndarray] = {}
    rest = rest_arm(style)
    for side in ("Right", "Left"):
        times, poses = arm_keyframes(strokes, side, rest, duration)
        joints = list(rest)
        values = np.array([[poses[k][j] for j in joints] for k in range(len(poses))])
        track = interpolate_keyframes(times, values.reshape(len(times), -1), t)
        track = track.reshape(n, len(joints), 3)
        # a faint pendulum of the arm that keeps resting hands alive (0.3-0.6 Hz, < 1.5 deg)
        swing = rng.uniform(0.5, 1.5) * np.sin(2 * np.pi * rng.uniform(0.3, 0.6) * t
                                                + rng.uniform(0, 2 * np.pi))  # fmt: skip
        track[:, joints.index("Arm"), 2] += swing
        for k, j in enumerate(joints):
            v = track[:, k]
            angles[side + j] = v if side == "Right" else mirror(v)

    def wave(amp: float, hz: float) -> np.ndarray:
        return amp * np.sin(2 * np.pi * hz * rng.uniform(0.7, 1.3) * t + rng.uniform(0, 2 * np.pi))

    breath = np.sin(2 * np.pi * style.breath_hz * t + rng.uniform(0, 2 * np.pi))
    spine = np.zeros((n, 3))
    spine[:, 0] = style.spine_lean + style.breath * breath + wave(style.sway * 0.5, style.sway_hz)
    spine[:, 1] = wave(style.sway, style.sway_hz * 0.7)
    spine[:, 2] = wave(style.sway, style.sway_hz)
    neck = np.zeros((n, 3))
    neck[:, 0] = style.neck_pitch + wave(style.sway, style.sway_hz * 1.3)
    neck[:, 1] = wave(2.0 * style.sway, style.sway_hz * 0.5)
    neck[:, 2] = wave(style.sway * 0.7, style.sway_hz * 0.9)
    for s in strokes:  # head nods with the stroke, peaking slightly after it
        neck[:, 0] += style.nod * s.amplitude * np.exp(-0.5 * ((t - s.peak - 0.05) / 0.12) ** 2)
    angles["Spine"] = spine
    angles["Neck"] = neck
    angles["Neck1"] = 0.3 * neck
    # breathing lifts both shoulders (negative Z raises the right shoulder)
    angles["RightShoulder"] = angles["RightShoulder"] + np.outer(breath, [0.0, 0.0, -style.breath])
    angles["LeftShoulder"] = angles["LeftShoulder"] + np.outer(breath, [0.0, 0.0, style.breath])

    motion = np.zeros((n, header.num_channels))
    for joint, v in angles.items():
        lo, hi = limits(joint)
        motion[:, header.rotation_columns(joint)] = np.clip(v, lo, hi)
    return motion
