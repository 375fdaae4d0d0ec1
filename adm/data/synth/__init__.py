"""The bundled synthetic corpus in BEAT's exact file formats.

BEAT cannot be downloaded everywhere, so the pipeline can make its own small corpus and read it
with the same BEAT readers: real English speech synthesised by eSpeak NG (16 kHz float32 WAV),
Praat TextGrids with word and phone tiers from the synthesiser's own events, 60 fps ARKit face
JSON, 120 fps BVH on BEAT's 75-joint skeleton, semantic ``.txt`` and emotion ``.csv``
annotations. It keeps the property the task is about: the face is determined by the speech
(visemes from phone timings, brow raises on stressed words; only blinks are random), the gestures
are not (drawn from a separate random stream, so the same sentence gets different gestures).

Entry points: :class:`SynthConfig`, :func:`expected_stems`, :func:`expected_files`,
:func:`generate_corpus`, :func:`render_take`; the command is ``python -m adm.synthesize``.
"""

from adm.data.synth.config import (
    MANIFEST,
    SynthConfig,
    TakeSpec,
    expected_files,
    expected_stems,
    takes,
)
from adm.data.synth.corpus import RenderedTake, generate_corpus, render_take, write_take

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
