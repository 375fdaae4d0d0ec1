"""Small BEAT-format clips written on the fly, for tests that need a whole clip on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from adm.data.annotations import EmotionInterval, SemanticInterval, write_emotion, write_semantic
from adm.data.audio import write_wav
from adm.data.beat_skeleton import beat_header
from adm.data.bvh import write_bvh
from adm.data.face import write_face_json
from adm.data.textgrid import Interval, write_textgrid


def make_clip(
    root: Path,
    stem: str,
    seconds: float = 6.0,
    *,
    bvh_seconds: float | None = None,
    face_seconds: float | None = None,
    seed: int = 0,
) -> dict[str, Path]:
    """Write ``<root>/<speaker>/<stem>.{bvh,json,wav,TextGrid,txt,csv}`` with smooth random
    motion (120 fps), face (60 fps), a 16 kHz tone and two words; return extension -> path."""
    rng = np.random.default_rng(seed)
    folder = Path(root) / stem.split("_", 1)[0]
    folder.mkdir(parents=True, exist_ok=True)
    header = beat_header()
    n_bvh = int(round((bvh_seconds or seconds) * 120))
    t = np.arange(n_bvh)[:, None] / 120.0
    phases = rng.uniform(0, 2 * np.pi, header.num_channels)
    motion = 20 * np.sin(2 * np.pi * 0.5 * t + phases) + rng.normal(0, 1, header.num_channels)
    motion[:, :3] = 0.0
    n_face = int(round((face_seconds or seconds) * 60))
    face = np.clip(0.5 + 0.4 * np.sin(np.arange(n_face)[:, None] / 9.0 + np.arange(51)), 0, 1)
    audio = 0.3 * np.sin(2 * np.pi * 220 * np.arange(int(seconds * 16000)) / 16000)
    paths = {
        ext: folder / f"{stem}.{ext}" for ext in ("bvh", "json", "wav", "TextGrid", "txt", "csv")
    }
    write_bvh(paths["bvh"], header, motion.astype(np.float32), 120.0)
    write_face_json(paths["json"], face.astype(np.float32), 60.0)
    write_wav(paths["wav"], audio.astype(np.float32), 16000)
    words = [Interval(0.5, 1.0, "hello"), Interval(1.2, 2.0, "there")]
    write_textgrid(paths["TextGrid"], {"words": words, "phones": []}, xmax=seconds)
    write_semantic(paths["txt"], [SemanticInterval("02_deictic_l", 1.2, 2.0, 0.4, "there")])
    write_emotion(paths["csv"], [EmotionInterval(stem, 0.0, seconds, 0)])
    return paths
