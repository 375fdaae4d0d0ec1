"""The bundled synthetic corpus in BEAT's exact file formats.

BEAT cannot be downloaded everywhere, so the pipeline can make its own small corpus and read it
with the same BEAT readers: real English speech synthesised by eSpeak NG (16 kHz float32 WAV),
Praat TextGrids with word and phone tiers from the synthesiser's own events, 60 fps ARKit face
JSON, 120 fps BVH on BEAT's 75-joint skeleton, semantic ``.txt`` and emotion ``.csv``
annotations. It keeps the property the task is about: the face is determined by the speech
(visemes from phone timings, brow raises on stressed words; only blinks are random), the gestures
are not (drawn from a separate random stream, so the same sentence gets different gestures).

Entry points: :class:`SynthConfig`, :func:`expected_stems`, :func:`expected_files`,
:func:`generate_corpus`, :func:`render_take`; the command is ``adm synthesize``.
The generator (:mod:`adm.data.synth.corpus`) is imported on first use, so that planning the
corpus (what the pipeline's graph needs) does not load it.
"""

from adm.data.synth.config import (
    MANIFEST,
    SynthConfig,
    TakeSpec,
    expected_files,
    expected_stems,
    takes,
)

_GENERATOR = ("RenderedTake", "generate_corpus", "render_take", "write_take")


def __getattr__(name: str):
    if name in _GENERATOR:
        from adm.data.synth import corpus

        return getattr(corpus, name)
    raise AttributeError(f"module 'adm.data.synth' has no attribute {name!r}")


__all__ = [
    "MANIFEST",
    "RenderedTake",
    "SynthConfig",
    "TakeSpec",
    "expected_files",
    "expected_stems",
    "generate_corpus",
    "render_take",
    "takes",
    "write_take",
]
