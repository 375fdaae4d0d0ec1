"""``adm fit-metric-model`` end to end on tiny clips, and its settings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from adm.commands import run
from adm.data.normalization import compute_norm_stats, save_norm_stats
from adm.errors import ConfigError
from adm.evaluation.config import FIT_DEFAULTS, FitConfig
from adm.io.frames import write_frames
from adm.metrics.checkpoint import load_face_vae, load_motion_autoencoder, read_metadata

TRAIN = {"2_scott_0_9_9": 60, "2_scott_0_10_10": 50}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fit")
    (root / "clips").mkdir()
    rng = np.random.default_rng(0)
    for stem, frames in TRAIN.items():
        t = np.arange(frames)[:, None] / 30.0
        gesture = 0.5 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6, 141)) + 0.1
        face = 0.5 + 0.4 * np.sin(2 * np.pi * 1.3 * t + rng.uniform(0, 6, 51))
        write_frames(
            root / "clips" / f"{stem}.parquet",
            {"gesture": gesture, "face": face},
            {"clip": stem, "speaker": 2, "skipped": False},
        )
    stats, _ = compute_norm_stats([root / "clips" / f"{s}.parquet" for s in TRAIN], 1e-4)
    save_norm_stats(root / "norm.json", stats, {})
    (root / "train.txt").write_text("".join(f"{s}\n" for s in TRAIN))
    return root


def _argv(root: Path, kind: str, out: Path, config: dict) -> list[str]:
    return [
        "--kind", kind,
        "--clips-dir", str(root / "clips"),
        "--split", str(root / "train.txt"),
        "--norm", str(root / "norm.json"),
        "--out", str(out),
        "--config", json.dumps(config),
    ]  # fmt: skip


def test_motion_autoencoder_fits_and_loads_back(clips):
    out = clips / "models" / "motion_ae.safetensors"
    config = {"length": 16, "iterations": 3, "batch": 4, "seed": 1}
    assert run("fit-metric-model", _argv(clips, "motion", out, config)) == 0
    model = load_motion_autoencoder(out)
    assert (model.length, model.dim, model.mlp_negative_slope) == (16, 141, 1.0)
    meta = read_metadata(out)
    assert meta["config"] == {"dim": 141, "length": 16, "mlp_negative_slope": 1.0}
    extra = meta["extra"]
    # Windows of 16 at stride 10: (60 - 16) // 10 + 1 = 5 and (50 - 16) // 10 + 1 = 4.
    assert extra["windows"] == 9 and extra["steps"] == 3 and extra["batch"] == 4
    assert np.isfinite(extra["final_loss"]) and extra["recon_l1"] > 0
    assert extra["clips"] == list(TRAIN) and extra["settings"]["lr"] == 1.2e-4
    feats = model.encode(np.zeros((2, 16, 141), np.float32))
    assert feats.shape == (2, 300)


def test_face_vae_fits_with_epochs_and_its_defaults(clips):
    out = clips / "models" / "face_vae.safetensors"
    config = {"length": 20, "stride": 5, "epochs": 2, "batch": 8}
    assert run("fit-metric-model", _argv(clips, "face", out, config)) == 0
    model = load_face_vae(out)
    assert (model.length, model.channels) == (20, 51)
    extra = read_metadata(out)["extra"]
    # (60 - 20) // 5 + 1 = 9 and (50 - 20) // 5 + 1 = 7 windows: 16, two batches of 8 an epoch.
    assert extra["windows"] == 16 and extra["steps"] == 4
    assert extra["settings"]["lr"] == FIT_DEFAULTS["face"]["lr"]
    assert extra["settings"]["beta"] == 1.0


def test_same_seed_gives_the_same_model(clips):
    a, b = clips / "a.safetensors", clips / "b.safetensors"
    config = {"length": 16, "iterations": 3, "batch": 4}
    for out in (a, b):
        assert run("fit-metric-model", _argv(clips, "face", out, config)) == 0
    x = np.random.default_rng(3).uniform(size=(3, 16, 51)).astype(np.float32)
    fa, fb = load_face_vae(a).encode_mu(x), load_face_vae(b).encode_mu(x)
    assert torch.equal(fa, fb)
    assert read_metadata(a)["extra"]["final_loss"] == read_metadata(b)["extra"]["final_loss"]


def test_bad_settings_and_short_clips_are_named(clips, capsys):
    out = clips / "bad.safetensors"
    assert run("fit-metric-model", _argv(clips, "motion", out, {"lenght": 16})) == 1
    assert "lenght" in capsys.readouterr().err
    assert run("fit-metric-model", _argv(clips, "face", out, {"length": 70})) == 1
    err = capsys.readouterr().err
    assert "train.txt" in err and "0 window(s) of 70 frames" in err
    assert not out.exists()


def test_fit_config_defaults_per_kind():
    motion = FitConfig().resolved("motion")
    assert motion["length"] == 68 and motion["stride"] == 10 and motion["batch"] == 256
    assert motion["iterations"] == FIT_DEFAULTS["motion"]["iterations"] and motion["epochs"] is None
    face = FitConfig(epochs=3).resolved("face")
    assert face["length"] == 60 and face["mlp_negative_slope"] == 0.01  # SAiD: PyTorch default
    assert face["epochs"] == 3 and face["iterations"] is None
    with pytest.raises(ConfigError, match="not both"):
        FitConfig(epochs=1, iterations=1)
    with pytest.raises(ConfigError, match="kind"):
        FitConfig().resolved("hands")
