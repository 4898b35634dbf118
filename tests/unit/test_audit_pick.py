"""audit's strategies and near-duplicate collapse on a small scored table written with pyarrow.

    .venv/bin/python -m pytest -n 0 -q tests/unit/test_audit_pick.py
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rayscore.audit import pick as pick_module
from rayscore.audit.label_issues import label_issue_ranks
from rayscore.audit.pick import BestPerShape, Candidate, open_scored, pick_ranked, pick_scored
from rayscore.audit.shapes import address_shape, shape_key, text_shape
from rayscore.score.inputs import InputError

CUTS = {"accept_at": 0.9, "reject_below": 0.1}


def row(i, p, label, decided_by="model", flags=(), text=None):
    return {"record_id": f"r{i:03d}", "text": text or f"人{i},北京市朝阳区路{i}巷{i}号,邮编:100102,电话:138{i:08d}",
            "p_correct": p, "label": label, "decided_by": decided_by, "check_flags": list(flags), "fingerprint": "fp1"}


def write_scored(root, rows, parts=2, summary=None):
    root.mkdir(parents=True, exist_ok=True)
    for k in range(parts):
        chunk = rows[k::parts]
        table = pa.table({c: [r[c] for r in chunk] for c in rows[0]},
                         schema=pa.schema([("record_id", pa.string()), ("text", pa.string()),
                                           ("p_correct", pa.float64()), ("label", pa.string()),
                                           ("decided_by", pa.string()),
                                           ("check_flags", pa.list_(pa.string())), ("fingerprint", pa.string())]))
        pq.write_table(table, root / f"part-{k:05d}-fp1.parquet", row_group_size=3)
    summary = summary or {"kind": "quality", "outcomes": {"operating_points": CUTS}}
    (root / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return root


ROWS = [
    row(0, 0.55, "待审"), row(1, 0.30, "待审"), row(2, 0.85, "待审"),
    row(3, 0.95, "正确"), row(4, 0.91, "正确", flags=["admin_unknown"]), row(5, 0.99, "正确"),
    row(6, 0.05, "错误"), row(7, 0.12, "待审"), row(8, 0.02, "错误", decided_by="check", flags=["postcode_format"]),
    row(9, 0.50, "错误", decided_by="check", flags=["phone_length"]),
]


def test_uncertain_puts_review_rows_first_most_uncertain_first_then_nearest_a_cut(tmp_path):
    scored = open_scored(write_scored(tmp_path / "s", ROWS))
    picked = pick_scored(scored, "uncertain", budget=6, key=shape_key("none"))
    assert picked["record_id"].tolist() == ["r000", "r001", "r002", "r007", "r004", "r003"]
    assert picked["why"].tolist()[:2] == ["待审, p_correct 0.55", "待审, p_correct 0.30"]
    assert picked["why"].iloc[4] == "正确, p_correct 0.910, nearest cut accept_at 0.900"
    # a certain check's 错误 is never offered: no answer could change it
    assert not {"r008", "r009"} & set(pick_scored(scored, "uncertain", 100, shape_key("none"))["record_id"])


def test_uncertain_with_one_threshold(tmp_path):
    rows = [row(0, 0.52, "正确"), row(1, 0.9, "正确"), row(2, 0.47, "错误")]
    scored = open_scored(write_scored(tmp_path / "s", rows, summary={"kind": "quality", "threshold": 0.5}))
    picked = pick_scored(scored, "uncertain", 2, shape_key("none"))
    assert picked["record_id"].tolist() == ["r000", "r002"]
    assert picked["why"].iloc[1] == "错误, p_correct 0.470, nearest cut threshold 0.500"


def test_disagree_finds_the_model_against_its_checks(tmp_path):
    rows = ROWS + [row(10, 0.08, "错误", flags=["admin_unknown"]), row(11, 0.97, "正确", flags=["area_code_region"])]
    picked = pick_scored(open_scored(write_scored(tmp_path / "s", rows)), "disagree", 10, shape_key("none"))
    # 正确 with a failed check, 错误 with none; most confident first; 待审 and check-decided rows are not disagreements
    assert picked["record_id"].tolist() == ["r011", "r006", "r004"]
    assert picked["why"].tolist() == ["model 正确 (p_correct 0.97) but area_code_region failed",
                                      "model 错误 (p_correct 0.05) but no check failed",
                                      "model 正确 (p_correct 0.91) but admin_unknown failed"]


def test_disagree_needs_check_flags(tmp_path):
    root = write_scored(tmp_path / "s", ROWS)
    for part in root.glob("part-*.parquet"):
        pq.write_table(pq.read_table(part).drop_columns(["check_flags"]), part)
    with pytest.raises(InputError, match="no check_flags column"):
        pick_scored(open_scored(root), "disagree", 5, shape_key("none"))


def test_random_is_stable_per_seed_and_excludes_seen_ids(tmp_path):
    scored = open_scored(write_scored(tmp_path / "s", ROWS))
    a = pick_scored(scored, "random", 4, shape_key("none"), seed=1)["record_id"].tolist()
    assert a == pick_scored(scored, "random", 4, shape_key("none"), seed=1)["record_id"].tolist()
    assert a != pick_scored(scored, "random", 4, shape_key("none"), seed=2)["record_id"].tolist()
    again = pick_scored(scored, "random", 4, shape_key("none"), seed=1, exclude=frozenset(a[:2]))
    assert not set(a[:2]) & set(again["record_id"])


def test_near_duplicates_collapse_to_their_best_row(tmp_path):
    street = "{n},北京市朝阳区阜通东大街{h}号,邮编:100102,电话:1381234567{d}"
    rows = [row(0, 0.50, "待审", text=street.format(n="张伟", h=6, d=1)),
            row(1, 0.52, "待审", text=street.format(n="王芳", h=8, d=2)),       # same shape as r000
            row(2, 0.60, "待审", text=street.format(n="李雷", h=12, d=3)),      # two-digit house number: a new shape
            row(3, 0.45, "待审", text="赵六,上海市浦东新区世纪大道1号,邮编:200120,电话:13900000000")]
    scored = open_scored(write_scored(tmp_path / "s", rows))
    picked = pick_scored(scored, "uncertain", 10, shape_key("address_shape"))
    assert picked["record_id"].tolist() == ["r000", "r003", "r002"]
    assert len(pick_scored(scored, "uncertain", 10, shape_key("none"))) == 4
    assert address_shape(rows[0]["text"]) == "北京市朝阳区阜通东大街0号|000000|00000000000"
    assert address_shape("张伟,北京市朝阳区阜通东大街6号,邮编:10010,电话:13812345678") != address_shape(rows[0]["text"])
    assert text_shape("Ｒoom 12B") == "aaaa00a"


def test_best_per_shape_is_exact_with_shapes_coming_back():
    rng = np.random.default_rng(0)
    ranks = rng.uniform(size=2000)
    shapes = rng.integers(0, 300, size=2000)
    best = BestPerShape(25)
    for i, (r, s) in enumerate(zip(ranks, shapes)):
        best.offer(str(s), Candidate(float(r), f"id{i:05d}", {"record_id": f"id{i:05d}"}))
    got = [(row["shape"], row["rank"]) for row in best.rows()]
    per_shape = {}
    for r, s in zip(ranks, shapes):
        per_shape[str(s)] = min(per_shape.get(str(s), 2.0), r)
    assert got == sorted(per_shape.items(), key=lambda kv: kv[1])[:25]
    assert len(best._worst_first) <= 4 * 25 + 64 + 1


def test_the_scan_reads_batches_and_keeps_memory_to_the_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(pick_module, "BATCH_ROWS", 7)
    rows = [row(i, float(p), "待审") for i, p in enumerate(np.linspace(0.11, 0.89, 400))]
    offered = []
    original = BestPerShape.offer
    monkeypatch.setattr(BestPerShape, "offer", lambda self, s, c: (offered.append(c.record_id), original(self, s, c)))
    picked = pick_scored(open_scored(write_scored(tmp_path / "s", rows, parts=3)), "uncertain", 5, shape_key("none"))
    expected = sorted(range(400), key=lambda i: (abs(rows[i]["p_correct"] - 0.5), rows[i]["record_id"]))[:5]
    assert picked["record_id"].tolist() == [rows[i]["record_id"] for i in expected]
    assert len(offered) < 200  # rows that cannot beat the bar are not even looked at


def test_open_scored_names_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a directory"):
        open_scored(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="run score_batch to the end first"):
        open_scored(tmp_path / "empty")
    root = write_scored(tmp_path / "s", ROWS, summary={"kind": "reward"})
    with pytest.raises(InputError, match="kind 'reward'"):
        open_scored(root)


def test_label_issues_rank_the_labels_the_out_of_fold_model_contradicts():
    rng = np.random.default_rng(0)
    labels = np.array(["正确"] * 60 + ["错误"] * 60, dtype=object)
    p = np.r_[rng.uniform(0.7, 1, 60), rng.uniform(0, 0.3, 60)]
    p[5], p[70] = 0.02, 0.96
    ranks, whys = label_issue_ranks(labels, p)
    assert set(np.flatnonzero(np.isfinite(ranks))) == {5, 70}
    assert whys[5].startswith("labelled 正确 but out-of-fold p_correct 0.02")
    import pandas as pd

    rows = pd.DataFrame({"record_id": [f"x{i}" for i in range(120)], "text": [f"t{i}" for i in range(120)],
                         "model_label": "正确", "p_correct": p, "decided_by": "model",
                         "check_flags": [[] for _ in range(120)], "fingerprint": "oof"})
    picked = pick_ranked(rows, ranks, whys, 10, shape_key("none"))
    assert picked["record_id"].tolist() == ["x5", "x70"]


def test_explore_fills_a_share_of_the_budget_at_random_with_new_shapes(tmp_path):
    from rayscore.audit.config import AuditJobConfig, PickSpec
    from rayscore.audit.job import pick_exploring

    rows = [row(i, 0.5 + i / 100, "待审" if i < 10 else "正确") for i in range(40)]
    cfg = AuditJobConfig(scored=str(write_scored(tmp_path / "s", rows)),
                         pick=PickSpec(strategy="uncertain", budget=10, explore=0.3, dedupe="none"))
    picked = pick_exploring(cfg, shape_key("none"), frozenset())
    ranked, explored = picked[~picked["why"].str.startswith("explore")], picked[picked["why"].str.startswith("explore")]
    assert ranked["record_id"].tolist() == [f"r{i:03d}" for i in range(7)]          # the 7 most uncertain
    assert len(explored) == 3 and not set(explored["record_id"]) & set(ranked["record_id"])
    assert all(w.startswith("explore: random (seed 0)") for w in explored["why"])
    random_only = pick_scored(open_scored(cfg.scored), "random", 40, shape_key("none"),
                              exclude=frozenset(ranked["record_id"]))
    assert explored["record_id"].tolist() == random_only["record_id"].head(3).tolist()
    none = pick_exploring(AuditJobConfig(scored=cfg.scored, pick=PickSpec(budget=10, explore=0.0)),
                          shape_key("none"), frozenset())
    assert not none["why"].str.startswith("explore").any() and len(none) == 10
