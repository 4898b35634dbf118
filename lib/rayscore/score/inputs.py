"""Input planning and reading for exactly-once scoring.

    inputs = read_inputs("data/in", required=["text"])     # fails early, naming file and column
    chunks = plan_chunks(inputs, rows_per_chunk=50_000)
    table = read_span(fs, chunks[0].spans[0])              # in an actor: one span's rows

Inputs are parquet, JSONL (.jsonl) or CSV (.csv) files, one file or a directory of them, on local
disk or an object store (s3://, gs://: pyarrow filesystems; S3 is configured by the standard AWS
variables, e.g. AWS_ENDPOINT_URL_S3, which Ray's actors inherit). Other files in a directory are
listed as skipped. A parquet chunk is a run of whole row groups from one or more files, about
`rows_per_chunk` rows (small files are grouped; a row group is never split); a JSONL or CSV chunk
is a row range of one file (its rows are counted on the driver, a block at a time). A chunk's key
(chunk.py) hashes each file's size and modification time, and for parquet the footer's metadata
of its row groups (row counts, byte sizes, column statistics), for JSONL and CSV a digest of the
bytes.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import os
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.fs as pafs
import pyarrow.json as pajson
import pyarrow.parquet as pq

from rayscore.io import filesystem
from rayscore.score.chunk import Chunk, Span, chunk_key, new_chunk

logger = logging.getLogger(__name__)

FORMATS = {".parquet": "parquet", ".jsonl": "jsonl", ".csv": "csv"}
"""Input formats by file suffix."""
TEXT_BLOCK_BYTES = 4 << 20
"""Bytes per block when JSONL and CSV files are streamed (counted on the driver, read in actors)."""


class InputError(ValueError):
    """The input cannot be scored at all (missing, unreadable, or lacking a required column)."""


@dataclass
class InputFile:
    """One input file as planned: its identity, and its footer (parquet) or row count (JSONL, CSV)."""

    path: str
    format: str
    size: int
    mtime_ns: int
    meta: pq.FileMetaData | None = None
    rows: int = 0
    digest: str = ""
    """JSONL, CSV: sha256 of the bytes (read anyway to count the rows; object stores' mtimes
    have a resolution of seconds)."""
    blocks: list[tuple[int, int]] = field(default_factory=list)
    """JSONL, CSV: (first row, byte offset) of each block the count read."""

    @property
    def identity(self) -> str:
        return f"{self.format}:{self.size}:{self.mtime_ns}:{self.digest}"


@dataclass
class Inputs:
    files: list[InputFile]
    skipped: list[str]
    """Files of the input directory in no supported format (listed in the summary)."""

    def __iter__(self):
        return iter(self.files)

    def __len__(self):
        return len(self.files)


def file_format(path: str) -> str | None:
    return FORMATS.get(os.path.splitext(path)[1].lower())


def list_inputs(uri: str) -> tuple[pafs.FileSystem, list[pafs.FileInfo], list[str]]:
    """(filesystem, input files in sorted order, skipped files). Names starting with "." or "_"
    (hidden files, _SUCCESS markers, _tmp/ dirs) are no input and not listed as skipped."""
    fs, root = filesystem(uri)
    info = fs.get_file_info(root)
    if info.type == pafs.FileType.NotFound:
        raise InputError(f"{uri}: input not found")
    if info.type == pafs.FileType.File:
        if file_format(root) is None:
            raise InputError(f"{uri}: not a supported input format (suffixes: {sorted(FORMATS)})")
        return fs, [info], []
    found = sorted((f for f in fs.get_file_info(pafs.FileSelector(root, recursive=True))
                    if f.type == pafs.FileType.File
                    and not any(p.startswith((".", "_")) for p in f.path[len(root):].split("/"))),
                   key=lambda f: f.path)
    files = [f for f in found if file_format(f.path)]
    skipped = [f.path for f in found if not file_format(f.path)]
    if not files:
        raise InputError(f"{uri}: no input files found (suffixes: {sorted(FORMATS)}; "
                         f"{len(skipped)} other files)")
    return fs, files, skipped


def read_inputs(uri: str, required: list[str]) -> Inputs:
    """Every input file, in order, with its identity and footer or row count; reads no parquet
    data pages. A missing required column or an unreadable file fails here, naming both."""
    fs, infos, skipped = list_inputs(uri)
    files = []
    for info in infos:
        mtime = info.mtime_ns if info.mtime_ns is not None else 0
        f = InputFile(info.path, file_format(info.path), info.size or 0, mtime)
        if f.format == "parquet":
            f.meta = _footer(fs, f.path, required)
        else:
            f.rows, f.digest, f.blocks = _scan_text(fs, f, required)
        files.append(f)
    if skipped:
        logger.warning("%d input file(s) in no supported format skipped (suffixes: %s), e.g. %s",
                       len(skipped), sorted(FORMATS), skipped[:3])
    return Inputs(files, skipped)


read_footers = read_inputs
"""The name of read_inputs when inputs were parquet only."""


def plan_chunks(inputs, rows_per_chunk: int, max_rows: int | None = None) -> list[Chunk]:
    """Group parquet row groups, in order, into chunks of about rows_per_chunk rows; cut JSONL
    and CSV files into row ranges of rows_per_chunk rows. With max_rows, only the input's first
    max_rows rows (a trial run; the last parquet row group may be cut, see Span.head)."""
    chunks: list[Chunk] = []
    spans: list[Span] = []
    rows = 0
    left = max_rows  # rows still to plan; None = all

    def close():
        nonlocal spans, rows
        if spans:
            chunks.append(new_chunk(len(chunks), spans, rows))
        spans, rows = [], 0

    for f in inputs:
        if left == 0:
            break
        if f.meta is None:  # JSONL / CSV: its own chunks (a row range never spans files)
            close()
            end = f.rows if left is None else min(f.rows, left)
            for start in range(0, end, rows_per_chunk):
                n = min(rows_per_chunk, end - start)
                row, offset = f.blocks[bisect.bisect_right(f.blocks, (start, float("inf"))) - 1]
                chunks.append(new_chunk(len(chunks), [Span(f.path, [], start, n, f"{f.identity}:{start}:{n}",
                                                        offset=offset, offset_row=row)], n))
            left = None if left is None else left - end
            continue
        first_row = 0
        for rg in range(f.meta.num_row_groups):
            n = f.meta.row_group(rg).num_rows
            if n == 0:
                continue
            if left == 0:
                break
            take = n if left is None else min(n, left)
            if spans and spans[-1].path == f.path:
                spans[-1].row_groups.append(rg)
                spans[-1].rows += take
            else:
                spans.append(Span(f.path, [rg], first_row, take))
            spans[-1].head = take < n
            rows += take
            first_row += n
            left = None if left is None else left - take
            if rows >= rows_per_chunk:
                close()
    close()
    by_path = {f.path: f for f in inputs}
    for chunk in chunks:
        for span in chunk.spans:
            if not span.identity:
                span.identity = _row_groups_identity(by_path[span.path], span.row_groups)
        chunk.key = chunk_key(chunk.spans)
    return chunks


def compressed_bytes_per_row(inputs, columns: list[str] | None = None) -> float:
    """Average compressed bytes per row of `columns` (all when None) over the input files
    (JSONL and CSV: their whole size, uncompressed text)."""
    total, rows = 0, 0
    for f in inputs:
        if f.meta is None:
            total, rows = total + f.size, rows + f.rows
            continue
        for rg in range(f.meta.num_row_groups):
            group = f.meta.row_group(rg)
            rows += group.num_rows
            for c in range(group.num_columns):
                column = group.column(c)
                if columns is None or column.path_in_schema.split(".")[0] in columns:
                    total += column.total_compressed_size
    return total / rows if rows else 0.0


def _row_groups_identity(f: InputFile, row_groups: list[int]) -> str:
    """The file's size and mtime plus its footer's metadata of these row groups (row counts, byte
    sizes, offsets, per-column statistics): content that changes with the rows, read for free."""
    digest = hashlib.sha256(f.identity.encode())
    for rg in row_groups:
        group = f.meta.row_group(rg)
        digest.update(repr((group.num_rows, group.total_byte_size)).encode())
        for c in range(group.num_columns):
            column = group.column(c)
            stats = column.statistics if column.is_stats_set else None
            # Raw physical values: min/max of a string column may hold bytes that are not UTF-8.
            digest.update(repr((column.path_in_schema, column.file_offset, column.data_page_offset,
                                column.total_compressed_size, column.total_uncompressed_size, column.num_values,
                                stats and (stats.null_count, stats.min_raw if stats.has_min_max else None,
                                           stats.max_raw if stats.has_min_max else None))).encode())
    return digest.hexdigest()[:16]


def _footer(fs: pafs.FileSystem, path: str, required: list[str]) -> pq.FileMetaData:
    try:
        with fs.open_input_file(path) as f:
            meta = pq.ParquetFile(f).metadata
    except (pa.ArrowInvalid, OSError) as e:
        raise InputError(f"{path}: unreadable or corrupt parquet file: {e}") from None
    names = set(meta.schema.to_arrow_schema().names)  # top-level columns (schema.names lists nested leaves)
    _require(path, names, required)
    return meta


def _require(path: str, names, required: list[str]) -> None:
    missing = [c for c in required if c not in names]
    if missing:
        raise InputError(f"{path}: missing required column(s) {missing}; columns are {sorted(names)}")


def _text_blocks(fs: pafs.FileSystem, path: str, start: int = 0):
    """(offset, bytes) of a JSONL or CSV file's blocks from byte `start`, each about
    TEXT_BLOCK_BYTES and ending at a newline. Rows never straddle two blocks: as read here,
    values hold no raw newlines (pyarrow's default for both formats)."""
    with fs.open_input_file(path) as f:
        f.seek(start)
        offset, carry = start, b""
        while data := f.read(TEXT_BLOCK_BYTES):
            data = carry + data
            cut = data.rfind(b"\n") + 1
            if cut:
                yield offset, data[:cut]
                offset += cut
            carry = data[cut:]
        if carry:
            yield offset, carry


def _csv_header(fs: pafs.FileSystem, path: str) -> tuple[list[str], int]:
    """A CSV file's column names and the byte offset of its first data row."""
    with fs.open_input_file(path) as f:
        head = b""
        while b"\n" not in head and (more := f.read(1 << 16)):
            head += more
    line = head[:head.find(b"\n") + 1] if b"\n" in head else head
    return pacsv.read_csv(pa.BufferReader(line)).column_names, len(line)


def _parse_block(fmt: str, data: bytes, names: list[str] | None) -> pa.Table:
    """One block's rows. CSV columns are read as text (an id "007" stays "007"; validation
    decides what a value is)."""
    if not data.strip():
        return pa.table({n: pa.array([], pa.string()) for n in names or []})
    if fmt == "jsonl":
        return pajson.read_json(pa.BufferReader(data), read_options=pajson.ReadOptions(block_size=len(data)))
    convert = pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=False)
    return pacsv.read_csv(pa.BufferReader(data), convert_options=convert,
                          read_options=pacsv.ReadOptions(column_names=names, block_size=len(data)))


