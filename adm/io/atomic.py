"""Atomic file and folder writes: a failed job never leaves a file that looks complete.

Every stage writes through :func:`atomic_path` (one file) or :func:`atomic_dir` (a folder of
files): the content goes to a hidden temporary name beside the target and is renamed into place
only when the writer returns without error. ``os.replace`` is atomic on POSIX within one file
system, so a reader (or Snakemake) sees either the old output, or none, or the complete new one.

Temporary names carry their writer: ``.<target>.<pid>@<host>-<random><suffix>.tmp``. A writer
that is killed (``kill -9``, out of memory, power loss) cannot clean up after itself, so the
next write of the same target removes the temporaries whose process is gone on this host. A
temporary of a live process (a parallel job still writing) is never touched, and neither is one
written from another host, whose processes cannot be checked from here.

A write that fails for a reason of the system (disk full, read-only folder, no permission) is
reported as :class:`adm.errors.WriteError` naming the target, after the temporary is removed.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

from adm.errors import WriteError, os_reason

_SUFFIXES = (".tmp", ".trash")
# <pid>@<host>-<8 random chars><anything, e.g. the target's suffix>.tmp|.trash
_OWNER = re.compile(r"^(?P<pid>\d+)@(?P<host>[^@/]+?)-[a-z0-9_]{8}[^/]*\.(?:tmp|trash)$")
_ANY_OWNED = re.compile(
    r"^\.(?P<name>.+?)\.(?P<owner>\d+@[^@/]+?-[a-z0-9_]{8}[^/]*\.(?:tmp|trash))$"
)
_SAFETENSORS_OS_ERROR = re.compile(r"os error (\d+)")


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname()) or "localhost"


def owner_tag() -> str:
    """``<pid>@<host>`` of this process, as temporary names carry it."""
    return f"{os.getpid()}@{_host()}"


def current_umask() -> int:
    """The process umask, read without changing it (``os.umask`` would, briefly, for every
    thread) where ``/proc`` tells it; otherwise by setting it back at once."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (unknown counts as alive)."""
    if pid <= 0 or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, owned by someone else
        return True
    return True


def _abandoned(owner: str) -> bool:
    match = _OWNER.match(owner)
    if match is None:
        return False
    return match["host"] == _host() and not process_alive(int(match["pid"]))


