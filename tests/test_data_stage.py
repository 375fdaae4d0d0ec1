"""The data stage commands: prepare_clip, split and norm_stats, including bad clips."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from clipfactory import make_clip

from adm.config import from_dict
from adm.data.bvh import read_bvh
from adm.data.clips import find_clip_files
from adm.data.face import ARKIT_NAMES, read_face_json
from adm.data.normalization import load_norm_stats
from adm.data.prepare import prepare_clip
from adm.data.settings import PrepareConfig
from adm.errors import BadClipError
from adm.io.frames import read_frames
from adm.rotations import axis_angle_to_matrix, euler_to_matrix, rotation_angle_between
from adm.skeleton import gesture_rotation_columns

ROOT = Path(__file__).resolve().parents[1]


def run_stage(module: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def prepare(root: Path, stem: str, out: Path, **cfg) -> subprocess.CompletedProcess:
    return run_stage(
        "adm",
        "prepare",
        "--clip",
        stem,
        "--root",
        str(root),
        "--out",
        str(out),
        "--config",
        json.dumps(cfg),
    )


def test_prepared_clip_is_resampled_cut_and_converted(tmp_path):
    stem = "2_scott_0_1_1"
    # Streams of different lengths: motion 6.5 s, face 7 s, audio 6 s -> 6 s at 30 fps.
    files = make_clip(tmp_path, stem, seconds=6.0, bvh_seconds=6.5, face_seconds=7.0)
    table = prepare_clip(stem, find_clip_files(tmp_path, stem), PrepareConfig())
    assert table.num_frames == 180
    assert table["gesture"].shape == (180, 141) and table["face"].shape == (180, 51)
    meta = table.metadata
    assert meta["source_frames"] == {"bvh": 195, "json": 210, "wav": 180}
    assert meta["split"] == "test" and meta["speaker"] == 2 and meta["fps"] == 30

    bvh = read_bvh(files["bvh"], fps=120)
    columns = gesture_rotation_columns(bvh.header)
    # Decimation keeps every 4th BVH frame: frame i is BVH frame 4i, as a rotation.
    source = bvh.motion[::4][:180][:, columns]  # [T, 47, 3]
    got = axis_angle_to_matrix(table["gesture"].reshape(180, 47, 3))
    assert rotation_angle_between(got, euler_to_matrix(source)).max() < 1e-4
    np.testing.assert_allclose(table["gesture_euler"].reshape(180, 47, 3), source, atol=1e-4)
    face = read_face_json(files["json"]).weights[::2][:180]
    np.testing.assert_allclose(table["face"], face, atol=1e-6)
    # Semantic score 0.4 on 1.2-2.0 s; emotion neutral.
    assert table["semantic"][45] == pytest.approx(0.4) and table["semantic"][10] == 0
    assert set(np.unique(table["emotion"])) == {0}


def test_whole_seconds_and_filtered_resampling(tmp_path):
    stem = "4_lawrence_0_9_9"
    make_clip(tmp_path, stem, seconds=5.5)
    files = find_clip_files(tmp_path, stem)
    cut = prepare_clip(stem, files, from_dict(PrepareConfig, {"whole_seconds": True}))
    assert cut.num_frames == 150
    filtered = prepare_clip(
        stem, files, from_dict(PrepareConfig, {"resample": "filtered", "fps": 25})
    )
    assert filtered.num_frames == int(5.5 * 25)
    assert filtered["face"].min() >= 0 and filtered["face"].max() <= 1


def test_real_bvh_with_wrong_frame_time_prepares_at_its_real_rate(tmp_path, beat_bvh_path):
    # The fixture declares 120 fps but holds 15 fps motion (957 lines, 63.8 s).
    stem = "2_scott_0_1_1"
    make_clip(tmp_path, stem, seconds=64.0)
    (tmp_path / "2" / f"{stem}.bvh").write_bytes(beat_bvh_path.read_bytes())
    cfg = from_dict(PrepareConfig, {"fps": 15, "bvh_fps": 15.0})
    table = prepare_clip(stem, find_clip_files(tmp_path, stem), cfg)
    assert table.num_frames == 957
    assert table["gesture"].shape == (957, 141)
    # The unwrapped forearm angles survive as rotations: axis-angle stays within pi.
    assert np.linalg.norm(table["gesture"].reshape(957, 47, 3), axis=-1).max() <= np.pi + 1e-5
    assert np.abs(table["gesture_euler"]).max() > 360


def test_prepare_command_writes_parquet_and_names_a_bad_file(tmp_path):
    stem = "6_carla_0_9_9"
    files = make_clip(tmp_path, stem)
    out = tmp_path / "clips" / f"{stem}.parquet"
    result = prepare(tmp_path, stem, out)
    assert result.returncode == 0, result.stderr
    assert read_frames(out).metadata["clip"] == stem

    lines = files["bvh"].read_text().splitlines()
    lines[500] = lines[500].replace(lines[500].split()[3], "abc", 1)
    files["bvh"].write_text("\n".join(lines) + "\n")
    out.unlink()
    result = prepare(tmp_path, stem, out)
    assert result.returncode == 1
    assert str(files["bvh"]) in result.stderr and "line" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("ext", "damage", "expect"),
    [
        ("bvh", lambda p: p.write_text(p.read_text()[: len(p.read_text()) // 2]), "truncated"),
        (
            "json",
            lambda p: p.write_text(p.read_text().replace('"jawOpen"', '"jawClosed"')),
            "jawOpen",
        ),
        ("json", lambda p: p.write_text(p.read_text().replace("0.", "NaN, 0.", 1)), ""),
        ("wav", lambda p: p.write_bytes(b""), "empty"),
        (
            "TextGrid",
            lambda p: p.write_text(
                p.read_text().replace('"words"', '"notes"').replace('"phones"', '"other"')
            ),
            "no word tier",  # tiers are found by name, never by position
        ),
    ],
)
def test_bad_clip_errors_name_the_file(tmp_path, ext, damage, expect):
    stem = "8_catherine_0_9_9"
    files = make_clip(tmp_path, stem)
    damage(files[ext])
    with pytest.raises(BadClipError) as err:
        prepare_clip(stem, find_clip_files(tmp_path, stem), PrepareConfig())
    assert err.value.path == files[ext]
    assert expect.lower() in str(err.value).lower()


def test_skip_mode_lists_every_skipped_clip_with_its_reason(tmp_path):
    good, bad = "2_scott_0_9_9", "2_scott_0_1_1"
    make_clip(tmp_path, good)
    files = make_clip(tmp_path, bad)
    files["json"].write_text("{not json")
    clips = tmp_path / "clips"
    for stem in (good, bad):
        result = prepare(tmp_path, stem, clips / f"{stem}.parquet", on_bad_clip="skip")
        assert result.returncode == 0, result.stderr
    split_dir, skipped = tmp_path / "split", tmp_path / "skipped.tsv"
    result = run_stage(
        "adm",
        "split",
        "--outdir",
        str(split_dir),
        "--skipped",
        str(skipped),
        *map(str, sorted(clips.glob("*.parquet"))),
    )
    assert result.returncode == 0, result.stderr
    assert (split_dir / "train.txt").read_text() == f"{good}\n"
    assert (split_dir / "test.txt").read_text() == ""
    rows = skipped.read_text().splitlines()
    assert rows[0] == "clip\tfile\treason"
    clip, file, reason = rows[1].split("\t")
    assert clip == bad and file == str(files["json"]) and "JSON" in reason
    assert "skipped 2_scott_0_1_1" in result.stderr


def test_fail_mode_stops_on_the_bad_clip(tmp_path):
    stem = "2_scott_0_9_9"
    files = make_clip(tmp_path, stem)
    files["json"].write_text("{not json")
    result = prepare(tmp_path, stem, tmp_path / "out.parquet", on_bad_clip="fail")
    assert result.returncode == 1 and str(files["json"]) in result.stderr
    assert not (tmp_path / "out.parquet").exists()


def test_split_follows_camn_and_norm_stats_use_train_only(tmp_path):
    stems = {
        "2_scott_0_1_1": "test",
        "2_scott_0_57_57": "val",
        "2_scott_0_9_9": "train",
        "2_scott_0_10_10": "train",
    }
    clips = tmp_path / "clips"
    for i, stem in enumerate(stems):
        make_clip(tmp_path, stem, seed=i)
        assert prepare(tmp_path, stem, clips / f"{stem}.parquet").returncode == 0
    split_dir = tmp_path / "split"
    result = run_stage(
        "adm",
        "split",
        "--outdir",
        str(split_dir),
        "--skipped",
        str(tmp_path / "skipped.tsv"),
        *map(str, clips.glob("*.parquet")),
    )
    assert result.returncode == 0, result.stderr
    for name in ("train", "val", "test"):
        listed = (split_dir / f"{name}.txt").read_text().split()
        assert listed == sorted(
            (s for s, v in stems.items() if v == name), key=lambda s: int(s.split("_")[3])
        )
    out = tmp_path / "norm.json"
    result = run_stage(
        "adm",
        "norm-stats",
        "--train",
        str(split_dir / "train.txt"),
        "--clips-dir",
        str(clips),
        "--out",
        str(out),
        "--min-std",
        "1e-3",
    )
    assert result.returncode == 0, result.stderr
    stats = load_norm_stats(out)
    train = np.concatenate(
        [read_frames(clips / f"{s}.parquet")["face"] for s in ("2_scott_0_9_9", "2_scott_0_10_10")]
    )
    np.testing.assert_allclose(stats.mean["face"], train.mean(0), atol=1e-5)
    np.testing.assert_allclose(stats.std["face"], np.maximum(train.std(0), 1e-3), atol=1e-5)
    assert stats.mean["gesture"].shape == (141,) and len(ARKIT_NAMES) == 51
    # The std floor holds on constant channels.
    assert stats.std["gesture"].min() >= 1e-3


def test_a_batch_prepares_each_clip_as_its_own_job_would(tmp_path):
    """The pipeline prepares a speaker's clips in one job: each table equals its own job's;
    with on_bad_clip: skip, a broken clip of the batch becomes a skip marker, the rest is
    prepared."""
    from adm.commands import run
    from adm.io.frames import read_frames

    stems = ["2_scott_0_1_1", "2_scott_0_2_2", "2_scott_0_3_3"]
    for i, stem in enumerate(stems):
        make_clip(tmp_path, stem, seconds=2.0 + i)
    (tmp_path / "2" / "2_scott_0_3_3.json").unlink()
    outs = [tmp_path / "batch" / f"{s}.parquet" for s in stems]
    argv = ["--clip", *stems, "--root", str(tmp_path), "--out", *map(str, outs)]
    assert run("prepare", [*argv, "--config", json.dumps({"on_bad_clip": "skip"})]) == 0
    for stem, out in zip(stems[:2], outs[:2], strict=True):
        alone = tmp_path / "alone" / f"{stem}.parquet"
        assert prepare(tmp_path, stem, alone, on_bad_clip="skip").returncode == 0
        a, b = read_frames(out), read_frames(alone)
        assert a.metadata == b.metadata
        np.testing.assert_array_equal(a["gesture"], b["gesture"])
        np.testing.assert_array_equal(a["face"], b["face"])
    assert read_frames(outs[2]).metadata["skipped"]
    assert run("prepare", argv) == 1  # on_bad_clip: fail names the missing file
