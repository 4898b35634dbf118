"""Correlation of two scores (a judge's and people's, say): Pearson, Spearman and Kendall (tau-b),
each with a percentile bootstrap confidence interval, overall and per group.

    from rayscore.eval.correlation import correlation, correlation_by_group
    correlation(judge, human, bootstrap=1000)          # {"pearson": {"r", "p_value", "ci_low", ...}, ...}
    correlation_by_group(judge, human, categories)     # {"all": ..., <category>: ...}

scipy computes the coefficients; the bootstrap is written here so that one set of resampled pairs
feeds all three and a degenerate resample (constant input) is left out, not a spoiled interval.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from scipy import stats

from rayscore.eval.values import floats, same_length

__all__ = ["correlation", "correlation_by_group"]


def correlation(x: Sequence, y: Sequence, bootstrap: int = 1000, seed: int = 0,
                confidence: float = 0.95) -> dict:
    """Pearson, Spearman and Kendall (tau-b) correlation, each with a percentile bootstrap CI.

    Pairs with a missing side are dropped and counted. The bootstrap resamples pairs with
    replacement `bootstrap` times; resamples where a statistic is undefined (constant input)
    are left out of that statistic's percentiles. bootstrap=0 gives no CIs.
    """
    xs, ys = floats(x), floats(y)
    same_length(xs, ys)
    ok = ~np.isnan(xs) & ~np.isnan(ys)
    xs, ys = xs[ok], ys[ok]
    out: dict = {"n": int(ok.sum()), "n_missing": int((~ok).sum()), "confidence": confidence,
                 "bootstrap": bootstrap}
    if len(xs) < 3:
        return {**out, **{name: None for name in _CORRELATIONS}}
    point = _correlations(xs, ys)
    samples = _bootstrap_correlations(xs, ys, bootstrap, seed) if bootstrap > 0 else None
    alpha = (1 - confidence) / 2
    for name, (r, p) in point.items():
        entry = {"r": r, "p_value": p, "ci_low": None, "ci_high": None}
        if samples is not None:
            values = samples[name][~np.isnan(samples[name])]
            if len(values):
                entry["ci_low"], entry["ci_high"] = (float(v) for v in np.quantile(values, [alpha, 1 - alpha]))
        out[name] = entry
    return out


def correlation_by_group(x: Sequence, y: Sequence, groups: Sequence, **kwargs) -> dict:
    """correlation() over all rows ("all") and within each group (CritiqueLLM's task categories)."""
    same_length(x, groups)
    out = {"all": correlation(x, y, **kwargs)}
    for group in dict.fromkeys(groups):
        idx = [i for i, g in enumerate(groups) if g == group]
        out[group] = correlation([x[i] for i in idx], [y[i] for i in idx], **kwargs)
    return out


_CORRELATIONS = ("pearson", "spearman", "kendall")


def _correlations(xs: np.ndarray, ys: np.ndarray) -> dict[str, tuple[float, float]]:
    with warnings.catch_warnings():
        # Constant input makes a coefficient undefined: NaN is the answer, not a warning.
        warnings.simplefilter("ignore")
        results = {"pearson": stats.pearsonr(xs, ys), "spearman": stats.spearmanr(xs, ys),
                   "kendall": stats.kendalltau(xs, ys)}
    return {name: (float(res.statistic), float(res.pvalue)) for name, res in results.items()}


def _bootstrap_correlations(xs: np.ndarray, ys: np.ndarray, resamples: int, seed: int) -> dict[str, np.ndarray]:
    # One set of resampled pairs feeds all three statistics, and a degenerate resample
    # (constant input) becomes NaN instead of spoiling the interval. Pearson and Spearman are
    # computed for all resamples at once; Kendall's tau-b goes through scipy one by one.
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(xs), size=(resamples, len(xs)))
    bx, by = xs[idx], ys[idx]
    kendall = np.empty(resamples)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for b in range(resamples):
            kendall[b] = stats.kendalltau(bx[b], by[b]).statistic
    return {"pearson": _rowwise_pearson(bx, by),
            "spearman": _rowwise_pearson(stats.rankdata(bx, axis=1), stats.rankdata(by, axis=1)),
            "kendall": kendall}


def _rowwise_pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (a * b).sum(axis=1) / np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    return np.clip(r, -1.0, 1.0)
