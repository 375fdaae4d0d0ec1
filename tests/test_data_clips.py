"""Clip names, emotion by take, the CaMN split, and finding a clip's files."""

from __future__ import annotations

from collections import Counter

import pytest

from adm.data.clips import (
    CLIP_EXTENSIONS,
    SPEAKER_NAMES,
    ClipName,
    camn_split,
    clip_stem,
    emotion_of_take,
    find_clip_files,
    list_clips,
    parse_clip_name,
)


def test_parse_and_stem():
    clip = parse_clip_name("2_scott_0_1_1")
    assert clip == ClipName(2, "scott", 0, 1, 1)
    assert clip.stem == "2_scott_0_1_1" and clip.take == 1
    assert clip_stem(30, 1, 12) == "30_katya_1_12_12"
    assert len(SPEAKER_NAMES) == 30 and SPEAKER_NAMES[8] == "catherine"


@pytest.mark.parametrize(
    ("stem", "problem"),
    [
        ("2_scott_0_1", "does not match"),
        ("2_wayne_0_1_1", "speaker 2 is named 'scott'"),
        ("31_bob_0_1_1", "speaker 31"),
        ("2_scott_3_1_1", "kind 3"),
        ("2_scott_0_0_0", "1 <= start <= end"),
    ],
)
def test_bad_names(stem, problem):
    with pytest.raises(ValueError, match=problem) as err:
        parse_clip_name(stem)
    assert stem in str(err.value)


def test_emotion_of_take_blocks():
    expected = {1: 0, 64: 0, 65: 1, 72: 1, 73: 2, 80: 2, 81: 3, 86: 3, 87: 4, 94: 4,
                95: 5, 102: 5, 103: 6, 110: 6, 111: 7, 118: 7}  # fmt: skip
    assert {take: emotion_of_take(0, take) for take in expected} == expected
    assert emotion_of_take(1, 5) == 0
    with pytest.raises(ValueError):
        emotion_of_take(0, 119)


def test_camn_split_counts_and_rule():
    takes = [(0, t) for t in range(1, 119)] + [(1, t) for t in range(1, 13)]
    splits = {(k, t): camn_split(parse_clip_name(clip_stem(4, k, t))) for k, t in takes}
    assert Counter(splits.values()) == {"train": 98, "val": 16, "test": 16}
    test = {1, 2, 3, 4, 5, 6, 7, 8, 65, 73, 81, 87, 95, 103, 111}
    val = {57, 58, 59, 60, 61, 62, 63, 64, 72, 80, 86, 94, 102, 110, 118}
    assert {t for (k, t), s in splits.items() if k == 0 and s == "test"} == test
    assert {t for (k, t), s in splits.items() if k == 0 and s == "val"} == val
    assert (splits[(1, 1)], splits[(1, 12)], splits[(1, 6)]) == ("test", "val", "train")


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")
    return path


@pytest.mark.parametrize("annotations", ["inside", "beside"])
def test_find_clip_files_both_layouts(tmp_path, annotations):
    root = tmp_path / "beat_english_v0.2.1"
    stem = "2_scott_0_1_1"
    for ext in ("bvh", "wav", "TextGrid"):
        _touch(root / "2" / f"{stem}.{ext}")
    base = root if annotations == "inside" else tmp_path
    _touch(base / "beat_annotations_english" / "2" / f"{stem}.txt")
    _touch(base / "beat_annotations_english" / "2" / f"{stem}.csv")
    found = find_clip_files(root, stem)
    assert set(found) == {"bvh", "wav", "TextGrid", "txt", "csv"}  # json missing: absent
    assert found["txt"] == base / "beat_annotations_english" / "2" / f"{stem}.txt"
    assert found["bvh"] == root / "2" / f"{stem}.bvh"
    assert set(found) <= set(CLIP_EXTENSIONS)


def test_list_clips_sorted_with_bvh_only(tmp_path):
    # In folder 2: clips, a wav without bvh, a stray file, and another speaker's clip.
    names = ["2_scott_0_10_10.bvh", "2_scott_0_2_2.bvh", "2_scott_1_1_1.bvh",
             "2_scott_0_3_3.wav", "notes.bvh", "4_lawrence_0_1_1.bvh"]  # fmt: skip
    for name in names:
        _touch(tmp_path / "2" / name)
    _touch(tmp_path / "4" / "4_lawrence_0_5_5.bvh")
    stems = [c.stem for c in list_clips(tmp_path, [4, 2])]
    assert stems == ["2_scott_0_2_2", "2_scott_0_10_10", "2_scott_1_1_1", "4_lawrence_0_5_5"]
    assert list_clips(tmp_path, [6]) == []
    with pytest.raises(FileNotFoundError):
        list_clips(tmp_path / "absent", [2])
