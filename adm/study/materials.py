"""The study's materials: groups of about 30 s cut from generated test clips, one video per
method, and the manifest.

A *method* of the study is a pair of sampled variants, one giving the gestures and one the face
(``{gesture: full, face: full}``; ``{gesture: a2g, face: a2e}`` joins the two single-task
models). Every method's clips come from ``<samples>/<variant>/seed<k>/<clip>.parquet``
(gesture ``[T, 141]`` axis-angle, face ``[T, 51]``), the speech from the test clip's wav.

Groups: each test clip is cut into consecutive windows of ``seconds``; a shorter rest (or a
whole clip shorter than ``seconds``) counts when it lasts at least ``min_seconds``. ``groups``
windows are drawn at random (``seed``), different clips first, so the groups show different
speech wherever the test set allows. Each (group, method) is rendered with the preview renderer
(same camera, same size, the audio muxed in) under a random file name, so the address of a
video does not tell its method.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import secrets
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from adm.errors import BadInputError, ConfigError
from adm.io.atomic import atomic_dir
from adm.io.frames import read_frames
from adm.study.design import MANIFEST_NAME, Group, Manifest

log = logging.getLogger("adm.study")


@dataclass(frozen=True)
class MethodSource:
    """Which sampled variant gives a study method's gestures and which its face."""

    gesture: str
    face: str


@dataclass(frozen=True)
class StudyConfig:
    """The ``study:`` config section (see config.yaml)."""

    methods: dict[str, MethodSource] = field(default_factory=dict)
    groups: int = 9
    seconds: float = 30.0
    min_seconds: float = 10.0
    sample_seed: int | None = None
    seed: int = 0
    size: tuple[int, int] = (960, 480)

    def __post_init__(self):
        if len(self.methods) < 2:
            raise ConfigError(
                f"study.methods: a study compares at least two methods, got {list(self.methods)}"
            )
        if self.groups < 1:
            raise ConfigError(f"study.groups: expected >= 1, got {self.groups}")
        if not 0 < self.min_seconds <= self.seconds:
            raise ConfigError(
                f"study.min_seconds: expected 0 < min_seconds <= seconds ({self.seconds}), "
                f"got {self.min_seconds}"
            )

    def variants(self) -> list[str]:
        """Every sampled variant the methods use, in order, once."""
        names = [v for m in self.methods.values() for v in (m.gesture, m.face)]
        return list(dict.fromkeys(names))


@dataclass(frozen=True)
class Window:
    clip: str
    start: int  # frames
    stop: int
    fps: float


def clip_windows(
    clip: str, frames: int, fps: float, seconds: float, min_seconds: float
) -> list[Window]:
    """Consecutive windows of ``seconds`` over a clip of ``frames`` frames, plus the rest when
    it lasts ``min_seconds`` or more."""
    length = round(seconds * fps)
    shortest = math.ceil(min_seconds * fps - 1e-9)
    windows = [Window(clip, s, s + length, fps) for s in range(0, frames - length + 1, length)]
    rest_start = windows[-1].stop if windows else 0
    if frames - rest_start >= shortest:
        windows.append(Window(clip, rest_start, frames, fps))
    return windows


def choose_windows(candidates: Sequence[Window], count: int, seed: int) -> list[Window]:
    """``count`` windows at random, one per clip before any clip gives a second; sorted by
    clip and start."""
    rng = np.random.default_rng(seed)
    shuffled = [candidates[i] for i in rng.permutation(len(candidates))]
    rank: dict[str, int] = {}
    ranked = []
    for window in shuffled:
        ranked.append((rank.get(window.clip, 0), window))
        rank[window.clip] = rank.get(window.clip, 0) + 1
    ranked.sort(key=lambda item: item[0])  # stable: the random order within a rank stays
    chosen = [w for _, w in ranked[:count]]
    return sorted(chosen, key=lambda w: (w.clip, w.start))


def _sample_path(samples_root: Path, variant: str, seed: int, clip: str) -> Path:
    return samples_root / variant / f"seed{seed}" / f"{clip}.parquet"


def load_method_motion(
    cfg: StudyConfig, samples_root: Path, seed: int, clip: str
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], float]:
    """Per method the (gesture ``[T, 141]``, face ``[T, 51]``) of one clip, cut to the
    shortest, and the frame rate.

    Raises:
        BadInputError: a sample is missing, lacks its task, or the frame rates differ.
    """
    tables = {}
    for variant in cfg.variants():
        tasks = {
            t for m in cfg.methods.values() for t in ("gesture", "face") if getattr(m, t) == variant
        }
        path = _sample_path(samples_root, variant, seed, clip)
        if not path.is_file():
            raise BadInputError(
                path, f"no sample of clip {clip} for variant {variant} (seed {seed})"
            )
        tables[variant] = (path, read_frames(path, sorted(tasks)))
    rates = {float(t.metadata.get("fps", 0.0)) for _, t in tables.values()}
    if len(rates) != 1 or not next(iter(rates)) > 0:
        raise BadInputError(
            tables[cfg.variants()[0]][0],
            f"samples of {clip} disagree on (or lack) fps: {sorted(rates)}",
        )
    fps = rates.pop()
    if fps != round(fps):
        # The renderer draws whole frames per second; every adm sample has an integer rate.
        raise BadInputError(tables[cfg.variants()[0]][0], f"fps {fps} is not a whole number")
    frames = min(t.num_frames for _, t in tables.values())
    motion = {
        name: (
            np.asarray(tables[m.gesture][1]["gesture"][:frames], dtype=np.float32),
            np.asarray(tables[m.face][1]["face"][:frames], dtype=np.float32),
        )
        for name, m in cfg.methods.items()
    }
    return motion, fps


