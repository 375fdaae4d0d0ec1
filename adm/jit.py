"""Where numba keeps librosa's compiled kernels, and how parallel jobs share them safely.

librosa compiles its numba kernels (peak picking, local extrema, pitch helpers, ...) with
``cache=True``: by default into its own package folder, and without any coordination between
processes. Two processes compiling the same kernel at once can leave the cache with index and
data files (or a kernel and its ufunc wrapper) from different compilations, and such a cache
crashes every later process that loads it with a segmentation fault. The pipeline's parallel
feature and evaluation jobs compile exactly at the same time on a first run. adm's policy:

* **Location.** ``NUMBA_CACHE_DIR`` when it is set, otherwise ``<user cache dir>/adm/numba``
  (``~/.cache/adm/numba`` on Linux), never site-packages. Importing :mod:`adm` sets
  ``NUMBA_CACHE_DIR`` in the environment (before numba is imported), so every stage, every
  Snakemake job and every child process uses the same folder.
* **One writer at a time.** The project reaches librosa only through :func:`load_librosa`.
  Its first call in a process takes an exclusive file lock (``<cache>/adm.lock``), imports
  librosa's kernels and runs the project's own librosa calls once on a short test signal
  (:func:`exercise`): each kernel is loaded from the cache, or compiled and saved. Only then is
  the lock released. Outside that warm-up the process never reads or writes the shared cache:
  a kernel it still has to compile (an argument type the warm-up did not cover) is compiled in
  memory only. So the cache is only ever written by one process at a time, and never read
  while it is being written.
* **A corrupt cache is rebuilt.** Before a process loads a cache that changed since it was last
  verified, a child process loads it first (under the same lock). If the child dies (a corrupt
  kernel segfaults) the cache is cleared and rebuilt by a second child; only if that one fails
  too does the stage stop, with a message saying how to clear the cache by hand
  (``adm jit clear``). ``<cache>/adm-verified.json`` records the verified state.

``adm jit where|check|clear`` prints the folder, verifies (and if need be rebuilds)
it, or clears it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from adm.errors import ConfigError

log = logging.getLogger("adm.jit")

#: numba's own setting for the cache folder; adm fills it in when it is unset.
CACHE_ENV = "NUMBA_CACHE_DIR"
LOCK_NAME = "adm.lock"
STAMP_NAME = "adm-verified.json"
#: Files of the cache folder that belong to this policy rather than to numba.
OWN_FILES = (LOCK_NAME, STAMP_NAME)
#: Seconds a job waits silently for the lock before saying that it waits.
QUIET_WAIT_S = 5.0


class JitCacheError(ConfigError):
    """The numba cache cannot be used even after it was cleared and rebuilt."""


def default_cache_dir() -> Path:
    """``<user cache dir>/adm/numba`` (``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux)."""
    import platformdirs

    return platformdirs.user_cache_path("adm") / "numba"


def cache_dir() -> Path:
    """The folder of numba's cache: ``$NUMBA_CACHE_DIR`` if set, else :func:`default_cache_dir`."""
    value = os.environ.get(CACHE_ENV, "").strip()
    return Path(value).expanduser() if value else default_cache_dir()


def configure() -> Path:
    """Point numba's cache at :func:`cache_dir` for this process and its children.

    Sets ``NUMBA_CACHE_DIR`` when it is unset. numba reads it once, on import; if numba is
    already imported its setting is updated too, which applies to kernels defined from now on.
    """
    folder = cache_dir()
    os.environ[CACHE_ENV] = str(folder)
    numba = sys.modules.get("numba")
    if numba is not None:
        numba.core.config.CACHE_DIR = str(folder)
    return folder


# --- the gate: numba touches the cache only inside a warm-up, under the lock -----------------

_cache_open = False
_state = "cold"  # "cold" -> "warming" -> "ready"
_state_lock = threading.RLock()


def _install_gate() -> None:
    """Make numba's per-function caches read and write only while :data:`_cache_open`."""
    from numba.core import caching

    if getattr(caching.Cache, "_adm_gated", False):
        return
    load, save = caching.Cache.load_overload, caching.Cache.save_overload

    def load_overload(self, sig, target_context):
        return load(self, sig, target_context) if _cache_open else None

    def save_overload(self, sig, data):
        if _cache_open:
            save(self, sig, data)

    caching.Cache.load_overload = load_overload
    caching.Cache.save_overload = save_overload
    caching.Cache._adm_gated = True


@contextmanager
def _open_cache() -> Iterator[None]:
    global _cache_open
    _cache_open = True
    try:
        yield
    finally:
        _cache_open = False


def _test_signal(sample_rate: int):
    """One second of float32 noise bursts (four a second, so there are onsets)."""
    import numpy as np

    t = np.arange(sample_rate) / sample_rate
    bursts = np.random.default_rng(0).standard_normal(sample_rate) * (np.sin(2 * np.pi * 4 * t) > 0)
    return (0.1 * bursts).astype(np.float32)


def exercise(everything: bool = False) -> None:
    """Run the project's librosa calls once, on a short signal with onsets.

    The arguments have the types the stages pass (float32 audio at the feature sample rate,
    the feature config's STFT settings; Beat Align with and without BEAT's rate quirk), so the
    kernels loaded or compiled here are the ones the stages need. The audio features always
    run; Beat Align's audio onsets run when :mod:`adm.metrics.beat_align` is imported already
    (evaluation jobs: a feature job does not import torch for it) or with ``everything``.
    """
    from adm.features import acoustic, onset
    from adm.features.config import AudioFeatureConfig

    config = AudioFeatureConfig()
    audio = _test_signal(config.sample_rate)
    spec = acoustic.power_spectrogram(audio, config)
    mel_db = acoustic.log_mel(spec, config)
    acoustic.mfcc(mel_db, config)
    onset.onset_times(mel_db, config)
    if everything or "adm.metrics.beat_align" in sys.modules:
        from adm.metrics.beat_align import audio_beats

        for compat in (None, "beat"):
            audio_beats(audio, config.sample_rate, compat=compat)


