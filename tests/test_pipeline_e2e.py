"""The whole pipeline, end to end, on a tiny bundled corpus and a tiny model, through Snakemake.

One run (module-scoped) builds all four tables and both figures; the tests then check what a
user sees: numbers in every measured cell, nothing to do on a second run, an offline HTML report,
and that the feature cache survives model/training changes while feature changes rerun exactly
the feature jobs and what depends on them.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from dryrun import job_counts

ROOT = Path(__file__).resolve().parents[1]

# About 4 minutes on 2 cores; runs by default, `-m "not slow"` leaves it out.
pytestmark = pytest.mark.slow

# Two speakers, 4 takes each (2 train, 1 val, 1 test) of 6 s; a tiny model trained for a few
# dozen steps; DDIM-5 sampling with two seeds; metric models fitted for a few steps.
TINY = {
    "data": {
        "speakers": [2, 4],
        "synth": {"train_takes": 2, "val_takes": 1, "test_takes": 1, "clip_seconds": 6.0},
    },
    "features": {"fasttext": {"dim": 16, "epoch": 2}, "text": {"dim": 16}},
    "scale": "bundled",
    "scales": {
        "bundled": {
            "model": {
                "latent": 32,
                "cond_dim": 16,
                "id_dim": 32,
                "time_dim": 32,
                "ff": 64,
                "local_heads": 4,
                "heads": 2,
                "layers": 1,
                "decoder_hidden": 32,
            },
            "train": {
                "batch": 8,
                "iterations": 30,
                "lr": 1.0e-3,
                "log_every": 5,
                "checkpoint_every": 15,
                "window_stride": 30,
            },
            "sample": {"sampler": "ddim", "steps": 5, "seeds": [0, 1]},
            "metric_models": {
                "motion": {"length": 34, "batch": 16, "iterations": 5},
                "face": {"length": 30, "batch": 16, "iterations": 5},
            },
        }
    },
    "evaluate": {"wind_repeats": 2, "beat_align_trim_seconds": 1.0},
}


#: The variants the tiny run trains: ADM's four and two peers, one of each kind (DiffSHEG + UWP:
#: eps diffusion with in-painted windows and the uncertainty weighting; CaMN: regression).
VARIANTS = ("full", "no_uwp", "a2e", "a2g", "diffsheg_uwp", "camn")
PEERS = {"diffsheg_uwp": "DiffSHEG + UWP", "camn": "CaMN"}


def merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def write_config(folder: Path, override: dict) -> Path:
    cfg = merge(yaml.safe_load((ROOT / "config.yaml").read_text()), override)
    cfg["variants"] = {k: v for k, v in cfg["variants"].items() if k in VARIANTS}
    for preset in cfg["scales"].values():
        presets = preset.get("variants") or {}
        preset["variants"] = {k: v for k, v in presets.items() if k in VARIANTS}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def snakemake(workdir: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "--snakefile",
            str(ROOT / "workflow" / "Snakefile"),
            "--directory",
            str(workdir),
            "--cores",
            "2",
            "--resources",
            "gpu=1",
            *args,
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def planned_jobs(workdir: Path, configfile: Path, *targets: str) -> dict[str, int]:
    """Jobs a dry run would execute, per rule."""
    result = snakemake(workdir, "-n", "--quiet", "rules", "--configfile", str(configfile), *targets)
    assert result.returncode == 0, result.stdout + result.stderr
    return job_counts(result.stdout + result.stderr)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("pipeline")
    write_config(workdir, TINY)
    result = snakemake(workdir)
    logs = "\n".join(
        p.read_text()[-2000:]
        for p in (workdir / "results/logs").rglob("*.log")
        if "rror" in p.read_text()
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:] + logs
    return workdir


def test_all_four_tables_and_both_figures_have_numbers(pipeline):
    tables = pipeline / "results" / "tables"
    for n in (1, 2, 3, 4):
        for ext in ("csv", "md", "tex"):
            assert (tables / f"table{n}.{ext}").stat().st_size > 0
    with open(tables / "table3.csv", newline="") as fh:
        rows = {row[next(iter(row))]: row for row in csv.DictReader(fh)}
    measured = [r for r in rows.values() if any("(ours)" in k for k in r)]
    assert measured
    ours = {
        name: row
        for name, row in rows.items()
        if "not run" not in row.values() and "mean pose" not in name and "ground truth" not in name
    }
    # full, no_uwp, a2e, a2g and DiffSHEG + UWP (CaMN is a row of Table 1, not of Table 3)
    assert len(ours) == 5 and PEERS["diffsheg_uwp"] in ours, rows.keys()
    with open(tables / "table1.csv", newline="") as fh:
        table1 = {row[next(iter(row))]: row for row in csv.DictReader(fh)}
    for method in ("CaMN",):
        assert re.match(r"^\d", table1[method]["FGD (ours)"]), table1[method]
    assert table1["DSG"]["FGD (ours)"] == "not run"  # not in this run's variants
    truth = rows["ground truth (test set)"]
    assert truth["FGD (ours)"] == truth["FD (ours)"] == truth["WInD (ours)"] == "0 (by definition)"
    for key in ("Diversity (ours)", "BeatAlign (ours)", "L1Div (ours)", "L1Div BEAT form (ours)"):
        assert re.match(r"^\d", truth[key]), (key, truth[key])
    for name, row in ours.items():
        cells = [v for k, v in row.items() if "(ours)" in k and v not in ("-", "")]
        assert cells, name
        for value in cells:
            assert re.match(r"^-?\d", value), (name, value)
    md4 = (tables / "table4.md").read_text()
    assert "full" in md4.lower() and "bundled" in md4.lower()
    figures = pipeline / "results" / "figures"
    for name in ("jawopen.png", "training_curves.png"):
        assert (figures / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (pipeline / "results" / "data" / "preview_synth.png").stat().st_size > 10_000


def test_samples_open_as_bvh_and_face_json(pipeline):
    from adm.data.bvh import read_bvh
    from adm.data.face import read_face_json

    folder = pipeline / "results" / "samples" / "full" / "seed0"
    bvh = sorted(folder.glob("*.bvh"))
    assert bvh
    motion = read_bvh(bvh[0], fps=30)
    assert motion.header.num_channels == 228 and len(motion.motion) == 180
    assert read_face_json(bvh[0].with_suffix(".json"), fps=30).weights.shape == (180, 51)


def test_sigmas_move_on_the_full_variant(pipeline):
    with open(pipeline / "results" / "train" / "full" / "scalars.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    first, last = rows[0], rows[-1]
    for task in ("gesture", "face"):
        assert abs(float(last[f"sigma_{task}"]) - float(first[f"sigma_{task}"])) > 1e-3


def test_a_second_run_does_nothing(pipeline):
    result = snakemake(pipeline, "-n")
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


def test_report_is_one_offline_html(pipeline):
    result = snakemake(pipeline, "--report", "results/report.html")
    assert result.returncode == 0, result.stderr[-3000:]
    html = (pipeline / "results" / "report.html").read_text(errors="replace")
    assert "table1" in html and "jawopen" in html


def test_model_and_training_changes_rerun_no_feature_job(pipeline):
    changed = write_config(pipeline / "results", merge(TINY, {"train": {"lr": 2.0e-3}}))
    jobs = planned_jobs(pipeline, changed)
    assert jobs.get("train") == len(VARIANTS) and "sample" in jobs
    for rule in (
        "synthesize_corpus",
        "prepare_clip",
        "audio_features",
        "text_features",
        "fasttext_train",
        "fit_metric_model",
    ):
        assert rule not in jobs, jobs
    model = write_config(pipeline / "results", merge(TINY, {"model": {"cond_drop_prob": 0.2}}))
    jobs = planned_jobs(pipeline, model)
    # cond_drop_prob is a key of ADM's network: its four variants rerun, the peers do not
    assert jobs.get("train") == 4 and "audio_features" not in jobs and "text_features" not in jobs


def test_feature_changes_rerun_only_feature_jobs_and_their_dependents(pipeline):
    changed = write_config(
        pipeline / "results", merge(TINY, {"features": {"audio": {"n_mels": 48}}})
    )
    jobs = planned_jobs(pipeline, changed)
    # every clip, in one job per speaker (4 clips each, data.clips_per_job 16)
    assert jobs.get("audio_features") == 2
    assert jobs.get("train") == len(VARIANTS)
    for rule in (
        "synthesize_corpus",
        "prepare_clip",
        "text_features",
        "fasttext_train",
        "split",
        "norm_stats",
        "fit_metric_model",
        "evaluate_baseline",
    ):
        assert rule not in jobs, jobs


def test_the_end_of_a_run_says_how_many_clips_were_skipped(pipeline, tmp_path):
    """With on_bad_clip: skip, a malformed clip is left out and the run's last words say so,
    whether the run then succeeds or fails."""
    corpus = tmp_path / "results" / "data" / "corpus"
    shutil.copytree(pipeline / "results" / "data" / "corpus", corpus)
    write_config(tmp_path, merge(TINY, {"data": {"prepare": {"on_bad_clip": "skip"}}}))
    broken = sorted(corpus.rglob("*.bvh"))[0]
    broken.write_text("HIERARCHY\nROOT Hips\n{\n")
    result = snakemake(tmp_path, "-p", "split")  # -p: "split" is a target
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    said = out[out.rindex("clip was skipped") - 2 :]
    assert said.startswith("1 clip was skipped") and "results/data/skipped.tsv" in said
    assert broken.stem in said and broken.name in said
    # A later job fails: the summary still ends the run.
    (tmp_path / "results" / "data" / "split" / "train.txt").write_text("9_nobody_0_1_1\n")
    result = snakemake(tmp_path, "-p", "norm_stats")
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "1 clip was skipped" in out[out.rindex("Error in rule") :]
