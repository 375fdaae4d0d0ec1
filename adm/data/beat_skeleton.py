"""BEAT's 75-joint skeleton as data, so that a BEAT-format BVH can be written without BEAT files.

These are facts of the BEAT v0.2.1 dataset (Liu et al., "BEAT", ECCV 2022): the joint names,
hierarchy, bone offsets and ``End Site`` offsets of the header that every BEAT BVH
file shares (``beat.md``). Channels follow the dataset: the root ``Hips`` has
``Xposition Yposition Zposition Xrotation Yrotation Zrotation``, every other joint
``Xrotation Yrotation Zrotation`` (Euler degrees, intrinsic ``R = Rx Ry Rz``).
The bundled synthetic corpus writes its BVH files from :func:`beat_header`.
"""

from __future__ import annotations

import numpy as np

from adm.data.bvh import BvhHeader

# (joint, parent ("" for the root), OFFSET x, y, z), in file order. -0.0 is kept where the
# dataset writes "-0.000000" so that the written header matches BEAT's byte for byte.
_JOINTS: tuple[tuple[str, str, float, float, float], ...] = (
    ("Hips", "", 0.0, 0.0, 0.0),
    ("Spine", "Hips", 0.0, 6.269896, -2.264934),
    ("Spine1", "Spine", 0.0, 12.478628, -2.20032),
    ("Spine2", "Spine1", 0.0, 12.622911, -1.104362),
    ("Spine3", "Spine2", 0.0, 12.671129, 0.0),
    ("Neck", "Spine3", 0.0, 16.291454, 1.629145),
    ("Neck1", "Neck", 0.0, 3.456791, 0.30243),
    ("Head", "Neck1", 0.0, 3.417274, 0.602559),
    ("HeadEnd", "Head", 0.0, 9.72773, -0.0),
    ("RightShoulder", "Spine3", 0.0, 11.636753, 5.87917),
    ("RightArm", "RightShoulder", -19.553394, 8e-06, 0.0),
    ("RightForeArm", "RightArm", -30.623638, 1.1e-05, 0.0),
    ("RightHand", "RightForeArm", -25.458359, 8e-06, 0.0),
    ("RightHandMiddle1", "RightHand", -9.328308, 4e-06, 0.0),
    ("RightHandMiddle2", "RightHandMiddle1", -4.931488, 0.0, 0.0),
    ("RightHandMiddle3", "RightHandMiddle2", -3.177132, 0.0, 0.0),
    ("RightHandMiddle4", "RightHandMiddle3", -1.92765, 0.0, 0.0),
    ("RightHandRing", "RightHand", -0.25, -0.25, -0.855603),
    ("RightHandRing1", "RightHandRing", -8.228668, 4e-06, -0.742586),
    ("RightHandRing2", "RightHandRing1", -4.579102, 0.0, -0.413236),
    ("RightHandRing3", "RightHandRing2", -3.089668, 0.0, -0.278823),
    ("RightHandRing4", "RightHandRing3", -1.908813, 0.0, -0.172259),
    ("RightHandPinky", "RightHandRing", -0.172089, -0.25, -0.87461),
    ("RightHandPinky1", "RightHandPinky", -6.812508, 4e-06, -1.523409),
    ("RightHandPinky2", "RightHandPinky1", -3.617294, 0.0, -0.808899),
    ("RightHandPinky3", "RightHandPinky2", -2.311783, 0.0, -0.516959),
    ("RightHandPinky4", "RightHandPinky3", -1.725502, 0.0, -0.385855),
    ("RightHandIndex", "RightHand", -0.25, -0.25, 0.855603),
    ("RightHandIndex1", "RightHandIndex", -9.013367, 4e-06, 0.8134),
    ("RightHandIndex2", "RightHandIndex1", -4.737785, 0.0, 0.427556),
    ("RightHandIndex3", "RightHandIndex2", -2.835075, 0.0, 0.255847),
    ("RightHandIndex4", "RightHandIndex3", -1.745514, 0.0, 0.157522),
    ("RightHandThumb1", "RightHandIndex", -0.172089, -0.75, 0.87461),
    ("RightHandThumb2", "RightHandThumb1", -5.4757, 0.845421, 2.271264),
    ("RightHandThumb3", "RightHandThumb2", -3.582893, 0.553185, 1.486152),
    ("RightHandThumb4", "RightHandThumb3", -2.19529, 0.338943, 0.910584),
    ("LeftShoulder", "Spine3", 0.0, 11.636753, 5.87917),
    ("LeftArm", "LeftShoulder", 19.553394, 8e-06, 0.0),
    ("LeftForeArm", "LeftArm", 30.623638, 1.1e-05, 0.0),
    ("LeftHand", "LeftForeArm", 25.458359, 8e-06, 0.0),
    ("LeftHandMiddle1", "LeftHand", 9.327454, 4e-06, 0.0),
    ("LeftHandMiddle2", "LeftHandMiddle1", 4.935944, 0.0, 0.0),
    ("LeftHandMiddle3", "LeftHandMiddle2", 3.187286, 0.0, 0.0),
    ("LeftHandMiddle4", "LeftHandMiddle3", 1.919037, 0.0, 0.0),
    ("LeftHandRing", "LeftHand", 0.25, -0.25, -0.911864),
    ("LeftHandRing1", "LeftHandRing", 8.228249, 4e-06, -0.742548),
    ("LeftHandRing2", "LeftHandRing1", 4.570602, 0.0, -0.412469),
    ("LeftHandRing3", "LeftHandRing2", 3.097679, 0.0, -0.279546),
    ("LeftHandRing4", "LeftHandRing3", 1.900299, 0.0, -0.17149),
    ("LeftHandPinky", "LeftHandRing", 0.16703, -0.25, -0.930643),
    ("LeftHandPinky1", "LeftHandPinky", 6.794594, 4e-06, -1.519404),
    ("LeftHandPinky2", "LeftHandPinky1", 3.623344, 0.0, -0.810251),
    ("LeftHandPinky3", "LeftHandPinky2", 2.307434, 0.0, -0.515988),
    ("LeftHandPinky4", "LeftHandPinky3", 1.717804, 0.0, -0.384134),
    ("LeftHandIndex", "LeftHand", 0.25, -0.25, 0.911864),
    ("LeftHandIndex1", "LeftHandIndex", 8.99826, 4e-06, 0.812038),
    ("LeftHandIndex2", "LeftHandIndex1", 4.745354, 0.0, 0.428239),
    ("LeftHandIndex3", "LeftHandIndex2", 2.836342, 0.0, 0.255961),
    ("LeftHandIndex4", "LeftHandIndex3", 1.737732, 0.0, 0.15682),
    ("LeftHandThumb1", "LeftHandIndex", 0.16703, -0.75, 0.930643),
    ("LeftHandThumb2", "LeftHandThumb1", 5.434509, 0.839062, 2.254179),
    ("LeftHandThumb3", "LeftHandThumb2", 3.593353, 0.554794, 1.490485),
    ("LeftHandThumb4", "LeftHandThumb3", 2.185493, 0.337429, 0.906521),
    ("RightUpLeg", "Hips", -8.246678, 0.0, 0.0),
    ("RightLeg", "RightUpLeg", 0.0, -42.827576, 0.0),
    ("RightFoot", "RightLeg", 0.0, -43.165855, 0.0),
    ("RightForeFoot", "RightFoot", 0.0, -2.559708, 0.0),
    ("RightToeBase", "RightForeFoot", 0.0, 0.0, 10.024612),
    ("RightToeBaseEnd", "RightToeBase", 0.0, 0.0, 14.750254),
    ("LeftUpLeg", "Hips", 8.246678, 0.0, 0.0),
    ("LeftLeg", "LeftUpLeg", 0.0, -42.827576, 0.0),
    ("LeftFoot", "LeftLeg", 0.0, -43.165855, 0.0),
    ("LeftForeFoot", "LeftFoot", 0.0, -2.559708, 0.0),
    ("LeftToeBase", "LeftForeFoot", 0.0, 0.0, 10.024612),
    ("LeftToeBaseEnd", "LeftToeBase", 0.0, 0.0, 14.330561),
)

