"""``torchrun --nproc_per_node 2`` (Gloo, CPU) trains like one process with the same batch.

The processes are started with the words the train rule runs for ``train.gpus: 2``
(:func:`adm.experiment.launch.train_launcher`), ``torchrun`` found beside this interpreter as
the rule finds it in its environment."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from test_training_dataset import write_corpus
from tiny import tiny_run

from adm.experiment.launch import train_launcher
from adm.training.checkpoint import list_checkpoints
from adm.training.config import parse_run_config
from adm.training.loop import train

ROOT = Path(__file__).resolve().parents[1]


pytestmark = pytest.mark.usefixtures("one_thread")


def test_two_processes_equal_one_with_the_same_global_batch(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    # No dropout: then the two ranks' halves of each batch see exactly the noise, timesteps and
    # windows the single process sees (the short, padded clip included), and the gradients
    # agree up to float rounding.
    config = tiny_run(
        train={"batch": 4, "iterations": 4, "checkpoint_every": 4, "log_every": 2},
        model={"dropout": 0.0, "cond_drop_prob": 0.0},
    )
    out = tmp_path / "ddp"
    command = [
        *shlex.split(train_launcher(2)),
        "--clips-dir", str(corpus.clips_dir), "--audio-dir", str(corpus.audio_dir),
        "--text-dir", str(corpus.text_dir), "--split-dir", str(corpus.split_dir),
        "--norm", str(corpus.norm), "--speakers", "2", "4", "--outdir", str(out),
        "--config", json.dumps(config),
    ]  # fmt: skip
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "PATH": path}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    # Rank 0 alone logs and writes: one start line, one checkpoint, no stray folders.
    assert done.stderr.count("device cpu x 2, batch 4 (2 per process)") == 1
    assert [step for step, _ in list_checkpoints(out / "checkpoints")] == [4]
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_4"]

    single = tmp_path / "single"
    train(corpus, [2, 4], single, parse_run_config(config))
    for name in ("model.safetensors", "ema.safetensors"):
        x, y = load_file(out / name), load_file(single / name)
        assert x.keys() == y.keys()
        for k in x:
            torch.testing.assert_close(x[k], y[k], rtol=1e-4, atol=5e-5, msg=f"{name}: {k}")
    rows = (out / "scalars.csv").read_text().splitlines()
    single_rows = (single / "scalars.csv").read_text().splitlines()
    for a, b in zip(rows[1:], single_rows[1:], strict=True):
        loss_a, loss_b = float(a.split(",")[1]), float(b.split(",")[1])
        assert loss_a == pytest.approx(loss_b, rel=1e-4)
