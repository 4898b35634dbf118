"""Audited labels as a training source: records (text, label), oversampled by a weight, with a
held-back share never trained on, and rows that contradict a certain check left out and reported.

    source = audited_source("out/audit/labels", weight=3, checks="rayscore.addresses.checks:ADDRESS_CHECKS")
    source.train        # record_id, text, label, source='audited': each audited record `weight` times
    source.held_back    # the records that measure the model on the user's own data (never trained on)
    source.left_out     # record_id, text, label, reason: contradicts_certain_check:<flags> | conflicting_labels
    source.account()    # counts and the audit sets that went in, for metrics.json

One label per record: a record's answers must agree (the import refuses conflicts; a store
assembled otherwise is checked again here, and a record with two answers is left out). A record
labelled 正确 that fails a certain check cannot be right (a certain flag is never raised on a
correct record), so it is never trained on silently: either the check or the person is wrong,
and a person should look at both. The held-back share is chosen by a stable hash of the id, so
a record stays on its side of the line as the store grows, and oversampling never copies a
held-back record into training.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from rayscore.checks import certain_failures, load_check_set
from rayscore.data.pairs import CORRECT, LABELS
from rayscore.io import read_table

logger = logging.getLogger(__name__)

HELD_BACK_SHARE = 0.2
"""Share of audited records (by id hash) kept out of training to measure the model on them."""


@dataclass
class AuditedSource:
    train: pd.DataFrame
    held_back: pd.DataFrame
    left_out: pd.DataFrame
    records: int
    weight: int
    sets: list[dict]
    """The audit sets that went in: per source file and import, its answers."""

    def account(self) -> dict:
        reasons = self.left_out["reason"].str.split(":").str[0].value_counts().to_dict() if len(self.left_out) else {}
        return {"audited_records": self.records, "audited_weight": self.weight,
                "audited_train_rows": len(self.train), "audited_held_back": len(self.held_back),
                "audited_left_out": len(self.left_out), "audited_left_out_reasons": reasons,
                "audited_sets": self.sets}


SET_COLUMNS = ("source_file", "import_batch", "export_batch")


def audit_sets(table: pd.DataFrame) -> list[dict]:
    """One entry per (source file, import, export batch) present in the table, with its answers."""
    columns = [c for c in SET_COLUMNS if c in table.columns]
    if not columns or not len(table):
        return [{"answers": len(table)}] if len(table) else []
    counts = table.fillna({c: "" for c in columns}).groupby(columns, sort=True).size()
    keys = [k if isinstance(k, tuple) else (k,) for k in counts.index]
    return [{**dict(zip(columns, k)), "answers": int(n)} for k, n in zip(keys, counts.to_numpy())]


def held_back(record_id: str, share: float = HELD_BACK_SHARE) -> bool:
    bucket = int(hashlib.sha256(f"audit-holdout\x1f{record_id}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return bucket < share


def audited_source(path: str | Path, weight: int = 1, checks: str | None = None,
                   share: float = HELD_BACK_SHARE) -> AuditedSource:
    """Read the audited-label dataset (the audit directory's labels/, or any table with record_id,
    text, label) and split it as the module docstring says."""
    if weight < 1:
        raise ValueError(f"data.audited_weight: must be >= 1, got {weight}")
    table = read_table(str(path))
    missing = [c for c in ("record_id", "text", "label") if c not in table.columns]
    if missing:
        raise ValueError(f"data.audited_path: {path} lacks column(s) {missing}; columns are {list(table.columns)}")
    bad = ~table["label"].isin(LABELS)
    if bad.any():
        first = table.index[bad][0]
        raise ValueError(f"data.audited_path: {path}: row {first}: label {table.loc[first, 'label']!r} is not one of "
                         f"{LABELS}")
    table = table.assign(record_id=table["record_id"].astype(str))
    answers = table.groupby("record_id")["label"].nunique()
    conflicting = set(answers[answers > 1].index)
    records = table.drop_duplicates("record_id", keep="first")[["record_id", "text", "label"]].reset_index(drop=True)
    left = [records[records["record_id"].isin(conflicting)].assign(reason="conflicting_labels")]
    records = records[~records["record_id"].isin(conflicting)]

    if checks:
        check_set = load_check_set(checks)
        flags = [r.flags for r in check_set.run(records["text"].tolist())]
        certain = [",".join(certain_failures(check_set, f)) for f in flags]
        contradicts = (records["label"] == CORRECT).to_numpy() & pd.Series(certain).astype(bool).to_numpy()
        left.append(records[contradicts].assign(
            reason=[f"contradicts_certain_check:{c}" for c, x in zip(certain, contradicts) if x]))
        records = records[~contradicts]
    left_out = pd.concat(left, ignore_index=True)
    if len(left_out):
        logger.warning("%s: %d audited records left out of training: %s", path, len(left_out),
                       left_out["reason"].value_counts().to_dict())

    hold = records["record_id"].map(lambda i: held_back(i, share)).astype(bool)
    train = records[~hold].assign(source="audited")
    train = train.loc[train.index.repeat(weight)].reset_index(drop=True)
    return AuditedSource(train=train, held_back=records[hold].assign(source="audited").reset_index(drop=True),
                         left_out=left_out, records=int(table["record_id"].nunique()), weight=weight,
                         sets=audit_sets(table))
