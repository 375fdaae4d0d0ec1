"""``train.gpus``: one process runs ``adm train``, K > 1 run it under ``torchrun`` and the job
declares K GPUs; what the rule runs is what ``adm settings train`` prints. (That K processes
train like one: tests/test_training_ddp.py, started with the same launcher words.)"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_workflow import snakemake

from adm.errors import ConfigError
from adm.experiment.commands import command_line
from adm.experiment.config import Experiment
from adm.experiment.devices import job_gpus
from adm.experiment.launch import train_job_gpus
from adm.experiment.stages import params

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text())
TORCHRUN_2 = "torchrun --standalone --nproc_per_node 2 -m adm train "


def config(gpus: int | None, **train) -> dict:
    out = copy.deepcopy(CONFIG)
    out["train"].pop("gpus", None)
    if gpus is not None:
        out["train"]["gpus"] = gpus
    out["train"].update(train)
    return out


def test_one_gpu_runs_adm_train_alone():
    for gpus in (None, 1):  # unset or 1: today's command and GPU declaration
        ex = Experiment.from_config(config(gpus))
        assert command_line(ex, "train").startswith("adm train --clips-dir results/data/clips ")
        assert train_job_gpus(ex, "full") == job_gpus()


def test_k_gpus_run_the_same_command_under_torchrun_and_declare_k():
    one, two = Experiment.from_config(config(1)), Experiment.from_config(config(2))
    for variant in one.variants:
        line = command_line(two, "train", variant=variant)
        assert line == TORCHRUN_2 + command_line(one, "train", variant=variant).removeprefix(
            "adm train "
        )
        assert train_job_gpus(two, variant) == 2
        # The trainer's settings do not mention it: the weights do not depend on it.
        assert params(two, "train", variant) == params(one, "train", variant)


def test_a_variant_may_train_on_its_own_count():
    cfg = config(1)
    cfg["variants"]["a2g"] = {**cfg["variants"]["a2g"], "train": {"gpus": 4}}
    ex = Experiment.from_config(cfg)
    assert command_line(ex, "train", variant="a2g").startswith(
        "torchrun --standalone --nproc_per_node 4 -m adm train "
    )
    assert command_line(ex, "train", variant="full").startswith("adm train ")


@pytest.mark.parametrize(
    ("gpus", "message"),
    [
        (3, "train.gpus (variant full): train.batch 16 does not split over 3 processes"),
        (0, "train.gpus (variant full): expected a whole number >= 1, got 0"),
        (1.5, "expected a whole number >= 1, got 1.5"),
    ],
)
def test_a_count_the_batch_cannot_split_over_fails_before_any_job(gpus, message):
    with pytest.raises(ConfigError) as err:
        Experiment.from_config(config(gpus))
    assert message in str(err.value)


def test_the_dry_run_runs_torchrun_and_declares_the_gpus(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config(2)))
    target = "results/train/no_uwp/model.safetensors"
    result = snakemake(target, "-n", "-p", "--forceall", "--resources", "gpu=2", "--configfile",
                       str(path))  # fmt: skip
    text = result.stdout + result.stderr
    assert result.returncode == 0, text[-3000:]
    job = re.search(r"rule train:.*?resources: ([^\n]*).*?Shell command: ([^\n]*)", text, re.S)
    assert job, text[-3000:]
    assert "gpu=2" in job.group(1).split(", ")
    shell = job.group(2).split(" > ")[0]
    assert shell.startswith(TORCHRUN_2)
    settings = subprocess.run(
        [sys.executable, "-m", "adm", "settings", "train", "--variant", "no_uwp", "--config",
         str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert settings.returncode == 0, settings.stderr
    assert settings.stdout.strip() == shell
