"""Benchmark: every evaluation metric on a test-set-sized batch of random clips.

``python -m adm.bench metrics [--clips 64] [--seconds 60] [--fps 30]`` builds randomly
initialised metric models of the configured sizes and ``--clips`` random clips (gesture 141 in
axis-angle, face 51 blendshape weights, 16 kHz noise audio with clicks, semantic scores), then
evaluates all metrics the way the evaluate stage does: FGD (windows of ``--fgd-length`` at
stride 10), diversity, L1 diversity, Beat Align, SRGR, FD and WInD (``--wind-repeats`` mixture
seeds), with the evaluate stage's own code: first the test set's reference (the ground-truth
half of every metric, which ``adm reference`` computes once per test set), then one
evaluation of a generated test set against it (what ``adm evaluate`` does for each
variant and seed, in its order: WInD's fits run while the gesture metrics run, see
:mod:`adm.evaluation.schedule`). It prints each metric's wall-clock seconds (overlapping, so
they add up to more than the total), the evaluation's total (the figure for the 60 s target),
the reference's time and their sum (a cold evaluation). CPU seconds count every thread of the
process, so on a busy machine they show the work apart from waiting. Last (unless
``--no-sklearn``), WInD's generated-side fits are timed back to back with adm's EM and with
scikit-learn's own ``GaussianMixture`` on the same latents: wall and CPU seconds, their
ratios (measured in one run, so a shared machine's load affects both alike) and the largest
relative difference of a repeat's score.

Defaults at 30 fps: FGD windows of 68 frames (the 2.27 s of BEAT's 34 frames at 15 fps) and
face-VAE windows of 60 frames (the 2 s of SAiD's 120 frames at 60 fps). The numbers the metrics
print are meaningless (random models, random data); the timings are the point.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d

from adm.data.face import ARKIT_NAMES
from adm.data.normalization import NormStats
from adm.evaluation.config import EvalConfig
from adm.evaluation.face import FaceEvaluator
from adm.evaluation.gesture import GestureEvaluator
from adm.evaluation.inputs import TestClip
from adm.evaluation.reference import ReferenceBuilder
from adm.evaluation.schedule import run_evaluators
from adm.metrics.face_distance import wind
from adm.metrics.face_vae import FaceVAE
from adm.metrics.gmm import default_workers
from adm.metrics.motion_autoencoder import MotionAutoencoder
from adm.rotations import axis_angle_to_euler

AUDIO_SR = 16000


def _smooth(rng: np.random.Generator, frames: int, dims: int, sigma: float) -> np.ndarray:
    x = gaussian_filter1d(rng.normal(size=(frames, dims)), sigma, axis=0)
    return x / x.std()


def make_clip(rng: np.random.Generator, seconds: float, fps: int) -> dict[str, np.ndarray]:
    """One random clip: gt/generated gestures and faces, audio with clicks, semantic."""
    frames = int(seconds * fps)
    gt = 0.3 * _smooth(rng, frames, 141, 3.0)
    gen = 0.3 * _smooth(rng, frames, 141, 2.5)
    face_gt = 1.0 / (1.0 + np.exp(-2.0 * _smooth(rng, frames, 51, 2.0)))
    face_gen = 1.0 / (1.0 + np.exp(-2.0 * _smooth(rng, frames, 51, 2.0)))
    audio = rng.normal(0.0, 0.01, int(seconds * AUDIO_SR)).astype(np.float32)
    for t in np.cumsum(rng.uniform(0.3, 0.8, int(seconds / 0.3))):
        if t < seconds - 0.01:
            i = int(t * AUDIO_SR)
            audio[i : i + 64] += 0.5 * np.hanning(64).astype(np.float32)
    semantic = np.zeros(frames, np.float32)
    for start in rng.integers(0, frames, max(1, frames // (3 * fps))):
        semantic[start : start + rng.integers(fps // 2, 2 * fps)] = rng.uniform(0.1, 1.0)
    # Ground-truth Euler on an "unwrapped" branch, as BEAT's BVH curves are.
    gt_euler = axis_angle_to_euler(gt.reshape(frames, 47, 3))
    gt_euler += 360.0 * rng.integers(-2, 3, size=(1, 47, 3))
    return {
        "gesture_gt": gt.astype(np.float32),
        "gesture_gen": gen.astype(np.float32),
        "gesture_gt_euler": gt_euler,
        "face_gt": face_gt.astype(np.float32),
        "face_gen": face_gen.astype(np.float32),
        "audio": audio,
        "semantic": semantic,
    }


def _sample_windows(
    rng: np.random.Generator,
    clips: list[dict[str, np.ndarray]],
    key: str,
    length: int,
    transform: Callable[[np.ndarray], np.ndarray] = lambda x: x,
    count: int = 256,
) -> np.ndarray:
    """``count`` random windows ``[count, length, D]`` of ``clips[*][key]``."""
    out = []
    for _ in range(count):
        x = clips[int(rng.integers(len(clips)))][key]
        start = int(rng.integers(len(x) - length + 1))
        out.append(transform(x[start : start + length]))
    return np.stack(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adm.bench metrics", description=__doc__)
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--long-clips", type=int, default=0,
        help="the last this many of --clips are --long-seconds long (BEAT's test set: 4 of 64)",
    )  # fmt: skip
    parser.add_argument("--long-seconds", type=float, default=600.0)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--fgd-length", type=int, default=68)
    parser.add_argument("--face-length", type=int, default=60)
    parser.add_argument("--wind-repeats", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument(
        "--no-sklearn",
        action="store_true",
        help="skip the comparison of WInD's fits with scikit-learn's GaussianMixture",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.long_clips <= args.clips:
        parser.error("--long-clips must be between 0 and --clips")
    threads = torch.get_num_threads()
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        return _run(args)
    finally:
        torch.set_num_threads(threads)


def calibrate_batchnorm(model: torch.nn.Module, windows: np.ndarray) -> None:
    """Set every BatchNorm's running statistics to those of ``windows [N, L, D]``.

    A randomly initialised model with BatchNorm's default statistics (mean 0, variance 1)
    gives features on an arbitrary scale (latents of order 1e-3), which changes how many EM
    iterations WInD needs and how conditioned FGD's covariances are. After calibration the
    activations are normalised as in a trained model, so the timings are representative.
    """
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration batch
    model.train()
    with torch.no_grad():
        model(torch.as_tensor(windows, dtype=torch.float32))
    model.eval()


def _test_clips(raw: list[dict[str, np.ndarray]], fps: int) -> list[TestClip]:
    """The random clips as the evaluate stage's ground-truth clips (held in memory)."""
    return [
        TestClip(
            stem=f"clip{i:03d}",
            path=Path(f"<memory>/clip{i:03d}"),
            speaker=2,
            fps=float(fps),
            gesture=c["gesture_gt"].astype(np.float64),
            gesture_euler=c["gesture_gt_euler"],
            face=c["face_gt"].astype(np.float64),
            semantic=c["semantic"].astype(np.float64),
            face_names=ARKIT_NAMES,
        )
        for i, c in enumerate(raw)
    ]


