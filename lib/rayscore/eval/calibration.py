"""Calibration of a binary probability: temperature scaling and mergeable reliability bins.

    from rayscore.eval import calibration as cal
    t = cal.fit_temperature(margins, labels)             # p = sigmoid(margin / t)
    p = cal.apply_temperature(margins, t)
    bins = cal.merge_bins(*(cal.calibration_bins(p_chunk, y_chunk) for p_chunk, y_chunk in chunks))
    cal.calibration_report(bins)                         # {"ece", "n", "bins": reliability table}

Scores are computed chunk by chunk on many actors, so reliability is kept as per-bin sums
(count, sum of p, number of positives) in plain JSON-ready lists: each actor bins its own rows,
the driver adds the bins up, and ECE or the reliability table come from the sums alone, in
memory that does not grow with the number of rows.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
from scipy import optimize, special

logger = logging.getLogger(__name__)

__all__ = ["fit_temperature", "apply_temperature", "calibration_bins", "merge_bins",
           "expected_calibration_error", "reliability_table", "calibration_report"]

_LOG_T_BOUNDS = (math.log(0.01), math.log(100.0))
_BIN_KEYS = ("count", "sum_p", "sum_y")


# --- temperature scaling --------------------------------------------------------------------------

def fit_temperature(margins: Sequence[float], labels: Sequence[bool]) -> float:
    """The T > 0 minimising the mean negative log-likelihood of sigmoid(margins / T) against
    `labels` (True = positive), searched over log T in [log 0.01, log 100]."""
    m = np.asarray(margins, dtype=float)
    y = _labels(labels)
    if m.ndim != 1 or len(m) == 0:
        raise ValueError("fit_temperature: need a non-empty 1-d sequence of margins")
    if len(m) != len(y):
        raise ValueError(f"fit_temperature: {len(m)} margins but {len(y)} labels")
    if not np.isfinite(m).all():
        raise ValueError(f"fit_temperature: {int((~np.isfinite(m)).sum())} margins are NaN or infinite")
    if y.all() or not y.any():
        raise ValueError(f"fit_temperature: every label is {bool(y[0])}; with a single class the "
                         "likelihood keeps improving as T moves to a bound, so the temperature is undefined")
    # -log sigmoid(s * z) = log(1 + exp(-s * z)) with s = +1 for a positive, -1 for a negative;
    # logaddexp keeps it finite for any margin, where log(expit(z)) underflows to -inf.
    signed = np.where(y, m, -m)

    def nll(log_t: float) -> float:
        return float(np.logaddexp(0.0, -signed / math.exp(log_t)).mean())

    result = optimize.minimize_scalar(nll, bounds=_LOG_T_BOUNDS, method="bounded")
    temperature = math.exp(float(result.x))
    if min(abs(result.x - bound) for bound in _LOG_T_BOUNDS) < 1e-3:
        # Separable (or anti-separable) data push T to a bound: the value is a limit, not a fit.
        logger.warning("fit_temperature: T = %.4g is at the edge of the search range [0.01, 100]",
                       temperature)
    return temperature


def apply_temperature(margins: Sequence[float], temperature: float) -> np.ndarray:
    """sigmoid(margins / temperature) as a float array."""
    if not temperature > 0:
        raise ValueError(f"apply_temperature: temperature must be > 0, got {temperature}")
    return special.expit(np.asarray(margins, dtype=float) / temperature)


# --- reliability bins ---------------------------------------------------------------------------

def calibration_bins(p: Sequence[float], labels: Sequence[bool], n_bins: int = 10) -> dict:
    """Per equal-width bin of [0, 1]: rows, sum of p and positives, as JSON-ready lists.

    Bin i holds i / n_bins <= p < (i + 1) / n_bins; p == 1.0 goes in the last bin. Rows whose
    p is NaN or infinite (no score) are skipped; a finite p outside [0, 1] is an error."""
    if not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"calibration_bins: n_bins must be a positive integer, got {n_bins!r}")
    n_bins = int(n_bins)
    p = np.asarray(p, dtype=float).reshape(-1)
    y = _labels(labels)
    if len(p) != len(y):
        raise ValueError(f"calibration_bins: {len(p)} probabilities but {len(y)} labels")
    keep = np.isfinite(p)
    p, y = p[keep], y[keep]
    if ((p < 0) | (p > 1)).any():
        raise ValueError(f"calibration_bins: {int(((p < 0) | (p > 1)).sum())} probabilities are "
                         "outside [0, 1]")
    index = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    return {"n_bins": n_bins,
            "count": [int(c) for c in np.bincount(index, minlength=n_bins)],
            "sum_p": [float(s) for s in np.bincount(index, weights=p, minlength=n_bins)],
            "sum_y": [int(s) for s in np.bincount(index, weights=y, minlength=n_bins)]}


def merge_bins(*bins: dict) -> dict:
    """Elementwise sum of calibration_bins outputs that share n_bins."""
    if not bins:
        raise ValueError("merge_bins: nothing to merge")
    for b in bins:
        _check_bins(b)
    sizes = sorted({b["n_bins"] for b in bins})
    if len(sizes) > 1:
        raise ValueError(f"merge_bins: bins of different sizes {sizes} cannot be merged")
    return {"n_bins": sizes[0],
            "count": [int(sum(c)) for c in zip(*(b["count"] for b in bins))],
            "sum_p": [float(math.fsum(s)) for s in zip(*(b["sum_p"] for b in bins))],
            "sum_y": [int(sum(s)) for s in zip(*(b["sum_y"] for b in bins))]}


def expected_calibration_error(bins: dict) -> float:
    """ECE = sum over bins of count / N * |mean p - share positive|."""
    _check_bins(bins)
    n = sum(bins["count"])
    if n == 0:
        raise ValueError("expected_calibration_error: the bins hold no rows")
    # count / N * |sum_p / count - sum_y / count| is |sum_p - sum_y| / N: no per-bin division.
    return float(math.fsum(abs(sp - sy) for sp, sy in zip(bins["sum_p"], bins["sum_y"])) / n)


def reliability_table(bins: dict) -> list[dict]:
    """One row per non-empty bin: edges, rows, mean p and share of positives (4 decimals)."""
    _check_bins(bins)
    n_bins = bins["n_bins"]
    return [{"lower": round(i / n_bins, 4), "upper": round((i + 1) / n_bins, 4), "count": int(count),
             "mean_p": round(sum_p / count, 4), "share_positive": round(sum_y / count, 4)}
            for i, (count, sum_p, sum_y) in enumerate(zip(bins["count"], bins["sum_p"], bins["sum_y"]))
            if count]


def calibration_report(bins: dict) -> dict:
    """ECE, number of rows and the reliability table, ready for metrics.json."""
    return {"ece": expected_calibration_error(bins), "n": int(sum(bins["count"])),
            "bins": reliability_table(bins)}


# --- helpers ------------------------------------------------------------------------------------

def _labels(labels: Sequence[bool]) -> np.ndarray:
    # np.asarray(..., dtype=bool) would read None or "no" as a label; a missing label must be
    # dropped by the caller, not scored as a negative.
    y = np.asarray(labels).reshape(-1)
    if y.dtype == bool:
        return y
    if y.dtype.kind in "iuf" and np.isin(y, (0, 1)).all():
        return y.astype(bool)
    raise ValueError("labels must be booleans (or 0 / 1); drop rows with a missing label first")


def _check_bins(bins: dict) -> None:
    missing = [k for k in ("n_bins", *_BIN_KEYS) if k not in bins]
    if missing:
        raise ValueError(f"not calibration bins: missing {missing}")
    n_bins = bins["n_bins"]
    lengths = {k: len(bins[k]) for k in _BIN_KEYS}
    if any(length != n_bins for length in lengths.values()):
        raise ValueError(f"calibration bins with n_bins={n_bins} but list lengths {lengths}")
