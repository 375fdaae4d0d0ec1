"""The running study page in a real browser: ``adm study serve`` on a free local
port, opened by headless Chromium (the system's package), which renders the consent page and a
participant's group page; the videos the page points at are served."""

from __future__ import annotations

import base64
import contextlib
import json
import os
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
websockets_sync = pytest.importorskip("websockets.sync.client", reason="no websockets client")
BROWSER = next(
    (b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None
)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium on this machine")
WAIT_S = 120  # a shared, loaded machine can take long to draw the first page


class Chromium:
    """Headless Chromium driven over its DevTools protocol: the page is drawn by JavaScript
    over a websocket, so the test waits (in real time) for what it expects to appear."""

    def __init__(self, profile: Path):
        self.process = subprocess.Popen(
            [
                BROWSER,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--window-size=1280,1000",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + WAIT_S
        while not (port_file.is_file() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("Chromium did not open its DevTools port")
            time.sleep(0.2)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as answer:
            targets = json.load(answer)
        page = next(t for t in targets if t["type"] == "page")
        self._stack = contextlib.ExitStack()
        self.socket = self._stack.enter_context(
            websockets_sync.connect(page["webSocketDebuggerUrl"], max_size=None)
        )
        self.calls = 0

    def call(self, method: str, **params):
        self.calls += 1
        self.socket.send(json.dumps({"id": self.calls, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.calls:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def open(self, url: str, *expect: str) -> str:
        """Go to ``url`` and wait until the page's text shows every ``expect`` (Streamlit
        draws a page element by element); returns the text."""
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + WAIT_S
        while True:
            text = self.evaluate("document.body ? document.body.innerText : ''") or ""
            if all(e in text for e in expect):
                return text
            if time.monotonic() > deadline:
                pytest.fail(f"{url} never showed {expect!r}; it shows: {text[-1000:]!r}")
            time.sleep(0.5)

    def wait_for(self, expression: str, what: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while not self.evaluate(expression):
            if time.monotonic() > deadline:
                pytest.fail(f"the page never showed {what}")
            time.sleep(0.5)

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        self._stack.close()
        self.process.terminate()
        self.process.wait(timeout=30)


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
            "adm",
            "study",
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
        # The server and the Streamlit process it runs; Streamlit's graceful shutdown can hang,
        # so what has not exited after a while is killed.
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)


@pytest.fixture
def browser(tmp_path):
    chromium = Chromium(tmp_path / "profile")
    yield chromium
    chromium.close()


def test_consent_and_group_pages_render_in_chromium(served, browser, tmp_path):
    url, votes = served
    consent = browser.open(f"{url}/", "I agree to take part in this study")
    assert "Group 1 of" not in consent

    store = VoteStore(votes)  # the page has created it
    plan = random_plan(["g01", "g02", "g03"], METHODS, np.random.default_rng(0))
    store.register("browser", plan)
    store.record("browser", plan.groups[0], "face", plan.orders[plan.groups[0]][1])
    page = browser.open(f"{url}/?pid=browser", "Group 1 of 3", *QUESTIONS.values())
    assert "Next" in page and "I agree" not in page
    # Three questions x three labels; the one stored answer (B of the second question, face)
    # is the one shown checked.
    checked = browser.evaluate(
        "Array.from(document.querySelectorAll('input[type=radio]')).map(e => e.checked)"
    )
    assert len(checked) == len(QUESTIONS) * len(METHODS)
    assert [i for i, c in enumerate(checked) if c] == [len(METHODS) + 1]
    # The three videos load in the browser (their first frame is decoded) from the server.
    browser.wait_for(
        "(() => { const v = document.querySelectorAll('video');"
        " return v.length === 3 && Array.from(v).every(e => e.readyState >= 2); })()",
        "three loaded videos",
    )
    sources = browser.evaluate("Array.from(document.querySelectorAll('video')).map(v => v.src)")
    for source in sources:
        with urllib.request.urlopen(source) as answer:
            assert answer.read(12)[4:8] == b"ftyp"  # an MP4 file

    screenshot = tmp_path / "page.png"
    browser.screenshot(screenshot)
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("ADM_STUDY_SCREENSHOT"):
        shutil.copyfile(screenshot, Path(os.environ["ADM_STUDY_SCREENSHOT"]))
