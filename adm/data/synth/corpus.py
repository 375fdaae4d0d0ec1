"""Generate the synthetic corpus: every take's six BEAT files, then the manifest.

A take is rendered from three independent random streams seeded by (seed, speaker, take): the
speech stream draws the sentences and pauses (the words, phones, audio and hence the face
follow deterministically), the blink stream draws the blinks, and the gesture stream (seeded by
``gesture_seed``) draws the gestures. Each take is spoken by a fresh eSpeak NG engine, so takes
are independent: they are rendered in a process pool and the result depends neither on the
number of workers nor on which worker renders which take. Every file is written atomically,
and ``manifest.tsv`` is written last, only when all takes succeeded: its presence means the
corpus is complete.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adm.data.annotations import write_emotion, write_semantic
from adm.data.audio import write_wav
from adm.data.beat_skeleton import beat_header
from adm.data.bvh import write_bvh
from adm.data.face import write_face_json
from adm.data.synth.annotations import emotion_intervals, semantic_intervals
from adm.data.synth.body import body_motion
from adm.data.synth.config import MANIFEST, SynthConfig, TakeSpec, takes
from adm.data.synth.face import face_weights
from adm.data.synth.gestures import Stroke, plan_strokes
from adm.data.synth.speakers import speaker_style
from adm.data.synth.speech import Speech, speak_take
from adm.data.textgrid import Interval, write_textgrid
from adm.io.atomic import write_text_atomic

logger = logging.getLogger("adm.synth")

_DECIMALS = 4  # TextGrid times to 0.1 ms, as aligners write them


@dataclass(frozen=True)
class RenderedTake:
    """One take in memory.

    Attributes:
        spec: which take.
        speech: audio float32 [N] at 16 kHz with words and phones.
        face: ARKit weights [T_face, 51] at ``face_fps``.
        motion: BVH channels [T_body, 228] at ``body_fps``.
        strokes: the gestures, with their peaks.
    """

    spec: TakeSpec
    speech: Speech
    face: np.ndarray
    motion: np.ndarray
    strokes: list[Stroke]


def render_take(cfg: SynthConfig, spec: TakeSpec) -> RenderedTake:
    """Render one take (speech, face, gestures and body) without writing anything."""
    style = speaker_style(spec.speaker, cfg.seed)
    speech_rng = np.random.default_rng(spec.seed_sequence(cfg.seed, 0))
    blink_rng = np.random.default_rng(spec.seed_sequence(cfg.seed, 1))
    gseed = cfg.seed if cfg.gesture_seed is None else cfg.gesture_seed
    gesture_rng = np.random.default_rng(spec.seed_sequence(gseed, 2))
    speech = speak_take(
        style.voice, speech_rng, spec.seconds, cfg.sample_rate, tuple(cfg.pause_seconds),
        noise_rms=cfg.noise_rms,
    )  # fmt: skip
    face = face_weights(
        speech.phones, speech.words, spec.seconds, style.face, blink_rng, cfg.face_fps
    )
    strokes = plan_strokes(speech.words, spec.seconds, style.vocabulary, style.gesture, gesture_rng)
    motion = body_motion(
        beat_header(cfg.body_fps), strokes, spec.seconds, cfg.body_fps, style.body,
        gesture_rng,
    )  # fmt: skip
    return RenderedTake(spec, speech, face, motion, strokes)


def _tiers(speech: Speech) -> dict[str, list[Interval]]:
    def r(x: float) -> float:
        return round(x, _DECIMALS)

    words = [Interval(r(w.start), r(w.end), w.label) for w in speech.words]
    phones = [Interval(r(p.start), r(p.end), p.label) for p in speech.phones]
    return {"words": words, "phones": phones}


def write_take(cfg: SynthConfig, spec: TakeSpec, root: Path) -> dict[str, float]:
    """Render one take and write its six BEAT files under ``<root>/<spk>/``.

    Returns a few counts for the log (words, strokes, seconds taken).
    """
    t0 = time.perf_counter()
    take = render_take(cfg, spec)
    folder = Path(root) / str(spec.speaker)
    base = folder / spec.stem
    write_wav(base.with_suffix(".wav"), take.speech.audio, cfg.sample_rate, "float32")
    write_textgrid(base.with_suffix(".TextGrid"), _tiers(take.speech), xmax=spec.seconds)
    write_face_json(base.with_suffix(".json"), take.face, fps=cfg.face_fps)
    write_bvh(base.with_suffix(".bvh"), beat_header(cfg.body_fps), take.motion, cfg.body_fps)
    write_semantic(base.with_suffix(".txt"), semantic_intervals(take.strokes))
    write_emotion(base.with_suffix(".csv"), emotion_intervals(spec.kind, spec.take, spec.seconds))
    return {
        "words": len(take.speech.words),
        "strokes": len(take.strokes),
        "seconds": time.perf_counter() - t0,
    }


def _write_task(args: tuple[SynthConfig, TakeSpec, str]) -> tuple[str, dict[str, float]]:
    cfg, spec, root = args
    return spec.stem, write_take(cfg, spec, Path(root))


def manifest_text(cfg: SynthConfig) -> str:
    """The manifest: a header and one ``stem speaker split seconds`` row per take (TSV)."""
    rows = ["stem\tspeaker\tsplit\tseconds"]
    rows += [f"{t.stem}\t{t.speaker}\t{t.split}\t{t.seconds:g}" for t in takes(cfg)]
    return "\n".join(rows) + "\n"


def generate_corpus(cfg: SynthConfig, root: str | Path, workers: int = 2) -> Path:
    """Write every take of ``cfg`` under ``root``, then ``root/manifest.tsv``; returns its path.

    An old manifest is removed first, so a run that fails part-way leaves none. ``workers`` > 1
    renders takes in that many spawned processes (they share nothing with the caller).
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    manifest = root / MANIFEST
    manifest.unlink(missing_ok=True)
    specs = takes(cfg)
    jobs = [(cfg, spec, str(root)) for spec in specs]
    t0 = time.perf_counter()
    if workers <= 1 or len(jobs) == 1:
        results = map(_write_task, jobs)
        _log_results(results, len(jobs))
    else:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx) as pool:
            _log_results(pool.map(_write_task, jobs), len(jobs))
    write_text_atomic(manifest, manifest_text(cfg))
    logger.info(
        "wrote %d takes (%gs in all) for speakers %s in %.1fs",
        len(specs), sum(s.seconds for s in specs), list(cfg.speakers), time.perf_counter() - t0,
    )  # fmt: skip
    return manifest


def _log_results(results: Iterable[tuple[str, dict[str, float]]], total: int) -> None:
    for k, (stem, info) in enumerate(results, start=1):
        logger.info(
            "[%d/%d] %s: %d words, %d strokes (%.2fs)",
            k, total, stem, info["words"], info["strokes"], info["seconds"],
        )  # fmt: skip
