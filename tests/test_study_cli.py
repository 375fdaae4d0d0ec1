"""``adm study``: simulate 17 participants x 9 groups, analyse them; bad input as one
line and exit status 1."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys

import pytest
from cli_output import non_log_lines
from studyfactory import METHODS, make_study

from adm.study.cli import main
from adm.study.design import QUESTIONS


def _counts(db) -> dict[str, dict[str, int]]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT question, method, COUNT(*) FROM votes GROUP BY 1, 2")
        out = {q: dict.fromkeys(METHODS, 0) for q in QUESTIONS}
        for question, method, count in rows:
            out[question][method] = count
    return out


def test_simulate_then_analyse_prints_three_tests_and_writes_the_figure(tmp_path, capsys):
    db, out = tmp_path / "votes.sqlite", tmp_path / "study"
    assert (
        main(
            [
                "simulate",
                "--votes",
                str(db),
                "--participants",
                "17",
                "--groups",
                "9",
                "--methods",
                *METHODS,
                "--preference",
                "full=3",
                "face:full=6",
                "--seed",
                "0",
            ]
        )
        == 0
    )
    assert main(["analyse", "--votes", str(db), "--outdir", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "459 votes of 17 participants" in printed  # 17 x 9 groups x 3 questions
    counts = _counts(db)
    for question in QUESTIONS:
        line = next(x for x in printed.splitlines() if x.startswith(f"{question}:"))
        shown = dict(re.findall(r"(\w+) (\d+)(?=[,\s])", line.split("(N")[0].split(":", 1)[1]))
        assert {m: int(c) for m, c in shown.items()} == counts[question]
        assert "(N = 153)" in line and "chi2(2) = " in line
    # The simulated preference is strong: every question rejects equal preference.
    assert printed.count("p < 0.001") >= 3
    figure = out / "figure5.png"
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (out / "study_table.md").read_text()
    assert table.count("| 153 |") == 3
    assert (out / "study_table.tex").read_text().count(r"\\") >= 4


def test_position_bias_is_detected_where_methods_are_equal(tmp_path, capsys):
    db = tmp_path / "votes.sqlite"
    # No preference between methods, but the first video shown is chosen four times as often.
    assert (
        main(
            [
                "simulate",
                "--votes",
                str(db),
                "--participants",
                "17",
                "--groups",
                "9",
                "--methods",
                *METHODS,
                "--position-weights",
                "4",
                "1",
                "1",
            ]
        )
        == 0
    )
    assert main(["analyse", "--votes", str(db), "--outdir", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    position_lines = [x for x in printed.splitlines() if "position shown" in x]
    assert len(position_lines) == 3
    assert all("p < 0.001" in x for x in position_lines)
    method_lines = [x for x in printed.splitlines() if x.split(":")[0] in QUESTIONS]
    assert len(method_lines) == 3
    assert not any("p < 0.001" in x for x in method_lines)  # no method preferred


def _error_line(capsys) -> str:
    err = non_log_lines(capsys.readouterr().err)
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_manifest_pointing_at_a_missing_video(tmp_path, capsys):
    manifest = make_study(tmp_path / "materials", groups=2)
    missing = tmp_path / "materials/g02/v1.mp4"
    missing.unlink()
    for command in (
        ["serve", "--manifest", str(manifest), "--votes", str(tmp_path / "v.sqlite")],
        ["simulate", "--manifest", str(manifest), "--votes", str(tmp_path / "v.sqlite")],
    ):
        assert main(command) == 1
        line = _error_line(capsys)
        assert line == (
            f"error: {manifest}: group g02: the video of no_uwp, {missing}, does not exist"
        )
    assert not (tmp_path / "v.sqlite").exists()


def test_votes_with_unknown_method_or_question(tmp_path, capsys):
    csv = tmp_path / "votes.csv"
    csv.write_text("participant,group_id,question,method\np1,g01,face,camn\n")
    assert (
        main(["analyse", "--votes", str(csv), "--methods", *METHODS, "--outdir", str(tmp_path)])
        == 1
    )
    assert "unknown method 'camn'" in _error_line(capsys)
    csv.write_text("participant,group_id,question,method\np1,g01,beauty,full\n")
    assert (
        main(["analyse", "--votes", str(csv), "--methods", *METHODS, "--outdir", str(tmp_path)])
        == 1
    )
    assert "unknown question 'beauty'" in _error_line(capsys)
    assert not (tmp_path / "figure5.png").exists()


def test_empty_database(tmp_path, capsys):
    from adm.study.votes import VoteStore

    VoteStore(tmp_path / "votes.sqlite").create(METHODS)
    assert (
        main(
            ["analyse", "--votes", str(tmp_path / "votes.sqlite"), "--outdir", str(tmp_path / "o")]
        )
        == 1
    )
    assert _error_line(capsys) == f"error: {tmp_path / 'votes.sqlite'}: holds no votes"
    assert not (tmp_path / "o").exists()


def test_module_entry_point(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "adm",
            "study",
            "analyse",
            "--votes",
            str(tmp_path / "absent.csv"),
            "--outdir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {tmp_path / 'absent.csv'}: no such votes file"


def test_bad_preference_is_a_config_error(tmp_path, capsys):
    assert (
        main(
            [
                "simulate",
                "--votes",
                str(tmp_path / "v.sqlite"),
                "--methods",
                *METHODS,
                "--preference",
                "camn=2",
            ]
        )
        == 1
    )
    assert "unknown method 'camn'" in _error_line(capsys)


@pytest.mark.parametrize("weights", [["1", "2"], ["1", "2", "3", "4"]])
def test_position_weights_must_match_the_methods(tmp_path, capsys, weights):
    assert (
        main(
            [
                "simulate",
                "--votes",
                str(tmp_path / "v.sqlite"),
                "--methods",
                *METHODS,
                "--position-weights",
                *weights,
            ]
        )
        == 1
    )
    assert "--position-weights: expected 3 weights" in _error_line(capsys)
