"""``train.text_dropout``: windows see the "no transcript" input at the configured rate."""

from __future__ import annotations

import pytest
import torch
from tiny import TINY_DENOISER

from adm.diffusion import make_diffusion
from adm.errors import ConfigError
from adm.models import build_denoiser
from adm.training.config import TrainConfig
from adm.training.dataset import Batch
from adm.training.distributed import DistContext
from adm.training.step import Trainer
from adm.weighting import build_weighting

B, W, S = 64, 12, 4


def _trainer(rate: float) -> tuple[Trainer, list[torch.Tensor]]:
    torch.manual_seed(0)
    sizes = dict(TINY_DENOISER)
    net = build_denoiser(
        "adm", {**sizes, "window": W, "seed_frames": S, "audio_dim": 6, "text_dim": 5}
    )
    seen: list[torch.Tensor] = []
    forward = net.forward

    def spy(x_t, t, cond):  # what the network is given
        seen.append(cond["text"].detach().clone())
        return forward(x_t, t, cond)

    net.forward = spy
    cfg = TrainConfig(batch=B, window=W, seed_frames=S, text_dropout=rate, lr=1e-4)
    trainer = Trainer(
        net, build_weighting("uncertainty", net.config.tasks), make_diffusion("cosine", 20, "x0"),
        cfg, DistContext(),
    )  # fmt: skip
    return trainer, seen


def _batch(net_config) -> Batch:
    g = torch.Generator().manual_seed(1)
    x0 = torch.randn(B, W, net_config.x_dim, generator=g)
    cond = {
        "audio": torch.randn(B, W, net_config.audio_dim, generator=g),
        # every frame of every window non-zero: a zero window can only come from the dropout
        "text": torch.rand(B, W, net_config.text_dim, generator=g) + 0.5,
        "speaker": torch.zeros(B, dtype=torch.long),
        "seed": x0[:, :S].clone(),
        "mask": torch.ones(B, W, dtype=torch.bool),
    }
    return Batch(x0, cond)


@pytest.mark.parametrize("rate", [0.0, 0.5, 1.0])
def test_text_is_dropped_per_window_at_the_rate(rate):
    trainer, seen = _trainer(rate)
    batch = _batch(trainer.denoiser.config)
    for _ in range(4):
        trainer.train_step(batch)
    text = torch.stack(seen)  # [steps, B, W, Dt]
    dropped = (text == 0).all(dim=(2, 3))
    kept = (text == batch.cond["text"]).all(dim=(2, 3))
    assert (dropped | kept).all()  # whole windows, nothing in between
    share = dropped.float().mean().item()
    if rate in (0.0, 1.0):
        assert share == rate
    else:  # 256 Bernoulli(0.5) draws: 5 standard deviations is 0.156
        assert abs(share - rate) < 5 * (rate * (1 - rate) / dropped.numel()) ** 0.5
    assert batch.cond["text"].min() >= 0.5  # the caller's batch is left as it was


def test_text_dropout_outside_0_1_is_refused():
    with pytest.raises(ConfigError, match="train.text_dropout"):
        TrainConfig(text_dropout=1.5)
