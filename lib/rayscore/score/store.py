"""The output store of exactly-once scoring: parts written atomically, committed by a marker.

    store = ChunkStore("data/out", fingerprint)
    if store.committed(chunk) is None: ...; store.commit(chunk, scored, quarantined, record)
    for frame in iter_parts("data/out"): ...          # the read side: committed parts, in order

Commit writes the quarantine part (or removes an older one), the sorted ids of the chunk
(`_ids/`, for the duplicate-id report), then the output part, each to a temporary file under
`_tmp/` and moved into place, then the marker `_committed/<name>-<fingerprint>.json`: a chunk
whose marker holds its key is complete, any other is redone from scratch, overwriting what an
earlier attempt or an earlier input left. `_tmp/`, `_ids/` and `_committed/` start with "_", so
parquet readers of the output directory skip them. On object stores a move is a copy and a
delete, and the marker alone is the commit.

A scorer whose rows can fail transiently (the judge's endpoint calls) also writes an errors part,
`errors/<name>-<fingerprint>.parquet`, before the marker; a rerun re-sends those rows and
recommits the chunk: their successes go to a retry part `<name>-r<k>-<fingerprint>.parquet`, the
rows still failing to `errors/<name>-r<k>-<fingerprint>.parquet`, then the marker is replaced
(the commit of round k) and the previous errors part deleted. A rerun killed before the marker
redoes round k and overwrites its files.

The read side (part_files, iter_parts, rewrite_parts) is the one place that knows how parts are
named: other packages read a store's output through it, never by globbing the directory.
"""

from __future__ import annotations

import heapq
import itertools
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from rayscore.io import filesystem, glob_files, is_uri, join, read_parquet
from rayscore.score.chunk import Chunk

COMMITTED, QUARANTINE, TMP, IDS, ERRORS = "_committed", "quarantine", "_tmp", "_ids", "errors"
PARTS = "part-*.parquet"
"""The names of a directory's parts (each chunk's part, then its retry parts), as a glob."""
IDS_BATCH_ROWS = 256
"""Ids per batch of each sorted id file in the duplicate-id merge (the driver holds one per file)."""
MERGE_FANIN = 128
"""Sorted id files merged at once (open files on the driver); more are merged in rounds."""


def _round(round_: int) -> str:
    return f"-r{round_}" if round_ else ""