def _cut_wav(wav: Path, window: Window, out: Path) -> None:
    import soundfile as sf

    try:
        info = sf.info(str(wav))
        start = round(window.start / window.fps * info.samplerate)
        stop = round(window.stop / window.fps * info.samplerate)
        audio, rate = sf.read(str(wav), start=start, stop=stop, always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as err:
        raise BadInputError(wav, f"cannot read the speech ({err})") from None
    sf.write(str(out), audio, rate, subtype="PCM_16")


def _renderer():
    try:
        from adm.generation.preview import render_preview
    except ImportError as err:
        raise ConfigError(
            f"the preview renderer (adm.generation.preview) cannot be imported: {err}"
        ) from None
    return render_preview


def _render(job: tuple) -> Path:
    gesture, face, fps, wav, out, size = job
    return _renderer()(gesture, face, fps, wav, out, size=size, title=None)


def _render_all(jobs: list[tuple], workers: int) -> None:
    """Render every (group, method) video; ``workers`` processes at a time. Each writes its own
    file, so the processes share nothing."""
    if workers <= 1:
        for job in jobs:
            _render(job)
        return
    context = multiprocessing.get_context("spawn")  # no forked matplotlib or ffmpeg state
    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context) as pool:
        for done, _ in enumerate(pool.map(_render, jobs), start=1):
            log.info("rendered %d of %d videos", done, len(jobs))


def build_materials(
    cfg: StudyConfig,
    clips: Sequence[str],
    samples_root: str | Path,
    corpus_root: str | Path,
    sample_seed: int,
    outdir: str | Path,
    workers: int = 1,
) -> Manifest:
    """Cut the groups, render every method's video and write ``<outdir>/manifest.json``.

    ``workers`` videos are rendered at once (processes).

    The folder appears whole or not at all (a failed render leaves the previous one).

    Raises:
        BadInputError: a missing or malformed sample or wav.
        ConfigError: no clip gives a window of ``min_seconds``; no renderer.
    """
    _renderer()  # no renderer: stop before reading anything
    samples_root, corpus_root, outdir = Path(samples_root), Path(corpus_root), Path(outdir)
    motions = {}
    candidates: list[Window] = []
    for clip in clips:
        motion, fps = load_method_motion(cfg, samples_root, sample_seed, clip)
        motions[clip] = motion
        frames = len(next(iter(motion.values()))[0])
        candidates += clip_windows(clip, frames, fps, cfg.seconds, cfg.min_seconds)
    if not candidates:
        raise ConfigError(f"study.min_seconds: no test clip lasts {cfg.min_seconds} s; lower it")
    chosen = choose_windows(candidates, cfg.groups, cfg.seed)
    if len(chosen) < cfg.groups:
        log.warning(
            "study.groups asks for %d groups; the %d test clips give only %d windows of %g-%g s: "
            "building %d",
            cfg.groups,
            len(clips),
            len(chosen),
            cfg.min_seconds,
            cfg.seconds,
            len(chosen),
        )
    groups = []
    with atomic_dir(outdir) as tmp, tempfile.TemporaryDirectory() as scratch:
        jobs = []
        for index, window in enumerate(chosen, start=1):
            group_id = f"g{index:02d}"
            wav = Path(scratch) / f"{group_id}.wav"
            speaker = window.clip.split("_", 1)[0]
            _cut_wav(corpus_root / speaker / f"{window.clip}.wav", window, wav)
            (tmp / group_id).mkdir()
            videos = {}
            for method, (gesture, face) in motions[window.clip].items():
                videos[method] = f"{group_id}/{secrets.token_hex(8)}.mp4"
                cut = (gesture[window.start : window.stop], face[window.start : window.stop])
                jobs.append((*cut, round(window.fps), wav, tmp / videos[method], tuple(cfg.size)))
            start_s, end_s = window.start / window.fps, window.stop / window.fps
            groups.append(Group(group_id, window.clip, start_s, end_s, videos))
            log.info("%s: %s %.1f-%.1f s", group_id, window.clip, start_s, end_s)
        _render_all(jobs, workers)
        manifest = Manifest(
            list(cfg.methods),
            groups,
            outdir,
            {
                "sample_seed": sample_seed,
                "groups_asked": cfg.groups,
                "seconds": cfg.seconds,
                "min_seconds": cfg.min_seconds,
                "seed": cfg.seed,
                "size": list(cfg.size),
                "sources": {
                    k: {"gesture": v.gesture, "face": v.face} for k, v in cfg.methods.items()
                },
            },
        )
        (tmp / MANIFEST_NAME).write_text(manifest.to_json() + "\n", encoding="utf-8")
    return manifest
