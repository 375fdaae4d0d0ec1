"""``snakemake generate``: which recordings it finds, and the command each job runs."""

from __future__ import annotations

import re

import pytest
import yaml
from test_workflow import ROOT, snakemake

from adm.errors import ConfigError
from adm.experiment.config import Experiment
from adm.generation import targets


def _config(tmp_path, **generate) -> dict:
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    cfg["generate"] = {**cfg["generate"], "inputs": str(tmp_path / "in"), **generate}
    return cfg


def _experiment(tmp_path, **generate) -> Experiment:
    return Experiment.from_config(_config(tmp_path, **generate))


def _inputs(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("talk.wav", "song.flac", "notes.md", "talk.TextGrid", "song.txt", "x.WAV"):
        (folder / name).write_text("")
    return folder


def test_recordings_and_their_transcripts_are_found(tmp_path):
    folder = _inputs(tmp_path)
    cfg = _experiment(tmp_path)
    assert targets.generate_audio(cfg) == {
        "song": str(folder / "song.flac"), "talk": str(folder / "talk.wav"),
        "x": str(folder / "x.WAV"),
    }  # fmt: skip
    assert targets.generate_transcript(cfg, "talk") == [str(folder / "talk.TextGrid")]
    assert targets.generate_transcript(cfg, "song") == [str(folder / "song.txt")]
    assert targets.generate_transcript(cfg, "x") == []
    assert targets.generate_targets(cfg) == [f"results/generate/{n}" for n in ("song", "talk", "x")]


def test_two_recordings_with_one_name_and_unknown_settings_are_refused(tmp_path):
    folder = _inputs(tmp_path)
    (folder / "talk.ogg").write_text("")
    with pytest.raises(ConfigError, match="would both write results/generate/talk"):
        targets.generate_audio(_experiment(tmp_path))
    with pytest.raises(ConfigError, match="generate.variant: no variant named 'nope'"):
        targets.generate_checkpoint(_experiment(tmp_path, variant="nope"))
    with pytest.raises(ConfigError, match="generate: unknown key 'spaeker'"):
        targets.generate_config(_experiment(tmp_path, spaeker=2))


def test_dry_run_generates_each_recording_with_the_typed_command(tmp_path):
    _inputs(tmp_path)
    override = tmp_path / "gen.yaml"
    override.write_text(yaml.safe_dump(_config(tmp_path, speaker=4, seed=3, face_fps=30)))
    result = snakemake("-n", "--forceall", "-p", "generate", "--configfile", str(override))
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert re.search(r"^\s*generate_recording\s+3\b", out, re.M), out
    line = next(x for x in out.splitlines() if "--audio " + str(tmp_path / "in/talk.wav") in x)
    for part in ("adm generate", "--transcript", "talk.TextGrid", "--speaker 4",
                 "--seed 3", "--face-fps 30", "--outdir results/generate/talk",
                 "--checkpoint results/train/full/ema.safetensors"):  # fmt: skip
        assert part in line, line
    # evaluation, tables and other variants are not part of the target
    assert "evaluate" not in out and "table" not in out and "a2g" not in out


def test_a_bad_generate_setting_names_its_key(tmp_path):
    override = tmp_path / "bad.yaml"
    override.write_text(yaml.safe_dump(_config(tmp_path, face_fps=45)))
    result = snakemake("-n", "generate", "--configfile", str(override))
    assert result.returncode != 0 and "face_fps" in result.stdout + result.stderr
