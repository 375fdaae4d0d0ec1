"""The bundled BEAT skeleton table matches a real BEAT header."""

from __future__ import annotations

import numpy as np
import pytest

from adm.data.beat_skeleton import BEAT_JOINTS, beat_header
from adm.data.bvh import format_hierarchy, read_bvh

# The 47 gesture joints of beat.md (141 dims): every one must be a joint of the skeleton.
_SIDE = ["Shoulder", "Arm", "ForeArm", "Hand"] + [
    f"Hand{finger}{k}"
    for finger in ("Middle", "Ring", "Pinky", "Index")
    for k in (["", "1", "2", "3"] if finger in ("Ring", "Pinky", "Index") else ["1", "2", "3"])
] + ["HandThumb1", "HandThumb2", "HandThumb3"]  # fmt: skip
GESTURE = ["Spine", "Neck", "Neck1"] + [s + j for s in ("Right", "Left") for j in _SIDE]


def test_structure_without_any_beat_file():
    h = beat_header()
    assert len(h.joints) == 75 and h.num_channels == 228
    assert h.joints == BEAT_JOINTS and h.joints[0] == "Hips" and h.parents[0] == -1
    assert all(0 <= p < j for j, p in enumerate(h.parents) if j > 0)  # parents come first
    assert h.frame_time == pytest.approx(1 / 120)
    assert beat_header(fps=30).frame_time == pytest.approx(1 / 30)
    assert len(GESTURE) == 47 and set(GESTURE) <= set(h.joints)
    assert h.joints[h.parents[h.joint_index("RightHandThumb1")]] == "RightHandIndex"
    assert h.offsets[h.joint_index("LeftArm")][0] == pytest.approx(19.553394)
    with pytest.raises(ValueError):
        beat_header(fps=0)


def test_equals_the_real_header(beat_bvh_path):
    real = read_bvh(beat_bvh_path).header
    ours = beat_header()
    assert ours.joints == real.joints
    assert ours.parents == real.parents
    assert ours.channels == real.channels
    np.testing.assert_allclose(ours.offsets, real.offsets, atol=1e-6, rtol=0)
    assert ours.end_sites.keys() == real.end_sites.keys()
    for j, offset in real.end_sites.items():
        np.testing.assert_allclose(ours.end_sites[j], offset, atol=1e-6, rtol=0)
    # Written headers are BEAT's, byte for byte (including its "-0.000000" offsets).
    assert format_hierarchy(ours) == format_hierarchy(real)
    assert beat_bvh_path.read_text().startswith(format_hierarchy(ours))
