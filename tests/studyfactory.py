"""Small real study manifests for the page, command and browser tests: every video is a real
H.264 file (a second of a coloured frame per method, written by imageio-ffmpeg's ffmpeg), so the
page serves what it would serve in a study."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adm.study.design import MANIFEST_NAME, Group, Manifest

METHODS = ["full", "no_uwp", "a2g_a2e"]


def write_video(path: Path, colour: tuple[int, int, int], frames: int = 10, size=(64, 48)) -> None:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg", reason="study extra not installed")
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = imageio_ffmpeg.write_frames(
        str(path), size, fps=10, macro_block_size=16, ffmpeg_log_level="error"
    )
    writer.send(None)
    frame = np.empty((size[1], size[0], 3), dtype=np.uint8)
    frame[:] = colour
    for _ in range(frames):
        writer.send(frame.tobytes())
    writer.close()


def make_study(folder: Path, groups: int = 3, methods: list[str] = METHODS) -> Path:
    """A manifest of ``groups`` groups x ``methods`` in ``folder``; returns its path."""
    colours = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40)]
    built = []
    for g in range(1, groups + 1):
        videos = {}
        for m, method in enumerate(methods):
            name = f"g{g:02d}/v{m}.mp4"
            write_video(folder / name, colours[m % len(colours)])
            videos[method] = name
        built.append(Group(f"g{g:02d}", f"2_scott_0_{g}_{g}", 0.0, 1.0, videos))
    manifest = Manifest(list(methods), built, folder)
    path = folder / MANIFEST_NAME
    path.write_text(manifest.to_json())
    return path
