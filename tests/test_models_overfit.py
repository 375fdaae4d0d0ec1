"""The tiny denoiser can fit one batch: x0 regression with a Huber loss drops at least 10x."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from adm.models import build_denoiser


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny tensors run fastest on one intra-op thread; more threads stall on busy cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_tiny_model_overfits_one_batch():
    torch.manual_seed(0)
    model = build_denoiser(
        "adm",
        {
            "audio_dim": 6,
            "text_dim": 4,
            "num_speakers": 2,
            "seed_frames": 5,
            "latent": 64,
            "cond_dim": 8,
            "id_dim": 64,
            "time_dim": 64,
            "local_window": 5,
            "local_heads": 4,
            "layers": 2,
            "heads": 2,
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
