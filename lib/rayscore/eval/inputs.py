"""The evaluate job's rows: the tables read and joined on the id, label_map applied, and each
cell read as a metric family needs it (a number, a label, a verdict, a text), with an account of
what was missing or could not be read.

    frame, account = load_rows(cfg)                  # one row per item; the join's account
    frame = map_labels(frame, cfg)
    values, account = read_values(frame[cfg.prediction_column].tolist(), "number", cfg, parse=True)

Ids compare as text (7 matches "7" and 7.0); a value that is null, NaN or blank is missing, and
predictions may be judge text read with the judge's own parsers (`prediction_parser`).
"""

from __future__ import annotations

import logging
import unicodedata

import numpy as np
import pandas as pd

from rayscore.eval.config import KINDS, EvaluateJobConfig, Kind
from rayscore.eval.judge_text import parse_pairwise, parse_score
from rayscore.io import is_missing, read_table

__all__ = ["load_rows", "needed_columns", "map_labels", "read_values", "plain_value", "text_or_empty"]

logger = logging.getLogger(__name__)

_EXAMPLES = 5


# --- reading ---------------------------------------------------------------------------------

def load_rows(cfg: EvaluateJobConfig) -> tuple[pd.DataFrame, dict]:
    """One row per item: the predictions table, or gold and predictions outer-joined on the id."""
    preds = read_table(cfg.predictions)
    if cfg.gold is None:
        _require_columns(preds, [c for c in needed_columns(cfg) if c != cfg.id_column], cfg.predictions)
        return preds.reset_index(drop=True), {"tables": 1, "rows": len(preds)}
    gold = read_table(cfg.gold)
    for table, path in ((gold, cfg.gold), (preds, cfg.predictions)):
        _require_columns(table, [cfg.id_column], path)
        _require_unique_ids(table, cfg.id_column, path)
    # A configured column comes from the gold table when it is there, else from the predictions.
    wanted = [c for c in needed_columns(cfg) if c != cfg.id_column]
    from_gold = [c for c in wanted if c in gold.columns and c not in (cfg.prediction_column, cfg.swap_column)]
    from_preds = [c for c in wanted if c not in from_gold]
    _require_columns(preds, from_preds, f"{cfg.predictions} (or {cfg.gold})")
    left = gold[[cfg.id_column, *from_gold]].assign(**{cfg.id_column: gold[cfg.id_column].map(_id_text)})
    right = preds[[cfg.id_column, *from_preds]].assign(**{cfg.id_column: preds[cfg.id_column].map(_id_text)})
    merged = left.merge(right, on=cfg.id_column, how="outer", indicator=True, sort=False)
    side = merged.pop("_merge")
    report = {"tables": 2, "gold_rows": len(gold), "prediction_rows": len(preds),
              "matched": int((side == "both").sum()), "gold_only": int((side == "left_only").sum()),
              "predictions_only": int((side == "right_only").sum()),
              "gold_only_ids": merged.loc[side == "left_only", cfg.id_column].head(20).tolist(),
              "predictions_only_ids": merged.loc[side == "right_only", cfg.id_column].head(20).tolist()}
    if report["gold_only"] or report["predictions_only"]:
        logger.warning("join on %s: %d matched, %d gold ids without a prediction, %d predictions without gold",
                       cfg.id_column, report["matched"], report["gold_only"], report["predictions_only"])
    return merged.reset_index(drop=True), report


def needed_columns(cfg: EvaluateJobConfig) -> list[str]:
    """Every column the configured families read, once each."""
    columns = [cfg.prediction_column]
    if any(KINDS[f][1] for f in cfg.metrics):
        columns += cfg.gold_columns()
    if cfg.swap_column:
        columns.append(cfg.swap_column)
    if "length_control" in cfg.metrics:
        columns.append(cfg.instruction_column)
    if cfg.group_by:
        columns.append(cfg.group_by)
    if cfg.id_column:
        columns.append(cfg.id_column)
    return list(dict.fromkeys(columns))


def _require_columns(table: pd.DataFrame, columns: list[str], where: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{where}: no column {', '.join(map(repr, missing))} "
                         f"(columns: {', '.join(map(str, table.columns))}); set the *_column keys")


def _require_unique_ids(table: pd.DataFrame, id_column: str, path: str) -> None:
    ids = table[id_column].map(_id_text)
    duplicated = ids[ids.duplicated(keep=False)]
    if not duplicated.empty:
        raise ValueError(f"{path}: {duplicated.nunique()} ids appear more than once in {id_column!r} "
                         f"(e.g. {', '.join(duplicated.unique()[:5])}); a join needs unique ids")


def _id_text(value) -> str | None:
    """Ids compare as text, so 7 in one file matches "7" (or 7.0) in the other."""
    value = plain_value(value)
    return None if value is None else str(value)


# --- labels ----------------------------------------------------------------------------------

def map_labels(frame: pd.DataFrame, cfg: EvaluateJobConfig) -> pd.DataFrame:
    """Apply label_map to gold, annotator, prediction and swap columns; other values stay."""
    columns = [c for c in [*cfg.gold_columns(), cfg.prediction_column, cfg.swap_column] if c and c in frame]
    frame = frame.copy()
    for column in columns:
        frame[column] = pd.Series([_map_value(plain_value(v), cfg.label_map) for v in frame[column]],
                                  index=frame.index, dtype=object)
    return frame


def _map_value(value, label_map: dict):
    if value is None or not label_map:
        return value
    return label_map.get(str(value), value)


# --- values ----------------------------------------------------------------------------------

def read_values(values: list, kind: Kind, cfg: EvaluateJobConfig, parse: bool) -> tuple[list, dict]:
    """Values as the family needs them (None where missing or unreadable) and the account."""
    out, missing, unreadable = [], 0, []
    for value in values:
        value = plain_value(value)
        if value is None:
            missing += 1
            out.append(None)
            continue
        read = _read(value, kind, cfg, parse)
        if read is None:
            unreadable.append(value)
        out.append(read)
    return out, {"missing": missing, "unparseable": len(unreadable),
                 "examples": [str(v)[:80] for v in unreadable[:_EXAMPLES]]}


def _read(value, kind: Kind, cfg: EvaluateJobConfig, parse: bool):
    if parse and cfg.prediction_parser == "score":
        valid = tuple(cfg.score_range) if cfg.score_range is not None else None
        value = parse_score(str(value), valid_range=valid).score
        value = None if value is None else plain_value(value)
    elif parse and cfg.prediction_parser == "verdict":
        value = parse_pairwise(str(value)).verdict
    if value is None:
        return None
    if kind == "number":
        return _number(value)
    if kind == "verdict":
        number = _number(value)
        return int(number) if number in (0, 1, 2) else None
    if kind == "text":
        return value if isinstance(value, str) else str(value)
    return _label(value, cfg.labels)


def _label(value, labels: list | None):
    """A class label: numeric text as a number ("1" and 1 are one class); with `labels` set, a
    value outside them is unreadable rather than a new class."""
    if isinstance(value, str):
        number = _number(value)
        if number is not None:
            value = int(number) if number.is_integer() else number
    if labels is not None and value not in labels:
        return None
    return value


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(unicodedata.normalize("NFKC", str(value)).strip())
    except ValueError:
        return None


def plain_value(value):
    """A cell as a plain Python value: None for null / NaN / blank text, whole floats as ints."""
    if isinstance(value, np.generic):
        value = value.item()
    if is_missing(value):
        return None
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def text_or_empty(value) -> str:
    value = plain_value(value)
    return "" if value is None else str(value)
