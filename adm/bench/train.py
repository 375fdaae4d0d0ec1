"""Training-step throughput: ``python -m adm.bench train [--batch 200] [--window 150]
[--steps 20] [--warmup 3] [--size paper|tiny] [--compile]``.

Times the full training step of :class:`adm.training.step.Trainer` (window gather, forward,
masked Huber loss, uncertainty weighting, backward, gradient clipping, AdamW, EMA) on random
data held where the trainer holds it (GPU memory on CUDA), for the paper-size network
(ADMConfig defaults: latent 384, 8 layers, audio 1133, text 301, 4 speakers) at the paper's
batch 200 of 150-frame windows, bf16 autocast on CUDA. Prints iterations per second, peak memory
(CUDA: ``torch.cuda.max_memory_allocated``; CPU: growth of the process's peak RSS) and the
target of >= 15 it/s on an H100.
"""

from __future__ import annotations

import argparse
import resource
import time

import torch

from adm.diffusion import make_diffusion
from adm.models import build_denoiser
from adm.training.config import TrainConfig
from adm.training.dataset import WindowDataset
from adm.training.distributed import DistContext
from adm.training.sampler import BatchStream, WindowBatchSampler
from adm.training.step import Trainer
from adm.weighting import build_weighting

TARGET_IT_S = 15.0
TINY = {
    "latent": 64,
    "cond_dim": 16,
    "id_dim": 64,
    "time_dim": 64,
    "local_heads": 4,
    "layers": 2,
    "heads": 2,
    "ff": 128,
    "decoder_hidden": 64,
}


def random_windows(
    model_config, batch: int, window: int, stride: int, device: torch.device
) -> WindowDataset:
    """One long random "clip" with ``batch + 1`` windows at ``stride``, on ``device``."""
    frames = batch * stride + window
    g = torch.Generator().manual_seed(0)
    rows = frames + 1  # + the zero padding row
    x = torch.randn(rows, model_config.x_dim, generator=g)
    audio = torch.randn(rows, model_config.audio_dim, generator=g)
    text = torch.randn(rows, model_config.text_dim, generator=g)
    base = torch.arange(0, frames - window + 1, stride)
    valid = torch.full_like(base, window)
    speaker = base % model_config.num_speakers
    ds = WindowDataset(x, audio, text, base, valid, speaker, window, model_config.seed_frames)
    return ds.to(device)


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adm.bench train", description=__doc__)
    parser.add_argument("--batch", type=int, default=200, help="windows per step (paper: 200)")
    parser.add_argument("--window", type=int, default=150, help="frames per window (paper: 150)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--size", choices=("paper", "tiny"), default="paper")
    parser.add_argument("--compile", action="store_true", help="torch.compile (CUDA only)")
    args = parser.parse_args(argv)
    if args.batch < 1 or args.steps < 1 or args.warmup < 0 or args.window < 2:
        parser.error("--batch, --steps must be >= 1, --warmup >= 0, --window >= 2")

    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    seed_frames = min(30, args.window - 1)
    rss_before = _peak_rss_bytes()
    torch.manual_seed(0)
    overrides = TINY if args.size == "tiny" else {}
    denoiser = build_denoiser(
        "adm", {**overrides, "window": args.window, "seed_frames": seed_frames}
    )
    mc = denoiser.config
    cfg = TrainConfig(
        batch=args.batch, window=args.window, seed_frames=seed_frames, compile=args.compile
    )
    trainer = Trainer(
        denoiser,
        build_weighting("uncertainty", mc.tasks),
        make_diffusion("cosine", 1000, "x0"),
        cfg,
        DistContext(device=device),
    )
    stream = BatchStream(
        random_windows(mc, args.batch, args.window, 10, device),
        WindowBatchSampler(args.batch + 1, args.batch, seed=0),
    )

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    for _ in range(args.warmup):
        trainer.train_step(next(stream))
    sync()
    start = time.perf_counter()
    for _ in range(args.steps):
        trainer.train_step(next(stream))
    sync()
    elapsed = time.perf_counter() - start
    rate = args.steps / elapsed

    params = sum(p.numel() for p in denoiser.parameters())
    if cuda:
        name = torch.cuda.get_device_name(device)
        peak = torch.cuda.max_memory_allocated(device)
        peak_text = f"{peak / 2**30:.2f} GiB (torch.cuda.max_memory_allocated)"
    else:
        name = f"{torch.get_num_threads()} threads"
        peak = _peak_rss_bytes() - rss_before
        peak_text = f"{peak / 2**30:.2f} GiB (growth of peak RSS, ru_maxrss)"
    print(f"device: {device.type} ({name})")
    print(
        f"model: {args.size} ({params / 1e6:.2f} M parameters; latent {mc.latent}, "
        f"{mc.layers} layers, audio {mc.audio_dim}, text {mc.text_dim}), batch {args.batch}, "
        f"window {args.window}, seed {seed_frames}"
    )
    print(
        "step: gather + forward + Huber + uncertainty weighting + backward + clip + AdamW + "
        f"EMA; bf16 autocast {'on' if cuda else 'off (CPU)'}; "
        f"compile {'on' if args.compile and cuda else 'off'}"
    )
    print(
        f"timed: {args.steps} steps after {args.warmup} warm-up: {rate:.2f} it/s "
        f"({1e3 / rate:.1f} ms/step)"
    )
    print(f"peak memory: {peak_text}")
    if not cuda:
        print(f"target: >= {TARGET_IT_S:.0f} it/s on an H100: not measured: no GPU")
    else:
        verdict = "PASS" if rate >= TARGET_IT_S else "FAIL"
        if args.size != "paper" or args.batch != 200 or args.window != 150:
            verdict += " (not the paper setting)"
        print(f"target: >= {TARGET_IT_S:.0f} it/s on an H100 (this GPU: {name}): {verdict}")
    return 0
