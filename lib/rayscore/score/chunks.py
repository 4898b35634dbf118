"""Input planning and atomic output for exactly-once scoring.

    chunks = plan_chunks("data/in", rows_per_chunk=50_000, required=["text"])   # fails early, naming file/column
    store = ChunkStore("data/out", fingerprint)
    if not store.is_committed(chunk): ...; store.commit(chunk, scored, quarantined, counts)

A chunk is a run of whole parquet row groups from one or more files, about `rows_per_chunk` rows:
the unit of work, of output (one file) and of resume. Its name is fixed by its position in the
sorted input listing; its key hashes the files and row groups it covers. Commit writes the
quarantine part, then the output part, each to a temporary name and renamed, then the marker
`_committed/<name>.json`: a chunk with a marker is complete, one without is redone from scratch.
Paths may be local or s3:// / gs:// (pyarrow filesystems).
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import asdict, dataclass, field

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

logger = logging.getLogger(__name__)

COMMITTED, QUARANTINE = "_committed", "quarantine"


class InputError(ValueError):
    """The input cannot be scored at all (missing, unreadable, or lacking a required column)."""


@dataclass
class Span:
    path: str
    row_groups: list[int]
    first_row: int
    """Index in its file of the span's first row (for derived record ids)."""


@dataclass
class Chunk:
    index: int
    spans: list[Span]
    rows: int
    key: str = ""

    @property
    def name(self) -> str:
        return f"part-{self.index:05d}"

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Chunk:
        return cls(data["index"], [Span(**s) for s in data["spans"]], data["rows"], data["key"])


def filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    return pafs.FileSystem.from_uri(uri if "://" in uri else _absolute(uri))


def _absolute(path: str) -> str:
    import os

    return os.path.abspath(path)


def list_parquet(uri: str) -> tuple[pafs.FileSystem, list[str]]:
    fs, root = filesystem(uri)
    info = fs.get_file_info(root)
    if info.type == pafs.FileType.NotFound:
        raise InputError(f"{uri}: input not found")
    if info.type == pafs.FileType.File:
        return fs, [root]
    files = sorted(f.path for f in fs.get_file_info(pafs.FileSelector(root, recursive=True))
                   if f.type == pafs.FileType.File and f.path.endswith(".parquet")
                   and not any(part.startswith((".", "_")) for part in f.path[len(root):].split("/")))
    if not files:
        raise InputError(f"{uri}: no .parquet files found")
    return fs, files


def plan_chunks(uri: str, rows_per_chunk: int, required: list[str]) -> list[Chunk]:
    """Read every file's footer (not its data) and group row groups into chunks."""
    fs, files = list_parquet(uri)
    chunks: list[Chunk] = []
    spans: list[Span] = []
    rows = 0
    for path in files:
        meta = _footer(fs, path, required)
        first_row = 0
        for rg in range(meta.num_row_groups):
            n = meta.row_group(rg).num_rows
            if spans and spans[-1].path == path:
                spans[-1].row_groups.append(rg)
            else:
                spans.append(Span(path, [rg], first_row))
            rows += n
            first_row += n
            if rows >= rows_per_chunk:
                chunks.append(_chunk(len(chunks), spans, rows))
                spans, rows = [], 0
    if spans:
        chunks.append(_chunk(len(chunks), spans, rows))
    return chunks


def _chunk(index: int, spans: list[Span], rows: int) -> Chunk:
    key = hashlib.sha256(json.dumps([asdict(s) for s in spans]).encode()).hexdigest()[:16]
    return Chunk(index, spans, rows, key)


def _footer(fs: pafs.FileSystem, path: str, required: list[str]) -> pq.FileMetaData:
    try:
        with fs.open_input_file(path) as f:
            meta = pq.ParquetFile(f).metadata
    except (pa.ArrowInvalid, OSError) as e:
        raise InputError(f"{path}: unreadable or corrupt parquet file: {e}") from None
    names = set(meta.schema.names)
    missing = [c for c in required if c not in names]
    if missing:
        raise InputError(f"{path}: missing required column(s) {missing}; columns are {sorted(names)}")
    return meta


