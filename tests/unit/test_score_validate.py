"""Row validation, threshold choice, the expected-score formula, chunk planning and the output
store: everything of score_batch that needs no model and no Ray."""

import glob
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rayscore.config import ConfigError, load_config
from rayscore.score.config import ScoreJobConfig
from rayscore.score.generative import expected_from_probs, integer_distribution
from rayscore.score.inputs import InputError, compressed_bytes_per_row, plan_chunks, read_chunk, read_footers
from rayscore.score.job import chunk_rows, scoring_fingerprint
from rayscore.score.report import summarize
from rayscore.score.scorers import ScorerSpec, choose_threshold
from rayscore.score.store import ChunkStore
from rayscore.score.validate import first_reasons, validate_column, validate_texts

ROOT = Path(__file__).resolve().parents[2]


# --- validation -------------------------------------------------------------------------------

def test_text_reasons():
    column = pa.chunked_array([pa.array(["ok", None, "", "  \n", "x" * 11, "短"])])
    texts, reasons = validate_texts(column, max_chars=10, over_length="quarantine")
    assert reasons == [None, "null_text", "empty_text", "empty_text", "too_long", None]
    assert texts == ["ok", None, None, None, None, "短"]


def test_over_length_truncates_when_asked():
    texts, reasons = validate_texts(pa.array(["abcdefghijkl"]), max_chars=5, over_length="truncate")
    assert reasons == [None] and texts == ["abcde"]


def test_binary_column_is_decoded_or_invalid_utf8():
    column = pa.array(["好".encode(), b"\xff\xfe bad", None, b" "], pa.binary())
    texts, reasons = validate_column(column, max_chars=10, over_length="quarantine")
    assert texts[0] == "好"
    assert reasons == [None, "invalid_utf8", "null_text", "empty_text"]


def test_non_text_column_is_non_string():
    _, reasons = validate_column(pa.array([1, None, 3]), max_chars=10, over_length="quarantine")
    assert reasons == ["non_string_text", "null_text", "non_string_text"]


def test_conversation_column():
    good = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    rows = [good, None, [], [{"role": "assistant", "content": "a"}, {"role": "user", "content": "q"}],
            [{"role": "user", "content": " "}, {"role": "assistant", "content": "a"}],
            [{"role": "user", "content": "q" * 20}, {"role": "assistant", "content": "a"}]]
    column = pa.array(rows, pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())])))
    values, reasons = validate_column(column, max_chars=10, over_length="quarantine")
    assert reasons == [None, "null_text", "bad_messages", "bad_messages", "empty_text", "too_long"]
    assert values[0] == good
    values, reasons = validate_column(column, max_chars=10, over_length="truncate")
    assert reasons[5] is None and values[5][0]["content"] == "q" * 10


def test_first_reason_names_the_column_when_there_are_several():
    by_column = {"prompt": [None, "empty_text", None], "response": ["null_text", "too_long", None]}
    assert first_reasons(by_column, name_columns=True) == ["null_text:response", "empty_text:prompt", None]
    assert first_reasons({"text": ["too_long", None]}, name_columns=False) == ["too_long", None]


# --- threshold choice -------------------------------------------------------------------------

def test_threshold_for_target_precision_and_best_f1():
    p = np.array([0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.7, 0.8, 0.9, 0.95])
    gold = np.array(["错误", "错误", "错误", "正确", "错误", "正确", "错误", "正确", "正确", "正确"])
    best = choose_threshold(p, gold, best_f1=True)
    predicted_wrong = p < best["threshold"]
    tp = (predicted_wrong & (gold == "错误")).sum()
    assert best["f1"] == pytest.approx(2 * tp / (predicted_wrong.sum() + (gold == "错误").sum()), abs=1e-4)
    # 0.75 catches all 5 wrong records with 2 false alarms (F1 0.833); 0.5 catches 4 with 1 (F1 0.8).
    assert best["threshold"] == pytest.approx(0.75) and best["f1"] == pytest.approx(0.8333, abs=1e-4)
    strict = choose_threshold(p, gold, target_precision=1.0)
    assert strict["precision"] == 1.0 and strict["recall"] == 0.6  # the three lowest, nothing else
    assert 0.2 < strict["threshold"] < 0.3
    keep_correct = choose_threshold(p, gold, target_precision=1.0, positive="正确")
    assert keep_correct["threshold"] == pytest.approx(0.75) and keep_correct["recall"] == 0.6


def test_unreachable_precision_fails():
    with pytest.raises(ValueError, match="no threshold reaches precision 0.99"):
        choose_threshold(np.array([0.1, 0.2]), np.array(["正确", "错误"]), target_precision=0.99)


