"""Bad rows through score_batch on a real local Ray: every row ends in output or quarantine with
its reason, the account balances, the quarantine share limit fails the job, and a missing column
or a corrupt file stops the job before any scoring, naming the file and the column."""

import glob
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs.score_batch import main
from rayscore.addresses.records import generate_records
from rayscore.score.inputs import InputError
from tiny_models import char_tokenizer, save_tiny, tiny_reward_model

GOOD = generate_records(9, seed=4)["text"].tolist()
TOO_LONG = "长" * 300


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("quarantine_model")
    tok = char_tokenizer(GOOD + [TOO_LONG])
    save_tiny(tiny_reward_model(tok), tok, out)
    return out


@pytest.fixture(scope="module")
def bad_input(tmp_path_factory):
    """a.parquet: text column with 6 good rows and 5 bad ones; b.parquet: a binary text column
    with 3 good rows and one that is not UTF-8."""
    root = tmp_path_factory.mktemp("bad_input")
    texts = GOOD[:6] + [None, "", "   ", TOO_LONG, GOOD[0]]
    ids = [f"a{i}" for i in range(10)] + [None]
    pq.write_table(pa.table({"record_id": pa.array(ids, pa.string()), "text": pa.array(texts, pa.string())}),
                   root / "a.parquet")
    binary = [t.encode() for t in GOOD[6:9]] + [b"\xff\xfe\xfd"]
    # Row 1 of b.parquet repeats the id a1: both rows are scored, and the summary reports the repeat.
    pq.write_table(pa.table({"record_id": ["b0", "a1", "b2", "b3"], "text": pa.array(binary, pa.binary())}),
                   root / "b.parquet")
    return root


EXPECTED_REASONS = {"null_text": 1, "empty_text": 2, "too_long": 1, "null_id": 1, "invalid_utf8": 1}


def args(model_dir, inp, out, *extra) -> list[str]:
    return ["--config", "configs/score_batch/tiny.yaml", f"input={inp}", f"output={out}",
            f"scorer.model_dir={model_dir}", "max_text_chars=200", "rows_per_file=5", "num_actors=1", *extra]


def read(pattern: str) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(p) for p in sorted(glob.glob(pattern))], ignore_index=True)


@pytest.mark.slow
def test_every_row_is_scored_or_quarantined_with_its_reason(ray_local, model_dir, bad_input, tmp_path):
    out = tmp_path / "out"
    assert main(args(model_dir, bad_input, out, "max_quarantine_share=0.5")) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["rows_in"], summary["rows_scored"], summary["rows_quarantined"]) == (15, 9, 6)
    assert summary["quarantine_reasons"] == EXPECTED_REASONS
    assert summary["files"] == 2  # one output file per input file here, never one per row

    scored, quarantined = read(f"{out}/part-*.parquet"), read(f"{out}/quarantine/part-*.parquet")
    assert sorted(scored.record_id) == sorted([f"a{i}" for i in range(6)] + ["b0", "a1", "b2"])
    assert summary["duplicate_ids"] == {"ids": 1, "rows": 2, "examples": ["a1"]}
    assert scored.p_correct.notna().all() and scored.fingerprint.nunique() == 1
    reasons = dict(zip(quarantined.record_id.fillna("<null>"), quarantined.reason))
    assert reasons == {"a6": "null_text", "a7": "empty_text", "a8": "empty_text", "a9": "too_long",
                       "<null>": "null_id", "b3": "invalid_utf8"}
    assert not set(scored.record_id) & set(quarantined.record_id)


@pytest.mark.slow
def test_quarantine_share_over_the_limit_fails_the_job_after_writing_everything(ray_local, model_dir,
                                                                                bad_input, tmp_path):
    out = tmp_path / "out"
    assert main(args(model_dir, bad_input, out, "max_quarantine_share=0.2")) == 1
    summary = json.loads((out / "summary.json").read_text())
    assert not summary["ok"] and summary["problems"] == ["quarantined share 0.4000 > max_quarantine_share 0.2"]
    assert summary["rows_scored"] + summary["rows_quarantined"] == 15
    assert len(glob.glob(f"{out}/_committed/*.json")) == 2  # every chunk committed before the verdict


