"""Per-frame Parquet tables: the on-disk format of prepared clips, features and samples.

A table holds T frames. Each column is either a scalar per frame (``[T]``) or a fixed-width
vector per frame (``[T, D]``, stored as a Parquet ``FixedSizeList<float32>[D]`` so that a
1133-dim feature is one column, not 1133). File-level metadata is a JSON object stored under the
key ``adm`` of the Parquet schema metadata (layout, fps, source files, versions, config hash).
Data pages carry CRC checksums, checked on reading, so a damaged file is an error, not data.
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
        # Page checksums let a reader tell a damaged data page from data.
        pq.write_table(table, tmp, compression="zstd", write_page_checksum=True)


def _from_arrow(column: pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_fixed_size_list(column.type):
        width = column.type.list_size
        flat = column.combine_chunks().flatten().to_numpy(zero_copy_only=False)
        return flat.reshape(-1, width)
    return column.to_numpy()


def _parquet_error(path: Path, err: BaseException) -> BadInputError:
    if isinstance(err, FileNotFoundError):
        return BadInputError(path, "file not found")
    if isinstance(err, IsADirectoryError):
        return BadInputError(path, "is a folder, not a Parquet file")
    if isinstance(err, PermissionError):
        return BadInputError(path, "cannot read: permission denied")
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return BadInputError(path, f"not a readable Parquet file ({text})")


def _decode_metadata(path: Path, schema: pa.Schema) -> dict[str, Any]:
    raw = (schema.metadata or {}).get(_META_KEY, b"{}")
    try:
        meta = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BadInputError(path, f"its 'adm' metadata is not valid JSON ({err})") from None
    if not isinstance(meta, dict):
        raise BadInputError(path, "its 'adm' metadata is not a JSON object")
    return meta


def read_frames(path: str | Path, columns: list[str] | None = None) -> FrameTable:
    """Read a table written by :func:`write_frames`.

    The one reader of every Parquet file the stages use (clips, features, samples, vectors),
    so that each stage reports a damaged file the same way.

    Args:
        columns: read only these (all when ``None``).

    Raises:
        BadInputError: the file is missing, not Parquet (truncated, damaged, another format),
            its metadata is not JSON, or it lacks a requested column.
    """
    path = Path(path)
    try:
        file = pq.ParquetFile(path, page_checksum_verification=True)
        schema = file.schema_arrow
        if columns is not None:
            missing = [c for c in columns if c not in schema.names]
            if missing:
                raise BadInputError(
                    path, f"lacks column(s) {missing} (it has {list(schema.names)})"
                )
        table = file.read(columns=columns)
    except BadInputError:
        raise
    except (pa.ArrowException, OSError, ValueError) as err:
        raise _parquet_error(path, err) from None
    lengths = {len(c) for c in table.columns}
    if len(lengths) > 1:
        raise BadInputError(path, "columns differ in length")
    try:
        columns_out = {name: _from_arrow(table.column(name)) for name in table.column_names}
    except (pa.ArrowException, ValueError) as err:
        raise _parquet_error(path, err) from None
    return FrameTable(columns=columns_out, metadata=_decode_metadata(path, table.schema))


def read_metadata(path: str | Path) -> dict[str, Any]:
    """Read only the JSON metadata of a frame table (cheap: no column data).

    Raises:
        BadInputError: as :func:`read_frames`.
    """
    path = Path(path)
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError, ValueError) as err:
        raise _parquet_error(path, err) from None
    return _decode_metadata(path, schema)


def column_width(path: str | Path, name: str) -> int:
    """Width ``D`` of the ``[T, D]`` column ``name`` (1 for a ``[T]`` column), read from the
    file's schema alone.

    Raises:
        BadInputError: as :func:`read_frames`, or the file has no column ``name``.
    """
    path = Path(path)
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError, ValueError) as err:
        raise _parquet_error(path, err) from None
    if name not in schema.names:
        raise BadInputError(path, f"no column {name!r} (it has {schema.names})")
    kind = schema.field(name).type
    return kind.list_size if pa.types.is_fixed_size_list(kind) else 1
