"""Logging for people: plain lines in a log file, a progress bar only on a terminal.

Stages call :func:`setup_logging` once; Snakemake rules redirect stdout/stderr to the rule's
``log:`` file, so plain timestamped lines end up there, while an interactive user gets tqdm bars.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


class _StderrHandler(logging.StreamHandler):
    """Writes each record to ``sys.stderr`` as it is when the record comes, not as it was when
    the handler was made: a caller that runs several commands in one process (a test, a
    notebook) may replace ``sys.stderr`` between them, and the old stream may be closed."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass  # always the current sys.stderr


def setup_logging(level: int = logging.INFO) -> logging.Logger:
    """Configure the ``adm`` logger to print ``time level name: message`` lines to stderr."""
    logger = logging.getLogger("adm")
    if not logger.handlers:
        handler = _StderrHandler()
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )
        logger.addHandler(handler)
    logger.setLevel(level)
    return logger


def is_terminal() -> bool:
    """True when stderr is an interactive terminal (then progress bars are shown)."""
    return sys.stderr.isatty()


def progress(items: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
    """Iterate with a tqdm bar on a terminal, silently otherwise (log files stay readable)."""
    if not is_terminal():
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc=desc, total=total, dynamic_ncols=True)
