"""The distill job end to end on the session's Ray: a tiny generated corpus, the stand-in teacher
on loopback (started here, so its request count is the server's own), a few training steps, the
corpus scored by the student and filtered. Checks the summary's accounting, not the quality (the
demo's quality is measured in benchmarks/README.md)."""

import json
from pathlib import Path

import pandas as pd

from rayscore.config import load_config
from rayscore.distill.corpus import generate_corpus, write_corpus
from rayscore.distill.job import DistillJobConfig, run
from rayscore.distill.teacher import RubricTeacher


def parts(path: Path) -> pd.DataFrame:
    files = sorted(path.glob("part-*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in files], ignore_index=True) if files else pd.DataFrame(
        {"record_id": [], "score": []})


def test_distill_accounts_for_teacher_calls_and_kept_rows(ray_local, tmp_path):
    with RubricTeacher() as teacher:
        # demo.enabled=false: this test's teacher, whose count the summary must match
        cfg = load_config(DistillJobConfig, [
            "--config", "configs/distill/tiny.yaml", f"output_dir={tmp_path / 'out'}",
            f"corpus={tmp_path / 'corpus'}", "demo.enabled=false", f"judge.http.base_url={teacher.base_url}"])
        write_corpus(generate_corpus(300, seed=3), tmp_path / "corpus", rows_per_file=100)
        summary = run(cfg).data
        calls_at_server = teacher.calls

    assert summary["ok"], summary["problems"]
    assert summary["corpus_rows"] == 300 and summary["sample_rows"] == 120
    assert summary["teacher"]["calls"] == calls_at_server == 120  # one request per sampled row
    assert summary["teacher"]["rows_labelled"] == 120 and summary["teacher"]["rows_without_score"] == 0
    assert summary["teacher_calls_avoided"] == 300 - 120
    assert summary["cost_ratio"] == round(180 / 120, 3)

    student = summary["student"]
    assert student["train_rows"] + student["heldout_rows"] == 120
    assert student["n"] == student["heldout_rows"] == student["heldout_rows_scored"] > 0
    assert 0 <= student["agreement"] <= 1 and "f1" in student["binary"]
    assert Path(student["plots"]["binary_confusion"]).exists()

    out = tmp_path / "out"
    scored = parts(out / "scored")
    assert len(scored) == summary["rows_scored"] == 300 and scored["record_id"].is_unique
    kept, threshold = parts(out / "kept"), summary["threshold"]
    assert threshold == cfg.threshold == 3
    assert summary["rows_kept"] == len(kept) == int((scored["score"] >= threshold).sum())
    assert set(kept["record_id"]) == set(scored.loc[scored["score"] >= threshold, "record_id"])
    sample = pd.read_parquet(out / "sample.parquet")
    heldout = pd.read_parquet(out / "labels" / "heldout.parquet")
    assert set(heldout["id"]) <= set(sample["id"])
    assert json.loads((out / "summary.json").read_text())["rows_kept"] == summary["rows_kept"]