def test_threshold_spec_needs_exactly_one_goal(tmp_path):
    with pytest.raises(ConfigError, match="scorer.threshold_from.target_precision"):
        load_config(ScoreJobConfig, ["input=a", "output=b", "scorer.model_dir=m", "scorer.threshold_from.path=v.jsonl"])
    with pytest.raises(ConfigError, match="only the quality scorer"):
        load_config(ScoreJobConfig, ["input=a", "output=b", "scorer.model_dir=m", "scorer.kind=reward",
                                     "scorer.threshold_from.path=v.jsonl", "scorer.threshold_from.best_f1=true"])


@pytest.mark.parametrize("path", sorted(glob.glob(str(ROOT / "configs/score_batch/*.yaml"))))
def test_every_score_batch_config_loads(path):
    cfg = load_config(ScoreJobConfig, ["--config", path])
    assert cfg.scorer.model_dir and cfg.input and cfg.output


# --- expected score ---------------------------------------------------------------------------

def one_hot(k: int) -> np.ndarray:
    return np.eye(10)[k][None]


@pytest.mark.parametrize("first, r10, p_dot, tenth, expected", [
    (9, 0.0, 1.0, 7, 9.7),     # "9.7"
    (8, 0.0, 0.0, 5, 8.0),     # "8": no point, the decimal adds nothing
    (1, 1.0, 1.0, 0, 10.0),    # "10.0"
    (1, 0.0, 1.0, 2, 1.2),     # "1.2"
])
def test_expected_score_reads_the_answer_format(first, r10, p_dot, tenth, expected):
    score = expected_from_probs(one_hot(first), np.array([r10]), np.array([p_dot]), one_hot(tenth))
    assert score[0] == pytest.approx(expected)


def test_expected_score_is_an_expectation_over_the_integer_part():
    q = np.zeros((1, 10))
    q[0, 8], q[0, 1] = 0.5, 0.5                       # half "8", half "1" of which 40 % go on to "10"
    p_int = integer_distribution(q, np.array([0.4]))
    assert p_int[0, [1, 8, 10]] == pytest.approx([0.3, 0.5, 0.2])
    score = expected_from_probs(q, np.array([0.4]), np.array([0.5]), one_hot(6))
    assert score[0] == pytest.approx(0.3 * 1 + 0.5 * 8 + 0.2 * 10 + 0.1 * 0.5 * 6)
    capped = expected_from_probs(q, np.array([0.4]), np.array([0.0]), one_hot(0), score_max=5)
    assert capped[0] == pytest.approx(1.0)             # only "1" is within [0, 5]


# --- chunk planning and the output store ------------------------------------------------------

