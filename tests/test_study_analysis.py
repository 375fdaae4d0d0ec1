"""The study analysis: chi-square against equal preference, by hand and against scipy; the
position-bias check; reading votes from CSV and SQLite; bad votes files as one-line errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chi2 as chi2_dist
from scipy.stats import chisquare
from tolerance import F64, ops_tol, sum_tol

from adm.errors import BadInputError, ConfigError
from adm.study.analysis import (
    Vote,
    analyse,
    equal_preference_test,
    latex_table,
    markdown_table,
    read_votes,
)
from adm.study.design import QUESTIONS
from adm.study.votes import VoteStore

METHODS = ["full", "no_uwp", "a2g_a2e"]


def test_chi_square_by_hand_two_degrees_of_freedom():
    # 15 votes, E = 5 each: (10-5)^2/5 + (5-5)^2/5 + (0-5)^2/5 = 5 + 0 + 5 = 10.
    # With 2 dof the chi-square survival function is exp(-x/2): p = exp(-5).
    test = equal_preference_test({"full": 10, "no_uwp": 5, "a2g_a2e": 0})
    assert test.n == 15 and test.dof == 2
    assert test.chi2 == pytest.approx(10.0, abs=ops_tol(12, 25.0, F64))
    assert test.p == pytest.approx(math.exp(-5.0), rel=ops_tol(40, 1.0, F64))
    assert test.w == pytest.approx(math.sqrt(10.0 / 15.0), rel=ops_tol(16, 1.0, F64))


def test_chi_square_by_hand_one_degree_of_freedom():
    # Two methods, 20 votes 14:6, E = 10: (16 + 16) / 10 = 3.2. With 1 dof,
    # p = P(|Z| >= sqrt(3.2)) = erfc(sqrt(3.2 / 2)).
    test = equal_preference_test({"a": 14, "b": 6})
    assert test.dof == 1
    assert test.chi2 == pytest.approx(3.2, abs=ops_tol(8, 16.0, F64))
    assert test.p == pytest.approx(math.erfc(math.sqrt(1.6)), rel=ops_tol(60, 1.0, F64))


def test_equal_votes_give_zero_and_p_one():
    test = equal_preference_test({"a": 7, "b": 7, "c": 7})
    assert test.chi2 == 0.0 and test.p == pytest.approx(1.0) and test.w == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_matches_scipy_chisquare_on_random_tables(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 6))
    counts = rng.integers(0, 60, size=k)
    counts[0] += 1  # at least one vote
    test = equal_preference_test({f"m{i}": int(c) for i, c in enumerate(counts)})
    reference = chisquare(counts)
    expected = counts.sum() / k
    by_hand = float(((counts - expected) ** 2 / expected).sum())
    # k squared differences of magnitude up to n^2 / E, summed: a sum of k terms.
    tol = sum_tol(3 * k, by_hand + 1.0, F64)
    assert test.chi2 == pytest.approx(float(reference.statistic), abs=tol)
    assert test.chi2 == pytest.approx(by_hand, abs=tol)
    assert test.p == pytest.approx(float(reference.pvalue), rel=1e-12)
    assert test.p == pytest.approx(float(chi2_dist.sf(by_hand, k - 1)), rel=1e-9)
    assert test.dof == k - 1


def _votes(table: dict[str, dict[str, int]], positions: dict[str, list[int]] | None = None):
    """Votes from counts: question -> method -> count; positions cycle through the list."""
    votes, i = [], 0
    for question, counts in table.items():
        for method, count in counts.items():
            for _ in range(count):
                pos = (
                    None if positions is None else positions[question][i % len(positions[question])]
                )
                votes.append(Vote(f"p{i}", "g01", question, method, pos))
                i += 1
    return votes


def test_analyse_counts_every_method_and_question_in_order():
    table = {
        "overall": {"full": 9, "no_uwp": 3},
        "gestures": {"full": 4, "no_uwp": 4, "a2g_a2e": 4},
    }
    results = analyse(_votes(table), METHODS)
    assert [r.question for r in results] == ["gestures", "overall"]  # QUESTIONS order; face absent
    overall = results[1].preference
    assert overall.counts == {"full": 9, "no_uwp": 3, "a2g_a2e": 0}  # zero counted, not dropped
    # E = 4: (25 + 1 + 16) / 4 = 10.5
    assert overall.chi2 == pytest.approx(10.5, abs=ops_tol(12, 25.0, F64))
    assert results[0].preference.chi2 == 0.0
    assert results[0].position is None  # positions unknown


def test_position_bias_check_counts_by_position_shown():
    # 12 votes for "full", all given to the video shown first: the methods look fine by method
    # (full wins), but the position check flags that every chosen video was at A.
    votes = [Vote(f"p{i}", "g01", "face", "full", 0) for i in range(12)]
    result = analyse(votes, METHODS)[0]
    assert result.position.counts == {"A": 12, "B": 0, "C": 0}
    assert result.position.chi2 == pytest.approx(
        24.0, abs=ops_tol(12, 64.0, F64)
    )  # E=4: (64+16+16)/4
    balanced = [Vote(f"p{i}", "g01", "face", "full", i % 3) for i in range(12)]
    assert analyse(balanced, METHODS)[0].position.chi2 == 0.0


def test_tables_show_counts_and_statistics():
    results = analyse(_votes({"face": {"full": 10, "no_uwp": 5, "a2g_a2e": 0}}), METHODS)
    md = markdown_table(results, METHODS)
    assert "| Lip sync | 10 | 5 | 0 | 15 | 10.00 | 2 | 0.007 | 0.82 | n/a |" in md
    tex = latex_table(results, METHODS)
    assert r"a2g\_a2e" in tex and r"$\chi^2$" in tex and "10.00" in tex


# ------------------------------------------------------------------------------ reading files
def _write_csv(path, rows, header="participant,group_id,question,method,position"):
    path.write_text(header + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return path


def test_csv_votes_are_read_with_methods_given(tmp_path):
    path = _write_csv(
        tmp_path / "v.csv",
        [("p1", "g01", "face", "full", 0), ("p1", "g01", "overall", "no_uwp", 2)],
    )
    votes, methods = read_votes(path, METHODS)
    assert methods == METHODS
    assert votes == [
        Vote("p1", "g01", "face", "full", 0),
        Vote("p1", "g01", "overall", "no_uwp", 2),
    ]
    with pytest.raises(ConfigError, match="--methods or --manifest"):
        read_votes(path)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("p1", "g01", "face", "camn", 0), "unknown method 'camn'"),
        (("p1", "g01", "lipsync", "full", 0), "unknown question 'lipsync'"),
        (("p1", "g01", "face", "full", 3), "position 3 is not in 0-2"),
        (("p1", "g01", "face", "full", "x"), "position 'x' is not an integer"),
    ],
)
def test_bad_csv_votes_name_the_file_and_vote(tmp_path, row, message):
    path = _write_csv(tmp_path / "v.csv", [("p0", "g01", "face", "full", 1), row])
    with pytest.raises(BadInputError, match=message) as info:
        read_votes(path, METHODS)
    assert str(info.value).startswith(f"{path}: vote 2 ")
    assert "\n" not in str(info.value)


def test_csv_answer_given_twice_is_refused(tmp_path):
    path = _write_csv(
        tmp_path / "v.csv", [("p1", "g01", "face", "full", 0), ("p1", "g01", "face", "no_uwp", 1)]
    )
    with pytest.raises(BadInputError, match="answered twice"):
        read_votes(path, METHODS)


def test_csv_without_required_columns(tmp_path):
    path = _write_csv(
        tmp_path / "v.csv", [("p1", "face", "full")], header="participant,question,method"
    )
    with pytest.raises(BadInputError, match=r"lacks column\(s\) \['group_id'\]"):
        read_votes(path, METHODS)


def test_empty_database_is_an_error(tmp_path):
    store = VoteStore(tmp_path / "votes.sqlite")
    store.create(METHODS)
    with pytest.raises(BadInputError, match="holds no votes"):
        read_votes(store.path)


def test_missing_or_foreign_files(tmp_path):
    with pytest.raises(BadInputError, match="no such votes file"):
        read_votes(tmp_path / "absent.sqlite", METHODS)
    import sqlite3

    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x)")
    with pytest.raises(BadInputError, match="no 'votes' table"):
        read_votes(other, METHODS)


def test_database_votes_carry_methods_and_positions(tmp_path):
    from adm.study.design import Plan

    store = VoteStore(tmp_path / "votes.sqlite")
    store.create(METHODS)
    store.register("p1", Plan(["g01"], {"g01": ["no_uwp", "a2g_a2e", "full"]}))
    for question in QUESTIONS:
        store.record("p1", "g01", question, "full")
    votes, methods = read_votes(store.path)
    assert methods == METHODS
    assert {v.position for v in votes} == {2}  # full was shown third (label C)
    assert sorted(v.question for v in votes) == sorted(QUESTIONS)