def test_missing_column_or_corrupt_file_fails_before_scoring(ray_local, model_dir, bad_input, tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    pq.write_table(pa.table({"record_id": ["x"], "text": ["张三"]}), inp / "good.parquet")
    pq.write_table(pa.table({"record_id": ["y"], "body": ["李四"]}), inp / "no_text.parquet")
    with pytest.raises(InputError, match=r"no_text\.parquet: missing required column\(s\) \['text'\]"):
        main(args(model_dir, inp, tmp_path / "out"))
    (inp / "no_text.parquet").unlink()
    (inp / "corrupt.parquet").write_bytes(b"PAR1" + b"\x00" * 64)
    with pytest.raises(InputError, match=r"corrupt\.parquet: unreadable or corrupt parquet file"):
        main(args(model_dir, inp, tmp_path / "out"))
    with pytest.raises(InputError, match=r"good\.parquet: missing required column\(s\) \['uid'\]"):
        main(args(model_dir, inp / "good.parquet", tmp_path / "out", "id_column=uid"))
    assert not glob.glob(f"{tmp_path}/out/part-*")  # nothing was scored


def worker_for(model_dir, inp, out, **changes):
    from rayscore.score.config import ScoreJobConfig
    from rayscore.score.inputs import plan_chunks, read_footers
    from rayscore.score.scorers import ScorerSpec
    from rayscore.score.worker import ChunkWorker

    cfg = ScoreJobConfig(input=str(inp), output=str(out), scorer=ScorerSpec(model_dir=str(model_dir), batch_size=2),
                         max_text_chars=200, max_quarantine_share=1.0, **changes)
    (chunk,) = plan_chunks(read_footers(cfg.input, ["text"]), 100)
    return ChunkWorker(cfg, fingerprint="f" * 12), chunk


def test_actor_scores_a_chunk_in_slices_in_row_order_and_logs_progress(model_dir, bad_input, tmp_path, caplog):
    """The actor's work without Ray: a chunk scored a few rows at a time (longest-similar
    together) comes back in row order, equal to one call on all rows, with progress lines."""
    import logging

    worker, chunk = worker_for(model_dir, bad_input / "a.parquet", tmp_path / "out", rows_per_score_call=2,
                               progress_every_s=0)
    with caplog.at_level(logging.INFO, logger="rayscore.score.worker"):
        record = worker.process(chunk)
    assert (record["rows_scored"], record["rows_quarantined"]) == (6, 5)
    assert any("part-00000: scored 6 of 6 rows" in m for m in caplog.messages)
    scored = pd.read_parquet(tmp_path / "out" / f"part-00000-{'f' * 12}.parquet")
    assert list(scored.record_id) == [f"a{i}" for i in range(6)]
    direct = worker.scorer.score(pd.DataFrame({"text": GOOD[:6]}))
    assert scored.p_correct.to_numpy() == pytest.approx(direct.p_correct.to_numpy(), abs=1e-6)


def test_over_length_truncate_scores_the_cut_text_and_keeps_the_input(model_dir, bad_input, tmp_path):
    worker, chunk = worker_for(model_dir, bad_input / "a.parquet", tmp_path / "out", over_length="truncate")
    record = worker.process(chunk)
    assert record["rows_scored"] == 7 and "too_long" not in record["reasons"]
    scored = pd.read_parquet(tmp_path / "out" / f"part-00000-{'f' * 12}.parquet").set_index("record_id")
    assert scored.loc["a9", "text"] == TOO_LONG  # the output keeps the input as it was
    cut = worker.scorer.score(pd.DataFrame({"text": [TOO_LONG[:200]]}))
    assert scored.loc["a9", "p_correct"] == pytest.approx(cut.p_correct.iloc[0], abs=1e-6)


def string_with_bytes(values: list[bytes]) -> pa.Array:
    """A *string* array holding raw bytes, as a writer that does not check UTF-8 leaves it."""
    offsets = np.cumsum([0] + [len(v) for v in values]).astype(np.int32)
    return pa.Array.from_buffers(pa.string(), len(values), [None, pa.py_buffer(offsets.tobytes()),
                                                            pa.py_buffer(b"".join(values))])


def corrupt_column(path, row_group: int, column: int) -> None:
    """Overwrite one column chunk's pages; the footer stays valid."""
    meta = pq.ParquetFile(path).metadata.row_group(row_group).column(column)
    start = meta.dictionary_page_offset if meta.has_dictionary_page else meta.data_page_offset
    data = bytearray(path.read_bytes())
    data[start:start + meta.total_compressed_size] = b"\xff" * meta.total_compressed_size
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    """Files that crashed an actor before, grouped into one parquet chunk: the text column as
    string (s), binary (b) and int64 (i); a string column with invalid UTF-8 in the text (row u1)
    and in a passthrough column (row u2); corrupt text pages behind a valid footer (c: 4 rows whose
    ids still read). Plus a JSONL and a CSV file, and a file in no input format."""
    root = tmp_path_factory.mktemp("bad_files")
    pq.write_table(pa.table({"record_id": ["s0", "s1"], "text": GOOD[:2]}), root / "1s.parquet")
    pq.write_table(pa.table({"record_id": ["b0"], "text": pa.array([GOOD[2].encode()], pa.binary())}),
                   root / "2b.parquet")
    pq.write_table(pa.table({"record_id": ["i0", "i1"], "text": pa.array([5, 6], pa.int64())}), root / "3i.parquet")
    pq.write_table(pa.table({"record_id": ["u0", "u1", "u2"],
                             "text": string_with_bytes([GOOD[3].encode(), b"\xff\xfe", GOOD[4].encode()]),
                             "note": string_with_bytes([b"a", b"b", b"\xc3"])}), root / "4u.parquet")
    pq.write_table(pa.table({"record_id": [f"c{i}" for i in range(4)], "text": [GOOD[5] * 3] * 4}),
                   root / "5c.parquet")
    corrupt_column(root / "5c.parquet", 0, 1)
    (root / "6j.jsonl").write_text("".join(f'{{"record_id": "j{i}", "text": "{t}"}}\n' for i, t in enumerate(GOOD[:3]))
                                   + '{"record_id": "j3", "text": ""}\n', encoding="utf-8")
    pd.DataFrame({"record_id": ["v0", "v1"], "text": GOOD[3:5]}).to_csv(root / "7v.csv", index=False)
    (root / "notes.txt").write_text("not input")
    return root


BAD_FILE_REASONS = {"non_string_text": 2, "invalid_utf8": 1, "invalid_utf8:note": 1, "unreadable_data": 4,
                    "empty_text": 1}


@pytest.mark.slow
def test_bad_files_are_quarantined_and_the_job_writes_its_summary(ray_local, model_dir, bad_files, tmp_path):
    out = tmp_path / "out"
    assert main(args(model_dir, bad_files, out, "rows_per_file=100", "max_quarantine_share=1.0")) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["rows_in"], summary["rows_scored"], summary["rows_quarantined"]) == (18, 9, 9)
    assert summary["quarantine_reasons"] == BAD_FILE_REASONS
    assert summary["chunks"] == 3  # the parquet files together, the JSONL and the CSV each alone
    assert summary["skipped_files"] == {"count": 1, "files": [str(bad_files / "notes.txt")]}
    assert summary["unreadable"]["spans"] == 1 and summary["unreadable"]["rows"] == 4
    assert "5c.parquet" in summary["unreadable"]["examples"][0]["file"]
    scored, quarantined = read(f"{out}/part-*.parquet"), read(f"{out}/quarantine/part-*.parquet")
    assert sorted(scored.record_id) == sorted(["s0", "s1", "b0", "u0", "j0", "j1", "j2", "v0", "v1"])
    reasons = dict(zip(quarantined.record_id, quarantined.reason))
    assert reasons == {"i0": "non_string_text", "i1": "non_string_text", "u1": "invalid_utf8",
                       "u2": "invalid_utf8:note", "c0": "unreadable_data", "c1": "unreadable_data",
                       "c2": "unreadable_data", "c3": "unreadable_data", "j3": "empty_text"}
    assert quarantined.set_index("record_id").loc["u1", "text"] == "\\xff\\xfe"  # readable, escaped


