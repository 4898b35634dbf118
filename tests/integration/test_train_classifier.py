"""train_classifier end to end on Ray Train with MiniLM (LoRA, 2 workers, a few steps) on a
separable task, then its model through score_batch's `classifier` kind: one training run for
the module (a module-scoped fixture), held-out rows never seen in training."""

import json
import random

import numpy as np
import pandas as pd
import pytest

from jobs.train_classifier import main as train_main
from rayscore.score.job import ScoreJobConfig, run as score_run
from rayscore.score.scorers import ScorerSpec

# Class 1 texts talk about a lesson, class 0 texts sell something: separable by their words.
TOPICS = ["plants", "rivers", "fractions", "volcanoes", "the moon", "magnets", "history", "cells"]
LESSON = ["this lesson explains {t} step by step", "students learn how {t} work with examples",
          "a clear tutorial about {t} for school"]
ADVERT = ["buy {t} stickers now at half price", "limited offer on {t} mugs, order today",
          "win a free {t} poster, click here"]


def texts(n: int, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = i % 2
        template = rng.choice(LESSON if label else ADVERT)
        rows.append({"text": f"{template.format(t=rng.choice(TOPICS))} #{seed}-{i}", "label": label})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def trained(ray_local, tmp_path_factory):
    root = tmp_path_factory.mktemp("train_classifier")
    rows = texts(240, seed=1)
    bad = pd.DataFrame({"text": ["", "fine text", "another text", rows["text"][0]], "label": [1, 7, None, 0]})
    pd.concat([rows, bad], ignore_index=True).to_parquet(root / "train.parquet")
    out = root / "out"
    # The toy texts are a few templates made unique by a row number: near duplicates by design, on
    # both sides of the split, counted and kept here.
    code = train_main(["--config", "configs/train_classifier/tiny.yaml", f"output_dir={out}",
                       f"data.train_path={root / 'train.parquet'}", "data_check.drop_duplicates=false",
                       "data_check.eval_overlap=keep"])
    assert code == 0
    return root, out, len(rows) + len(bad)


def test_trains_accounts_for_every_row_and_learns(trained):
    _, out, n_rows = trained
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["input_rows"] == n_rows
    assert metrics["train_rows"] + metrics["eval_rows"] + metrics["quarantined_rows"] == n_rows
    assert metrics["quarantine_reasons"] == {"empty_text": 1, "bad_label": 2, "duplicate_text": 1}
    assert len((out / "quarantine" / "rows.jsonl").read_text().splitlines()) == 4
    assert metrics["steps"] == 12 and metrics["num_workers"] == 2
    losses = [e["loss"] for e in json.loads((out / "log_history.json").read_text())["log_history"] if "loss" in e]
    assert losses[-1] < losses[0]
    held_out = metrics["eval"]
    assert held_out["n"] == metrics["eval_rows"] >= 40
    assert held_out["classes"]["accuracy"] >= 0.85  # chance is 0.5
    assert (out / "model" / "merged" / "config.json").exists() and (out / "model" / "adapter").exists()
    assert json.loads((out / "model" / "calibration.json").read_text())["threshold"] == 0.5
    assert (out / "eval" / "binary_confusion.png").exists() and (out / "training_curves.png").exists()


def test_score_batch_classifier_kind_scores_new_rows(trained):
    root, out, _ = trained
    fresh = texts(80, seed=2).assign(record_id=lambda d: [f"r{i}" for i in range(len(d))])
    fresh.loc[3, "text"] = "   "  # quarantined, not lost
    (root / "score_in").mkdir()
    fresh.rename(columns={"label": "gold"}).to_parquet(root / "score_in" / "a.parquet")
    cfg = ScoreJobConfig(input=str(root / "score_in"), output=str(root / "scored"), gold_column=None,
                         scorer=ScorerSpec(kind="classifier", model_dir=str(out / "model")),
                         num_actors=1, cpus_per_actor=0.5, max_quarantine_share=0.05)
    summary = score_run(cfg).data
    assert summary["ok"] and (summary["rows_in"], summary["rows_scored"], summary["rows_quarantined"]) == (80, 79, 1)
    assert summary["threshold"] == 0.5
    scored = pd.concat(pd.read_parquet(p) for p in sorted((root / "scored").glob("part-*.parquet")))
    assert len(scored) == 79 and scored["record_id"].is_unique
    probabilities = np.stack(scored["probabilities"].to_numpy())
    assert probabilities.shape == (79, 2) and np.allclose(probabilities.sum(axis=1), 1)
    assert np.allclose(scored["score"], probabilities[:, 1])  # expected class value over classes 0, 1
    assert (scored["label"] == (scored["score"] >= 0.5)).all()
    assert (scored["predicted_class"] == probabilities.argmax(axis=1)).all()
    assert sum(summary["value_counts"]["label"].values()) == 79
    accuracy = float((scored["predicted_class"] == scored["gold"]).mean())
    assert accuracy >= 0.85  # held-out texts the model never saw; chance is 0.5
