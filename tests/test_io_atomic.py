"""Atomic writes: temporaries of killed writers are removed, those of live ones kept; a write
the system refuses is one error naming the output, with nothing left behind."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from adm.errors import WriteError
from adm.io.atomic import (
    atomic_dir,
    atomic_path,
    owner_tag,
    remove_abandoned,
    write_bytes_atomic,
    write_text_atomic,
)

ROOT = Path(__file__).resolve().parents[1]


def _hidden(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith("."))


def _writer(target: Path, folder: bool = False) -> subprocess.Popen:
    """A process that starts an atomic write of ``target``, says so, and waits."""
    opener = "atomic_dir" if folder else "atomic_path"
    fill = "(tmp / 'part.txt')" if folder else "tmp"
    code = textwrap.dedent(
        f"""
        import sys, time
        from adm.io.atomic import {opener}
        with {opener}({str(target)!r}) as tmp:
            {fill}.write_text("half written")
            print("writing", flush=True)
            time.sleep(120)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout.readline().strip() == "writing"
    return proc


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()


@pytest.mark.parametrize("folder", [False, True], ids=["file", "folder"])
def test_the_next_write_removes_what_a_killed_writer_left(tmp_path, folder):
    target = tmp_path / ("samples" if folder else "clip.parquet")
    proc = _writer(target, folder)
    _kill(proc)
    left = _hidden(tmp_path)
    assert len(left) == 1 and f".{proc.pid}@" in left[0].name  # the temporary names its writer
    assert not target.exists()

    if folder:
        with atomic_dir(target) as tmp:
            (tmp / "done.txt").write_text("complete")
        assert (target / "done.txt").read_text() == "complete"
    else:
        write_text_atomic(target, "complete")
        assert target.read_text() == "complete"
    assert _hidden(tmp_path) == []


def test_a_parallel_writer_keeps_its_temporary(tmp_path):
    target = tmp_path / "clip.parquet"
    proc = _writer(target)
    try:
        theirs = _hidden(tmp_path)
        write_text_atomic(target, "mine")  # same target, written while the other one runs
        assert _hidden(tmp_path) == theirs  # its temporary is untouched
        assert remove_abandoned(tmp_path) == []
    finally:
        _kill(proc)
    assert remove_abandoned(tmp_path) == theirs  # once it is gone, the temporary goes too
    assert target.read_text() == "mine"


def test_temporaries_of_other_hosts_and_other_targets_are_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], text=True,
                          capture_output=True, check=True)  # fmt: skip
    pid = int(dead.stdout)
    other_host = tmp_path / f".clip.parquet.{pid}@not-{socket.gethostname()}-abcd1234.parquet.tmp"
    other_target = tmp_path / f".other.parquet.{pid}@{owner_tag().split('@')[1]}-abcd1234.tmp"
    foreign = tmp_path / ".clip.parquet.someone-elses.tmp"  # not our naming: never touched
    for path in (other_host, other_target, foreign):
        path.write_text("x")
    write_text_atomic(tmp_path / "clip.parquet", "new")
    assert {p.name for p in _hidden(tmp_path)} == {other_host.name, other_target.name, foreign.name}


def test_the_next_run_of_a_stage_removes_its_abandoned_temporaries(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], text=True, capture_output=True
    )
    host = owner_tag().split("@", 1)[1]
    outdir = tmp_path / "split"
    outdir.mkdir()
    stale = outdir / f".train.txt.{int(dead.stdout)}@{host}-k3j9x0q2.txt.tmp"
    stale.write_text("a split list cut short by kill -9")
    from clipfactory import make_clip

    from adm.data.clips import find_clip_files
    from adm.data.prepare import prepare_clip
    from adm.data.settings import PrepareConfig
    from adm.io.frames import write_frames

    make_clip(tmp_path / "corpus", "2_scott_0_9_9")
    table = prepare_clip(
        "2_scott_0_9_9", find_clip_files(tmp_path / "corpus", "2_scott_0_9_9"), PrepareConfig()
    )
    clip = tmp_path / "clips" / "2_scott_0_9_9.parquet"
    write_frames(clip, table.columns, table.metadata)
    result = subprocess.run(
        [sys.executable, "-m", "adm", "split", "--outdir", str(outdir), "--skipped",
         str(tmp_path / "skipped.tsv"), str(clip)],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert not stale.exists()
    assert (outdir / "train.txt").read_text() == "2_scott_0_9_9\n"


def _full_disk(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_is_one_error_naming_the_output_and_leaves_nothing(tmp_path):
    target = tmp_path / "out" / "clip.txt"
    with pytest.raises(WriteError) as err:
        with atomic_path(target) as tmp:
            tmp.write_text("partial")
            _full_disk()
    assert str(err.value) == f"{target}: cannot write (No space left on device)"
    assert err.value.errno == errno.ENOSPC and isinstance(err.value, OSError)
    assert list((tmp_path / "out").iterdir()) == []

    # A file inside a staged folder is named where it was going, not by its temporary name.
    with pytest.raises(WriteError) as err:
        with atomic_dir(tmp_path / "samples") as folder:
            write_bytes_atomic(folder / "a.bin", b"ok")
            with atomic_path(folder / "b.bin"):
                _full_disk()
    assert err.value.path == tmp_path / "samples" / "b.bin"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_errors_about_other_files_are_not_write_failures(tmp_path):
    # A writer that reads a missing input keeps its own error: it is not a full disk.
    with pytest.raises(FileNotFoundError):
        with atomic_path(tmp_path / "copy.txt") as tmp:
            tmp.write_bytes((tmp_path / "missing.txt").read_bytes())
    with pytest.raises(ValueError, match="a bug"):
        with atomic_path(tmp_path / "x.txt"):
            raise ValueError("a bug")
    assert list(tmp_path.iterdir()) == []


def test_outputs_get_the_mode_the_umask_gives(tmp_path):
    old = os.umask(0o027)
    try:
        write_text_atomic(tmp_path / "a.txt", "x")
        with atomic_dir(tmp_path / "d") as folder:
            (folder / "f.txt").write_text("y")
    finally:
        os.umask(old)
    assert oct((tmp_path / "a.txt").stat().st_mode & 0o777) == "0o640"
    assert oct((tmp_path / "d").stat().st_mode & 0o777) == "0o750"
