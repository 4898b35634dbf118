"""The audit loop end to end: score_batch on Ray Data, audit's pick, a Label Studio export filled
in as Label Studio writes it, the import, and the audited labels as a training source; a learn
round (import, train again continuing the model, score again, report); and label_issues' k-fold
loop with real train_reward runs.

    .venv/bin/python -m pytest -n 0 -q tests/integration/test_audit_job.py
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from jobs.audit import main
from rayscore.addresses.records import generate_records
from rayscore.audit.store import LabelStore
from rayscore.data.audited import audited_source
from rayscore.eval.operating_points import outcome
from rayscore.score.job import ScoreJobConfig, run
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
    audit = ["output_dir=audit", "scored=scored", "pick.budget=12", "pick.explore=0"]
    assert main(audit) == 0
    batch = tmp_path / "audit" / "batches" / "batch-0001"
    picked = pd.read_parquet(batch / "picked.parquet")
    scored = pd.concat(map(pd.read_parquet, sorted((tmp_path / "scored").glob("part-*.parquet"))))
    threshold = summary.data["threshold"]
    nearest = (scored["p_correct"] - threshold).abs()
    # the 12 rows nearest the model's one threshold (near-duplicates aside), each with its reason
    assert len(picked) == 12 and picked["record_id"].is_unique
    assert nearest[scored["record_id"].isin(picked["record_id"])].max() <= nearest.sort_values().iloc[40]
    assert all(w.startswith(("正确, p_correct", "错误, p_correct")) and "nearest cut threshold" in w
               for w in picked["why"])

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


def test_a_learn_round_trains_on_the_answers_and_scores_again(ray_local, docs_workdir, tiny_records, tmp_path,
                                                              monkeypatch):
    """pick (a quarter explored at random), the person's CSV, then one learn command: the answers
    stored, a train_reward run continuing the model that scored, every record scored again, and a
    report of the held-back answers before and after and of the labels that moved."""
    model = docs_workdir / "out" / "tiny" / "train_reward" / "model"
    records = pd.concat(map(pd.read_parquet, sorted((tiny_records / "score").glob("*.parquet"))), ignore_index=True)
    assert run(ScoreJobConfig(input=str(tiny_records / "score"), output=str(tmp_path / "scored"),
                              scorer=ScorerSpec(model_dir=str(model), batch_size=64, max_seq_len=96),
                              num_actors=1, cpus_per_actor=0.5)).ok
    first = pd.concat(map(pd.read_parquet, sorted((tmp_path / "scored").glob("part-*.parquet"))))
    points = json.loads((model / "calibration.json").read_text(encoding="utf-8"))["operating_points"]
    by_model = first[first["decided_by"] == "model"]                 # labelled by the model's operating points
    assert (by_model["label"].to_numpy() == outcome(by_model["p_correct"].to_numpy(), points)).all()
    monkeypatch.chdir(docs_workdir)   # where configs/train_reward/tiny.yaml's records are
    audit = [f"output_dir={tmp_path / 'audit'}", f"scored={tmp_path / 'scored'}"]
    assert main([*audit, "pick.budget=40", "pick.explore=0.25"]) == 0
    batch = tmp_path / "audit" / "batches" / "batch-0001"
    picked = pd.read_parquet(batch / "picked.parquet")
    explored = picked["why"].str.startswith("explore: random")
    assert len(picked) == 40 and explored.sum() == 10 and picked["shape"].is_unique

    gold = dict(zip(records["record_id"], records["label"]))
    tasks = pd.read_csv(batch / "tasks.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    tasks["label"] = tasks["id"].map(gold)
    tasks.loc[tasks.index[-3:], "label"] = ""                      # three rows left undecided
    tasks.to_csv(tmp_path / "answers.csv", index=False, encoding="utf-8-sig")
    assert main([*audit, "step=learn", f"labelled={tmp_path / 'answers.csv'}", "who=审核员",
                 "learn.train_config=configs/train_reward/tiny.yaml", "learn.audited_weight=2",
                 "learn.train_overrides=[train.max_steps=3, scaling.num_workers=1]"]) == 0

    round_dir = tmp_path / "audit" / "rounds" / "round-0001"
    report = json.loads((round_dir / "report.json").read_text(encoding="utf-8"))
    trained = json.loads((round_dir / "train" / "metrics.json").read_text(encoding="utf-8"))
    assert report["imported"]["imported"] == 37 and trained["audited_records"] == 37
    assert [s["answers"] for s in trained["audited_sets"]] == [37]
    assert trained["audited_sets"][0]["source_file"].endswith("answers.csv")
    assert (trained["audited_train_rows"] / 2 + trained["audited_held_back"] + trained["audited_left_out"]) == 37
    train_cfg = (round_dir / "train" / "config.yaml").read_text(encoding="utf-8")
    assert f"name_or_path: {model}" in train_cfg                      # continued the model that scored
    held = report["held_back"]
    assert held["rows"] == trained["audited_held_back"] and held["before"]["rows"] == held["rows"]
    assert sum(v["answers"] for v in report["audits"].values()) >= 37
    again = pd.concat(map(pd.read_parquet, sorted((round_dir / "scored").glob("part-*.parquet"))))
    assert len(again) == len(records) and report["changes"]["rows"] == len(records)
    assert sum(report["changes"]["labels_after"].values()) == len(records)
    assert report["model_after"] == str(round_dir / "train" / "model")
    assert report["next"] == f"step=pick scored={round_dir / 'scored'}"


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
