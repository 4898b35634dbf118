"""Small file helpers shared by every job: tables in, JSON out, on local paths or s3:// / gs://.

    df = read_table("data/gold.jsonl")      # parquet, JSONL, JSON array, CSV: a file or a directory
    df = read_table("s3://bucket/pairs/")   # the same through pyarrow's S3 / GCS filesystems
    fs, path = filesystem("s3://bucket/out")  # the one place that opens a storage location
    write_json(out / "summary.json", summary)   # through json_value: NaN and NA are null
    json_value(np.float32("nan")) is None; is_missing(pd.NA)
    return JobSummary(str(path), summary)    # a job's run(): its summary file; .ok from summary["ok"]
    absolute("data/in") == "/cwd/data/in"; absolute("s3://b/in") == "s3://b/in"   # on the driver

Paths: `is_uri` and `absolute` are the one place that says whether a setting is a local path, and
every job makes its config's local paths absolute with `absolute` before Ray workers see them.

Object stores: credentials come from the standard variables (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION / AWS_DEFAULT_REGION, or ~/.aws for S3;
GOOGLE_APPLICATION_CREDENTIALS for GCS), and an S3-compatible server other than AWS (MinIO, Ceph,
a test server) is named by AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, e.g. http://127.0.0.1:9000,
which `filesystem` hands to pyarrow. Ray workers inherit the driver's environment on a local Ray;
on a cluster, set the same variables in the runtime environment (cluster/runtime_env.yaml).
"""

from __future__ import annotations

import glob
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

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


def filesystem(uri: str):
    """The pyarrow filesystem of a URI or local path (made absolute), and the path inside it.
    s3:// honours AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (pyarrow itself reads neither)."""
    import pyarrow.fs as pafs

    uri = absolute(uri)
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if uri.startswith("s3://") and endpoint:
        url = urlparse(endpoint)
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        fs = pafs.S3FileSystem(endpoint_override=url.netloc or url.path, scheme=url.scheme or "https",
                               region=region, allow_bucket_creation=True)
        return fs, uri[len("s3://"):].rstrip("/")
    return pafs.FileSystem.from_uri(uri)


TABLE_SUFFIXES = (".parquet", ".jsonl", ".json", ".csv")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a whole (small) table, a file or a directory of files, local or s3:// / gs://; the
    format comes from each file's suffix (parquet, JSONL, JSON array, CSV read as text). A local
    glob (`out/judge/part-*.parquet`: a chunked job's parts) reads every match, in name order.
    Errors name the file."""
    import pyarrow.fs as pafs

    path = str(path)
    if any(c in path for c in "*?[") and not is_uri(path):
        matches = sorted(glob.glob(path))
        if not matches:
            raise FileNotFoundError(f"{path}: no file matches")
        return pd.concat([read_table(m) for m in matches], ignore_index=True)
    fs, root = filesystem(path)
    info = fs.get_file_info(root)
    if info.type == pafs.FileType.NotFound:
        raise FileNotFoundError(f"{path}: no such file")
    if info.type == pafs.FileType.File:
        return _read_file(fs, root, path)
    files = sorted(i.path for i in fs.get_file_info(pafs.FileSelector(root, recursive=True))
                   if i.type == pafs.FileType.File and i.path.endswith(TABLE_SUFFIXES)
                   and not any(p.startswith((".", "_")) for p in i.path[len(root):].split("/")))
    if not files:
        raise FileNotFoundError(f"{path}: no table files ({', '.join(TABLE_SUFFIXES)}) in this directory")
    frames = [_read_file(fs, f, f) for f in files]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _read_file(fs, inner: str, shown: str) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        if inner.endswith(".parquet") or not inner.endswith((".jsonl", ".json", ".csv")):
            return pq.read_table(inner, filesystem=fs).to_pandas()
        with fs.open_input_stream(inner) as f:
            data = f.read()
        if inner.endswith(".jsonl"):
            return pd.read_json(_text(data), lines=True, dtype=False)
        if inner.endswith(".json"):
            return pd.read_json(_text(data), dtype=False)
        return pd.read_csv(_text(data), dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"{shown}: no such file") from None
    except (ValueError, OSError) as e:
        raise ValueError(f"{shown}: cannot read as a table: {e}") from None


def _text(data: bytes):
    import io

    return io.StringIO(data.decode("utf-8"))


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
