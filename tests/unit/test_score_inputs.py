"""Input identity, formats and bad files of score_batch's planning and output store, without a
model or Ray: changed bytes change a chunk's key, JSONL and CSV are chunked by row range,
unsupported files are listed, bad bytes are named, and the duplicate-id report is a merge."""

import os
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rayscore.io import read_table
from rayscore.score import inputs as inputs_module, store as store_module
from rayscore.score.inputs import InputError, combine_tables, plan_chunks, read_inputs, read_span
from rayscore.score.store import ChunkStore, sorted_ids
from rayscore.score.validate import invalid_utf8, repair_utf8, validate_texts


def write_records(path: Path, ids: list[str], texts: list[str], row_group_size: int = 50) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"record_id": ids, "text": texts}), path, row_group_size=row_group_size)


def keys(root: Path, rows_per_chunk: int = 100) -> dict[str, list[str]]:
    """Chunk keys by the file their first span reads."""
    out: dict[str, list[str]] = {}
    for chunk in plan_chunks(read_inputs(str(root), ["text"]), rows_per_chunk):
        out.setdefault(Path(chunk.spans[0].path).name, []).append(chunk.key)
    return out


def invalid_string_array(values: list[bytes]) -> pa.Array:
    """A *string* array holding these raw bytes, as a writer that does not check UTF-8 leaves it."""
    offsets, at = [0], 0
    for v in values:
        at += len(v)
        offsets.append(at)
    return pa.Array.from_buffers(pa.string(), len(values), [None, pa.array(offsets, pa.int32()).buffers()[1],
                                                            pa.py_buffer(b"".join(values))])


def test_overwritten_or_edited_input_changes_the_chunk_keys(tmp_path):
    root = tmp_path / "in"
    write_records(root / "a.parquet", [f"a{i}" for i in range(250)], [f"text a {i}" for i in range(250)])
    write_records(root / "b.parquet", [f"b{i}" for i in range(250)], [f"text b {i}" for i in range(250)])
    before = keys(root)
    assert keys(root) == before  # the same bytes plan the same keys
    time.sleep(0.01)
    # a: 250 other rows, same row count and row-group layout; b: one row's text changed.
    write_records(root / "a.parquet", [f"n{i}" for i in range(250)], [f"text n {i}" for i in range(250)])
    texts = [f"text b {i}" for i in range(250)]
    texts[120] = "text b X20"  # same length, so the same file size
    write_records(root / "b.parquet", [f"b{i}" for i in range(250)], texts)
    after = keys(root)
    assert [len(k) for k in after.values()] == [len(k) for k in before.values()] == [3, 2]  # chunks span files
    assert not set(after["a.parquet"]) & set(before["a.parquet"])
    assert not set(after["b.parquet"]) & set(before["b.parquet"])


def test_same_bytes_with_a_restored_mtime_still_differ_by_footer_statistics(tmp_path):
    root = tmp_path / "in"
    write_records(root / "a.parquet", [f"a{i}" for i in range(100)], [f"text {i:03d}" for i in range(100)])
    stat = os.stat(root / "a.parquet")
    before = keys(root)
    write_records(root / "a.parquet", [f"a{i}" for i in range(100)], [f"TEXT {i:03d}" for i in range(100)])
    os.utime(root / "a.parquet", ns=(stat.st_atime_ns, stat.st_mtime_ns))  # e.g. a copy that keeps times
    assert os.stat(root / "a.parquet").st_size == stat.st_size
    assert keys(root) != before


