"""``python -m adm.generation.bench``: latency and real-time factor of streaming generation.

    python -m adm.generation.bench --checkpoint results/train/full/ema.safetensors \\
        --audio ../shared/fixtures/beat/2_scott_0_3_3.wav --speaker 2 --chunk-ms 100

Pushes the recording into :class:`~adm.generation.stream.MotionStream` in chunks of
``--chunk-ms`` (as a microphone would deliver it, but without waiting: the compute is measured,
not the wall clock of a live talk) and reports, per window, the compute time (conditions and
the reverse chain; the first window, which also loads librosa's compiled kernels, apart), and:

- latency of a frame = the audio that must arrive after it before its window can run
  (``S + R`` to ``W + R`` frames: the frame's window end plus the right context) plus the
  window's compute; the worst case is reported;
- real-time factor = compute time / audio duration (below 1: faster than real time);
- peak resident memory of the process.

Runs on the GPU when torch sees one, else on the CPU, and says which.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

from adm.commandline import positive_int, speaker_id
from adm.config import from_dict, parse_json_arg
from adm.features.config import AudioFeatureConfig
from adm.generation.audio_input import read_recording
from adm.generation.stream import MotionStream
from adm.sampling import SampleConfig, pick_device
from adm.threads import set_threads
from adm.training.checkpoint import load_checkpoint


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m adm.generation.bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--checkpoint", required=True, type=Path)
    p.add_argument("--audio", required=True, type=Path)
    p.add_argument("--speaker", type=speaker_id, default=2)
    p.add_argument("--chunk-ms", type=positive_int, default=100)
    p.add_argument("--repeat", type=positive_int, default=1, help="play the audio N times")
    p.add_argument("--config", default='{"sampler": "ddim", "steps": 50}')
    p.add_argument("--audio-config", default="{}")
    p.add_argument("--fps", type=positive_int, default=30)
    p.add_argument("--threads", type=positive_int, default=1)
    args = p.parse_args(argv)
    set_threads(args.threads)
    device = pick_device()
    sample = from_dict(SampleConfig, parse_json_arg(args.config), "config")
    audio_config = from_dict(AudioFeatureConfig, parse_json_arg(args.audio_config),
                             "features.audio")  # fmt: skip
    ckpt = load_checkpoint(args.checkpoint, device=device)
    audio = np.tile(read_recording(args.audio, audio_config.sample_rate).samples, args.repeat)
    stream = MotionStream(ckpt, args.speaker, fps=args.fps, seed=0, sample=sample,
                          audio_config=audio_config, device=device)  # fmt: skip
    chunk = audio_config.sample_rate * args.chunk_ms // 1000
    began = time.perf_counter()
    frames = 0
    for start in range(0, len(audio), chunk):
        frames += sum(len(c) for c in stream.push(audio[start : start + chunk]))
    frames += sum(len(c) for c in stream.close())
    total = time.perf_counter() - began
    seconds = len(audio) / audio_config.sample_rate
    # the first window also loads librosa's compiled kernels: reported apart
    first, per_window = stream.window_seconds[0], np.array(stream.window_seconds[1:] or [0.0])
    wait_frames = stream.window + stream.right
    report = {
        "device": str(device)
        + (
            f" ({torch.cuda.get_device_name()})"
            if device.type == "cuda"
            else f" ({args.threads} thread(s))"
        ),  # fmt: skip
        "audio_seconds": round(seconds, 2),
        "frames": frames,
        "windows": len(stream.window_seconds),
        "first_window_s": round(first, 3),
        "sampler": f"{sample.sampler}-{stream.diffusion.num_timesteps}",
        "window_compute_s": {
            "mean": round(float(per_window.mean()), 3),
            "p95": round(float(np.percentile(per_window, 95)), 3),
            "max": round(float(per_window.max()), 3),
        },  # fmt: skip
        "audio_wait_s": round(wait_frames / args.fps, 3),
        "worst_latency_s (after the first window)": round(
            wait_frames / args.fps + float(per_window.max()), 3
        ),
        "real_time_factor": round(total / seconds, 3),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
