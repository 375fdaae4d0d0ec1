"""Benchmark: every evaluation metric on a test-set-sized batch of random clips.

``python -m adm.bench metrics [--clips 64] [--seconds 60] [--fps 30]`` builds randomly
initialised metric models of the configured sizes and ``--clips`` random clips (gesture 141 in
axis-angle, face 51 blendshape weights, 16 kHz noise audio with clicks, semantic scores), then
evaluates all metrics the way the evaluate stage does: FGD (windows of ``--fgd-length`` at
stride 10), diversity, L1 diversity, Beat Align, SRGR, FD and WInD (``--wind-repeats`` mixture
seeds), and prints the wall-clock and CPU seconds each took (CPU seconds count every thread
of the process, so on a busy machine they show the work apart from waiting) and the total.

Defaults at 30 fps: FGD windows of 68 frames (the 2.27 s of BEAT's 34 frames at 15 fps) and
face-VAE windows of 60 frames (the 2 s of SAiD's 120 frames at 60 fps). The numbers the metrics
print are meaningless (random models, random data); the timings are the point.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d

from adm.metrics import (
    FGD,
    SRGR,
    BeatAlign,
    FaceLatents,
    FaceVAE,
    L1Div,
    MotionAutoencoder,
    diversity,
    fit_mixtures,
    gen_euler_from_axis_angle,
)
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


def _timed(times: dict[str, list[float]], name: str, fn: Callable[[], Any]) -> Any:
    """Run ``fn`` and add its wall and CPU seconds (all threads of this process) to ``name``."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    spent = times.setdefault(name, [0.0, 0.0])
    spent[0] += time.perf_counter() - wall
    spent[1] += time.process_time() - cpu
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adm.bench metrics", description=__doc__)
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--fgd-length", type=int, default=68)
    parser.add_argument("--face-length", type=int, default=60)
    parser.add_argument("--wind-repeats", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    args = parser.parse_args(argv)
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


def _run(args: argparse.Namespace) -> int:
    rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)
    start = time.perf_counter()
    clips = [make_clip(rng, args.seconds, args.fps) for _ in range(args.clips)]
    made = time.perf_counter() - start
    stats = np.concatenate([c["gesture_gt"] for c in clips])
    mean, std = stats.mean(axis=0), np.maximum(stats.std(axis=0), 1e-8)
    motion_ae = MotionAutoencoder(141, args.fgd_length)
    calibrate_batchnorm(
        motion_ae,
        _sample_windows(rng, clips, "gesture_gt", args.fgd_length, lambda x: (x - mean) / std),
    )
    face_vae = FaceVAE(51, args.face_length)
    calibrate_batchnorm(face_vae, _sample_windows(rng, clips, "face_gt", args.face_length))

    times: dict[str, list[float]] = {}
    values: dict[str, float] = {}
    fgd = FGD(motion_ae, stride=10)
    l1 = L1Div()
    align = BeatAlign()
    recall = SRGR()
    faces = FaceLatents(face_vae)
    total_start, cpu_start = time.perf_counter(), time.process_time()
    for i, c in enumerate(clips):
        gen, gt = c["gesture_gen"], c["gesture_gt"]
        _timed(times, "fgd", lambda g=gen, t=gt: fgd.update((g - mean) / std, (t - mean) / std))
        _timed(times, "l1div", lambda g=gen: l1.update(g))
        _timed(
            times,
            "beat_align",
            lambda c=c, g=gen, i=i: align.update(c["audio"], AUDIO_SR, g, args.fps, key=i),
        )
        _timed(
            times,
            "srgr",
            lambda c=c, g=gen: recall.update(
                gen_euler_from_axis_angle(g, c["gesture_gt_euler"]),
                c["gesture_gt_euler"],
                c["semantic"],
            ),
        )
        _timed(times, "fd", lambda c=c: faces.update(c["face_gen"], c["face_gt"]))
    values["fgd"] = _timed(times, "fgd", fgd.compute)
    values["diversity"] = _timed(
        times, "diversity", lambda: diversity(fgd.gen_features, fgd.gt_features)
    )
    values["l1div"] = l1.compute()
    values["beat_align"] = align.compute()
    values["srgr"] = recall.compute()
    values["fd"] = _timed(times, "fd", faces.fd)
    # The ground-truth mixtures are fitted apart (timed on their own) and passed in: the same
    # computation as wind(gen, gt), and it shows the time when they are fitted once per test
    # set and reused for every method. The "wind" row is the whole (cold) evaluation.
    gt_mix = _timed(
        times,
        "wind_reference",
        lambda: fit_mixtures(faces.gt_latents, repeats=args.wind_repeats),
    )
    wind_mean, wind_std = _timed(
        times, "wind_given", lambda: faces.wind(repeats=args.wind_repeats, gt_mixtures=gt_mix)
    )
    times["wind"] = [
        a + b for a, b in zip(times["wind_reference"], times["wind_given"], strict=True)
    ]
    values["wind"] = wind_mean
    total = time.perf_counter() - total_start
    total_cpu = time.process_time() - cpu_start

    windows = len(fgd.gen_features)
    latents = len(faces.gen_latents)
    print(
        f"{args.clips} clips x {args.seconds:g} s at {args.fps} fps; FGD windows "
        f"L={args.fgd_length} stride 10: {windows} per side; face windows "
        f"L={args.face_length} stride 1: {latents} per side; torch threads "
        f"{torch.get_num_threads()}; random data made in {made:.1f} s"
    )
    print(f"{'metric':<12}{'wall s':>9}{'cpu s':>9}  value")
    for name in ("fgd", "diversity", "l1div", "beat_align", "srgr", "fd", "wind"):
        extra = ""
        if name == "wind":
            given = times["wind_given"][0]
            extra = (
                f" +- {wind_std:.4g} ({args.wind_repeats} seeds) [with the reference mixtures "
                f"given: {given:.2f} s wall]"
            )
        wall, cpu = times[name]
        print(f"{name:<12}{wall:>9.2f}{cpu:>9.2f}  {values[name]:.4g}{extra}")
    print(f"{'total':<12}{total:>9.2f}{total_cpu:>9.2f}")
    return 0
