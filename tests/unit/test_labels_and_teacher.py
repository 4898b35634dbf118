"""Cheap parts of train_classifier and distill: label validation, the pointwise report, the
stand-in teacher over real HTTP on loopback, the distill config's nested keys."""

import numpy as np
import pandas as pd
import pytest

from rayscore.config import ConfigError, load_config
from rayscore.data.labels import LabelDataSpec, load_labels, split_rows
from rayscore.distill import pointwise
from rayscore.distill.config import DistillJobConfig
from rayscore.distill.corpus import generate_corpus
from rayscore.distill.teacher import RubricTeacher, grade
from rayscore.eval.pointwise import pointwise_report
from rayscore.judge.http_client import HttpJudgeClient, HttpJudgeSpec


def test_labels_are_validated_and_every_bad_row_has_a_reason(tmp_path):
    path = tmp_path / "rows.jsonl"
    pd.DataFrame({"text": ["a", "b", "", "c", "a", "d", None],
                  "label": [0, "2", 1, 6, 1, 1.5, 0]}).to_json(path, orient="records", lines=True)
    rows, bad = load_labels(LabelDataSpec(train_path=str(path)), "classification", num_labels=6)
    assert rows["text"].tolist() == ["a", "b"] and rows["label"].tolist() == [0, 2]
    assert bad["reason"].tolist() == ["empty_text", "bad_label", "duplicate_text", "bad_label", "empty_text"]
    rows, bad = load_labels(LabelDataSpec(train_path=str(path)), "regression", num_labels=1)
    assert rows["label"].tolist() == [0.0, 2.0, 6.0, 1.5] and len(bad) == 3
    with pytest.raises(ValueError, match="label_column"):
        load_labels(LabelDataSpec(train_path=str(path), label_column="grade"), "regression", 1)


def test_split_keeps_equal_texts_together():
    rows = pd.DataFrame({"text": [f"t{i % 50}" for i in range(400)], "label": 0})
    train, held = split_rows(rows, 0.25, seed=0)
    assert len(train) + len(held) == 400 and not set(train["text"]) & set(held["text"])


def test_pointwise_report_counts_agreement_at_the_threshold():
    gold = np.array([0, 1, 3, 4, 5, 2])
    pred = np.array([0.2, 3.5, 3.1, 4.0, 2.0, 1.0])  # one false positive (1 -> 3.5), one miss (5 -> 2)
    report = pointwise_report(gold, pred, threshold=3)
    assert report["agreement"] == pytest.approx(4 / 6)
    assert report["binary"]["precision"] == pytest.approx(2 / 3) and report["binary"]["recall"] == pytest.approx(2 / 3)
    assert report["binary"]["confusion_matrix"] == [[2, 1], [1, 2]]


def test_the_teacher_grades_by_its_rubric_and_counts_its_calls():
    assert grade("Let us look at gravity. It works because forces act. For example, drop a ball. "
                 "Students can practise.") == 5
    assert grade("Let us look at gravity. Buy now and get free shipping!") == 0
    assert grade("So, my weekend. Lol, whatever.") == 0
    grades = generate_corpus(400, seed=1)["text"].map(grade)
    assert grades.nunique() == 6  # the corpus spreads over the whole scale
    with RubricTeacher() as teacher:
        client = HttpJudgeClient(HttpJudgeSpec(base_url=teacher.base_url, model="t", max_retries=0))
        texts = ["This page is about fractions. For example, cut a pizza.", "See you around."]
        out = client.complete_many([f"[Text]\n{t}\n[End of text]" for t in texts])
        assert [c.text for c in out] == ["Educational score: 3", "Educational score: 0"]
        assert teacher.calls == 2


def test_distill_fills_the_nested_paths_itself_but_checks_the_rest():
    cfg = load_config(DistillJobConfig, ["--config", "configs/distill/tiny.yaml"])
    assert cfg.judge.input == "" and cfg.score.scorer.model_dir == ""  # set by run()
    with pytest.raises(ConfigError, match="train.train.learning_rate"):
        load_config(DistillJobConfig, ["--config", "configs/distill/tiny.yaml", "train.train.learning_rate=0"])
    with pytest.raises(ConfigError, match="min_preference"):
        load_config(DistillJobConfig, ["--config", "configs/distill/tiny_pairwise.yaml", "min_preference=1"])


def test_teacher_grades_become_classes_and_every_other_row_keeps_its_reason():
    cfg = load_config(DistillJobConfig, ["--config", "configs/distill/tiny.yaml"])
    grades = pd.DataFrame({"record_id": ["r1", "r2", "r3", "r4"], "id": ["a", "b", "c", "d"],
                           "text": ["t1", "t2", "t3", "t4"], "score": [4.6, None, None, 0.0],
                           "parse_problem": [None, "truncated", None, None],
                           "error": [None, None, "gave up after 3 attempts: 503", None]})
    labels, set_aside = pointwise.labels(grades, cfg)
    assert labels["id"].tolist() == ["a", "d"] and labels["label"].tolist() == [5, 0]
    assert set_aside["id"].tolist() == ["b", "c"] and set_aside["reason"].tolist() == ["truncated", "error"]
