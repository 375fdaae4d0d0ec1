"""Study materials: windows cut from generated test clips, one rendered video per method with
the speech, blind file names and a manifest the page accepts; bad samples as one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_output import non_log_lines

from adm.study.cli import main
from adm.study.design import load_manifest
from adm.study.materials import Window, choose_windows, clip_windows

FPS = 15
CLIPS = {"2_scott_0_1_1": 3.0, "4_lawrence_0_2_2": 1.6}  # seconds
VARIANTS = ("full", "no_uwp", "a2g", "a2e")
STUDY = {
    "methods": {
        "full": {"gesture": "full", "face": "full"},
        "no_uwp": {"gesture": "no_uwp", "face": "no_uwp"},
        "a2g_a2e": {"gesture": "a2g", "face": "a2e"},
    },
    "groups": 3,
    "seconds": 1.0,
    "min_seconds": 0.5,
    "seed": 0,
    "size": [160, 96],
}


# ------------------------------------------------------------------------------- windows
def test_clip_windows_cover_the_clip_and_keep_a_long_enough_rest():
    windows = clip_windows("c", frames=100, fps=10, seconds=3.0, min_seconds=1.0)
    assert [(w.start, w.stop) for w in windows] == [(0, 30), (30, 60), (60, 90), (90, 100)]
    short_rest = clip_windows("c", frames=95, fps=10, seconds=3.0, min_seconds=1.0)
    assert [(w.start, w.stop) for w in short_rest] == [(0, 30), (30, 60), (60, 90)]
    whole = clip_windows("c", frames=20, fps=10, seconds=3.0, min_seconds=1.0)
    assert [(w.start, w.stop) for w in whole] == [(0, 20)]
    assert clip_windows("c", frames=9, fps=10, seconds=3.0, min_seconds=1.0) == []


def test_choose_windows_takes_different_clips_first():
    candidates = [Window(c, s, s + 10, 10.0) for c in "abc" for s in (0, 10, 20)]
    for seed in range(10):
        chosen = choose_windows(candidates, 3, seed)
        assert sorted(w.clip for w in chosen) == ["a", "b", "c"]
        four = choose_windows(candidates, 4, seed)
        assert sorted({w.clip for w in four}) == ["a", "b", "c"] and len(set(four)) == 4
    assert len(choose_windows(candidates, 20, 0)) == len(candidates)


# ----------------------------------------------------------------------- built materials
def _sample_tree(root):
    """Generated test clips in the sampling stage's own format, and their speech."""
    from adm.data.face import ARKIT_NAMES
    from adm.sampling.export import write_sample

    sf = pytest.importorskip("soundfile")
    rng = np.random.default_rng(0)
    for clip, seconds in CLIPS.items():
        frames = round(seconds * FPS)
        for variant in VARIANTS:
            motion = {}
            if variant != "a2e":
                walk = np.cumsum(rng.normal(0, 0.01, (frames, 141)), axis=0)
                motion["gesture"] = walk.astype(np.float32)
            if variant != "a2g":
                face = rng.uniform(0, 1, (frames, len(ARKIT_NAMES)))
                motion["face"] = face.astype(np.float32)
            folder = root / "samples" / variant / "seed0"
            folder.mkdir(parents=True, exist_ok=True)
            write_sample(folder, clip, motion, float(FPS), {"variant": variant})
        speaker = clip.split("_")[0]
        wav = root / "corpus" / speaker / f"{clip}.wav"
        wav.parent.mkdir(parents=True, exist_ok=True)
        t = np.arange(round(seconds * 16000)) / 16000
        sf.write(wav, 0.2 * np.sin(2 * np.pi * 220 * t), 16000)
    split = root / "test.txt"
    split.write_text("\n".join(CLIPS) + "\n")
    return split


def _materials(root, study=STUDY, *extra):
    return main(
        [
            "materials",
            "--config",
            json.dumps(study),
            "--split",
            str(root / "test.txt"),
            "--samples",
            str(root / "samples"),
            "--corpus",
            str(root / "corpus"),
            "--sample-seed",
            "0",
            "--outdir",
            str(root / "materials"),
            *extra,
        ]
    )


def test_materials_render_every_method_of_every_group(tmp_path):
    pytest.importorskip(
        "adm.generation.preview", reason="the preview renderer (adm.generation.preview) is absent"
    )
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    _sample_tree(tmp_path)
    assert _materials(tmp_path, STUDY, "--workers", "2") == 0  # two render processes
    manifest = load_manifest(tmp_path / "materials/manifest.json")
    assert manifest.methods == ["full", "no_uwp", "a2g_a2e"]
    # 3 s -> three 1 s windows; 1.6 s -> one window and a 0.6 s rest (>= 0.5 s): 5 candidates,
    # 3 groups, both clips among them.
    assert len(manifest.groups) == 3
    assert {g.clip for g in manifest.groups} == set(CLIPS)
    names = set()
    for group in manifest.groups:
        assert group.end_s - group.start_s in (pytest.approx(1.0), pytest.approx(0.6))
        for method in manifest.methods:
            video = manifest.video_path(group, method)
            assert method not in video.name  # blind: the address does not tell the method
            names.add(video.name)
            reader = imageio_ffmpeg.read_frames(str(video))
            meta = next(reader)
            frames = sum(1 for _ in reader)
            assert meta["size"] == (160, 96)
            assert meta["audio_codec"] is not None  # the speech is in the video
            assert frames == round((group.end_s - group.start_s) * FPS)
    assert len(names) == 3 * 3
    # Two methods of the same group differ (different motion), two groups of a method too.
    group = manifest.groups[0]
    full, fixed = (manifest.video_path(group, m).read_bytes() for m in ("full", "no_uwp"))
    assert full != fixed
    assert not list(tmp_path.glob(".materials*"))  # no temporary left


def test_missing_task_or_sample_is_one_line_and_leaves_nothing(tmp_path, capsys):
    _sample_tree(tmp_path)
    bad = json.loads(json.dumps(STUDY))
    bad["methods"]["a2g_a2e"] = {"gesture": "a2e", "face": "a2g"}  # swapped: neither has it
    assert _materials(tmp_path, bad) == 1
    err = non_log_lines(capsys.readouterr().err)
    assert len(err) == 1 and err[0].startswith("error: ") and "lacks column(s)" in err[0]
    (tmp_path / "samples/no_uwp/seed0/4_lawrence_0_2_2.parquet").unlink()
    assert _materials(tmp_path) == 1
    err = non_log_lines(capsys.readouterr().err)
    assert err == [
        f"error: {tmp_path}/samples/no_uwp/seed0/4_lawrence_0_2_2.parquet: no sample of clip "
        "4_lawrence_0_2_2 for variant no_uwp (seed 0)"
    ]
    assert not (tmp_path / "materials").exists()


def test_bad_study_config_is_one_line(tmp_path, capsys):
    _sample_tree(tmp_path)
    assert _materials(tmp_path, {**STUDY, "groupz": 3}) == 1
    assert "study: unknown key 'groupz'" in capsys.readouterr().err
    assert _materials(tmp_path, {**STUDY, "min_seconds": 2.0}) == 1
    assert "study.min_seconds" in capsys.readouterr().err
