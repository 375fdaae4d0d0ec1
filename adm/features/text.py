"""Text condition of one clip: ``python -m adm.features.text``.

Per motion frame (method.md): the fastText vector (300) of the word being spoken and a silence
flag (1), 301 dims, as CaMN and DiffuseStyleGesture+ build it.

- a word covers frame ``i`` when ``start <= i / fps <= end`` (beat.md,
  :func:`adm.data.textgrid.word_per_frame`);
- silence (an empty label, or no interval at that time): zero vector, flag 1;
- a word the vectors do not know (``vec``, or the corpus-trained model for a word outside the
  corpus; ``cc.en.300.bin`` builds a vector from character n-grams for any word): zero vector,
  flag 0, so the model still sees that someone is speaking. Unknown words are listed in the
  file's metadata.

    python -m adm.features.text --clip prepared/2_scott_0_1_1.parquet \\
        --textgrid beat/2/2_scott_0_1_1.TextGrid --vectors filtered.parquet \\
        --out features/text/2_scott_0_1_1.parquet --config '{"source": "vec"}'
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from adm.config import config_hash, from_dict, parse_json_arg, to_dict
from adm.errors import ConfigError
from adm.features.clipinfo import clip_frames, log_to_file, write_skipped_marker
from adm.features.config import TextFeatureConfig
from adm.features.layout import extractor_versions, text_layout
from adm.features.vectors import WordVectors, normalise_word, open_vectors

log = logging.getLogger("adm.features.text")


def text_features(
    words: Sequence[str], vectors: WordVectors, lowercase: bool = True
) -> tuple[np.ndarray, list[str]]:
    """Per-frame word vectors and silence flags.

    Args:
        words: ``[T]`` word label per frame, ``""`` for silence (``word_per_frame``).
        vectors: the word vectors (``dim`` wide).
        lowercase: normalise labels as the vectors were keyed.

    Returns:
        ``(features [T, dim + 1] float32, unknown words sorted)``; column ``dim`` is the
        silence flag.
    """
    dim = vectors.dim
    out = np.zeros((len(words), dim + 1), dtype=np.float32)
    cache: dict[str, np.ndarray | None] = {}
    unknown: set[str] = set()
    for i, label in enumerate(words):
        key = normalise_word(label, lowercase)
        if not key:
            out[i, dim] = 1.0
            continue
        if key not in cache:
            cache[key] = vectors.lookup(key)
        vec = cache[key]
        if vec is None:
            unknown.add(key)
        else:
            out[i, :dim] = vec
    return out, sorted(unknown)


def run(args: argparse.Namespace) -> int:
    with log_to_file(args.log):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from adm.data.textgrid import read_textgrid, word_per_frame
    from adm.io.frames import write_frames

    config = from_dict(TextFeatureConfig, parse_json_arg(args.config), "features.text")
    path = args.vectors or config.path
    if not path:
        raise ConfigError("features.text.path: no vectors file (give --vectors or set the path)")
    if write_skipped_marker(args.clip, args.out, "text"):
        return 0
    meta, num_frames, fps = clip_frames(Path(args.clip))
    grid = read_textgrid(args.textgrid)
    words = word_per_frame(grid.words, num_frames, fps)
    vocab = {normalise_word(w, config.lowercase) for w in words} - {""}
    vectors = open_vectors(config.source, path, config.dim, vocab, config.lowercase)
    features, unknown = text_features(words, vectors, config.lowercase)
    silent = int(features[:, -1].sum())
    if unknown:
        log.info("%d word(s) without a vector (zero vector, flag 0): %s", len(unknown), unknown)
    metadata = {
        "feature": "text",
        "clip": meta.get("clip"),
        "speaker": meta.get("speaker"),
        "fps": fps,
        "num_frames": num_frames,
        "textgrid": str(args.textgrid),
        "vectors": str(path),
        "layout": text_layout(config.dim).to_dict(),
        "config": to_dict(config),
        "config_hash": config_hash(config),
        "versions": extractor_versions("numpy", "fasttext-numpy2", "fasttext"),
        "silent_frames": silent,
        "unknown_words": unknown,
    }
    write_frames(args.out, {"text": features}, metadata)
    log.info(
        "%s: %d frames (%d silent, %d unknown words) -> %s",
        meta.get("clip"),
        num_frames,
        silent,
        len(unknown),
        args.out,
    )
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m adm.features.text", description="Text condition of one prepared clip."
    )
    p.add_argument("--clip", required=True, help="prepared clip (.parquet): gives T and fps")
    p.add_argument("--textgrid", required=True, help="the clip's TextGrid (word tier)")
    p.add_argument("--vectors", default=None, help="vectors file (overrides features.text.path)")
    p.add_argument("--out", required=True, help="output .parquet (column 'text' [T, dim + 1])")
    p.add_argument("--config", default="{}", help="features.text settings as JSON")
    p.add_argument("--log", default=None, help="also append log lines to this file")
    return p


def main(argv: list[str] | None = None) -> int:
    from adm.cli import run_stage

    return run_stage(run, parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
