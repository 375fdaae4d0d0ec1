"""The stage logger writes to the stderr of the moment, run after run in one process."""

from __future__ import annotations

import io
import logging

from adm.logs import setup_logging


def test_a_second_run_logs_to_the_new_stderr_not_the_closed_one(monkeypatch):
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stderr", first)
    setup_logging().info("first run")
    first.close()  # the first run's captured stderr is gone
    monkeypatch.setattr("sys.stderr", second)
    setup_logging().info("second run")
    text = second.getvalue()
    assert "second run" in text
    assert "Logging error" not in text and "Traceback" not in text
    assert len(logging.getLogger("adm").handlers) == 1
