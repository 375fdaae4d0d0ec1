"""Evaluation metrics exactly as ``metrics.md`` defines them, one module each.

Gestures: FGD (:mod:`.fgd`), diversity and L1 diversity (:mod:`.diversity`), Beat Align
(:mod:`.beat_align`), SRGR (:mod:`.srgr`). Face: FD and WInD (:mod:`.face_distance`).
Feature extractors: BEAT's motion autoencoder (:mod:`.motion_autoencoder`) and SAiD's
blendshape VAE (:mod:`.face_vae`), saved and loaded by :mod:`.checkpoint`.

Every metric is a pure function on arrays whose keyword defaults are metrics.md's values, plus
a small ``update``/``compute`` accumulator where pooling over sequences is needed. Import a
metric from its module (``from adm.metrics.srgr import srgr``): the package re-exports nothing,
so ``adm.metrics.srgr`` is always the module, never the function of the same name.
"""
