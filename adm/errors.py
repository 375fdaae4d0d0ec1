"""Errors that name the file and what is wrong with it."""

from __future__ import annotations

from pathlib import Path


class BadInputError(ValueError):
    """An input file is malformed. ``str(err)`` is ``"<path>: <problem>"``.

    Attributes:
        path: the offending file.
        problem: a one-line description of what is wrong and what was expected.
    """

    def __init__(self, path: str | Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class BadClipError(BadInputError):
    """One file of a BEAT clip (bvh, json, wav, TextGrid, txt, csv) is malformed.

    The data stage either fails on it or, with ``data.on_bad_clip: skip``, lists the clip and
    ``problem`` in ``results/data/skipped.tsv``.
    """


class ConfigError(ValueError):
    """A configuration value or key is wrong; the message names the key path."""


class MissingWeightsError(FileNotFoundError):
    """Pretrained weights are not available locally; the message says how to get them."""
