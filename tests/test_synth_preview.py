"""The preview picture of a clip (``adm preview``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adm.commands import run
from adm.data.annotations import SemanticInterval, read_semantic
from adm.data.bvh import read_bvh
from adm.data.preview import pick_frames, wrist_data
from adm.data.synth import SynthConfig, generate_corpus
from adm.kinematics import forward_kinematics


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth_preview")
    cfg = SynthConfig(speakers=(4,), train_takes=0, val_takes=0, test_takes=1, clip_seconds=8.0)
    generate_corpus(cfg, root, workers=1)
    return root


def test_preview_writes_a_png(corpus, tmp_path):
    out = tmp_path / "results" / "preview.png"
    assert (
        run("preview", ["--root", str(corpus), "--stem", "4_lawrence_0_1_1", "--out", str(out)])
        == 0
    )
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_frames_drawn_are_inside_the_clip_gestures(corpus):
    bvh = read_bvh(corpus / "4" / "4_lawrence_0_1_1.bvh")
    intervals = read_semantic(corpus / "4" / "4_lawrence_0_1_1.txt")
    pos = forward_kinematics(bvh.header, bvh.motion)
    wrists = [bvh.header.joint_index(j) for j in ("RightHand", "LeftHand")]
    excursion, speeds = wrist_data(pos, wrists, bvh.fps)
    frames = pick_frames(excursion, speeds.mean(axis=1), bvh.fps, intervals)
    assert len(intervals) >= 4 and 4 <= len(frames) <= 5
    for f in frames:
        assert any(iv.start <= f / bvh.fps <= iv.end for iv in intervals)
        assert excursion[f] > np.median(excursion)


def test_pick_frames_prefers_the_apex_of_each_annotated_gesture():
    fps = 10.0
    excursion = np.zeros(100)
    for peak in (12, 35, 61, 88):
        excursion[peak - 3 : peak + 4] = np.hanning(7)
    speed = np.abs(np.gradient(excursion))
    intervals = [SemanticInterval("06_iconic_m", (p - 5) / fps, (p + 5) / fps, 0.6, "w")
                 for p in (12, 35, 61, 88)]  # fmt: skip
    assert pick_frames(excursion, speed, fps, intervals) == [12, 35, 61, 88]
    # without annotations it still finds 4-6 frames
    assert 4 <= len(pick_frames(excursion, speed, fps, [])) <= 6


def test_preview_names_a_missing_clip(corpus, tmp_path, capsys):
    rc = run("preview", ["--root", str(corpus), "--stem", "4_lawrence_0_2_2",
                       "--out", str(tmp_path / "x.png")])  # fmt: skip
    assert rc == 1
    assert "4_lawrence_0_2_2.bvh" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
