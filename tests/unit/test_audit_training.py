"""Audited labels as a training source: oversampling, the held-back share, what is left out and why.

    .venv/bin/python -m pytest -n 0 -q tests/unit/test_audit_training.py
"""

from __future__ import annotations

import pandas as pd
import pytest

from rayscore.audit.store import LABEL_COLUMNS, LabelStore
from rayscore.data.audited import audited_source, held_back
from rayscore.data.pairs import records_to_pairs

CHECKS = "rayscore.addresses.checks:ADDRESS_CHECKS"
GOOD = "张伟,北京市朝阳区阜通东大街{}号,邮编:100102,电话:13812345678"
SHORT_POSTCODE = "张伟,北京市朝阳区阜通东大街6号,邮编:10010,电话:13812345678"   # fails postcode_format (certain)


def store_with(tmp_path, rows: list[tuple[str, str, str]], who="王审") -> str:
    store = LabelStore(tmp_path / "labels")
    frame = pd.DataFrame([{"record_id": i, "text": t, "label": lab, "who": who, "when": "2026-12-07",
                           "source_file": "f.csv", "import_batch": "00001-x", "export_batch": "batch-0001", "note": ""}
                          for i, t, lab in rows], columns=LABEL_COLUMNS)
    store.append(frame, f"{len(store.parts()) + 1:05d}-x")
    return str(store.directory)


def test_oversampled_records_held_back_by_id_and_contradictions_left_out(tmp_path):
    rows = [(f"a{i}", GOOD.format(i + 1), "正确" if i % 3 else "错误") for i in range(60)]
    rows += [("bad-correct", SHORT_POSTCODE, "正确"), ("bad-wrong", SHORT_POSTCODE.replace("张伟", "李雷"), "错误")]
    source = audited_source(store_with(tmp_path, rows), weight=3, checks=CHECKS)
    assert source.left_out[["record_id", "reason"]].values.tolist() == [
        ["bad-correct", "contradicts_certain_check:postcode_format"]]
    held = set(source.held_back["record_id"])
    assert held == {i for i, _, _ in rows if i != "bad-correct" and held_back(i)} and 0 < len(held) < 30
    assert not held & set(source.train["record_id"])                  # never trained on
    counts = source.train["record_id"].value_counts()
    assert set(counts) == {3} and len(counts) == 61 - len(held)      # each trained record three times
    assert "bad-wrong" in set(source.train["record_id"]) | held       # 错误 with a certain failure agrees
    assert source.account() == {"audited_records": 62, "audited_weight": 3, "audited_train_rows": 3 * len(counts),
                                "audited_held_back": len(held), "audited_left_out": 1,
                                "audited_left_out_reasons": {"contradicts_certain_check": 1},
                                "audited_sets": [{"source_file": "f.csv", "import_batch": "00001-x",
                                                  "export_batch": "batch-0001", "answers": 62}]}
    pairs = records_to_pairs(source.train)                           # what train_reward trains on
    assert pairs["chosen"].iloc[0][1]["content"] == source.train["label"].iloc[0]


def test_held_back_is_stable_as_the_store_grows(tmp_path):
    path = store_with(tmp_path, [(f"a{i}", GOOD.format(i + 1), "正确") for i in range(40)])
    before = set(audited_source(path).held_back["record_id"])
    store_with(tmp_path, [(f"b{i}", GOOD.format(i + 100), "错误") for i in range(40)], who="李审")
    after = audited_source(path)
    assert before == {i for i in after.held_back["record_id"] if i.startswith("a")}


def test_records_with_two_answers_are_left_out(tmp_path):
    path = store_with(tmp_path, [("x", GOOD.format(1), "正确"), ("y", GOOD.format(2), "正确")])
    store_with(tmp_path, [("x", GOOD.format(1), "错误"), ("y", GOOD.format(2), "正确")], who="李审")
    source = audited_source(path, share=0.0)
    assert source.left_out[["record_id", "reason"]].values.tolist() == [["x", "conflicting_labels"]]
    assert source.train["record_id"].tolist() == ["y"]               # two people, one answer: once


def test_bad_audited_input_is_named(tmp_path):
    with pytest.raises(ValueError, match="data.audited_weight: must be >= 1"):
        audited_source(tmp_path, weight=0)
    (tmp_path / "t.csv").write_text("record_id,text,label\n1,x,对\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"t.csv: row 0: label '对' is not one of"):
        audited_source(tmp_path / "t.csv")
    (tmp_path / "u.csv").write_text("id,text\n1,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['record_id', 'label'\]"):
        audited_source(tmp_path / "u.csv")


def test_each_audit_set_is_counted_by_file_and_import(tmp_path):
    store_with(tmp_path, [("a1", GOOD.format(1), "正确"), ("a2", GOOD.format(2), "错误")])
    store = LabelStore(tmp_path / "labels")
    store.append(pd.DataFrame([{"record_id": "a3", "text": GOOD.format(3), "label": "正确", "who": "李审",
                                "when": "2026-12-08", "source_file": "g.json", "import_batch": "00002-y",
                                "export_batch": "batch-0002", "note": ""}], columns=LABEL_COLUMNS), "00002-y")
    sets = audited_source(store.directory).account()["audited_sets"]
    assert [(s["source_file"], s["import_batch"], s["answers"]) for s in sets] == [
        ("f.csv", "00001-x", 2), ("g.json", "00002-y", 1)]
