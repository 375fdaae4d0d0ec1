"""The analysis of the paper's section 2.5: per question, a chi-square goodness-of-fit test of
the votes against equal preference, and a check that the position shown did not steer them.

For one question with ``k`` methods and ``N`` votes, ``O_i`` the votes of method ``i`` and
``E = N / k`` the votes each would get under equal preference::

    chi2 = sum_i (O_i - E)^2 / E,    dof = k - 1,    p = P(X >= chi2), X ~ chi2(dof)
    Cohen's w = sqrt(chi2 / N)       (0.1 small, 0.3 medium, 0.5 large)

The position-bias check is the same test on the votes counted by the position the chosen
video was shown at (label A, B, C): with methods shown in a random order, a fair study gives
no preference for a position. The statistic comes from ``scipy.stats.chisquare``.

Votes are read from the page's SQLite database or from a CSV file with the columns
``participant, group_id, question, method`` and, optionally, ``position`` (0 = shown first).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import chisquare

from adm.errors import BadInputError, ConfigError
from adm.io.atomic import atomic_path, write_text_atomic
from adm.study.design import LABELS, QUESTIONS
from adm.study.votes import read_database

CSV_COLUMNS = ("participant", "group_id", "question", "method")
SQLITE_MAGIC = b"SQLite format 3\x00"

# Short names of the questions in tables and the figure.
QUESTION_TITLES = {"gestures": "Gesture diversity", "face": "Lip sync", "overall": "Overall"}


@dataclass(frozen=True)
class Vote:
    participant: str
    group_id: str
    question: str
    method: str
    position: int | None


@dataclass(frozen=True)
class GoodnessOfFit:
    """A chi-square goodness-of-fit test against equal counts.

    Attributes:
        counts: category -> observed count, in category order.
        n: total count.
        chi2, dof, p: the statistic, its degrees of freedom (categories - 1) and p-value.
        w: Cohen's effect size ``sqrt(chi2 / n)``.
    """

    counts: dict[str, int]
    n: int
    chi2: float
    dof: int
    p: float
    w: float


@dataclass(frozen=True)
class QuestionResult:
    question: str
    preference: GoodnessOfFit  # by method
    position: GoodnessOfFit | None  # by position shown; None when positions are unknown


def equal_preference_test(counts: dict[str, int]) -> GoodnessOfFit:
    """Chi-square test of ``counts`` against equal expected counts (needs ``n > 0``)."""
    observed = np.array(list(counts.values()), dtype=np.float64)
    n = int(observed.sum())
    if n == 0:
        raise ValueError("no votes to test")
    result = chisquare(observed)
    chi2 = float(result.statistic)
    return GoodnessOfFit(
        dict(counts), n, chi2, len(counts) - 1, float(result.pvalue), math.sqrt(chi2 / n)
    )


# ----------------------------------------------------------------------------------- reading
def read_votes(
    path: str | Path, methods: Sequence[str] | None = None
) -> tuple[list[Vote], list[str]]:
    """Read and check the votes of a database or CSV file.

    Args:
        path: a votes database (SQLite) or CSV file.
        methods: the study's methods; default: those the database records. A CSV file needs
            them (``--methods`` or ``--manifest``).

    Returns:
        the votes, and the methods in order.

    Raises:
        BadInputError: unreadable file, no votes, an unknown method or question, a position
            out of range, or a participant answering one question of one group twice.
        ConfigError: a CSV file and no methods given.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInputError(path, "no such votes file")
    with open(path, "rb") as handle:
        is_sqlite = handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    if is_sqlite:
        rows, recorded = read_database(path)
        if methods is None:
            methods = recorded
    else:
        rows = _read_csv(path)
    if methods is None:
        raise ConfigError(
            f"{path}: the methods are not recorded in it; pass --methods or --manifest"
        )
    methods = list(methods)
    if not rows:
        raise BadInputError(path, "holds no votes")
    votes: list[Vote] = []
    seen: set[tuple[str, str, str]] = set()
    for number, row in enumerate(rows, start=1):
        where = f"vote {number} ({row['participant']}, {row['group_id']}, {row['question']})"
        if row["question"] not in QUESTIONS:
            raise BadInputError(
                path, f"{where}: unknown question {row['question']!r} (expected {list(QUESTIONS)})"
            )
        if row["method"] not in methods:
            raise BadInputError(
                path, f"{where}: unknown method {row['method']!r} (the study's: {methods})"
            )
        position = row.get("position")
        if position is not None and position != "":
            try:
                position = int(position)
            except (TypeError, ValueError):
                raise BadInputError(
                    path, f"{where}: position {position!r} is not an integer"
                ) from None
            if not 0 <= position < len(methods):
                raise BadInputError(
                    path, f"{where}: position {position} is not in 0-{len(methods) - 1}"
                )
        else:
            position = None
        key = (str(row["participant"]), str(row["group_id"]), row["question"])
        if key in seen:
            raise BadInputError(path, f"{where}: answered twice (one answer per question)")
        seen.add(key)
        votes.append(Vote(*key, row["method"], position))
    return votes, methods


