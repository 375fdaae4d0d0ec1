"""Text condition of one clip (the command: ``adm text-features``, :mod:`adm.features.cli`).

Per motion frame (method.md): the fastText vector (300) of the word being spoken and a silence
flag (1), 301 dims, as CaMN and DiffuseStyleGesture+ build it.

- a word covers frame ``i`` when ``start <= i / fps <= end`` (beat.md,
  :func:`adm.data.textgrid.word_per_frame`);
- silence (an empty label, or no interval at that time): zero vector, flag 1;
- a word the vectors do not know (``vec``, or the corpus-trained model for a word outside the
  corpus; ``cc.en.300.bin`` builds a vector from character n-grams for any word): zero vector,
  flag 0, so the model still sees that someone is speaking. Unknown words are listed in the
  file's metadata.

    adm text-features --clip prepared/2_scott_0_1_1.parquet \\
        --textgrid beat/2/2_scott_0_1_1.TextGrid --vectors filtered.parquet \\
        --out features/text/2_scott_0_1_1.parquet --config '{"source": "vec"}'
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from adm.features.vectors import WordVectors, normalise_word

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
