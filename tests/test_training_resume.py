"""Exact resume: N steps + a resumed N steps equal 2N straight steps; a killed process resumes."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from test_training_dataset import write_corpus
from tiny import tiny_run

from adm.commands import run
from adm.errors import BadInputError
from adm.training.checkpoint import latest_checkpoint, list_checkpoints
from adm.training.config import parse_run_config
from adm.training.loop import train

ROOT = Path(__file__).resolve().parents[1]
# Dropout and speaker (classifier-free) dropout on: resume must restore every RNG.
NOISY = {"dropout": 0.2, "cond_drop_prob": 0.5}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("corpus"))


def _config(iterations: int, **train) -> dict:
    settings = {"iterations": iterations, "checkpoint_every": 3, "log_every": 1, **train}
    return tiny_run(train=settings, model=NOISY)


def _assert_same_weights(a: Path, b: Path) -> None:
    for name in ("model.safetensors", "ema.safetensors"):
        x, y = load_file(a / name), load_file(b / name)
        assert x.keys() == y.keys()
        different = [k for k in x if not torch.equal(x[k], y[k])]
        assert not different, f"{name}: {different[:3]}"


def test_resumed_run_equals_straight_run(corpus, tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    train(corpus, [2, 4], straight, parse_run_config(_config(6)))
    # 3 steps, then a new run of the same settings with more iterations picks it up. 3 steps
    # cross an epoch boundary (2 batches per epoch), so the data position is exercised too.
    train(corpus, [2, 4], split, parse_run_config(_config(3)))
    assert latest_checkpoint(split / "checkpoints")[0] == 3
    torch.manual_seed(1234)  # a disturbed global RNG must not matter: the checkpoint restores it
    train(corpus, [2, 4], split, parse_run_config(_config(6)))
    _assert_same_weights(straight, split)
    steps = [line.split(",")[0] for line in (split / "scalars.csv").read_text().splitlines()[1:]]
    assert steps == [str(s) for s in range(1, 7)]


def test_other_settings_do_not_resume(corpus, tmp_path):
    train(corpus, [2, 4], tmp_path, parse_run_config(_config(3)))
    train(corpus, [2, 4], tmp_path, parse_run_config(_config(3, lr=5e-4)))
    stale = list(tmp_path.glob("checkpoints.stale-*"))
    assert len(stale) == 1 and latest_checkpoint(stale[0])[0] == 3
    fresh = tmp_path / "fresh"
    train(corpus, [2, 4], fresh, parse_run_config(_config(3, lr=5e-4)))
    _assert_same_weights(tmp_path, fresh)  # trained from scratch, not from the stale steps


def _argv(corpus, outdir: Path, config: dict) -> list[str]:
    return [
        "--clips-dir",
        str(corpus.clips_dir),
        "--audio-dir",
        str(corpus.audio_dir),
        "--text-dir",
        str(corpus.text_dir),
        "--split-dir",
        str(corpus.split_dir),
        "--norm",
        str(corpus.norm),
        "--speakers",
        "2",
        "4",
        "--outdir",
        str(outdir),
        "--config",
        json.dumps(config),
    ]


def test_killed_process_resumes_to_completion(corpus, tmp_path, caplog):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    out = tmp_path / "run"
    config = _config(100_000, checkpoint_every=5, log_every=5)
    command = [sys.executable, "-m", "adm", "train", *_argv(corpus, out, config)]
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    try:
        while latest_checkpoint(out / "checkpoints") is None:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no checkpoint within 60 s"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "model.safetensors").exists()
    reached = latest_checkpoint(out / "checkpoints")[0]

    # The rerun (the same command, here run in this process to spare a second interpreter
    # start) picks up the newest checkpoint and finishes.
    target = reached + 4
    config["train"]["iterations"] = target
    with caplog.at_level(logging.INFO, logger="adm"):
        assert run("train", _argv(corpus, out, config)) == 0
    assert f"resuming from {out / 'checkpoints' / f'step_{reached}'}" in caplog.text
    for name in ("model.safetensors", "ema.safetensors", "scalars.csv"):
        assert (out / name).is_file()
    steps = [int(line.split(",")[0]) for line in (out / "scalars.csv").read_text().split()[1:]]
    assert steps == sorted(set(steps)) and steps[-1] == target
    # The interrupted run ends where an uninterrupted one does.
    straight = tmp_path / "straight"
    train(corpus, [2, 4], straight, parse_run_config(_config(target, checkpoint_every=5)))
    for name in ("model.safetensors", "ema.safetensors"):
        x, y = load_file(out / name), load_file(straight / name)
        for k in x:
            torch.testing.assert_close(x[k], y[k], rtol=1e-5, atol=1e-6)


def _flip_tensor_byte(path: Path) -> None:
    """Flip one bit inside the tensor data of a safetensors file (the header stays valid)."""
    raw = bytearray(path.read_bytes())
    header = 8 + int.from_bytes(raw[:8], "little")
    raw[header + (len(raw) - header) // 2] ^= 0x10
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize(
    ("damage", "file"),
    [
        (lambda p: p.write_bytes(b"not a torch file"), "state.pt"),
        (lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), "state.pt"),
        (_flip_tensor_byte, "model.safetensors"),
        (_flip_tensor_byte, "ema.safetensors"),
    ],
    ids=["state-garbage", "state-truncated", "model-bit-flip", "ema-bit-flip"],
)
def test_a_damaged_newest_checkpoint_falls_back_to_the_newest_intact_one(
    corpus, tmp_path, caplog, damage, file
):
    straight, run = tmp_path / "straight", tmp_path / "run"
    train(corpus, [2, 4], straight, parse_run_config(_config(6)))
    train(corpus, [2, 4], run, parse_run_config(_config(6)))
    checkpoints = run / "checkpoints"
    assert [s for s, _ in list_checkpoints(checkpoints)] == [3, 6]
    damage(checkpoints / "step_6" / file)
    for name in ("model.safetensors", "ema.safetensors", "scalars.csv", "val_scalars.csv"):
        (run / name).unlink()  # as after a run killed between its last checkpoint and the end

    with caplog.at_level(logging.INFO, logger="adm"):
        train(corpus, [2, 4], run, parse_run_config(_config(6)))
    assert "checkpoint of step 6 is damaged" in caplog.text and file in caplog.text
    assert f"resuming from {checkpoints / 'step_3'}" in caplog.text
    assert (checkpoints / "damaged-step_6" / file).is_file()  # kept for inspection
    _assert_same_weights(straight, run)  # steps 4-6 redone exactly


def test_a_bit_flip_in_weights_is_detected_on_load(corpus, tmp_path):
    from adm.metrics.checkpoint import load_face_vae, save_metric_model
    from adm.metrics.face_vae import FaceVAE
    from adm.training.checkpoint import load_checkpoint

    train(corpus, [2, 4], tmp_path, parse_run_config(_config(3)))
    load_checkpoint(tmp_path / "ema.safetensors")  # intact: loads
    _flip_tensor_byte(tmp_path / "ema.safetensors")
    with pytest.raises(BadInputError, match="damaged: the tensor data differ") as err:
        load_checkpoint(tmp_path / "ema.safetensors")
    assert err.value.path == tmp_path / "ema.safetensors"

    vae = tmp_path / "face.safetensors"
    save_metric_model(vae, FaceVAE(length=30))
    load_face_vae(vae)
    _flip_tensor_byte(vae)
    with pytest.raises(BadInputError, match="damaged"):
        load_face_vae(vae)


def test_checkpoint_files_share_one_mode_that_follows_the_umask(corpus, tmp_path):
    old = os.umask(0o027)
    try:
        train(corpus, [2, 4], tmp_path, parse_run_config(_config(3)))
    finally:
        os.umask(old)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"model.safetensors", "state.pt", "scalars.csv"}
    modes = {p.relative_to(tmp_path): oct(p.stat().st_mode & 0o777) for p in files}
    assert set(modes.values()) == {"0o640"}, modes
    folders = [p for p in tmp_path.rglob("*") if p.is_dir()]
    assert {oct(p.stat().st_mode & 0o777) for p in folders} == {"0o750"}
