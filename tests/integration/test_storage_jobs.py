"""score_batch and distill (which runs a judge, a train_classifier and a score_batch) with their
inputs, models and outputs in a bucket of the loopback S3 server, each run as `python -m
jobs.<job>` with a local Ray of its own (tests/storage_jobs.py). score_batch loads a model dir from
the bucket through the model cache: one download per model version on the machine, shared by the
driver and the actors, and a model written again under the same URI is downloaded again, never
read from the old copy."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rayscore.addresses.records import generate_records
from rayscore.io import files, glob_files, read_parquet, upload_dir, write_parquet
from rayscore.model_cache import download_record
from rayscore.models import model_fingerprint
from rayscore.score.scorers import ScorerSpec, build_scorer
from storage_jobs import make_bucket, read_json, run_job, s3_env
from tiny_models import char_tokenizer, save_tiny, tiny_reward_model

ROWS = 120


@pytest.fixture
def bucket(s3_server, monkeypatch, tmp_path):
    for name, value in s3_server.items():
        monkeypatch.setenv(name, value)  # this process's client; the jobs get them in their env
    uri = f"s3://jobs-{tmp_path.name.lower().replace('_', '-')[-40:]}"
    make_bucket(uri)
    return uri


@pytest.fixture
def env(s3_server, tmp_path):
    """The jobs' environment (storage_jobs.s3_env)."""
    with s3_env(s3_server, tmp_path) as env:
        yield env


def scored_rows(out: str) -> pd.DataFrame:
    parts = glob_files(f"{out}/part-*.parquet")
    return pd.concat([read_parquet(p) for p in parts], ignore_index=True).sort_values("record_id", ignore_index=True)


def cache_entries(env: dict) -> list[Path]:
    """The model cache's entries, oldest download first."""
    root = Path(env["RAYSCORE_MODEL_CACHE"])
    return sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: download_record(p)["at"])


@pytest.mark.slow
def test_score_batch_loads_its_model_from_the_bucket_through_the_cache(bucket, env, tmp_path):
    records = generate_records(ROWS, seed=5)
    write_parquet(records, f"{bucket}/in/part-0.parquet", row_group_size=30)  # 4 chunks: both actors score
    tok = char_tokenizer(records.text)
    for seed in (0, 1):
        save_tiny(tiny_reward_model(tok, seed=seed), tok, tmp_path / f"model_{seed}")
    upload_dir(tmp_path / "model_0", f"{bucket}/model")
    words = ["--config", "configs/score_batch/tiny.yaml", f"input={bucket}/in", f"output={bucket}/out",
             f"scorer.model_dir={bucket}/model", "rows_per_file=30", "num_actors=2", "cpus_per_actor=0.5",
             "group_column=null"]

    driver = run_job("score_batch", words, env, tmp_path / "first.log")
    summary = read_json(f"{bucket}/out/summary.json")
    assert summary["ok"] and summary["rows_scored"] == ROWS
    # One download, by the driver (it reads the model's checks and calibration first); both
    # actors found the entry and loaded it (an actor's download would log a line of its own).
    [entry] = cache_entries(env)
    assert download_record(entry)["uri"] == f"{bucket}/model" and download_record(entry)["pid"] == driver
    assert (tmp_path / "first.log").read_text().count("downloaded") == 1
    assert model_fingerprint(entry) == model_fingerprint(tmp_path / "model_0")
    expected = build_scorer(ScorerSpec(kind="quality", model_dir=str(tmp_path / "model_0"), max_seq_len=64))
    got = scored_rows(f"{bucket}/out")
    want = expected.score(records.sort_values("record_id", ignore_index=True)[["text"]])
    assert np.allclose(got.p_correct, want.p_correct, atol=1e-6)

    # The same URI, another model: a second entry; the first is not downloaded again.
    upload_dir(tmp_path / "model_1", f"{bucket}/model")
    run_job("score_batch", [*words, "overwrite=true"], env, tmp_path / "second.log")
    first, second = cache_entries(env)
    assert first == entry and download_record(first) == download_record(entry)
    assert model_fingerprint(second) == model_fingerprint(tmp_path / "model_1")
    resummary = read_json(f"{bucket}/out/summary.json")
    assert resummary["ok"] and resummary["fingerprint"] != summary["fingerprint"]
    again = scored_rows(f"{bucket}/out")
    assert not np.allclose(again.p_correct, got.p_correct)  # model_1's scores, not model_0's


