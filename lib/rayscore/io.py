"""Small file helpers shared by every job: tables in, JSON out, on local paths or s3:// / gs://.

    df = read_table("data/gold.jsonl")      # parquet file or dir, JSONL, JSON array, CSV
    write_json(out / "summary.json", summary)   # through json_value: NaN and NA are null
    json_value(np.float32("nan")) is None; is_missing(pd.NA)
    return JobSummary(str(path), summary)    # a job's run(): its summary file; .ok from summary["ok"]
    absolute("data/in") == "/cwd/data/in"; absolute("s3://b/in") == "s3://b/in"   # on the driver

Paths: `is_uri` and `absolute` are the one place that says whether a setting is a local path, and
every job makes its config's local paths absolute with `absolute` before Ray workers see them.
"""

from __future__ import annotations

import glob
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


def is_uri(path: str) -> bool:
    """s3://, gs://, hdfs://...: a location a filesystem library opens, never a local path."""
    return "://" in path


def absolute(path: str | None, names: bool = False) -> str | None:
    """A local path made absolute, on the driver: Ray workers, actors and replicas run in other
    directories, where a relative path names another place. None, "" and URIs pass through.
    names=True is for settings that may name a model instead of a directory (a hub id such as
    "Qwen/Qwen2-0.5B-Instruct", or "minilm"): such a value is a local path only when it exists here
    or is written as one ("./x", "../x", "/x"); otherwise it passes through."""
    if not path or is_uri(path):
        return path
    if names and not (os.path.exists(path) or path.startswith((".", os.sep))):
        return path
    return os.path.abspath(path)


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a whole (small) table; the format comes from the suffix. Errors name the file. A glob
    (`out/judge/part-*.parquet`: a chunked job's parts) reads every match, in name order."""
    path = str(path)
    if any(c in path for c in "*?[") and not is_uri(path):
        matches = sorted(glob.glob(path))
        if not matches:
            raise FileNotFoundError(f"{path}: no file matches")
        return pd.concat([read_table(m) for m in matches], ignore_index=True)
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


@dataclass
class JobSummary:
    """What a job that writes a summary returns: where it wrote it and what it holds; `ok` is the
    summary's own verdict (its "ok" key), which the job's exit status follows."""

    path: str
    data: dict

    @property
    def ok(self) -> bool:
        return self.data["ok"]


def write_json(path: str | Path, data: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(json_value(data), ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return path


def write_jsonl(frame: pd.DataFrame, path: str | Path) -> Path:
    """Rows as UTF-8 JSON lines (Chinese kept readable), each value through json_value: rows of any
    types, e.g. quarantined ones, which a parquet column could not hold."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for row in frame.to_dict("records"):
            fh.write(json.dumps(json_value(row), ensure_ascii=False, default=str) + "\n")
    return path


def is_missing(value) -> bool:
    """None, NaN (pandas' null in float columns) or pandas' NA / NaT."""
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def json_value(value):
    """Plain JSON data, recursively: numpy scalars and arrays as Python numbers and lists, NaN,
    infinities and pandas' NA as null (never an invalid NaN token), dict keys as text."""
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [json_value(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return None if value is pd.NA or value is pd.NaT else value
