"""``adm sample`` end to end on tiny clips and a tiny checkpoint written here."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny import TINY_DENOISER
from tolerance import ops_tol, stored_rotation_tol

from adm.commands import run
from adm.data.bvh import read_bvh
from adm.data.face import read_face_json
from adm.errors import BadInputError
from adm.io.frames import read_frames, write_frames
from adm.models import build_denoiser
from adm.rotations import (
    axis_angle_to_euler,
    axis_angle_to_matrix,
    euler_to_matrix,
    rotation_angle_between,
)
from adm.sampling.inputs import prepare_clip, seed_frames_of
from adm.skeleton import GESTURE_JOINTS, gesture_rotation_columns
from adm.training.checkpoint import load_checkpoint, weights_tensors, write_weights

W, S = 40, 10
CLIPS = {"2_scott_0_1_1": (2, 131), "4_lawrence_0_2_2": (4, 25), "2_scott_0_3_3": (2, 77)}
LAYOUT = {"dim": 7, "blocks": [{"name": "mfcc", "offset": 0, "width": 7}]}
TINY = {
    **TINY_DENOISER,
    "window": W,
    "seed_frames": S,
    "audio_dim": 7,
    "text_dim": 5,
    "num_speakers": 2,
}


pytestmark = pytest.mark.usefixtures("one_thread")


def _smooth(rng: np.random.Generator, frames: int, dims: int) -> np.ndarray:
    t = np.arange(frames)[:, None] / 30.0
    return np.sin(2 * np.pi * rng.uniform(0.2, 1.0, dims) * t + rng.uniform(0, 6, dims))


def _write_clip(root: Path, stem: str, speaker: int, frames: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    gesture = (0.4 * _smooth(rng, frames, 141)).astype(np.float32)
    euler = axis_angle_to_euler(gesture.reshape(frames, 47, 3).astype(np.float64))
    euler += 360.0 * rng.integers(-2, 3, size=(1, 47, 3))  # BEAT-like unwrapped branch
    face = (0.5 + 0.4 * _smooth(rng, frames, 51)).astype(np.float32)
    meta = {"clip": stem, "speaker": speaker, "fps": 30, "num_frames": frames, "split": "test"}
    columns = {
        "gesture": gesture,
        "gesture_euler": euler.reshape(frames, 141).astype(np.float32),
        "face": face,
        "semantic": np.zeros(frames, np.float32),
        "emotion": np.zeros(frames, np.int64),
    }
    write_frames(root / "clips" / f"{stem}.parquet", columns, meta)
    audio = _smooth(rng, frames, 7).astype(np.float32)
    write_frames(root / "audio" / f"{stem}.parquet", {"audio": audio}, {"layout": LAYOUT})
    write_frames(root / "text" / f"{stem}.parquet", {"text": rng.normal(size=(frames, 5))}, {})


def _write_checkpoint(path: Path, tasks: tuple[str, ...]) -> Path:
    torch.manual_seed(0)
    config = {**TINY, "tasks": list(tasks)}
    model = build_denoiser("adm", config)
    norm = {}
    for stream, dim in (("gesture", 141), ("face", 51), ("audio", 7), ("text", 5)):
        norm[f"norm.{stream}.mean"] = torch.full((dim,), 0.1)
        norm[f"norm.{stream}.std"] = torch.full((dim,), 0.5)
    metadata = {
        "format": "adm-checkpoint/1",
        "denoiser": "adm",
        "model_config": config,
        "diffusion": {"schedule": "cosine", "steps": 12, "prediction": "x0"},
        "variant": {"name": "full" if len(tasks) == 2 else "a2e", "tasks": list(tasks)},
        "speakers": [2, 4],
        "audio_layout": LAYOUT,
        "step": "123",
        "config_hash": "abc123def456",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    write_weights(path, weights_tensors(model.state_dict(), {}, norm), metadata)
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sample")
    for n, (stem, (speaker, frames)) in enumerate(CLIPS.items()):
        _write_clip(root, stem, speaker, frames, n)
    _write_clip(root, "6_carla_0_1_1", 6, 50, 9)  # a speaker the model does not know
    (root / "test.txt").write_text("\n".join(CLIPS) + "\n")
    _write_checkpoint(root / "full" / "ema.safetensors", ("gesture", "face"))
    _write_checkpoint(root / "a2e" / "ema.safetensors", ("face",))
    return root


def _run(root: Path, outdir: Path, seed: int = 0, variant: str = "full", clips=None, **config):
    argv = [
        "--checkpoint", str(root / variant / "ema.safetensors"),
        "--clips-dir", str(root / "clips"), "--audio-dir", str(root / "audio"),
        "--text-dir", str(root / "text"), "--seed", str(seed), "--outdir", str(outdir),
        "--config", json.dumps({"sampler": "ddpm", "batch": 16, **config}),
    ]  # fmt: skip
    argv += ["--clips", *clips] if clips else ["--split", str(root / "test.txt")]
    return run("sample", argv)


def _gesture(folder: Path, stem: str) -> np.ndarray:
    return read_frames(folder / f"{stem}.parquet")["gesture"]


@pytest.fixture(scope="module")
def seed0(data) -> Path:
    out = data / "out" / "seed0"
    assert _run(data, out) == 0
    return out


def test_writes_every_clip_with_complete_metadata(seed0):
    lines = (seed0 / "samples.tsv").read_text().splitlines()
    assert lines[0] == "clip\tnum_frames"
    assert dict(line.split("\t") for line in lines[1:]) == {
        s: str(f) for s, (_, f) in CLIPS.items()
    }
    for stem, (speaker, frames) in CLIPS.items():
        table = read_frames(seed0 / f"{stem}.parquet")
        assert table["gesture"].shape == (frames, 141)
        assert table["gesture_euler"].shape == (frames, 141)
        assert table["face"].shape == (frames, 51)
        assert table["face"].min() >= 0.0 and table["face"].max() <= 1.0
        meta = table.metadata
        assert meta["clip"] == stem and meta["speaker"] == speaker and meta["fps"] == 30
        assert meta["variant"] == "full" and meta["seed"] == 0 and meta["sampler"] == "ddpm"
        assert meta["steps"] == 12 and meta["guidance"] == 1.0
        assert meta["config_hash"] == "abc123def456" and meta["checkpoint_step"] == 123
        assert meta["checkpoint"].endswith("full/ema.safetensors")
        assert meta["num_frames"] == frames and meta["tasks"] == ["gesture", "face"]
    assert not list(seed0.parent.glob(".*"))  # no temporary left beside the samples


def test_gesture_euler_follows_the_ground_truth_branch(data, seed0):
    stem = "2_scott_0_3_3"
    gen = read_frames(seed0 / f"{stem}.parquet")
    gt = read_frames(data / "clips" / f"{stem}.parquet")["gesture_euler"]
    euler = gen["gesture_euler"].reshape(-1, 47, 3).astype(np.float64)
    # the same rotations as the axis-angle column ...
    aa = gen["gesture"].reshape(-1, 47, 3)
    angle = rotation_angle_between(euler_to_matrix(euler), axis_angle_to_matrix(aa))
    # Both columns are stored in float32: one rounding of each of the 3 angles (radians) and
    # of each axis-angle component; the float64 conversions add 10-odd roundings more.
    assert angle.max() <= stored_rotation_tol(np.radians(euler), aa)
    # ... on the ground truth's unwrapped branch (offsets of up to 720 degrees in the fixture)
    assert np.abs(euler.reshape(-1, 141) - gt).max() < 360.0
    assert np.abs(gt).max() > 360.0


def test_bvh_and_face_json_match_the_table(seed0):
    stem = "2_scott_0_1_1"
    table = read_frames(seed0 / f"{stem}.parquet")
    bvh = read_bvh(seed0 / f"{stem}.bvh")
    assert len(bvh.header.joints) == 75 and bvh.motion.shape[0] == 131
    assert bvh.fps == pytest.approx(30.0, rel=1e-3)
    cols = gesture_rotation_columns(bvh.header)
    euler = bvh.motion[:, cols].astype(np.float64)
    aa = table["gesture"].reshape(-1, len(GESTURE_JOINTS), 3)
    angle = rotation_angle_between(euler_to_matrix(euler), axis_angle_to_matrix(aa))
    # The BVH prints degrees with 6 decimals: 5e-7 degrees per angle, 3 angles a joint.
    printed = 3 * np.radians(0.5e-6)
    assert angle.max() <= stored_rotation_tol(np.radians(euler), aa) + printed
    others = np.setdiff1d(np.arange(bvh.motion.shape[1]), cols.reshape(-1))
    assert np.all(bvh.motion[:, others] == 0.0)
    face = read_face_json(seed0 / f"{stem}.json", fps=30.0)
    # The JSON holds each float32 weight as a float64 repr: at most one float32 rounding apart.
    np.testing.assert_allclose(face.weights, table["face"], atol=ops_tol(1, 1.0), rtol=0)


def test_same_seed_identical_other_seed_different(data, seed0, tmp_path):
    assert _run(data, tmp_path / "again", seed=0) == 0
    assert _run(data, tmp_path / "seed1", seed=1) == 0
    for stem in CLIPS:
        assert np.array_equal(_gesture(seed0, stem), _gesture(tmp_path / "again", stem))
        assert np.abs(_gesture(seed0, stem) - _gesture(tmp_path / "seed1", stem)).max() > 0.05


def test_ddim_eta0_is_deterministic_and_seeded(data, tmp_path):
    ddim = {"sampler": "ddim", "steps": 4, "eta": 0.0}
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        assert _run(data, tmp_path / name, seed=seed, **ddim) == 0
    stem = "2_scott_0_1_1"
    assert read_frames(tmp_path / "a" / f"{stem}.parquet").metadata["steps"] == 4
    assert np.array_equal(_gesture(tmp_path / "a", stem), _gesture(tmp_path / "b", stem))
    assert not np.array_equal(_gesture(tmp_path / "a", stem), _gesture(tmp_path / "c", stem))


@pytest.mark.parametrize("solver", ["dpmpp_2m", "dpmpp_2m_sde"])
def test_solvers_record_their_calls_and_are_seeded(data, tmp_path, solver):
    config = {"sampler": solver, "steps": 5}
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        assert _run(data, tmp_path / name, seed=seed, **config) == 0
    stem = "2_scott_0_1_1"
    meta = read_frames(tmp_path / "a" / f"{stem}.parquet").metadata
    assert meta["sampler"] == solver and meta["steps"] == 5
    assert np.array_equal(_gesture(tmp_path / "a", stem), _gesture(tmp_path / "b", stem))
    assert not np.array_equal(_gesture(tmp_path / "a", stem), _gesture(tmp_path / "c", stem))


def test_batching_across_clips_does_not_change_a_clip(data, seed0, tmp_path):
    # Per-clip generators make the noise identical; the network's float rounding may differ
    # with the batch size (BLAS blocking), hence a tolerance far below any visible change.
    assert _run(data, tmp_path / "b1", batch=1) == 0
    assert _run(data, tmp_path / "one", clips=["2_scott_0_3_3"]) == 0
    for stem in CLIPS:
        np.testing.assert_allclose(
            _gesture(tmp_path / "b1", stem), _gesture(seed0, stem), atol=1e-4
        )
    np.testing.assert_allclose(
        _gesture(tmp_path / "one", "2_scott_0_3_3"), _gesture(seed0, "2_scott_0_3_3"), atol=1e-4
    )
    assert (tmp_path / "one" / "samples.tsv").read_text().count("\n") == 2


def test_face_only_model_writes_no_gesture(data, tmp_path):
    assert _run(data, tmp_path / "a2e", variant="a2e", clips=["4_lawrence_0_2_2"]) == 0
    table = read_frames(tmp_path / "a2e" / "4_lawrence_0_2_2.parquet")
    assert set(table.columns) == {"face"} and table.metadata["tasks"] == ["face"]
    assert not (tmp_path / "a2e" / "4_lawrence_0_2_2.bvh").exists()
    assert (tmp_path / "a2e" / "4_lawrence_0_2_2.json").is_file()


def test_unknown_speaker_is_an_error_naming_the_clip(data, tmp_path, capsys):
    assert _run(data, tmp_path / "bad", clips=["2_scott_0_1_1", "6_carla_0_1_1"]) == 1
    err = capsys.readouterr().err
    assert "6_carla_0_1_1" in err and "speaker 6 is unknown" in err
    assert not (tmp_path / "bad").exists()


def test_failure_mid_run_leaves_no_output_folder(data, tmp_path, monkeypatch, capsys):
    import adm.sampling.export as export

    calls = []
    real = export.write_face_json

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args, **kwargs)

    monkeypatch.setattr(export, "write_face_json", failing)
    assert _run(data, tmp_path / "partial") == 1
    assert len(calls) == 2
    assert list(tmp_path.iterdir()) == []
    err = capsys.readouterr().err
    assert err.count("error:") == 1
    assert f"error: {tmp_path / 'partial'}: cannot write (No space left on device)" in err


def test_bad_config_key_is_named(data, tmp_path, capsys):
    assert _run(data, tmp_path / "x", stepz=3) == 1
    assert "stepz" in capsys.readouterr().err


def test_prepared_inputs_are_normalised_with_the_checkpoint_stats(data):
    ckpt = load_checkpoint(data / "full" / "ema.safetensors")
    dirs = {"clips": data / "clips", "audio": data / "audio", "text": data / "text"}
    clip = prepare_clip("4_lawrence_0_2_2", dirs, ckpt.model.config, ckpt.norm, [2, 4], LAYOUT)
    gt = read_frames(data / "clips" / "4_lawrence_0_2_2.parquet")
    expected = np.concatenate([gt["gesture"][:S], gt["face"][:S]], axis=1)
    # (x - 0.1) / 0.5 in float32: the casts, a subtraction and a division, 4 roundings.
    tol = ops_tol(4, (np.abs(expected).max() + 0.1) / 0.5)
    np.testing.assert_allclose(clip.inputs.seed.numpy(), (expected - 0.1) / 0.5, atol=tol, rtol=0)
    assert clip.inputs.speaker == 1 and clip.speaker == 4 and clip.fps == 30.0
    audio = read_frames(data / "audio" / "4_lawrence_0_2_2.parquet")["audio"]
    tol = ops_tol(4, (np.abs(audio).max() + 0.1) / 0.5)
    np.testing.assert_allclose(clip.inputs.audio.numpy(), (audio - 0.1) / 0.5, atol=tol, rtol=0)
    # a clip shorter than the seed holds its last frame
    short = seed_frames_of(np.arange(6, dtype=np.float32).reshape(3, 2), 5)
    assert short.tolist() == [[0, 1], [2, 3], [4, 5], [4, 5], [4, 5]]
    other = {"dim": 7, "blocks": [{"name": "logmel", "offset": 0, "width": 7}]}
    with pytest.raises(BadInputError, match="layout"):
        prepare_clip("4_lawrence_0_2_2", dirs, ckpt.model.config, ckpt.norm, [2, 4], other)


def test_guidance_changes_the_sample(data, tmp_path):
    ddim = {"sampler": "ddim", "steps": 4}
    clip = ["4_lawrence_0_2_2"]
    assert _run(data, tmp_path / "g1", clips=clip, guidance=1.0, **ddim) == 0
    assert _run(data, tmp_path / "g3", clips=clip, guidance=3.0, **ddim) == 0
    table = read_frames(tmp_path / "g3" / f"{clip[0]}.parquet")
    assert table.metadata["guidance"] == 3.0
    assert np.abs(table["gesture"] - _gesture(tmp_path / "g1", clip[0])).max() > 1e-3


def test_several_seeds_in_one_run_equal_one_run_each(data, seed0, tmp_path, capsys):
    """The pipeline samples a variant's seeds in one job: each folder equals its own run's."""
    argv = [
        "--checkpoint", str(data / "full" / "ema.safetensors"),
        "--clips-dir", str(data / "clips"), "--audio-dir", str(data / "audio"),
        "--text-dir", str(data / "text"), "--split", str(data / "test.txt"),
        "--config", json.dumps({"sampler": "ddpm", "batch": 16}),
    ]  # fmt: skip
    both = [tmp_path / "both1", tmp_path / "both0"]
    assert run("sample", [*argv, "--seed", "1", "0", "--outdir", *map(str, both)]) == 0
    assert _run(data, tmp_path / "seed1", seed=1) == 0
    for stem in CLIPS:
        assert np.array_equal(_gesture(both[1], stem), _gesture(seed0, stem))
        assert np.array_equal(_gesture(both[0], stem), _gesture(tmp_path / "seed1", stem))
        meta = read_frames(both[0] / f"{stem}.parquet").metadata
        assert meta["seed"] == 1
    bad = [tmp_path / "x", tmp_path / "y"]
    capsys.readouterr()
    assert run("sample", [*argv, "--seed", "2", "--outdir", *map(str, bad)]) == 1
    err = capsys.readouterr().err
    assert (
        "--seed / --outdir: one value of each per seed" in err
        and len(err.strip().splitlines()) == 1
    )
    assert run("sample", [*argv, "--seed", "3", "3", "--outdir", *map(str, bad)]) == 1
    assert "a seed is given twice" in capsys.readouterr().err
    assert not any(p.exists() for p in bad)
