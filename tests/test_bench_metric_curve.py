"""``python -m adm.bench metric-curve``: where a reconstruction curve settles, an observed fit
that is the pipeline's fit, and the benchmark on a tiny finished run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from cli_output import non_log_lines

from adm import layout
from adm.bench import metric_curve as bench
from adm.data.normalization import compute_norm_stats, save_norm_stats
from adm.evaluation.config import FitConfig
from adm.evaluation.fit import fit_metric_model
from adm.io.frames import write_frames

ROOT = Path(__file__).resolve().parents[1]
CLIPS = {
    "train": {"2_scott_0_9_9": 90, "2_scott_0_10_10": 80, "4_lawrence_0_9_9": 70},
    "val": {"2_scott_0_57_57": 60, "4_lawrence_0_57_57": 60},
}
# Small, quick fits with a learning rate that moves them within a few dozen steps.
FITS = {
    "motion": {"length": 16, "batch": 8, "iterations": 12, "lr": 3e-4},
    "face": {"length": 20, "batch": 8, "iterations": 12, "lr": 3e-3},
}

pytestmark = pytest.mark.usefixtures("one_thread")


# --- where a curve settles, on hand-made curves ----------------------------------------------
STEPS = list(range(10, 210, 10))  # 20 points


def test_a_decaying_curve_settles_where_it_enters_the_band_for_good():
    values = [5, 4, 3, 2, 1.5, 1.2, 1.04, 0.98, 1.01, 0.99] + [1.0] * 10
    s = bench.settling(STEPS, values, tolerance=0.05, fraction=0.2)
    assert s.plateau == 1.0 and s.plateau_from == 170
    assert s.step == 70  # 1.04: the first point within 5% of 1.0 with none outside after it
    assert bench.settling(STEPS, values, tolerance=0.03, fraction=0.2).step == 80  # 1.04 is out


def test_a_later_excursion_moves_the_settling_step_past_it():
    values = [5, 4, 3, 2, 1.5, 1.2, 1.04, 0.98, 1.01, 1.2, 1.0] + [1.0] * 9
    assert bench.settling(STEPS, values, tolerance=0.05, fraction=0.2).step == 110


def test_a_curve_still_falling_in_its_plateau_window_has_not_settled():
    values = [10.0 - 0.3 * i for i in range(20)]  # 10.0 ... 4.3, falling at the end
    s = bench.settling(STEPS, values, tolerance=0.05, fraction=0.2)
    assert s.step is None
    # The same fall with a wide tolerance is flat enough.
    assert bench.settling(STEPS, values, tolerance=0.5, fraction=0.2).step is not None


def test_an_overfitting_curve_settles_on_its_final_level():
    # Falls to 1.0, then creeps up to 1.2 and stays there: the plateau is the final level.
    values = [3, 2, 1.5, 1.2, 1.0, 0.98, 1.0, 1.05, 1.1, 1.15] + [1.2] * 10
    s = bench.settling(STEPS, values, tolerance=0.05, fraction=0.2)
    assert s.plateau == pytest.approx(1.2) and s.step == 100  # 1.15: within 5% of 1.2 from here


# --- the curve on a tiny finished run ---------------------------------------------------------
@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """A finished run's prepared clips, split lists and train statistics, as the pipeline lays
    them out under ``results/``."""
    root = tmp_path_factory.mktemp("run") / layout.RESULTS
    rng = np.random.default_rng(0)
    # Every clip mixes a few sinusoids of its own phases and rates through the same matrices,
    # so that what a model learns on the train clips carries over to the val clips.
    mix = {"gesture": rng.normal(0, 0.5, (3, 141)), "face": rng.uniform(-0.1, 0.1, (3, 51))}
    clips = root / Path(layout.CLIPS).relative_to(layout.RESULTS)
    for split, stems in CLIPS.items():
        for stem, frames in stems.items():
            t = np.arange(frames)[:, None] / 30.0
            sources = np.sin(2 * np.pi * rng.uniform(0.5, 1.5, 3) * t + rng.uniform(0, 6, 3))
            write_frames(
                clips / f"{stem}.parquet",
                {"gesture": sources @ mix["gesture"], "face": 0.5 + sources @ mix["face"]},
                {"clip": stem, "speaker": int(stem[0]), "split": split, "skipped": False},
            )
        split_list = root / Path(layout.split_list(split)).relative_to(layout.RESULTS)
        split_list.parent.mkdir(parents=True, exist_ok=True)
        split_list.write_text("".join(f"{s}\n" for s in stems))
    train = [clips / f"{s}.parquet" for s in CLIPS["train"]]
    stats, _ = compute_norm_stats(train, 1e-4)
    save_norm_stats(root / Path(layout.NORM_STATS).relative_to(layout.RESULTS), stats, {})
    return root


def _sequences(results: Path, kind: str, split: str):
    from adm.data.normalization import load_norm_stats
    from adm.evaluation.fit import train_sequences

    norm = load_norm_stats(results / "data" / "norm_stats.json")
    return train_sequences(results / "data" / "clips", list(CLIPS[split]), kind, norm, split)


@pytest.mark.parametrize("kind", ["motion", "face"])
def test_the_curve_falls_and_its_configured_point_is_the_pipelines_fit(results, kind):
    settings = FitConfig(**FITS[kind]).resolved(kind)
    train, val = _sequences(results, kind, "train"), _sequences(results, kind, "val")
    curve = bench.measure(kind, train, val, settings, factor=3, every=5)
    assert curve.configured == 12 and curve.horizon == 36
    assert curve.steps == [5, 10, 12, 15, 20, 25, 30, 35, 36]
    # Training lowers the reconstruction error of the train windows and of the unseen val ones.
    assert curve.train[-1] < 0.8 * curve.train[0]
    assert curve.val[-1] < 0.8 * curve.val[0]
    assert curve.objective[-1] < curve.objective[0]
    # Observing changes nothing: the fit of the configured length alone (the pipeline's job)
    # ends exactly at the curve's configured point.
    _, record = fit_metric_model(kind, train, settings)
    assert record["recon_l1"] == curve.train[curve.at(12)]


def test_the_benchmark_prints_the_curves_and_draws_them(results, tmp_path, capsys):
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["metric_models"] = FITS
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    out = tmp_path / "curve.png"
    argv = [
        "--results", str(results), "--config", str(config_path), "--factor", "2",
        "--every", "4", "--out", str(out),
    ]  # fmt: skip
    assert bench.main(argv) == 0
    text = capsys.readouterr().out
    for kind, fit in FITS.items():
        assert f"{kind} ({bench.LABELS[kind]}): " in text
        assert f"configured {fit['iterations']} steps, measured to 24" in text
        assert "| 12 (configured) |" in text
        assert any(line.startswith(f"{kind}: val ") for line in text.splitlines())
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_pipelines_own_model_is_the_curves_configured_point(results, tmp_path, capsys):
    """With the run's metric model in place, the benchmark prints its record beside the
    curve's configured point: the same number, since it is the same fit."""
    from adm.commands import run

    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["metric_models"] = FITS
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    model = results / Path(layout.metric_model("face")).relative_to(layout.RESULTS)
    fit = [
        "--kind", "face", "--clips-dir", str(results / "data" / "clips"),
        "--split", str(results / "data" / "split" / "train.txt"),
        "--norm", str(results / "data" / "norm_stats.json"), "--out", str(model),
        "--config", json.dumps(FITS["face"]), "--threads", "1",
    ]  # fmt: skip
    assert run("fit-metric-model", fit) == 0
    argv = ["--results", str(results), "--config", str(config_path), "--kinds", "face",
            "--factor", "2", "--every", "6", "--out", str(tmp_path / "c.png")]  # fmt: skip
    assert bench.main(argv) == 0
    line = next(
        x for x in capsys.readouterr().out.splitlines() if x.startswith("The pipeline's face")
    )
    recorded, curve = re.search(r"recon L1 (\S+) .*step 12: (\S+)\.$", line).groups()
    assert recorded == curve
    # A curve of other settings is not compared with it.
    config["metric_models"] = {**FITS, "face": {**FITS["face"], "lr": 1e-3}}
    config_path.write_text(yaml.safe_dump(config))
    assert bench.main(argv) == 0
    assert "The pipeline's face" not in capsys.readouterr().out


def test_a_missing_run_is_one_clear_line(tmp_path, capsys):
    assert bench.main(["--results", str(tmp_path / "results"), "--kinds", "face"]) == 1
    err = non_log_lines(capsys.readouterr().err)
    assert err[-1].startswith("error: ") and "not found (clips); run the pipeline first" in err[-1]
