"""How the metrics read their inputs: missing values (None, NaN) as NaN floats, equal lengths,
ratios with nothing to divide, labels in a stable order.

    from rayscore.eval.values import floats, ratio, same_length
    floats([1, None, "2.5"])   # array([1. , nan, 2.5])
    ratio(3, 0)                # None
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rayscore.io import is_missing

__all__ = ["floats", "same_length", "ratio", "sorted_labels"]


def floats(values: Sequence) -> np.ndarray:
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":  # a judge's million scores: no list
        return values.astype(float)
    return np.array([np.nan if is_missing(v) else float(v) for v in values], dtype=float)


def same_length(a: Sequence, b: Sequence) -> None:
    if len(a) != len(b):
        raise ValueError(f"lengths differ: {len(a)} gold/first values but {len(b)} predicted/second")


def ratio(num: float, den: float) -> float | None:
    return float(num) / float(den) if den else None


def sorted_labels(labels: set) -> list:
    try:
        return sorted(labels)
    except TypeError:  # mixed types: a stable order by text
        return sorted(labels, key=str)
