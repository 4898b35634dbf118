"""Bad rows through score_batch on a real local Ray: every row ends in output or quarantine with
its reason, the account balances, the quarantine share limit fails the job, and a missing column
or a corrupt file stops the job before any scoring, naming the file and the column."""

import glob
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs.score_batch import main
from rayscore.addresses.records import generate_records
from rayscore.score.chunks import InputError
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
    from rayscore.score.chunks import plan_chunks, read_footers
    from rayscore.score.pipeline import ChunkWorker, ScoreJobConfig
    from rayscore.score.scorers import ScorerSpec

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
    with caplog.at_level(logging.INFO, logger="rayscore.score.pipeline"):
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
