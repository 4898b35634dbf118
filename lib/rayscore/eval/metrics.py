"""Evaluation metrics, gold against predicted, as plain dicts ready for metrics.json.

    from rayscore.eval import metrics
    metrics.regression(real, predicted)                   # MAE, MSE, RMSE + error histogram
    metrics.classification(gold, pred, labels=["正确", "错误"])   # accuracy, P/R/F1, confusion
    metrics.classification_from_counts({("错误", "错误"): 3, ("正确", "错误"): 1}, positive="错误")
    metrics.distribution(scores, threshold=6)             # mean, std, shares per score

The other families have modules of their own: annotators.py (majority vote, Cohen's and Fleiss'
kappa), pairwise_agreement.py (a pairwise judge against gold, JudgeLM / PandaLM), correlation.py
(Pearson, Spearman, Kendall with bootstrap CIs) and length_control.py (requested vs actual length).
Missing values (None or NaN: a judge that gave no score, an unreadable verdict) are never
turned into a number silently: each function drops them from the statistic and reports how
many it dropped (`n_missing_*`), except where a published recipe says otherwise (pairwise
metrics count an unreadable verdict as a tie, as JudgeLM and PandaLM do; see
pairwise_agreement.py). scikit-learn and scipy compute what they have; Fleiss' kappa and the
bootstrap are written here, in annotators.py and correlation.py.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    mean_absolute_error,
    mean_squared_error,
    precision_recall_fscore_support,
    root_mean_squared_error,
)

from rayscore.eval.values import floats, ratio, same_length, sorted_labels
from rayscore.io import is_missing

__all__ = ["regression", "classification", "classification_from_counts", "distribution"]


# --- regression -------------------------------------------------------------------------------

def regression(y_true: Sequence, y_pred: Sequence, bins: int | Sequence[float] | None = None) -> dict:
    """MAE, MSE, RMSE and mean error (bias) over rows with both values, plus a histogram of
    pred - true. A missing prediction (the model declined to rate) is counted, not scored as 0.
    `bins` as in numpy.histogram; by default unit-wide bins centred on whole numbers."""
    t, p = floats(y_true), floats(y_pred)
    same_length(t, p)
    missing_true, missing_pred = np.isnan(t), np.isnan(p) & ~np.isnan(t)
    ok = ~np.isnan(t) & ~np.isnan(p)
    out = {"n": int(ok.sum()), "n_missing_true": int(missing_true.sum()),
           "n_missing_pred": int(missing_pred.sum()),
           "coverage": ratio(ok.sum(), (~missing_true).sum())}
    if not ok.any():
        return {**out, "mae": None, "mse": None, "rmse": None, "mean_error": None,
                "error_histogram": {"edges": [], "counts": []}}
    t, p = t[ok], p[ok]
    errors = p - t
    return {**out,
            "mae": float(mean_absolute_error(t, p)),
            "mse": float(mean_squared_error(t, p)),
            "rmse": float(root_mean_squared_error(t, p)),
            "mean_error": float(errors.mean()),
            "error_histogram": _histogram(errors, bins)}


# --- classification -----------------------------------------------------------------------------

def classification(y_true: Sequence, y_pred: Sequence, labels: Sequence | None = None) -> dict:
    """Accuracy, macro and per-class precision / recall / F1 (zero_division=0) and the
    confusion matrix (rows: true label, columns: predicted, in `labels` order). Rows where
    either side is None are dropped and counted."""
    same_length(y_true, y_pred)
    pairs = [(t, p) for t, p in zip(y_true, y_pred) if not is_missing(t) and not is_missing(p)]
    n_missing = len(y_true) - len(pairs)
    t = [a for a, _ in pairs]
    p = [b for _, b in pairs]
    labels = list(labels) if labels is not None else sorted_labels(set(t) | set(p))
    if not pairs:
        return {"n": 0, "n_missing": n_missing, "labels": labels, "accuracy": None}
    precision, recall, f1, support = precision_recall_fscore_support(
        t, p, labels=labels, zero_division=0)
    macro = precision_recall_fscore_support(t, p, labels=labels, average="macro", zero_division=0)
    return {
        "n": len(pairs), "n_missing": n_missing, "labels": labels,
        "accuracy": float(accuracy_score(t, p)),
        "precision_macro": float(macro[0]), "recall_macro": float(macro[1]), "f1_macro": float(macro[2]),
        "per_class": {label: {"precision": float(precision[i]), "recall": float(recall[i]),
                              "f1": float(f1[i]), "support": int(support[i])}
                      for i, label in enumerate(labels)},
        "confusion_matrix": confusion_matrix(t, p, labels=labels).tolist(),
    }


def classification_from_counts(confusion: Mapping[tuple[Hashable, Hashable], int], positive: Hashable) -> dict:
    """Accuracy, and precision / recall / F1 of the `positive` label, from a confusion count
    mapping {(gold, predicted): rows} instead of rows: counts add up (a batch job merges each
    chunk's counts), so whoever aggregates never holds a row. Every cell counts: a gold label
    other than `positive` (missing included, however the caller wrote it) is a negative. As in
    classification(), a ratio with nothing to divide is 0 (zero_division=0); accuracy is None
    without rows. `n` is the number of rows."""
    n = tp = fp = fn = correct = 0
    for (gold, pred), count in confusion.items():
        n += count
        correct += count if gold == pred else 0
        if pred == positive:
            tp, fp = (tp + count, fp) if gold == positive else (tp, fp + count)
        elif gold == positive:
            fn += count
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"n": n, "accuracy": correct / n if n else None, "precision": precision, "recall": recall, "f1": f1}


# --- score distribution -------------------------------------------------------------------------

def distribution(scores: Sequence, threshold: float | None = None,
                 bins: int | Sequence[float] | None = None) -> dict:
    """Mean, standard deviation (population, ddof=0), the share below `threshold`, the count
    and share of each distinct score, and a histogram (unit bins centred on whole numbers by
    default). Missing scores are counted apart."""
    values = floats(scores)
    missing = np.isnan(values)
    values = values[~missing]
    out: dict = {"n": int(len(values)), "n_missing": int(missing.sum()), "threshold": threshold}
    if not len(values):
        return {**out, "mean": None, "std": None, "min": None, "max": None, "share_below_threshold": None,
                "counts": {}, "shares": {}, "histogram": {"edges": [], "counts": []}}
    counts = Counter(_number_key(v) for v in values)
    keys = sorted(counts)
    return {**out,
            "mean": float(values.mean()), "std": float(values.std()),
            "min": float(values.min()), "max": float(values.max()),
            "share_below_threshold": None if threshold is None else float((values < threshold).mean()),
            "counts": {k: counts[k] for k in keys},
            "shares": {k: counts[k] / len(values) for k in keys},
            "histogram": _histogram(values, bins)}


# --- helpers ------------------------------------------------------------------------------------

def _number_key(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _histogram(values: np.ndarray, bins: int | Sequence[float] | None) -> dict:
    if bins is None:
        bins = np.arange(math.floor(values.min()) - 0.5, math.ceil(values.max()) + 1.0, 1.0)
    counts, edges = np.histogram(values, bins=bins)
    return {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]}