def _scan_text(fs: pafs.FileSystem, f: InputFile, required: list[str]) -> tuple[int, str, list[tuple[int, int]]]:
    """A JSONL or CSV file's row count, content digest and block offsets, in one pass."""
    try:
        names, start = _csv_header(fs, f.path) if f.format == "csv" else (None, 0)
        if names is not None:
            _require(f.path, names, required)
        digest, rows, blocks, schema = hashlib.sha256(), 0, [], None
        with fs.open_input_stream(f.path) as head:
            digest.update(head.read(start))
        for offset, data in _text_blocks(fs, f.path, start):
            digest.update(data)
            table = _parse_block(f.format, data, names)
            if names is None and table.num_rows:  # JSONL: its first rows' columns; one type per column
                if schema is None:
                    _require(f.path, table.column_names, required)
                schema = table.schema if schema is None else pa.unify_schemas([schema, table.schema],
                                                                              promote_options="permissive")
            blocks.append((rows, offset))
            rows += table.num_rows
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as e:
        raise InputError(f"{f.path}: unreadable {f.format} file: {e}") from None
    return rows, digest.hexdigest()[:16], blocks or [(0, start)]


def read_span(fs: pafs.FileSystem, span: Span, columns: list[str] | None = None) -> pa.Table:
    """The span's rows, with `_file` and `_row` (row index in its file) for derived record ids.
    Data that cannot be read (corrupt pages behind a valid footer, a truncated or changed file)
    raises InputError naming the file and the rows."""
    try:
        if span.row_groups:
            with fs.open_input_file(span.path) as f:
                table = pq.ParquetFile(f).read_row_groups(span.row_groups, columns=columns)
            if span.head:
                table = table.slice(0, span.rows)
        else:
            table = _read_row_range(fs, span, columns)
    except (pa.ArrowException, OSError) as e:
        where = f"row groups {span.row_groups}" if span.row_groups else f"rows {span.first_row}.."
        raise InputError(f"{span.path}: unreadable data in {where}: {e}") from None
    if table.num_rows != span.rows and span.rows:
        raise InputError(f"{span.path}: {table.num_rows} rows where the plan counted {span.rows} "
                         "(the file changed while the job ran)")
    table = table.append_column("_file", pa.array([span.path] * table.num_rows, pa.string()))
    return table.append_column("_row", pa.array(range(span.first_row, span.first_row + table.num_rows),
                                                pa.int64()))


