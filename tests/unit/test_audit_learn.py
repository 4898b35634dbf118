"""What a learn round reports, on tables written here: label metrics with 待审 not accepted, the
answers per check flag, and the labels that moved between two scored runs.

    .venv/bin/python -m pytest -n 0 -q tests/unit/test_audit_learn.py
"""

from __future__ import annotations

import pandas as pd
import pytest

from rayscore.audit.config import AuditJobConfig, LearnSpec
from rayscore.audit.learn import audits_by_flag, label_changes, label_metrics, next_round, scored_model
from rayscore.config import ConfigError, load_config
from rayscore.score.inputs import InputError
from rayscore.train.reward import RewardJobConfig


def test_label_metrics_count_review_as_not_accepted():
    gold = ["错误", "错误", "正确", "正确", "正确"]
    pred = ["待审", "正确", "正确", "待审", "错误"]
    m = label_metrics(gold, pred)
    # caught: rows 0 (待审), 3 (待审), 4 (错误); one of three is truly wrong; recall 1 of 2
    assert (m["precision"], m["recall"]) == (round(1 / 3, 4), 0.5)
    assert m["f1"] == round(2 * (1 / 3) * 0.5 / (1 / 3 + 0.5), 4)
    assert m["correct_kept"] == round(1 / 3, 4) and m["review_share"] == 0.4 and m["rows"] == 5
    assert label_metrics(["正确"], ["正确"])["recall"] == 0.0          # no wrong record: nothing to catch


def test_audits_by_flag_counts_where_people_corrected_the_model():
    answers = pd.DataFrame({"label": ["错误", "正确", "正确", "错误"]})
    before = pd.DataFrame({"label": ["正确", "正确", "待审", "错误"],
                           "check_flags": [[], ["admin_unknown"], ["admin_unknown", "road_suffix"], []]})
    got = audits_by_flag(answers, before)
    assert got["admin_unknown"] == {"answers": 2, "corrected": 1, "answered_correct": 2}
    assert got["none"] == {"answers": 2, "corrected": 1, "answered_wrong": 2}
    assert list(got)[:2] == ["admin_unknown", "none"]           # most corrected first, then most answered


def test_label_changes_between_two_scored_runs(tmp_path):
    for name, labels in (("a", ["正确", "待审", "错误", "正确"]), ("b", ["正确", "错误", "错误", "待审"])):
        (tmp_path / name).mkdir()
        pd.DataFrame({"record_id": ["1", "2", "3", "4"], "label": labels,
                      "check_flags": [[], ["admin_unknown"], [], ["road_suffix"]]}).to_parquet(
            tmp_path / name / "part-00000.parquet", index=False)
    got = label_changes(tmp_path / "a", tmp_path / "b")
    assert (got["rows"], got["changed"]) == (4, 2)
    assert got["overall"] == {"待审->错误": 1, "正确->待审": 1}
    assert got["by_flag"] == {"admin_unknown": {"待审->错误": 1}, "road_suffix": {"正确->待审": 1}}
    assert got["labels_after"] == {"错误": 2, "正确": 1, "待审": 1}


def test_rounds_are_numbered_and_the_model_before_is_the_scored_runs(tmp_path):
    assert next_round(tmp_path).name == "round-0001"
    (tmp_path / "round-0001").mkdir()
    (tmp_path / "round-0003").mkdir()
    assert next_round(tmp_path).name == "round-0004"
    (tmp_path / "scored").mkdir()
    with pytest.raises(InputError, match="config.yaml is missing"):
        scored_model(tmp_path / "scored")
    (tmp_path / "scored" / "config.yaml").write_text("scorer:\n  model_dir: /m/model\n", encoding="utf-8")
    assert scored_model(tmp_path / "scored") == "/m/model"


def test_learn_and_fit_on_audited_configs_are_checked():
    with pytest.raises(ConfigError, match="scored: required for step learn"):
        load_config(AuditJobConfig, ["step=learn", "output_dir=a"])
    cfg = load_config(AuditJobConfig, ["step=learn", "output_dir=a", "scored=s", "learn.audited_weight=4",
                                       "learn.train_overrides=[train.max_steps=5]"])
    assert cfg.learn == LearnSpec(audited_weight=4, train_overrides=["train.max_steps=5"])
    with pytest.raises(ConfigError, match=r"learn.audited_weight \(from command line\): must be >= 1"):
        load_config(AuditJobConfig, ["output_dir=a", "scored=s", "learn.audited_weight=0"])
    with pytest.raises(ConfigError, match=r"outcomes.fit_on.*audited needs data.audited_path"):
        load_config(RewardJobConfig, ["outcomes.fit_on=audited", "data.train_path=t"])
    cfg = load_config(RewardJobConfig, ["outcomes.fit_on=audited", "data.audited_path=x", "data.train_path=t"])
    assert cfg.outcomes.fit_on == "audited"
