"""The tiny denoiser can fit one batch: x0 regression with a Huber loss drops at least 10x."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from tiny import TINY_DENOISER

from adm.models import build_denoiser

pytestmark = pytest.mark.usefixtures("one_thread")


def test_tiny_model_overfits_one_batch():
    torch.manual_seed(0)
    model = build_denoiser(
        "adm",
        {
            **TINY_DENOISER,
            "audio_dim": 6,
            "text_dim": 4,
            "num_speakers": 2,
            "seed_frames": 5,
            # Twice the tiny widths and depth: the capacity to memorise one batch.
            "latent": 64,
            "id_dim": 64,
            "time_dim": 64,
            "layers": 2,
            "ff": 128,
            "decoder_hidden": 128,
            "dropout": 0.0,
            "cond_drop_prob": 0.0,
        },
    ).train()
    b, t = 4, 20
    x0 = torch.randn(b, t, model.x_dim)
    x_t = torch.randn(b, t, model.x_dim)
    steps = torch.full((b,), 500)
    cond = {
        "audio": torch.randn(b, t, 6),
        "text": torch.randn(b, t, 4),
        "speaker": torch.tensor([0, 1, 0, 1]),
        "seed": x0[:, :5],
    }
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(300):
        loss = F.huber_loss(model(x_t, steps, cond), x0)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    print(f"overfit: loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    assert losses[-1] < losses[0] / 10
