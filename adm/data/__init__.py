"""BEAT data: readers and writers for each file of a clip, clip names and the CaMN split.

One module per file kind: ``bvh`` (body motion), ``face`` (ARKit blendshape JSON), ``audio``
(WAV), ``textgrid`` (word/phoneme timings), ``annotations`` (semantic ``.txt`` and emotion
``.csv``), plus ``clips`` (names, emotions, split, file lookup) and ``beat_skeleton`` (the BEAT
skeleton as data). Every reader raises :class:`adm.errors.BadClipError` naming the file and the
problem; every writer is atomic. Submodules are imported explicitly, so that reading one kind of
file does not load the dependencies of the others.
"""
