"""The trainer end to end on a tiny corpus: scalars, weighting, checkpoints, the CLI."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
import torch
from safetensors import safe_open
from test_training_dataset import TRAIN, write_corpus
from tiny import tiny_run
from tolerance import ops_tol

from adm.commands import run
from adm.errors import BadInputError
from adm.training import load_checkpoint
from adm.training.config import parse_run_config
from adm.training.loop import train
from adm.training.scalars import COLUMNS

#: Relative rounding of a scalars.csv cell (8 significant digits).
PRINTED = 0.5e-7


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def full_run(corpus, tmp_path_factory):
    """The uncertainty-weighted variant, 6 steps, with a large lr so the sigmas move."""
    out = tmp_path_factory.mktemp("full")
    train(corpus, [2, 4], out, parse_run_config(tiny_run(train={"lr": 1e-2})))
    return out


def _rows(path):
    with path.open() as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def test_scalars_csv_and_uncertainty_sigmas_move(full_run):
    header, rows = _rows(full_run / "scalars.csv")
    assert tuple(header) == COLUMNS
    assert [int(r["step"]) for r in rows] == [1, 2, 4, 6]
    last = rows[-1]
    for task in ("gesture", "face"):
        assert abs(float(last[f"sigma_{task}"]) - 1.0) > 1e-2  # started at exactly 1
    weights = float(last["weight_gesture"]) + float(last["weight_face"])
    # Each weight: 5 float32 roundings (exp, 1/(2 x), sum, division), then 8 printed digits.
    assert weights == pytest.approx(1.0, abs=2 * (ops_tol(5, 1.0) + PRINTED))
    assert all(float(r["lr"]) == pytest.approx(1e-2, abs=1e-2 * PRINTED) for r in rows)
    assert all(float(r["it_per_s"]) > 0 and float(r["loss_total"]) > 0 for r in rows)
    _, val = _rows(full_run / "val_scalars.csv")
    assert [int(r["step"]) for r in val] == [3, 6]
    assert not (full_run / "scalars.live.csv").exists()


def test_checkpoint_rebuilds_the_model_from_its_metadata(full_run, corpus, tmp_path):
    alone = tmp_path / "ema.safetensors"
    shutil.copyfile(full_run / "ema.safetensors", alone)  # no config file beside it
    loaded = load_checkpoint(alone)
    assert not loaded.model.training
    assert loaded.tasks == ("gesture", "face") and loaded.speakers == [2, 4]
    assert loaded.model.config.latent == 32 and loaded.model.config.num_speakers == 2
    assert loaded.diffusion_config["steps"] == 50 and loaded.variant["name"] == "full"
    assert set(loaded.norm) == {"gesture", "face", "audio", "text"}
    assert loaded.norm["audio"][0].shape == (6,) and loaded.step == 6
    assert set(loaded.weighting) == {"log_var.gesture", "log_var.face"}
    assert loaded.audio_layout["dim"] == 6
    with safe_open(str(alone), "pt") as f:
        meta = f.metadata()
    assert meta["format"] == "adm-checkpoint/1" and json.loads(meta["speakers"]) == [2, 4]
    assert len(meta["config_hash"]) == 12
    x = torch.zeros(1, 40, 192)
    cond = {
        "audio": torch.zeros(1, 40, 6),
        "text": torch.zeros(1, 40, 5),
        "speaker": torch.tensor([1]),
        "seed": torch.zeros(1, 10, 192),
    }
    with torch.no_grad():
        out = loaded.model(x, torch.tensor([10]), cond)
    assert out.shape == (1, 40, 192) and torch.isfinite(out).all()

    raw = load_checkpoint(full_run, ema=False).model.state_dict()
    ema = load_checkpoint(full_run, ema=True).model.state_dict()
    assert raw.keys() == ema.keys()
    assert any(not torch.equal(raw[k], ema[k]) for k in raw)


def test_fixed_single_task_variant(corpus, tmp_path):
    variant = {
        "name": "a2e",
        "tasks": ["face"],
        "weighting": {"name": "fixed", "weights": {"face": 1.0}},
    }
    train(
        corpus,
        [2, 4],
        tmp_path,
        parse_run_config(tiny_run(variant=variant, train={"iterations": 4})),
    )
    _, rows = _rows(tmp_path / "scalars.csv")
    for r in rows:
        assert r["loss_gesture"] == "" and r["sigma_gesture"] == ""
        assert float(r["weight_gesture"]) == 0 and float(r["weight_face"]) == 1
        # fixed: never moves (sqrt(1 / (2 w)) in float64, printed to 8 digits)
        assert float(r["sigma_face"]) == pytest.approx(2**-0.5, abs=PRINTED)
        # the total is 1.0 x the face loss, both printed to 8 digits
        total, face = float(r["loss_total"]), float(r["loss_face"])
        assert total == pytest.approx(face, abs=2 * PRINTED * abs(face) + ops_tol(1, abs(face)))
    loaded = load_checkpoint(tmp_path)
    assert loaded.tasks == ("face",) and loaded.model.x_dim == 51 and loaded.weighting == {}


def test_too_few_windows_for_a_batch(corpus, tmp_path):
    with pytest.raises(BadInputError, match="fewer than one batch of 64"):
        train(corpus, [2, 4], tmp_path, parse_run_config(tiny_run(train={"batch": 64})))


def test_cli_reports_bad_config_and_bad_input_in_one_line(corpus, tmp_path, capsys):
    argv = [
        "--clips-dir",
        str(corpus.clips_dir),
        "--audio-dir",
        str(corpus.audio_dir),
        "--text-dir",
        str(corpus.text_dir),
        "--split-dir",
        str(corpus.split_dir),
        "--norm",
        str(corpus.norm),
        "--speakers",
        "2",
        "4",
        "--outdir",
        str(tmp_path / "o"),
    ]
    bad_key = json.dumps({"train": {"itrations": 3}})
    assert run("train", [*argv, "--config", bad_key]) == 1
    assert "error: train: unknown key 'itrations'" in capsys.readouterr().err
    missing = tmp_path / "split"
    missing.mkdir()
    (missing / "train.txt").write_text(f"{next(iter(TRAIN))}\n2_scott_0_100_100\n")
    argv[argv.index("--split-dir") + 1] = str(missing)
    assert run("train", [*argv, "--config", json.dumps(tiny_run())]) == 1
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "2_scott_0_100_100.parquet: prepared clip not found" in err
    (missing / "train.txt").write_text(f"{next(iter(TRAIN))}\nno_such_clip\n")
    assert run("train", [*argv, "--config", json.dumps(tiny_run())]) == 1
    err = capsys.readouterr().err
    assert f"{missing / 'train.txt'}: line 2: clip name 'no_such_clip' does not match" in err
    assert not (tmp_path / "o" / "model.safetensors").exists()


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ({"latent": 72, "heads": 5}, "model.heads: latent 72 not divisible by 5"),
        ({"num_speakers": 3}, "model.num_speakers: the config says 3 but --speakers gives 2"),
        ({"audio_dim": 7}, "model.audio_dim: the config says 7 but the audio features"),
    ],
)
def test_model_settings_fail_before_the_corpus_loads(tmp_path, capsys, model, message):
    """A later train clip is damaged: had the corpus loaded first, the error would name it."""
    paths = write_corpus(tmp_path)
    damaged = paths.clips_dir / f"{list(TRAIN)[-1]}.parquet"
    damaged.write_bytes(b"not parquet")
    argv = [
        "--clips-dir", str(paths.clips_dir), "--audio-dir", str(paths.audio_dir),
        "--text-dir", str(paths.text_dir), "--split-dir", str(paths.split_dir),
        "--norm", str(paths.norm), "--speakers", "2", "4", "--outdir", str(tmp_path / "o"),
    ]  # fmt: skip
    config = tiny_run(model=model)
    assert run("train", [*argv, "--config", json.dumps(config)]) == 1
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and message in err, err
    # The same corpus with the model left alone: the loader names the damaged clip.
    assert run("train", [*argv, "--config", json.dumps(tiny_run())]) == 1
    assert f"error: {damaged}" in capsys.readouterr().err
