"""``python -m adm.generation``: see :mod:`adm.generation.cli`."""

import sys

from adm.generation.cli import main

sys.exit(main())
