"""Shared command-line plumbing of the ``adm <command>`` commands: :func:`run_stage` and the
argparse types of values the config schema would check (speaker ids, clip names, seeds)."""

from __future__ import annotations

import argparse
import errno
import sys
from collections.abc import Callable

from adm.errors import (
    BadInputError,
    ConfigError,
    DownloadError,
    MissingWeightsError,
    WriteError,
    os_reason,
)

EXPECTED_ERRORS = (BadInputError, ConfigError, MissingWeightsError, DownloadError, WriteError)


def run_stage(
    main: Callable[[argparse.Namespace], int | None],
    parser: argparse.ArgumentParser,
    argv: list[str] | None = None,
) -> int:
    """Parse ``argv``, run ``main`` and turn expected errors into one clear line and exit 1.

    Expected errors (a malformed input file, a bad config key, missing weights, an output that
    cannot be written) are printed once, as ``error: <message>``, without a traceback: the
    message already names the file and the problem. Any other ``OSError`` (a file that cannot
    be read or written) is printed the same way with the path the system names. Anything else
    is a bug and keeps its traceback.
    """
    from adm.logs import setup_logging

    args = parser.parse_args(argv)
    setup_logging()
    try:
        return int(main(args) or 0)
    except EXPECTED_ERRORS as err:
        message = str(err)
    except OSError as err:
        names = [str(n) for n in (err.filename, err.filename2) if n is not None]
        message = ": ".join([*names, os_reason(err)])
    except Exception as err:
        # A library that wraps the system's refusal in its own error (torch: RuntimeError,
        # safetensors: SafetensorError) outside the atomic writers, which report it themselves.
        from adm.io.atomic import write_failure

        found = write_failure(err, None) if _is_full_disk(err) else None
        if found is None:
            raise
        reason, file = found
        message = f"{file}: cannot write ({reason})" if file else f"cannot write ({reason})"
    print(f"error: {message}", file=sys.stderr)
    return 1


_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO}


def _is_full_disk(err: BaseException) -> bool:
    """Whether ``err`` or one of its causes is the system refusing a write."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _FULL:
            return True
        if "os error 28" in str(current) or "No space left on device" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def speaker_id(text: str) -> int:
    """argparse type: a BEAT speaker id, 1-30."""
    from adm.data.clips import SPEAKER_NAMES

    value = _int(text)
    if value not in SPEAKER_NAMES:
        raise argparse.ArgumentTypeError(
            f"{value} is not a BEAT speaker id (1-{max(SPEAKER_NAMES)})"
        )
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0 (seeds, counts)."""
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; expected an integer >= 0")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not >= 1")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a finite number > 0")
    return value


def clip_name(text: str) -> str:
    """argparse type: a BEAT clip name whose speaker id and name agree (``2_scott_0_1_1``)."""
    from adm.data.clips import parse_clip_name

    try:
        parse_clip_name(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def paired(per: str, **options: list) -> list[tuple]:
    """The i-th value of every option together, for commands that take one value of each per
    ``per`` (``--clip a b --out x y`` -> ``[(a, x), (b, y)]``); the options are given by their
    names without dashes (``clip=[...], out=[...]``).

    Raises:
        ConfigError: the lists differ in length (the message names the options and counts).
    """
    counts = {f"--{name.replace('_', '-')}": len(values) for name, values in options.items()}
    if len(set(counts.values())) != 1:
        given = ", ".join(f"{name} {count}" for name, count in counts.items())
        raise ConfigError(f"{' / '.join(counts)}: one value of each per {per} (got {given})")
    return list(zip(*options.values(), strict=True))