@dataclass
class ChunkStore:
    """The output directory: parts, quarantine parts, sorted ids and commit markers of one fingerprint."""

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

    def ids_path(self, chunk: Chunk) -> str:
        return f"{self.root}/{IDS}/{chunk.name}-{self.fingerprint}.parquet"

    def errors_path(self, chunk: Chunk, round_: int = 0) -> str:
        return f"{self.root}/{ERRORS}/{chunk.name}{_round(round_)}-{self.fingerprint}.parquet"

    def retry_part_path(self, chunk: Chunk, round_: int) -> str:
        return f"{self.root}/{chunk.name}{_round(round_)}-{self.fingerprint}.parquet"

    def marker_path(self, chunk: Chunk) -> str:
        return f"{self.root}/{COMMITTED}/{chunk.name}-{self.fingerprint}.json"

    def marker(self, chunk: Chunk) -> dict | None:
        """The chunk's commit record, whatever input it was committed for, or None."""
        path = self.marker_path(chunk)
        try:
            with self.fs.open_input_stream(path) as f:
                return json.loads(f.read().decode())
        except FileNotFoundError:
            return None
        except OSError:
            if self.fs.get_file_info(path).type == pafs.FileType.NotFound:
                return None
            raise

    def committed(self, chunk: Chunk) -> dict | None:
        """The chunk's commit record if it was committed for the input it covers now, else None
        (a marker of other input is stale: the chunk is re-scored and its parts replaced)."""
        record = self.marker(chunk)
        return record if record is not None and record["key"] == chunk.key else None

    def foreign_outputs(self) -> list[str]:
        """Outputs of another fingerprint (another model or scorer config): markers, parts and
        quarantine parts, committed or left by a killed run."""
        found = []
        for folder, suffix in ((COMMITTED, ".json"), ("", ".parquet"), (QUARANTINE, ".parquet"), (ERRORS, ".parquet")):
            found += [i.path for i in self._listing(folder) if i.base_name.startswith("part-")
                      and i.path.endswith(suffix) and not i.path.endswith(f"-{self.fingerprint}{suffix}")]
        return sorted(found)

    def remove_unplanned(self, chunks: list[Chunk]) -> list[str]:
        """Delete this fingerprint's outputs of chunks the plan no longer has (the input shrank):
        marker first, so a kill in between leaves only uncommitted files, removed next time."""
        planned = {c.name for c in chunks}
        removed = []
        for folder in (COMMITTED, "", QUARANTINE, IDS, ERRORS):
            for i in self._listing(folder):
                name = re.sub(r"-r\d+$", "", i.base_name.split(f"-{self.fingerprint}.")[0])  # a retry round's files
                if i.base_name.startswith("part-") and f"-{self.fingerprint}." in i.base_name \
                        and name not in planned:
                    self.fs.delete_file(i.path)
                    removed.append(i.path)
        return removed

    def clear(self) -> None:
        if self.fs.get_file_info(self.root).type == pafs.FileType.Directory:
            self.fs.delete_dir_contents(self.root)

    def clear_tmp(self) -> None:
        """Remove temporary files that killed attempts left behind (never part of the output)."""
        if self.fs.get_file_info(f"{self.root}/{TMP}").type == pafs.FileType.Directory:
            self.fs.delete_dir_contents(f"{self.root}/{TMP}")

    def commit(self, chunk: Chunk, scored: pa.Table, quarantined: pa.Table, record: dict,
               errors: pa.Table | None = None) -> dict:
        """Write the chunk's parts (quarantine, errors), its sorted ids, then its marker; returns the
        record as committed (with the part's size in bytes)."""
        for folder in (COMMITTED, QUARANTINE, TMP, IDS):
            self.fs.create_dir(f"{self.root}/{folder}", recursive=True)
        earlier = self.marker(chunk)  # of this chunk's earlier input: its retry rounds must go
        if quarantined.num_rows:
            self._write_atomic(self.quarantine_path(chunk), quarantined)
        elif self.fs.get_file_info(self.quarantine_path(chunk)).type == pafs.FileType.File:
            self.fs.delete_file(self.quarantine_path(chunk))  # left by this chunk's earlier input
        record = {**record, **self._write_errors(chunk, 0, errors)}
        # Small row groups: the duplicate-id merge reads one per open file at a time.
        tables = [t for t in (scored, quarantined, errors) if t is not None]
        self._write_atomic(self.ids_path(chunk), sorted_ids(*tables), IDS_BATCH_ROWS * 4)
        self._write_atomic(self.part_path(chunk), scored)
        record = {**record, "key": chunk.key, "chunk": chunk.name,
                  "part_bytes": self.fs.get_file_info(self.part_path(chunk)).size}
        self._write_marker(chunk, record)
        if earlier:
            stale = earlier.get("retry_parts", []) + [earlier.get("errors_file")]
            for path in stale:
                if path and path != record["errors_file"] and self.fs.get_file_info(path).type == pafs.FileType.File:
                    self.fs.delete_file(path)
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

    def duplicate_ids(self, chunks: list[Chunk], examples: int = 5) -> dict:
        """Record ids found on more than one row of the scored and quarantined parts: the input
        repeats them (each input row is still in the output once). A streaming k-way merge of
        the chunks' sorted id files, at most MERGE_FANIN at a time (more are merged in rounds
        through `_tmp/`): the driver holds a small batch per open file, whatever the rows."""
        paths = [p for p in map(self._ids_file, chunks) if p is not None]
        temporary: list[str] = []
        while len(paths) > MERGE_FANIN:
            merged = []
            for k in range(0, len(paths), MERGE_FANIN):
                out = self._tmp_path(f"ids-merge-{k}.parquet")
                self._write_ids(out, heapq.merge(*map(self._read_ids, paths[k:k + MERGE_FANIN])))
                merged.append(out)
            for p in temporary:
                self.fs.delete_file(p)
            paths = temporary = merged
        ids = rows = 0
        found = []
        for value, group in itertools.groupby(heapq.merge(*map(self._read_ids, paths))):
            n = sum(1 for _ in group)
            if n > 1:
                ids, rows = ids + 1, rows + n
                if len(found) < examples:
                    found.append(value)
        for p in temporary:
            self.fs.delete_file(p)
        return {"ids": ids, "rows": rows, "examples": found}

    def _ids_file(self, chunk: Chunk) -> str | None:
        path = self.ids_path(chunk)
        if self.fs.get_file_info(path).type != pafs.FileType.File:  # committed before ids were kept
            parts = [pq.read_table(p, columns=["record_id"], filesystem=self.fs)
                     for p in (self.part_path(chunk), self.quarantine_path(chunk))
                     if self.fs.get_file_info(p).type == pafs.FileType.File]
            if not parts:
                return None
            self.fs.create_dir(f"{self.root}/{TMP}", recursive=True)
            self._write_atomic(path, sorted_ids(*parts), IDS_BATCH_ROWS * 4)
        return path

    def _read_ids(self, path: str):
        with self.fs.open_input_file(path) as f:
            for batch in pq.ParquetFile(f).iter_batches(batch_size=IDS_BATCH_ROWS):
                yield from batch.column(0).to_pylist()

    def _write_ids(self, path: str, ids) -> None:
        self.fs.create_dir(f"{self.root}/{TMP}", recursive=True)
        schema = pa.schema([("record_id", pa.string())])
        with pq.ParquetWriter(path, schema, filesystem=self.fs) as writer:
            while batch := list(itertools.islice(ids, IDS_BATCH_ROWS * 4)):
                writer.write_table(pa.table({"record_id": pa.array(batch, pa.string())}),
                                   row_group_size=IDS_BATCH_ROWS * 4)

    def write_file(self, name: str, content: str | bytes) -> str:
        """A small file (summary, config, plot) at the top of the output directory."""
        self.fs.create_dir(self.root, recursive=True)
        path = f"{self.root}/{name}"
        with self.fs.open_output_stream(path) as f:
            f.write(content.encode() if isinstance(content, str) else content)
        return path

    def _listing(self, folder: str) -> list[pafs.FileInfo]:
        info = self.fs.get_file_info(pafs.FileSelector(f"{self.root}/{folder}".rstrip("/"), allow_not_found=True))
        return [i for i in info if i.type == pafs.FileType.File]

    def _tmp_path(self, path: str) -> str:
        return f"{self.root}/{TMP}/{path.rsplit('/', 1)[-1]}.{uuid.uuid4().hex}"

    def _write_atomic(self, path: str, table: pa.Table, row_group_size: int | None = None) -> None:
        tmp = self._tmp_path(path)
        pq.write_table(table, tmp, filesystem=self.fs, compression="zstd", row_group_size=row_group_size)
        self.fs.move(tmp, path)


