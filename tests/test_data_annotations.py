"""Semantic (.txt) and emotion (.csv) annotations: reading, writing, values per frame."""

from __future__ import annotations

import numpy as np
import pytest

from adm.data.annotations import (
    EMOTIONS,
    SEMANTIC_TYPES,
    EmotionInterval,
    SemanticInterval,
    emotion_per_frame,
    read_emotion,
    read_semantic,
    semantic_score_per_frame,
    write_emotion,
    write_semantic,
)
from adm.errors import BadClipError

# BEAT's layout: tab-separated, keywords optional and possibly several words.
SEMANTIC = (
    "01_beat_align\t0\t3.119\t3.119\t0.1\n"
    "07_iconic_h\t3.119\t4.785\t1.666\t0.7\trelaxing\n"
    "10_metaphoric_h\t13.494\t15.358\t1.864\t1.0\tMonday through Friday\n"
)


def test_read_semantic_beat_layout(tmp_path):
    (tmp_path / "s.txt").write_text("type\tstart\tend\tduration\tscore\tkeywords\n" + SEMANTIC)
    got = read_semantic(tmp_path / "s.txt")
    assert got == [
        SemanticInterval("01_beat_align", 0.0, 3.119, 0.1, ""),
        SemanticInterval("07_iconic_h", 3.119, 4.785, 0.7, "relaxing"),
        SemanticInterval("10_metaphoric_h", 13.494, 15.358, 1.0, "Monday through Friday"),
    ]
    assert all(iv.type in SEMANTIC_TYPES for iv in got)


def test_semantic_round_trip_and_space_separated_copies(tmp_path):
    (tmp_path / "s.txt").write_text(SEMANTIC)
    original = read_semantic(tmp_path / "s.txt")
    write_semantic(tmp_path / "w.txt", original)
    assert read_semantic(tmp_path / "w.txt") == original
    (tmp_path / "sp.txt").write_text(SEMANTIC.replace("\t", "   "))
    assert read_semantic(tmp_path / "sp.txt") == original


def test_semantic_score_per_frame():
    intervals = [SemanticInterval("01_beat_align", 0.0, 1.0, 0.1),
                 SemanticInterval("07_iconic_h", 1.0, 1.5, 0.7)]  # fmt: skip
    # fps 2: frames at 0, .5, 1.0 (shared boundary: the later interval), 1.5, 2.0 (none).
    np.testing.assert_allclose(
        semantic_score_per_frame(intervals, 5, fps=2), [0.1, 0.1, 0.7, 0.7, 0.0]
    )
    assert semantic_score_per_frame([], 3, fps=30).dtype == np.float32


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("07_iconic_h\t3.1\t4.7\t1.6\n", "line 2: 4 fields"),
        ("07_iconic_h\t3.1\tx\t1.6\t0.5\n", "line 2: start/end"),
        ("07_iconic_h\t4.7\t3.1\t1.6\t0.5\n", "line 2: need 0 <= start <= end"),
        ("07_iconic_h\t3.1\t4.7\t1.6\t7\n", "line 2: score '7'"),
    ],
)
def test_semantic_bad_rows(tmp_path, line, problem):
    path = tmp_path / "s.txt"
    path.write_text(SEMANTIC.split("\n")[0] + "\n" + line)
    with pytest.raises(BadClipError, match=problem) as err:
        read_semantic(path)
    assert str(err.value).startswith(str(path))


def test_emotion_with_and_without_header(tmp_path):
    rows = "00_netural, 0, 63.908, 63.908, 0\n03_sad,63.908,70,6.092,3\n"
    (tmp_path / "a.csv").write_text(rows)
    (tmp_path / "b.csv").write_text("name,start,end,duration,label\n" + rows)
    expected = [EmotionInterval("00_netural", 0.0, 63.908, 0),
                EmotionInterval("03_sad", 63.908, 70.0, 3)]  # fmt: skip
    assert read_emotion(tmp_path / "a.csv") == expected
    assert read_emotion(tmp_path / "b.csv") == expected
    write_emotion(tmp_path / "c.csv", expected)
    assert read_emotion(tmp_path / "c.csv") == expected
    assert len(EMOTIONS) == 8 and EMOTIONS[3] == "sadness"


def test_emotion_per_frame_uses_default_outside_intervals():
    intervals = [EmotionInterval("x", 0.5, 1.0, 5)]
    got = emotion_per_frame(intervals, 4, fps=2, default=2)
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got, [2, 5, 5, 2])


@pytest.mark.parametrize(
    ("row", "problem"),
    [("x,0,1,1,8", "line 2: emotion label '8'"), ("x,0,1,1", "line 2: 4 fields")],
)
def test_emotion_bad_rows(tmp_path, row, problem):
    path = tmp_path / "e.csv"
    path.write_text("a,0,1,1,0\n" + row + "\n")
    with pytest.raises(BadClipError, match=problem):
        read_emotion(path)
