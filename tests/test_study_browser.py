"""The running study page in a real browser: ``python -m adm.study serve`` on a free local
port, opened by headless Chromium (the system's package), which renders the consent page and a
participant's group page; the videos the page points at are served."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from studyfactory import METHODS, make_study

from adm.study.design import QUESTIONS, random_plan
from adm.study.votes import VoteStore

pytest.importorskip("streamlit", reason="the study page needs the study extra (streamlit)")
BROWSER = next(
    (b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None
)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium on this machine")

# The page is drawn by JavaScript over a websocket: let the browser run it before capturing.
BROWSER_FLAGS = [
    "--headless=new",
    "--no-sandbox",  # tests may run as root in containers
    "--disable-gpu",
    "--hide-scrollbars",
    "--window-size=1280,1000",
    "--virtual-time-budget=30000",
    "--run-all-compositor-stages-before-draw",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    manifest = make_study(tmp_path / "materials", groups=3)
    votes = tmp_path / "votes.sqlite"
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "adm.study",
            "serve",
            "--manifest",
            str(manifest),
            "--votes",
            str(votes),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.read() == b"ok":
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the page did not start: {server.stdout.read().decode()[-2000:]}")
            time.sleep(0.5)
        yield url, votes
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and the Streamlit process it started
        server.wait(timeout=30)


def _browser(*args: str) -> str:
    result = subprocess.run(
        [BROWSER, *BROWSER_FLAGS, *args], capture_output=True, text=True, timeout=180
    )
    return result.stdout


def _rendered(url: str, expect: str, tries: int = 4) -> str:
    """The page's DOM once it shows ``expect``. A cold server (its first script run) can miss
    the browser's virtual-time budget, so a few tries are allowed; all failing is a failure."""
    for _ in range(tries):
        dom = _browser("--dump-dom", url)
        if expect in dom:
            return dom
    pytest.fail(f"{url} never showed {expect!r}; last DOM ends: {dom[-1500:]}")


def test_consent_and_group_pages_render_in_chromium(served, tmp_path):
    url, votes = served
    consent = _rendered(f"{url}/", "I agree to take part in this study")
    assert "Group 1 of" not in consent

    store = VoteStore(votes)  # the page has created it
    plan = random_plan(["g01", "g02", "g03"], METHODS, np.random.default_rng(0))
    store.register("browser", plan)
    store.record("browser", plan.groups[0], "face", plan.orders[plan.groups[0]][1])
    page = _rendered(f"{url}/?pid=browser", "Group 1 of 3")
    for text in QUESTIONS.values():
        assert text in page.replace("&#x27;", "'").replace("&#39;", "'")
    sources = re.findall(r"<video[^>]*src=\"([^\"]+)\"", page)
    assert len(sources) == len(METHODS)
    for source in sources:
        with urllib.request.urlopen(source if source.startswith("http") else url + source) as r:
            assert r.read(12)[4:8] == b"ftyp"  # an MP4 file
    # Three questions x three labels; the one stored answer (B of the second question, face)
    # is the one shown checked.
    radios = re.findall(r"<input[^>]*type=\"radio\"[^>]*>", page)
    assert len(radios) == len(QUESTIONS) * len(METHODS)
    assert [i for i, r in enumerate(radios) if "checked" in r] == [len(METHODS) + 1]

    screenshot = tmp_path / "page.png"
    _browser(f"--screenshot={screenshot}", f"{url}/?pid=browser")
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("ADM_STUDY_SCREENSHOT"):
        shutil.copyfile(screenshot, Path(os.environ["ADM_STUDY_SCREENSHOT"]))
