"""Objectives: registry, strict settings, ADM's loss unchanged, and the trainer's two paths."""

from __future__ import annotations

import pytest
import torch
from test_training_dataset import write_corpus
from tiny import tiny_run

from adm.diffusion import make_diffusion
from adm.errors import ConfigError
from adm.training.config import parse_run_config
from adm.training.loop import train
from adm.training.losses import task_losses
from adm.training.objectives import LossInputs, build_objective, task_totals

pytestmark = pytest.mark.usefixtures("one_thread")

SLICES = {"gesture": slice(0, 5), "face": slice(5, 8)}


def _inputs(prediction="x0"):
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(3, 12, 8, generator=g)
    eps = torch.randn(3, 12, 8, generator=g)
    pred = torch.randn(3, 12, 8, generator=g) * 2
    mask = torch.ones(3, 12, dtype=torch.bool)
    mask[1, 9:] = False
    diffusion = make_diffusion("cosine", 100, prediction)
    t = torch.tensor([3, 50, 99])
    return LossInputs(
        pred=pred, x0=x0, mask=mask, task_slices=SLICES, valid_frames=mask.sum(),
        x_t=diffusion.q_sample(x0, t, eps), t=t, eps=eps, diffusion=diffusion,
    )  # fmt: skip


def test_task_huber_is_exactly_adms_per_task_loss():
    inputs = _inputs()
    totals = task_totals(build_objective({"name": "task_huber", "delta": 1.0})(inputs))
    expected = task_losses(inputs.pred, inputs.x0, inputs.mask, SLICES, 1.0)
    for task in SLICES:
        assert torch.equal(totals[task], expected[task])


def test_mse_targets_eps_for_an_eps_chain():
    inputs = _inputs("eps")
    terms = build_objective({"name": "mse"})(inputs)
    m = inputs.mask[..., None]
    for task, sl in SLICES.items():
        err = ((inputs.pred[..., sl] - inputs.eps[..., sl]) ** 2 * m).sum()
        expected = err / (inputs.mask.sum() * (sl.stop - sl.start))
        assert torch.allclose(terms[task]["mse"], expected, rtol=1e-6)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"name": "nope"}, "objective.name: unknown objective 'nope'"),
        ({"name": "task_huber", "delt": 1.0}, "delt"),
        ({"name": "task_huber", "delta": 0.0}, "objective.delta"),
    ],
)
def test_bad_objective_settings_are_named(settings, message):
    with pytest.raises(ConfigError, match=message):
        build_objective(settings)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("corpus"))


def test_an_objective_that_expects_another_target_is_refused_before_training(corpus, tmp_path):
    config = tiny_run()
    config["objective"] = {"name": "said"}  # eps objective on ADM's x0 chain
    with pytest.raises(ConfigError, match="objective.name: 'said' expects 'eps'"):
        train(corpus, [2, 4], tmp_path / "out", parse_run_config(config))


def test_a_regression_network_trains_through_the_same_loop(corpus, tmp_path):
    """CaMN: no diffusion step is drawn, the loss falls, the checkpoint samples."""
    config = tiny_run(
        train={"iterations": 30, "lr": 3e-3, "seed_frames": 4, "text_dropout": 0.0},
        variant={"name": "camn", "tasks": ["gesture"], "weighting": {"name": "fixed"}},
    )
    config["model"] = {
        "name": "camn", "audio_f": 8, "audio_hidden": 8, "word_f": 8, "text_hidden": 8,
        "text_layers": 1, "hidden": 16, "layers": 1, "dropout": 0.0, "text_dropout": 0.0,
        "face_f": 8, "speaker_f": 4, "emotion_f": 4, "num_speakers": 2,
    }  # fmt: skip
    config["objective"] = {"name": "camn"}
    out = train(corpus, [2, 4], tmp_path / "camn", parse_run_config(config))
    rows = (out / "scalars.csv").read_text().splitlines()
    header = rows[0].split(",")
    loss = [float(r.split(",")[header.index("loss_gesture")]) for r in rows[1:]]
    assert loss[-1] < loss[0]