def _delete(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()


def remove_abandoned(folder: str | Path, name: str | None = None) -> list[Path]:
    """Delete the temporaries in ``folder`` left by writers that no longer run.

    Args:
        folder: where to look.
        name: only temporaries of this target name (``None``: of any target).

    Returns:
        the paths removed.
    """
    folder = Path(folder)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(".") or not entry.name.endswith(_SUFFIXES):
            continue
        if name is not None:
            prefix = f".{name}."
            owner = entry.name[len(prefix) :] if entry.name.startswith(prefix) else ""
        else:
            match = _ANY_OWNED.match(entry.name)
            owner = match["owner"] if match else ""
        if owner and _abandoned(owner):
            _delete(Path(entry.path))
            removed.append(Path(entry.path))
    return removed


def write_failure(
    err: BaseException, own: Path | None, target: Path | None = None
) -> tuple[str, Path | None] | None:
    """Why a write failed, when ``err`` is the system refusing it (disk full, read-only, no
    permission), else ``None`` (a bug or a bad input, which must keep its own error).

    Looks through the exception's causes: torch reports a full disk as a ``RuntimeError``
    caused by the ``OSError``, safetensors as a ``SafetensorError`` quoting the OS error.
    ``own`` is the path being written (a file or a folder): an ``OSError`` about another file
    (an input the writer reads) is not a write failure. ``None``: any file. ``target``: the
    final name, which the last rename may also name.

    Returns:
        ``(reason, file)``: ``file`` is the file under ``own`` the error names, if any.
    """
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and not isinstance(current, WriteError):
            names = [Path(os.fsdecode(n)) for n in (current.filename, current.filename2) if n]
            if own is not None and not all(n.is_relative_to(own) or n == target for n in names):
                return None
            return os_reason(current), (names[0] if names else None)
        if type(current).__name__ == "SafetensorError":
            text = str(current)
            code = _SAFETENSORS_OS_ERROR.search(text)
            if code:
                return os.strerror(int(code[1])), None
            if "I/O error" in text or "IoError" in text:
                return text, None
        current = current.__cause__ or current.__context__
    return None


def _errno(err: BaseException) -> int | None:
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno:
            return current.errno
        current = current.__cause__ or current.__context__
    return None


@contextlib.contextmanager
def reporting_write_failures(
    target: str | Path, own: str | Path | None = None, *, folder: bool = False
) -> Iterator[None]:
    """Turn a system failure of the writes inside the block into a :class:`WriteError`.

    Args:
        target: the output the message names.
        own: what the block actually writes (default ``target``): a temporary file, or with
            ``folder`` a temporary folder whose files become ``target/<same relative path>``.
        folder: name the failing file inside ``target`` when the error gives one.
    """
    target = Path(target)
    own = target if own is None else Path(own)
    try:
        yield
    except WriteError as err:
        if folder and err.path.is_relative_to(own) and err.path != own:
            # A file written inside the temporary folder: name it where it was going.
            raise WriteError(target / err.path.relative_to(own), err.reason, err.errno) from err
        raise
    except BaseException as err:
        found = write_failure(err, own, target)
        if found is None:
            raise
        reason, file = found
        named = target
        if folder and file is not None and file != own and file.is_relative_to(own):
            named = target / file.relative_to(own)
        raise WriteError(named, reason, _errno(err)) from err


def _mkparent(target: Path) -> None:
    with reporting_write_failures(target, target.parent):
        target.parent.mkdir(parents=True, exist_ok=True)


@contextlib.contextmanager
def atomic_path(target: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path to write; move it onto ``target`` on success, delete it on error.

    Temporaries of the same target left by killed writers are removed first.

    Args:
        target: the final file path; parent folders are created.
        suffix: suffix of the temporary file (defaults to the target's, so that libraries that
            look at extensions, e.g. pyarrow or safetensors, behave the same).

    Raises:
        WriteError: the system refused the write (disk full, ...); nothing is left behind.
    """
    target = Path(target)
    _mkparent(target)
    remove_abandoned(target.parent, target.name)
    with reporting_write_failures(target, target.parent):
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.{owner_tag()}-",
            suffix=(target.suffix if suffix is None else suffix) + ".tmp",
            dir=target.parent,
        )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        with reporting_write_failures(target, tmp_path):
            yield tmp_path
            # mkstemp creates the file 0600, and some writers (safetensors) replace it with a
            # new 0600 file: give the result the mode any file the user creates gets.
            os.chmod(tmp_path, 0o666 & ~current_umask())
            os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def _trash_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.{owner_tag()}-{secrets.token_hex(4)}.trash")


def remove_dir(folder: str | Path) -> None:
    """Delete a folder so that no moment shows it half-deleted: it is renamed to a hidden
    trash name first (a kill during the deletion leaves only a temporary, removed later)."""
    folder = Path(folder)
    trash = _trash_name(folder)
    os.replace(folder, trash)
    shutil.rmtree(trash, ignore_errors=True)


@contextlib.contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Yield a temporary folder to fill; it replaces ``target`` as a whole on success.

    On an exception the temporary folder is deleted and ``target`` is left as it was (absent
    after a first, failed run). Temporaries of the same target left by killed writers are
    removed first. The folder gets the mode of any folder made by ``mkdir``.

    Raises:
        WriteError: the system refused a write inside (disk full, ...); nothing is left behind.
    """
    target = Path(target)
    _mkparent(target)
    remove_abandoned(target.parent, target.name)
    with reporting_write_failures(target, target.parent):
        tmp = Path(
            tempfile.mkdtemp(
                prefix=f".{target.name}.{owner_tag()}-", suffix=".tmp", dir=target.parent
            )
        )
    try:
        with reporting_write_failures(target, tmp, folder=True):
            os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp makes it 0700
            yield tmp
            if target.exists():
                remove_dir(target)
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_text_atomic(target: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes_atomic(target: str | Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