def _read_csv(path: Path) -> list[dict]:
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise BadInputError(
                    path,
                    f"lacks column(s) {missing} (a votes CSV has {list(CSV_COLUMNS)}"
                    " and optionally 'position')",
                )
            return [dict(row) for row in reader]
    except UnicodeDecodeError:
        raise BadInputError(path, "neither a SQLite database nor a UTF-8 CSV file") from None


# ---------------------------------------------------------------------------------- analysis
def analyse(votes: Sequence[Vote], methods: Sequence[str]) -> list[QuestionResult]:
    """Both tests for every question that has votes, in the order of :data:`QUESTIONS`."""
    results = []
    for question in QUESTIONS:
        chosen = [v for v in votes if v.question == question]
        if not chosen:
            continue
        by_method = {m: sum(v.method == m for v in chosen) for m in methods}
        position = None
        if all(v.position is not None for v in chosen):
            by_position = {
                LABELS[i]: sum(v.position == i for v in chosen) for i in range(len(methods))
            }
            position = equal_preference_test(by_position)
        results.append(QuestionResult(question, equal_preference_test(by_method), position))
    return results


def format_p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def summary_text(results: Sequence[QuestionResult], methods: Sequence[str]) -> str:
    """What the command prints: per question the counts and both tests."""
    lines = []
    for r in results:
        t = r.preference
        counts = ", ".join(f"{m} {t.counts[m]}" for m in methods)
        lines.append(
            f"{r.question}: {counts} (N = {t.n}); chi2({t.dof}) = {t.chi2:.2f}, "
            f"p {format_p(t.p)}, w = {t.w:.2f}"
        )
        if r.position is not None:
            s = r.position
            shown = ", ".join(f"{k} {v}" for k, v in s.counts.items())
            lines.append(
                f"  position shown: {shown}; chi2({s.dof}) = {s.chi2:.2f}, p {format_p(s.p)}"
            )
    return "\n".join(lines)


# ----------------------------------------------------------------------------------- outputs
def _table_rows(results: Sequence[QuestionResult], methods: Sequence[str]) -> list[list[str]]:
    rows = []
    for r in results:
        t = r.preference
        bias = (
            "n/a" if r.position is None else f"{r.position.chi2:.2f} (p {format_p(r.position.p)})"
        )
        rows.append(
            [
                QUESTION_TITLES[r.question],
                *(str(t.counts[m]) for m in methods),
                str(t.n),
                f"{t.chi2:.2f}",
                str(t.dof),
                format_p(t.p),
                f"{t.w:.2f}",
                bias,
            ]
        )
    return rows


def _header(methods: Sequence[str]) -> list[str]:
    return ["Question", *methods, "N", "chi2", "dof", "p", "Cohen's w", "position chi2"]


