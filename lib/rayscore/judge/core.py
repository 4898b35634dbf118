"""The judge itself: a typed JudgeSpec and the plain functions that turn items into judgements.

    spec = load_judge_spec("configs/judge/pairwise_http_zh.yaml")     # or JudgeSpec(mode=..., ...)
    backend = open_backend(spec)                 # an HTTP client, or a local causal LM loaded here
    frame = judge_items(spec, backend, [{"question": q, "answer_1": a, "answer_2": b}])
    frame.loc[0, "final"], frame.loc[0, "judge_fingerprint"]

    prompts, input_errors = build_prompts(spec, items)            # the steps judge_items takes
    generated = generate(backend, prompts)
    frame = parse_judgements(spec, generated, input_errors)

Items are dicts keyed by the template's field names (question, answer or answer_1 / answer_2,
reference); the rubric comes from the spec. Everything that judges imports this module: the judge
job's pipeline scorer (judge/scorer.py), Serve's POST /v1/judge (judge/online.py) and the augment
job; none of them imports another, so a judgement is the same wherever it is made.

- pointwise: `score`, `parse_ok`, `parse_problem`, `matched`, and `raw`, `error`, `attempts`.
- pairwise: both orders, (A, B) and (B, A): `verdict_ab`, `verdict_ba` (as written),
  `verdict_ba_corrected`, `consistent`, `final` (by `policy`), `reason`, `explanation_ab/_ba`,
  and per order `raw_`, `error_`, `attempts_`, `parse_ok_`, `parse_problem_`; `error` is set when
  either order failed.
- A completion that ended because of the token limit (finish_reason "length": an HTTP endpoint's
  max_tokens, the local LM's max_new_tokens) is cut short: it is never read, even when its text
  holds a number (`正确性得分：18分` cut before the other sub-scores), and gets
  parse_problem "truncated".
- `judge_fingerprint` on every row: the judge's identity (judge_identity: backend, model, template
  hash, rubric, score range, sampling settings), as scored rows carry their model's fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Literal, Protocol

import pandas as pd
import yaml

from rayscore.config import interval_problems, parse_config, range_problems
from rayscore.eval.judge_text import parse_pairwise, parse_score
from rayscore.eval.verdicts import Policy, combine
from rayscore.io import is_missing, is_uri
from rayscore.judge.http_client import HttpJudgeSpec
from rayscore.judge.local import LocalJudgeSpec
from rayscore.judge.prompts import TemplateError, load_template, placeholders, render, required_fields

__all__ = ["JudgeSpec", "Mode", "Backend", "TRUNCATED", "load_judge_spec", "open_backend", "judge_items",
           "build_prompts", "generate", "parse_judgements", "judge_identity", "cell_text",
           "POINTWISE_COLUMNS", "PAIRWISE_COLUMNS"]

Mode = Literal["pointwise", "pairwise"]
Backend = Literal["http", "local"]
TRUNCATED = "truncated"
"""parse_problem of a completion cut off by the token limit."""

POINTWISE_COLUMNS = ("raw", "error", "attempts", "score", "parse_ok", "parse_problem", "matched",
                     "judge_fingerprint")
PAIRWISE_COLUMNS = ("raw_ab", "raw_ba", "error_ab", "error_ba", "error", "attempts_ab", "attempts_ba",
                    "parse_ok_ab", "parse_ok_ba", "parse_problem_ab", "parse_problem_ba", "verdict_ab",
                    "verdict_ba", "verdict_ba_corrected", "consistent", "final", "reason",
                    "explanation_ab", "explanation_ba", "judge_fingerprint")
"""The judgement columns of each mode, in order (the prompts, when kept, come after)."""


@dataclass
class JudgeSpec:
    """What a judge is: how it is asked (mode, template, rubric), how its answer is read (score
    range, tie margin, policy) and who answers (backend)."""

    mode: Mode = "pointwise"
    """pointwise: a score per answer; pairwise: which of two answers is better, in both orders."""
    template: str = "score10_zh"
    """Prompt template: a shipped name (configs/judge/templates/<name>.txt) or a file path."""
    rubric: str | None = None
    """Text for the template's {rubric} placeholder (scoring points); null = none."""
    score_range: list[float] | None = None
    """[low, high] a score must lie in (pointwise; JudgeLM-style pair scores); null = any."""
    tie_margin: float = 0.0
    """Pairwise outputs given as two scores: a difference within this is a tie (JudgeLM's T)."""
    policy: Policy = "tie"
    """Final verdict of an inconsistent pair: "tie", or "first" (the (A, B) verdict)."""
    reference: bool = False
    """Reference-based judging: every item must carry a `reference` (the job sets it from reference_column)."""
    backend: Backend = "http"
    """http: an OpenAI-compatible endpoint; local: a causal LM."""
    http: HttpJudgeSpec = field(default_factory=HttpJudgeSpec)
    """The endpoint (backend http)."""
    local: LocalJudgeSpec = field(default_factory=LocalJudgeSpec)
    """The local model (backend local)."""

    def check(self) -> list[str]:
        problems = []
        if self.backend == "http" and not self.http.model:
            problems.append("http.model: required for backend=http (the model name the endpoint serves)")
        if self.backend == "local" and not self.local.model_path:
            problems.append("local.model_path: required for backend=local (a causal LM directory)")
        problems += interval_problems(self, "score_range")
        problems += range_problems(self, tie_margin=">= 0")
        return problems + self.template_problems()

    def template_problems(self) -> list[str]:
        try:
            used = placeholders(self.template_text)
        except TemplateError as e:
            return [f"template: {e}"]
        needed = {"answer"} if self.mode == "pointwise" else {"answer_1", "answer_2"}
        problems = [f"template: {self.template!r} has no {{{name}}} placeholder, needed for mode={self.mode}"
                    for name in sorted(needed - used)]
        if self.reference and "reference" not in used:
            problems.append(f"reference_column: set, but template {self.template!r} has no {{reference}}")
        if self.rubric and "rubric" not in used:
            problems.append(f"rubric: set, but template {self.template!r} has no {{rubric}}")
        return problems

    @cached_property
    def template_text(self) -> str:
        return load_template(self.template)

    def item_fields(self) -> tuple[str, ...]:
        """The item fields this judge reads (those its template uses): question, answer or
        answer_1 / answer_2, and reference when reference-based."""
        names = ("question",) + (("answer",) if self.mode == "pointwise" else ("answer_1", "answer_2"))
        names += ("reference",) if self.reference else ()
        used = placeholders(self.template_text)
        return tuple(n for n in names if n in used)

    def required_fields(self) -> tuple[str, ...]:
        """Fields an item must have: the template's required ones, and a configured reference."""
        needed = required_fields(self.template_text) | {"reference"}
        return tuple(f for f in self.item_fields() if f in needed)

    def prompt_names(self) -> tuple[str, ...]:
        return ("prompt",) if self.mode == "pointwise" else ("prompt_ab", "prompt_ba")

    def output_columns(self, keep_prompts: bool = False) -> tuple[str, ...]:
        columns = POINTWISE_COLUMNS if self.mode == "pointwise" else PAIRWISE_COLUMNS
        return columns + (self.prompt_names() if keep_prompts else ())

    @cached_property
    def fingerprint(self) -> str:
        """12 hex digits of judge_identity."""
        return hashlib.sha256(json.dumps(judge_identity(self), sort_keys=True).encode()).hexdigest()[:12]


