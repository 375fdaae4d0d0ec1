"""File helpers shared by every stage: atomic writes and the per-frame Parquet format."""
