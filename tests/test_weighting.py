"""Task-loss weighting: fixed weights and Kendall et al. (2018) uncertainty weighting."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
import torch
import yaml
from tolerance import ops_tol

from adm.errors import ConfigError
from adm.experiment.config import Experiment
from adm.experiment.stages import train_settings
from adm.training.config import TrainConfig
from adm.training.step import build_optimizer
from adm.weighting import FixedWeighting, UncertaintyWeighting, build_weighting


def losses(g: float, f: float) -> dict[str, torch.Tensor]:
    return {"gesture": torch.tensor(g), "face": torch.tensor(f)}


def f32(ops: int, magnitude: float) -> float:
    """Rounding bound of ``ops`` float32 operations (exp and log count as one) on values up
    to ``magnitude``; the weighting computes in float32."""
    return ops_tol(ops, magnitude)


def test_uncertainty_loss_equals_the_formula():
    uw = UncertaintyWeighting(["gesture", "face"], init_log_var={"gesture": 0.3, "face": -0.7})
    total = uw(losses(2.0, 0.5))
    expected = 0.5 * math.exp(-0.3) * 2.0 + 0.5 * 0.3 + 0.5 * math.exp(0.7) * 0.5 + 0.5 * -0.7
    # Per task: exp, two products, a sum, a product by 0.5; then the sum over tasks.
    terms = 0.5 * math.exp(-0.3) * 2.0 + 0.15 + 0.5 * math.exp(0.7) * 0.5 + 0.35
    assert total.item() == pytest.approx(expected, abs=f32(12, terms))
    # Same value in the sigma form of method.md: L/(2 sigma^2) + log sigma.
    sg, sf = math.exp(0.15), math.exp(-0.35)
    sigma_form = 2.0 / (2 * sg**2) + 0.5 / (2 * sf**2) + math.log(sg) + math.log(sf)
    assert total.item() == pytest.approx(sigma_form, abs=f32(12, terms))


def test_uncertainty_starts_equal_and_reports_sigmas():
    uw = build_weighting("uncertainty", ["gesture", "face"])
    assert uw.weights() == {"gesture": 0.5, "face": 0.5}
    assert uw.sigmas() == {"gesture": 1.0, "face": 1.0}
    assert uw.log_values() == {
        "sigma_gesture": 1.0,
        "weight_gesture": 0.5,
        "sigma_face": 1.0,
        "weight_face": 0.5,
    }


def test_weights_are_normalised_inverse_variances():
    # sigma_g^2 = 1, sigma_f^2 = 3 -> 1/(2 sigma^2) = 1/2, 1/6 -> weights 3/4, 1/4.
    uw = UncertaintyWeighting(
        ["gesture", "face"], init_log_var={"gesture": 0.0, "face": math.log(3)}
    )
    w = uw.weights()
    # exp, 1/(2 x), the sum over tasks and the division: 5 roundings of values <= 1.
    assert w["gesture"] == pytest.approx(0.75, abs=f32(5, 1.0))
    assert w["face"] == pytest.approx(0.25, abs=f32(5, 1.0))
    assert sum(w.values()) == pytest.approx(1.0, abs=f32(11, 1.0))
    assert uw.sigmas()["face"] == pytest.approx(math.sqrt(3), abs=f32(3, math.sqrt(3)))


def test_gradients_reach_the_log_variances():
    uw = UncertaintyWeighting(["gesture", "face"])
    net_out = torch.tensor(3.0, requires_grad=True)
    uw({"gesture": net_out, "face": torch.tensor(1.0)}).backward()
    # d/ds (0.5 e^-s L + 0.5 s) at s = 0 is 0.5 - 0.5 L.
    # Backward of 0.5 e^-s L + 0.5 s: a few float32 products of values <= 1.5.
    assert uw.log_var["gesture"].grad.item() == pytest.approx(-1.0, abs=f32(4, 1.5))
    assert uw.log_var["face"].grad.item() == pytest.approx(0.0, abs=f32(4, 0.5))
    # the task loss is scaled by 1/(2 sigma^2)
    assert net_out.grad.item() == pytest.approx(0.5, abs=f32(3, 0.5))
    assert {n for n, _ in uw.named_parameters()} == {"log_var.gesture", "log_var.face"}
    assert set(uw.state_dict()) == {"log_var.gesture", "log_var.face"}


def test_optimising_constant_losses_reaches_sigma_squared_equal_loss():
    # The minimum over s of 0.5 e^-s L + 0.5 s is at s = log L, so weights become prop. to 1/L.
    uw = UncertaintyWeighting(["gesture", "face"])
    opt = torch.optim.Adam(uw.parameters(), lr=0.05)
    for _ in range(600):
        opt.zero_grad()
        uw(losses(2.0, 0.5)).backward()
        opt.step()
    assert uw.log_var["gesture"].item() == pytest.approx(math.log(2.0), abs=1e-3)
    assert uw.log_var["face"].item() == pytest.approx(math.log(0.5), abs=1e-3)
    assert uw.weights()["gesture"] == pytest.approx(0.2, abs=1e-3)


def test_fixed_weighting_has_no_parameters_and_does_not_move():
    fw = build_weighting("fixed", ["gesture", "face"])
    assert list(fw.parameters()) == []
    assert fw(losses(2.0, 0.5)).item() == pytest.approx(2.5, abs=f32(3, 2.5))
    assert fw.weights() == {"gesture": 0.5, "face": 0.5}
    dummy = torch.nn.Parameter(torch.tensor(1.0))
    opt = torch.optim.AdamW([dummy, *fw.parameters()], lr=0.1)
    opt.zero_grad()
    fw({"gesture": dummy * 2.0, "face": dummy}).backward()
    opt.step()
    assert fw.weights() == {"gesture": 0.5, "face": 0.5}
    assert fw.log_values()["sigma_face"] == pytest.approx(math.sqrt(0.5), abs=f32(3, 1.0))


def test_fixed_weights_single_task_and_unequal():
    a2e = FixedWeighting({"face": 1.0})
    assert a2e({"face": torch.tensor(0.25)}).item() == pytest.approx(0.25, abs=f32(1, 0.25))
    sigma = pytest.approx(math.sqrt(0.5), abs=f32(3, 1.0))
    assert a2e.log_values() == {"sigma_face": sigma, "weight_face": 1.0}
    fw = FixedWeighting({"gesture": 3.0, "face": 1.0})
    assert fw(losses(1.0, 2.0)).item() == pytest.approx(5.0, abs=f32(3, 5.0))
    assert fw.weights() == {"gesture": 0.75, "face": 0.25}


def test_bad_use_is_refused():
    with pytest.raises(ValueError, match="face"):
        UncertaintyWeighting(["gesture", "face"])({"gesture": torch.tensor(1.0)})
    with pytest.raises(ConfigError, match="unknown name"):
        build_weighting("gradnorm", ["gesture"])
    with pytest.raises(ConfigError, match="init_log_vr"):
        build_weighting("uncertainty", ["gesture"], init_log_vr=0.0)
    with pytest.raises(ConfigError, match="weights"):
        build_weighting("fixed", ["gesture", "face"], weights={"gesture": 1.0})
    with pytest.raises(ConfigError, match="face"):
        FixedWeighting({"gesture": 1.0, "face": -1.0})


# --- the weighting adapts within a run --------------------------------------------------------

CONFIG_YAML = Path(__file__).resolve().parents[1] / "config.yaml"


def toy_two_tasks(seed: int = 0):
    """Two linear regression tasks whose loss floors are their noise variances (0.04, 0.01):
    the task losses a network can reach are known."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2048, 6, generator=g)
    y = {
        "gesture": x @ torch.randn(6, 3, generator=g) + 0.2 * torch.randn(2048, 3, generator=g),
        "face": x @ torch.randn(6, 3, generator=g) + 0.1 * torch.randn(2048, 3, generator=g),
    }
    return x, y