def judge_identity(spec: JudgeSpec) -> dict:
    """What makes two judgements comparable: the model, the exact prompt (template text hash,
    rubric), how the answer is read and the sampling settings. Not the endpoint's address, the
    concurrency or the retries: the same model behind another URL is the same judge."""
    identity = {"mode": spec.mode, "backend": spec.backend,
                "template": spec.template,
                "template_sha256": hashlib.sha256(spec.template_text.encode()).hexdigest()[:16],
                "rubric": spec.rubric, "score_range": spec.score_range, "tie_margin": spec.tie_margin,
                "policy": spec.policy, "reference": spec.reference}
    if spec.backend == "http":
        h = spec.http
        identity.update(model=h.model, temperature=h.temperature, max_tokens=h.max_tokens,
                        system_prompt=h.system_prompt)
    else:
        from rayscore.models import model_fingerprint

        loc = spec.local
        # A hub name (no local directory) is its own identity: its weights are not here to hash.
        # A URI's weights are: model_fingerprint reads its cached copy.
        hashed = Path(loc.model_path).is_dir() or is_uri(loc.model_path)
        model = model_fingerprint(loc.model_path) if hashed else loc.model_path
        identity.update(model=model, model_path=loc.model_path, sampling="greedy",
                        max_new_tokens=loc.max_new_tokens, max_prompt_tokens=loc.max_prompt_tokens,
                        dtype=loc.dtype, system_prompt=loc.system_prompt, chat_template=loc.chat_template)
    return identity


