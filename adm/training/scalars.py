"""The training-scalars CSV: a record for machines (tables, plots), separate from the log.

Columns, one row every ``log_every`` steps (and at step 1 and the last step)::

    step, loss_total, loss_gesture, loss_face, sigma_gesture, sigma_face,
    weight_gesture, weight_face, lr, it_per_s

``loss_*`` are means over the steps since the previous row (training losses, normalised units);
``sigma_k`` and the normalised ``weight_k`` (``c_k / sum_j c_j``, the paper's 0.506 / 0.494) are
read after the row's step. A task the variant does not train (A2E, A2G) has EMPTY ``loss_k`` and
``sigma_k`` cells and ``weight_k = 0`` (it contributes nothing to the total). ``it_per_s`` is
optimiser steps per second of wall time since the previous row, checkpoint time excluded.

Validation losses go to a second file with the columns of :data:`VAL_COLUMNS`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from adm.io.atomic import write_text_atomic

TASKS = ("gesture", "face")
COLUMNS = (
    "step",
    "loss_total",
    *(f"loss_{t}" for t in TASKS),
    *(f"sigma_{t}" for t in TASKS),
    *(f"weight_{t}" for t in TASKS),
    "lr",
    "it_per_s",
)
VAL_COLUMNS = ("step", "loss_total", *(f"loss_{t}" for t in TASKS))

Row = dict[str, float | int | None]


def _cell(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return format(float(value), ".8g")


def _parse(value: str) -> float | int | None:
    if value == "":
        return None
    try:
        return int(value)
    except ValueError:
        return float(value)


class ScalarLog:
    """Rows of scalars kept in memory, mirrored to a live CSV, written atomically at the end.

    Args:
        columns: the CSV header.
        rows: rows to start with (e.g. read back from a checkpoint).
    """

    def __init__(self, columns: Sequence[str] = COLUMNS, rows: Iterable[Mapping] = ()):
        self.columns = tuple(columns)
        self.rows: list[Row] = []
        self._live: Path | None = None
        for row in rows:
            self.append(row)

    def append(self, row: Mapping[str, float | int | None]) -> None:
        """Add a row; missing columns are empty, unknown ones an error."""
        unknown = sorted(set(row) - set(self.columns))
        if unknown:
            raise KeyError(f"unknown scalar column(s) {unknown}")
        clean: Row = {c: row.get(c) for c in self.columns}
        self.rows.append(clean)
        if self._live is not None:
            with self._live.open("a", encoding="utf-8") as f:
                f.write(self._line(clean))

    def until(self, step: int) -> ScalarLog:
        """A copy without the rows after ``step`` (rows logged after a checkpoint, on resume)."""
        return ScalarLog(self.columns, [r for r in self.rows if int(r["step"] or 0) <= step])

    def _line(self, row: Row) -> str:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([_cell(row[c]) for c in self.columns])
        return buf.getvalue()

    def to_csv(self) -> str:
        return ",".join(self.columns) + "\n" + "".join(self._line(r) for r in self.rows)

    def write(self, path: Path) -> None:
        """Write the whole CSV atomically."""
        write_text_atomic(path, self.to_csv())

    def mirror(self, path: Path) -> None:
        """Rewrite ``path`` with the rows so far and append every later row to it (flushed)."""
        self.write(path)
        self._live = Path(path)

    @classmethod
    def read(cls, path: Path, columns: Sequence[str] = COLUMNS) -> ScalarLog:
        with Path(path).open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            rows = [{k: _parse(v) for k, v in r.items()} for r in reader]
        return cls(columns, rows)