# End Site offset of each tip joint.
_END_SITES: dict[str, tuple[float, float, float]] = {
    "HeadEnd": (0.0, 9.727722, -0.0),
    "RightHandMiddle4": (-1.927643, 0.0, 0.0),
    "RightHandRing4": (-1.908813, 0.0, -0.172258),
    "RightHandPinky4": (-1.725502, 0.0, -0.385856),
    "RightHandIndex4": (-1.745514, 0.0, 0.157522),
    "RightHandThumb4": (-2.19529, 0.338943, 0.910584),
    "LeftHandMiddle4": (1.919052, 0.0, 0.0),
    "LeftHandRing4": (1.900299, 0.0, -0.17149),
    "LeftHandPinky4": (1.717804, 0.0, -0.384135),
    "LeftHandIndex4": (1.737732, 0.0, 0.156819),
    "LeftHandThumb4": (2.185501, 0.337429, 0.906523),
    "RightToeBaseEnd": (0.0, 0.0, 14.75025),
    "LeftToeBaseEnd": (0.0, 0.0, 14.330564),
}

ROOT_CHANNELS = ("Xposition", "Yposition", "Zposition", "Xrotation", "Yrotation", "Zrotation")
JOINT_CHANNELS = ("Xrotation", "Yrotation", "Zrotation")
BEAT_JOINTS: tuple[str, ...] = tuple(row[0] for row in _JOINTS)
BEAT_FPS = 120.0


def beat_header(fps: float = BEAT_FPS) -> BvhHeader:
    """The BEAT skeleton as a :class:`BvhHeader` (75 joints, 228 channels).

    Args:
        fps: frame rate the header declares (``frame_time = 1 / fps``); BEAT is 120 fps.
    """
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    index = {name: i for i, name in enumerate(BEAT_JOINTS)}
    return BvhHeader(
        joints=BEAT_JOINTS,
        parents=tuple(index[parent] if parent else -1 for _, parent, *_ in _JOINTS),
        offsets=np.array([row[2:] for row in _JOINTS], dtype=np.float64),
        channels=tuple(ROOT_CHANNELS if not row[1] else JOINT_CHANNELS for row in _JOINTS),
        end_sites={index[k]: np.array(v, dtype=np.float64) for k, v in _END_SITES.items()},
        frame_time=1.0 / fps,
        declared_frames=0,
    )
