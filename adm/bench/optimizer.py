"""Benchmark: one Adam step of every trainer's network, per-tensor loop against fused.

``python -m adm.bench optimizer [--config config.yaml] [--steps 50] [--threads 1]`` builds
each distinct network the preset trains (one per model setting: ADM's variants share theirs,
DiffSHEG and DiffSHEG + UWP theirs) with the feature widths the config decides, and the two
metric models at their configured window lengths, gives every parameter a random gradient and
times ``--steps`` optimiser steps of the trainer's optimiser (AdamW; Adam for the motion
autoencoder) twice in the same process: PyTorch's per-tensor loop (``foreach=False``, its CPU
default) and ``fused=True`` (what :mod:`adm.optim` builds). It prints tensors, parameters,
milliseconds per step of each and their ratio (the config's ``scale`` picks the preset; with
WavLM features the audio width takes WavLM-Large's 1024 dims without loading the model).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torch import nn

from adm.config import from_dict
from adm.evaluation.config import FitConfig
from adm.experiment.config import Experiment
from adm.experiment.load import load_experiment
from adm.experiment.stages import train_settings
from adm.features.layout import audio_layout
from adm.metrics.face_vae import FaceVAE
from adm.metrics.motion_autoencoder import MotionAutoencoder
from adm.models import build_denoiser
from adm.training.config import parse_run_config, resolve_model_config

MOTION_DIM, FACE_DIM = 141, 51
WAVLM_LARGE_WIDTH = 1024  # the paper's WavLM-Large hidden size


def trained_networks(experiment: Experiment) -> dict[str, nn.Module]:
    """``{variant: network}``, one per distinct (model name, resolved model settings)."""
    wavlm = WAVLM_LARGE_WIDTH if experiment.audio.uses_wavlm else None
    audio_dim = audio_layout(experiment.audio, wavlm).dim
    out: dict[str, nn.Module] = {}
    seen: set[str] = set()
    for name in experiment.variants:
        run = parse_run_config(train_settings(experiment, name))
        config = resolve_model_config(
            run, len(experiment.speakers), audio_dim, experiment.text_dim()
        )
        key = repr((run.model_name, sorted(config.items())))
        if key not in seen:
            seen.add(key)
            out[name] = build_denoiser(run.model_name, config)
    return out


def metric_networks(experiment: Experiment) -> dict[str, nn.Module]:
    """The FGD motion autoencoder and the face VAE at the configured window lengths."""
    settings = experiment.sections["metric_models"]
    motion, face = (
        from_dict(FitConfig, settings.get(kind) or {}, f"metric_models.{kind}").resolved(kind)
        for kind in ("motion", "face")
    )
    return {
        "metric: motion autoencoder": MotionAutoencoder(
            MOTION_DIM, motion["length"], motion["mlp_negative_slope"]
        ),
        "metric: face VAE": FaceVAE(FACE_DIM, face["length"], face["mlp_negative_slope"]),
    }


def step_seconds(kind: type[torch.optim.Optimizer], params: list, steps: int, **options) -> float:
    """Mean seconds of one ``kind(params, lr=1e-4, **options).step()`` after two untimed ones."""
    opt = kind(params, lr=1e-4, **options)
    for _ in range(2):
        opt.step()
    start = time.perf_counter()
    for _ in range(steps):
        opt.step()
    return (time.perf_counter() - start) / steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adm.bench optimizer", description=__doc__)
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--steps", type=int, default=50, help="timed optimiser steps")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (jobs: 1)")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.threads < 1:
        parser.error("--steps and --threads must be >= 1")
    torch.set_num_threads(args.threads)
    experiment = load_experiment(args.config)
    networks = trained_networks(experiment)
    networks.update(metric_networks(experiment))
    print(f"{'network':<28} {'tensors':>7} {'params':>10} {'loop ms':>8} {'fused ms':>8} ratio")
    for name, net in networks.items():
        params = [p for p in net.parameters() if p.requires_grad]
        generator = torch.Generator().manual_seed(0)
        for p in params:
            p.grad = torch.randn(p.shape, generator=generator)
        kind = torch.optim.Adam if name.startswith("metric: motion") else torch.optim.AdamW
        loop = step_seconds(kind, params, args.steps, foreach=False)
        fused = step_seconds(kind, params, args.steps, fused=True)
        count = sum(p.numel() for p in params)
        print(
            f"{name:<28} {len(params):>7} {count:>10} {loop * 1e3:>8.2f} {fused * 1e3:>8.2f} "
            f"{loop / fused:5.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
