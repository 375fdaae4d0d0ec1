"""Errors that name the file (or key) and what is wrong with it.

Every ``adm <command>`` turns these into one ``error: <message>`` line and exit
status 1 (:func:`adm.commandline.run_stage`); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path


class BadInputError(ValueError):
    """An input file is malformed. ``str(err)`` is ``"<path>: <problem>"``.

    Attributes:
        path: the offending file.
        problem: a one-line description of what is wrong and what was expected.
    """

    def __init__(self, path: str | Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self):  # keep both arguments through pickling (worker processes)
        return type(self), (self.path, self.problem)


class BadClipError(BadInputError):
    """One file of a BEAT clip (bvh, json, wav, TextGrid, txt, csv) is malformed.

    The data stage either fails on it or, with ``data.on_bad_clip: skip``, lists the clip and
    ``problem`` in ``results/data/skipped.tsv``.
    """


class ConfigError(ValueError):
    """A configuration value or key is wrong; the message names the key path."""


class MissingWeightsError(FileNotFoundError):
    """Pretrained weights are not available locally; the message says how to get them."""


class DownloadError(RuntimeError):
    """The BEAT download cannot proceed; the message says what it needs."""


class WriteError(OSError):
    """An output file could not be written (disk full, read-only folder, no permission).

    ``str(err)`` is ``"<path>: cannot write (<reason>)"``. Raised by the atomic writers
    (:mod:`adm.io.atomic`) after removing what they had started, so nothing partial is left.

    Attributes:
        path: the output that could not be written (the final name, not a temporary one).
        reason: what the operating system or the writing library said.
    """

    def __init__(self, path: str | Path, reason: str, code: int | None = None):
        super().__init__(code or errno.EIO, reason)
        self.path = Path(path)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path}: cannot write ({self.reason})"

    def __reduce__(self):
        return type(self), (self.path, self.reason, self.errno)


def os_reason(err: BaseException) -> str:
    """The operating system's words for ``err`` (``No space left on device``), else its text."""
    code = getattr(err, "errno", None)
    if isinstance(code, int) and code > 0:
        return os.strerror(code)
    return str(err) or type(err).__name__


def some_names(names: list[str], shown: int) -> str:
    """The first ``shown`` of ``names``, comma-separated, then how many more: error messages
    name what is wrong without printing a list of hundreds (``a, b, c and 4 more``)."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more
