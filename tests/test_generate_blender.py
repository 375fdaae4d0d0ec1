"""The generated BVH imports in Blender (its own BVH importer, through the ``bpy`` module).

``bpy`` is an optional extra (``pip install -e '.[blender]'``, about 370 MB); without it the
test is skipped with that reason.
"""

from __future__ import annotations

import numpy as np
import pytest
from tolerance import ops_tol

from adm.data.beat_skeleton import beat_header
from adm.generation.outputs import FILES, write_outputs
from adm.kinematics import forward_kinematics
from adm.skeleton import GESTURE_DIM, GESTURE_JOINTS, gesture_to_euler_motion

bpy = pytest.importorskip(
    "bpy", reason="Blender's bpy module is not installed (pip install -e '.[blender]')"
)

FPS, FRAMES = 30, 45


def test_blender_imports_the_bvh_and_poses_the_arm_as_our_kinematics(tmp_path):
    t = np.arange(FRAMES) / FPS
    gesture = np.zeros((FRAMES, GESTURE_DIM))
    fore = GESTURE_JOINTS.index("RightForeArm")
    gesture[:, 3 * fore + 2] = 1.2 * np.sin(2 * np.pi * t)
    arm = GESTURE_JOINTS.index("LeftArm")
    gesture[:, 3 * arm : 3 * arm + 3] = [0.3, -0.5, 0.8]
    write_outputs(tmp_path / "out", {"gesture": gesture.astype(np.float32)}, FPS, 60, ("bvh",),
                  tmp_path, {}, {})  # fmt: skip
    path = tmp_path / "out" / FILES["bvh"]
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_anim.bvh(
        filepath=str(path), global_scale=1.0, frame_start=1, use_fps_scale=False,
        update_scene_fps=True, update_scene_duration=True, rotate_mode="NATIVE",
        axis_forward="-Z", axis_up="Y",
    )  # fmt: skip
    armature = next(o for o in bpy.data.objects if o.type == "ARMATURE")
    assert len(armature.data.bones) == 75
    scene = bpy.context.scene
    action = armature.animation_data.action
    assert tuple(round(f) for f in action.frame_range) == (1, FRAMES)
    assert round(scene.render.fps / scene.render.fps_base) == FPS
    header = beat_header(FPS)
    ours = forward_kinematics(header, gesture_to_euler_motion(gesture, header, unwrap=True))
    for frame in (0, FRAMES // 4, FRAMES // 2):
        scene.frame_set(frame + 1)
        for joint in ("RightHand", "LeftHand", "Neck1"):
            head = armature.matrix_world @ armature.pose.bones[joint].head
            x, y, z = ours[frame, header.joint_index(joint)]
            # the importer turns BVH's Y-up into Blender's Z-up: (x, y, z) -> (x, -z, y);
            # Blender composes float32 matrices down a chain of about 8 joints
            expected = np.array([x, -z, y])
            tol = ops_tol(8 * 30, float(np.abs(ours).max()))
            np.testing.assert_allclose(np.array(head), expected, atol=tol)
