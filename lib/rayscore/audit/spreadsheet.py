"""The same rows as a CSV a person fills in (Excel, LibreOffice, Google Sheets), and reading it back.

    write_csv(picked, "batches/b1/tasks.csv")   # id, text, model_label, p_correct, check_flags, why, label, who, note
    parsed = read_csv("tasks.csv")              # Parsed: answers, present, problems

Written as UTF-8 with a byte-order mark, so Excel opens the Chinese text as such; read back as
UTF-8 (with or without the mark), every value as text (an id 007 stays 007). A row whose label
is empty is unanswered, not a problem. Rows are named as a spreadsheet shows them: the header is
row 1, the first record row 2.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from rayscore.audit.answers import Answer, Parsed

CSV_COLUMNS = ["id", "text", "model_label", "p_correct", "check_flags", "why", "label", "who", "note"]
FLAG_SEPARATOR = ";"


def write_csv(picked: pd.DataFrame, path: str | Path) -> Path:
    path = Path(path)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for r in picked.to_dict("records"):
            writer.writerow([r["record_id"], r["text"], r["model_label"], f"{float(r['p_correct']):.4f}",
                             FLAG_SEPARATOR.join(r["check_flags"]), r["why"], "", "", ""])
    return path


def read_csv(path: str | Path, default_who: str = "", when: str = "") -> Parsed:
    path = Path(path)
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        return Parsed(problems=[f"{name}: not UTF-8 (byte {e.start}); save it as 'CSV UTF-8'"])
    rows = csv.DictReader(text.splitlines(keepends=True))
    missing = [c for c in ("id", "label") if c not in (rows.fieldnames or [])]
    if missing:
        return Parsed(problems=[f"{name}: header lacks column(s) {missing}; it has {rows.fieldnames}"])
    parsed = Parsed()
    for line, row in enumerate(rows, 2):
        where = f"{name} row {line}"
        record_id = (row.get("id") or "").strip()
        if not record_id:
            parsed.problems.append(f"{where}: id is empty")
            continue
        parsed.present.append((record_id, where))
        label = (row.get("label") or "").strip()
        if label:
            parsed.answers.append(Answer(record_id, label, (row.get("who") or "").strip() or default_who, when,
                                         (row.get("note") or "").strip(), where))
    return parsed