def train_toy(cfg, steps: int) -> tuple[UncertaintyWeighting, dict[str, float]]:
    """The toy's two heads and UWP trained by the trainer's own optimiser (full batch, so the
    task losses are exact); returns the weighting and the final task losses."""
    x, y = toy_two_tasks()
    torch.manual_seed(0)
    heads = torch.nn.ModuleDict({t: torch.nn.Linear(6, 3) for t in y})
    uw = UncertaintyWeighting(["gesture", "face"])
    opt = build_optimizer(heads, uw, cfg)
    for _ in range(steps):
        task = {t: ((heads[t](x) - y[t]) ** 2).mean() for t in y}
        opt.zero_grad()
        uw(task).backward()
        opt.step()
    return uw, {t: float(v.detach()) for t, v in task.items()}


def bundled_train_config() -> TrainConfig:
    """The optimiser settings config.yaml gives the full variant (bundled scale), as the rule
    passes them to ``adm train``."""
    experiment = Experiment.from_config(yaml.safe_load(CONFIG_YAML.read_text()))
    train = train_settings(experiment, "full")["train"]
    keys = ("lr", "weighting_lr", "iterations", "batch")
    return TrainConfig(**{k: train[k] for k in keys})


def test_bundled_weighting_settles_at_the_inverse_loss_ratio():
    cfg = bundled_train_config()
    uw, final = train_toy(cfg, cfg.iterations)
    inverse = {t: 1.0 / final[t] for t in final}
    expected = {t: v / sum(inverse.values()) for t, v in inverse.items()}
    weights = uw.weights()
    assert final["gesture"] > 2 * final["face"]  # the tasks differ: weights must move
    for task in expected:
        assert weights[task] == pytest.approx(expected[task], rel=0.02), (weights, expected)


