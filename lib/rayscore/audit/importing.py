"""Import a labelled file into the store, validated against the batch it was exported from.

    report = import_labels("project-1.json", batch_dir, store, default_who="", now="2026-12-07T12:00:00")

Every problem is named with file and row (or task), and any problem stops the import before the
store is touched (nothing half-imported; fix the file and import it again):
  - an id the batch did not export (unknown id)
  - a label other than 正确 / 错误
  - one record answered twice with different labels, in the file or against the store (conflict)
  - a row or task the file format cannot place (no id)
A cancelled Label Studio annotation is ignored and counted. Importing a file whose bytes were
imported before changes nothing; a row already stored with the same (id, label, who) is counted
as already stored. The report accounts for every exported row: imported now, already stored, or
unanswered (listed by id).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from rayscore.audit.answers import Parsed
from rayscore.audit.labelstudio import read_export
from rayscore.audit.spreadsheet import read_csv
from rayscore.audit.store import LABEL_COLUMNS, LabelStore
from rayscore.data.pairs import LABELS
from rayscore.score.inputs import InputError

PROBLEMS_SHOWN = 50


def file_hash(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_labelled_file(path: str | Path, default_who: str, now: str) -> Parsed:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"labelled: {path} not found")
    if path.suffix == ".json":
        return read_export(path)
    if path.suffix == ".csv":
        return read_csv(path, default_who, now)
    raise InputError(f"labelled: {path} is neither .json (Label Studio export) nor .csv")


def import_labels(path: str | Path, batch_dir: str | Path, store: LabelStore, default_who: str, now: str) -> dict:
    """Validate and append; the import report (also when nothing changed). Raises InputError listing
    every problem when the file cannot be imported as is."""
    path, batch_dir = Path(path), Path(batch_dir)
    exported = pd.read_parquet(batch_dir / "picked.parquet", columns=["record_id", "text"])
    texts = dict(zip(exported["record_id"], exported["text"]))
    digest = file_hash(path)
    earlier = store.find_import(digest)
    base = {"file": str(path), "sha256": digest, "batch": batch_dir.name, "exported": len(texts)}
    if earlier is not None:
        return {**base, "already_imported": str(earlier), "imported": 0, "import_batch": None}

    parsed = read_labelled_file(path, default_who, now)
    stored = store.read()
    problems = list(parsed.problems) + validate(parsed, texts, stored)
    if problems:
        shown = problems[:PROBLEMS_SHOWN]
        more = [f"... and {len(problems) - PROBLEMS_SHOWN} more"] if len(problems) > PROBLEMS_SHOWN else []
        raise InputError(f"{path}: {len(problems)} problem(s), nothing imported:\n" + "\n".join(shown + more))

    known = set(zip(stored["record_id"], stored["label"], stored["who"]))
    new, seen = [], set()
    for a in parsed.answers:
        key = (a.record_id, a.label, a.who)
        if key in known or key in seen:
            continue
        seen.add(key)
        new.append(a)
    import_id = store.next_import_id(digest)
    rows = pd.DataFrame([{"record_id": a.record_id, "text": texts[a.record_id], "label": a.label, "who": a.who,
                          "when": utc_seconds(a.when) or now, "source_file": str(path), "import_batch": import_id,
                          "export_batch": batch_dir.name, "note": a.note} for a in new], columns=LABEL_COLUMNS)
    part = store.append(rows, import_id)

    answered_now = {a.record_id for a in new}
    stored_ids = set(stored["record_id"]) & set(texts)
    unanswered = sorted(set(texts) - answered_now - stored_ids)
    report = {**base, "import_batch": import_id, "part": str(part), "answers": len(parsed.answers),
              "imported": len(new), "already_stored_answers": len(parsed.answers) - len(new),
              "cancelled_annotations": parsed.cancelled,
              "rows": {"labelled_now": len(answered_now), "labelled_before": len(stored_ids - answered_now),
                       "unanswered": len(unanswered)},
              "labels": pd.Series([a.label for a in new], dtype=object).value_counts().to_dict(),
              "unanswered": unanswered}
    assert sum(report["rows"].values()) == len(texts), report["rows"]  # every exported row accounted for
    return report


def validate(parsed: Parsed, texts: dict[str, str], stored: pd.DataFrame) -> list[str]:
    """Unknown ids, labels other than 正确/错误, and conflicting answers, each with where it is."""
    problems = []
    for record_id, where in parsed.present:
        if record_id not in texts:
            problems.append(f"{where}: unknown id {record_id!r} (not exported in this batch)")
    first: dict[str, tuple[str, str]] = {}
    earlier = stored.drop_duplicates(["record_id", "label"]).groupby("record_id")
    earlier = {rid: list(zip(g["label"], g["import_batch"])) for rid, g in earlier}
    for a in parsed.answers:
        if a.record_id not in texts:
            continue  # reported above
        if a.label not in LABELS:
            problems.append(f"{a.where}: label {a.label!r} is not {' or '.join(LABELS)} (id {a.record_id})")
            continue
        if a.record_id in first and first[a.record_id][0] != a.label:
            label, where = first[a.record_id]
            problems.append(f"{a.where}: conflict: id {a.record_id} labelled {a.label} here and {label} at {where}")
            continue
        first.setdefault(a.record_id, (a.label, a.where))
        other = [(label, batch) for label, batch in earlier.get(a.record_id, []) if label != a.label]
        if other:
            problems.append(f"{a.where}: conflict: id {a.record_id} labelled {a.label} here and {other[0][0]} "
                            f"in the store (import {other[0][1]})")
    return problems


def utc_seconds(when: str) -> str:
    """An ISO time as UTC to the second (Label Studio writes ...40.953351Z, a CSV anything), so
    the store holds one format; text that is no ISO time is kept as written."""
    if not when:
        return ""
    try:
        parsed = datetime.fromisoformat(when.strip())
    except ValueError:
        return when
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="seconds")
