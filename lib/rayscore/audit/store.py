"""The audited labels: a dataset of their own, parquet parts under one directory, append-only.

    store = LabelStore("out/audit/labels")
    store.find_import(sha)        # the part an earlier import of the same file wrote, or None
    store.append(rows, import_id) # a new part-<import_id>.parquet; an existing part is never rewritten
    store.read()                  # every audited row: LABEL_COLUMNS

One part per import (a part with no rows records an import that added nothing new), named by a
sequence number and the imported file's content hash: importing the same file again finds its
part and changes nothing. Parts are written under a temporary name and renamed, so a reader
(train_reward's data.audited_path, which reads the directory) never sees half a part.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

LABEL_COLUMNS = ["record_id", "text", "label", "who", "when", "source_file", "import_batch", "export_batch", "note"]
SCHEMA = pa.schema([(name, pa.string()) for name in LABEL_COLUMNS])


class LabelStore:
    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def parts(self) -> list[Path]:
        return sorted(self.directory.glob("part-*.parquet")) if self.directory.is_dir() else []

    def find_import(self, content_hash: str) -> Path | None:
        found = sorted(self.directory.glob(f"part-*-{content_hash[:16]}.parquet")) if self.directory.is_dir() else []
        return found[0] if found else None

    def next_import_id(self, content_hash: str) -> str:
        return f"{len(self.parts()) + 1:05d}-{content_hash[:16]}"

    def append(self, rows: pd.DataFrame, import_id: str) -> Path:
        """Write rows (LABEL_COLUMNS) as a new part; an existing part of that name is an error, never replaced."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"part-{import_id}.parquet"
        if path.exists():
            raise FileExistsError(f"{path}: already written; the store is append-only")
        table = pa.Table.from_pandas(rows[LABEL_COLUMNS].astype(object).where(rows[LABEL_COLUMNS].notna(), None),
                                     schema=SCHEMA, preserve_index=False)
        tmp = self.directory / f".tmp-{import_id}.parquet"
        pq.write_table(table, tmp)
        os.replace(tmp, path)
        return path

    def read(self) -> pd.DataFrame:
        parts = self.parts()
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in LABEL_COLUMNS})
        return pa.concat_tables([pq.read_table(p, schema=SCHEMA) for p in parts]).to_pandas()
