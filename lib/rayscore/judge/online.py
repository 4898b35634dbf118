"""Judging a few items at a time, in memory: what Serve's POST /v1/judge runs.

    judge = OnlineJudge(load_judge_spec("configs/judge/pairwise_http_zh.yaml"))
    judge.required, judge.optional     # item fields: question, answer or answer_1/answer_2, reference
    judge.judge([{"question": "...", "answer_1": "...", "answer_2": "..."}])   # one dict per item

A judge is configured once, in a judge job's YAML: mode, template, rubric, score range, tie margin,
policy and backend (http endpoint, or a local causal LM loaded here, in the calling process). The
prompts, the backends and the parsing are rayscore.judge.core's, as in the judge job, so a
judgement online equals the job's on the same item (judge_fingerprint included). Items carry the
template's field names; the YAML's input, output and *_column keys are not used.
"""

from __future__ import annotations

from rayscore.io import json_value
from rayscore.judge.core import JudgeSpec, judge_items, load_judge_spec, open_backend

__all__ = ["OnlineJudge", "load_judge_spec"]


class OnlineJudge:
    """Loads the backend once (a local model, or an http client); `judge(items)` blocks until done."""

    def __init__(self, spec: JudgeSpec):
        self.cfg = spec
        fields = spec.item_fields()
        self.required = spec.required_fields()
        self.optional = tuple(f for f in fields if f not in self.required)
        self._backend = open_backend(spec)

    def judge(self, items: list[dict]) -> list[dict]:
        """One judgement per item, in order: the job's judgement columns (score and parse_ok, or both
        orders' verdicts, consistent and final, and judge_fingerprint), null where there is no value."""
        judged = judge_items(self.cfg, self._backend, items)
        return json_value(judged.to_dict(orient="records"))