def markdown_table(results: Sequence[QuestionResult], methods: Sequence[str]) -> str:
    header = _header(methods)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in _table_rows(results, methods)]
    lines.append("")
    lines.append(
        "Votes per method; chi-square goodness of fit against equal preference; Cohen's "
        "w = sqrt(chi2/N); position chi2: the same test on the position the chosen video was "
        "shown at (a fair, randomised study shows no preference)."
    )
    return "\n".join(lines) + "\n"


def _tex(text: str) -> str:
    for raw, escaped in (
        ("\\", r"\textbackslash{}"),
        ("_", r"\_"),
        ("%", r"\%"),
        ("&", r"\&"),
        ("#", r"\#"),
        ("<", r"$<$"),
    ):
        text = text.replace(raw, escaped)
    return text


def latex_table(results: Sequence[QuestionResult], methods: Sequence[str]) -> str:
    header = [_tex(h) for h in _header(methods)]
    header[header.index("chi2")] = r"$\chi^2$"
    header[-1] = r"position $\chi^2$"
    lines = [
        r"\begin{tabular}{l" + "r" * (len(header) - 1) + "}",
        r"\toprule",
        " & ".join(header) + r" \\",
        r"\midrule",
        *(" & ".join(_tex(c) for c in row) + r" \\" for row in _table_rows(results, methods)),
        r"\bottomrule",
        r"\end{tabular}",
    ]
    return "\n".join(lines) + "\n"


def counts_csv(results: Sequence[QuestionResult], methods: Sequence[str]) -> str:
    lines = ["question,method,votes"]
    for r in results:
        lines += [f"{r.question},{m},{r.preference.counts[m]}" for m in methods]
    return "\n".join(lines) + "\n"


def plot_figure(results: Sequence[QuestionResult], methods: Sequence[str], out: str | Path) -> None:
    """Grouped bars like the paper's Figure 5: per question, each method's share of the votes,
    with the test's chi2 and p above the group."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2.4 + 1.9 * len(results), 3.6), dpi=150, layout="constrained")
    ax = fig.add_subplot()
    width = 0.8 / len(methods)
    x = np.arange(len(results))
    for i, method in enumerate(methods):
        shares = [100.0 * r.preference.counts[method] / r.preference.n for r in results]
        bars = ax.bar(x + (i - (len(methods) - 1) / 2) * width, shares, width, label=method)
        ax.bar_label(bars, [f"{r.preference.counts[method]}" for r in results], fontsize=7)
    top = max(100.0 * max(r.preference.counts.values()) / r.preference.n for r in results)
    for xi, r in zip(x, results, strict=True):
        t = r.preference
        ax.text(
            xi,
            top * 1.12,
            f"$\\chi^2$={t.chi2:.2f}\np {format_p(t.p)}",
            ha="center",
            va="bottom",
            fontsize=7,
        )
    ax.set_xticks(x, [QUESTION_TITLES[r.question] for r in results])
    ax.set_ylabel("votes (%)")
    ax.set_ylim(0, top * 1.35)
    totals = sorted({r.preference.n for r in results})
    ax.set_title(
        f"User study: share of the votes ({'/'.join(map(str, totals))} per question)", fontsize=9
    )
    ax.legend(fontsize=7, loc="upper right")
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png")


def write_outputs(
    results: Sequence[QuestionResult], methods: Sequence[str], outdir: str | Path
) -> list[Path]:
    """``study_table.{md,tex}``, ``study_counts.csv`` and ``figure5.png`` under ``outdir``."""
    outdir = Path(outdir)
    paths = [outdir / "study_table.md", outdir / "study_table.tex", outdir / "study_counts.csv"]
    write_text_atomic(paths[0], markdown_table(results, methods))
    write_text_atomic(paths[1], latex_table(results, methods))
    write_text_atomic(paths[2], counts_csv(results, methods))
    figure = outdir / "figure5.png"
    plot_figure(results, methods, figure)
    return [*paths, figure]
