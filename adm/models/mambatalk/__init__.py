"""MambaTalk (NeurIPS'24): per-part VQ-VAEs (stage 1) and a Mamba-based code predictor (stage 2).

Importing this package registers the ``mambatalk`` network (:mod:`.network`).
"""

from adm.models.mambatalk import network  # noqa: F401  (registers "mambatalk")
