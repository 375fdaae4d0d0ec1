"""A two-stage network through the stages: ``adm train-vq`` writes the part VQ-VAEs, ``adm
train --vq-dir`` trains MambaTalk on them, and its weights file alone samples (the frozen
VQ-VAEs travel inside it)."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from test_training_dataset import write_corpus
from tiny import tiny_run

from adm.commands import run
from adm.errors import ConfigError
from adm.io.frames import read_frames
from adm.models.mambatalk.vq import load_part_vq, vq_file
from adm.training import load_checkpoint
from adm.training.config import parse_run_config
from adm.training.loop import train

pytestmark = pytest.mark.usefixtures("one_thread")

VQ = {"latent_dim": 8, "codebook_size": 16, "layers": 1, "window": 16, "stride": 8, "steps": 20}
MODEL = {
    "name": "mambatalk", "hidden": 16, "fusion_dim": 16, "motion_dim": 8, "motion_layers": 1,
    "latent_dim": 8, "codebook_size": 16, "heads": 2, "part_heads": 2, "decoder_layers": 1,
    "face_scan_layers": 1, "d_state": 4, "dropout": 0.0,
}  # fmt: skip


@pytest.fixture(scope="module")
def stage_one(tmp_path_factory):
    root = tmp_path_factory.mktemp("two_stage")
    corpus = write_corpus(root)
    out = root / "vq"
    code = run("train-vq", [
        "--clips-dir", str(corpus.clips_dir), "--split", str(corpus.split_dir / "train.txt"),
        "--norm", str(corpus.norm), "--outdir", str(out), "--config", json.dumps(VQ),
    ])  # fmt: skip
    assert code == 0
    return corpus, out


def _config():
    config = tiny_run(
        train={"iterations": 4, "seed_frames": 4, "window": 32, "text_dropout": 0.0},
        variant={"name": "mambatalk", "weighting": {"name": "uncertainty"}},
    )
    config["model"] = dict(MODEL)
    config["objective"] = {"name": "mambatalk"}
    return config


def test_stage_one_writes_one_vq_vae_per_part(stage_one):
    _, out = stage_one
    for part, width in (("upper", 27), ("hands", 114), ("face", 51)):
        vq = load_part_vq(vq_file(out, part), part)
        assert vq.config.latent_dim == VQ["latent_dim"] and vq.config.in_dim == width


def test_stage_two_needs_the_vq_vaes(stage_one, tmp_path):
    corpus, _ = stage_one
    with pytest.raises(ConfigError, match="--vq-dir"):
        train(corpus, [2, 4], tmp_path / "run", parse_run_config(_config()))


def test_one_weights_file_rebuilds_the_two_stage_model(stage_one, tmp_path):
    corpus, out = stage_one
    paths = dataclasses.replace(corpus, vq_dir=out)
    run_dir = train(paths, [2, 4], tmp_path / "run", parse_run_config(_config()))
    loaded = load_checkpoint(run_dir)  # no --vq-dir: the VQ-VAEs come from the file
    face = load_part_vq(vq_file(out, "face"), "face")
    for name, value in face.state_dict().items():
        assert torch.equal(loaded.model._vq("face").state_dict()[name], value)
    cond = {
        "audio": torch.zeros(1, 32, loaded.model.config.audio_dim),
        "text": torch.zeros(1, 32, loaded.model.config.text_dim),
        "speaker": torch.zeros(1, dtype=torch.long),
        "seed": torch.zeros(1, 4, 192),
        "mask": torch.ones(1, 32, dtype=torch.bool),
    }
    assert loaded.model.predict(cond).shape == (1, 32, 192)

    # The sample stage runs it from that file alone and says how the clips were made.
    stem = "2_scott_0_57_57"
    out = tmp_path / "samples"
    code = run("sample", [
        "--checkpoint", str(run_dir), "--clips-dir", str(corpus.clips_dir),
        "--audio-dir", str(corpus.audio_dir), "--text-dir", str(corpus.text_dir),
        "--clips", stem, "--seed", "0", "--outdir", str(out),
    ])  # fmt: skip
    assert code == 0
    meta = read_frames(out / f"{stem}.parquet").metadata
    assert meta["sampler"] == "regression" and meta["steps"] == 1
