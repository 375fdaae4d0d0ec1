"""Masked Huber loss, EMA warm-up, training config parsing, the scalars CSV."""

from __future__ import annotations

import pytest
import torch
from tolerance import ops_tol, sum_tol

from adm.errors import ConfigError
from adm.training.config import parse_run_config, resolve_model_config, resolve_tasks
from adm.training.ema import EMA
from adm.training.losses import masked_huber, task_losses
from adm.training.scalars import COLUMNS, ScalarLog


def test_masked_huber_equals_hand_computation():
    # Errors 0.5 and 2.0 (delta 1): 0.5 * 0.25 = 0.125 and 1 * (2 - 0.5) = 1.5.
    pred = torch.tensor([[[0.5, 2.0], [100.0, -100.0]]])  # [B=1, W=2, D=2]
    target = torch.zeros(1, 2, 2)
    mask = torch.tensor([[True, False]])  # the huge second frame is padding
    # Every value here is a short binary fraction: float32 computes them exactly.
    assert masked_huber(pred, target, mask, delta=1.0).item() == (0.125 + 1.5) / 2
    # delta 3: both errors are in the quadratic zone
    assert masked_huber(pred, target, mask, delta=3.0).item() == (0.125 + 2.0) / 2


def test_task_losses_use_each_tasks_dims():
    pred = torch.zeros(2, 3, 5)
    target = torch.zeros(2, 3, 5)
    target[..., 3:] = 0.5  # only the second task is wrong, by 0.5 everywhere
    mask = torch.ones(2, 3, dtype=torch.bool)
    losses = task_losses(pred, target, mask, {"gesture": slice(0, 3), "face": slice(3, 5)})
    assert losses["gesture"].item() == 0.0
    assert losses["face"].item() == 0.125  # 0.5 * 0.5^2, exact in float32


def test_rank_shares_average_to_the_global_mean():
    g = torch.Generator().manual_seed(0)
    pred, target = torch.randn(4, 6, 3, generator=g), torch.randn(4, 6, 3, generator=g)
    mask = torch.ones(4, 6, dtype=torch.bool)
    mask[0, 2:] = False  # ranks hold different numbers of valid frames
    mask[3, 5:] = False
    full = masked_huber(pred, target, mask)
    valid = mask.sum()
    shares = [masked_huber(pred[r::2], target[r::2], mask[r::2], 1.0, valid, 2.0) for r in (0, 1)]
    # Two float32 sums of the same 72 Huber terms in different groupings (+ 3 more ops).
    terms = float(torch.nn.functional.huber_loss(pred, target, reduction="none").sum())
    tol = 2 * sum_tol(72 + 3, terms / int(valid) / 3)  # the mean over valid frames and 3 dims
    assert ((shares[0] + shares[1]) / 2).item() == pytest.approx(full.item(), abs=tol)


def test_ema_warm_up_and_average():
    model = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.zeros_(model.weight)
    ema = EMA(model, decay=0.9999)
    assert ema.decay_at(0) == pytest.approx(0.1)
    assert ema.decay_at(10**7) == pytest.approx(0.9999)
    with torch.no_grad():
        model.weight.fill_(1.0)
    ema.update(model, 0)  # 0.1 * 0 + 0.9 * 1, in float32: the decay's cast and 3 operations
    assert ema.model.weight.item() == pytest.approx(0.9, abs=ops_tol(4, 1.0))
    ema.update(model, 1)  # d = 2/11
    assert ema.model.weight.item() == pytest.approx(0.9 * 2 / 11 + 9 / 11, abs=ops_tol(8, 1.0))
    assert not ema.model.weight.requires_grad and not ema.model.training


def test_unknown_keys_are_named():
    with pytest.raises(ConfigError, match="train: unknown key 'bacth'"):
        parse_run_config({"train": {"bacth": 3}})
    with pytest.raises(ConfigError, match="config: unknown key 'trian'"):
        parse_run_config({"trian": {}})
    with pytest.raises(ConfigError, match="variant.weighting: unknown key 'sigma'"):
        parse_run_config({"variant": {"weighting": {"sigma": 1}}})
    with pytest.raises(ConfigError, match="seed_frames"):
        parse_run_config({"train": {"window": 20, "seed_frames": 20}})


def test_train_defaults_are_the_papers():
    run = parse_run_config({})
    t = run.train
    assert (t.batch, t.iterations, t.lr, t.window, t.seed_frames) == (200, 180000, 3e-5, 150, 30)
    assert run.variant.weighting.name == "uncertainty" and resolve_tasks(run) == ("gesture", "face")


def test_variant_merges_over_the_model():
    run = parse_run_config(
        {
            "model": {"name": "adm", "latent": 32},
            "variant": {
                "name": "a2e",
                "tasks": ["face"],
                "weighting": {"name": "fixed", "weights": {"face": 1.0}},
            },
        }
    )
    model = resolve_model_config(run, num_speakers=4, audio_dim=109, text_dim=301)
    assert model["tasks"] == ["face"] and model["num_speakers"] == 4 and model["audio_dim"] == 109
    assert run.variant.weighting.kwargs() == {"weights": {"face": 1.0}}
    assert resolve_tasks(run) == ("face",)


def test_model_values_that_contradict_the_data_fail():
    run = parse_run_config({"model": {"audio_dim": 1133}})
    with pytest.raises(ConfigError, match="model.audio_dim.*1133.*109"):
        resolve_model_config(run, num_speakers=4, audio_dim=109, text_dim=301)
    run = parse_run_config({"model": {"seed_frames": 20}, "train": {"seed_frames": 30}})
    with pytest.raises(ConfigError, match="model.seed_frames"):
        resolve_model_config(run, num_speakers=4, audio_dim=109, text_dim=301)


def test_scalars_missing_tasks_are_empty(tmp_path):
    log = ScalarLog()
    log.append(
        {
            "step": 1,
            "loss_total": 0.5,
            "loss_face": 0.5,
            "weight_gesture": 0.0,
            "weight_face": 1.0,
            "sigma_face": 0.70710678,
            "lr": 3e-5,
            "it_per_s": 10.0,
        }
    )
    log.append({"step": 4, "loss_total": 0.25})
    log.write(tmp_path / "s.csv")
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert lines[1] == "1,0.5,,0.5,,0.70710678,0,1,3e-05,10"
    back = ScalarLog.read(tmp_path / "s.csv")
    assert back.rows[0]["loss_gesture"] is None and back.rows[0]["weight_gesture"] == 0
    assert [r["step"] for r in back.until(3).rows] == [1]
    with pytest.raises(KeyError):
        log.append({"step": 5, "loss_mouth": 1.0})
