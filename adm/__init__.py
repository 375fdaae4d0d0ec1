"""adm: Adaptive Diffusion Model for co-speech holistic motion (gestures + ARKit face).

Every pipeline stage is a ``python -m adm.<stage>`` command; the package knows nothing of
Snakemake. See README.md for the layout.
"""

__version__ = "0.1.0"
