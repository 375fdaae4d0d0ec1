"""BVH reading and writing: the real BEAT fixture, its gotchas, round trips and bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adm.bench import parse as bench_parse
from adm.data.beat_skeleton import beat_header
from adm.data.bvh import BvhHeader, format_hierarchy, read_bvh, write_bvh
from adm.errors import BadClipError

HEADER_LINES = 431  # BEAT: HIERARCHY ... Frame Time, motion starts on line 432


@pytest.fixture(scope="module")
def fixture_bvh(beat_bvh_path: Path):
    return read_bvh(beat_bvh_path)


def test_fixture_shape_joints_and_channels(fixture_bvh):
    h = fixture_bvh.header
    assert fixture_bvh.motion.shape == (957, 228)
    assert fixture_bvh.motion.dtype == np.float32
    assert len(h.joints) == 75 and h.num_channels == 228
    assert h.joints[:9] == ("Hips", "Spine", "Spine1", "Spine2", "Spine3", "Neck", "Neck1",
                            "Head", "HeadEnd")  # fmt: skip
    assert h.channels[0] == ("Xposition", "Yposition", "Zposition",
                             "Xrotation", "Yrotation", "Zrotation")  # fmt: skip
    assert all(c == ("Xrotation", "Yrotation", "Zrotation") for c in h.channels[1:])
    assert h.parents[0] == -1
    assert h.joints[h.parents[h.joint_index("RightShoulder")]] == "Spine3"
    assert h.joints[h.parents[h.joint_index("LeftHandThumb1")]] == "LeftHandIndex"
    np.testing.assert_allclose(h.offsets[h.joint_index("Spine")], [0.0, 6.269896, -2.264934])
    np.testing.assert_allclose(h.offsets[h.joint_index("RightArm")], [-19.553394, 8e-06, 0.0])
    np.testing.assert_allclose(h.end_sites[h.joint_index("HeadEnd")], [0.0, 9.727722, 0.0])
    assert len(h.end_sites) == 13  # HeadEnd, 2 x 5 finger tips, 2 toes
    np.testing.assert_array_equal(h.channel_columns("Spine"), [6, 7, 8])
    np.testing.assert_array_equal(h.rotation_columns("Hips"), [3, 4, 5])
    assert h.rotation_order("RightForeArm") == "XYZ"


def test_fixture_frames_and_frame_time_are_not_trusted(beat_bvh_path, fixture_bvh):
    assert fixture_bvh.header.declared_frames == 7669  # the header lies
    assert fixture_bvh.header.frame_time == pytest.approx(0.008333)
    assert fixture_bvh.fps == pytest.approx(1 / 0.008333)
    decimated = read_bvh(beat_bvh_path, fps=15)
    assert decimated.fps == 15.0
    np.testing.assert_array_equal(decimated.motion, fixture_bvh.motion)


def test_fixture_values_equal_python_parsing_of_mixed_f_and_e_lines(beat_bvh_path, fixture_bvh):
    lines = beat_bvh_path.read_text().splitlines()[HEADER_LINES:]
    assert "e" not in lines[0] and "e+" in lines[1]  # %f first line, %e after: the gotcha
    expected = np.array([[float(v) for v in line.split()] for line in lines], dtype=np.float32)
    np.testing.assert_array_equal(fixture_bvh.motion, expected)


def test_fixture_unwrapped_euler_values_are_kept(fixture_bvh):
    h = fixture_bvh.header
    cols = h.rotation_columns("RightForeArm")[[0, 2]]  # X and Z
    assert np.abs(fixture_bvh.motion[:, cols]).max() > 360.0


def test_format_hierarchy_reproduces_the_beat_header_text(beat_bvh_path, fixture_bvh):
    original = beat_bvh_path.read_text().split("\n")[: HEADER_LINES - 2]  # up to MOTION
    assert format_hierarchy(fixture_bvh.header) == "\n".join(original) + "\n"


def test_fixture_round_trip(tmp_path, fixture_bvh):
    out = tmp_path / "copy.bvh"
    write_bvh(out, fixture_bvh.header, fixture_bvh.motion, fps=120.0)
    back = read_bvh(out)
    h0, h1 = fixture_bvh.header, back.header
    assert (h1.joints, h1.parents, h1.channels) == (h0.joints, h0.parents, h0.channels)
    np.testing.assert_allclose(h1.offsets, h0.offsets, atol=1e-6)
    np.testing.assert_allclose(back.motion, fixture_bvh.motion, atol=1e-6, rtol=0)
    assert h1.declared_frames == 957 and h1.frame_time == 0.008333
    text = out.read_text().split("\n")
    assert text[HEADER_LINES - 1] == "Frame Time: 0.008333"
    assert len(text[HEADER_LINES].split()) == 228


def _small(tmp_path: Path, frames: int = 4) -> tuple[Path, BvhHeader, np.ndarray]:
    header = beat_header()
    rng = np.random.default_rng(1)
    motion = rng.uniform(-800, 800, size=(frames, header.num_channels)).astype(np.float32)
    path = tmp_path / "small.bvh"
    write_bvh(path, header, motion, fps=120.0)
    return path, header, motion


def test_synthetic_round_trip_and_header_equality(tmp_path):
    path, header, motion = _small(tmp_path)
    back = read_bvh(path)
    np.testing.assert_allclose(back.motion, motion, atol=1e-6, rtol=0)
    assert back.fps == pytest.approx(120.0, rel=1e-4)
    assert back.header.joints == header.joints and back.header.parents == header.parents
    assert back.header == read_bvh(path).header


def test_custom_channel_order_columns():
    header = BvhHeader(
        joints=("root", "arm"),
        parents=(-1, 0),
        offsets=np.zeros((2, 3)),
        channels=(("Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation"),
                  ("Yrotation", "Xrotation", "Zrotation")),
    )  # fmt: skip
    assert header.num_channels == 9
    assert header.rotation_order("root") == "ZXY" and header.rotation_order("arm") == "YXZ"
    np.testing.assert_array_equal(header.rotation_columns("root"), [3, 4, 5])
    np.testing.assert_array_equal(header.channel_columns("arm"), [6, 7, 8])
    with pytest.raises(ValueError, match="'hand'"):
        header.joint_index("hand")


def test_crlf_and_blank_lines_parse(tmp_path):
    path, _, motion = _small(tmp_path)
    text = path.read_text().replace("\n", "\r\n")
    lines = text.split("\r\n")
    lines.insert(HEADER_LINES + 2, "")  # a blank line among the motion lines
    path.write_text("\r\n".join(lines), newline="")
    np.testing.assert_allclose(read_bvh(path).motion, motion, atol=1e-6, rtol=0)


def _rewrite(path: Path, edit) -> Path:
    lines = path.read_text().split("\n")
    edit(lines)
    path.write_text("\n".join(lines))
    return path


def _fails(path: Path, *fragments: str) -> None:
    with pytest.raises(BadClipError) as err:
        read_bvh(path)
    message = str(err.value)
    assert message.startswith(str(path)), message
    for fragment in fragments:
        assert fragment in message, message


def test_truncated_files(tmp_path):
    path, *_ = _small(tmp_path)
    text = path.read_text()
    cut = text.rstrip("\n").rsplit(" ", 100)[0]  # last line loses 100 values
    path.write_text(cut)
    _fails(path, "truncated", f"line {HEADER_LINES + 4}", "128 values", "expected 228")
    path.write_text(text.split("MOTION")[0])
    _fails(path, "no MOTION")
    path.write_text(text.split("Frame Time")[0] + "Frame Time: 0.008333\n")
    _fails(path, "no motion lines")
    path.write_text("")
    _fails(path, "empty")


def test_non_numeric_value_names_the_line(tmp_path):
    path, *_ = _small(tmp_path)

    def edit(lines):
        values = lines[HEADER_LINES + 1].split()
        values[17] = "12.5x"
        lines[HEADER_LINES + 1] = " ".join(values)
        lines.insert(HEADER_LINES + 1, "")  # blank line before it: line numbers still right

    _fails(_rewrite(path, edit), f"line {HEADER_LINES + 3}", "'12.5x'", "column 18")


def test_wrong_channel_count_names_the_line(tmp_path):
    path, *_ = _small(tmp_path)

    def edit(lines):
        lines[HEADER_LINES + 1] += " 1.0"

    _fails(_rewrite(path, edit), f"line {HEADER_LINES + 2}", "expected 228, got 229")


def test_non_finite_value_is_rejected(tmp_path):
    path, *_ = _small(tmp_path)

    def edit(lines):
        values = lines[HEADER_LINES].split()
        values[0] = "nan"
        lines[HEADER_LINES] = " ".join(values)

    _fails(_rewrite(path, edit), f"line {HEADER_LINES + 1}", "non-finite", "joint Hips")


def test_bad_hierarchy(tmp_path):
    path, *_ = _small(tmp_path)
    text = path.read_text()
    path.write_text(text.replace("\n}\nMOTION", "\nMOTION", 1))
    _fails(path, "unbalanced braces")
    path.write_text(text.replace("Zrotation\n\tJOINT Spine", "\n\tJOINT Spine"))
    _fails(path, "line 5", "bad CHANNELS count")
    path.write_text(text.replace("HIERARCHY", "HIERARCHIE", 1))
    _fails(path, "not a BVH file")


def test_write_rejects_wrong_width(tmp_path):
    with pytest.raises(ValueError, match="228"):
        write_bvh(tmp_path / "x.bvh", beat_header(), np.zeros((3, 100)), fps=120.0)
    assert not (tmp_path / "x.bvh").exists()


def test_parse_benchmark_runs_and_reports(capsys):
    assert bench_parse.main(["--seconds", "0.25", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "30 x 228" in out and "MB/s" in out
    assert ": PASS" in out or ": FAIL" in out
