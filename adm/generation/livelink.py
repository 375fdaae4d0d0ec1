"""Face curves as a Live Link Face CSV, the take layout Unreal's Live Link and MetaHuman read.

One row per frame: ``Timecode`` (``HH:MM:SS:FF.mmm``, frames counted at the file's rate,
starting at 00:00:00:00), ``BlendShapeCount`` (61: the 52 ARKit curves and 9 rotations), the
52 ARKit curves in Live Link Face's column order with ``TongueOut`` 0 (BEAT does not capture
the tongue), then ``HeadYaw, HeadPitch, HeadRoll`` and each eye's ``Yaw, Pitch, Roll``.

Rotations are in radians. The head's come from the generated neck (BEAT's ``Neck`` and
``Neck1`` rotations composed: the head's orientation relative to the upper spine, decomposed
as yaw about the vertical Y axis, pitch about X, roll about Z); without a gesture stream they
are 0. The eyes' are derived from the gaze blendshapes (``eyeLookOut - eyeLookIn`` for yaw,
``eyeLookUp - eyeLookDown`` for pitch, a full weight taken as :data:`EYE_RANGE_RAD`); eyes do
not roll.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from adm.data.face import ARKIT_NAMES
from adm.io.atomic import atomic_path
from adm.rotations import axis_angle_to_matrix, matrix_to_euler
from adm.skeleton import GESTURE_JOINTS

LIVE_LINK_CURVES: tuple[str, ...] = (
    "EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft", "EyeLookOutLeft", "EyeLookUpLeft",
    "EyeSquintLeft", "EyeWideLeft", "EyeBlinkRight", "EyeLookDownRight", "EyeLookInRight",
    "EyeLookOutRight", "EyeLookUpRight", "EyeSquintRight", "EyeWideRight", "JawForward",
    "JawRight", "JawLeft", "JawOpen", "MouthClose", "MouthFunnel", "MouthPucker", "MouthRight",
    "MouthLeft", "MouthSmileLeft", "MouthSmileRight", "MouthFrownLeft", "MouthFrownRight",
    "MouthDimpleLeft", "MouthDimpleRight", "MouthStretchLeft", "MouthStretchRight",
    "MouthRollLower", "MouthRollUpper", "MouthShrugLower", "MouthShrugUpper", "MouthPressLeft",
    "MouthPressRight", "MouthLowerDownLeft", "MouthLowerDownRight", "MouthUpperUpLeft",
    "MouthUpperUpRight", "BrowDownLeft", "BrowDownRight", "BrowInnerUp", "BrowOuterUpLeft",
    "BrowOuterUpRight", "CheekPuff", "CheekSquintLeft", "CheekSquintRight", "NoseSneerLeft",
    "NoseSneerRight", "TongueOut",
)  # fmt: skip
"""The 52 ARKit curves in Live Link Face's CSV column order."""

ROTATION_COLUMNS: tuple[str, ...] = (
    "HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
    "RightEyeYaw", "RightEyePitch", "RightEyeRoll",
)  # fmt: skip
HEADER: tuple[str, ...] = ("Timecode", "BlendShapeCount", *LIVE_LINK_CURVES, *ROTATION_COLUMNS)
BLENDSHAPE_COUNT = len(LIVE_LINK_CURVES) + len(ROTATION_COLUMNS)  # 61, as the app writes
EYE_RANGE_RAD = np.deg2rad(30.0)
FACE_RATES = (30, 60)


def _arkit(name: str) -> str:
    return name[0].lower() + name[1:]


def timecode(frame: int, fps: int) -> str:
    """``HH:MM:SS:FF.000`` of ``frame`` at ``fps`` from 00:00:00:00."""
    seconds, ff = divmod(int(frame), int(fps))
    minutes, ss = divmod(seconds, 60)
    hh, mm = divmod(minutes, 60)
    return f"{hh:02d}:{mm:02d}:{ss:02d}:{ff:02d}.000"


def head_rotation(gesture: np.ndarray) -> np.ndarray:
    """Head yaw, pitch, roll ``[T, 3]`` radians from the neck joints of ``gesture`` ``[T, 141]``."""
    g = np.asarray(gesture, dtype=np.float64)
    rot = np.eye(3)
    for joint in ("Neck", "Neck1"):
        k = GESTURE_JOINTS.index(joint)
        rot = rot @ axis_angle_to_matrix(g[:, 3 * k : 3 * k + 3])
    yxz = np.deg2rad(matrix_to_euler(rot, "YXZ"))  # intrinsic yaw (Y), then pitch (X), roll (Z)
    return yxz


def eye_rotation(face: np.ndarray, side: str) -> np.ndarray:
    """One eye's yaw, pitch, roll ``[T, 3]`` radians from the gaze blendshapes."""
    w = {name: face[:, k] for k, name in enumerate(ARKIT_NAMES)}
    yaw = (w[f"eyeLookOut{side}"] - w[f"eyeLookIn{side}"]) * EYE_RANGE_RAD
    if side == "Right":
        yaw = -yaw  # "out" turns the right eye the other way
    pitch = (w[f"eyeLookUp{side}"] - w[f"eyeLookDown{side}"]) * EYE_RANGE_RAD
    return np.stack([yaw, pitch, np.zeros_like(yaw)], axis=1)


def livelink_rows(face: np.ndarray, head: np.ndarray | None) -> np.ndarray:
    """The numeric columns ``[T, 61]``: 52 curves (TongueOut 0) and 9 rotations."""
    face = np.asarray(face, dtype=np.float64)
    index = {name: k for k, name in enumerate(ARKIT_NAMES)}
    curves = np.zeros((len(face), len(LIVE_LINK_CURVES)))
    for c, name in enumerate(LIVE_LINK_CURVES):
        if _arkit(name) in index:
            curves[:, c] = face[:, index[_arkit(name)]]
    head = np.zeros((len(face), 3)) if head is None else np.asarray(head, dtype=np.float64)
    return np.concatenate(
        [curves, head, eye_rotation(face, "Left"), eye_rotation(face, "Right")], axis=1
    )


def write_livelink_csv(
    path: str | Path, face: np.ndarray, fps: int, head: np.ndarray | None = None
) -> Path:
    """Write ``face`` ``[T, 51]`` (BEAT's ARKit order) at ``fps`` (30 or 60) as a Live Link Face
    CSV, atomically; ``head`` ``[T, 3]`` yaw/pitch/roll radians (see :func:`head_rotation`)."""
    if fps not in FACE_RATES:
        raise ValueError(f"Live Link Face records at {FACE_RATES} fps, got {fps}")
    rows = livelink_rows(face, head)
    path = Path(path)
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as f:
        f.write(",".join(HEADER) + "\n")
        for i, row in enumerate(rows):
            values = ",".join(f"{v:.6f}" for v in row)
            f.write(f"{timecode(i, fps)},{BLENDSHAPE_COUNT},{values}\n")
    return path