def write_parquet(path: Path, n: int, start: int = 0, row_group_size: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({"record_id": [f"r{i}" for i in range(start, start + n)],
                      "text": [f"text {i}" for i in range(start, start + n)]})
    pq.write_table(table, path, row_group_size=row_group_size)


def test_small_files_share_a_chunk_and_big_ones_split_by_row_group(tmp_path):
    for k in range(50):
        write_parquet(tmp_path / "small" / f"f{k:03d}.parquet", 10, start=10 * k)
    chunks = plan_chunks(read_footers(str(tmp_path / "small"), ["text"]), rows_per_chunk=200)
    assert [c.rows for c in chunks] == [200, 200, 100]  # 50 files -> 3 output files, not 50
    assert sum(len(c.spans) for c in chunks) == 50
    fs = ChunkStore(str(tmp_path / "out"), "fp").fs
    ids = [i for c in chunks for i in read_chunk(fs, c)["record_id"].to_pylist()]
    assert ids == [f"r{i}" for i in range(500)]

    write_parquet(tmp_path / "big" / "one.parquet", 1000, row_group_size=100)
    big = plan_chunks(read_footers(str(tmp_path / "big"), ["text"]), rows_per_chunk=250)
    assert [c.rows for c in big] == [300, 300, 300, 100]  # whole row groups only
    again = plan_chunks(read_footers(str(tmp_path / "big"), ["text"]), rows_per_chunk=250)
    assert [c.key for c in again] == [c.key for c in big] and len({c.key for c in big}) == 4


def test_missing_column_or_corrupt_file_fails_naming_file_and_column(tmp_path):
    write_parquet(tmp_path / "in" / "a.parquet", 5)
    pq.write_table(pa.table({"record_id": ["x"], "body": ["y"]}), tmp_path / "in" / "b.parquet")
    with pytest.raises(InputError, match=r"b\.parquet: missing required column\(s\) \['text'\]"):
        read_footers(str(tmp_path / "in"), ["text"])
    (tmp_path / "in" / "b.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(InputError, match=r"b\.parquet: unreadable or corrupt parquet file"):
        read_footers(str(tmp_path / "in"), ["text"])
    with pytest.raises(InputError, match="input not found"):
        read_footers(str(tmp_path / "nowhere"), ["text"])


def test_target_file_mb_sets_rows_per_chunk(tmp_path):
    write_parquet(tmp_path / "in" / "a.parquet", 20_000)
    footers = read_footers(str(tmp_path / "in"), ["text"])
    per_row = compressed_bytes_per_row(footers)
    assert 0 < per_row < 50
    cfg = ScoreJobConfig(input="x", output="y", scorer=ScorerSpec(model_dir="m"), target_file_mb=1.0)
    rows = chunk_rows(cfg, footers)
    assert rows == int(2**20 / (per_row + 8 * 5 + 16))  # five quality columns
    assert chunk_rows(ScoreJobConfig(rows_per_file=123), footers) == 123


def test_commit_is_atomic_and_foreign_outputs_are_found(tmp_path):
    write_parquet(tmp_path / "in" / "a.parquet", 10)
    (chunk,) = plan_chunks(read_footers(str(tmp_path / "in"), ["text"]), 100)
    store = ChunkStore(str(tmp_path / "out"), "fpA")
    assert store.committed(chunk) is None
    table = pa.table({"record_id": ["a"], "reward": [1.0]})
    record = store.commit(chunk, table, table.slice(0, 0), {"rows_in": 1})
    assert store.committed(chunk) == record and record["part_bytes"] > 0
    assert not (tmp_path / "out" / "quarantine" / "part-00000-fpA.parquet").exists()  # nothing quarantined
    assert list((tmp_path / "out" / "_tmp").iterdir()) == []
    other = ChunkStore(str(tmp_path / "out"), "fpB")
    assert [Path(p).name for p in other.foreign_outputs()] == ["part-00000-fpA.json", "part-00000-fpA.parquet"]
    # A part a killed run left without its marker is foreign too.
    (tmp_path / "out" / "_committed" / "part-00000-fpA.json").unlink()
    assert [Path(p).name for p in other.foreign_outputs()] == ["part-00000-fpA.parquet"]
    (tmp_path / "out" / "_tmp" / "part-00001-fpA.parquet.123").write_bytes(b"half")
    store.clear_tmp()
    assert list((tmp_path / "out" / "_tmp").iterdir()) == []


def test_summary_balances_and_fails_over_the_quarantine_share():
    chunks = [type("C", (), {"rows": 10})(), type("C", (), {"rows": 10})()]
    records = [{"rows_in": 10, "rows_scored": 9, "rows_quarantined": 1, "reasons": {"null_text": 1},
                "value_counts": {"label": {"正确": 9}}, "gold": {}, "part_bytes": 2**20},
               {"rows_in": 10, "rows_scored": 7, "rows_quarantined": 3, "reasons": {"too_long": 2, "null_text": 1},
                "value_counts": {"label": {"错误": 7}}, "gold": {}, "part_bytes": 2**20}]
    cfg = ScoreJobConfig(max_quarantine_share=0.25)
    summary = summarize(records, chunks, cfg)
    assert summary["ok"] and summary["rows_in"] == 20 and summary["rows_quarantined"] == 4
    assert summary["quarantine_reasons"] == {"null_text": 2, "too_long": 2}
    assert summary["label_counts"] == {"正确": 9, "错误": 7} and summary["mean_file_mb"] == 1.0
    failed = summarize(records, chunks, ScoreJobConfig(max_quarantine_share=0.1))
    assert not failed["ok"] and "quarantined share 0.2000 > max_quarantine_share 0.1" in failed["problems"][0]
    missing = summarize(records[:1], chunks, cfg)
    assert not missing["ok"] and "1 of 2 chunks not committed" in missing["problems"]


def test_fingerprint_follows_scorer_settings_not_batch_size(tmp_path):
    """The model part is computed from the weights (cached by size and mtime), never read from
    a file that says what it is."""
    model = tmp_path / "model"
    (model / "merged").mkdir(parents=True)
    (model / "merged" / "config.json").write_text("{}")
    (model / "merged" / "model.safetensors").write_bytes(b"weights-1")
    base = ScoreJobConfig(input="i", output="o", scorer=ScorerSpec(model_dir=str(model)))
    same = ScoreJobConfig(input="i2", output="o2", scorer=ScorerSpec(model_dir=str(model), batch_size=7))
    assert scoring_fingerprint(base) == scoring_fingerprint(same)
    for changed in (ScorerSpec(model_dir=str(model), threshold=0.6), ScorerSpec(model_dir=str(model), dtype="bfloat16"),
                    ScorerSpec(model_dir=str(model), max_seq_len=64)):
        assert scoring_fingerprint(ScoreJobConfig(input="i", output="o", scorer=changed)) != scoring_fingerprint(base)
    before = scoring_fingerprint(base)
    assert scoring_fingerprint(base) == before  # the second time from the cache (same sizes and mtimes)
    (model / "merged" / "model.safetensors").write_bytes(b"weights-2")  # retrained model, same directory and size
    assert scoring_fingerprint(base) != before
