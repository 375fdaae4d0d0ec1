"""The scale benchmark's pieces: the two corpora's plans, the child measurements, the linear
projection and the paper-width training corpus it loads."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from adm.bench import scale
from adm.training.corpus import DataPaths, load_corpus

pytestmark = pytest.mark.usefixtures("one_thread")

ROOT = Path(__file__).resolve().parents[1]


def test_the_rehearsal_plan_is_beat_sized_and_the_bundled_plan_unchanged():
    config = scale.base_config(ROOT)
    beat, bundled = scale.plan(config, "beat"), scale.plan(config, "bundled")
    assert beat["clips"] == 520 and bundled["clips"] == 48
    assert [beat[s]["clips"] for s in ("train", "val", "test")] == [392, 64, 64]
    # Per speaker: 88 one-minute speech takes and 10 ten-minute conversations train.
    assert beat["train"]["frames"] == 4 * (88 * 60 + 10 * 600) * 30
    assert sorted(set(beat["test"]["seconds"])) == [60.0, 600.0]
    assert beat["test"]["seconds"].count(600.0) == 4
    assert beat["seconds"] == 4 * (118 * 60 + 12 * 600)
    assert bundled["train"]["frames"] == 32 * 20 * 30


def test_a_child_s_peak_memory_is_its_own():
    big = "import numpy as np; x = np.ones(300 * 2**20 // 8); print(x.sum())"
    small = "print(1)"
    runs = [scale.run_child([sys.executable, "-c", code]) for code in (big, small)]
    assert all(r.returncode == 0 for r in runs)
    assert runs[0].peak_rss >= 300 * 2**20
    assert runs[1].peak_rss < 100 * 2**20  # not the sibling's peak, not the parent's
    failed = scale.run_child([sys.executable, "-c", "raise SystemExit(3)"])
    assert failed.returncode == 3
    with pytest.raises(SystemExit, match="exit 3"):
        scale.checked(failed, "a child")


def test_the_projection_sums_start_up_and_per_second_costs():
    runs = [{"seconds": s, "stage": {"wall": 2.0 + 0.05 * s}} for s in (20.0, 60.0, 600.0)]
    a, b = scale.linear_fit([r["seconds"] for r in runs], [r["stage"]["wall"] for r in runs])
    assert a == pytest.approx(2.0) and b == pytest.approx(0.05)
    lengths = [60.0] * 3 + [600.0]
    assert scale.project(runs, "stage", "wall", lengths) == pytest.approx(4 * 2.0 + 0.05 * 780)


def test_the_paper_width_corpus_loads_every_frame_from_few_distinct_files(tmp_path):
    plan = {
        split: {
            "stems": stems,
            "seconds": seconds,
            "speakers": [int(s.split("_")[0]) for s in stems],
        }
        for split, stems, seconds in (
            ("train", ["2_scott_0_9_9", "2_scott_0_10_10", "4_lawrence_1_2_2"], [6.0, 6.0, 9.0]),
            ("val", ["2_scott_0_57_57"], [6.0]),
        )
    }
    folder = scale.write_training_corpus(plan, tmp_path / "corpus")
    paths = DataPaths(*(folder / k for k in ("clips", "audio", "text", "split")),
                      folder / "norm_stats.json")  # fmt: skip
    corpus = load_corpus(paths, ("gesture", "face"), [2, 4], 150, 10, 30, "float16")
    assert corpus.train.x.shape == (21 * 30 + 1, 141 + 51)
    assert corpus.train.audio.shape == (21 * 30 + 1, 1133)
    assert corpus.train.text.shape[1] == 301 and corpus.train.audio.dtype == torch.float16
    assert corpus.val.x.shape[0] == 6 * 30 + 1
    # Two 6-s train clips of speaker 2 share one file; their rows are equal (raw values).
    rows = corpus.train.x[: 6 * 30], corpus.train.x[6 * 30 : 12 * 30]
    assert torch.equal(*rows)
    linked = [(folder / "audio" / f"{s}.parquet") for s in plan["train"]["stems"]]
    distinct = {f.resolve() for f in linked}
    assert len(distinct) == 2 and all(f.is_symlink() for f in linked)
    assert scale.disk_bytes(folder / "audio") == 0  # links, not copies
    assert scale.disk_bytes(*distinct) < sum(f.stat().st_size for f in linked)


def test_the_report_gives_both_sizes_and_their_ratio():
    config = scale.base_config(ROOT)
    results = {"plan": {s: scale.plan(config, s) for s in ("bundled", "beat")}}
    results["dag"] = {"bundled": {"wall": 1.5, "cpu": 1.2}, "beat": {"wall": 3.0, "cpu": 2.4}}
    table = scale.report(results).splitlines()
    assert table[0].startswith("| stage | bundled | rehearsal")
    (clips,) = [row for row in table if row.startswith("| clips |")]
    assert clips.split(" | ")[1:4] == ["48", "520", "10.8x"]
    (dag,) = [row for row in table if "snakemake -n`, wall" in row]
    assert "2.0x" in dag and "measured" in dag


def test_a_train_part_of_the_rehearsal_alone_reports_its_steps_and_no_ratio():
    config = scale.base_config(ROOT)
    results = {"plan": {s: scale.plan(config, s) for s in ("bundled", "beat")}}
    beat = {"held_bytes": 5 * scale.GIB, "peak_rss": 7 * scale.GIB, "load_s": 190.0}
    results["train"] = {"beat": {"float16": {**beat, "steps": 300, "step_s": 2.5}}}
    table = scale.report(results).splitlines()
    assert not [row for row in table if "float32" in row]  # not measured: no row
    (step,) = [row for row in table if "training step" in row]
    assert "mean of 300, float16" in step
    cells = step.split(" | ")
    assert cells[1] == "-" and cells[3] == "-" and cells[2].startswith("2.5")
