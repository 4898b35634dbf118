"""Reading and filtering a nested job's output parts (part-*.parquet), one part at a time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def read_parts(directory: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """`columns` (None: all) of every part-*.parquet in directory (score_batch's committed chunks), in order."""
    files = sorted(directory.glob("part-*.parquet"))
    frames = [pd.read_parquet(f, columns=columns) for f in files]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def rewrite_parts(source: Path, target: Path, select: Callable[[pa.Table], pa.Table]) -> int:
    """Write select(part) of each source part to target under the part's name (a part that selects
    nothing writes no file); returns the rows written. Memory: one part, whatever the corpus size."""
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("part-*.parquet"):
        old.unlink()  # a previous run's selection, maybe under another threshold or model
    rows = 0
    for path in sorted(source.glob("part-*.parquet")):
        chosen = select(pq.read_table(path))
        if chosen.num_rows:
            pq.write_table(chosen, target / path.name)
        rows += chosen.num_rows
    return rows
