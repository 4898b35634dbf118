"""The quality threshold chosen on labelled rows, instead of fixed: what to aim at (ThresholdSpec,
a scorer config's `threshold_from`) and the choice itself (choose_threshold).

    choice = choose_threshold(p_correct, gold, target_precision=0.99)   # {threshold, precision, recall, ...}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from rayscore.config import range_problems
from rayscore.data.pairs import WRONG


@dataclass
class ThresholdSpec:
    """Choose the quality scorer's threshold on a labelled validation set instead of fixing it."""

    path: str = ""
    """Labelled table (parquet, JSONL, JSON, CSV) with the text column and label_column; "" = off."""
    label_column: str = "label"
    """Gold label column (正确 / 错误)."""
    target_precision: float | None = None
    """Pick the threshold with the highest recall whose precision for `positive` is >= this."""
    best_f1: bool = False
    """Pick the threshold with the best F1 for `positive` (instead of target_precision)."""
    positive: Literal["正确", "错误"] = "错误"
    """The class precision / recall / F1 are about (错误 = catching wrong records, as in gold_metrics)."""

    def check(self) -> list[str]:
        if not self.path:
            return []
        problems = []
        if (self.target_precision is None) == (not self.best_f1):
            problems.append("target_precision: set exactly one of target_precision or best_f1: true")
        problems += range_problems(self, target_precision="(0, 1]")
        return problems


def choose_threshold(p_correct: np.ndarray, gold: np.ndarray, target_precision: float | None = None,
                     best_f1: bool = False, positive: str = WRONG) -> dict:
    """The threshold t (label 正确 iff p_correct >= t) that meets the goal on labelled rows.

    Candidates are 0, 1 and the midpoints between neighbouring distinct p_correct values (a
    midpoint, not a seen value, so a new row equal to a seen one is labelled as it was).
    target_precision: among thresholds whose precision for `positive` is >= target, the one with
    the highest recall (then precision). best_f1: the highest F1 (then precision). Returns
    {threshold, precision, recall, f1, n, positive, goal}; raises ValueError when no threshold
    reaches the target precision."""
    p = np.asarray(p_correct, dtype=np.float64)
    gold = np.asarray(gold)
    order = np.argsort(p, kind="stable")
    p, is_pos = p[order], gold[order] == positive
    distinct = np.unique(p)
    candidates = np.unique(np.concatenate([[0.0, 1.0], (distinct[1:] + distinct[:-1]) / 2]))
    below = np.searchsorted(p, candidates, side="left")       # rows predicted 错误 (p < t)
    pos_cum = np.concatenate([[0], np.cumsum(is_pos)])
    if positive == WRONG:
        predicted = below
        tp = pos_cum[below]
    else:
        predicted = len(p) - below
        tp = pos_cum[-1] - pos_cum[below]
    precision = np.divide(tp, predicted, out=np.zeros(len(tp)), where=predicted > 0)
    recall = tp / pos_cum[-1] if pos_cum[-1] else np.zeros(len(tp))
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(len(tp)),
                   where=precision + recall > 0)
    if best_f1:
        goal = "best_f1"
        best = np.lexsort((precision, f1))[-1]
    else:
        goal = f"target_precision={target_precision}"
        ok = np.flatnonzero((precision >= target_precision) & (predicted > 0))
        if not len(ok):
            raise ValueError(f"no threshold reaches precision {target_precision} for {positive} "
                             f"(best precision {precision.max():.4f} on {len(p)} rows)")
        best = ok[np.lexsort((precision[ok], recall[ok]))[-1]]
    return {"threshold": float(candidates[best]), "precision": round(float(precision[best]), 4),
            "recall": round(float(recall[best]), 4), "f1": round(float(f1[best]), 4), "n": int(len(p)),
            "positive": positive, "goal": goal}
