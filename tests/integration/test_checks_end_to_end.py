"""A model trained with the address checks (the session's tiny quality model, 2 Ray Train
workers): its directory carries the check set and calibration, score_batch writes check_flags and
the rules-only baseline, and the model refuses any other check set.

Run as:
  python -m pytest tests/integration/test_checks_end_to_end.py -q
"""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from rayscore.addresses.checks import ADDRESS_CHECKS
from rayscore.checks import CHECKS_FILE, CheckSetMismatch, resolve_check_set
from rayscore.eval.operating_points import outcome
from rayscore.score.inputs import InputError
from rayscore.score.job import ScoreJobConfig, run
from rayscore.score.scorers import ScorerSpec, build_scorer

REF = "rayscore.addresses.checks:ADDRESS_CHECKS"


def test_model_dir_carries_checks_and_calibration(quality_model_dir):
    saved = json.loads((quality_model_dir / CHECKS_FILE).read_text(encoding="utf-8"))
    assert saved["ref"] == REF and saved["version"] == ADDRESS_CHECKS.version
    assert saved["flags"] == list(ADDRESS_CHECKS.flags)
    calibration = json.loads((quality_model_dir / "calibration.json").read_text())
    assert calibration["temperature"] > 0 and 0 <= calibration["threshold"] <= 1
    assert resolve_check_set(quality_model_dir)[0] == REF


def test_training_pairs_carried_the_observations(quality_model_dir):
    probe = json.loads((quality_model_dir / "save_check.json").read_text(encoding="utf-8"))["conversations"]
    users = [c[0]["content"] for c in probe]
    assert all(ADDRESS_CHECKS.run([u.rsplit(" ", 1)[0]])[0].observation == u.rsplit(" ", 1)[1] for u in users)


@pytest.fixture(scope="module")
def scored(ray_local, quality_model_dir, tiny_records, tmp_path_factory):
    out = tmp_path_factory.mktemp("scored_checks")
    cfg = ScoreJobConfig(input=str(tiny_records / "score"), output=str(out), group_column="error_type",
                         scorer=ScorerSpec(kind="quality", model_dir=str(quality_model_dir), max_seq_len=64),
                         rows_per_file=100, num_actors=1, cpus_per_actor=0.5)
    summary = run(cfg)
    table = pd.concat([pd.read_parquet(p) for p in sorted(out.glob("part-*.parquet"))], ignore_index=True)
    return summary.data, table, out


def test_score_batch_writes_check_flags_per_row(scored):
    summary, table, _ = scored
    assert summary["ok"] and len(table) == summary["rows_scored"] == 300
    expected = [list(r.flags) for r in ADDRESS_CHECKS.run(table.text.tolist())]
    assert [list(f) for f in table.check_flags] == expected
    wrong_postcode = table[table.error_type == "postcode_length"]
    assert len(wrong_postcode) and all("postcode_format" in f for f in wrong_postcode.check_flags)


def test_summary_counts_flags_and_reports_the_rules_baseline(scored):
    summary, table, out = scored
    per_flag = summary["check_flags"]["rows_per_flag"]
    assert per_flag == dict(pd.Series([f for row in table.check_flags for f in row]).value_counts())
    assert summary["check_flags"]["rows_flagged"] == int(table.check_flags.map(len).gt(0).sum())
    rules = summary["rules_baseline"]["overall"]
    flagged = table.check_flags.map(len) > 0
    gold_wrong = table.input_label == "错误"
    assert rules["recall"] == round(float((flagged & gold_wrong).sum() / gold_wrong.sum()), 4)
    assert summary["calibration"]["n"] == 300 and 0 <= summary["calibration"]["ece"] <= 1
    for plot in ("reliability.png", "p_correct_histogram.png", "risk_coverage.png"):
        assert (out / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_p_correct_uses_the_model_temperature_and_operating_points(scored, quality_model_dir):
    summary, table, _ = scored
    calibration = json.loads((quality_model_dir / "calibration.json").read_text())
    margin = (table.reward_correct - table.reward_wrong).to_numpy(np.float64)
    assert np.allclose(table.p_correct, 1 / (1 + np.exp(-margin / calibration["temperature"])), atol=1e-5)
    points = calibration["operating_points"]
    assert summary["outcomes"]["operating_points"] == points
    by_check = table.check_flags.map(lambda f: bool(set(f) & ADDRESS_CHECKS.certain)).to_numpy()
    assert ((table.decided_by == "check").to_numpy() == by_check).all()
    assert (table.label[by_check] == "错误").all()
    assert (table.label[~by_check].to_numpy() == outcome(table.p_correct[~by_check], points)).all()
    assert summary["outcomes"]["decided_by"] == table.decided_by.value_counts().to_dict()
    assert (summary["gold_metrics"]["overall"]["automatic"]["review"] == (table.label == "待审").sum())


def test_a_certain_check_is_never_overruled_even_one_training_never_saw(quality_model_dir, tiny_records):
    # address_missing never fails in generated training data (missing_field drops a name, postcode
    # or phone, never the address): the model never learned what it means, and still the label is 错误.
    train = pd.concat([pd.read_parquet(p) for p in sorted((tiny_records / "train").glob("part-*.parquet"))])
    seen = {f for r in ADDRESS_CHECKS.run(train.text.tolist()) for f in r.flags}
    assert "address_missing" not in seen and "address_missing" in ADDRESS_CHECKS.certain
    scorer = build_scorer(ScorerSpec(kind="quality", model_dir=str(quality_model_dir), max_seq_len=64))
    texts = ["张三,邮编:100102,电话:13812345678", "李四,,邮编:310012,电话:13912345678",
             "张三,北京市朝阳区望京街道阜通东大街6号,邮编:1001,电话:13812345678"]
    out = scorer.score(pd.DataFrame({"text": texts}))
    assert list(out.label) == ["错误"] * 3 and list(out.decided_by) == ["check"] * 3
    assert "address_missing" in out.check_flags.iloc[0] and "postcode_format" in out.check_flags.iloc[2]


def test_another_check_set_is_refused_before_any_work(ray_local, quality_model_dir, tiny_records, tmp_path):
    cfg = ScoreJobConfig(input=str(tiny_records / "score"), output=str(tmp_path / "out"),
                         scorer=ScorerSpec(kind="quality", model_dir=str(quality_model_dir),
                                           checks="check_sets:LENGTH_CHECKS"))
    with pytest.raises(InputError, match="trained with rayscore.addresses.checks:ADDRESS_CHECKS, not with"):
        run(cfg)
    assert not (tmp_path / "out").exists()
    with pytest.raises(CheckSetMismatch):
        build_scorer(cfg.scorer)


def test_a_model_without_checks_scores_without_them(quality_model_dir, tmp_path):
    bare = tmp_path / "model"
    shutil.copytree(quality_model_dir, bare)
    (bare / CHECKS_FILE).unlink()
    scorer = build_scorer(ScorerSpec(kind="quality", model_dir=str(bare), max_seq_len=64))
    assert "check_flags" not in scorer.output_columns
    out = scorer.score(pd.DataFrame({"text": ["张三,北京市朝阳区望京街道阜通东大街6号,邮编:100102,电话:13812345678"]}))
    assert "check_flags" not in out.columns and 0 <= out.p_correct.iloc[0] <= 1
    with pytest.raises(CheckSetMismatch, match="trained without checks"):
        build_scorer(ScorerSpec(kind="quality", model_dir=str(bare), checks=REF))
