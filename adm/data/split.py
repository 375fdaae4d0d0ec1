"""Train/val/test lists from the prepared clips (CaMN's rule, beat.md) and the skipped list."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from adm.data.clips import camn_split, parse_clip_name
from adm.errors import BadInputError
from adm.io.atomic import write_text_atomic
from adm.io.frames import read_metadata

SPLITS = ("train", "val", "test")


@dataclass
class SplitResult:
    """Clip stems per split and the clips skipped by the data stage with their reason."""

    splits: dict[str, list[str]] = field(default_factory=lambda: {s: [] for s in SPLITS})
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (clip, file, reason)


def _clip_of(path: Path):
    try:
        return parse_clip_name(path.stem)
    except ValueError as err:
        raise BadInputError(path, f"not a prepared clip's file name ({err})") from None


def split_clips(prepared: list[Path]) -> SplitResult:
    """Assign every prepared clip to its CaMN split; collect the skipped ones.

    Args:
        prepared: prepared Parquet files (one per clip), including skipped markers.

    Raises:
        BadInputError: a file is unreadable, is not a prepared clip (its name or metadata), holds
            another clip than its name says, or a clip is given twice.
    """
    result = SplitResult()
    named = {Path(p): _clip_of(Path(p)) for p in prepared}
    seen: dict[str, Path] = {}
    for path in sorted(named, key=named.get):
        stem = path.stem
        if stem in seen:
            raise BadInputError(path, f"clip {stem} given twice (also {seen[stem]})")
        seen[stem] = path
        meta = read_metadata(path)
        if "clip" not in meta:
            raise BadInputError(path, "not a prepared clip: its metadata has no 'clip'")
        if meta["clip"] != stem:
            raise BadInputError(path, f"holds clip {meta['clip']}, not {stem} (renamed?)")
        if meta.get("skipped"):
            result.skipped.append((stem, meta.get("file", ""), meta.get("reason", "")))
            continue
        result.splits[camn_split(named[path])].append(stem)
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
    """Read a split list written by :func:`write_split` (one clip name a line).

    Raises:
        BadInputError: missing, not text, a line that is not a BEAT clip name (line named), or
            a clip listed twice.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise BadInputError(path, "split list not found") from None
    except IsADirectoryError:
        raise BadInputError(path, "is a folder, not a split list") from None
    except OSError as err:
        raise BadInputError(path, f"cannot read: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise BadInputError(path, "not a split list: not UTF-8 text") from None
    stems: list[str] = []
    seen: set[str] = set()
    for no, line in enumerate(text.splitlines(), start=1):
        stem = line.strip()
        if not stem:
            continue
        try:
            parse_clip_name(stem)
        except ValueError as err:
            raise BadInputError(path, f"line {no}: {err}") from None
        if stem in seen:
            raise BadInputError(path, f"line {no}: clip {stem} listed twice")
        seen.add(stem)
        stems.append(stem)
    return stems
