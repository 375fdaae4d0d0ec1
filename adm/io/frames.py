"""Per-frame Parquet tables: the on-disk format of prepared clips, features and samples.

A table holds T frames. Each column is either a scalar per frame (``[T]``) or a fixed-width
vector per frame (``[T, D]``, stored as a Parquet ``FixedSizeList<float32>[D]`` so that a
1133-dim feature is one column, not 1133). File-level metadata is a JSON object stored under the
key ``adm`` of the Parquet schema metadata (layout, fps, source files, versions, config hash).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from adm.errors import BadInputError
from adm.io.atomic import atomic_path

_META_KEY = b"adm"


@dataclass
class FrameTable:
    """Columns of equal length T plus JSON metadata.

    Attributes:
        columns: name -> array ``[T]`` or ``[T, D]``.
        metadata: JSON-serialisable dict.
    """

    columns: dict[str, np.ndarray]
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]


def _to_arrow(name: str, values: np.ndarray) -> pa.Array:
    values = np.asarray(values)
    if values.ndim == 1:
        return pa.array(values)
    if values.ndim == 2:
        flat = pa.array(np.ascontiguousarray(values, dtype=np.float32).reshape(-1))
        return pa.FixedSizeListArray.from_arrays(flat, values.shape[1])
    raise ValueError(f"column {name!r}: expected [T] or [T, D], got shape {values.shape}")


def write_frames(path: str | Path, columns: dict[str, np.ndarray], metadata: dict | None = None):
    """Write a :class:`FrameTable` atomically (zstd-compressed Parquet).

    Raises:
        ValueError: columns differ in length.
    """
    lengths = {name: len(v) for name, v in columns.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"{path}: columns differ in length: {lengths}")
    arrays = {name: _to_arrow(name, v) for name, v in columns.items()}
    table = pa.table(arrays)
    meta = {_META_KEY: json.dumps(metadata or {}, sort_keys=True).encode()}
    table = table.replace_schema_metadata(meta)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def _from_arrow(column: pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_fixed_size_list(column.type):
        width = column.type.list_size
        flat = column.combine_chunks().flatten().to_numpy(zero_copy_only=False)
        return flat.reshape(-1, width)
    return column.to_numpy()


def read_frames(path: str | Path, columns: list[str] | None = None) -> FrameTable:
    """Read a table written by :func:`write_frames`.

    Raises:
        BadInputError: the file is missing, not Parquet, or lacks a requested column.
    """
    path = Path(path)
    try:
        table = pq.read_table(path, columns=columns)
    except FileNotFoundError:
        raise BadInputError(path, "file not found") from None
    except (pa.ArrowInvalid, OSError) as err:
        raise BadInputError(path, f"not a readable Parquet file ({err})") from None
    raw = (table.schema.metadata or {}).get(_META_KEY, b"{}")
    return FrameTable(
        columns={name: _from_arrow(table.column(name)) for name in table.column_names},
        metadata=json.loads(raw),
    )


def read_metadata(path: str | Path) -> dict[str, Any]:
    """Read only the JSON metadata of a frame table (cheap: no column data)."""
    schema = pq.read_schema(path)
    return json.loads((schema.metadata or {}).get(_META_KEY, b"{}"))