@pytest.mark.slow
def test_distill_runs_judge_train_and_score_in_the_bucket(bucket, env, tmp_path):
    """Corpus in the bucket, output_dir in the bucket: the teacher (a judge run), the student (a
    train_classifier run), the scored and kept corpus and distill's own files all land there, and
    the student is scored from the bucket through the model cache."""
    from rayscore.distill.corpus import generate_corpus, write_corpus
    from rayscore.distill.teacher import RubricTeacher

    write_corpus(generate_corpus(300, seed=3), f"{bucket}/corpus", rows_per_file=100)
    out = f"{bucket}/distill"
    with RubricTeacher() as teacher:
        run_job("distill", ["--config", "configs/distill/tiny.yaml", f"output_dir={out}", f"corpus={bucket}/corpus",
                            "demo.enabled=false", f"judge.http.base_url={teacher.base_url}",
                            "threshold=2"],  # the tiny student's scores reach 2: some rows are kept
                env, tmp_path / "distill.log")
        calls = teacher.calls

    summary = read_json(f"{out}/summary.json")
    assert summary["ok"], summary["problems"]
    assert summary["teacher"]["calls"] == calls > 0 and summary["rows_scored"] == 300
    assert summary["outputs"]["student"] == f"{out}/student/model"
    assert summary["outputs"]["kept"] == f"{out}/kept"
    teacher_summary = read_json(f"{out}/teacher/summary.json")  # the judge job's own, in the bucket
    assert teacher_summary["ok"] and teacher_summary["rows_judged"] == summary["sample_rows"] == 120
    assert teacher_summary["outputs"]["judgements"] == f"{out}/teacher/part-*.parquet"
    kept = pd.concat([read_parquet(p) for p in glob_files(f"{out}/kept/part-*.parquet")])
    assert len(kept) == summary["rows_kept"] > 0 and (kept["label"] == 1).all()
    names = {n for n, _, _ in files(out)}
    assert {"config.yaml", "summary.json", "report.html", "sample.parquet", "labels/train.parquet",
            "labels/heldout.parquet", "teacher/config.yaml", "student/model/merged/config.json",
            "student/metrics.json", "scored/summary.json"} <= names
    assert any(n.startswith("eval/") and n.endswith(".png") for n in names)
    plots = summary["student"]["plots"]  # named where they were uploaded, never the staging dir
    assert plots and all(p.startswith(f"{out}/eval/") and p[len(out) + 1:] in names for p in plots.values())
    records = [download_record(p) for p in cache_entries(env)]
    assert [r["uri"] for r in records] == [f"{out}/student/model"]  # scored from the bucket, downloaded once


@pytest.mark.slow
def test_judge_reads_and_writes_the_bucket_and_filters_consistent_pairs(bucket, env, tmp_path):
    """Pairs in the bucket, judged in both orders by the stand-in teacher; the parts, the
    consistent pairs and the judge's own files (summary, config, report) land in the bucket."""
    from rayscore.distill.corpus import generate_pairs
    from rayscore.distill.teacher import RubricTeacher

    pairs = generate_pairs(40, seed=2)
    write_parquet(pairs, f"{bucket}/pairs.parquet")
    out = f"{bucket}/judged"
    with RubricTeacher() as teacher:
        run_job("judge", ["--config", "configs/judge/pairwise_filter_http_en.yaml", f"input={bucket}/pairs.parquet",
                          f"output_dir={out}", "question_column=prompt", f"http.base_url={teacher.base_url}",
                          "http.model=rubric-teacher", "http.api_key_env=''", "http.max_concurrency=4",
                          "http.max_tokens=48", "num_actors=1"], env, tmp_path / "judge.log")
        calls = teacher.calls

    summary = read_json(f"{out}/summary.json")
    assert summary["ok"] and summary["rows_judged"] == 40 and calls == 80  # both orders
    assert summary["outputs"]["consistent"] == f"{out}/consistent.parquet"
    consistent = read_parquet(f"{out}/consistent.parquet")
    kept = summary["filter_consistent"]["kept"]
    assert len(consistent) == kept and kept + summary["filter_consistent"]["dropped"] == 40
    assert set(consistent["id"]) <= set(pairs["id"]) and consistent["verdict"].notna().all()
    names = {n for n, _, _ in files(out)}
    assert {"summary.json", "config.yaml", "report.html", "consistent.parquet"} <= names
    assert any(n.startswith("part-") for n in names)
