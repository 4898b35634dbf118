"""label_issues: rows of a labelled training set whose label is probably wrong (confident learning).

    records = read_labelled("data/train.parquet", id_column="record_id")
    p = records["p_correct_oof"]                       # or out_of_fold(records, 2, train_fold, "out/folds")
    ranks, whys = label_issue_ranks(records["label"], p)   # inf: not an issue

cleanlab's find_label_issues compares each given label with out-of-fold probabilities: from a
model that never saw the row, so it has not learnt that row's label, right or wrong. Its issues
come ranked by self-confidence (the probability of the given label, lowest first).

Out-of-fold probabilities come from a column of the labelled set (scored by k models elsewhere),
or from out_of_fold here: k folds by a stable hash of the id, k training runs on the other folds,
each scoring the fold it left out. The training itself is handed in (`train`: records path,
output dir -> model dir) so this package never imports the trainer, which reads audited labels.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from rayscore.data.pairs import CORRECT, LABELS
from rayscore.io import read_table
from rayscore.score.inputs import InputError

logger = logging.getLogger(__name__)

TrainFold = Callable[[str, str], str]
"""(records parquet path, output dir) -> the trained model directory."""


def read_labelled(path: str, id_column: str = "record_id", oof_column: str | None = None) -> pd.DataFrame:
    """record_id, text, label (and p_correct_oof when oof_column is set), every problem named by row."""
    table = read_table(path)
    needed = [id_column, "text", "label"] + ([oof_column] if oof_column else [])
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise InputError(f"pick.label_issues.path: {path} lacks column(s) {missing}; columns are {list(table.columns)}")
    problems = []
    for i, row in enumerate(table[needed].to_dict("records")):
        if row["label"] not in LABELS:
            problems.append(f"{path}: row {i}: label {row['label']!r} is not one of {LABELS}")
        if not isinstance(row["text"], str) or not row["text"].strip():
            problems.append(f"{path}: row {i}: text is empty or not text")
        if oof_column and not (isinstance(row[oof_column], (int, float)) and 0 <= row[oof_column] <= 1):
            problems.append(f"{path}: row {i}: {oof_column} {row[oof_column]!r} is not a probability in [0, 1]")
    if problems:
        raise InputError("\n".join(problems[:20] + ([f"... {len(problems) - 20} more"] if len(problems) > 20 else [])))
    out = pd.DataFrame({"record_id": table[id_column].astype(str), "text": table["text"], "label": table["label"]})
    if oof_column:
        out["p_correct_oof"] = table[oof_column].astype(float).to_numpy()
    return out


def label_issue_ranks(labels, p_correct) -> tuple[np.ndarray, list[str]]:
    """Each row's rank among the issues (0 = most likely mislabelled; inf = not an issue) and its why."""
    from cleanlab.filter import find_label_issues

    labels = np.asarray(labels, dtype=object)
    p = np.clip(np.asarray(p_correct, dtype=float), 0.0, 1.0)
    given = (labels == CORRECT).astype(int)              # class 1 = 正确
    pred_probs = np.column_stack([1.0 - p, p])
    ranks = np.full(len(labels), np.inf)
    if len(set(given)) < 2:
        raise InputError("pick.label_issues: the labelled set needs both 正确 and 错误 rows")
    order = find_label_issues(given, pred_probs, return_indices_ranked_by="self_confidence")
    ranks[order] = np.arange(len(order), dtype=float)
    whys = [f"labelled {lab} but out-of-fold p_correct {q:.2f} (issue {int(r) + 1} of {len(order)})"
            if np.isfinite(r) else "" for lab, q, r in zip(labels, p, ranks)]
    return ranks, whys


def fold_of(record_id: str, folds: int) -> int:
    """A stable fold per id: the same rows leave the same fold out in every run."""
    return int(hashlib.sha256(record_id.encode()).hexdigest()[:8], 16) % folds


def out_of_fold(records: pd.DataFrame, folds: int, train: TrainFold, workdir: str | Path,
                score: Callable[[str, list[str]], np.ndarray] | None = None) -> np.ndarray:
    """p_correct of each row from the model trained on the other folds."""
    score = score or model_p_correct
    fold = np.array([fold_of(i, folds) for i in records["record_id"]])
    p = np.full(len(records), np.nan)
    for k in range(folds):
        held = fold == k
        if held.all() or not held.any():
            raise InputError(f"pick.label_issues: fold {k} of {folds} holds {int(held.sum())} of {len(records)} rows; "
                             "use fewer folds or more rows")
        out = Path(workdir, f"fold-{k}")
        out.mkdir(parents=True, exist_ok=True)
        path = out / "train.parquet"
        records[~held][["record_id", "text", "label"]].to_parquet(path, index=False)
        logger.info("fold %d/%d: training on %d rows, scoring %d", k + 1, folds, int((~held).sum()), int(held.sum()))
        model_dir = train(str(path), str(out / "train_reward"))
        p[held] = score(model_dir, records.loc[held, "text"].tolist())
    return p


def model_p_correct(model_dir: str, texts: list[str]) -> np.ndarray:
    """The model's own p_correct (no check overruling it): what confident learning compares labels with."""
    from rayscore.score.scorers import QualityScorer, ScorerSpec

    _, _, p, _ = QualityScorer(ScorerSpec(kind="quality", model_dir=model_dir)).p_correct(texts)
    return np.asarray(p, dtype=float)
