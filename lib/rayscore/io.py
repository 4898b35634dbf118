"""Small file helpers shared by every job: tables in, JSON out, on local paths or s3:// / gs://.

    df = read_table("data/gold.jsonl")      # parquet file or dir, JSONL, JSON array, CSV
    write_json(out / "summary.json", summary)
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a whole (small) table; the format comes from the suffix. Errors name the file."""
    path = str(path)
    try:
        if path.endswith(".jsonl"):
            return pd.read_json(path, lines=True, dtype=False)
        if path.endswith(".json"):
            return pd.read_json(path, dtype=False)
        if path.endswith(".csv"):
            return pd.read_csv(path, dtype=str, keep_default_na=False)
        return pd.read_parquet(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except ValueError as e:
        raise ValueError(f"{path}: cannot read as a table: {e}") from None


def write_json(path: str | Path, data: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=_plain), encoding="utf-8")
    return path


def _plain(value):
    """numpy scalars and arrays as plain JSON numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