def test_jsonl_and_csv_are_cut_into_row_ranges_and_other_files_are_listed(tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    (root / "a.jsonl").write_text("".join(f'{{"record_id": "j{i}", "text": "行 {i}"}}\n' for i in range(7)),
                                  encoding="utf-8")
    (root / "b.csv").write_text("record_id,text,label\n" + "".join(f"00{i},文本 {i},\n" for i in range(5)),
                                encoding="utf-8")
    (root / "notes.txt").write_text("not input")
    (root / "_SUCCESS").write_text("")
    inputs = read_inputs(str(root), ["text"])
    assert [Path(f.path).name for f in inputs] == ["a.jsonl", "b.csv"] and [f.rows for f in inputs] == [7, 5]
    assert [Path(p).name for p in inputs.skipped] == ["notes.txt"]
    chunks = plan_chunks(inputs, 3)
    assert [(Path(c.spans[0].path).name, c.spans[0].first_row, c.rows) for c in chunks] == [
        ("a.jsonl", 0, 3), ("a.jsonl", 3, 3), ("a.jsonl", 6, 1), ("b.csv", 0, 3), ("b.csv", 3, 2)]
    fs = ChunkStore(str(tmp_path / "out"), "fp").fs
    rows = [r for c in chunks for r in read_span(fs, c.spans[0]).to_pylist()]
    assert [r["record_id"] for r in rows] == [f"j{i}" for i in range(7)] + [f"00{i}" for i in range(5)]
    assert [r["_row"] for r in rows] == list(range(7)) + list(range(5))
    assert rows[7]["label"] == "" and rows[8]["text"] == "文本 1"  # CSV values are text: "001" stays "001"
    before = {c.key for c in chunks}
    (root / "a.jsonl").write_text((root / "a.jsonl").read_text().replace("行 5", "改 5"), encoding="utf-8")
    again = plan_chunks(read_inputs(str(root), ["text"]), 3)
    assert [c.key in before for c in again] == [False, False, False, True, True]
    with pytest.raises(InputError, match=r"a\.jsonl: missing required column\(s\) \['body'\]"):
        read_inputs(str(root), ["body"])


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_text_spans_read_from_their_block_not_from_the_file_start(tmp_path, monkeypatch, fmt):
    """Rows are counted a block at a time and each span remembers the byte offset of its block, so
    reading a file's chunks is linear in its size: the last chunk reads the same rows after every
    byte before its block (but a CSV's header) is blanked."""
    monkeypatch.setattr(inputs_module, "TEXT_BLOCK_BYTES", 64)  # many blocks, rows across their edges
    ids = [f"r{i:03d}" for i in range(40)]
    texts = [f"文本 {i} " + "x" * (i % 7) for i in range(40)]
    path = tmp_path / f"a.{fmt}"
    if fmt == "jsonl":
        body = "\n".join(f'{{"record_id": "{i}", "text": "{t}"}}' for i, t in zip(ids, texts))  # no final newline
    else:
        body = "record_id,text\n" + "\n".join(f"{i},{t}" for i, t in zip(ids, texts))
    path.write_text(body, encoding="utf-8")
    (f,) = read_inputs(str(path), ["text"])
    assert f.rows == 40 and len(f.blocks) > 10
    chunks = plan_chunks([f], 6)
    fs = ChunkStore(str(tmp_path / "out"), "fp").fs
    rows = [r for c in chunks for r in read_span(fs, c.spans[0]).to_pylist()]
    assert [r["record_id"] for r in rows] == ids and [r["text"] for r in rows] == texts
    assert [r["_row"] for r in rows] == list(range(40))
    last = chunks[-1].spans[0]
    assert last.offset > len(body.encode()) // 2 and last.offset_row <= last.first_row
    data = path.read_bytes()
    header = data.index(b"\n") + 1 if fmt == "csv" else 0  # a CSV's header line is read too
    path.write_bytes(data[:header] + b"\n" * (last.offset - header) + data[last.offset:])
    assert read_span(fs, last)["record_id"].to_pylist() == ids[last.first_row:]
    if fmt == "jsonl":  # a column that changes type in a later block still fails before scoring
        path.write_text(body + '\n{"record_id": 7, "text": "y"}\n', encoding="utf-8")
        with pytest.raises(InputError, match=r"a\.jsonl: unreadable jsonl file: .*record_id"):
            read_inputs(str(path), ["text"])


def test_max_rows_plans_the_first_rows_and_shares_whole_chunks_with_the_full_plan(tmp_path):
    """A trial run's plan: the input's first N rows, in order, a parquet row group cut if need be;
    its whole chunks have the full plan's keys (a full run keeps them), a cut chunk has its own."""
    root = tmp_path / "in"
    write_records(root / "a.parquet", [f"a{i}" for i in range(120)], [f"文本 {i}" for i in range(120)])  # 50+50+20
    (root / "b.jsonl").write_text("".join(f'{{"record_id": "b{i}", "text": "行 {i}"}}\n' for i in range(7)),
                                  encoding="utf-8")
    inputs = read_inputs(str(root), ["text"])
    fs = ChunkStore(str(tmp_path / "out"), "fp").fs

    def ids(chunks):
        return [i for c in chunks for s in c.spans for i in read_span(fs, s)["record_id"].to_pylist()]

    full = plan_chunks(inputs, 100)
    assert [c.rows for c in full] == [100, 20, 7] and plan_chunks(inputs, 100, max_rows=None) == full
    for n in (0, 30, 50, 100, 123, 127, 1000):
        trial = plan_chunks(inputs, 100, max_rows=n)
        assert ids(trial) == ids(full)[:n] and sum(c.rows for c in trial) == min(n, 127)
        assert [c.key == f.key for c, f in zip(trial, full)] == [c.rows == f.rows for c, f in zip(trial, full)]
    (cut,) = plan_chunks(inputs, 100, max_rows=30)
    assert cut.spans[0].head and cut.spans[0].row_groups == [0] and not any(s.head for c in full for s in c.spans)


def test_bad_text_files_and_unsupported_single_files_fail_naming_the_file(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"text": "a"}\n{"text": 3}\n')
    with pytest.raises(InputError, match=r"bad\.jsonl: unreadable jsonl file"):
        read_inputs(str(tmp_path / "bad.jsonl"), ["text"])
    (tmp_path / "data.xlsx").write_text("x")
    with pytest.raises(InputError, match=r"data\.xlsx: not a supported input format"):
        read_inputs(str(tmp_path / "data.xlsx"), ["text"])


def test_corrupt_pages_behind_a_valid_footer_fail_naming_the_file_and_row_groups(tmp_path):
    path = tmp_path / "in" / "c.parquet"
    write_records(path, [f"c{i}" for i in range(100)], [f"some text {i}" * 3 for i in range(100)])
    meta = pq.ParquetFile(path).metadata
    column = meta.row_group(1).column(1)  # the text column of the second row group
    data = bytearray(path.read_bytes())
    start = column.dictionary_page_offset if column.has_dictionary_page else column.data_page_offset
    data[start:start + column.total_compressed_size] = b"\xff" * column.total_compressed_size
    path.write_bytes(bytes(data))
    (chunk,) = plan_chunks(read_inputs(str(tmp_path / "in"), ["text"]), 1000)  # the footer still reads
    fs = ChunkStore(str(tmp_path / "out"), "fp").fs
    with pytest.raises(InputError, match=r"c\.parquet: unreadable data in row groups \[0, 1\]"):
        read_span(fs, chunk.spans[0])
    ids = read_span(fs, chunk.spans[0], ["record_id"])["record_id"].to_pylist()  # other columns still read
    assert ids == [f"c{i}" for i in range(100)]


def test_invalid_utf8_in_a_string_column_is_a_reason_not_a_crash(tmp_path):
    column = invalid_string_array([b"ok", b"\xff\xfe bad", "中文".encode()])
    pq.write_table(pa.table({"text": column}), tmp_path / "u.parquet")
    (chunk,) = plan_chunks(read_inputs(str(tmp_path / "u.parquet"), ["text"]), 10)  # its min/max are not UTF-8
    assert chunk.rows == 3
    with pytest.raises(UnicodeDecodeError):
        column.to_pylist()  # what happened before: the actor died here
    texts, reasons = validate_texts(column, max_chars=100, over_length="quarantine")
    assert reasons == [None, "invalid_utf8", None] and texts == ["ok", None, "中文"]
    assert invalid_utf8(column) == [False, True, False]
    assert repair_utf8(column).to_pylist() == ["ok", "\\xff\\xfe bad", "中文"]
    assert invalid_utf8(pa.array(["fine"])) is None and invalid_utf8(pa.array([1])) is None


def test_columns_of_different_types_across_files_combine_as_text():
    tables = [pa.table({"text": pa.array(["a"]), "n": [1]}), pa.table({"text": pa.array([b"b"]), "n": [2.5]}),
              pa.table({"text": pa.array([7]), "n": [None]})]
    with pytest.raises((pa.ArrowTypeError, pa.ArrowInvalid)):
        pa.concat_tables(tables, promote_options="permissive")
    combined = combine_tables(tables)
    assert combined["text"].to_pylist() == ["a", "b", "7"] and combined["n"].to_pylist() == [1.0, 2.5, None]


def test_commit_for_changed_input_replaces_the_parts_and_unplanned_chunks_are_removed(tmp_path):
    root = tmp_path / "in"
    write_records(root / "a.parquet", ["a", "b"], ["x", "y"])
    write_records(root / "b.parquet", ["c"], ["z"])
    old = plan_chunks(read_inputs(str(root), ["text"]), 1)
    store = ChunkStore(str(tmp_path / "out"), "fp")
    rows = pa.table({"record_id": ["a"], "reward": [1.0]})
    for chunk in old:
        store.commit(chunk, rows, rows, {"rows_in": 2})
    assert (tmp_path / "out" / "quarantine" / "part-00001-fp.parquet").exists()
    time.sleep(0.01)
    write_records(root / "a.parquet", ["a", "q"], ["x", "w"])
    (root / "b.parquet").unlink()
    (new,) = plan_chunks(read_inputs(str(root), ["text"]), 1)
    assert store.committed(new) is None and store.marker(new)["key"] == old[0].key  # stale, not reused
    record = store.commit(new, rows, rows.slice(0, 0), {"rows_in": 2})
    assert store.committed(new) == record
    assert not (tmp_path / "out" / "quarantine" / "part-00000-fp.parquet").exists()  # the old quarantine is gone
    removed = store.remove_unplanned([new])
    assert sorted(Path(p).name for p in removed) == ["part-00001-fp.json", "part-00001-fp.parquet",
                                                     "part-00001-fp.parquet", "part-00001-fp.parquet"]
    assert sorted(p.name for p in (tmp_path / "out").glob("**/part-*")) == [
        "part-00000-fp.json", "part-00000-fp.parquet", "part-00000-fp.parquet"]


def test_duplicate_ids_merge_the_chunks_sorted_ids(tmp_path, monkeypatch):
    root = tmp_path / "in"
    for k in range(3):
        write_records(root / f"f{k}.parquet", [f"r{k}"], ["t"])
    chunks = plan_chunks(read_inputs(str(root), ["text"]), 1)
    store = ChunkStore(str(tmp_path / "out"), "fp")
    parts = [(["b", "a", "c", "a"], ["z"]), (["c", "d"], []), (["e", "a"], [None])]
    for chunk, (scored, quarantined) in zip(chunks, parts):
        store.commit(chunk, pa.table({"record_id": scored}),
                     pa.table({"record_id": pa.array(quarantined, pa.string())}), {})
    assert sorted_ids(pa.table({"record_id": ["b", None, "a"]}))["record_id"].to_pylist() == ["a", "b"]
    assert store.duplicate_ids(chunks) == {"ids": 2, "rows": 5, "examples": ["a", "c"]}
    (tmp_path / "out" / "_ids" / "part-00001-fp.parquet").unlink()  # committed before ids were kept
    assert store.duplicate_ids(chunks) == {"ids": 2, "rows": 5, "examples": ["a", "c"]}
    monkeypatch.setattr(store_module, "MERGE_FANIN", 2)  # more files than the driver opens at once
    assert store.duplicate_ids(chunks) == {"ids": 2, "rows": 5, "examples": ["a", "c"]}
    assert not list((tmp_path / "out" / "_tmp").iterdir())  # the rounds' files are removed


def test_read_table_reads_a_directory_of_mixed_formats(tmp_path):
    (tmp_path / "d").mkdir()
    pq.write_table(pa.table({"text": ["a"], "label": ["正确"]}), tmp_path / "d" / "a.parquet")
    (tmp_path / "d" / "b.jsonl").write_text('{"text": "b", "label": "错误"}\n', encoding="utf-8")
    (tmp_path / "d" / "c.csv").write_text("text,label\nc,正确\n", encoding="utf-8")
    frame = read_table(tmp_path / "d")
    assert frame.to_dict("records") == [{"text": "a", "label": "正确"}, {"text": "b", "label": "错误"},
                                        {"text": "c", "label": "正确"}]


def test_tables_and_inputs_read_from_a_bucket(s3_server, monkeypatch):
    """The same readers on an S3-compatible server on loopback, configured by the AWS variables."""
    from rayscore.io import filesystem

    for name, value in s3_server.items():
        monkeypatch.setenv(name, value)
    fs, bucket = filesystem("s3://inputs")
    fs.create_dir(bucket)
    pq.write_table(pa.table({"record_id": ["p0"], "text": ["a"]}), f"{bucket}/d/a.parquet", filesystem=fs)
    for name, body in (("b.jsonl", '{"record_id": "j0", "text": "b"}\n'), ("c.csv", "record_id,text\n007,c\n"),
                       ("notes.txt", "x")):
        with fs.open_output_stream(f"{bucket}/d/{name}") as f:
            f.write(body.encode())
    assert read_table("s3://inputs/d").record_id.tolist() == ["p0", "j0", "007"]
    inputs = read_inputs("s3://inputs/d", ["text"])
    assert [f.rows or f.meta.num_rows for f in inputs] == [1, 1, 1] and inputs.skipped == ["inputs/d/notes.txt"]
    chunks = plan_chunks(inputs, 10)
    assert [read_span(fs, c.spans[0])["text"].to_pylist() for c in chunks] == [["a"], ["b"], ["c"]]
