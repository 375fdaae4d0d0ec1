"""What a command printed to stderr besides its log records (``HH:MM:SS LEVEL name: ...``)."""

from __future__ import annotations

import re

_LOG_RECORD = re.compile(r"^\d\d:\d\d:\d\d (DEBUG|INFO|WARNING) adm[.\w]*: ")


def non_log_lines(stderr: str) -> list[str]:
    """The stderr lines that are not progress/log records: for a refused input, exactly one
    ``error: ...`` line (no traceback, no other output)."""
    return [line for line in stderr.strip().splitlines() if not _LOG_RECORD.match(line)]
