"""Agreement among annotators: gold by majority vote, Cohen's kappa of two, Fleiss' kappa of many.

    from rayscore.eval.annotators import cohen_kappa, fleiss_kappa, majority_vote
    majority_vote([["a", "a", "b"], ["b", None, "b"]])   # ['a', 'b']
    cohen_kappa(first, second)                          # scikit-learn's, unlabelled items skipped
    fleiss_kappa(labels_per_item)                       # items x annotators -> kappa

Fleiss' kappa is written here (scikit-learn has none): the textbook definition, checked on the
textbook example (kappa = 0.210). Missing labels are skipped, never read as a label.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Literal

import numpy as np
from sklearn.metrics import cohen_kappa_score

from rayscore.eval.values import same_length, sorted_labels
from rayscore.io import is_missing

__all__ = ["cohen_kappa", "rating_counts", "fleiss_kappa", "fleiss_kappa_from_counts", "majority_vote"]

TieBreak = Literal["first", "tie_label", "drop"]


def cohen_kappa(a: Sequence, b: Sequence, labels: Sequence | None = None,
                weights: Literal["linear", "quadratic"] | None = None) -> float:
    """Cohen's kappa of two annotators (scikit-learn); items either left unlabelled are skipped."""
    same_length(a, b)
    pairs = [(x, y) for x, y in zip(a, b) if not is_missing(x) and not is_missing(y)]
    if not pairs:
        raise ValueError("cohen_kappa: no item labelled by both annotators")
    return float(cohen_kappa_score([x for x, _ in pairs], [y for _, y in pairs], labels=labels,
                                   weights=weights))


def rating_counts(ratings: Sequence[Sequence], categories: Sequence | None = None) -> tuple[np.ndarray, list]:
    """Items x raters labels -> (items x categories counts, categories)."""
    categories = list(categories) if categories is not None else sorted_labels(
        {r for row in ratings for r in row if not is_missing(r)})
    index = {c: j for j, c in enumerate(categories)}
    counts = np.zeros((len(ratings), len(categories)), dtype=np.int64)
    for i, row in enumerate(ratings):
        for r in row:
            if is_missing(r):
                continue
            if r not in index:
                raise ValueError(f"rating_counts: item {i} has label {r!r}, not among {categories}")
            counts[i, index[r]] += 1
    return counts, categories


def fleiss_kappa(ratings: Sequence[Sequence], categories: Sequence | None = None) -> float:
    """Fleiss' kappa of a matrix of labels: one row per item, one column per annotator."""
    counts, _ = rating_counts(ratings, categories)
    return fleiss_kappa_from_counts(counts)


def fleiss_kappa_from_counts(counts: np.ndarray | Sequence[Sequence[int]]) -> float:
    """Fleiss' kappa from an items x categories table of how many raters chose each category.

    kappa = (P_bar - P_e) / (1 - P_e), with P_i = (sum_j n_ij^2 - n) / (n (n - 1)) the agreement
    on item i, P_bar their mean, p_j the share of all ratings in category j, P_e = sum_j p_j^2.
    Every item needs the same number n >= 2 of raters. NaN when P_e = 1 (one category only).
    """
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2 or counts.shape[0] == 0:
        raise ValueError("fleiss_kappa: need a non-empty items x categories table")
    raters = counts.sum(axis=1)
    if not np.all(raters == raters[0]) or raters[0] < 2:
        raise ValueError(f"fleiss_kappa: every item needs the same number (>= 2) of ratings, "
                         f"got {sorted(set(raters.astype(int).tolist()))}")
    n = raters[0]
    p_item = ((counts ** 2).sum(axis=1) - n) / (n * (n - 1))
    p_category = counts.sum(axis=0) / counts.sum()
    p_bar, p_e = p_item.mean(), (p_category ** 2).sum()
    if math.isclose(p_e, 1.0):
        return float("nan")
    return float((p_bar - p_e) / (1 - p_e))


def majority_vote(annotations: Sequence[Sequence], tie_break: TieBreak = "first",
                  tie_label: Hashable = 0) -> list:
    """The gold label of each item from several annotators' labels (None entries ignored).

    A tie between the most frequent labels is broken by `tie_break`: "first" takes the tied
    label given first (by the lowest-numbered annotator), "tie_label" returns `tie_label`
    (0, "tie", for pairwise judgements), "drop" returns None. Items with no label give None.
    """
    if tie_break not in ("first", "tie_label", "drop"):
        raise ValueError(f"tie_break must be 'first', 'tie_label' or 'drop', got {tie_break!r}")
    gold = []
    for labels in annotations:
        labels = [x for x in labels if not is_missing(x)]
        if not labels:
            gold.append(None)
            continue
        counts = Counter(labels)
        top = max(counts.values())
        leaders = [x for x in dict.fromkeys(labels) if counts[x] == top]
        if len(leaders) == 1 or tie_break == "first":
            gold.append(leaders[0])
        else:
            gold.append(tie_label if tie_break == "tie_label" else None)
    return gold