def test_at_the_networks_rate_the_weights_do_not_move():
    """What the separate rate fixes: with one rate for everything (1e-3) the log-variances
    move together by ~lr per step and the weights stay near 1:1 through the same run."""
    cfg = dataclasses.replace(bundled_train_config(), weighting_lr=None)
    uw, final = train_toy(cfg, cfg.iterations)
    assert uw.weights()["gesture"] == pytest.approx(0.5, abs=0.1)
    assert final["gesture"] / final["face"] > 2


def test_the_optimiser_gives_the_weighting_its_own_group():
    net = torch.nn.Linear(3, 3)
    uw = UncertaintyWeighting(["gesture", "face"])
    opt = build_optimizer(net, uw, TrainConfig(lr=1e-3, weighting_lr=0.05, weight_decay=0.1))
    net_group, w_group = opt.param_groups
    assert net_group["lr"] == 1e-3 and net_group["weight_decay"] == 0.1
    assert w_group["lr"] == 0.05 and w_group["weight_decay"] == 0.0
    assert {id(p) for p in w_group["params"]} == {id(p) for p in uw.parameters()}
    # Unset: the network's rate (the paper's one optimiser); a fixed weighting has no group.
    assert build_optimizer(net, uw, TrainConfig(lr=1e-3)).param_groups[1]["lr"] == 1e-3
    fixed = build_weighting("fixed", ["gesture", "face"])
    assert len(build_optimizer(net, fixed, TrainConfig()).param_groups) == 1
    with pytest.raises(ConfigError, match="weighting_lr"):
        TrainConfig(weighting_lr=0.0)


def test_the_bundled_preset_gives_the_weighting_its_rate_and_the_paper_keeps_one_rate():
    config = yaml.safe_load(CONFIG_YAML.read_text())
    assert bundled_train_config().weighting_lr == 0.05
    paper = train_settings(Experiment.from_config({**config, "scale": "paper"}), "full")
    assert "weighting_lr" not in paper["train"]  # unset: the trainer uses train.lr
    assert TrainConfig(**paper["train"]).weighting_lr is None
    own = train_settings(Experiment.from_config({**config, "weighting": {"lr": 0.2}}), "full")
    assert own["train"]["weighting_lr"] == 0.2  # the user's key wins over the preset
