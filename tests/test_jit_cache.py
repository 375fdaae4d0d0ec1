"""librosa's numba cache: where it lives, parallel jobs from an empty cache, a corrupt cache.

The hard test runs the real feature stage (``adm audio-features``) as separate
processes, several at once, from an empty cache: without the lock, numba's unsynchronised cache
writes leave a cache that makes jobs die with a segmentation fault (exit -11).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import adm.jit as jit
from adm.data.audio import write_wav
from adm.io.frames import read_frames, write_frames

ROOT = Path(__file__).resolve().parents[1]
SR, FPS, FRAMES = 16000, 30, 90
PARALLEL = 4  # jobs started at once (twice the cores of a small machine)


def _env(cache: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "OMP_NUM_THREADS")}
    return {**env, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT), **extra}


@pytest.fixture(scope="module")
def jobs(tmp_path_factory) -> Path:
    """Inputs of PARALLEL feature jobs: a prepared-clip stub and 3 s of speech-like audio."""
    folder = tmp_path_factory.mktemp("jit_jobs")
    rng = np.random.default_rng(0)
    t = np.arange(3 * SR) / SR
    for i in range(PARALLEL):
        stem = f"2_scott_0_{i + 1}_{i + 1}"
        meta = {"num_frames": FRAMES, "fps": FPS, "clip": stem, "speaker": 2}
        write_frames(folder / f"{i}.parquet", {"gesture": np.zeros((FRAMES, 3), np.float32)}, meta)
        voiced = np.sin(2 * np.pi * (120 + 20 * i) * t) * (np.sin(2 * np.pi * 2.5 * t) > 0)
        audio = 0.2 * voiced + 0.01 * rng.standard_normal(len(t))
        write_wav(folder / f"{i}.wav", audio, SR, sample_format="int16")
    return folder


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """One cache folder for the module: the first test fills it, the next ones reuse it."""
    return tmp_path_factory.mktemp("jit_cache") / "numba"


def _start(jobs: Path, i: int, cache: Path) -> subprocess.Popen:
    out = jobs / f"out{i}.parquet"
    out.unlink(missing_ok=True)
    argv = ["--clip", str(jobs / f"{i}.parquet"), "--wav", str(jobs / f"{i}.wav")]
    argv += ["--out", str(out)]
    return subprocess.Popen(
        [sys.executable, "-m", "adm", "audio-features", *argv],
        env=_env(cache),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wave(jobs: Path, cache: Path, count: int) -> tuple[list[str], list[str]]:
    """Run ``count`` feature jobs at once; return a line per failed job and every output."""
    procs = [_start(jobs, i, cache) for i in range(count)]
    failures, outputs = [], []
    for i, proc in enumerate(procs):
        output, _ = proc.communicate(timeout=900)
        outputs.append(output)
        if proc.returncode != 0:
            failures.append(f"job {i}: exit {proc.returncode}: {output[-500:]}")
        elif read_frames(jobs / f"out{i}.parquet")["audio"].shape[0] != FRAMES:
            failures.append(f"job {i}: wrong row count")
    return failures, outputs


def _damage(cache: Path) -> None:
    """Cut every compiled kernel in half, as a torn or mixed-up write leaves it."""
    data = sorted(p for p in _nb_files(cache) if p.suffix == ".nbc")
    assert data
    for path in data:
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _nb_files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.suffix in (".nbi", ".nbc")}


@pytest.mark.slow
def test_parallel_feature_jobs_from_an_empty_then_a_corrupt_cache_then_serial(jobs, cache):
    """Round 1 starts from an empty cache, round 2 from one whose every kernel is damaged; each
    runs PARALLEL jobs at once, then PARALLEL more on the cache they left; then one job alone.
    Every job succeeds, and in round 2 exactly one job clears and rebuilds the cache."""
    librosa_dir = Path(importlib.util.find_spec("librosa").origin).parent
    started = time.time()
    failures, said = [], {}
    for round_, start in enumerate(("empty", "corrupt")):
        if start == "empty":
            jit.clear(cache)
        else:
            _damage(cache)
        for wave in ("first", "second"):
            failed, outputs = _wave(jobs, cache, PARALLEL)
            failures += [f"round {round_ + 1} ({start} cache, {wave} wave) {f}" for f in failed]
            said[start, wave] = [o for o in outputs if "clearing and rebuilding it" in o]
    failures += [f"serial {f}" for f in _wave(jobs, cache, 1)[0]]
    assert not failures, "\n".join(failures)
    assert len(said["corrupt", "first"]) == 1 and "rebuilt" in said["corrupt", "first"][0]
    assert not said["empty", "first"] and not said["empty", "second"]
    assert not said["corrupt", "second"]
    # The kernels went to the cache folder given, none into librosa's package folder.
    assert _nb_files(cache)
    assert not [p for p in _nb_files(librosa_dir) if p.stat().st_mtime >= started]
    assert json.loads((cache / jit.STAMP_NAME).read_text())["signature"] == jit._signature(cache)


@pytest.mark.slow
def test_the_warm_up_covers_every_kernel_the_stages_use(jobs, cache):
    """After the warm-up, the feature stage and Beat Align compile nothing new."""
    probe = [sys.executable, str(ROOT / "tests" / "jit_probe.py"), str(jobs / "0.wav")]
    proc = subprocess.run(
        [*probe, str(FRAMES), str(FPS)], env=_env(cache), capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "NEW {}" in proc.stdout, proc.stdout


def test_importing_adm_points_numba_at_the_user_cache(tmp_path):
    env = _env(tmp_path)
    del env["NUMBA_CACHE_DIR"]
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    code = "import adm, numba, os; print(os.environ['NUMBA_CACHE_DIR'], numba.config.CACHE_DIR)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    expected = str(tmp_path / "xdg" / "adm" / "numba")
    assert out.stdout.split() == [expected, expected]
    # NUMBA_CACHE_DIR wins; `adm jit where` tells the folder.
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "mine")
    out = subprocess.run(
        [sys.executable, "-m", "adm", "jit", "where"], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0 and out.stdout.strip() == str(tmp_path / "mine")


def test_a_check_process_that_dies_clears_the_cache_once(tmp_path, monkeypatch):
    """The decision logic: a crash (signal) clears and rebuilds; two crashes stop with advice."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "f.nbc").write_bytes(b"junk")
    codes = iter([-11, 0])
    runs = []

    def fake_child():
        runs.append(sorted(p.name for p in tmp_path.rglob("*.nbc")))
        return subprocess.CompletedProcess([], next(codes), "", "Segmentation fault")

    monkeypatch.setattr(jit, "_run_child", fake_child)
    jit._verify_in_child(tmp_path)
    assert runs == [["f.nbc"], []]  # the second check ran on a cleared cache
    assert jit._is_verified(tmp_path)

    codes = iter([-11, -11])
    (tmp_path / "g.nbc").write_bytes(b"junk")
    with pytest.raises(jit.JitCacheError, match="adm jit clear"):
        jit._verify_in_child(tmp_path)
