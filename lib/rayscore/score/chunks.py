"""Input planning and atomic output for exactly-once scoring.

    footers = read_footers("data/in", required=["text"])     # fails early, naming file and column
    chunks = plan_chunks(footers, rows_per_chunk=50_000)
    store = ChunkStore("data/out", fingerprint)
    if store.committed(chunk) is None: ...; store.commit(chunk, scored, quarantined, record)

A chunk is a run of whole parquet row groups from one or more files, about `rows_per_chunk` rows
(small files are grouped; a row group is never split, so a chunk is at least one row group): the
unit of work, of output (one file) and of resume. Its name is fixed by its position in the sorted
input listing; its key hashes the files and row groups it covers. Commit writes the quarantine
part, then the output part, each to a temporary file under `_tmp/` and renamed into place, then
the marker `_committed/<name>-<fingerprint>.json` (also written to `_tmp/` and renamed): a chunk
with a marker is complete, one without is redone from scratch, overwriting any part a killed
attempt left. A scorer whose rows can fail transiently (the judge's endpoint calls) also writes
an errors part, `errors/<name>-<fingerprint>.parquet`, before the marker; a rerun re-sends those
rows and recommits the chunk: their successes go to a retry part `<name>-r<k>-<fingerprint>.parquet`,
the rows still failing to `errors/<name>-r<k>-<fingerprint>.parquet`, then the marker is
replaced (the commit of round k) and the previous errors part deleted. A rerun killed before the
marker redoes round k and overwrites its files. `_tmp/` and `_committed/` start with "_", so parquet readers of the output
directory skip them. Paths may be local or s3:// / gs:// (pyarrow filesystems; on object stores
the rename is a copy, and the marker alone is the commit).
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import asdict, dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from rayscore.io import absolute

logger = logging.getLogger(__name__)

COMMITTED, QUARANTINE, TMP, ERRORS = "_committed", "quarantine", "_tmp", "errors"


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
    """The pyarrow filesystem of a URI or local path (made absolute), and the path inside it."""
    return pafs.FileSystem.from_uri(absolute(uri))


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


def read_footers(uri: str, required: list[str]) -> list[tuple[str, pq.FileMetaData]]:
    """(path, footer) of every input file, in order; reads no data pages."""
    fs, files = list_parquet(uri)
    return [(path, _footer(fs, path, required)) for path in files]


def plan_chunks(footers: list[tuple[str, pq.FileMetaData]], rows_per_chunk: int) -> list[Chunk]:
    """Group the files' row groups, in order, into chunks of about rows_per_chunk rows."""
    chunks: list[Chunk] = []
    spans: list[Span] = []
    rows = 0
    for path, meta in footers:
        first_row = 0
        for rg in range(meta.num_row_groups):
            n = meta.row_group(rg).num_rows
            if n == 0:
                continue
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


def compressed_bytes_per_row(footers: list[tuple[str, pq.FileMetaData]],
                             columns: list[str] | None = None) -> float:
    """Average compressed bytes per row of `columns` (all when None) over the input files."""
    total, rows = 0, 0
    for _, meta in footers:
        for rg in range(meta.num_row_groups):
            group = meta.row_group(rg)
            rows += group.num_rows
            for c in range(group.num_columns):
                column = group.column(c)
                if columns is None or column.path_in_schema.split(".")[0] in columns:
                    total += column.total_compressed_size
    return total / rows if rows else 0.0


def _chunk(index: int, spans: list[Span], rows: int) -> Chunk:
    key = hashlib.sha256(json.dumps([asdict(s) for s in spans]).encode()).hexdigest()[:16]
    return Chunk(index, spans, rows, key)


def _footer(fs: pafs.FileSystem, path: str, required: list[str]) -> pq.FileMetaData:
    try:
        with fs.open_input_file(path) as f:
            meta = pq.ParquetFile(f).metadata
    except (pa.ArrowInvalid, OSError) as e:
        raise InputError(f"{path}: unreadable or corrupt parquet file: {e}") from None
    names = set(meta.schema.to_arrow_schema().names)  # top-level columns (schema.names lists nested leaves)
    missing = [c for c in required if c not in names]
    if missing:
        raise InputError(f"{path}: missing required column(s) {missing}; columns are {sorted(names)}")
    return meta


def _round(round_: int) -> str:
    return f"-r{round_}" if round_ else ""


