"""Pointwise labelled rows for classifiers and regressors: read, validate (bad rows set aside with a
reason), split.

    rows, quarantined = load_labels(spec, task="classification", num_labels=6)
    train, evaluation = split_rows(rows, spec.eval_fraction, spec.seed)
    write_quarantine(quarantined, out_dir / "quarantine", name="rows")   # quarantine/rows.jsonl

A row is a text (spec.text_column) and a label (spec.label_column): a class index 0..N-1 for
classification, any finite number for regression. Every valid row comes out as `text`, `label`
(int or float) plus its other columns.

Quarantine reasons: empty_text (missing, empty or not a string), bad_label (missing, not a finite
number, or for classification not a whole number in 0..num_labels-1), duplicate_text (the same
text seen before in the file: it would otherwise train and evaluate on one row twice).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from rayscore.data.split import SplitSpec
from rayscore.io import read_table

Task = Literal["classification", "regression"]


@dataclass
class LabelDataSpec(SplitSpec):
    """Where the labelled rows come from and how they are split."""

    train_path: str = ""
    """Parquet file/dir, JSONL, JSON or CSV with a text and a label column."""
    text_column: str = "text"
    """Column holding the text to classify or score."""
    label_column: str = "label"
    """Column holding the label: a class index 0..N-1, or a number for regression."""


def load_labels(spec: LabelDataSpec, task: Task, num_labels: int,
                path: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(valid rows with `text` and `label`, quarantined rows with `reason`). A file without the
    text or label column is a data error naming the file and the columns it has."""
    path = path or spec.train_path
    table = read_table(path)
    if spec.max_rows is not None:
        table = table.head(spec.max_rows)
    missing = [c for c in (spec.text_column, spec.label_column) if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: needs column(s) {missing} (data.text_column / data.label_column); "
                         f"columns are {list(table.columns)}")
    texts, labels = table[spec.text_column].tolist(), table[spec.label_column].tolist()
    reasons, values, seen = [], [], set()
    for text, label in zip(texts, labels):
        value = label_value(label, task, num_labels)
        reason = row_problem(text, value)
        if reason is None and text in seen:
            reason = "duplicate_text"
        if reason is None:
            seen.add(text)
        reasons.append(reason)
        values.append(value)
    ok = np.array([r is None for r in reasons], dtype=bool)
    rest = [c for c in table.columns if c not in (spec.text_column, spec.label_column, "text", "label")]
    rows = table.loc[ok, rest].reset_index(drop=True)
    rows.insert(0, "text", [t for t, good in zip(texts, ok) if good])
    kept = [v for v, good in zip(values, ok) if good]
    rows.insert(1, "label", pd.array(kept, dtype="int64" if task == "classification" else "float64"))
    bad = table[~ok].assign(reason=[r for r in reasons if r is not None]).reset_index(drop=True)
    return rows, bad


def as_conversation(text: str) -> list[dict]:
    """The one-turn conversation a text is read as, in training (train_classifier) and scoring
    (the classifier scorer): through an encoder's chat template, [CLS] text [SEP]."""
    return [{"role": "user", "content": text}]


def label_value(label, task: Task, num_labels: int) -> int | float | None:
    """The label as a class index (classification) or a float (regression); None if unusable."""
    if isinstance(label, str):
        try:
            label = float(label.strip())
        except ValueError:
            return None
    if isinstance(label, bool) or not isinstance(label, (int, float, np.integer, np.floating)):
        return None
    value = float(label)
    if not math.isfinite(value):
        return None
    if task == "regression":
        return value
    return int(value) if value.is_integer() and 0 <= value < num_labels else None


def row_problem(text, value) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return "empty_text"
    if value is None:
        return "bad_label"
    return None


def split_rows(rows: pd.DataFrame, eval_fraction: float, seed: int,
               key: str = "text") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deterministic split by a hash of each row's `key` column (the text; a pair's prompt): rows
    with the same key never land on both sides, and a row's side does not depend on the others."""
    bucket = np.array([int(hashlib.md5((t + str(seed)).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
                       for t in rows[key]])
    is_eval = bucket < eval_fraction
    return rows[~is_eval].reset_index(drop=True), rows[is_eval].reset_index(drop=True)