def _run(args: argparse.Namespace) -> int:
    rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)
    start = time.perf_counter()
    lengths = [args.seconds] * (args.clips - args.long_clips) + [
        args.long_seconds
    ] * args.long_clips
    raw = [make_clip(rng, seconds, args.fps) for seconds in lengths]
    clips = _test_clips(raw, args.fps)
    made = time.perf_counter() - start
    stats = np.concatenate([c["gesture_gt"] for c in raw])
    norm = NormStats(
        {"gesture": stats.mean(axis=0)}, {"gesture": np.maximum(stats.std(axis=0), 1e-8)}
    )
    motion_ae = MotionAutoencoder(141, args.fgd_length)
    calibrate_batchnorm(
        motion_ae,
        _sample_windows(
            rng, raw, "gesture_gt", args.fgd_length, lambda x: norm.normalize("gesture", x)
        ),
    )
    face_vae = FaceVAE(51, args.face_length)
    calibrate_batchnorm(face_vae, _sample_windows(rng, raw, "face_gt", args.face_length))
    cfg = EvalConfig(wind_repeats=args.wind_repeats)

    # 1. The test set's reference (ground-truth half of every metric), built once.
    wall, cpu = time.perf_counter(), time.process_time()
    builder = ReferenceBuilder(motion_ae, face_vae, norm, cfg)
    for clip, c in zip(clips, raw, strict=True):
        builder.update(clip, c["audio"])
    reference = builder.finish()
    reference_time = (time.perf_counter() - wall, time.process_time() - cpu)

    # 2. One evaluation of a generated test set against it, as adm evaluate does.
    wall, cpu = time.perf_counter(), time.process_time()
    gesture = GestureEvaluator(motion_ae, norm, cfg, reference.gesture)
    face = FaceEvaluator(face_vae, cfg, reference.face)

    def pairs():
        for clip, c in zip(clips, raw, strict=True):
            streams = {"gesture": c["gesture_gen"], "face": c["face_gen"]}
            yield clip, {k: v.astype(np.float64) for k, v in streams.items()}

    values, counts = run_evaluators(pairs, gesture, face)
    eval_time = (time.perf_counter() - wall, time.process_time() - cpu)

    timing = {**gesture.timing, **face.timing}
    print(
        f"{args.clips - args.long_clips} clips x {args.seconds:g} s"
        f"{f' + {args.long_clips} x {args.long_seconds:g} s' if args.long_clips else ''} at "
        f"{args.fps} fps; FGD windows "
        f"L={args.fgd_length} stride 10: {counts['fgd_windows']} per side; face windows "
        f"L={args.face_length} stride 1: {counts['face_windows']} per side; WInD "
        f"{args.wind_repeats} mixture seeds; torch threads {torch.get_num_threads()}; random "
        f"data made in {made:.1f} s"
    )
    print("evaluation of one generated test set, the reference given (adm evaluate):")
    print(f"  {'metric':<12}{'wall s':>9}  value")
    for name in ("fgd", "diversity", "l1div", "beat_align", "srgr", "fd", "wind"):
        extra = f" +- {values['wind_std']:.4g}" if name == "wind" else ""
        if name == "l1div":
            extra = f" (BEAT form {values['l1div_beat']:.4g})"
        # None: no value (Beat Align on clips shorter than its 10 s trim)
        value = "none" if values[name] is None else f"{values[name]:.4g}"
        print(f"  {name:<12}{timing.get(name, 0.0):>9.2f}  {value}{extra}")
    print(f"  {'total':<12}{eval_time[0]:>9.2f}  (cpu {eval_time[1]:.2f} s, target < 60 s)")
    print(
        f"test-set reference, once per test set (adm reference): "
        f"{reference_time[0]:.2f} s wall (cpu {reference_time[1]:.2f} s)"
    )
    cold = reference_time[0] + eval_time[0]
    print(f"cold evaluation (reference + evaluation): {cold:.2f} s wall")
    if not args.no_sklearn:
        _compare_sklearn(face, reference.face.mixtures, cfg)
    return 0


