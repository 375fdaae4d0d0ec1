"""BVH parse throughput: ``python -m adm.bench parse [--seconds 60] [--fps 120] [--repeats 5]``.

Writes a BEAT-format BVH (BEAT skeleton, 228 channels, ``%.6f`` values as :func:`write_bvh`
writes them; one minute at 120 fps is about 10 MB) to a temporary folder, parses it ``repeats``
times with :func:`adm.data.bvh.read_bvh` and prints the file size, the median parse time and the
throughput against the 30 MB/s target (one core). ``--bvh PATH`` times a given file instead.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from adm.data.beat_skeleton import beat_header
from adm.data.bvh import BvhHeader, read_bvh, write_bvh

TARGET_MB_S = 30.0


def synthetic_motion(header: BvhHeader, num_frames: int, fps: float, seed: int = 0) -> np.ndarray:
    """Plausible BEAT-like channels ``[T, C]``: sinusoids with mixed magnitudes.

    Root positions move by centimetres to metres, most rotations by a few to tens of degrees,
    some by hundreds (BEAT's unwrapped forearm angles), some stay exactly zero (BEAT has unused
    channels), so the text mixes short and long numbers as real files do.
    """
    rng = np.random.default_rng(seed)
    channels = header.num_channels
    amplitude = rng.choice([0.0, 0.5, 5.0, 30.0, 90.0, 700.0], size=channels)
    amplitude[:3] = [20.0, 100.0, 20.0]  # root translation
    freq = rng.uniform(0.05, 2.0, size=channels)
    phase = rng.uniform(0.0, 2 * np.pi, size=channels)
    t = np.arange(num_frames)[:, None] / fps
    return amplitude * np.sin(2 * np.pi * freq * t + phase)


def time_parse(path: Path, repeats: int, fps: float | None = None) -> list[float]:
    """Wall-clock seconds of ``repeats`` calls of ``read_bvh(path)``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        read_bvh(path, fps=fps)
        times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adm.bench parse", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="synthetic clip length")
    parser.add_argument("--fps", type=float, default=120.0, help="synthetic frame rate")
    parser.add_argument("--repeats", type=int, default=5, help="parses to time (median kept)")
    parser.add_argument("--bvh", type=Path, default=None, help="time this file instead")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.seconds <= 0 or args.fps <= 0:
        parser.error("--repeats, --seconds and --fps must be positive")

    with tempfile.TemporaryDirectory(prefix="adm-bench-parse-") as tmp:
        if args.bvh is not None:
            path = args.bvh
        else:
            header = beat_header(args.fps)
            frames = max(1, round(args.seconds * args.fps))
            path = Path(tmp) / "synthetic.bvh"
            write_bvh(path, header, synthetic_motion(header, frames, args.fps), args.fps)
        size_mb = path.stat().st_size / 1e6
        bvh = read_bvh(path)  # warm-up, and the shape to report
        median = statistics.median(time_parse(path, args.repeats))
    rate = size_mb / median
    verdict = "PASS" if rate >= TARGET_MB_S else "FAIL"
    print(f"file: {path} ({'given' if args.bvh else 'synthetic'})")
    print(f"size: {size_mb:.2f} MB, motion {bvh.motion.shape[0]} x {bvh.motion.shape[1]}")
    print(f"median parse time over {args.repeats}: {median * 1e3:.1f} ms")
    print(f"throughput: {rate:.1f} MB/s (target >= {TARGET_MB_S:.0f} MB/s): {verdict}")
    return 0