def read_chunk(fs: pafs.FileSystem, chunk: Chunk, columns: list[str] | None = None) -> pa.Table:
    """The chunk's rows, with `_file` and `_row` (row index in its file) for derived record ids.
    A file whose footer was fine but whose data is not fails naming the file."""
    tables = []
    for span in chunk.spans:
        try:
            with fs.open_input_file(span.path) as f:
                table = pq.ParquetFile(f).read_row_groups(span.row_groups, columns=columns)
        except (pa.ArrowException, OSError) as e:
            raise InputError(f"{span.path}: unreadable or corrupt parquet data in row groups "
                             f"{span.row_groups}: {e}") from None
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

    def errors_path(self, chunk: Chunk, round_: int = 0) -> str:
        return f"{self.root}/{ERRORS}/{chunk.name}{_round(round_)}-{self.fingerprint}.parquet"

    def retry_part_path(self, chunk: Chunk, round_: int) -> str:
        return f"{self.root}/{chunk.name}{_round(round_)}-{self.fingerprint}.parquet"

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
        """Outputs of another fingerprint (another model or scorer config): markers, parts and
        quarantine parts, committed or left by a killed run."""
        found = []
        for folder, suffix in ((COMMITTED, ".json"), ("", ".parquet"), (QUARANTINE, ".parquet"), (ERRORS, ".parquet")):
            info = self.fs.get_file_info(pafs.FileSelector(f"{self.root}/{folder}".rstrip("/"),
                                                           allow_not_found=True))
            found += [i.path for i in info if i.type == pafs.FileType.File and i.base_name.startswith("part-")
                      and i.path.endswith(suffix) and not i.path.endswith(f"-{self.fingerprint}{suffix}")]
        return sorted(found)

    def clear(self) -> None:
        if self.fs.get_file_info(self.root).type == pafs.FileType.Directory:
            self.fs.delete_dir_contents(self.root)

    def clear_tmp(self) -> None:
        """Remove temporary files that killed attempts left behind (never part of the output)."""
        if self.fs.get_file_info(f"{self.root}/{TMP}").type == pafs.FileType.Directory:
            self.fs.delete_dir_contents(f"{self.root}/{TMP}")

    def commit(self, chunk: Chunk, scored: pa.Table, quarantined: pa.Table, record: dict,
               errors: pa.Table | None = None) -> dict:
        """Write the chunk's parts (and errors part) and then its marker; returns the record as
        committed (with the part's size in bytes)."""
        for folder in (COMMITTED, QUARANTINE, TMP):
            self.fs.create_dir(f"{self.root}/{folder}", recursive=True)
        if quarantined.num_rows:
            self._write_atomic(self.quarantine_path(chunk), quarantined)
        record = {**record, **self._write_errors(chunk, 0, errors)}
        self._write_atomic(self.part_path(chunk), scored)
        record = {**record, "key": chunk.key, "chunk": chunk.name,
                  "part_bytes": self.fs.get_file_info(self.part_path(chunk)).size}
        self._write_marker(chunk, record)
        return record

    def recommit(self, chunk: Chunk, record: dict, scored: pa.Table, errors: pa.Table, update: dict) -> dict:
        """Commit round k = record["round"] + 1 of a chunk with errors: the rows now scored in a
        retry part, those still failing in a new errors part, then the marker (the commit), then
        the previous errors part is removed."""
        round_ = record.get("round", 0) + 1
        previous = record.get("errors_file")
        self.fs.create_dir(f"{self.root}/{TMP}", recursive=True)
        # A killed attempt at this round may have left either file: none may outlive this commit.
        for path in (self.errors_path(chunk, round_), self.retry_part_path(chunk, round_)):
            if self.fs.get_file_info(path).type == pafs.FileType.File:
                self.fs.delete_file(path)
        written = self._write_errors(chunk, round_, errors)
        part_bytes = record.get("part_bytes", 0)
        if scored.num_rows:
            self._write_atomic(self.retry_part_path(chunk, round_), scored)
            part_bytes += self.fs.get_file_info(self.retry_part_path(chunk, round_)).size
        record = {**record, **update, "round": round_, "part_bytes": part_bytes,
                  "retry_parts": record.get("retry_parts", []) + (
                      [self.retry_part_path(chunk, round_)] if scored.num_rows else []),
                  "errors_file": written.get("errors_file")}
        self._write_marker(chunk, record)
        if previous and previous != record["errors_file"]:
            self.fs.delete_file(previous)
        return record

    def read_errors(self, record: dict) -> pa.Table:
        """The rows of a committed chunk whose scoring failed (its current errors part)."""
        return pq.read_table(record["errors_file"], filesystem=self.fs)

    def _write_errors(self, chunk: Chunk, round_: int, errors: pa.Table | None) -> dict:
        if errors is None or not errors.num_rows:
            return {"errors_file": None}
        self.fs.create_dir(f"{self.root}/{ERRORS}", recursive=True)
        self._write_atomic(self.errors_path(chunk, round_), errors)
        return {"errors_file": self.errors_path(chunk, round_)}

    def _write_marker(self, chunk: Chunk, record: dict) -> None:
        tmp = self._tmp_path(self.marker_path(chunk))
        with self.fs.open_output_stream(tmp) as f:
            f.write(json.dumps(record, ensure_ascii=False).encode())
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

    def duplicate_ids(self, chunks: list[Chunk], examples: int = 5) -> dict:
        """Record ids found on more than one row of the scored and quarantined parts: the input
        repeats them (each input row is still in the output once). Reads the id column only."""
        paths = [p for c in chunks for p in (self.part_path(c), self.quarantine_path(c))
                 if self.fs.get_file_info(p).type == pafs.FileType.File]
        columns = [pq.read_table(p, columns=["record_id"], filesystem=self.fs)["record_id"] for p in paths]
        if not columns:
            return {"ids": 0, "rows": 0, "examples": []}
        counts = pc.value_counts(pa.chunked_array(columns, pa.string()).drop_null())
        repeated = counts.filter(pc.greater(counts.field("counts"), 1))
        return {"ids": len(repeated), "rows": int(pc.sum(repeated.field("counts")).as_py() or 0),
                "examples": repeated.field("values").to_pylist()[:examples]}

    def write_file(self, name: str, content: str | bytes) -> str:
        """A small file (summary, config, plot) at the top of the output directory."""
        self.fs.create_dir(self.root, recursive=True)
        path = f"{self.root}/{name}"
        with self.fs.open_output_stream(path) as f:
            f.write(content.encode() if isinstance(content, str) else content)
        return path

    def _tmp_path(self, path: str) -> str:
        return f"{self.root}/{TMP}/{path.rsplit('/', 1)[-1]}.{uuid.uuid4().hex}"

    def _write_atomic(self, path: str, table: pa.Table) -> None:
        tmp = self._tmp_path(path)
        pq.write_table(table, tmp, filesystem=self.fs, compression="zstd")
        self.fs.move(tmp, path)
