"""The tiny denoiser and training run that the model, sampling and training tests share.

Every block of the denoiser is present (local attention, two heads, task decoders); the sizes
are small enough to train a few steps on one CPU thread in well under a second.
"""

from __future__ import annotations

#: The tiny denoiser's architecture; tests add the feature widths, speakers and window.
TINY_DENOISER = {
    "latent": 32,
    "cond_dim": 8,
    "id_dim": 32,
    "time_dim": 32,
    "local_window": 5,
    "local_heads": 4,
    "layers": 1,
    "heads": 2,
    "ff": 64,
    "decoder_hidden": 16,
}


def tiny_run(train=None, model=None, variant=None, steps: int = 50) -> dict:
    """A complete training ``--config`` object for a tiny, fast run of the tiny denoiser."""
    base = {
        "batch": 4,
        "iterations": 6,
        "lr": 1e-3,
        "window": 40,
        "seed_frames": 10,
        "window_stride": 10,
        "log_every": 2,
        "checkpoint_every": 3,
        "ema_decay": 0.99,
    }
    return {
        "model": {"name": "adm", **TINY_DENOISER, **(model or {})},
        "diffusion": {"schedule": "cosine", "steps": steps, "prediction": "x0"},
        "train": {**base, **(train or {})},
        "variant": variant or {"name": "full", "weighting": {"name": "uncertainty"}},
    }
