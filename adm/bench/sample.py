"""Benchmark: sampling speed as a real-time factor, DDPM-1000 against DDIM-50.

``python -m adm.bench sample [--seconds 20] [--sampler both] [--size paper|tiny]
[--ddpm-steps 1000] [--ddim-steps 50] [--measure-steps N] [--clips 1]`` builds the denoiser at
PAPER size (the :class:`adm.models.ADMConfig` defaults: latent 384, 8 layers, audio 1133, text
301) with random weights, gives it random conditions for ``--clips`` clips of ``--seconds``
seconds at 30 fps, and generates them exactly as ``adm sample`` does (150-frame
windows seeded and crossfaded, batched across clips, per-clip noise), on CUDA when present,
else the CPU.

The real-time factor is seconds of 30-fps motion generated per second of compute (above 1 is
faster than real time). Every step of a chain costs one network call on the same tensors, so a
chain too long to run here can be timed on a subset: ``--measure-steps m`` runs m evenly spaced
steps of the N-step chain and scales the time by N / m (the output says so). On the CPU the
DDPM chain is measured on 20 steps unless told otherwise.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import torch

from adm.diffusion import make_diffusion
from adm.models import build_denoiser
from adm.sampling import ClipInputs, SampleConfig, generate, pick_device, plan_windows

FPS = 30
CPU_DDPM_MEASURE = 20
TINY = {
    "latent": 64, "cond_dim": 32, "id_dim": 64, "time_dim": 64, "local_heads": 4, "heads": 4,
    "ff": 128, "layers": 2, "decoder_hidden": 0,
}  # fmt: skip


@dataclass
class Timing:
    sampler: str
    steps: int
    measured: int
    seconds: float  # compute time for the whole chain (extrapolated when measured < steps)

    @property
    def extrapolated(self) -> bool:
        return self.measured < self.steps


def random_clips(model_config, clips: int, frames: int, seed: int) -> list[ClipInputs]:
    """``clips`` clips of random normalised conditions and seeds (what the model sees)."""
    g = torch.Generator().manual_seed(seed)
    c = model_config
    out = []
    for n in range(clips):
        audio = torch.randn(frames, c.audio_dim, generator=g) if c.audio_dim else None
        text = torch.randn(frames, c.text_dim, generator=g) if c.text_dim else None
        seed_motion = torch.randn(c.seed_frames, c.x_dim, generator=g)
        out.append(ClipInputs(f"bench_{n}", frames, seed_motion, n % c.num_speakers, audio, text))
    return out


def time_sampler(
    model, clips, sampler: str, steps: int, measured: int, batch: int, device, chain: int = 1000
) -> Timing:
    """Generate ``clips`` with ``measured`` evenly spaced steps of a ``steps``-step sampler
    over a ``chain``-step training chain (DDPM: ``steps == chain``)."""
    if sampler == "ddim" and measured == steps:
        diffusion = make_diffusion("cosine", chain, "x0", respacing=f"ddim{steps}")
    else:
        diffusion = make_diffusion("cosine", chain, "x0", respacing=str(measured))
    config = SampleConfig(sampler=sampler, steps=steps, batch=batch)
    start = time.perf_counter()
    generate(model, diffusion, clips, config, seed=0, device=device)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    return Timing(sampler, steps, measured, elapsed * steps / measured)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m adm.bench sample", description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each clip")
    parser.add_argument("--clips", type=int, default=1, help="clips generated together")
    parser.add_argument("--batch", type=int, default=16, help="windows per network call")
    parser.add_argument("--sampler", choices=["both", "ddpm", "ddim"], default="both")
    parser.add_argument("--size", choices=["paper", "tiny"], default="paper")
    parser.add_argument("--ddpm-steps", type=int, default=1000, help="DDPM chain length")
    parser.add_argument("--ddim-steps", type=int, default=50, help="DDIM steps")
    parser.add_argument(
        "--measure-steps",
        type=int,
        help="steps actually run per chain, time scaled to the full chain "
        f"(default: all on CUDA; {CPU_DDPM_MEASURE} for DDPM on the CPU)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of weights and conditions")
    parser.add_argument("--threads", type=int, help="CPU threads for torch (default: its own)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device()
    torch.manual_seed(args.seed)
    model = build_denoiser("adm", {} if args.size == "paper" else dict(TINY)).to(device).eval()
    c = model.config
    frames = int(round(args.seconds * FPS))
    clips = random_clips(c, args.clips, frames, args.seed)
    windows = len(plan_windows(frames, c.window, c.seed_frames))
    calls = windows * -(-args.clips // args.batch)  # network calls per chain step
    params = sum(p.numel() for p in model.parameters())
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(
        f"device {name} ({torch.get_num_threads()} CPU threads); {args.size} model, "
        f"{params / 1e6:.2f} M parameters, window {c.window}, seed {c.seed_frames}"
    )
    print(
        f"{args.clips} clip(s) of {args.seconds:g} s = {frames} frames at {FPS} fps -> "
        f"{windows} window(s) per clip, batch {args.batch}"
    )
    # Warm-up: first calls pay for lazy initialisation and kernel selection.
    time_sampler(model, clips[:1], "ddim", 1, 1, args.batch, device)

    plans = []
    if args.sampler in ("both", "ddpm"):
        default = CPU_DDPM_MEASURE if device.type == "cpu" else args.ddpm_steps
        measured = min(args.measure_steps or default, args.ddpm_steps)
        plans.append(("ddpm", args.ddpm_steps, measured, args.ddpm_steps))
    if args.sampler in ("both", "ddim"):
        measured = min(args.measure_steps or args.ddim_steps, args.ddim_steps)
        plans.append(("ddim", args.ddim_steps, measured, 1000))
    motion = args.clips * frames / FPS
    print(
        f"{'sampler':<8} {'steps':>6} {'measured':>9} {'compute s':>10} {'ms/call':>8} {'RTF':>8}"
    )
    for sampler, steps, measured, chain in plans:
        t = time_sampler(model, clips, sampler, steps, measured, args.batch, device, chain)
        per_call = 1000.0 * t.seconds / (steps * calls)
        note = f"  (timed {measured} of {steps} steps, scaled by {steps / measured:g})"
        print(
            f"{sampler:<8} {steps:>6} {measured:>9} {t.seconds:>10.2f} {per_call:>8.2f} "
            f"{motion / t.seconds:>8.3f}" + (note if t.extrapolated else "")
        )
    print(
        "RTF = seconds of 30-fps motion generated per second of compute (> 1: faster than real "
        f"time); ms/call = compute per network call ({calls} per step)"
    )
    return 0
