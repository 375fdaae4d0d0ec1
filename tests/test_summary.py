"""The end-of-run summary of skipped clips (printed by the workflow's onsuccess/onerror)."""

from __future__ import annotations

from adm.data.split import SplitResult, write_split
from adm.summary import skipped_clips_summary


def _skipped_tsv(tmp_path, skipped):
    result = SplitResult(skipped=skipped)
    write_split(result, tmp_path / "split", tmp_path / "skipped.tsv")
    return tmp_path / "skipped.tsv"


def test_no_skipped_clip_says_nothing(tmp_path):
    assert skipped_clips_summary(_skipped_tsv(tmp_path, [])) is None
    assert skipped_clips_summary(tmp_path / "absent.tsv") is None


def test_skipped_clips_are_counted_and_their_list_named(tmp_path):
    rows = [
        (f"2_scott_0_{i}_{i}", f"corpus/2/2_scott_0_{i}_{i}.bvh", f"problem\t{i}")
        for i in range(1, 6)
    ]
    path = _skipped_tsv(tmp_path, rows)
    text = skipped_clips_summary(path)
    assert text.startswith("5 clips were skipped (data.prepare.on_bad_clip: skip)")
    assert str(path) in text
    # The first few with file and reason, the rest counted.
    assert "2_scott_0_1_1: corpus/2/2_scott_0_1_1.bvh: problem 1" in text
    assert "2_scott_0_4_4" not in text and "... and 2 more" in text


def test_one_skipped_clip(tmp_path):
    path = _skipped_tsv(tmp_path, [("4_lawrence_0_1_1", "x.json", "weights outside [0, 1]")])
    text = skipped_clips_summary(path)
    assert text.startswith("1 clip was skipped") and "x.json: weights outside [0, 1]" in text
