"""``python -m adm.study``: see :mod:`adm.study.cli`."""

import sys

from adm.study.cli import main

if __name__ == "__main__":
    sys.exit(main())
