"""Table 4 from training scalars, the three renderings, and ``adm tables``."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from adm.commands import run
from adm.errors import BadInputError
from adm.tables.build import Table
from adm.tables.context import TableContext
from adm.tables.dynamics import dynamics, table4
from adm.tables.inputs import read_scalars
from adm.tables.render import to_csv, to_latex, to_markdown

HEADER = (
    "step,loss_total,loss_gesture,loss_face,sigma_gesture,sigma_face,"
    "weight_gesture,weight_face,lr,it_per_s"
)


def _scalars(folder: Path, variant: str, rows: list[str]) -> Path:
    path = folder / variant / "scalars.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def _full(folder: Path) -> Path:
    # step, total, loss_g, loss_f, sig_g, sig_f, w_g, w_f, lr, it/s
    return _scalars(
        folder,
        "full",
        [
            "1,0.5,0.30,0.20,1,1,0.5,0.5,3e-5,1",
            "50,0.4,0.20,0.40,1,1,0.5,0.5,3e-5,1",
            "100,0.3,0.05,0.10,1,1,0.51,0.49,3e-5,1",
            "150,0.2,0.01,0.02,1,1,0.52,0.48,3e-5,1",
            "200,0.1,0.03,0.04,1,1,0.5063,0.4937,3e-5,1",
        ],
    )


def _a2e(folder: Path) -> Path:
    return _scalars(folder, "a2e", ["1,0.3,,0.30,,1,0,1,3e-5,1", "50,0.2,,0.10,,1,0,1,3e-5,1"])


def test_start_end_drop_from_a_hand_made_csv(tmp_path):
    run = read_scalars(str(_full(tmp_path)))
    assert run.variant == "full"
    d = dynamics(run, rows=2)
    # start = mean of rows at steps 1 and 50; end = mean of rows at steps 150 and 200.
    assert d.start["gesture"] == pytest.approx(0.25) and d.start["face"] == pytest.approx(0.30)
    assert d.end["gesture"] == pytest.approx(0.02) and d.end["face"] == pytest.approx(0.03)
    assert d.drop("gesture") == pytest.approx(0.23) and d.drop("face") == pytest.approx(0.27)
    assert d.weights == {"gesture": 0.5063, "face": 0.4937}
    assert d.start_steps == (1, 50) and d.end_steps == (150, 200)
    # Asking for more rows than half the run never lets start and end share a row.
    assert dynamics(run, rows=10).rows_averaged == 2


def test_table4_beside_the_paper(tmp_path):
    runs = [read_scalars(str(_full(tmp_path))), read_scalars(f"a2e={_a2e(tmp_path)}")]
    table = table4(runs, TableContext(data_source="synth"), rows=2)
    rows = {r[0]: dict(zip(table.columns, r, strict=True)) for r in table.rows}
    full = rows["full model (ADM)"]
    assert full["weights g / f (ours)"] == "0.5 / 0.5 -> 0.5063 / 0.4937"
    # End losses 0.02 / 0.03: UWP's optimum w = (1/L) / sum(1/L) = 0.6 / 0.4.
    assert full["1/L weights g / f at end (ours)"] == "0.6 / 0.4 (L_g / L_f = 0.667)"
    assert full["weights g / f (paper)"] == "0.5063 / 0.4937"
    assert full["start g / f x1e-3 (ours)"] == "250 / 300"
    assert full["end g / f x1e-3 (ours)"] == "20 / 30"
    assert full["drop = start - end (ours)"] == "230 / 270"
    assert full["drop (paper)"] == "239 / 284" and full["start (paper)"] == "246 / 292"
    a2e = rows["A2E only"]
    assert a2e["weights g / f (ours)"] == "0 / 1"  # constant: one value
    assert a2e["1/L weights g / f at end (ours)"] == "-"
    assert a2e["start g / f x1e-3 (ours)"] == "- / 300"
    assert a2e["drop = start - end (ours)"] == "- / 200"
    assert rows["A2G only"]["end g / f x1e-3 (ours)"] == "no scalars file"
    notes = " ".join(table.notes)
    assert "x1e-3" in notes and "first / last 2 logged rows" in notes
    assert "full: start = steps 1-50, end = steps 150-200" in notes
    assert "NOT comparable" in notes


def test_bad_scalars_are_named(tmp_path):
    with pytest.raises(BadInputError, match="nope.csv"):
        read_scalars(str(tmp_path / "nope.csv"))
    bad = tmp_path / "bad.csv"
    bad.write_text("step,loss_gesture\n1,0.5\n")
    with pytest.raises(BadInputError, match="bad.csv.*loss_face"):
        read_scalars(str(bad))
    worse = _scalars(tmp_path, "worse", ["1,0.5,abc,0.2,1,1,0.5,0.5,3e-5,1"])
    with pytest.raises(BadInputError, match="line 2.*loss_gesture"):
        read_scalars(str(worse))


SAMPLE = Table(
    9,
    "A & B_test",
    ["name", "value | x", "50% cut"],
    [["a_1", "1 ± 0.1", "$5"], ["b", "not run", "-"]],
    ["Note with # and ~ and ±."],
)


def _unescaped(line: str, sep: str) -> int:
    return len(re.findall(rf"(?<!\\){re.escape(sep)}", line))


def test_markdown_is_a_pipe_table_with_notes():
    text = to_markdown(SAMPLE)
    table_lines = [line for line in text.splitlines() if line.startswith("|")]
    assert len(table_lines) == 2 + len(SAMPLE.rows)
    assert {_unescaped(line, "|") for line in table_lines} == {len(SAMPLE.columns) + 1}
    assert "value \\| x" in table_lines[0]
    assert re.fullmatch(r"\|( --- \|)+", table_lines[1])
    assert "1. Note with # and ~ and ±." in text


def test_latex_is_a_booktabs_tabular():
    text = to_latex(SAMPLE)
    lines = text.splitlines()
    start, end = lines.index(r"\toprule"), lines.index(r"\bottomrule")
    body = [line for line in lines[start + 1 : end] if line != r"\midrule"]
    assert len(body) == 1 + len(SAMPLE.rows)
    assert all(_unescaped(line, "&") == len(SAMPLE.columns) - 1 for line in body)
    assert all(line.endswith(r"\\") for line in body)
    assert r"\begin{tabular}{lcc}" in text and r"\end{tabular}" in text
    assert r"a\_1" in text and r"1 $\pm$ 0.1" in text and r"\$5" in text and r"50\% cut" in text
    assert r"A \& B\_test" in text and r"\#" in text and r"\textasciitilde{}" in text
    assert text.count(r"\begin{table}") == text.count(r"\end{table}") == 1


def test_csv_has_one_record_per_row():
    rows = list(csv.reader(to_csv(SAMPLE).splitlines()))
    assert rows[0] == SAMPLE.columns and rows[1:] == SAMPLE.rows


def _metrics(folder: Path, seed: int, fgd: float) -> Path:
    path = folder / "metrics" / "full" / f"seed{seed}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    metrics = {"fgd": fgd, "diversity": 9.0, "srgr": 0.2, "beat_align": 0.8,
               "beat_align_corrected": 0.7, "fd": 3.0, "wind": 4.0, "wind_std": 0.4,
               "jaw_open_r": 0.5}  # fmt: skip
    record = {"format": "adm-metrics/1", "variant": "full", "seed": seed, "baseline": None,
              "metrics": metrics, "data": {"source": "synth"},
              "samples": {"path": "x", "sampler": {"sampler": "ddim", "steps": 50}}}  # fmt: skip
    path.write_text(json.dumps(record))
    return path


def test_cli_writes_three_files_per_table(tmp_path, capsys):
    metrics = [str(_metrics(tmp_path, s, fgd)) for s, fgd in enumerate((1.0, 2.0, 3.0))]
    out = tmp_path / "tables"
    ctx = json.dumps({"scale": "bundled", "feature_layout": "without WavLM"})
    for number in (1, 2, 3):
        argv = ["--table", str(number), "--metrics", *metrics, "--context", ctx]
        assert run("tables", [*argv, "--outdir", str(out)]) == 0
    argv = ["--table", "4", "--scalars", str(_full(tmp_path)), "--outdir", str(out)]
    assert run("tables", [*argv, "--average-rows", "2"]) == 0
    for number in (1, 2, 3, 4):
        for ext in ("csv", "md", "tex"):
            assert (out / f"table{number}.{ext}").is_file()
    md = (out / "table1.md").read_text()
    # Sampler and seed count come from the metrics files when the context leaves them out.
    assert "Sampler: DDIM-50" in md and "Sampling seeds per variant: 3" in md
    assert "| ours (ADM) | 9 ± 0 | 52.5 |" in md
    missing = [*metrics, str(tmp_path / "metrics" / "full" / "seed9.json")]
    argv = ["--table", "1", "--metrics", *missing, "--outdir", str(out)]
    assert run("tables", argv) == 1
    assert "seed9.json" in capsys.readouterr().err
    argv = ["--table", "1", "--metrics", *metrics, "--context", '{"sead": 1}', "--outdir", "x"]
    assert run("tables", argv) == 1
    assert "sead" in capsys.readouterr().err