def load_judge_spec(path: str) -> JudgeSpec:
    """The JudgeSpec of a judge job's YAML (its mode, template, rubric, ..., backend keys; the job's
    own keys (input, output, columns) are the job's to check). reference_column set = reference-based."""
    from rayscore.io import absolute

    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of keys, got {type(data).__name__}")
    names = {f.name for f in fields(JudgeSpec)}
    picked = {k: v for k, v in data.items() if k in names}
    picked["reference"] = bool(data.get("reference_column"))
    spec = parse_config(JudgeSpec, [(picked, path)])
    spec.local.model_path = absolute(spec.local.model_path, names=True)
    return spec


# --- backends --------------------------------------------------------------------------------

class Outcome(Protocol):
    """One prompt's result (http_client.Completion, local.Generation)."""

    text: str | None
    error: str | None
    attempts: int
    finish_reason: str | None


class JudgeBackend(Protocol):
    def __call__(self, prompts: list[str]) -> list[Outcome]: ...


def open_backend(spec: JudgeSpec) -> JudgeBackend:
    """The callable that answers prompts: an HTTP client (spec.http.max_concurrency requests in
    flight) or the local causal LM, loaded here, once."""
    if spec.backend == "http":
        from rayscore.judge.http_client import HttpJudgeClient

        return HttpJudgeClient(spec.http).complete_many
    from rayscore.judge.local import LocalGenerator

    return LocalGenerator(spec.local).generate


# --- the steps -------------------------------------------------------------------------------

def judge_items(spec: JudgeSpec, backend: JudgeBackend, items: list[dict], keep_prompts: bool = False,
                names: dict[str, str] | None = None) -> pd.DataFrame:
    """One judgement row per item, in order (spec.output_columns()); `names` as in build_prompts."""
    prompts, input_errors = build_prompts(spec, items, names)
    frame = parse_judgements(spec, generate(backend, prompts), input_errors)
    if keep_prompts:
        for name, texts in prompts.items():
            frame[name] = texts
    return frame


def cell_text(value: object) -> str | None:
    """A cell as prompt text; None, NaN and blank strings are missing."""
    if is_missing(value):
        return None
    text = str(value)
    return text if text.strip() else None


def build_prompts(spec: JudgeSpec, items: list[dict],
                  names: dict[str, str] | None = None) -> tuple[dict[str, list], list[str | None]]:
    """{"prompt" or "prompt_ab"/"prompt_ba": [text or None]} and per item an input error or None
    (a missing required field, named as in `names` (field -> input column) when given, or a
    template that cannot be filled)."""
    names = names or {}
    template, used = spec.template_text, spec.item_fields()
    needed = set(spec.required_fields())
    prompts: dict[str, list] = {name: [] for name in spec.prompt_names()}
    errors: list[str | None] = []
    for item in items:
        values = {name: cell_text(item.get(name)) for name in used}
        empty = [names.get(name, name) for name, v in values.items() if v is None and name in needed]
        error = f"missing_field: {', '.join(empty)}" if empty else None
        rendered: dict[str, str] = {}
        if error is None:
            try:
                rendered = _render(spec, template, values)
            except TemplateError as e:
                error = f"template: {e}"
        errors.append(error)
        for name in prompts:
            prompts[name].append(rendered.get(name))
    return prompts, errors


def _render(spec: JudgeSpec, template: str, values: dict) -> dict[str, str]:
    if spec.mode == "pointwise":
        return {"prompt": render(template, rubric=spec.rubric, **values)}
    swapped = {**values, "answer_1": values.get("answer_2"), "answer_2": values.get("answer_1")}
    return {"prompt_ab": render(template, rubric=spec.rubric, **values),
            "prompt_ba": render(template, rubric=spec.rubric, **swapped)}


