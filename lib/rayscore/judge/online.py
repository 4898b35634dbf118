"""The judge job's judging for a few items at a time, in memory: what Serve's POST /v1/judge runs.

    judge = OnlineJudge(load_judge_config("configs/judge/pairwise_http_zh.yaml"))
    judge.required, judge.optional     # item fields: question, answer or answer_1/answer_2, reference
    judge.judge([{"question": "...", "answer_1": "...", "answer_2": "..."}])   # one dict per item

A judge is configured once, in a judge job's YAML: mode, template, rubric, score range, tie margin,
policy and backend (http endpoint, or a local causal LM loaded here, in the calling process). The
prompts, the backends and the parsing are the job's own functions, so a judgement online equals
the job's on the same item. Items carry the template's field names; the YAML's input, output and
*_column keys are not used.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from rayscore.config import load_config
from rayscore.io import absolute, json_value
from rayscore.judge.job import (
    JudgeJobConfig, build_prompts, empty_outputs, parse_outputs, prompt_slots, store_results)
from rayscore.judge.prompts import load_template, placeholders, required_fields

_UNUSED = "unused-online"  # the job requires them; judging in memory reads and writes no table


def load_judge_config(path: str) -> JudgeJobConfig:
    """A judge job's YAML, checked as the job checks it; local model paths made absolute here."""
    cfg = load_config(JudgeJobConfig, ["--config", path, f"input={_UNUSED}", f"output_dir={_UNUSED}"])
    return replace(cfg, local=replace(cfg.local, model_path=absolute(cfg.local.model_path, names=True)))


class OnlineJudge:
    """Loads the backend once (a local model, or an http client); `judge(items)` blocks until done."""

    def __init__(self, cfg: JudgeJobConfig):
        # Items are keyed by the template's own field names.
        self.cfg = replace(cfg, question_column="question", answer_column="answer", answer_1_column="answer_1",
                           answer_2_column="answer_2", id_column=None, passthrough_columns=[],
                           reference_column="reference" if cfg.reference_column else None)
        self.template = load_template(cfg.template)
        fields = [f for f in self.cfg.field_columns() if f in placeholders(self.template)]
        # A configured reference is required, as the job requires it (build_prompts).
        needed = required_fields(self.template) | {"reference"}
        self.required = tuple(f for f in fields if f in needed)
        self.optional = tuple(f for f in fields if f not in needed)
        self._complete = self._backend()

    def _backend(self):
        if self.cfg.backend == "http":
            from rayscore.judge.http_client import HttpJudgeClient

            return HttpJudgeClient(self.cfg.http).complete_many
        from rayscore.judge.local import LocalGenerator

        return LocalGenerator(self.cfg.local).generate

    def judge(self, items: list[dict]) -> list[dict]:
        """One judgement per item, in order: the job's output columns (score and parse_ok, or both
        orders' verdicts, consistent and final), with null where there is no value."""
        frame = pd.DataFrame(items, columns=list(self.cfg.field_columns().values()))
        prompts, input_errors = build_prompts(frame, self.cfg, self.template)
        slots = prompt_slots(prompts)
        results = self._complete([prompts[name][i] for name, i in slots]) if slots else []
        generated = store_results(empty_outputs(prompts), slots, results)
        judged = parse_outputs(generated, input_errors, self.cfg)
        return json_value(judged.to_dict(orient="records"))
