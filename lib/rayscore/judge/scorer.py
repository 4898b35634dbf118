"""The judge as a scorer kind: what runs the judge job on score_batch's chunked, exactly-once pipeline.

    spec = JudgeScorerSpec(judge=JudgeSpec(...), columns={"question": "q", "answer": "a"})
    scorer = spec.build()                 # opens the backend once per actor (HTTP client or local LM)
    judged = scorer.score(frame)          # frame holds spec.input_columns(); returns spec.output_columns()

A JudgeScorerSpec is a ScorerSpec (kind "judge"), so rayscore.score.job treats it as any
other scorer: it reads the input in chunks, quarantines rows with an unusable field, hands the
rest to `score` a slice at a time and commits each chunk atomically. A row whose request failed
after its retries has `error` set: `failed_rows` (rayscore.score.contract) tells the worker to
write it to the chunk's errors part instead of its output part, so a rerun sends only those rows
again. The output fingerprint is the judge's identity (judge_identity) and the column mapping,
not the endpoint's address or the concurrency: a rerun with more actors or another URL for the
same model resumes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rayscore.judge.core import JudgeSpec, judge_identity, judge_items, open_backend
from rayscore.score.contract import Scorer
from rayscore.score.scorers import KindFields, ScorerSpec

__all__ = ["JudgeScorerSpec", "JudgeScorer"]


@dataclass
class JudgeScorerSpec(ScorerSpec):
    """A judge over table columns: `columns` maps each item field the judge reads to its column."""

    kind: str = "judge"
    judge: JudgeSpec = field(default_factory=JudgeSpec)
    """The judge (rayscore.judge.core)."""
    columns: dict[str, str] = field(default_factory=dict)
    """Item field (question, answer, answer_1, answer_2, reference) -> input column."""
    keep_prompts: bool = False
    """Also write the rendered prompts."""

    def check(self) -> list[str]:
        return self.judge.check()

    def fields(self) -> KindFields:
        required = self.judge.required_fields()
        return KindFields(required, tuple(f for f in self.judge.item_fields() if f not in required))

    def column(self, name: str) -> str:
        return self.columns[name]

    def output_columns(self) -> tuple[str, ...]:
        return self.judge.output_columns(self.keep_prompts)

    def has_checks(self) -> bool:
        return False

    def identity(self) -> dict:
        return {"judge": judge_identity(self.judge), "columns": self.columns, "keep_prompts": self.keep_prompts}

    def build(self, device: str | None = None) -> JudgeScorer:
        return JudgeScorer(self)


class JudgeScorer(Scorer):
    """One per actor: the backend opened once; score(frame) judges a slice of a chunk."""

    def __init__(self, spec: JudgeScorerSpec):
        self.spec = spec
        self.backend = open_backend(spec.judge)
        self.fingerprint = spec.judge.fingerprint
        self.input_columns = tuple(spec.input_columns())
        self.output_columns = spec.output_columns()
        # A judgement that did not parse (or was cut off) has no score: a value, not a failed score.
        self.nullable_columns = self.output_columns
        # A local backend is a bound method of its model runner, which knows its precision; an
        # endpoint's is the endpoint's own business.
        self.precision = getattr(getattr(self.backend, "__self__", None), "precision", spec.judge.backend)

    def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        fields = {name: self.spec.columns[name] for name in self.spec.judge.item_fields()}
        values = {name: frame[column].tolist() if column in frame else [None] * len(frame)
                  for name, column in fields.items()}
        items = [dict(zip(values, row)) for row in zip(*values.values())]
        judged = judge_items(self.spec.judge, self.backend, items, self.spec.keep_prompts, fields)
        # Text columns typed as strings even when all null, so every part has the same schema.
        for column in judged.columns:
            if judged[column].dtype == object:
                judged[column] = judged[column].astype("string")
        judged.index = frame.index
        return judged

    @staticmethod
    def failed_rows(judged: pd.DataFrame) -> np.ndarray:
        """Rows to send again: an error on an order that was sent (a request that failed after its
        retries, a generation that raised). An error on a prompt never sent (prompt_too_long, a
        template that cannot be filled) would recur: such a row is kept, with its error, as judged."""
        failed = judged["error"].notna().to_numpy(dtype=bool, copy=True)
        for sfx in ("",) if "attempts" in judged else ("_ab", "_ba"):
            never_sent = judged[f"error{sfx}"].notna() & (judged[f"attempts{sfx}"] == 0)
            failed &= ~never_sent.to_numpy(dtype=bool)
        return failed

    @staticmethod
    def retries(judged: pd.DataFrame) -> int:
        """Requests sent beyond the first, over the judged rows (each order of a pair)."""
        return int(sum((judged[c] - 1).clip(lower=0).sum() for c in judged.columns if c.startswith("attempts")))
