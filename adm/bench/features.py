"""Speed of the audio features: ``python -m adm.bench features``.

Reports real-time factors (seconds of audio per second of compute) on synthetic speech-like
audio (voiced glides, noise bursts, pauses):

- the acoustic blocks (MFCC, log-mel, prosody, onset) on the CPU with ``--threads`` threads
  (target: at least 50x real time on one thread, so a 10-minute take costs seconds);
- a WavLM-Large-sized model with random weights (hidden 1024, 24 layers, 16 heads, feed-forward
  4096; the speed does not depend on the weights) through the same chunked runner as the
  features, on the device at hand: CUDA in float16 when present (target: at least 300x on an
  H100), else the CPU in float32 (no target). ``--wavlm-size tiny`` runs the tests' tiny model.

    python -m adm.bench features --seconds 60 --threads 1 --wavlm-size large
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable

import numpy as np

ACOUSTIC_TARGET = 50.0
GPU_WAVLM_TARGET = 300.0
SR, FPS = 16000, 30


def synthetic_speech(seconds: float, seed: int = 0) -> np.ndarray:
    """``[N]`` float32: 0.3 s voiced glides (80-250 Hz), 0.1 s noise bursts, 0.2 s pauses."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    out = np.zeros(n, dtype=np.float32)
    pos = 0
    while pos < n:
        f0 = rng.uniform(80, 250)
        voiced = int(0.3 * SR)
        t = np.arange(voiced) / SR
        phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.3 * t)) / SR
        seg = sum(np.sin(k * phase) / k for k in range(1, 6)) * np.hanning(voiced) * 0.2
        burst = rng.standard_normal(int(0.1 * SR)) * 0.05
        piece = np.concatenate([seg, burst, np.zeros(int(0.2 * SR))]).astype(np.float32)
        take = min(len(piece), n - pos)
        out[pos : pos + take] = piece[:take]
        pos += take
    return out


def best_time(fn: Callable[[], object], repeats: int) -> float:
    """Shortest wall time of ``repeats`` calls (the least disturbed by other processes)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def acoustic_rows(audio: np.ndarray, repeats: int) -> list[tuple]:
    from adm.features import acoustic, onset, prosody
    from adm.features.audio import compute_audio_features
    from adm.features.config import AudioFeatureConfig

    config = AudioFeatureConfig()
    num_frames = int(len(audio) / SR * FPS)
    grid = 1 + len(audio) // config.hop_length
    compute_audio_features(audio[: 2 * SR], 2 * FPS, FPS, config)  # warm up (numba, caches)

    def spectral():
        spec = acoustic.power_spectrogram(audio, config)
        return acoustic.mfcc(acoustic.log_mel(spec, config), config)

    mel_db = acoustic.log_mel(acoustic.power_spectrogram(audio, config), config)
    parts = [
        ("acoustic: STFT + log-mel + MFCC", spectral, None),
        ("acoustic: prosody (YIN pitch)", lambda: prosody.prosody(audio, config, grid), None),
        ("acoustic: onset detection", lambda: onset.onset_times(mel_db, config), None),
        (
            "acoustic: all blocks, aligned",
            lambda: compute_audio_features(audio, num_frames, FPS, config),
            ACOUSTIC_TARGET,
        ),
    ]
    seconds = len(audio) / SR
    return [(name, "cpu", best_time(fn, repeats), seconds, target) for name, fn, target in parts]


def wavlm_config(size: str):
    from transformers import WavLMConfig

    if size == "large":
        # microsoft/wavlm-large's architecture.
        return WavLMConfig(
            hidden_size=1024,
            num_hidden_layers=24,
            num_attention_heads=16,
            intermediate_size=4096,
            conv_bias=True,
            feat_extract_norm="layer",
            do_stable_layer_norm=True,
        )
    return WavLMConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=(16,) * 7,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
    )


def wavlm_row(audio: np.ndarray, size: str, repeats: int) -> tuple:
    import torch
    from transformers import WavLMModel

    from adm.features.wavlm import WavLMFeatures

    torch.manual_seed(0)
    runner = WavLMFeatures(WavLMModel(wavlm_config(size)))
    runner(audio[: 2 * SR])  # warm up (kernels, allocator)
    elapsed = best_time(lambda: runner(audio), repeats)
    device = f"{runner.device.type}/{str(runner.dtype).replace('torch.', '')}"
    target = GPU_WAVLM_TARGET if runner.device.type == "cuda" and size == "large" else None
    return (f"wavlm-{size} (random weights)", device, elapsed, len(audio) / SR, target)


def _blas_threads(limit: int):
    """Limit BLAS/OpenMP pools (the mel filterbank is a matrix product) when threadpoolctl is
    installed (it comes with librosa's scikit-learn); otherwise leave them as they are."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=limit)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m adm.bench features", description=__doc__)
    p.add_argument("--seconds", type=float, default=60.0, help="audio length (default 60)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    p.add_argument("--wavlm-size", choices=("large", "tiny", "none"), default="large")
    p.add_argument(
        "--wavlm-seconds",
        type=float,
        default=None,
        help="audio length for WavLM (default: --seconds)",
    )
    p.add_argument("--repeats", type=int, default=3, help="timed runs; the best is reported")
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    audio = synthetic_speech(args.seconds)
    with _blas_threads(args.threads):
        rows = acoustic_rows(audio, args.repeats)
        if args.wavlm_size != "none":
            wav_seconds = args.wavlm_seconds or args.seconds
            rows.append(wavlm_row(synthetic_speech(wav_seconds, 1), args.wavlm_size, args.repeats))
    gpu = torch.cuda.is_available()

    print(
        f"features benchmark: {args.seconds:g} s of synthetic speech at {SR} Hz, "
        f"{args.threads} CPU thread(s), best of {args.repeats}"
    )
    if gpu:
        print(f"GPU: {torch.cuda.get_device_name(0)}")
    print(
        f"{'what':34} {'device':12} {'audio s':>8} {'compute s':>10} {'x real time':>12}  "
        f"{'target':>8}  result"
    )
    failed = False
    for name, device, elapsed, seconds, target in rows:
        rtf = seconds / elapsed
        verdict = "-" if target is None else ("PASS" if rtf >= target else "FAIL")
        failed |= verdict == "FAIL"
        goal = "-" if target is None else f">={target:g}x"
        print(
            f"{name:34} {device:12} {seconds:8.1f} {elapsed:10.4f} {rtf:11.1f}x  {goal:>8}  "
            f"{verdict}"
        )
    if not gpu:
        print(
            f"{'wavlm-large on GPU (fp16)':34} {'-':12} {'-':>8} {'-':>10} {'-':>12}  "
            f"{'>=' + format(GPU_WAVLM_TARGET, 'g') + 'x':>8}  not measured: no GPU"
        )
    return 1 if failed else 0
