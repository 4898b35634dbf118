"""The pairwise distill loop's cheap parts: the stand-in teacher's verdicts through the real judge
(both orders, over HTTP on loopback), verdicts -> training pairs with every other pair's reason,
and the kept pairs oriented by the student's preference."""

import pandas as pd
import pyarrow.parquet as pq
import pytest

from rayscore.config import load_config
from rayscore.distill import pairwise
from rayscore.distill.config import DistillJobConfig
from rayscore.distill.corpus import generate_pairs
from rayscore.distill.teacher import RubricTeacher, grade
from rayscore.judge.core import JudgeSpec, judge_items, open_backend
from rayscore.judge.http_client import HttpJudgeSpec

GOOD = "Let us look at gravity. It works because forces act. For example, drop a ball."  # grade 4
POOR = "So, my weekend. Lol, whatever."  # grade 0
EQUAL = "Quick note on the traffic today. Honestly it was fine."  # grade 0, like POOR


def cfg() -> DistillJobConfig:
    return load_config(DistillJobConfig, ["--config", "configs/distill/tiny_pairwise.yaml"])


def test_the_teacher_prefers_the_higher_grade_in_both_orders_and_its_position_bias_shows():
    assert grade(GOOD) == 4 and grade(POOR) == grade(EQUAL) == 0
    with RubricTeacher() as teacher:
        spec = JudgeSpec(mode="pairwise", template="pairwise_en", policy="tie",
                         http=HttpJudgeSpec(base_url=teacher.base_url, model="t", max_retries=0))
        items = [{"question": "Write about gravity.", "answer_1": a, "answer_2": b}
                 for a, b in ((GOOD, POOR), (POOR, GOOD), (POOR, EQUAL))]
        frame = judge_items(spec, open_backend(spec), items)
        assert teacher.calls == 6  # each pair in both orders
    assert frame["verdict_ab"].tolist() == [1, 2, 1]
    assert frame["consistent"].tolist() == [True, True, False]  # equal grades: "1" whichever is first
    assert frame["final"].tolist() == [1, 2, 0] and frame.loc[2, "reason"] == "inconsistent"


def test_generated_pairs_spread_over_wins_losses_and_equal_grades():
    pairs = generate_pairs(400, seed=2)
    assert pairs["id"].is_unique and (pairs["response_1"] != pairs["response_2"]).mean() > 0.95
    diff = pairs["response_1"].map(grade) - pairs["response_2"].map(grade)
    assert (diff > 0).mean() > 0.25 and (diff < 0).mean() > 0.25 and 0.05 < (diff == 0).mean() < 0.4


def test_only_consistent_verdicts_with_a_winner_become_pairs_and_the_rest_keep_their_reason():
    verdicts = pd.DataFrame({
        "record_id": ["r1", "r2", "r3", "r4", "r5"], "id": ["a", "b", "c", "d", "e"],
        "prompt": ["p1", "p2", "p3", "p4", "p5"],
        "response_1": ["x1", "x2", "x3", "x4", "x5"], "response_2": ["y1", "y2", "y3", "y4", "y5"],
        "consistent": [True, True, True, False, False], "final": pd.array([1, 2, 0, 0, None], dtype="Int64"),
        "reason": [None, None, None, "inconsistent", "parse_failed_ba"]})
    pairs, set_aside = pairwise.labels(verdicts, cfg())
    assert pairs["id"].tolist() == ["a", "b"]
    assert pairs["chosen"].tolist() == ["x1", "y2"] and pairs["rejected"].tolist() == ["y1", "x2"]
    assert pairs["teacher_verdict"].tolist() == [1, 2] and pairs["prompt"].tolist() == ["p1", "p2"]
    assert set_aside["id"].tolist() == ["c", "d", "e"] and set_aside["prompt"].tolist() == ["p3", "p4", "p5"]
    assert set_aside["reason"].tolist() == ["tie", "inconsistent", "parse_failed_ba"]


def test_kept_pairs_are_the_sure_ones_turned_to_chosen_and_rejected(tmp_path):
    scored, kept = tmp_path / "scored", tmp_path / "kept"
    scored.mkdir()
    part = pd.DataFrame({"record_id": ["r1", "r2", "r3", "r4"], "prompt": ["p"] * 4,
                         "response_1": ["a1", "a2", "a3", "a4"], "response_2": ["b1", "b2", "b3", "b4"],
                         "p_chosen": [0.9, 0.2, 0.5, 0.65], "margin": [2.2, -1.4, 0.0, 0.6]})
    part.to_parquet(scored / "part-00000.parquet", index=False)
    (kept).mkdir()
    (kept / "part-00009.parquet").write_bytes(b"a previous run's selection")
    config = cfg()
    config.min_preference = 0.7
    assert pairwise.keep(scored, kept, config) == 2
    assert [p.name for p in kept.glob("part-*.parquet")] == ["part-00000.parquet"]
    out = pq.read_table(kept / "part-00000.parquet").to_pandas()
    assert out["record_id"].tolist() == ["r1", "r2"]
    assert out["chosen"].tolist() == ["a1", "b2"] and out["rejected"].tolist() == ["b1", "a2"]
    assert out["p_chosen"].tolist() == pytest.approx([0.9, 0.8]) and out["margin"].tolist() == [2.2, 1.4]
