"""Atomic file writes: a failed job never leaves a file that looks complete.

Every stage writes through :func:`atomic_path`: the content goes to a temporary name beside the
target and is renamed into place only when the writer returns without error. ``os.replace`` is
atomic on POSIX within one file system, so a reader (or Snakemake) sees either the old file, or
no file, or the complete new file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path to write; move it onto ``target`` on success, delete it on error.

    Args:
        target: the final file path; parent folders are created.
        suffix: suffix of the temporary file (defaults to the target's, so that libraries that
            look at extensions, e.g. pyarrow or safetensors, behave the same).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.",
        suffix=(target.suffix if suffix is None else suffix) + ".tmp",
        dir=target.parent,
    )
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates the file 0600; give it the mode any ordinary file would get.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_text_atomic(target: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes_atomic(target: str | Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
