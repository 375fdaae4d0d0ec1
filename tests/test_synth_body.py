"""Synthetic body: stroke timing, one-to-many gestures, joint limits, rest pose, annotations."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest

from adm.data.annotations import SEMANTIC_TYPES, read_emotion, read_semantic
from adm.data.beat_skeleton import beat_header
from adm.data.bvh import read_bvh
from adm.data.clips import emotion_of_take
from adm.data.synth import SynthConfig, generate_corpus, render_take, takes
from adm.data.synth.annotations import semantic_intervals
from adm.data.synth.body import limits
from adm.data.textgrid import read_textgrid
from adm.kinematics import forward_kinematics

HEADER = beat_header()
CFG = SynthConfig(speakers=(2, 6), train_takes=1, val_takes=0, test_takes=1, clip_seconds=8.0)


@pytest.fixture(scope="module")
def rendered():
    return [render_take(CFG, spec) for spec in takes(CFG)]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth_body")
    generate_corpus(CFG, root, workers=1)
    return root


def _wrist_speed(motion: np.ndarray, side: str, fps: float = 120.0) -> np.ndarray:
    pos = forward_kinematics(HEADER, motion)[:, HEADER.joint_index(f"{side}Hand")]
    speed = np.linalg.norm(np.diff(pos, axis=0), axis=1) * fps
    return np.concatenate([speed[:1], speed])


def test_stroke_peaks_land_on_word_onsets_and_are_wrist_speed_minima(rendered):
    near, total = 0, 0
    for take in rendered:
        assert len(take.strokes) >= 3
        onsets = np.array([w.start for w in take.speech.words])
        for side in ("Right", "Left"):
            speed = _wrist_speed(take.motion, side)
            inner = speed[1:-1]
            minima = (np.flatnonzero((inner < speed[:-2]) & (inner <= speed[2:])) + 1) / 120.0
            for s in take.strokes:
                if side not in s.arms():
                    continue
                total += 1
                near += np.min(np.abs(onsets - s.peak)) <= 0.3
                # the apex is a speed minimum, and the stroke before it is fast
                assert np.min(np.abs(minima - s.peak)) <= 0.12, (take.spec.stem, s)
                lo, hi = int(s.stroke_start * 120), int(s.peak * 120)
                assert speed[lo:hi].max() > 3 * speed[int(s.peak * 120)]
    assert near >= 0.8 * total


def test_another_gesture_seed_gives_other_gestures_for_the_same_speech():
    spec = takes(CFG)[0]
    a = render_take(CFG, spec)
    b = render_take(dataclasses.replace(CFG, gesture_seed=99), spec)
    assert np.array_equal(a.speech.audio, b.speech.audio) and np.array_equal(a.face, b.face)
    cols = np.concatenate(
        [
            HEADER.rotation_columns(j)
            for j in ("RightHand", "LeftHand", "RightForeArm", "LeftForeArm")
        ]
    )
    diff = np.abs(a.motion[:, cols] - b.motion[:, cols]).mean()
    assert diff > 2.0, diff
    c = render_take(CFG, spec)
    assert np.array_equal(a.motion, c.motion)


def test_joint_limits_hold_in_the_written_files(corpus):
    for path in sorted(corpus.glob("*/*.bvh")):
        bvh = read_bvh(path)
        for joint in bvh.header.joints:
            if joint == "Hips":
                continue
            lo, hi = limits(joint)
            v = bvh.motion[:, bvh.header.rotation_columns(joint)]
            assert np.all(v >= lo - 1e-4) and np.all(v <= hi + 1e-4), (path.name, joint)
        assert np.all(bvh.motion[:, bvh.header.channel_columns("Hips")] == 0.0)


def test_arms_rest_down_and_hands_stay_out_of_the_torso(rendered):
    for take in rendered:
        pos = forward_kinematics(HEADER, take.motion)
        j = HEADER.joint_index
        for side in ("Right", "Left"):
            wrist, shoulder = pos[:, j(f"{side}Hand")], pos[:, j(f"{side}Arm")]
            assert shoulder[0, 1] - wrist[0, 1] > 40  # frame 0: hanging arms, not a T-pose
            chest, hips = pos[:, j("Spine3")], pos[:, j("Hips")]
            near_axis = (np.abs(wrist[:, 0] - chest[:, 0]) < 9) & (
                np.abs(wrist[:, 2] - chest[:, 2]) < 9
            )
            inside = near_axis & (wrist[:, 1] > hips[:, 1]) & (wrist[:, 1] < chest[:, 1] + 10)
            assert not inside.any()


def test_semantic_and_emotion_annotations(corpus):
    codes = {c: (int(c[:2]) / 10 if c[:2].isdigit() else None) for c in SEMANTIC_TYPES}
    for path in sorted(corpus.glob("*/*.txt")):
        sem = read_semantic(path)
        words = {w.label for w in read_textgrid(path.with_suffix(".TextGrid")).words if w.label}
        assert sem
        for iv, nxt in zip(sem, [*sem[1:], None], strict=True):
            assert iv.type in codes and iv.type != "00_nogesture"
            assert iv.score == pytest.approx(codes[iv.type])
            assert iv.keywords in words and 0 <= iv.start < iv.end <= CFG.clip_seconds
            assert nxt is None or iv.end <= nxt.start
        emo = read_emotion(path.with_suffix(".csv"))
        take = int(path.stem.split("_")[-1])
        assert len(emo) == 1 and emo[0].label == emotion_of_take(0, take)
        assert emo[0].start == 0.0 and emo[0].end == CFG.clip_seconds


def test_semantic_scores_rank_the_gesture_kinds(rendered):
    kinds = {}
    for take in rendered:
        for s, iv in zip(sorted(take.strokes, key=lambda s: s.stroke_start),
                         semantic_intervals(take.strokes), strict=True):  # fmt: skip
            kinds.setdefault(s.kind, set()).add(iv.score)
    assert kinds.get("beat", {0.1}) == {0.1}
    order = ["beat", "deictic", "iconic", "metaphoric"]
    present = [k for k in order if k in kinds]
    assert len(present) >= 3
    for a, b in itertools.pairwise(present):
        assert max(kinds[a]) < min(kinds[b])
