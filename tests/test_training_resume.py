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
from test_training_dataset import tiny_run, write_corpus

from adm.cli import run_stage
from adm.train import main as train_main
from adm.train import parser as train_parser
from adm.training.checkpoint import latest_checkpoint
from adm.training.config import parse_run_config
from adm.training.loop import train

ROOT = Path(__file__).resolve().parents[1]
# Dropout and speaker (classifier-free) dropout on: resume must restore every RNG.
NOISY = {"dropout": 0.2, "cond_drop_prob": 0.5}


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


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
    command = [sys.executable, "-m", "adm.train", *_argv(corpus, out, config)]
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
        assert run_stage(train_main, train_parser(), _argv(corpus, out, config)) == 0
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
