"""The pairwise student: the teacher's verdicts on pairs of responses, judged in both orders ->
a reward model -> every corpus pair scored, the pairs the student is sure of kept as
chosen/rejected (preference data labelled by AI feedback, at the student's cost).

A verdict becomes a training pair only when it survives the swap and names a winner: a tie, an
inconsistent pair (position bias decided it) or an unreadable verdict is set aside with its
reason. Each step has the same name and shape as in pointwise.py.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rayscore.data.labels import split_rows
from rayscore.distill.config import DistillJobConfig
from rayscore.distill.corpus import generate_pairs
from rayscore.distill.outputs import read_parts, rewrite_parts
from rayscore.eval import calibration, plots
from rayscore.eval.pairwise_agreement import pairwise_agreement
from rayscore.score.scorers import ScorerSpec
from rayscore.train.scaling import TrainResult

TEACHER_ONLY_CALLS_PER_ROW = 2
"""What a teacher-only pipeline sends per corpus pair: a verdict in each order."""


def demo_corpus(rows: int, seed: int) -> pd.DataFrame:
    """The demo's generated corpus: pairs (id, prompt, response_1, response_2, kind)."""
    return generate_pairs(rows, seed)


def judge_columns(cfg: DistillJobConfig) -> dict:
    """The judge job's column keys for the corpus."""
    return {"question_column": cfg.prompt_column, "answer_1_column": cfg.answer_1_column,
            "answer_2_column": cfg.answer_2_column}


