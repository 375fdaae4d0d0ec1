"""Shared test fixtures: the real BEAT files kept beside the project tree, when present."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

# Read in place, never copied into the project; a fresh clone has no ../shared and skips.
BEAT_FIXTURES = Path(__file__).resolve().parents[1].parent / "shared/fixtures/beat"


def _beat_file(name: str) -> Path:
    path = BEAT_FIXTURES / name
    if not path.is_file():
        pytest.skip(f"real BEAT fixture {path} is absent (it lives beside the development tree)")
    return path


@pytest.fixture(scope="session")
def beat_fixtures() -> Path:
    """The folder of real BEAT test files; skips the test when it is absent."""
    if not BEAT_FIXTURES.is_dir():
        pytest.skip(f"real BEAT fixtures {BEAT_FIXTURES} are absent (a fresh clone has none)")
    return BEAT_FIXTURES


@pytest.fixture(scope="session")
def beat_bvh_path() -> Path:
    """``2_scott_0_1_1.bvh``: real header, 957 motion lines (15 fps), ``Frames: 7669``."""
    return _beat_file("2_scott_0_1_1.bvh")


@pytest.fixture(scope="session")
def beat_wav_path() -> Path:
    """``2_scott_0_3_3.wav``: 16 kHz mono 24-bit PCM, 68.0 s."""
    return _beat_file("2_scott_0_3_3.wav")


@pytest.fixture(scope="module")
def one_thread():
    """Run a module's tests on one torch intra-op thread, restoring the count afterwards.

    The tests' models are tiny: they gain nothing from threads, and on a machine shared by
    several jobs OpenMP threads waiting on each other make every call many times slower.
    Modules use it with ``pytestmark = pytest.mark.usefixtures("one_thread")``.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def fresh_adm_logging():
    """Remove the ``adm`` logger's handlers after each test.

    A command sets the logger up once, on the stderr of the moment; under pytest that is the
    test's capture stream, closed when the test ends. A later test's command would log into
    the closed stream (a "Logging error" traceback in its stderr) instead of its own.
    """
    yield
    logger = logging.getLogger("adm")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
