"""adm: Adaptive Diffusion Model for co-speech holistic motion (gestures + ARKit face).

Every pipeline stage is an ``adm <command>`` (``adm --help`` lists them, :mod:`adm.commands`);
the package knows nothing of Snakemake. See README.md for the layout.
"""

__version__ = "0.1.0"

# Before numba is imported anywhere: its compile cache goes to adm's folder, not site-packages
# (see adm.jit for why and how parallel jobs share it).
from adm.jit import configure as _configure_jit_cache

_configure_jit_cache()
