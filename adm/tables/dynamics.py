"""Table 4: training dynamics from the training scalars (``scalars.csv``) of each variant.

Per variant: the normalised task weights (gesture / face) at the first and at the last logged
row (learned for UWP, fixed otherwise), the weights the end losses predict for UWP (its
optimum is ``sigma_k^2 = L_k``, i.e. ``w_k = (1 / L_k) / sum_j (1 / L_j)``) and the ratio of
the end losses, the loss of each task at the start and at the end, and the drop,
start - end. "start" is the mean of the first ``k`` logged rows, "end" the
mean of the last ``k`` (``k = min(rows, half the rows)``, at least 1, so the two never share a
row); each row's loss is itself the mean over the steps since the previous row. Losses are
printed x1e-3 as the paper prints them (normalised motion units). A task the variant does
not train prints ``-`` (the paper prints 0). The paper's columns stand beside ours as given:
its own "drop" does not always equal its start minus end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adm.tables import paper
from adm.tables.build import Table
from adm.tables.context import TableContext, footnotes
from adm.tables.inputs import MetricsFile, ScalarRows
from adm.tables.summary import NOT_GENERATED, fmt

TASKS = ("gesture", "face")
NO_FILE = "no scalars file"


@dataclass(frozen=True)
class Dynamics:
    """One run's summary (losses in raw units; ``None`` for a task not trained)."""

    variant: str
    weights: dict[str, float | None]
    first_weights: dict[str, float | None]
    start: dict[str, float | None]
    end: dict[str, float | None]
    rows_averaged: int
    start_steps: tuple[int, int]
    end_steps: tuple[int, int]

    def drop(self, task: str) -> float | None:
        s, e = self.start[task], self.end[task]
        return None if s is None or e is None else s - e

    def inverse_loss_weights(self) -> dict[str, float] | None:
        """``w_k = (1 / L_k) / sum_j (1 / L_j)`` of the end losses (UWP's optimum); None unless
        every task was trained with a positive end loss."""
        ends = [self.end[t] for t in TASKS]
        if any(e is None or e <= 0 for e in ends):
            return None
        inverse = {t: 1.0 / self.end[t] for t in TASKS}  # type: ignore[operator]
        total = sum(inverse.values())
        return {t: v / total for t, v in inverse.items()}

    def loss_ratio(self) -> float | None:
        """End loss of gesture over face (None unless both tasks were trained)."""
        g, f = self.end["gesture"], self.end["face"]
        return None if g is None or f is None or f <= 0 else g / f


def _mean(rows: list[dict], column: str) -> float | None:
    values = [r[column] for r in rows if r.get(column) is not None]
    return float(np.mean(values)) if values else None


def dynamics(run: ScalarRows, rows: int) -> Dynamics:
    """Summarise one run, averaging ``rows`` logged rows at each end (fewer when short)."""
    if rows < 1:
        raise ValueError(f"rows to average must be >= 1, got {rows}")
    k = max(1, min(rows, len(run.rows) // 2))
    first, last = run.rows[:k], run.rows[-k:]
    final = run.rows[-1]
    return Dynamics(
        variant=run.variant,
        weights={t: final.get(f"weight_{t}") for t in TASKS},
        first_weights={t: run.rows[0].get(f"weight_{t}") for t in TASKS},
        start={t: _mean(first, f"loss_{t}") for t in TASKS},
        end={t: _mean(last, f"loss_{t}") for t in TASKS},
        rows_averaged=k,
        start_steps=(int(first[0]["step"]), int(first[-1]["step"])),
        end_steps=(int(last[0]["step"]), int(last[-1]["step"])),
    )


def _pair(values: dict[str, float | None], scale: float = 1.0) -> str:
    cells = [NOT_GENERATED if values[t] is None else fmt(values[t] / scale) for t in TASKS]
    return " / ".join(cells)


def _weight_pair(weights: dict[str, float | None]) -> str:
    return " / ".join(NOT_GENERATED if weights[t] is None else fmt(weights[t]) for t in TASKS)


def _weights(d: Dynamics) -> str:
    """``first -> last`` when the weights moved, else the (constant) weights."""
    last = _weight_pair(d.weights)
    first = _weight_pair(d.first_weights)
    return last if first == last else f"{first} -> {last}"


def _predicted(d: Dynamics) -> str:
    weights = d.inverse_loss_weights()
    if weights is None:
        return NOT_GENERATED
    ratio = d.loss_ratio()
    return f"{_weight_pair(weights)} (L_g / L_f = {fmt(ratio, 3)})"


def table4(runs: list[ScalarRows], ctx: TableContext, rows: int, files: list[MetricsFile] = ()):
    """Table 4 from the runs' scalars; ``files`` (metrics files, optional) only feed the
    footnotes' facts."""
    summaries = {}
    for run in runs:
        if run.variant in summaries:
            raise ValueError(f"two scalars files for variant {run.variant!r}: {run.path}")
        summaries[run.variant] = dynamics(run, rows)
    scale = paper.LOSS_SCALE
    columns = [
        "configuration",
        "weights g / f (ours)",
        "weights g / f (paper)",
        "1/L weights g / f at end (ours)",
        "start g / f x1e-3 (ours)",
        "start (paper)",
        "end g / f x1e-3 (ours)",
        "end (paper)",
        "drop = start - end (ours)",
        "drop (paper)",
    ]
    table_rows = []
    names = list(paper.TABLE4) + [v for v in summaries if v not in paper.TABLE4]
    for name in names:
        ref = paper.TABLE4.get(name)
        theirs = [" / ".join(ref[k]) if ref else NOT_GENERATED for k in paper.TABLE4["full"]]
        d = summaries.get(name)
        if d is None:
            ours = [NO_FILE] * 4
            predicted = NO_FILE
        else:
            drop = {t: d.drop(t) for t in TASKS}
            ours = [_weights(d), _pair(d.start, scale), _pair(d.end, scale), _pair(drop, scale)]
            predicted = _predicted(d)
        label = paper.VARIANT_LABELS.get(name, name)
        cells = [c for pair in zip(ours, theirs, strict=True) for c in pair]
        table_rows.append([label, *cells[:2], predicted, *cells[2:]])
    spans = [
        f"{d.variant}: start = steps {d.start_steps[0]}-{d.start_steps[1]}, end = steps "
        f"{d.end_steps[0]}-{d.end_steps[1]} ({d.rows_averaged} row(s) each)"
        for d in summaries.values()
    ]
    notes = [
        "Losses are per-task Huber losses on normalised motion, printed x1e-3 as the paper. "
        f"start / end = mean of the first / last {rows} logged rows (fewer for short runs, "
        "never overlapping): " + "; ".join(spans) + ".",
        "weights: normalised task weights at the first -> last logged step (learned with UWP, "
        "fixed otherwise; one value when they did not move). '-': task not trained (the paper "
        "prints 0).",
        "1/L weights: the weights UWP converges to for the end losses, w_k = (1/L_k) / "
        "sum_j (1/L_j) (its optimum is sigma_k^2 = L_k), with the ratio of the end losses; "
        "learned weights near them have settled. A fixed weighting is not pulled towards them.",
        "drop (ours) = start - end. The paper's columns are printed as given; its drop column "
        "does not always equal its start - end.",
    ]
    return Table(4, "Training dynamics", columns, table_rows, footnotes(ctx, list(files), notes))