def labels(verdicts: pd.DataFrame, cfg: DistillJobConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(id, prompt, chosen, rejected, teacher_verdict) of the pairs with a consistent winner
    (teacher_verdict 1: the first response won, 2: the second), and (id, prompt, reason) of the
    rest: "tie", "inconsistent", "parse_failed_<order>" or "error_<order>" (its request failed)."""
    if not len(verdicts):
        empty = pd.DataFrame(columns=["id", "prompt"])
        return empty.assign(chosen=[], rejected=[], teacher_verdict=[]), empty.assign(reason=[])
    ids = (verdicts[cfg.id_column] if cfg.id_column in verdicts else verdicts["record_id"]).astype(str).to_numpy()
    prompts = verdicts[_column(verdicts, cfg.prompt_column)].to_numpy()
    final = pd.to_numeric(verdicts["final"], errors="coerce")
    consistent = verdicts["consistent"].fillna(False).astype(bool)
    decisive = (consistent & final.isin([1, 2])).to_numpy()
    reason = np.where(consistent & (final == 0), "tie", verdicts["reason"].fillna("no_verdict").astype(str))
    first_won = (final[decisive] == 1).to_numpy()
    first = verdicts.loc[decisive, _column(verdicts, cfg.answer_1_column)]
    second = verdicts.loc[decisive, _column(verdicts, cfg.answer_2_column)]
    pairs = pd.DataFrame({
        "id": ids[decisive], "prompt": prompts[decisive],
        "chosen": np.where(first_won, first, second),
        "rejected": np.where(first_won, second, first),
        "teacher_verdict": np.where(first_won, 1, 2),
    })
    set_aside = pd.DataFrame({"id": ids[~decisive], "prompt": prompts[~decisive], "reason": reason[~decisive]})
    return pairs, set_aside


def split(pairs: pd.DataFrame, cfg: DistillJobConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, held out): train_reward.data.eval_fraction held out by a hash of the prompt, so the
    pairs on one instruction land on one side."""
    data = cfg.train_reward.data
    return split_rows(pairs, data.eval_fraction, data.seed, key="prompt")


def train_student(cfg: DistillJobConfig, labels: Path, student_dir: str) -> TrainResult:
    """train_reward on labels/train.parquet (prompt, chosen, rejected), evaluated on
    labels/heldout.parquet, into student_dir."""
    from rayscore.train import reward

    return reward.run(replace(
        cfg.train_reward, output_dir=student_dir, subset_column=None,
        data=replace(cfg.train_reward.data, train_path=str(labels / "train.parquet"),
                     eval_path=str(labels / "heldout.parquet"), format="pairs")))


def scorer(cfg: DistillJobConfig, model_dir: str) -> ScorerSpec:
    """The pair scorer over the corpus: reward of each response, margin, p_chosen = P(first preferred)."""
    return replace(cfg.score.scorer, kind="pair", model_dir=model_dir, prompt_column=cfg.prompt_column,
                   chosen_column=cfg.answer_1_column, rejected_column=cfg.answer_2_column)


def evaluate(scored_dir: Path, heldout: pd.DataFrame, set_aside: pd.DataFrame, cfg: DistillJobConfig,
             out_dir: Path) -> dict:
    """The student's verdicts (the sign of its reward margin) on the held-out pairs, against the
    teacher's: agreement, agreement on the pairs it is sure of (what `keep` keeps), calibration of
    p_chosen, confusion and reliability plots; and of the pairs the teacher found tied or
    inconsistent, those on the held-out side of the split (the same hash of the prompt), the share
    the student is sure of all the same (what `keep` would keep without a true preference)."""
    scored = read_parts(scored_dir, ["record_id", "margin", "p_chosen"])
    tied = split(set_aside[set_aside["reason"].isin(["tie", "inconsistent"])], cfg)[1]
    ties = tied.merge(scored, left_on="id", right_on="record_id", how="inner")
    ties_sure = np.maximum(ties["p_chosen"], 1 - ties["p_chosen"]) >= cfg.min_preference
    joined = heldout.merge(scored, left_on="id", right_on="record_id", how="inner")
    gold = joined["teacher_verdict"].astype(int).tolist()
    student = np.sign(joined["margin"].to_numpy()).astype(int)
    predicted = np.where(student > 0, 1, np.where(student < 0, 2, 0)).tolist()
    agreement = pairwise_agreement(gold, predicted)
    p_first = joined["p_chosen"].to_numpy(dtype=float)
    sure = np.maximum(p_first, 1 - p_first) >= cfg.min_preference
    agree = np.asarray(gold) == np.asarray(predicted)
    bins = calibration.calibration_bins(p_first.tolist(), [g == 1 for g in gold]) if len(gold) else None
    report = {
        "n": len(joined), "agreement": agreement["accuracy"],
        "confusion_matrix": agreement.get("confusion_matrix"), "labels": agreement.get("labels"),
        "min_preference": cfg.min_preference,
        "sure_share": float(sure.mean()) if len(sure) else None,
        "agreement_when_sure": float(agree[sure].mean()) if sure.any() else None,
        "calibration": calibration.calibration_report(bins) if bins else None,
        "heldout_ties": len(ties), "ties_kept_share": float(ties_sure.mean()) if len(ties) else None,
        "heldout_rows": len(heldout), "heldout_rows_scored": len(joined),
    }
    if len(joined):
        out_dir.mkdir(parents=True, exist_ok=True)
        report["plots"] = {
            "verdict_confusion": str(plots.plot_confusion_matrix(
                agreement["confusion_matrix"], agreement["labels"], out_dir / "verdict_confusion.png",
                title="student vs teacher: verdicts (1, 2, 0 = tie)")),
            "reliability": str(plots.plot_reliability(bins, out_dir / "reliability.png",
                                                      title="student p(first preferred) vs teacher")),
        }
    report["headline"] = (f"agreement {report['agreement'] or 0:.3f}; {report['agreement_when_sure'] or 0:.3f} "
                          f"on the {report['sure_share'] or 0:.0%} it is sure of (p >= {cfg.min_preference:g}); "
                          f"sure of {report['ties_kept_share'] or 0:.0%} of {len(ties)} teacher ties")
    return report


def keep(scored_dir: Path, kept_dir: Path, cfg: DistillJobConfig) -> int:
    """Each scored part's pairs the student prefers one way with p >= min_preference, to kept/ as
    record_id, prompt, chosen, rejected, p_chosen (of the kept order) and margin; returns the pairs kept."""
    def select(table: pa.Table) -> pa.Table:
        p = table["p_chosen"]
        sure = table.filter(pc.or_(pc.greater_equal(p, cfg.min_preference),
                                   pc.less_equal(p, 1 - cfg.min_preference)))
        first = pc.greater_equal(sure["p_chosen"], 0.5)
        a, b = sure[cfg.answer_1_column], sure[cfg.answer_2_column]
        return pa.table({
            "record_id": sure["record_id"], "prompt": sure[cfg.prompt_column],
            "chosen": pc.if_else(first, a, b), "rejected": pc.if_else(first, b, a),
            "p_chosen": pc.if_else(first, sure["p_chosen"], pc.subtract(1, sure["p_chosen"])),
            "margin": pc.abs(sure["margin"]),
        })

    return rewrite_parts(scored_dir, kept_dir, select)


def _column(frame: pd.DataFrame, name: str) -> str:
    """A corpus column in the judge's output (input_<name> when a judge column has its name)."""
    return name if name in frame else f"input_{name}"
