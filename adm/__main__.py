"""``python -m adm <command> [options]``: the same as the ``adm`` console script."""

from __future__ import annotations

import sys

from adm.commands import main

if __name__ == "__main__":
    sys.exit(main())
