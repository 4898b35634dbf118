"""Labelled records -> TRL preference pairs, exactly as the digital-twin quality design does.

    pairs = records_to_pairs(records)   # chosen = the true label, rejected = the other one

user turn = the record, chosen assistant turn = its true label (正确 or 错误), rejected = the
other label, score_chosen = 1, score_rejected = 0 -- for correct and corrupted records alike.
"""

from __future__ import annotations

import pandas as pd

CORRECT, WRONG = "正确", "错误"
LABELS = (CORRECT, WRONG)
# The third outcome of a quality label: neither automatic answer is certain enough, a person looks.
REVIEW = "待审"


def conversation(record: str, answer: str) -> list[dict]:
    """The (record, answer) conversation a quality reward model scores."""
    return [{"role": "user", "content": record}, {"role": "assistant", "content": answer}]


def records_to_pairs(records: pd.DataFrame, text_column: str = "text",
                     label_column: str = "label") -> pd.DataFrame:
    """One preference pair per labelled record, in the ultrafeedback_binarized shape.

    Extra columns (record_id, error_type, ...) are kept so evaluation can break results down.
    """
    bad = ~records[label_column].isin(LABELS)
    if bad.any():
        first = records.index[bad][0]
        raise ValueError(f"row {first}: {label_column}={records.loc[first, label_column]!r}, "
                         f"expected one of {LABELS}")
    texts, labels = records[text_column].tolist(), records[label_column].tolist()
    other = {CORRECT: WRONG, WRONG: CORRECT}
    pairs = pd.DataFrame({
        "chosen": [conversation(t, lab) for t, lab in zip(texts, labels)],
        "rejected": [conversation(t, other[lab]) for t, lab in zip(texts, labels)],
        "score_chosen": 1.0,
        "score_rejected": 0.0,
    })
    extra = [c for c in records.columns if c not in (text_column, label_column)]
    return pd.concat([pairs, records[extra].reset_index(drop=True)], axis=1)
