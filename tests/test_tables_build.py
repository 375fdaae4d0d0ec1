"""Tables 1-3 from metrics files: seed summaries, paper columns, notes, 'not run' rows."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from adm.errors import BadInputError
from adm.tables import paper
from adm.tables.build import table1, table2, table3
from adm.tables.context import NOT_COMPARABLE, TableContext
from adm.tables.inputs import read_metrics_file
from adm.tables.summary import measured_cell, summarize, wind_cell

METHOD_MD = Path(__file__).resolve().parents[1].parent / "shared/design/method.md"
TRUTH = {"diversity_ground_truth": 12.0, "l1div_ground_truth": 1.5,
         "l1div_beat_ground_truth": 800.0, "beat_align_ground_truth": 0.55,
         "beat_align_corrected_ground_truth": 0.65, "srgr_ground_truth": 0.9}  # fmt: skip
GESTURE = {"fgd": 2.0, "diversity": 10.0, "l1div": 1.0, "l1div_beat": 700.0, "beat_align": 0.5,
           "beat_align_corrected": 0.6, "srgr": 0.2, **TRUTH}  # fmt: skip
FACE = {"fd": 3.0, "wind": 4.0, "wind_std": 0.5, "jaw_open_r": 0.7, "jaw_open_r_clip_mean": 0.6}
CTX = TableContext(data_source="synth", scale="bundled", feature_layout="without WavLM",
                   sampler="DDIM-50")  # fmt: skip


def _write(folder: Path, variant: str, seed: int | None, metrics: dict, **extra) -> Path:
    path = folder / f"{variant}_seed{seed}.json"
    record = {
        "format": "adm-metrics/1",
        "variant": variant,
        "seed": seed,
        "baseline": None,
        "metrics": metrics,
        "data": {"source": "synth"},
        **extra,
    }
    path.write_text(json.dumps(record))
    return path


def _wind(scores: list[float]) -> dict:
    return {"wind": {"seeds": list(range(len(scores))), "scores": scores}}


def _files(tmp_path: Path) -> list:
    paths = [
        _write(
            tmp_path,
            "full",
            s,
            {**GESTURE, **FACE, "fgd": float(s + 1), "fd": 3.0 + s},
            **_wind([3.0 + s, 4.0, 5.0 + s]),
        )
        for s in range(3)
    ]
    paths += [_write(tmp_path, "no_uwp", 0, {**GESTURE, **FACE})]
    paths += [_write(tmp_path, "a2e", 0, dict(FACE))]
    paths += [_write(tmp_path, "a2g", 0, dict(GESTURE))]
    base = {**GESTURE, **FACE, "jaw_open_r": None, "jaw_open_r_clip_mean": None}
    paths += [_write(tmp_path, "mean_pose", None, base, **{"baseline": "mean-pose"})]
    return [read_metrics_file(p) for p in paths]


def _row(table, label: str) -> dict[str, str]:
    for row in table.rows:
        if row[0] == label:
            return dict(zip(table.columns, row, strict=True))
    raise AssertionError(f"no row {label!r} in {[r[0] for r in table.rows]}")


def test_ci_of_three_seeds_uses_the_sample_std():
    s = summarize([1.0, 2.0, 3.0])
    # sample std (ddof=1) of 1, 2, 3 is 1.0
    assert s.mean == 2.0 and s.n == 3
    assert s.ci == pytest.approx(1.96 * 1.0 / math.sqrt(3))
    assert measured_cell([1.0, 2.0, 3.0]) == "2 ± 1.1"
    one = summarize([5.0])
    assert one.ci is None and measured_cell([5.0]) == "5"
    assert measured_cell(None) == "-" and measured_cell([None]) == "undefined"
    assert wind_cell([4.0], [0.5]) == "4 ± 0.5"
    # std(ddof=1) of 4, 6 is sqrt(2): CI = 1.96 sqrt(2) / sqrt(2) = 1.96
    assert wind_cell([4.0, 6.0], [0.5, 0.7]) == "5 ± 0.6 [CI ± 2]"


def test_table1_our_row_beside_the_paper(tmp_path):
    table = table1(_files(tmp_path), CTX)
    ours = _row(table, "ours (ADM)")
    assert ours["FGD (ours)"] == measured_cell([1.0, 2.0, 3.0])
    assert ours["FGD (paper)"] == "5.32" and ours["Diversity (paper)"] == "52.5"
    assert ours["BeatAlign corrected (ours)"] == "0.6 ± 0"  # three equal seeds
    assert ours["seeds"] == "3"
    for method in ("CaMN", "DSG", "DiffSHEG", "MambaTalk"):
        row = _row(table, method)
        assert row["FGD (ours)"] == "not run"
        assert row["FGD (paper)"] == paper.TABLE1[method]["fgd"]
    floor = _row(table, "mean pose (floor)")
    assert floor["FGD (paper)"] == "-" and floor["Diversity (ours)"] == "10"
    assert ours["L1Div (ours)"] == "1 ± 0" and ours["L1Div BEAT form (ours)"] == "700 ± 0"


def test_tables_1_to_3_end_with_the_ground_truth(tmp_path):
    files = _files(tmp_path)
    truth = _row(table1(files, CTX), "ground truth (test set)")
    assert truth["Diversity (ours)"] == "12" and truth["SRGR (ours)"] == "0.9"
    assert truth["BeatAlign (ours)"] == "0.55" and truth["BeatAlign corrected (ours)"] == "0.65"
    assert truth["L1Div (ours)"] == "1.5" and truth["L1Div BEAT form (ours)"] == "800"
    assert truth["FGD (ours)"] == "0 (by definition)"
    assert truth["FGD (paper)"] == "-" and truth["seeds"] == "-"
    face = _row(table2(files, CTX), "ground truth (test set)")
    assert face["FD (ours, raw)"] == face["WInD (ours, raw)"] == "0 (by definition)"
    assert face["jawOpen r (ours)"] == "1 (by definition)"
    ablation = _row(table3(files, CTX), "ground truth (test set)")
    assert ablation["FD (ours)"] == ablation["WInD (ours)"] == "0 (by definition)"
    assert ablation["FGD (ours)"] == "0 (by definition)"
    assert ablation["Diversity (ours)"] == "12" and ablation["BeatAlign (ours)"] == "0.55"
    assert ablation["L1Div BEAT form (ours)"] == "800"
    for table in (table1(files, CTX), table2(files, CTX), table3(files, CTX)):
        assert table.rows[-1][0] == "ground truth (test set)"
        assert any("by definition" in note for note in table.notes)


def test_ground_truth_values_from_another_reference_are_refused(tmp_path):
    files = _files(tmp_path)
    other = _write(tmp_path, "no_uwp", 1, {**GESTURE, "diversity_ground_truth": 11.0})
    with pytest.raises(BadInputError, match="diversity_ground_truth.*different test-set"):
        table1([*files, read_metrics_file(other)], CTX)
    # Files without ground-truth values (older runs) say so rather than inventing them.
    bare = _write(tmp_path, "full", 9, {"fgd": 1.0, "diversity": 2.0})
    row = _row(table1([read_metrics_file(bare)], CTX), "ground truth (test set)")
    assert row["Diversity (ours)"] == "not recorded" and row["FGD (ours)"] == "0 (by definition)"


def test_table2_raw_values_beside_scaled_paper_columns(tmp_path):
    table = table2(_files(tmp_path), CTX)
    ours = _row(table, "ours (ADM)")
    assert ours["FD (ours, raw)"] == "4 ± 1.1"  # seeds 3, 4, 5
    assert ours["FD (paper, x1e-5)"] == "9.18"
    assert ours["WInD (ours, raw)"] == "4 ± 0.5 [CI ± 0]"
    assert ours["WInD (paper, x1e-4)"] == "2.67 ± 0.327"
    # Every repeat of every sampling seed: 3, 4, 5 / 4, 4, 6 / 5, 4, 7.
    assert ours["WInD repeats min / median / max (ours)"] == "3 / 4 / 7"
    assert _row(table, "mean pose (floor)")["WInD repeats min / median / max (ours)"] == "-"
    assert _row(table, "SAiD")["FD (ours, raw)"] == "not run"
    assert _row(table, "mean pose (floor)")["jawOpen r (ours)"] == "undefined"


def test_table3_ablation_rows(tmp_path):
    table = table3(_files(tmp_path), CTX)
    a2e, a2g = _row(table, "A2E only"), _row(table, "A2G only")
    assert a2e["FGD (ours)"] == "-" and a2e["FD (ours)"] == "3"
    assert a2e["FGD (paper)"] == "-" and a2e["FD (paper, x1e-5)"] == "10.0"
    assert a2g["FD (ours)"] == "-" and a2g["SRGR (paper)"] == "0.316"
    assert a2e["L1Div (ours)"] == "-" and a2g["L1Div BEAT form (ours)"] == "700"
    for name in ("DiffSHEG + UWP", "DiffSHEG", "MambaTalk + UWP", "MambaTalk"):
        row = _row(table, name)
        assert row["BeatAlign (ours)"] == "not run"
        assert row["BeatAlign (paper)"] == paper.TABLE3[name]["beat_align"]
    # Only the full model's files: the other variants say so instead of guessing.
    only_full = [f for f in _files(tmp_path) if f.variant == "full"]
    assert _row(table3(only_full, CTX), "A2E only")["FD (ours)"] == "no metrics file"


def test_footnotes_state_the_conditions(tmp_path):
    for build in (table1, table2, table3):
        notes = " ".join(build(_files(tmp_path), CTX).notes)
        assert "bundled corpus" in notes and NOT_COMPARABLE in notes
        assert "Scale preset: bundled" in notes and "without WavLM" in notes
        assert "DDIM-50" in notes and "1.96" in notes
    beat = table1(_files(tmp_path), TableContext(data_source="beat", sampler="DDPM-1000"))
    assert NOT_COMPARABLE not in beat.notes
    assert "Sampling seeds per variant: 1, 3" in " ".join(beat.notes)


def test_missing_or_invalid_metrics_file_is_named(tmp_path):
    with pytest.raises(BadInputError, match="nowhere.json"):
        read_metrics_file(tmp_path / "nowhere.json")
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"format": "adm-metrics/1", "variant": "full", "metrics": {"fgd": "x"}})
    )
    with pytest.raises(BadInputError, match="bad.json.*fgd"):
        read_metrics_file(bad)
    files = _files(tmp_path)
    other = _write(tmp_path, "full", 7, GESTURE, data={"source": "beat"})
    with pytest.raises(BadInputError, match="full_seed7.json"):
        table1([*files, read_metrics_file(other)], CTX)
    (tmp_path / "again").mkdir()
    again = _write(tmp_path / "again", "full", 0, GESTURE)
    with pytest.raises(BadInputError, match="seed 0"):
        table1([*files, read_metrics_file(again)], CTX)


def _method_md_tables() -> dict[str, list[list[str]]]:
    if not METHOD_MD.is_file():
        pytest.skip(f"{METHOD_MD} is absent (it lives beside the development tree)")
    text = METHOD_MD.read_text()
    tables: dict[str, list[list[str]]] = {}
    for name, start in (("1", "**Table 1**"), ("3", "**Table 3**"), ("4", "**Table 4**")):
        block = text[text.index(start) :]
        rows = re.findall(r"^\s*\|(.+)\|\s*$", block, flags=re.M)
        body = []
        for row in rows[2:]:
            cells = [c.strip() for c in row.split("|")]
            body.append(cells)
            if len(body) == {"1": 5, "3": 8, "4": 4}[name]:
                break
        tables[name] = body
    tables["2"] = re.findall(
        r"(SAiD|DiffSHEG|MambaTalk|ours)\s+(\d+\.\d+)\s+/\s+(\d+\.\d+)\+-(\d+\.\d+)", text
    )
    return tables


def test_paper_values_equal_method_md():
    md = _method_md_tables()
    assert [len(md[k]) for k in "1234"] == [5, 4, 8, 4]
    for method, div, srgr, fgd, align in md["1"]:
        assert paper.TABLE1[method] == {
            "diversity": div, "srgr": srgr, "fgd": fgd, "beat_align": align
        }  # fmt: skip
    assert {m: (v["fd"], v["wind"], v["wind_std"]) for m, v in paper.TABLE2.items()} == {
        m: (fd, w, s) for m, fd, w, s in md["2"]
    }
    names = {"full": "full", "no UWP": "no_uwp", "A2E only": "a2e", "A2G only": "a2g"}
    for cfg, fd, wind, div, srgr, fgd, align in md["3"]:
        mean, _, std = wind.partition("+-")
        row = paper.TABLE3[names.get(cfg, cfg)]
        expected = [fd, mean, std or "-", div, srgr, fgd, align]
        assert [row[k] or "-" for k in row] == expected
    for cfg, weights, start, end, drop in md["4"]:
        row = paper.TABLE4[names[cfg]]
        for key, cell in (("weights", weights), ("start", start), ("end", end), ("drop", drop)):
            assert " / ".join(row[key]) == cell


def test_peer_rows_come_from_the_variants_that_run_them(tmp_path):
    """A variant whose method is a peer fills that peer's row in every table it belongs to,
    leaves the other peers 'not run', and does not reappear as an extra ablation row."""
    files = _files(tmp_path)
    files += [read_metrics_file(_write(tmp_path, "diffsheg_uwp", s, {**GESTURE, **FACE,
              "fgd": 7.0 + s}, **_wind([1.0]))) for s in range(2)]  # fmt: skip
    files += [read_metrics_file(_write(tmp_path, "dsg", 0, {**GESTURE, "fgd": 9.0}))]
    ctx = TableContext(
        data_source="synth",
        methods={"diffsheg_uwp": "DiffSHEG + UWP", "dsg": "DSG"},
        method_notes={"DSG": ("Sampled with DDIM-50.",), "SAiD": ("never run",)},
    )
    t1, t3 = table1(files, ctx), table3(files, ctx)
    assert _row(t1, "DSG")["FGD (ours)"] == "9" and _row(t1, "DSG")["seeds"] == "1"
    assert _row(t1, "DiffSHEG")["FGD (ours)"] == "not run"  # the UWP variant is another row
    uwp = _row(t3, "DiffSHEG + UWP")
    assert uwp["FGD (ours)"] == measured_cell([7.0, 8.0]) and uwp["seeds"] == "2"
    assert uwp["FGD (paper)"] == paper.TABLE3["DiffSHEG + UWP"]["fgd"]
    assert "diffsheg_uwp" not in [r[0] for r in t3.rows]  # not repeated under its own name
    assert "DSG: Sampled with DDIM-50." in t1.notes
    assert not any("never run" in line for line in t1.notes + t3.notes)
    assert _row(table2(files, ctx), "DiffSHEG")["FD (ours, raw)"] == "not run"