def test_actor_counts_token_truncated_rows(model_dir, bad_input, tmp_path):
    from rayscore.data.pairs import CORRECT, conversation

    worker, chunk = worker_for(model_dir, bad_input / "a.parquet", tmp_path / "out")
    tok = worker.scorer.runner.tok
    lengths = [len(tok(tok.apply_chat_template(conversation(t, CORRECT), tokenize=False),
                       add_special_tokens=False)["input_ids"]) for t in GOOD[:6]]  # the scored rows a0..a5
    worker.scorer.runner.max_seq_len = max_len = sorted(lengths)[3]  # about half the rows are longer
    record = worker.process(chunk)
    expected = sum(n > max_len for n in lengths)
    assert 0 < expected < 6 and record["truncated_rows"] == expected


def test_non_finite_scores_go_to_quarantine(tmp_path):
    """A model whose embedding of one character is NaN: the row holding it gets a NaN reward,
    which used to become label 错误; now it is quarantined as non_finite_score."""
    import torch

    tok = char_tokenizer(GOOD + ["Ω"])
    model = tiny_reward_model(tok)
    with torch.no_grad():
        model.get_input_embeddings().weight[tok.convert_tokens_to_ids("Ω")] = float("nan")
    save_tiny(model, tok, tmp_path / "nan_model")
    texts = GOOD[:3] + [GOOD[3] + "Ω"]
    pq.write_table(pa.table({"record_id": ["n0", "n1", "n2", "n3"], "text": texts}), tmp_path / "in.parquet")
    worker, chunk = worker_for(tmp_path / "nan_model", tmp_path / "in.parquet", tmp_path / "out")
    record = worker.process(chunk)
    assert record["reasons"] == {"non_finite_score": 1} and record["rows_scored"] == 3
    assert sum(record["value_counts"]["label"].values()) == 3
    scored = pd.read_parquet(tmp_path / "out" / f"part-00000-{'f' * 12}.parquet")
    quarantined = pd.read_parquet(tmp_path / "out" / "quarantine" / f"part-00000-{'f' * 12}.parquet")
    assert list(scored.record_id) == ["n0", "n1", "n2"] and np.isfinite(scored.p_correct).all()
    assert quarantined.to_dict("records") == [{"record_id": "n3", "text": texts[3], "reason": "non_finite_score"}]
