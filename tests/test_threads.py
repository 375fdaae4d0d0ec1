"""``--threads``: the CPU thread count is an explicit, recorded setting of the torch stages.

Float32 sums split over N threads round differently than over M, so the trained weights depend
on the thread count in their last bits. The pipeline runs ``adm train ... --threads
{threads}``; the same command typed by hand must give the same weights whatever
``OMP_NUM_THREADS`` the shell has (Snakemake sets it to the rule's threads, a terminal usually
not at all).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors import safe_open
from safetensors.torch import load_file
from test_training_dataset import write_corpus
from tiny import tiny_run

from adm.threads import DEFAULT_THREADS

ROOT = Path(__file__).resolve().parents[1]
# Wide enough that torch splits its matrix products over threads (a thread-count dependence
# the tiny models of the other tests are too small to show).
WIDE = {"latent": 128, "ff": 256, "cond_dim": 32, "time_dim": 64, "id_dim": 64}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("corpus"))


def _train(corpus, outdir: Path, env_threads: str | None, *extra: str) -> dict:
    config = tiny_run(train={"iterations": 2, "batch": 8, "log_every": 2}, model=WIDE)
    argv = [
        "--clips-dir", str(corpus.clips_dir), "--audio-dir", str(corpus.audio_dir),
        "--text-dir", str(corpus.text_dir), "--split-dir", str(corpus.split_dir),
        "--norm", str(corpus.norm), "--speakers", "2", "4", "--outdir", str(outdir),
        "--config", json.dumps(config), *extra,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    if env_threads is not None:
        env.update(OMP_NUM_THREADS=env_threads, MKL_NUM_THREADS=env_threads)
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-m", "adm", "train", *argv], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return load_file(outdir / "model.safetensors")


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(a[k].equal(b[k]) for k in a)


def _threads_recorded(outdir: Path) -> int:
    with safe_open(str(outdir / "ema.safetensors"), framework="pt") as f:
        return json.loads(f.metadata()["threads"])


def test_the_same_threads_setting_gives_identical_weights_in_any_environment(corpus, tmp_path):
    one = _train(corpus, tmp_path / "env1", "1", "--threads", "2")
    two = _train(corpus, tmp_path / "env2", "2", "--threads", "2")
    assert _same(one, two)
    assert _threads_recorded(tmp_path / "env1") == 2


def test_without_the_option_the_default_applies_whatever_the_environment(corpus, tmp_path):
    one = _train(corpus, tmp_path / "one", "1")
    two = _train(corpus, tmp_path / "two", "2")
    assert _same(one, two)
    assert _threads_recorded(tmp_path / "two") == DEFAULT_THREADS


def test_a_bad_thread_count_is_one_clear_line(corpus, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "adm", "train", "--threads", "0"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 2
    assert "--threads" in proc.stderr and "Traceback" not in proc.stderr
