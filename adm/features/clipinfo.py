"""What the feature CLIs need to know about a prepared clip, and their log file option."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from adm.errors import BadInputError


def clip_frames(clip: str | Path) -> tuple[dict[str, Any], int, float]:
    """Metadata, frame count T and fps of a prepared clip (its metadata only is read).

    Raises:
        BadInputError: the file is missing or unreadable, or ``num_frames``/``fps`` are absent
            or not positive.
    """
    from adm.io.frames import read_metadata

    clip = Path(clip)
    if not clip.is_file():
        raise BadInputError(clip, "prepared clip not found")
    meta = read_metadata(clip)  # BadInputError naming the file when it is unreadable
    try:
        num_frames, fps = int(meta["num_frames"]), float(meta.get("fps", 30))
    except (KeyError, TypeError, ValueError):
        raise BadInputError(clip, "metadata lacks an integer 'num_frames'") from None
    if num_frames < 1 or fps <= 0:
        raise BadInputError(clip, f"num_frames ({num_frames}) and fps ({fps}) must be positive")
    return meta, num_frames, fps


def write_skipped_marker(clip: str | Path, out: str | Path, column: str) -> bool:
    """Pass a skipped clip through: when the prepared clip is a skip marker (the data stage
    met a malformed file with ``on_bad_clip: skip``), write an empty feature table saying so
    and return True, so that the pipeline's per-clip jobs all complete and no feature is made
    from a clip that is in no split."""
    from adm.io.frames import read_metadata, write_frames

    try:
        meta = read_metadata(clip)
    except (OSError, ValueError):
        return False  # clip_frames reports the unreadable file
    if not meta.get("skipped"):
        return False
    write_frames(
        out,
        {column: np.zeros(0, np.float32)},
        {"clip": meta.get("clip"), "skipped": True, "reason": meta.get("reason")},
    )
    logging.getLogger("adm.features").warning("%s was skipped by the data stage", clip)
    return True


@contextlib.contextmanager
def log_to_file(path: str | Path | None) -> Iterator[None]:
    """Also append the ``adm`` logger's lines to ``path`` while the block runs (``--log``)."""
    if not path:
        yield
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("adm")
    level = logger.level
    logger.addHandler(handler)
    if level == logging.NOTSET or level > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        handler.close()