def generate(backend: JudgeBackend, prompts: dict[str, list]) -> dict[str, list]:
    """For each prompt column `prompt<sfx>`: `raw<sfx>`, `error<sfx>`, `attempts<sfx>`,
    `finish<sfx>` lists. Every prompt of every column goes out in one call, so both orders of a
    pair share the backend's concurrency; None prompts (failed items) are not sent."""
    slots = [(name, i) for name, texts in prompts.items() for i, p in enumerate(texts) if p is not None]
    out: dict[str, list] = {}
    for name, texts in prompts.items():
        sfx = name[len("prompt"):]
        for key, empty in (("raw", None), ("error", None), ("attempts", 0), ("finish", None)):
            out[key + sfx] = [empty] * len(texts)
    results = backend([prompts[name][i] for name, i in slots]) if slots else []
    for (name, i), result in zip(slots, results, strict=True):
        sfx = name[len("prompt"):]
        out["raw" + sfx][i], out["error" + sfx][i] = result.text, result.error
        out["attempts" + sfx][i], out["finish" + sfx][i] = result.attempts, result.finish_reason
    return out


def parse_judgements(spec: JudgeSpec, generated: dict[str, list], input_errors: list) -> pd.DataFrame:
    """The judgement columns (spec.output_columns()), one row per item."""
    valid = tuple(spec.score_range) if spec.score_range is not None else None
    frame = _pointwise(generated, input_errors, valid) if spec.mode == "pointwise" else \
        _pairwise(spec, generated, input_errors, valid)
    frame["judge_fingerprint"] = pd.array([spec.fingerprint] * len(frame), dtype="string")
    return frame


def _pointwise(generated: dict, input_errors: list, valid) -> pd.DataFrame:
    rows = []
    for raw, error, attempts, finish, input_error in zip(generated["raw"], generated["error"], generated["attempts"],
                                                         generated["finish"], input_errors):
        error = input_error or error
        row = {"raw": raw, "error": error, "attempts": attempts, "score": None, "parse_ok": False,
               "parse_problem": None, "matched": None}
        if error is None and finish == "length":
            row["parse_problem"] = TRUNCATED
        elif error is None:
            parsed = parse_score(raw, valid_range=valid)
            row.update(score=parsed.score, parse_ok=parsed.parse_ok, parse_problem=parsed.problem,
                       matched=parsed.matched)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(POINTWISE_COLUMNS[:-1]))
    frame["score"] = pd.array(frame["score"].tolist(), dtype="Float64")  # null, never NaN-as-a-number
    frame["attempts"] = frame["attempts"].astype("int64")
    frame["parse_ok"] = frame["parse_ok"].astype(bool)
    return frame


def _pairwise(spec: JudgeSpec, generated: dict, input_errors: list, valid) -> pd.DataFrame:
    rows = []
    for i, input_error in enumerate(input_errors):
        row: dict = {}
        verdicts = {}
        for order in ("ab", "ba"):
            raw, error = generated[f"raw_{order}"][i], input_error or generated[f"error_{order}"][i]
            row.update({f"raw_{order}": raw, f"error_{order}": error,
                        f"attempts_{order}": generated[f"attempts_{order}"][i]})
            truncated = error is None and generated[f"finish_{order}"][i] == "length"
            parsed = parse_pairwise(raw, valid_range=valid, tie_margin=spec.tie_margin) \
                if error is None and not truncated else None
            verdicts[order] = parsed.verdict if parsed else None
            row.update({f"parse_ok_{order}": bool(parsed and parsed.parse_ok),
                        f"parse_problem_{order}": TRUNCATED if truncated else parsed.problem if parsed else None,
                        f"explanation_{order}": parsed.reason if parsed else None})
        row.update(combine(verdicts["ab"], verdicts["ba"], policy=spec.policy))
        failed = [order for order in ("ab", "ba") if row[f"error_{order}"] is not None]
        row["error"] = None
        if failed:
            # An order with no output is an error, not a parse failure: say which.
            row["reason"] = "error_" + "_".join(failed)
            row["error"] = input_error or "; ".join(f"{o}: {row[f'error_{o}']}" for o in failed)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(PAIRWISE_COLUMNS[:-1]))
    for column in ("verdict_ab", "verdict_ba", "verdict_ba_corrected", "final"):
        frame[column] = pd.array(frame[column].tolist(), dtype="Int64")
    for column in ("attempts_ab", "attempts_ba"):
        frame[column] = frame[column].astype("int64")
    for column in ("parse_ok_ab", "parse_ok_ba", "consistent"):
        frame[column] = frame[column].astype(bool)
    return frame