def load_librosa() -> ModuleType:
    """librosa, with its kernels loaded from (or compiled into) the shared cache safely.

    The first call in a process runs the warm-up described in the module docstring; later
    calls return at once.

    Raises:
        JitCacheError: the cache crashes even after being cleared and rebuilt.
    """
    global _state
    with _state_lock:
        if _state == "cold":
            _state = "warming"
            try:
                _warm_up()
            except BaseException:
                _state = "cold"
                raise
            _state = "ready"
    import librosa

    return librosa


#: Modules librosa's kernels need, imported before the lock so that it is held only while
#: kernels are loaded or compiled.
_PRELOAD = ("numba", "scipy.signal", "adm.features.acoustic", "adm.features.onset")


def _warm_up() -> None:
    import importlib

    folder = configure()
    for name in _PRELOAD:
        importlib.import_module(name)
    _install_gate()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = _lock(folder)
        _acquire(lock, folder)
    except OSError as err:
        log.warning(
            "numba cache %s is not usable (%s): librosa's kernels are compiled in memory "
            "(set %s to a writable folder to cache them)",
            folder,
            err,
            CACHE_ENV,
        )
        exercise()
        return
    try:
        if not _is_verified(folder):
            _verify_in_child(folder)
        with _open_cache():
            exercise()
    finally:
        lock.release()


def _lock(folder: Path):
    from filelock import FileLock

    return FileLock(folder / LOCK_NAME)


def _acquire(lock, folder: Path) -> None:
    from filelock import Timeout

    try:
        lock.acquire(timeout=QUIET_WAIT_S)
    except Timeout:
        log.info("waiting for the numba cache %s (another job is loading or compiling it)", folder)
        lock.acquire()


# --- verification: a child loads a changed cache first; a crash clears and rebuilds it -------


def _signature(folder: Path) -> str:
    """Digest of the cache's files (path, size, mtime): any write by numba changes it."""
    entries = []
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            rel = path.relative_to(folder).as_posix()
            if rel in OWN_FILES:
                continue
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            entries.append(f"{rel}\t{st.st_size}\t{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(sorted(entries)).encode()).hexdigest()


def _is_verified(folder: Path) -> bool:
    try:
        stamp = json.loads((folder / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(stamp, dict) and stamp.get("signature") == _signature(folder)


def _write_stamp(folder: Path) -> None:
    import numba

    stamp = {"signature": _signature(folder), "numba": numba.__version__, "python": sys.version}
    tmp = folder / f".{STAMP_NAME}.tmp"
    tmp.write_text(json.dumps(stamp, indent=1) + "\n")
    os.replace(tmp, folder / STAMP_NAME)


def clear(folder: Path) -> None:
    """Remove everything numba wrote in ``folder`` (the caller holds the lock)."""
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        if entry.name == LOCK_NAME:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _child_env() -> dict[str, str]:
    # The child must import this very package, also when it is run from a source tree.
    root = str(Path(__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}


def _run_child() -> subprocess.CompletedProcess:
    code = "import adm.jit as jit; jit._child_load()"
    return subprocess.run(
        [sys.executable, "-c", code], env=_child_env(), capture_output=True, text=True
    )


def _child_load() -> None:
    """Body of the check process: load (or compile and save) every kernel; the parent holds
    the lock."""
    global _state
    configure()
    _install_gate()
    _state = "warming"
    with _open_cache():
        exercise(everything=True)


def _describe(proc: subprocess.CompletedProcess) -> str:
    code = proc.returncode
    what = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
    tail = [line for line in (proc.stderr or "").splitlines() if line.strip()][-3:]
    return what + (": " + " | ".join(tail) if tail else "")


def _verify_in_child(folder: Path) -> None:
    """Load the cache in a child; if it dies, clear the cache and rebuild it in another."""
    proc = _run_child()
    if proc.returncode == 0:
        _write_stamp(folder)
        return
    log.warning(
        "numba cache %s failed to load in a check process (%s): clearing and rebuilding it",
        folder,
        _describe(proc),
    )
    clear(folder)
    proc = _run_child()
    if proc.returncode == 0:
        _write_stamp(folder)
        log.info("numba cache %s rebuilt", folder)
        return
    raise JitCacheError(
        f"{CACHE_ENV}={folder}: librosa's compiled kernels fail even after the cache was "
        f"cleared and rebuilt ({_describe(proc)}); clear it with `adm jit clear` "
        f"or point {CACHE_ENV} at an empty folder, and check the librosa/numba installation"
    )


# --- command line ---------------------------------------------------------------------------


def jit_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Where numba caches librosa's compiled kernels; verify or clear it.",
    )
    p.add_argument(
        "action",
        choices=("where", "check", "clear"),
        help="where: print the folder; check: load it in a check process and rebuild it if "
        "it crashes; clear: delete it (taking the lock, so running jobs are not disturbed)",
    )
    return p


def jit(args: argparse.Namespace) -> int:
    folder = configure()
    if args.action == "where":
        print(folder)
        return 0
    folder.mkdir(parents=True, exist_ok=True)
    lock = _lock(folder)
    _acquire(lock, folder)
    try:
        if args.action == "clear":
            clear(folder)
            print(f"cleared {folder}")
            return 0
        _install_gate()
        _verify_in_child(folder)
    finally:
        lock.release()
    print(f"{folder}: librosa's kernels load")
    return 0
