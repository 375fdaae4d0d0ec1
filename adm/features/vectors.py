"""fastText word vectors: stream and filter a ``.vec`` file, or load a ``.bin`` model.

The paper's text condition uses ``crawl-300d-2M.vec`` (Mikolov et al., 2018: 2M cased words, 300
dims, a 4.5 GB text file). Reading it whole for every clip would be wasteful, so

    adm filter-vectors --vec crawl-300d-2M.vec --textgrids beat/*/*.TextGrid \\
        --out filtered.parquet

streams it line by line once and keeps only the corpus vocabulary, in a small Parquet table
(column ``word`` [V] and ``vector`` [V, 300]). A ``.bin`` model (``cc.en.300.bin``, or one
trained on the corpus by :mod:`adm.features.fasttext_train`) is loaded with
``fasttext.load_model``; ``cc.en.300.bin`` builds a vector for any word from its character
n-grams.

With ``lowercase`` (the default; BEAT transcripts are lower case) a word is looked up in lower
case. Several cased entries of a ``.vec`` can then match one word: the exact lower-case entry is
preferred, else the first (most frequent, as the file is sorted by frequency).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Protocol

import numpy as np

from adm.errors import BadInputError, ConfigError, MissingWeightsError

DOWNLOADS = {
    "vec": "crawl-300d-2M.vec from "
    "https://dl.fbaipublicfiles.com/fasttext/vectors-english/crawl-300d-2M.vec.zip (unzip it)",
    "bin": "cc.en.300.bin from "
    "https://dl.fbaipublicfiles.com/fasttext/vectors-crawl/cc.en.300.bin.gz (gunzip it)",
    "trained": "a corpus model made by `adm fasttext-train --textgrids "
    "<TextGrids> --out <model.bin>`",
}


def normalise_word(word: str, lowercase: bool) -> str:
    """The lookup key of a transcript word: lower-cased if configured, inner blanks as ``_``.

    One key never contains whitespace, so that a transcript line splits into the same words
    for fastText (which splits on ASCII blanks) as here.
    """
    word = "_".join(word.split())
    return word.lower() if lowercase else word


def require_file(path: str | Path, source: str) -> Path:
    """``path`` as a Path; :class:`MissingWeightsError` naming it and a download if absent."""
    path = Path(path)
    if not path.is_file():
        hint = DOWNLOADS.get(source, DOWNLOADS["vec"])
        raise MissingWeightsError(f"{path}: word vectors not found; get {hint}")
    return path


def corpus_vocabulary(textgrids: Iterable[str | Path], lowercase: bool = True) -> set[str]:
    """Every non-empty word label of the word tiers of ``textgrids``, normalised."""
    from adm.data.textgrid import read_textgrid

    vocab: set[str] = set()
    for path in textgrids:
        for interval in read_textgrid(path).words:
            key = normalise_word(interval.label, lowercase)
            if key:
                vocab.add(key)
    return vocab


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return path.open("r", encoding="utf-8", errors="replace")


def filter_vec(
    path: str | Path, vocab: set[str], lowercase: bool = True
) -> tuple[list[str], np.ndarray]:
    """Stream a ``.vec`` text file and keep the rows whose word is in ``vocab``.

    Args:
        path: ``word v1 ... vD`` per line, optionally after a ``count dim`` header line;
            plain or ``.gz``.
        vocab: normalised words to keep (see :func:`normalise_word`).
        lowercase: compare the file's words in lower case.

    Returns:
        ``(words [V] sorted, vectors [V, D] float32)``; words of ``vocab`` absent from the file
        are absent here.

    Raises:
        MissingWeightsError: no such file.
        BadInputError: not a ``.vec`` file (its first row, or a kept row, is not a word and
            finite numbers), a row's width differs from the header's or the first row's, or
            no word of a non-empty ``vocab`` is in the file.
    """
    path = require_file(path, "vec")
    kept: dict[str, tuple[np.ndarray, bool]] = {}
    dim: int | None = None
    checked = False  # the first row is parsed whatever its word: a file that is no .vec fails
    with _open_text(path) as f:
        for lineno, line in enumerate(f, start=1):
            token, _, rest = line.rstrip("\n").partition(" ")
            if lineno == 1:
                head = line.split()
                if len(head) == 2 and all(h.isdigit() for h in head):
                    dim = int(head[1])
                    continue
            key = token.lower() if lowercase else token
            if checked and key not in vocab:
                continue
            values = _row_values(path, lineno, token, rest, dim)
            dim = len(values) if dim is None else dim
            checked = True
            if key not in vocab:
                continue
            exact = token == key
            if key in kept and (kept[key][1] or not exact):
                continue
            kept[key] = (values, exact)
    if not checked:
        raise BadInputError(path, "no word vector in the file")
    if vocab and not kept:
        raise BadInputError(
            path, f"none of the {len(vocab)} corpus words has a vector here (another language?)"
        )
    words = sorted(kept)
    width = dim or 0
    vectors = np.stack([kept[w][0] for w in words]) if words else np.zeros((0, width), np.float32)
    return words, vectors.astype(np.float32)


def _row_values(path: Path, lineno: int, token: str, rest: str, dim: int | None) -> np.ndarray:
    """The numbers of one ``.vec`` row; :class:`BadInputError` naming the line otherwise."""
    try:
        if not rest.split():
            raise ValueError("no values")
        values = np.array(rest.split(), dtype=np.float32)
    except ValueError:
        raise BadInputError(
            path, f"line {lineno}: not a fastText .vec row (a word, then numbers)"
        ) from None
    if not np.isfinite(values).all():
        raise BadInputError(path, f"line {lineno}: word {token!r} has no finite vector")
    if dim is not None and len(values) != dim:
        raise BadInputError(
            path, f"line {lineno}: word {token!r} has {len(values)} values, expected {dim}"
        )
    return values


def write_vector_table(
    path: str | Path, words: list[str], vectors: np.ndarray, metadata: dict
) -> None:
    """Write a filtered table (``word`` [V], ``vector`` [V, D]) atomically."""
    from adm.io.frames import write_frames

    write_frames(
        path,
        {"word": np.array(words, dtype=object), "vector": np.asarray(vectors, np.float32)},
        {**metadata, "dim": int(vectors.shape[1]), "num_words": len(words)},
    )


class WordVectors(Protocol):
    """Anything that maps a normalised word to a ``[dim]`` vector, or ``None`` if unknown."""

    dim: int

    def lookup(self, word: str) -> np.ndarray | None: ...


class TableVectors:
    """A word -> vector table (a filtered ``.vec``): unknown words give ``None``."""

    def __init__(self, table: dict[str, np.ndarray], dim: int):
        self.table, self.dim = table, dim

    def lookup(self, word: str) -> np.ndarray | None:
        return self.table.get(word)


class FastTextVectors:
    """A fastText ``.bin`` model.

    With character n-grams (``cc.en.300.bin``) every word has a vector; without them (the
    corpus-trained model) a word outside the model's vocabulary gives ``None``.
    """

    def __init__(self, model) -> None:
        self.model, self.dim = model, int(model.get_dimension())
        self.subwords = int(model.f.getArgs().maxn) > 0

    def lookup(self, word: str) -> np.ndarray | None:
        if not self.subwords and self.model.get_word_id(word) < 0:
            return None
        return np.array(self.model.get_word_vector(word), dtype=np.float32)


def read_vector_table(path: str | Path) -> TableVectors:
    """Load a table written by :func:`write_vector_table`."""
    from adm.io.frames import read_frames

    table = read_frames(require_file(path, "vec"))
    if "word" not in table.columns or "vector" not in table.columns:
        raise BadInputError(path, "not a word vector table: needs columns 'word' and 'vector'")
    dim = int(table.metadata.get("dim", table["vector"].shape[1] if table.num_frames else 0))
    vectors = table["vector"].astype(np.float32)
    return TableVectors({str(w): v for w, v in zip(table["word"], vectors, strict=True)}, dim)


def load_fasttext(path: str | Path, source: str = "bin") -> FastTextVectors:
    """Load a fastText ``.bin`` model (``cc.en.300.bin`` or a corpus-trained one)."""
    import fasttext

    path = require_file(path, source)
    try:
        model = fasttext.load_model(str(path))
    except ValueError as err:
        raise BadInputError(path, f"not a fastText .bin model ({err})") from None
    return FastTextVectors(model)


def open_vectors(
    source: str, path: str | Path, dim: int, vocab: set[str] | None = None, lowercase: bool = True
) -> WordVectors:
    """Open the configured vectors and check their width.

    Args:
        source: ``vec`` (a filtered ``.parquet`` table, or a raw ``.vec`` streamed and filtered
            to ``vocab`` on the fly), ``bin`` or ``trained`` (fastText ``.bin`` models).
        path: the file.
        dim: the expected width.
        vocab: the words needed (only for a raw ``.vec``).
        lowercase: as :func:`filter_vec`.
    """
    path = Path(path)
    if source == "vec" and path.suffix == ".bin":
        raise ConfigError(
            f"features.text.source is 'vec' but {path} is a fastText .bin model: set "
            "features.text.source to 'bin' (or 'trained' for a corpus-trained model)"
        )
    if source == "vec":
        if path.suffix == ".parquet":
            vectors: WordVectors = read_vector_table(path)
        else:
            words, rows = filter_vec(path, vocab or set(), lowercase)
            # With no corpus word in the file the table is empty: it still has ``dim`` columns.
            vectors = TableVectors(
                dict(zip(words, rows, strict=True)), rows.shape[1] if words else dim
            )
    elif source in ("bin", "trained"):
        vectors = load_fasttext(path, source)
    else:
        raise ValueError(f"unknown vector source {source!r}")
    if vectors.dim not in (dim, 0):
        raise BadInputError(path, f"vectors have {vectors.dim} dims, features.text.dim is {dim}")
    return vectors
