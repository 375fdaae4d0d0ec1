"""Shared command-line plumbing for the ``python -m adm.<stage>`` commands."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from adm.errors import BadInputError, ConfigError, MissingWeightsError
from adm.logs import setup_logging

EXPECTED_ERRORS = (BadInputError, ConfigError, MissingWeightsError)


def run_stage(
    main: Callable[[argparse.Namespace], int | None],
    parser: argparse.ArgumentParser,
    argv: list[str] | None = None,
) -> int:
    """Parse ``argv``, run ``main`` and turn expected errors into one clear line and exit 1.

    Expected errors (a malformed input file, a bad config key, missing weights) are printed as
    ``error: <message>`` without a traceback: the message already names the file and problem.
    """
    args = parser.parse_args(argv)
    setup_logging()
    try:
        return int(main(args) or 0)
    except EXPECTED_ERRORS as err:
        logging.getLogger("adm").error("%s", err)
        print(f"error: {err}", file=sys.stderr)
        return 1
