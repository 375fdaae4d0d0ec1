"""config.yaml -> each stage's settings (adm.experiment), checked once, before any job runs."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from adm import layout
from adm.commands import run
from adm.errors import ConfigError
from adm.experiment import files
from adm.experiment.config import Experiment
from adm.experiment.load import load_experiment
from adm.experiment.stages import params, stage_settings

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text())


def experiment(**sections) -> Experiment:
    config = copy.deepcopy(CONFIG)
    for name, value in sections.items():
        config[name] = value
    return Experiment.from_config(config)


def test_the_preset_gives_values_and_the_users_keys_win():
    settings = stage_settings(experiment(train={**CONFIG["train"], "lr": 5e-4}))
    train = settings["train"]["full"]["train"]
    assert train["lr"] == 5e-4  # the user's key over the bundled preset's 1e-3
    assert train["iterations"] == CONFIG["scales"]["bundled"]["train"]["iterations"]
    assert train["weighting_lr"] == CONFIG["scales"]["bundled"]["weighting"]["lr"]
    assert settings["train"]["a2e"]["variant"] == {"name": "a2e", **CONFIG["variants"]["a2e"]}
    assert (
        settings["sample"]["full"]
        == {k: v for k, v in CONFIG["scales"]["bundled"]["sample"].items() if k != "seeds"}
        | CONFIG["sample"]
    )
    assert (
        settings["fit-metric-model"]["motion"]
        == CONFIG["scales"]["bundled"]["metric_models"]["motion"]
    )


def test_params_are_canonical_json_of_the_settings():
    ex = experiment()
    assert json.loads(params(ex, "prepare")) == CONFIG["data"]["prepare"]
    assert params(ex, "train", "full") == json.dumps(
        json.loads(params(ex, "train", "full")), sort_keys=True, separators=(",", ":")
    )
    with pytest.raises(ConfigError, match="no settings for 'nope'"):
        params(ex, "train", "nope")


def test_a_feature_change_leaves_the_model_stages_settings_alone():
    base, changed = experiment(), experiment(features={"audio": {"n_mels": 48}})
    assert params(base, "audio-features") != params(changed, "audio-features")
    for stage in ("prepare", "sample", "evaluate"):
        assert params(base, stage) == params(changed, stage)
    assert params(base, "train", "full") == params(changed, "train", "full")


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ({"latent": 72, "heads": 5}, "model.heads: latent 72 not divisible by 5"),
        ({"latent": 64, "local_heads": 3}, "model.local_heads: latent 64 must split into 3"),
        ({"num_speakers": 3}, "model.num_speakers: the config says 3 but data.speakers gives 4"),
        ({"text_dim": 100}, "model.text_dim: the config says 100 but features.text.dim gives 301"),
        ({"audio_dim": 1133}, "model.audio_dim: the config says 1133 but features.audio gives 109"),
    ],
)
def test_settings_that_depend_on_the_data_fail_before_any_job(model, message):
    with pytest.raises(ConfigError) as err:
        experiment(model={"name": "adm", **model})
    assert message in str(err.value)


def test_a_variant_with_a_task_the_model_lacks_fails_at_once():
    variants = {"odd": {"tasks": ["gesture", "hands"]}}
    with pytest.raises(ConfigError, match="hands"):
        experiment(variants=variants)


def test_the_clips_and_files_come_from_the_config():
    ex = experiment()
    synth = CONFIG["data"]["synth"]
    per_speaker = synth["train_takes"] + synth["val_takes"] + synth["test_takes"]
    assert len(ex.clip_stems) == per_speaker * len(CONFIG["data"]["speakers"])
    assert len(ex.split_stems("test")) == synth["test_takes"] * len(CONFIG["data"]["speakers"])
    stem = ex.clip_stems[0]
    assert files.clip_sources(ex, stem)["wav"] == layout.corpus_file("synth", stem, "wav")
    assert files.corpus_files(ex, "beat") == []
    seeds = CONFIG["scales"]["bundled"]["sample"]["seeds"]
    assert len(files.metrics_files(ex)) == len(CONFIG["variants"]) * len(seeds)
    beat = experiment(data={**CONFIG["data"], "source": "beat", "speakers": [2]})
    assert len(beat.clip_stems) == 118 + 12 and beat.clip_stems[0].startswith("2_scott_")


@pytest.mark.parametrize("per_job", [1, 5, 16, 1000])
def test_clip_batches_keep_to_one_speaker_and_cover_every_clip_once(per_job):
    data = {**CONFIG["data"], "source": "beat", "speakers": [2, 6], "clips_per_job": per_job}
    ex = experiment(data=data)
    batches = ex.clip_batches()
    flat = [stem for stems in batches.values() for stem in stems]
    assert sorted(flat) == sorted(ex.clip_stems) and len(flat) == len(set(flat))
    for name, stems in batches.items():
        speaker = name.removeprefix("speaker").split("_")[0]
        assert all(stem.split("_")[0] == speaker for stem in stems), name
        assert 1 <= len(stems) <= per_job
        assert ex.batch_of(stems[-1]) == name
    # 130 clips a speaker in ceil(130 / per_job) batches of nearly equal size
    sizes = [len(v) for k, v in batches.items() if k.startswith("speaker2_")]
    assert len(sizes) == -(-130 // per_job) and max(sizes) - min(sizes) <= 1
    files_of = files.clip_batch_files(ex)[ex.batch_of(ex.clip_stems[0])]
    assert files_of["audio"][files_of["stems"].index(ex.clip_stems[0])] == layout.feature(
        "audio", ex.clip_stems[0]
    )


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "8"])
def test_a_bad_clips_per_job_is_named(bad):
    with pytest.raises(ConfigError, match="data.clips_per_job"):
        experiment(data={**CONFIG["data"], "clips_per_job": bad})


def test_load_checks_the_schema_and_names_the_key(tmp_path):
    bad = copy.deepcopy(CONFIG)
    bad["train"]["weighting_lr"] = 0.05  # renamed: weighting.lr
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(ConfigError, match="weighting_lr"):
        load_experiment(path)
    path.write_text(yaml.safe_dump(CONFIG))
    assert load_experiment(path).scale == CONFIG["scale"]


def test_adm_settings_prints_the_rules_command(capsys):
    assert (
        run("settings", ["train", "--variant", "no_uwp", "--config", str(ROOT / "config.yaml")])
        == 0
    )
    line = capsys.readouterr().out.strip()
    assert line.startswith("adm train --clips-dir results/data/clips ")
    assert "--outdir results/train/no_uwp" in line and line.endswith("--threads 1")
    assert run("settings", ["train", "--json", "--config", str(ROOT / "config.yaml")]) == 0
    assert json.loads(capsys.readouterr().out)["variant"]["name"] == "full"


def test_adm_settings_equals_the_dry_runs_commands():
    """Every stage's line from ``adm settings`` is a command of the pipeline's dry run."""
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "-p", "--forceall", "--cores", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    shell = {
        line.removeprefix("Shell command: ").split(" > ")[0]
        for line in result.stdout.splitlines()
        if line.startswith("Shell command: adm ")
    }
    asks = [
        ["synthesize"], ["prepare"], ["split"], ["norm-stats"], ["preview"],
        ["fasttext-train"], ["audio-features", "--clip", "8_catherine_0_1_1"],
        ["text-features"], ["train", "--variant", "a2g"], ["sample"],
        ["train", "--variant", "mambatalk_uwp"], ["train-vq", "--variant", "mambatalk"],
        ["sample", "--variant", "diffsheg"],
        ["fit-metric-model", "--kind", "face"], ["reference"],
        ["evaluate", "--variant", "a2e"], ["tables", "--table", "4"],
    ]  # fmt: skip
    for ask in asks:
        out = subprocess.run(
            [sys.executable, "-m", "adm", "settings", *ask],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() in shell, ask
