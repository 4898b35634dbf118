"""Small file helpers shared by every job: tables in, JSON out, on local paths or s3:// / gs://.

    df = read_table("data/gold.jsonl")      # parquet, JSONL, JSON array, CSV: a file or a directory
    df = read_table("s3://bucket/pairs/")   # the same through pyarrow's S3 / GCS filesystems
    fs, path = filesystem("s3://bucket/out")  # the one place that opens a storage location
    write_json(out / "summary.json", summary)   # through json_value: NaN and NA are null
    json_value(np.float32("nan")) is None; is_missing(pd.NA)
    return JobSummary(str(path), summary)    # a job's run(): its summary file; .ok from summary["ok"]
    absolute("data/in") == "/cwd/data/in"; absolute("s3://b/in") == "s3://b/in"   # on the driver
    join("s3://b/out", "model") == "s3://b/out/model"    # pathlib would make it "s3:/b/out/model"
    with local_output("s3://b/out") as out: ...   # a job writes in out; its files land in s3://b/out
    upload_dir("out/model", "s3://b/m"); download_dir("s3://b/m", "/tmp/m"); files("s3://b/m")

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

import contextlib
import fnmatch
import glob
import json
import logging
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)


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


def join(location: str | Path, *parts: str) -> str:
    """A path inside a location, a URI or a local path: "s3://b/out" + "model" -> "s3://b/out/model"."""
    location = str(location)
    if is_uri(location):
        return "/".join([location.rstrip("/"), *(p.strip("/") for p in parts)])
    return os.path.join(location, *parts)


def files(location: str | Path) -> list[tuple[str, int, int]]:
    """(path relative to location, size, mtime in ns) of every file under a directory, local or
    URI, sorted: what a copy of it holds. Empty when there is nothing there."""
    import pyarrow.fs as pafs

    fs, root = filesystem(str(location))
    infos = fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
    return sorted((i.path[len(root):].lstrip("/"), i.size, i.mtime_ns or 0)
                  for i in infos if i.type == pafs.FileType.File)


def exists(location: str | Path) -> bool:
    """Whether a file or directory is at a location (for a URI: any object under it)."""
    import pyarrow.fs as pafs

    fs, root = filesystem(str(location))
    return fs.get_file_info(root).type != pafs.FileType.NotFound


def uri_glob(pattern: str) -> list[str]:
    """The URIs matching a pattern whose wildcards are in its last part (s3://b/out/part-*.parquet)."""
    import pyarrow.fs as pafs

    folder, _, name = pattern.rpartition("/")
    fs, root = filesystem(folder)
    infos = fs.get_file_info(pafs.FileSelector(root, allow_not_found=True))
    return sorted(join(folder, i.base_name) for i in infos
                  if i.type == pafs.FileType.File and fnmatch.fnmatchcase(i.base_name, name))


def glob_files(pattern: str | Path) -> list[str]:
    """The files a glob names, local or URI (wildcards in the last part), sorted."""
    pattern = str(pattern)
    return uri_glob(pattern) if is_uri(pattern) else sorted(glob.glob(pattern))


def read_parquet(location: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """One parquet file (or a directory of them), local or URI."""
    import pyarrow.parquet as pq

    fs, path = filesystem(str(location))
    return pq.read_table(path, columns=columns, filesystem=fs).to_pandas()


def write_parquet(frame: pd.DataFrame, location: str | Path, **options) -> str:
    """A frame as one parquet file, local or URI (parent directories made); its location."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    fs, path = filesystem(str(location))
    fs.create_dir(path.rpartition("/")[0], recursive=True)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, filesystem=fs, **options)
    return str(location)


def upload_dir(local: str | Path, location: str) -> None:
    """Copy a local directory's files to a location (a URI or a local path). Each subdirectory
    replaces what the location held under its name (a model written again leaves no file of the
    old one there); the files beside them are overwritten one by one, the rest left as they are."""
    import pyarrow.fs as pafs

    fs, root = filesystem(location)
    for entry in Path(local).iterdir():
        if entry.is_dir():
            fs.delete_dir_contents(f"{root}/{entry.name}", missing_dir_ok=True)
    pafs.copy_files(str(local), root, source_filesystem=pafs.LocalFileSystem(), destination_filesystem=fs)


def download_dir(location: str, local: str | Path) -> None:
    """Copy every file under a location (a URI or a local path) into a local directory."""
    import pyarrow.fs as pafs

    fs, root = filesystem(location)
    Path(local).mkdir(parents=True, exist_ok=True)
    pafs.copy_files(root, str(local), source_filesystem=fs, destination_filesystem=pafs.LocalFileSystem())


@contextlib.contextmanager
def local_output(output_dir: str) -> Iterator[Path]:
    """The local directory a job writes its output_dir's own files in: output_dir itself when it is
    a local path; for a URI a fresh staging directory, uploaded to output_dir (upload_dir) when the
    block ends, after an error too (a failed run's config and quarantine are where its message
    points), then removed. Plots, reports and HF files are written by libraries that need a local
    path: staging keeps every job's writing code the same for both."""
    if not is_uri(output_dir):
        yield Path(output_dir)
        return
    fs, root = filesystem(output_dir)
    try:  # a bucket that is not there or not writable fails now, not after the run
        fs.create_dir(root, recursive=True)
    except OSError as e:
        raise FileNotFoundError(f"{output_dir}: cannot write here ({str(e).splitlines()[0]})") from None
    staging = Path(tempfile.mkdtemp(prefix="rayscore-out-"))
    finished = False
    try:
        yield staging
        finished = True
    finally:
        try:
            upload_dir(staging, output_dir)
        except Exception as e:
            if finished:
                raise
            logger.warning("%s: the failed run's files were not uploaded: %s", output_dir, e)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def relocated(data, staging: Path, output_dir: str):
    """`data` (a report: dicts, lists, paths) with each path under a local_output staging dir
    named where it is uploaded to, under output_dir (the same path for a local output_dir)."""
    if isinstance(data, dict):
        return {k: relocated(v, staging, output_dir) for k, v in data.items()}
    if isinstance(data, list):
        return [relocated(v, staging, output_dir) for v in data]
    if isinstance(data, (str, Path)) and str(data).startswith(f"{staging}{os.sep}"):
        return join(output_dir, str(data)[len(str(staging)) + 1:])
    return data


TABLE_SUFFIXES = (".parquet", ".jsonl", ".json", ".csv")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a whole (small) table, a file or a directory of files, local or s3:// / gs://; the
    format comes from each file's suffix (parquet, JSONL, JSON array, CSV read as text). A glob
    (`out/judge/part-*.parquet`: a chunked job's parts; in its last part only for a URI) reads every
    match, in name order.
    Errors name the file."""
    import pyarrow.fs as pafs

    path = str(path)
    if any(c in path for c in "*?["):
        matches = sorted(glob.glob(path)) if not is_uri(path) else uri_glob(path)
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