def _read_row_range(fs: pafs.FileSystem, span: Span, columns: list[str] | None) -> pa.Table:
    """A JSONL or CSV span's rows, read from the block its first row is in."""
    fmt = file_format(span.path)
    names, data_start = _csv_header(fs, span.path) if fmt == "csv" else (None, 0)
    tables, seen, end = [], span.offset_row, span.first_row + span.rows
    for _, data in _text_blocks(fs, span.path, max(span.offset, data_start)):
        table = _parse_block(fmt, data, names)
        lo, hi = max(span.first_row - seen, 0), min(end - seen, table.num_rows)
        if lo < hi:
            tables.append(table.slice(lo, hi - lo))
        seen += table.num_rows
        if seen >= end:
            break
    table = pa.concat_tables(tables, promote_options="permissive") if tables else pa.table({})
    return table.select(columns) if columns is not None else table


def read_chunk(fs: pafs.FileSystem, chunk: Chunk, columns: list[str] | None = None) -> pa.Table:
    """All of a chunk's rows in one table (its spans' columns promoted to common types)."""
    return combine_tables([read_span(fs, span, columns) for span in chunk.spans])


def combine_tables(tables: list[pa.Table]) -> pa.Table:
    """One table from the spans' tables. Columns whose types differ across files in ways Arrow
    cannot promote (text in one file, numbers or bytes in another) are written as text; each
    value was validated in its own file's type before."""
    if not tables:
        return pa.table({})
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        pass
    fields: dict[str, list[pa.Field]] = {}
    for t in tables:
        for f in t.schema:
            fields.setdefault(f.name, []).append(f)
    mixed = set()
    for name, fs in fields.items():
        try:
            pa.unify_schemas([pa.schema([f]) for f in fs], promote_options="permissive")
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            mixed.add(name)
    fixed = []
    for t in tables:
        for name in mixed & set(t.column_names):
            values = [None if v is None else v.decode("utf-8", "backslashreplace") if isinstance(v, bytes)
                      else str(v) for v in t[name].to_pylist()]
            t = t.set_column(t.schema.get_field_index(name), name, pa.array(values, pa.string()))
        fixed.append(t)
    return pa.concat_tables(fixed, promote_options="permissive")