def read_chunk(fs: pafs.FileSystem, chunk: Chunk, columns: list[str] | None = None) -> pa.Table:
    """The chunk's rows, with `_file` and `_row` (row index in its file) for derived record ids."""
    tables = []
    for span in chunk.spans:
        with fs.open_input_file(span.path) as f:
            table = pq.ParquetFile(f).read_row_groups(span.row_groups, columns=columns)
        table = table.append_column("_file", pa.array([span.path] * table.num_rows, pa.string()))
        table = table.append_column("_row", pa.array(range(span.first_row, span.first_row + table.num_rows),
                                                     pa.int64()))
        tables.append(table)
    return pa.concat_tables(tables, promote_options="permissive")


@dataclass
class ChunkStore:
    """The output directory: parts, quarantine parts and commit markers of one fingerprint."""

    uri: str
    fingerprint: str
    fs: pafs.FileSystem = field(init=False, repr=False)
    root: str = field(init=False)

    def __post_init__(self):
        self.fs, self.root = filesystem(self.uri)

    def part_path(self, chunk: Chunk) -> str:
        return f"{self.root}/{chunk.name}-{self.fingerprint}.parquet"

    def quarantine_path(self, chunk: Chunk) -> str:
        return f"{self.root}/{QUARANTINE}/{chunk.name}-{self.fingerprint}.parquet"

    def marker_path(self, chunk: Chunk) -> str:
        return f"{self.root}/{COMMITTED}/{chunk.name}-{self.fingerprint}.json"

    def committed(self, chunk: Chunk) -> dict | None:
        """The chunk's commit record, or None. A marker for other input (key differs) is an error."""
        path = self.marker_path(chunk)
        if self.fs.get_file_info(path).type != pafs.FileType.File:
            return None
        with self.fs.open_input_stream(path) as f:
            record = json.loads(f.read().decode())
        if record["key"] != chunk.key:
            raise InputError(f"{path}: committed for different input rows than {chunk.name} now covers "
                             "(the input changed since that run); write to a new output or set overwrite=true")
        return record

    def foreign_outputs(self) -> list[str]:
        """Committed markers of another fingerprint (another model or scorer config)."""
        info = self.fs.get_file_info(pafs.FileSelector(f"{self.root}/{COMMITTED}", allow_not_found=True))
        return sorted(i.path for i in info if i.path.endswith(".json") and not i.path.endswith(
            f"-{self.fingerprint}.json"))

    def clear(self) -> None:
        if self.fs.get_file_info(self.root).type == pafs.FileType.Directory:
            self.fs.delete_dir_contents(self.root)

    def commit(self, chunk: Chunk, scored: pa.Table, quarantined: pa.Table, record: dict) -> None:
        self.fs.create_dir(f"{self.root}/{COMMITTED}", recursive=True)
        self.fs.create_dir(f"{self.root}/{QUARANTINE}", recursive=True)
        if quarantined.num_rows:
            self._write_atomic(self.quarantine_path(chunk), quarantined)
        self._write_atomic(self.part_path(chunk), scored)
        payload = json.dumps({**record, "key": chunk.key, "chunk": chunk.name}, ensure_ascii=False).encode()
        tmp = f"{self.marker_path(chunk)}.{uuid.uuid4().hex}.tmp"
        with self.fs.open_output_stream(tmp) as f:
            f.write(payload)
        self.fs.move(tmp, self.marker_path(chunk))

    def records(self) -> list[dict]:
        """Every commit record of this fingerprint (this run's and earlier runs')."""
        info = self.fs.get_file_info(pafs.FileSelector(f"{self.root}/{COMMITTED}", allow_not_found=True))
        out = []
        for i in sorted(info, key=lambda i: i.path):
            if i.path.endswith(f"-{self.fingerprint}.json"):
                with self.fs.open_input_stream(i.path) as f:
                    out.append(json.loads(f.read().decode()))
        return out

    def write_file(self, name: str, text: str) -> str:
        """A small file (summary, config) at the top of the output directory."""
        self.fs.create_dir(self.root, recursive=True)
        path = f"{self.root}/{name}"
        with self.fs.open_output_stream(path) as f:
            f.write(text.encode())
        return path

    def _write_atomic(self, path: str, table: pa.Table) -> None:
        tmp = f"{path}.{uuid.uuid4().hex}.tmp"
        pq.write_table(table, tmp, filesystem=self.fs, compression="zstd")
        self.fs.move(tmp, path)
