"""MambaTalk's body parts on adm's motion layout: which channels each part's VQ-VAE models.

MambaTalk (after EMAGE) quantises each body part with its own VQ-VAE. BEAT v0's 141-dim gesture
vector (:data:`adm.skeleton.GESTURE_JOINTS`, 3 axis-angle dims per joint) has no lower body, so
the parts are:

- ``upper``: the torso and arms down to the forearms, Spine, Neck, Neck1 and each side's
  Shoulder, Arm, ForeArm (9 joints, 27 dims);
- ``hands``: every other gesture joint, each wrist (``*Hand``) and its 15 finger joints
  (38 joints, 114 dims);
- ``face``: the 51 ARKit blendshape weights.

MambaTalk's SMPL-X upper part (``dataloaders/data_tools.py`` ``beat_smplx_upper``, @b3c30e4c)
also holds the wrists (SMPL-X ``*_wrist`` = BEAT ``*Hand``) and its hands part only the 30
finger joints; here each wrist goes with its fingers, so the hands VQ-VAE sees the whole hand.
"""

from __future__ import annotations

from collections.abc import Mapping

from adm.skeleton import GESTURE_JOINTS

#: Gesture joints of the upper-body part, in representation order.
UPPER_JOINTS: tuple[str, ...] = tuple(
    j
    for j in GESTURE_JOINTS
    if j in ("Spine", "Neck", "Neck1")
    or j.removeprefix("Right").removeprefix("Left") in ("Shoulder", "Arm", "ForeArm")
)

#: Which task each part belongs to (the UWP grouping: upper and hands are the gesture task).
PART_TASK: dict[str, str] = {"upper": "gesture", "hands": "gesture", "face": "face"}

#: Parts in output order (gesture parts before face, as tasks are ordered in ``x``).
PARTS: tuple[str, ...] = ("upper", "hands", "face")

FACE_DIM = 51


def gesture_part_channels() -> dict[str, tuple[int, ...]]:
    """Channels of the 141-dim gesture vector that belong to ``upper`` (27) and ``hands`` (114),
    each in ascending order; together they cover every channel exactly once."""
    upper, hands = [], []
    for k, joint in enumerate(GESTURE_JOINTS):
        (upper if joint in UPPER_JOINTS else hands).extend((3 * k, 3 * k + 1, 3 * k + 2))
    return {"upper": tuple(upper), "hands": tuple(hands)}


def part_dims() -> dict[str, int]:
    """Feature width of each part: upper 27, hands 114, face 51."""
    gesture = gesture_part_channels()
    return {"upper": len(gesture["upper"]), "hands": len(gesture["hands"]), "face": FACE_DIM}


def active_parts(tasks: tuple[str, ...]) -> tuple[str, ...]:
    """The parts of the active tasks, in :data:`PARTS` order."""
    return tuple(p for p in PARTS if PART_TASK[p] in tasks)


def part_channels(task_slices: Mapping[str, slice]) -> dict[str, tuple[int, ...]]:
    """Channels of ``x`` (tasks concatenated as in ``task_slices``) of every active part."""
    out: dict[str, tuple[int, ...]] = {}
    if "gesture" in task_slices:
        start = task_slices["gesture"].start
        for part, chans in gesture_part_channels().items():
            out[part] = tuple(start + c for c in chans)
    if "face" in task_slices:
        sl = task_slices["face"]
        out["face"] = tuple(range(sl.start, sl.stop))
    return {p: out[p] for p in PARTS if p in out}