def sorted_ids(*tables: pa.Table) -> pa.Table:
    """The tables' non-null record ids, sorted: one chunk's share of the duplicate-id report."""
    ids = pa.chunked_array([t["record_id"].cast(pa.string()) for t in tables], pa.string()).drop_null()
    return pa.table({"record_id": ids.take(pc.sort_indices(ids))})


# --- the read side ------------------------------------------------------------------------------

def part_files(directory: str | Path, errors: bool = False) -> list[Path] | list[str]:
    """A store directory's parts in chunk order (a chunk's retry parts after its first part); with
    errors=True, then its errors parts (rows whose scoring failed), in order too. A local
    directory's as Paths, a URI's (s3://, gs://) as URIs."""
    if is_uri(str(directory)):
        return glob_files(join(directory, PARTS)) + (glob_files(join(directory, ERRORS, PARTS)) if errors else [])
    root = Path(directory)
    files = sorted(root.glob(PARTS))
    if errors:
        files += sorted((root / ERRORS).glob(PARTS))
    return files


def iter_parts(directory: str | Path, columns: list[str] | None = None, errors: bool = False) -> Iterator[pd.DataFrame]:
    """`columns` (None: all) of each part (part_files), one part at a time: memory is one part."""
    for path in part_files(directory, errors):
        yield read_parquet(path, columns)


def rewrite_parts(source: str | Path, target: str | Path, select: Callable[[pa.Table], pa.Table]) -> int:
    """Write select(part) of each source part to target under the part's name (a part that selects
    nothing writes no file); returns the rows written. Memory: one part, whatever the corpus size."""
    fs, root = filesystem(str(target))
    fs.create_dir(root, recursive=True)
    for old in part_files(target):
        fs.delete_file(filesystem(str(old))[1])  # a previous run's selection, maybe under another threshold or model
    rows = 0
    for path in part_files(source):
        source_fs, inner = filesystem(str(path))
        chosen = select(pq.read_table(inner, filesystem=source_fs))
        if chosen.num_rows:
            pq.write_table(chosen, f"{root}/{inner.rpartition('/')[2]}", filesystem=fs)
        rows += chosen.num_rows
    return rows
