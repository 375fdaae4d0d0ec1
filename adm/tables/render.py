"""Three renderings of a :class:`~adm.tables.build.Table`: CSV, Markdown and LaTeX.

- CSV: the header and the rows only (one record per row, machine-readable); the notes live
  in the Markdown and LaTeX files.
- Markdown: a title, a pipe table (``|`` inside a cell escaped) and the notes as a numbered
  list under it.
- LaTeX: a ``table`` float with a booktabs ``tabular`` (``\\toprule``/``\\midrule``/
  ``\\bottomrule``; needs ``\\usepackage{booktabs}``, and ``graphicx`` for the
  ``\\resizebox`` that fits wide tables to the line), special characters escaped, ``±`` as
  ``$\\pm$``, and the notes in a footnote-size block under the tabular.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from adm.io.atomic import write_text_atomic
from adm.tables.build import Table

_LATEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "±": r"$\pm$",
}


def to_csv(table: Table) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(table.columns)
    writer.writerows(table.rows)
    return buf.getvalue()


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(table: Table) -> str:
    lines = [f"## Table {table.number}: {table.title}", ""]
    lines.append("| " + " | ".join(_md_cell(c) for c in table.columns) + " |")
    lines.append("|" + "|".join(" --- " for _ in table.columns) + "|")
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
    if table.notes:
        lines += ["", "Notes:", ""]
        lines += [f"{i}. {note}" for i, note in enumerate(table.notes, 1)]
    return "\n".join(lines) + "\n"


def latex_escape(text: str) -> str:
    return "".join(_LATEX_ESCAPES.get(ch, ch) for ch in text)


def to_latex(table: Table) -> str:
    spec = "l" + "c" * (len(table.columns) - 1)
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        rf"\caption{{Table {table.number}: {latex_escape(table.title)}}}",
        rf"\label{{tab:table{table.number}}}",
        r"\resizebox{\linewidth}{!}{%",
        rf"\begin{{tabular}}{{{spec}}}",
        r"\toprule",
        " & ".join(latex_escape(c) for c in table.columns) + r" \\",
        r"\midrule",
    ]
    lines += [" & ".join(latex_escape(c) for c in row) + r" \\" for row in table.rows]
    lines += [r"\bottomrule", r"\end{tabular}}"]
    if table.notes:
        lines += [r"\par\smallskip", r"\begin{minipage}{\linewidth}\footnotesize"]
        lines += [rf"({i}) {latex_escape(note)}\par" for i, note in enumerate(table.notes, 1)]
        lines.append(r"\end{minipage}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def write_table(table: Table, outdir: str | Path) -> list[Path]:
    """Write ``table<N>.csv``, ``.md`` and ``.tex`` into ``outdir`` (atomically each)."""
    outdir = Path(outdir)
    paths = []
    for ext, render in (("csv", to_csv), ("md", to_markdown), ("tex", to_latex)):
        path = outdir / f"table{table.number}.{ext}"
        write_text_atomic(path, render(table))
        paths.append(path)
    return paths
