"""Corpus-trained fastText vectors (the command: ``adm fasttext-train``).

For a corpus without access to ``crawl-300d-2M`` (e.g. the bundled small corpus), word vectors
are trained on its own transcripts with fastText's skipgram (Bojanowski et al., 2017: word
vectors; see :class:`~adm.features.config.FastTextTrainConfig` for why without character
n-grams). The corpus is one line per utterance, an utterance being a run of words between two
silences of the TextGrid's word tier. Training uses one thread and seeded initial vectors, so
the same transcripts and settings give the same model.

    adm fasttext-train --textgrids beat/*/*.TextGrid --out fasttext.bin \\
        --config '{"dim": 300, "epoch": 10}'
"""

from __future__ import annotations

import logging
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from adm.errors import BadInputError, ConfigError
from adm.features.config import FastTextTrainConfig
from adm.features.vectors import normalise_word
from adm.io.atomic import atomic_path

log = logging.getLogger("adm.features.fasttext_train")


def utterances(labels: Sequence[str], lowercase: bool = True) -> list[str]:
    """Join consecutive word labels into lines, breaking at every silence (``""``)."""
    lines: list[str] = []
    current: list[str] = []
    for label in labels:
        word = normalise_word(label, lowercase)
        if word:
            current.append(word)
        elif current:
            lines.append(" ".join(current))
            current = []
    if current:
        lines.append(" ".join(current))
    return lines


def corpus_lines(textgrids: Iterable[str | Path], lowercase: bool = True) -> list[str]:
    """Utterance lines of every TextGrid's word tier, in the order given."""
    from adm.data.textgrid import read_textgrid

    lines: list[str] = []
    for path in textgrids:
        lines.extend(utterances([iv.label for iv in read_textgrid(path).words], lowercase))
    return lines


#: fastText's end-of-line token: a dictionary word (with a row) of its own.
EOS = "</s>"


def vocabulary(lines: Sequence[str], min_count: int) -> list[str]:
    """Words seen at least ``min_count`` times, most frequent first, then :data:`EOS`."""
    counts = Counter(token for line in lines for token in line.split(" ") if token)
    kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    return [*kept, EOS]


def initial_vectors(num_words: int, dim: int, seed: int) -> np.ndarray:
    """``[V, dim]`` float32 drawn from U(-1/dim, 1/dim), fastText's initial input rows."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0 / dim, 1.0 / dim, (num_words, dim)).astype(np.float32)


def _write_vec(path: Path, words: Sequence[str], rows: np.ndarray) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write(f"{len(words)} {rows.shape[1]}\n")
        for word, row in zip(words, rows, strict=True):
            f.write(word + " " + " ".join(f"{v:.9g}" for v in row) + "\n")


def train_skipgram(lines: Sequence[str], config: FastTextTrainConfig, out: str | Path) -> int:
    """Train on ``lines`` (space-separated words) and save the ``.bin`` model to ``out``.

    Every input row is initialised here (see :class:`FastTextTrainConfig`) and training runs on
    one thread, so the same lines and settings give the same model.

    Returns:
        The number of words with a vector (fastText's end-of-line token not counted).

    Raises:
        ConfigError: no word occurs ``min_count`` times.
        RuntimeError: fastText returned a dictionary or vectors it should not have.
    """
    import fasttext

    words = vocabulary(lines, config.min_count)
    if len(words) == 1:
        raise ConfigError(f"fasttext.min_count: no word occurs {config.min_count} times")
    with tempfile.TemporaryDirectory(prefix="adm-fasttext-") as tmp:
        corpus, init = Path(tmp) / "corpus.txt", Path(tmp) / "init.vec"
        corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
        _write_vec(init, words, initial_vectors(len(words), config.dim, config.seed))
        model = fasttext.train_unsupervised(
            input=str(corpus),
            model="skipgram",
            dim=config.dim,
            epoch=config.epoch,
            minCount=config.min_count,
            lr=config.lr,
            ws=config.ws,
            neg=config.neg,
            minn=0,
            maxn=0,  # no character n-grams: only word rows, all initialised above
            pretrainedVectors=str(init),
            thread=1,  # fastText's lock-free updates make multi-threaded runs vary
            verbose=0,
        )
    unexpected = set(model.words) - set(words)
    if unexpected:
        raise RuntimeError(f"fastText split the corpus differently: {sorted(unexpected)[:5]}")
    if not np.isfinite(model.get_input_matrix()).all():
        raise RuntimeError("fastText training produced non-finite vectors")
    with atomic_path(out) as target:
        model.save_model(str(target))
    return len(words) - 1


def select_split(textgrids: Sequence[str], split: str | None) -> list[str]:
    """The TextGrids whose clip (file stem) is listed in the ``split`` file (all if ``None``).

    Raises:
        BadInputError: the split file is missing or none of the TextGrids is listed in it.
    """
    if split is None:
        return list(textgrids)
    from adm.data.split import read_split_list

    try:
        stems = set(read_split_list(Path(split)))
    except OSError as err:
        raise BadInputError(split, f"cannot read the split list ({err.strerror or err})") from None
    kept = [t for t in textgrids if Path(t).stem in stems]
    if not kept:
        raise BadInputError(split, f"lists none of the {len(textgrids)} TextGrid(s) given")
    if len(kept) < len(textgrids):
        log.info("%d of %d TextGrids are in %s", len(kept), len(textgrids), split)
    return kept
