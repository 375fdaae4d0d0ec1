"""What a pipeline run should tell its user at the end, whether it succeeded or failed.

With ``data.prepare.on_bad_clip: skip`` a malformed clip does not stop the run: it is left out
and listed, with the file and the reason, in ``results/data/skipped.tsv`` (written by
``adm split``). That is easy to miss among hundreds of job lines, so the workflow's
``onsuccess``/``onerror`` hooks print :func:`skipped_clips_summary` as its last words.
"""

from __future__ import annotations

import csv
from pathlib import Path

#: Skipped clips named in the summary; the rest are counted.
SHOWN = 3


def read_skipped(path: str | Path) -> list[dict[str, str]]:
    """The rows (clip, file, reason) of a ``skipped.tsv``; ``[]`` when it is absent."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return [dict(row) for row in csv.DictReader(fh, delimiter="\t") if row.get("clip")]
    except FileNotFoundError:
        return []


def skipped_clips_summary(path: str | Path) -> str | None:
    """One paragraph on the clips ``path`` (``skipped.tsv``) lists, or ``None`` when none.

    Example::

        2 clips were skipped (data.prepare.on_bad_clip: skip) and are left out of every split;
        see results/data/skipped.tsv for each file and reason:
          2_scott_0_3_3: results/data/corpus/beat/2/2_scott_0_3_3.bvh: joint 'Spine' ...
    """
    rows = read_skipped(path)
    if not rows:
        return None
    n = len(rows)
    noun = "clip was" if n == 1 else "clips were"
    lines = [
        f"{n} {noun} skipped (data.prepare.on_bad_clip: skip) and left out of every split; "
        f"see {path} for each file and reason:"
    ]
    for row in rows[:SHOWN]:
        file = row.get("file") or ""
        reason = row.get("reason") or ""
        lines.append(f"  {row['clip']}: " + (f"{file}: {reason}" if file else reason))
    if n > SHOWN:
        lines.append(f"  ... and {n - SHOWN} more")
    return "\n".join(lines)