def _timed_wind(latents: np.ndarray, gt_mixtures, cfg: EvalConfig, method: str):
    wall, cpu = time.perf_counter(), time.process_time()
    result = wind(
        latents,
        gt_mixtures,
        components=cfg.wind_components,
        repeats=cfg.wind_repeats,
        seed=cfg.wind_seed,
        method=method,
    )
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _compare_sklearn(face: FaceEvaluator, gt_mixtures, cfg: EvalConfig) -> None:
    """WInD's generated-side fits timed back to back with adm's EM and with scikit-learn's own
    GaussianMixture (same latents, seeds and parallelism): wall and CPU seconds, their ratios,
    and the largest relative difference of a repeat's score."""
    latents = np.concatenate(face.latents)
    ours, em_wall, em_cpu = _timed_wind(latents, gt_mixtures, cfg, "em")
    theirs, sk_wall, sk_cpu = _timed_wind(latents, gt_mixtures, cfg, "scikit-learn")
    diff = max(abs(a - b) / abs(b) for a, b in zip(ours.scores, theirs.scores, strict=True))
    iters = [m.iterations for m in ours.generated]
    print(
        f"WInD fits of the generated latents ({cfg.wind_repeats} seeds, {default_workers()} "
        f"worker(s), EM iterations {min(iters)}-{max(iters)}), timed back to back:"
    )
    print(f"  adm EM (wind_method em):      {em_wall:8.2f} s wall, cpu {em_cpu:8.2f} s")
    print(f"  scikit-learn GaussianMixture: {sk_wall:8.2f} s wall, cpu {sk_cpu:8.2f} s")
    ratio = f"{sk_wall / em_wall:8.2f} wall, {sk_cpu / em_cpu:.2f} cpu"
    print(f"  ratio scikit-learn / adm:     {ratio}")
    print(f"  largest relative difference of a repeat's score: {diff:.1e}")
