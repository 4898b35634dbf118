"""The audit loop end to end: score_batch on Ray Data, audit's pick, a Label Studio export filled
in as Label Studio writes it, the import, and the audited labels as a training source; and
label_issues' k-fold loop with real train_reward runs.

    .venv/bin/python -m pytest -n 0 -q tests/integration/test_audit_job.py
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs.audit import main
from rayscore.addresses.records import generate_records
from rayscore.audit.store import LabelStore
from rayscore.data.audited import audited_source
from rayscore.score.pipeline import ScoreJobConfig, run
from rayscore.score.scorers import ScorerSpec
from tiny_models import char_tokenizer, save_tiny, tiny_reward_model

ROOT = Path(__file__).resolve().parents[2]


def test_score_pick_label_import_train_source(ray_local, tmp_path, monkeypatch):
    records = generate_records(240, seed=3)
    (tmp_path / "in").mkdir()
    pq.write_table(pa.Table.from_pandas(records, preserve_index=False), tmp_path / "in" / "part-0.parquet")
    tok = char_tokenizer(records["text"])
    save_tiny(tiny_reward_model(tok, seed=0), tok, tmp_path / "model")
    summary = run(ScoreJobConfig(input=str(tmp_path / "in"), output=str(tmp_path / "scored"),
                                 scorer=ScorerSpec(model_dir=str(tmp_path / "model"), batch_size=64, max_seq_len=96),
                                 rows_per_file=120, num_actors=1, cpus_per_actor=0.5))
    assert summary.data["rows_scored"] == 240

    monkeypatch.chdir(tmp_path)  # the job's relative paths, as a user runs it
    audit = ["output_dir=audit", "scored=scored", "pick.budget=12"]
    assert main(audit) == 0
    batch = tmp_path / "audit" / "batches" / "batch-0001"
    picked = pd.read_parquet(batch / "picked.parquet")
    scored = pd.concat(map(pd.read_parquet, sorted((tmp_path / "scored").glob("part-*.parquet"))))
    threshold = summary.data["threshold"]
    nearest = (scored["p_correct"] - threshold).abs()
    # the 12 rows nearest the model's one threshold (near-duplicates aside), each with its reason
    assert len(picked) == 12 and picked["record_id"].is_unique
    assert nearest[scored["record_id"].isin(picked["record_id"])].max() <= nearest.sort_values().iloc[40]
    assert all(w.startswith(("正确, p_correct", "错误, p_correct")) and "from threshold" in w for w in picked["why"])

    tasks = json.loads((batch / "tasks.json").read_text(encoding="utf-8"))
    gold = dict(zip(records["record_id"], records["label"]))
    export = [{"id": 500 + n, "data": t["data"], "annotations": [] if n % 4 == 3 else [
        {"completed_by": 7, "created_at": "2026-12-07T10:00:00Z", "was_cancelled": n % 4 == 2,
         "result": [{"from_name": "label", "to_name": "text", "type": "choices",
                     "value": {"choices": [gold[t["data"]["id"]]]}}]}]} for n, t in enumerate(tasks)]
    (tmp_path / "export.json").write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    assert main(["output_dir=audit", "step=import", "labelled=export.json"]) == 0
    (report,) = (tmp_path / "audit" / "imports").glob("*.json")
    report = json.loads(report.read_text(encoding="utf-8"))
    assert report["rows"] == {"labelled_now": 6, "labelled_before": 0, "unanswered": 6}
    assert report["cancelled_annotations"] == 3
    stored = LabelStore(tmp_path / "audit" / "labels").read()
    assert (stored["label"] == stored["record_id"].map(gold)).all()

    assert main(audit) == 0  # the next batch never repeats a row of the first
    second = pd.read_parquet(tmp_path / "audit" / "batches" / "batch-0002" / "picked.parquet")
    assert not set(second["record_id"]) & set(picked["record_id"])

    source = audited_source(tmp_path / "audit" / "labels", weight=2, checks="rayscore.addresses.checks:ADDRESS_CHECKS")
    assert len(source.train) + 2 * (len(source.held_back) + len(source.left_out)) == 2 * 6


def test_label_issues_k_fold_trains_on_ray(ray_local, tiny_records, tmp_path, monkeypatch):
    """k=2 train_reward runs (a few steps each) on 200 labelled rows give every row an out-of-fold
    p_correct; the picked rows are ranked issues of that set."""
    train = pd.read_parquet(tiny_records / "train").head(200)
    train.to_parquet(tmp_path / "labelled.parquet", index=False)
    monkeypatch.chdir(ROOT)
    assert main(["--config", "configs/audit/label_issues.yaml", f"output_dir={tmp_path / 'audit'}",
                 f"pick.label_issues.path={tmp_path / 'labelled.parquet'}",
                 "pick.label_issues.train_config=configs/train_reward/tiny.yaml",
                 "pick.label_issues.train_overrides=[train.max_steps=4, scaling.num_workers=1]",
                 "pick.budget=10"]) == 0
    for k in (0, 1):
        assert (tmp_path / "audit" / "folds" / f"fold-{k}" / "train_reward" / "model").is_dir()
    picked = pd.read_parquet(tmp_path / "audit" / "batches" / "batch-0001" / "picked.parquet")
    assert set(picked["record_id"]) <= set(train["record_id"])
    assert all(w.startswith("labelled ") and "out-of-fold p_correct" in w for w in picked["why"])
