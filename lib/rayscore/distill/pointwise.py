"""The pointwise student: the teacher's grades -> a classifier (or regressor) -> every corpus row
scored, the rows at or above the threshold kept (FineWeb-Edu's recipe).

Each step the distill job runs is a function here with the same name and shape as in pairwise.py:
demo_corpus, judge_columns, labels, split, train_student, scorer, evaluate, keep.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pyarrow.compute as pc

from rayscore.data.labels import split_rows
from rayscore.distill.config import DistillJobConfig
from rayscore.distill.corpus import generate_corpus
from rayscore.distill.outputs import read_parts, rewrite_parts
from rayscore.eval.pointwise import pointwise_report
from rayscore.score.scorers import ScorerSpec
from rayscore.train.scaling import TrainResult

TEACHER_ONLY_CALLS_PER_ROW = 1
"""What a teacher-only pipeline sends per corpus row: one grade."""


def demo_corpus(rows: int, seed: int) -> pd.DataFrame:
    """The demo's generated corpus: texts (id, text, kind)."""
    return generate_corpus(rows, seed)


def judge_columns(cfg: DistillJobConfig) -> dict:
    """The judge job's column keys for the corpus."""
    return {"answer_column": cfg.text_column}


def labels(grades: pd.DataFrame, cfg: DistillJobConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(id, text, label, teacher_score) of the rows the teacher scored, and (id, text, reason) of
    the rest: "error" (its request failed), the parse problem ("truncated", ...), or "no_score".
    A classifier student learns the grade rounded to a class 0..num_labels-1."""
    if not len(grades):
        empty = pd.DataFrame(columns=["id", "text"])
        return empty.assign(label=[], teacher_score=[]), empty.assign(reason=[])
    text = cfg.text_column if cfg.text_column in grades else f"input_{cfg.text_column}"
    ids = (grades[cfg.id_column] if cfg.id_column in grades else grades["record_id"]).astype(str)
    usable = grades["score"].notna()
    score = grades.loc[usable, "score"].astype(float)
    label = (score.round().clip(0, cfg.train.num_labels - 1).astype(int) if cfg.train.task == "classification"
             else score)
    frame = pd.DataFrame({"id": ids[usable].to_numpy(), "text": grades.loc[usable, text].to_numpy(),
                          "label": label.to_numpy(), "teacher_score": score.to_numpy()})
    rest = grades[~usable]
    problem = rest["parse_problem"] if "parse_problem" in rest else pd.Series(None, index=rest.index)
    reason = problem.where(problem.notna(), "no_score").where(rest["error"].isna(), "error")
    set_aside = pd.DataFrame({"id": ids[~usable].to_numpy(), "text": rest[text].to_numpy(),
                              "reason": reason.astype(str).to_numpy()})
    return frame, set_aside


def split(labels: pd.DataFrame, cfg: DistillJobConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, held out): train.data.eval_fraction held out by a hash of the text."""
    return split_rows(labels, cfg.train.data.eval_fraction, cfg.train.data.seed, key="text")


def train_student(cfg: DistillJobConfig, labels: Path, student_dir: str) -> TrainResult:
    """train_classifier on labels/train.parquet, evaluated on labels/heldout.parquet, into student_dir."""
    from rayscore.train import classifier

    return classifier.run(replace(
        cfg.train, output_dir=student_dir, threshold=cfg.threshold,
        data=replace(cfg.train.data, train_path=str(labels / "train.parquet"),
                     eval_path=str(labels / "heldout.parquet"), text_column="text", label_column="label")))


def scorer(cfg: DistillJobConfig, model_dir: str) -> ScorerSpec:
    """The classifier scorer over the corpus texts: score, predicted_class, label (score >= threshold)."""
    return replace(cfg.score.scorer, kind="classifier", model_dir=model_dir, text_column=cfg.text_column,
                   threshold=cfg.threshold)


def evaluate(scored_dir: Path, heldout: pd.DataFrame, set_aside: pd.DataFrame, cfg: DistillJobConfig,
             out_dir: Path) -> dict:
    """The student's corpus scores on the held-out rows, against the teacher's grades (a row set
    aside has no grade to compare with)."""
    classes = cfg.train.task == "classification"
    scored = read_parts(scored_dir, ["record_id", "score"] + (["predicted_class"] if classes else []))
    joined = heldout.merge(scored, left_on="id", right_on="record_id", how="inner")
    report = pointwise_report(joined["teacher_score"], joined["score"], cfg.threshold, out_dir,
                              title="student vs teacher",
                              gold_classes=joined["label"].tolist() if classes else None,
                              predicted_classes=joined["predicted_class"].tolist() if classes else None)
    report["heldout_rows"], report["heldout_rows_scored"] = len(heldout), len(joined)
    report["headline"] = (f"agreement {report['agreement'] or 0:.3f}, F1 {report['binary']['f1'] or 0:.3f} "
                          f"at {cfg.threshold:g}")
    return report


def keep(scored_dir: Path, kept_dir: Path, cfg: DistillJobConfig) -> int:
    """Each scored part's rows with label 1 (score >= threshold), to kept/; returns the rows kept."""
    return rewrite_parts(scored_dir, kept_dir, lambda table: table.filter(pc.equal(table["label"], 1)))
