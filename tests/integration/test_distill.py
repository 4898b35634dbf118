"""The distill job end to end on the session's Ray, pointwise and pairwise: a tiny generated
corpus, the stand-in teacher on loopback (started here, so its request count is the server's own),
a few training steps, the corpus scored by the student and filtered. Checks the summary's
accounting, not the quality (the demos' quality is measured in benchmarks/README.md)."""

import json
from pathlib import Path

import pandas as pd

from rayscore.config import load_config
from rayscore.distill.config import DistillJobConfig
from rayscore.distill.corpus import generate_corpus, generate_pairs, write_corpus
from rayscore.distill.job import run
from rayscore.distill.teacher import RubricTeacher, grade


def parts(path: Path) -> pd.DataFrame:
    files = sorted(path.glob("part-*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in files], ignore_index=True) if files else pd.DataFrame(
        {"record_id": [], "score": []})


def run_distill(config: str, corpus: pd.DataFrame, tmp_path: Path) -> tuple[DistillJobConfig, dict, int]:
    """(config, summary, requests the teacher answered): the job on `corpus` with this test's
    teacher (demo.enabled=false), whose own count the summary must match."""
    with RubricTeacher() as teacher:
        cfg = load_config(DistillJobConfig, [
            "--config", config, f"output_dir={tmp_path / 'out'}", f"corpus={tmp_path / 'corpus'}",
            "demo.enabled=false", f"judge.http.base_url={teacher.base_url}"])
        write_corpus(corpus, tmp_path / "corpus", rows_per_file=100)
        return cfg, run(cfg).data, teacher.calls


def test_distill_accounts_for_teacher_calls_and_kept_rows(ray_local, tmp_path):
    cfg, summary, calls_at_server = run_distill("configs/distill/tiny.yaml", generate_corpus(300, seed=3), tmp_path)

    assert summary["ok"], summary["problems"]
    assert summary["corpus_rows"] == 300 and summary["sample_rows"] == 120
    assert summary["teacher"]["calls"] == calls_at_server == 120  # one request per sampled row
    assert summary["teacher"]["rows_labelled"] == 120 and summary["teacher"]["rows_set_aside"] == 0
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


def test_pairwise_distill_trains_a_reward_model_on_consistent_verdicts_and_keeps_sure_pairs(ray_local, tmp_path):
    cfg, summary, calls_at_server = run_distill("configs/distill/tiny_pairwise.yaml", generate_pairs(300, seed=3),
                                                tmp_path)

    assert summary["ok"], summary["problems"]
    teacher_summary = summary["teacher"]
    assert teacher_summary["calls"] == calls_at_server == 2 * 120  # each sampled pair in both orders
    assert summary["teacher_calls_avoided"] == 2 * 300 - 240 and summary["cost_ratio"] == round(360 / 240, 3)
    # equal grades get "1" in both orders: inconsistent, never a training pair
    assert teacher_summary["set_aside_by_reason"].get("inconsistent", 0) > 0
    assert teacher_summary["rows_labelled"] + teacher_summary["rows_set_aside"] == 120

    out = tmp_path / "out"
    train = pd.read_parquet(out / "labels" / "train.parquet")
    heldout = pd.read_parquet(out / "labels" / "heldout.parquet")
    assert len(train) + len(heldout) == teacher_summary["rows_labelled"]
    assert not set(train["prompt"]) & set(heldout["prompt"])
    labelled = pd.concat([train, heldout])
    assert (labelled["chosen"].map(grade) > labelled["rejected"].map(grade)).all()  # the teacher's winner

    student = summary["student"]
    assert student["task"] == "reward" and student["n"] == student["heldout_rows"] == len(heldout) > 0
    assert 0 <= student["agreement"] <= 1 and Path(student["plots"]["reliability"]).exists()
    # the held-out side of the teacher's inconsistent pairs: what the filter would keep without a preference
    assert 0 < student["heldout_ties"] < teacher_summary["rows_set_aside"] and 0 <= student["ties_kept_share"] <= 1
    scored = parts(out / "scored")
    assert len(scored) == summary["rows_scored"] == 300 and scored["record_id"].is_unique
    sure = scored[(scored["p_chosen"] >= cfg.min_preference) | (scored["p_chosen"] <= 1 - cfg.min_preference)]
    kept = parts(out / "kept")
    assert summary["rows_kept"] == len(kept) == len(sure)
    first_won = sure.set_index("record_id")["p_chosen"] >= 0.5
    expected = sure.set_index("record_id")["response_1"].where(first_won, sure.set_index("record_id")["response_2"])
    assert kept.set_index("record_id")["chosen"].to_dict() == expected.to_dict()
