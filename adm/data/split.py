"""Train/val/test lists from the prepared clips (CaMN's rule, beat.md) and the skipped list."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from adm.data.clips import camn_split, parse_clip_name
from adm.io.atomic import write_text_atomic
from adm.io.frames import read_metadata

SPLITS = ("train", "val", "test")


@dataclass
class SplitResult:
    """Clip stems per split and the clips skipped by the data stage with their reason."""

    splits: dict[str, list[str]] = field(default_factory=lambda: {s: [] for s in SPLITS})
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (clip, file, reason)


def split_clips(prepared: list[Path]) -> SplitResult:
    """Assign every prepared clip to its CaMN split; collect the skipped ones.

    Args:
        prepared: prepared Parquet files (one per clip), including skipped markers.
    """
    result = SplitResult()
    for path in sorted(prepared, key=lambda p: parse_clip_name(Path(p).stem)):
        meta = read_metadata(path)
        stem = Path(path).stem
        if meta.get("skipped"):
            result.skipped.append((stem, meta.get("file", ""), meta.get("reason", "")))
            continue
        result.splits[camn_split(parse_clip_name(stem))].append(stem)
    return result


def write_split(result: SplitResult, outdir: Path, skipped_tsv: Path) -> None:
    """Write ``<outdir>/{train,val,test}.txt`` (one stem a line) and ``skipped.tsv``."""
    for name in SPLITS:
        write_text_atomic(
            Path(outdir) / f"{name}.txt", "".join(f"{s}\n" for s in result.splits[name])
        )
    rows = ["clip\tfile\treason\n"]
    rows += [
        f"{c}\t{f}\t{r.replace(chr(9), ' ').replace(chr(10), ' ')}\n" for c, f, r in result.skipped
    ]
    write_text_atomic(skipped_tsv, "".join(rows))


def read_split_list(path: Path) -> list[str]:
    """Read a split list written by :func:`write_split`."""
    return [line.strip() for line in Path(path).read_text().splitlines() if line.strip()]
