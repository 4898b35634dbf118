"""Two operating points on p_correct: automatic 正确 above one, automatic 错误 below the other,
each at a stated precision with a stated confidence; everything between is 待审 (a person looks).

    from rayscore.eval.operating_points import fit_operating_points, outcome
    points = fit_operating_points(p_correct, gold_correct, target_precision=0.99, delta=0.05)
    points["accept_at"], points["reject_below"]      # e.g. 0.98, 0.02
    outcome(p_correct, points)                        # array of 正确 / 错误 / 待审

Learn then Test (Angelopoulos et al., 2021) by fixed-sequence testing: the thresholds of a grid
set before any data is seen are tested in order, most conservative first, each at level delta
(is the one-sided Clopper-Pearson lower bound of its precision on the held-out rows at least
`target_precision`?), and the sequence stops at the first that fails; the last that passed is
used. Fixed-sequence testing holds every passed threshold's precision at once with probability
>= 1 - delta, with no correction for the number of thresholds. The sequence starts at the first
threshold that takes enough rows to pass with one wrong row among them (473 rows for 0.99 at
0.05), a start set by the scores alone, never by the labels: the most conservative thresholds
take too few rows, and one confident mistake among the first few hundred would stop the whole
sequence before a threshold with the rows to absorb it is reached. The guarantee is about rows like the held-out
ones: fitted on generated records, it says nothing about a user's own records until refitted
on audited rows of theirs.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from rayscore.data.pairs import CORRECT, REVIEW, WRONG

# The grid, most conservative first: p_correct >= t for 正确 (and p_correct < 1 - t for 错误).
# Fixed-sequence testing spends no share of delta per threshold, so the grid can be fine.
GRID = (0.9999, 0.9995, 0.999, 0.998, 0.997, 0.995, 0.993, 0.99, 0.985, 0.98, 0.97, 0.96, 0.95, 0.93, 0.9,
        0.85, 0.8, 0.7, 0.6, 0.5)


def precision_lower_bound(hits: int, n: int, delta: float) -> float:
    """One-sided (1 - delta) Clopper-Pearson lower bound of a proportion hits / n (0 without hits)."""
    if n == 0 or hits == 0:
        return 0.0
    return float(stats.beta.ppf(delta, hits, n - hits + 1))


def fewest_rows(target: float, delta: float, wrong: int = 0) -> int:
    """The fewest rows whose bound reaches target with `wrong` of them wrong (none wrong:
    target^n <= delta)."""
    n = int(np.ceil(np.log(delta) / np.log(target)))
    while precision_lower_bound(n - wrong, n, delta) < target:
        n += 1
    return n


def _least_conservative(p: np.ndarray, positive: np.ndarray, accept, target: float,
                        delta: float) -> tuple[float | None, dict]:
    """Fixed-sequence testing down GRID from the first threshold with the rows to pass with one
    wrong (fewest_rows): the last threshold whose precision bound at delta reaches target before
    the first that does not."""
    chosen, report, enough = None, {}, fewest_rows(target, delta, wrong=1)
    for t in GRID:
        taken = accept(p, t)
        n, hits = int(taken.sum()), int((taken & positive).sum())
        if n < enough and chosen is None:
            continue                          # cannot pass: not yet part of the sequence
        bound = precision_lower_bound(hits, n, delta)
        if bound < target:
            break
        chosen, report = t, {"n": n, "precision": round(hits / n, 4), "lower_bound": round(bound, 4)}
    return chosen, report


def fit_operating_points(p_correct, gold_correct, target_precision: float = 0.99, delta: float = 0.05,
                         fallback_threshold: float = 0.5) -> dict:
    """accept_at (p >= it: 正确) and reject_below (p < it: 错误) on held-out rows.

    Where no threshold of the grid reaches the bound for an outcome (too few held-out rows, or a
    model not that good), that outcome falls back to `fallback_threshold` (the best-F1 threshold)
    and the result says `certified: false` for it: the labels still come out, without the stated
    precision."""
    p = np.asarray(p_correct, dtype=float)
    gold = np.asarray(gold_correct, dtype=bool)
    if p.shape != gold.shape:
        raise ValueError(f"fit_operating_points: {len(p)} scores but {len(gold)} labels")
    keep = np.isfinite(p)
    p, gold = p[keep], gold[keep]
    accept_at, correct = _least_conservative(p, gold, lambda s, t: s >= t, target_precision, delta)
    reject_below, wrong = _least_conservative(p, ~gold, lambda s, t: s < 1 - t, target_precision, delta)
    out = {
        "target_precision": target_precision, "delta": delta, "n": int(len(p)),
        "accept_at": float(accept_at) if accept_at is not None else float(fallback_threshold),
        "reject_below": round(1 - reject_below, 6) if reject_below is not None else float(fallback_threshold),
        "certified": {CORRECT: accept_at is not None, WRONG: reject_below is not None},
        CORRECT: correct, WRONG: wrong,
    }
    # Two uncertified fallbacks meet at one threshold; a certified pair never crosses (both > 0.5 apart).
    out["reject_below"] = min(out["reject_below"], out["accept_at"])
    decided = (p >= out["accept_at"]) | (p < out["reject_below"])
    out["coverage"] = round(float(decided.mean()), 4) if len(p) else None
    return out


def outcome(p_correct, points: dict) -> np.ndarray:
    """正确 / 错误 / 待审 for each p_correct by the two operating points (NaN: 待审)."""
    p = np.asarray(p_correct, dtype=float)
    labels = np.full(p.shape, REVIEW, dtype=object)
    labels[p >= points["accept_at"]] = CORRECT
    labels[p < points["reject_below"]] = WRONG
    return labels


def risk_coverage(bins: dict) -> list[dict]:
    """The risk-coverage curve of symmetric operating points (正确 at p >= t, 错误 below 1 - t) from
    calibration_bins sums of the rows the model decides (their gold: positive = 正确): per bin
    edge t >= 0.5, the share of rows decided automatically and the share of those decided wrongly.
    Sums, not rows, so the chunks of a batch job merge first (calibration.merge_bins)."""
    count = np.asarray(bins["count"], dtype=float)
    positives = np.asarray(bins["sum_y"], dtype=float)
    n_bins, total = len(count), count.sum()
    curve = []
    if not total:
        return curve
    for k in range(n_bins // 2, n_bins + 1):
        t = k / n_bins
        high = slice(k, n_bins)                   # bins with p >= t
        low = slice(0, n_bins - k)                # bins with p < 1 - t
        decided = count[high].sum() + count[low].sum()
        errors = (count[high] - positives[high]).sum() + positives[low].sum()
        curve.append({"threshold": round(t, 6), "coverage": round(decided / total, 6),
                      "risk": round(errors / decided, 6) if decided else 0.0})
    return curve
