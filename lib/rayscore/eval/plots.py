"""PNG plots for evaluation reports; each function writes one file and returns its path.

    from rayscore.eval import metrics, plots
    plots.plot_error_histogram(pred - true, out / "error_hist.png")
    m = metrics.classification(gold, pred)
    plots.plot_confusion_matrix(m["confusion_matrix"], m["labels"], out / "confusion.png")
    plots.plot_score_histogram(scores, out / "scores.png", threshold=6)
    plots.plot_length_control(requested, actual, out / "length.png")
    plots.plot_scatter(judge_scores, human_scores, out / "correlation.png")

Figures are drawn on matplotlib's Agg canvas directly (no pyplot), so nothing depends on a
display or on global pyplot state, and plotting from several threads is safe. Text in the
plots is ASCII: the fonts on a cluster node often lack CJK glyphs, so Chinese labels such as
正确 / 错误 are translated when known and escaped (\\u6b63...) otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rayscore.eval.calibration import calibration_report

__all__ = ["plot_error_histogram", "plot_confusion_matrix", "plot_score_histogram", "plot_length_control",
           "plot_scatter", "plot_reliability",
           "ascii_label"]

_KNOWN_LABELS = {"正确": "correct", "错误": "wrong", "平局": "tie", "回答1": "answer 1", "回答2": "answer 2",
                 "是": "yes", "否": "no", "好": "good", "坏": "bad"}
_DPI = 100


def ascii_label(value: object) -> str:
    """`value` as ASCII text for a plot: known Chinese words translated, the rest escaped."""
    text = str(value)
    if text.isascii():
        return text
    if text in _KNOWN_LABELS:
        return _KNOWN_LABELS[text]
    return text.encode("ascii", "backslashreplace").decode("ascii")


def plot_error_histogram(errors: Sequence[float], path: str | Path, title: str = "prediction - truth",
                         bins: int | Sequence[float] | None = None) -> Path:
    """Histogram of errors (pred - true); missing values are skipped, unit bins by default."""
    values = _finite(errors)
    fig, ax = _figure()
    if len(values):
        ax.hist(values, bins=bins if bins is not None else _unit_bins(values), color="tab:blue",
                edgecolor="white")
        ax.axvline(0, color="black", linewidth=1)
        ax.axvline(float(values.mean()), color="tab:red", linestyle="--",
                   label=f"mean {values.mean():.2f}")
        ax.legend()
    ax.set(title=ascii_label(title), xlabel="error", ylabel="count")
    return _save(fig, path)


def plot_confusion_matrix(matrix: Sequence[Sequence[int]], labels: Sequence, path: str | Path,
                          title: str = "confusion matrix") -> Path:
    """Counts with true labels as rows and predicted labels as columns."""
    counts = np.asarray(matrix, dtype=float)
    names = [ascii_label(label) for label in labels]
    if counts.shape != (len(names), len(names)):
        raise ValueError(f"a {counts.shape} matrix for {len(names)} labels")
    fig, ax = _figure(size=(1.2 * len(names) + 3, 1.2 * len(names) + 2.5))
    ax.imshow(counts, cmap="Blues")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    high = counts.max() if counts.size else 0
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            ax.text(j, i, f"{int(counts[i, j])}", ha="center", va="center",
                    color="white" if counts[i, j] > high / 2 else "black")
    ax.set(title=ascii_label(title), xlabel="predicted", ylabel="true")
    return _save(fig, path)


def plot_score_histogram(scores: Sequence[float], path: str | Path, title: str = "scores",
                         threshold: float | None = None, bins: int | Sequence[float] | None = None) -> Path:
    """Histogram of scores (unit bins centred on whole numbers), with an optional threshold line."""
    values = _finite(scores)
    fig, ax = _figure()
    if len(values):
        ax.hist(values, bins=bins if bins is not None else _unit_bins(values), color="tab:green",
                edgecolor="white")
        label = f"mean {values.mean():.2f}, std {values.std():.2f}"
        ax.axvline(float(values.mean()), color="black", linestyle="--", label=label)
        if threshold is not None:
            ax.axvline(threshold, color="tab:red", label=f"threshold {threshold:g}")
        ax.legend()
    ax.set(title=ascii_label(title), xlabel="score", ylabel="count")
    return _save(fig, path)


def plot_length_control(requested: Sequence[float | None], actual: Sequence[float], path: str | Path,
                        title: str = "length control") -> Path:
    """Requested against actual length (characters), one point per answer, with y = x;
    rows without a requested length are left out."""
    if len(requested) != len(actual):
        raise ValueError(f"{len(requested)} requested lengths but {len(actual)} actual")
    pairs = np.array([(r, a) for r, a in zip(requested, actual) if r is not None and a is not None],
                     dtype=float).reshape(-1, 2)
    fig, ax = _figure()
    if len(pairs):
        ax.scatter(pairs[:, 0], pairs[:, 1], s=12, alpha=0.6, color="tab:blue", label="answers")
        low, high = float(pairs.min()), float(pairs.max())
        ax.plot([low, high], [low, high], color="black", linewidth=1, label="actual = requested")
        ax.legend()
    ax.set(title=ascii_label(title), xlabel="requested length (chars)",
           ylabel="actual length (chars, no whitespace)")
    return _save(fig, path)


def plot_scatter(x: Sequence[float | None], y: Sequence[float | None], path: str | Path,
                 title: str = "judge vs human", xlabel: str = "judge", ylabel: str = "human") -> Path:
    """One point per item with both values (correlation of a judge's scores with people's)."""
    if len(x) != len(y):
        raise ValueError(f"{len(x)} x values but {len(y)} y values")
    pairs = np.array([(a, b) for a, b in zip(x, y) if a is not None and b is not None], dtype=float).reshape(-1, 2)
    pairs = pairs[np.isfinite(pairs).all(axis=1)]
    fig, ax = _figure()
    if len(pairs):
        # Judge scores are often whole numbers: a little transparency shows how many share a point.
        ax.scatter(pairs[:, 0], pairs[:, 1], s=14, alpha=0.4, color="tab:purple")
    ax.set(title=ascii_label(title), xlabel=ascii_label(xlabel), ylabel=ascii_label(ylabel))
    return _save(fig, path)


def _figure(size: tuple[float, float] = (6.4, 4.8)):
    fig = Figure(figsize=size, dpi=_DPI)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def _finite(values: Sequence[float | None]) -> np.ndarray:
    array = np.array([np.nan if v is None else v for v in values], dtype=float)
    return array[np.isfinite(array)]


def _unit_bins(values: np.ndarray) -> np.ndarray:
    return np.arange(math.floor(values.min()) - 0.5, math.ceil(values.max()) + 1.0, 1.0)


def plot_reliability(bins: dict, path: str | Path, title: str = "") -> Path:
    """Reliability diagram of calibration.calibration_bins output: share of positives per bin
    against the diagonal, rows per bin beneath, ECE in the title."""
    n_bins = bins["n_bins"]
    fig = Figure(figsize=(6.4, 6.4), dpi=_DPI)
    FigureCanvasAgg(fig)
    ax, ax_count = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    ax.plot([0, 1], [0, 1], color="black", linewidth=1, linestyle="--", label="perfectly calibrated")
    if sum(bins["count"]):
        report = calibration_report(bins)
        rows = report["bins"]
        ax.bar([r["lower"] for r in rows], [r["share_positive"] for r in rows], width=1 / n_bins,
               align="edge", color="tab:blue", alpha=0.5, edgecolor="white", label="share positive")
        # Bars sit on the bin, points on the bin's mean p: the gap to the diagonal is the error.
        ax.plot([r["mean_p"] for r in rows], [r["share_positive"] for r in rows], marker="o",
                color="tab:blue", label="at mean p")
        ax_count.bar([r["lower"] for r in rows], [r["count"] for r in rows], width=1 / n_bins,
                     align="edge", color="tab:gray", edgecolor="white")
        summary = f"ECE {report['ece']:.4f}, n {report['n']}"
    else:
        summary = "no rows"
    ax.legend(loc="upper left")
    ax.set(title=f"{ascii_label(title)} ({summary})" if title else summary, xlim=(0, 1), ylim=(0, 1),
           ylabel="share positive")
    ax_count.set(xlabel="predicted probability", ylabel="rows")
    return _save(fig, path)


def plot_risk_coverage(curve: list[dict], path: str | Path, point: dict | None = None, title: str = "") -> Path:
    """Risk (share of automatic labels that are wrong) against coverage (share labelled
    automatically) as the operating points move (operating_points.risk_coverage); `point`
    ({coverage, risk}) marks the one in use."""
    fig, ax = _figure()
    if curve:
        ax.plot([c["coverage"] for c in curve], [c["risk"] for c in curve], marker=".", color="tab:blue",
                label="symmetric operating points")
    if point and point.get("coverage") is not None:
        ax.scatter([point["coverage"]], [point["risk"]], color="tab:red", zorder=3, label="in use")
    ax.legend(loc="upper left")
    ax.set(title=ascii_label(title) if title else "risk-coverage", xlim=(0, 1.02),
           xlabel="coverage (decided automatically)", ylabel="risk (automatic labels wrong)")
    return _save(fig, path)
