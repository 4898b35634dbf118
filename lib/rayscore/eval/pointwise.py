"""A pointwise scorer (a student classifier or regressor) against reference scores (held-out
labels, a teacher's grades): agreement at a threshold, correlation, errors, confusion, plots.

    report = pointwise_report(gold_scores, predicted_scores, threshold=3, out_dir=out, title="student")
    report["binary"]["f1"], report["spearman"], report["plots"]

Binary agreement treats `score >= threshold` as the positive class on both sides (FineWeb-Edu's
"educational at 3 of 5"): accuracy is the share of rows on the same side, f1 / precision / recall
are the positive class's. With `gold_classes` / `predicted_classes` (a classifier's argmax) it
also gives exact class agreement and the class confusion matrix. Everything is computed by
rayscore.eval.metrics and rayscore.eval.correlation and drawn by rayscore.eval.plots.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rayscore.eval import metrics, plots
from rayscore.eval.correlation import correlation

POSITIVE, NEGATIVE = "pass", "fail"


def pointwise_report(gold: Sequence[float], predicted: Sequence[float], threshold: float,
                     out_dir: str | Path | None = None, title: str = "scores",
                     gold_classes: Sequence[int] | None = None,
                     predicted_classes: Sequence[int] | None = None) -> dict:
    """Metrics of `predicted` against `gold` (same rows, same order); PNGs under out_dir when given."""
    g, p = np.asarray(gold, dtype=np.float64), np.asarray(predicted, dtype=np.float64)
    gold_side = np.where(g >= threshold, POSITIVE, NEGATIVE)
    pred_side = np.where(p >= threshold, POSITIVE, NEGATIVE)
    binary = metrics.classification(gold_side.tolist(), pred_side.tolist(), labels=[POSITIVE, NEGATIVE])
    positive = binary.get("per_class", {}).get(POSITIVE, {})
    correlated = correlation(g, p, bootstrap=0)
    errors = metrics.regression(g, p)
    report = {
        "n": int(len(g)),
        "threshold": float(threshold),
        "agreement": binary["accuracy"],
        "binary": {"f1": positive.get("f1"), "precision": positive.get("precision"),
                   "recall": positive.get("recall"), "labels": binary["labels"],
                   "confusion_matrix": binary.get("confusion_matrix"),
                   "gold_positive_share": float((gold_side == POSITIVE).mean()) if len(g) else None,
                   "predicted_positive_share": float((pred_side == POSITIVE).mean()) if len(g) else None},
        "spearman": (correlated.get("spearman") or {}).get("r"),
        "pearson": (correlated.get("pearson") or {}).get("r"),
        "mae": errors["mae"],
        "rmse": errors["rmse"],
    }
    classes = None
    if gold_classes is not None and predicted_classes is not None:
        labels = sorted({int(c) for c in gold_classes} | {int(c) for c in predicted_classes})
        classes = metrics.classification([int(c) for c in gold_classes], [int(c) for c in predicted_classes],
                                         labels=labels)
        report["classes"] = {"accuracy": classes["accuracy"], "f1_macro": classes.get("f1_macro"),
                             "labels": labels, "confusion_matrix": classes.get("confusion_matrix")}
    if out_dir is not None and len(g):
        report["plots"] = write_plots(Path(out_dir), title, g, p, threshold, binary, classes)
    return report


def write_plots(out: Path, title: str, gold: np.ndarray, predicted: np.ndarray, threshold: float,
                binary: dict, classes: dict | None) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "binary_confusion": plots.plot_confusion_matrix(binary["confusion_matrix"], binary["labels"],
                                                        out / "binary_confusion.png",
                                                        title=f"{title}: score >= {threshold:g}"),
        "scatter": plots.plot_scatter(predicted, gold, out / "scatter.png", title=f"{title} vs reference",
                                      xlabel="predicted score", ylabel="reference score"),
        "score_histogram": plots.plot_score_histogram(predicted, out / "score_histogram.png",
                                                      title=f"{title}: predicted scores", threshold=threshold),
    }
    if classes is not None:
        paths["class_confusion"] = plots.plot_confusion_matrix(classes["confusion_matrix"], classes["labels"],
                                                               out / "class_confusion.png",
                                                               title=f"{title}: classes")
    return {name: str(path) for name, path in paths.items()}
