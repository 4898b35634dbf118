"""The judge job: an LLM judge over a table of answers, pointwise (a score) or pairwise (a verdict).

Run as:
  python -m jobs.judge --config configs/judge/pointwise_http_zh.yaml input=data/answers.jsonl output_dir=out/judged
  python -m jobs.judge --config configs/judge/pairwise_local.yaml local.model_path=out/judge_model
  ray job submit --working-dir . -- python -m jobs.judge --config configs/judge/pairwise_http_zh.yaml

Input: parquet (file or directory), JSONL, JSON array or CSV with one row per item; the columns
named in the config hold the question, the answer (pointwise) or the two answers (pairwise)
and, for reference-based judging, the reference answer.

- pointwise: the template (with the rubric) is filled per row; the judge's text is read by
  parse_score into `score` and `parse_ok` (a text that cannot be read gives score null, never a
  default), with `parse_problem` saying why.
- pairwise: each pair is judged in both orders in the same run, (A, B) and (B, A); the output
  has `verdict_ab`, `verdict_ba` (as the judge wrote it), `verdict_ba_corrected` (in A-B terms),
  `consistent`, `final` (by `policy`: an inconsistent pair becomes a tie, or keeps the first
  order's verdict) and `reason` (why a row is not consistent); `explanation_ab/_ba` hold the
  judge's own reasons. `filter_consistent: true` also writes the pairs whose verdict survives
  the swap (PandaLM's recipe for judge training data).
- backend http: an OpenAI-compatible endpoint, called from this process with bounded
  concurrency and retries (HttpJudgeClient). backend local: a causal LM on a Ray Data actor
  pool (LocalJudge), each actor loading the model once.

Every input row is in the output: a row whose input is unusable (a missing answer) or whose
request failed after its retries gets `error` and no score, and is counted in summary.json.
Output (output_dir): judgements.parquet, consistent.parquet (with filter_consistent),
summary.json, config.yaml.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import pandas as pd

from rayscore.config import save_config
from rayscore.eval.judge_text import parse_pairwise, parse_score
from rayscore.eval.metrics import distribution
from rayscore.eval.verdicts import Policy, combine
from rayscore.io import JobSummary, absolute, is_missing, json_value, read_table, write_json
from rayscore.judge.http_client import HttpJudgeClient, HttpJudgeSpec
from rayscore.judge.local import LocalJudge, LocalJudgeSpec
from rayscore.judge.pairwise import filter_consistent
from rayscore.judge.prompts import TemplateError, load_template, placeholders, render, required_fields

__all__ = ["JudgeJobConfig", "run", "JUDGEMENTS_FILE", "CONSISTENT_FILE"]

logger = logging.getLogger(__name__)

JUDGEMENTS_FILE, CONSISTENT_FILE = "judgements.parquet", "consistent.parquet"
Mode = Literal["pointwise", "pairwise"]
Backend = Literal["http", "local"]

# Output columns an input column must not shadow (an input `score` is kept as `input_score`).
_POINTWISE_COLUMNS = ("raw", "error", "attempts", "score", "parse_ok", "parse_problem", "matched", "prompt")
_PAIRWISE_COLUMNS = ("raw_ab", "raw_ba", "error_ab", "error_ba", "error", "attempts_ab", "attempts_ba",
                     "parse_ok_ab", "parse_ok_ba", "parse_problem_ab", "parse_problem_ba", "verdict_ab",
                     "verdict_ba", "verdict_ba_corrected", "consistent", "final", "reason",
                     "explanation_ab", "explanation_ba", "prompt_ab", "prompt_ba", "verdict")


@dataclass
class JudgeJobConfig:
    """judge: a table of answers in, one judgement per row + summary.json out."""

    input: str = ""
    """Parquet file or directory, JSONL, JSON array or CSV."""
    output_dir: str = ""
    """Where judgements.parquet, consistent.parquet, summary.json and config.yaml go."""
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
    filter_consistent: bool = False
    """Pairwise: also write consistent.parquet, the pairs whose verdict survives the swap."""
    id_column: str | None = "id"
    """Column identifying each row (must exist when set); null = none."""
    question_column: str = "question"
    """Column filling {question}."""
    answer_column: str = "answer"
    """Pointwise: column filling {answer}."""
    answer_1_column: str = "answer_1"
    """Pairwise: the first answer (A)."""
    answer_2_column: str = "answer_2"
    """Pairwise: the second answer (B)."""
    reference_column: str | None = None
    """Reference answers for {reference} (reference-based judging); null = reference-free."""
    passthrough_columns: list[str] | None = None
    """Input columns copied to the output; null = all of them."""
    keep_prompts: bool = False
    """Write the rendered prompts into the output (large)."""
    max_rows: int | None = None
    """Judge only the first N rows (a trial run); null = all."""
    max_error_share: float = 0.1
    """The job fails (after writing everything) when more rows than this share have an error."""
    backend: Backend = "http"
    """http: an OpenAI-compatible endpoint; local: a causal LM on a Ray Data actor pool."""
    http: HttpJudgeSpec = field(default_factory=HttpJudgeSpec)
    """The endpoint (backend http)."""
    http_prompts_per_batch: int = 512
    """Prompts sent per progress step (backend http); concurrency is http.max_concurrency."""
    local: LocalJudgeSpec = field(default_factory=LocalJudgeSpec)
    """The local model and its actor pool (backend local)."""

    def check(self) -> list[str]:
        problems = []
        if not self.input:
            problems.append("input: required (a parquet, JSONL, JSON or CSV table)")
        if not self.output_dir:
            problems.append("output_dir: required (a directory)")
        if self.backend == "http" and not self.http.model:
            problems.append("http.model: required for backend=http (the model name the endpoint serves)")
        if self.backend == "local" and not self.local.model_path:
            problems.append("local.model_path: required for backend=local (a causal LM directory)")
        if self.score_range is not None and (len(self.score_range) != 2 or self.score_range[0] > self.score_range[1]):
            problems.append(f"score_range: must be [low, high] with low <= high, got {self.score_range}")
        if self.tie_margin < 0:
            problems.append(f"tie_margin: must be >= 0, got {self.tie_margin}")
        if self.filter_consistent and self.mode != "pairwise":
            problems.append("filter_consistent: needs mode=pairwise")
        if not 0 <= self.max_error_share <= 1:
            problems.append(f"max_error_share: must be in [0, 1], got {self.max_error_share}")
        if self.max_rows is not None and self.max_rows < 0:
            problems.append(f"max_rows: must be >= 0, got {self.max_rows}")
        if self.http_prompts_per_batch < 1:
            problems.append(f"http_prompts_per_batch: must be >= 1, got {self.http_prompts_per_batch}")
        problems += self._template_problems()
        return problems

    def _template_problems(self) -> list[str]:
        try:
            template = load_template(self.template)
        except TemplateError as e:
            return [f"template: {e}"]
        used = placeholders(template)
        needed = {"answer"} if self.mode == "pointwise" else {"answer_1", "answer_2"}
        problems = [f"template: {self.template!r} has no {{{name}}} placeholder, needed for mode={self.mode}"
                    for name in sorted(needed - used)]
        if self.reference_column and "reference" not in used:
            problems.append(f"reference_column: set, but template {self.template!r} has no {{reference}}")
        if self.rubric and "rubric" not in used:
            problems.append(f"rubric: set, but template {self.template!r} has no {{rubric}}")
        return problems

    def field_columns(self) -> dict[str, str]:
        """Template field -> input column, for the fields this mode fills from the table."""
        columns = {"question": self.question_column}
        if self.mode == "pointwise":
            columns["answer"] = self.answer_column
        else:
            columns.update(answer_1=self.answer_1_column, answer_2=self.answer_2_column)
        if self.reference_column:
            columns["reference"] = self.reference_column
        return columns


def run(cfg: JudgeJobConfig) -> JobSummary:
    """Judge every row; backend local needs Ray initialised (jobs.judge does it)."""
    started = time.time()
    cfg = replace(cfg, input=absolute(cfg.input), output_dir=absolute(cfg.output_dir),
                  local=replace(cfg.local, model_path=absolute(cfg.local.model_path, names=True)))
    out = Path(cfg.output_dir)
    save_config(cfg, out / "config.yaml")
    template = load_template(cfg.template)
    frame = read_input(cfg, template)
    logger.info("judging %d rows (%s, %s backend, template %s)", len(frame), cfg.mode, cfg.backend, cfg.template)

    prompts, input_errors = build_prompts(frame, cfg, template)
    generated = generate(prompts, cfg)
    judged = parse_outputs(generated, input_errors, cfg)
    result = assemble(frame, judged, prompts, cfg)
    result.to_parquet(out / JUDGEMENTS_FILE, index=False)

    summary = summarize(result, cfg)
    if cfg.filter_consistent:
        summary["filter_consistent"] = write_consistent(result, out / CONSISTENT_FILE)
    summary.update(wall_time_s=round(time.time() - started, 2),
                   outputs={"judgements": str(out / JUDGEMENTS_FILE)}
                   | ({"consistent": str(out / CONSISTENT_FILE)} if cfg.filter_consistent else {}))
    path = write_json(out / "summary.json", summary)
    logger.info("rows in %d = out %d; %d errors; parse failure rate %s%s; %s",
                summary["rows_in"], summary["rows_out"], summary["rows_error"], summary["parse_failure_rate"],
                f"; consistency {summary['consistency_rate']}" if cfg.mode == "pairwise" else "",
                "ok" if summary["ok"] else summary["problems"])
    return JobSummary(str(path), summary)


# --- input and prompts -----------------------------------------------------------------------

def read_input(cfg: JudgeJobConfig, template: str) -> pd.DataFrame:
    """The input table (first max_rows rows); missing columns fail here, before any request."""
    frame = read_table(cfg.input)
    if cfg.max_rows is not None:
        frame = frame.head(cfg.max_rows)
    used = placeholders(template)
    needed = [c for name, c in cfg.field_columns().items() if name in used]
    needed += [cfg.id_column] if cfg.id_column else []
    needed += cfg.passthrough_columns or []
    missing = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if missing:
        raise ValueError(f"{cfg.input}: no column {', '.join(map(repr, missing))} "
                         f"(columns: {', '.join(map(str, frame.columns))}); set the *_column keys")
    return frame.reset_index(drop=True)


def build_prompts(frame: pd.DataFrame, cfg: JudgeJobConfig, template: str) -> tuple[dict[str, list], list]:
    """{"prompt" or "prompt_ab"/"prompt_ba": [text or None]} and per row an input error or None."""
    used, required = placeholders(template), required_fields(template)
    columns = {name: col for name, col in cfg.field_columns().items() if name in used}
    names = ["prompt"] if cfg.mode == "pointwise" else ["prompt_ab", "prompt_ba"]
    cells = {name: [cell_text(v) for v in frame[col].tolist()] for name, col in columns.items()}
    prompts: dict[str, list] = {name: [] for name in names}
    errors: list[str | None] = []
    for i in range(len(frame)):
        values = {name: column[i] for name, column in cells.items()}
        empty = [columns[name] for name, v in values.items()
                 if v is None and (name in required or name == "reference")]
        error = f"missing_field: {', '.join(empty)}" if empty else None
        rendered = {}
        if error is None:
            try:
                rendered = render_row(template, values, cfg)
            except TemplateError as e:
                error = f"template: {e}"
        errors.append(error)
        for name in names:
            prompts[name].append(rendered.get(name))
    return prompts, errors


def render_row(template: str, values: dict, cfg: JudgeJobConfig) -> dict[str, str]:
    if cfg.mode == "pointwise":
        return {"prompt": render(template, rubric=cfg.rubric, **values)}
    swapped = {**values, "answer_1": values.get("answer_2"), "answer_2": values.get("answer_1")}
    return {"prompt_ab": render(template, rubric=cfg.rubric, **values),
            "prompt_ba": render(template, rubric=cfg.rubric, **swapped)}


def cell_text(value: object) -> str | None:
    """A cell as prompt text; None, NaN and blank strings are missing."""
    if is_missing(value):
        return None
    text = str(value)
    return text if text.strip() else None


# --- generation ------------------------------------------------------------------------------

def generate(prompts: dict[str, list], cfg: JudgeJobConfig) -> dict[str, list]:
    """For each prompt column `prompt<sfx>`: `raw<sfx>`, `error<sfx>`, `attempts<sfx>` lists."""
    if cfg.backend == "http":
        return generate_http(prompts, cfg)
    return generate_local(prompts, cfg)


def generate_http(prompts: dict[str, list], cfg: JudgeJobConfig) -> dict[str, list]:
    client = HttpJudgeClient(cfg.http)
    # Both orders of a pair go out in the same batches, so the whole run shares one concurrency limit.
    slots = prompt_slots(prompts)
    out = empty_outputs(prompts)
    step, done, started = cfg.http_prompts_per_batch, 0, time.time()
    for start in range(0, len(slots), step):
        batch = slots[start:start + step]
        store_results(out, batch, client.complete_many([prompts[name][i] for name, i in batch]))
        done += len(batch)
        logger.info("judged %d/%d prompts (%.1f prompts/s)", done, len(slots), done / (time.time() - started))
    return out


def generate_local(prompts: dict[str, list], cfg: JudgeJobConfig) -> dict[str, list]:
    import ray

    names = list(prompts)
    rows = len(next(iter(prompts.values())))
    out = empty_outputs(prompts)
    if rows == 0:
        return out
    spec = cfg.local
    work = pd.DataFrame({"_row": range(rows), **prompts})
    # One block per batch, so every actor of the pool gets work (a single block feeds one actor).
    blocks = max(1, math.ceil(rows / spec.rows_per_batch))
    ds = ray.data.from_pandas(work).repartition(blocks)
    ds = ds.map_batches(
        LocalJudge,
        fn_constructor_kwargs={"spec": spec, "prompt_columns": names},
        batch_size=spec.rows_per_batch,
        batch_format="pandas",
        compute=ray.data.ActorPoolStrategy(size=min(spec.num_actors, blocks)),
        num_cpus=spec.cpus_per_actor,
        num_gpus=spec.gpus_per_actor or None,
    )
    done = ds.to_pandas().sort_values("_row")
    if done["_row"].tolist() != list(range(rows)):
        raise RuntimeError(f"local judge returned {len(done)} rows for {rows}")  # Ray Data lost or doubled rows
    for name in names:
        sfx = name[len("prompt"):]
        for key in ("raw", "error", "attempts"):
            out[key + sfx] = json_value(done[key + sfx].tolist())
    return out


def prompt_slots(prompts: dict[str, list]) -> list[tuple[str, int]]:
    """(prompt column, row) of every prompt to send; rows that failed upstream have None."""
    return [(name, i) for name, texts in prompts.items() for i, p in enumerate(texts) if p is not None]


def store_results(out: dict[str, list], slots: list[tuple[str, int]], results: list) -> dict[str, list]:
    """Put each result (http Completion or local Generation: text, error, attempts) in its slot."""
    for (name, i), result in zip(slots, results, strict=True):
        sfx = name[len("prompt"):]
        out["raw" + sfx][i], out["error" + sfx][i], out["attempts" + sfx][i] = (
            result.text, result.error, result.attempts)
    return out


def empty_outputs(prompts: dict[str, list]) -> dict[str, list]:
    out = {}
    for name, texts in prompts.items():
        sfx = name[len("prompt"):]
        out.update({"raw" + sfx: [None] * len(texts), "error" + sfx: [None] * len(texts),
                    "attempts" + sfx: [0] * len(texts)})
    return out


# --- parsing ---------------------------------------------------------------------------------

def parse_outputs(generated: dict[str, list], input_errors: list, cfg: JudgeJobConfig) -> pd.DataFrame:
    """The judgement columns, one row per input row."""
    valid = tuple(cfg.score_range) if cfg.score_range is not None else None
    if cfg.mode == "pointwise":
        return _parse_pointwise(generated, input_errors, valid)
    return _parse_pairwise(generated, input_errors, valid, cfg)


def _parse_pointwise(generated: dict, input_errors: list, valid) -> pd.DataFrame:
    rows = []
    for raw, error, attempts, input_error in zip(generated["raw"], generated["error"], generated["attempts"],
                                                 input_errors):
        error = input_error or error
        if error is not None:
            rows.append({"raw": raw, "error": error, "attempts": attempts, "score": None, "parse_ok": False,
                         "parse_problem": None, "matched": None})
            continue
        parsed = parse_score(raw, valid_range=valid)
        rows.append({"raw": raw, "error": None, "attempts": attempts, "score": parsed.score,
                     "parse_ok": parsed.parse_ok, "parse_problem": parsed.problem, "matched": parsed.matched})
    frame = pd.DataFrame(rows, columns=["raw", "error", "attempts", "score", "parse_ok", "parse_problem", "matched"])
    frame["score"] = pd.array(frame["score"].tolist(), dtype="Float64")  # null, never NaN-as-a-number
    return frame


def _parse_pairwise(generated: dict, input_errors: list, valid, cfg: JudgeJobConfig) -> pd.DataFrame:
    rows = []
    for i, input_error in enumerate(input_errors):
        row: dict = {}
        verdicts = {}
        for order in ("ab", "ba"):
            raw, error = generated[f"raw_{order}"][i], input_error or generated[f"error_{order}"][i]
            row.update({f"raw_{order}": raw, f"error_{order}": error,
                        f"attempts_{order}": generated[f"attempts_{order}"][i]})
            parsed = parse_pairwise(raw, valid_range=valid, tie_margin=cfg.tie_margin) if error is None else None
            verdicts[order] = parsed.verdict if parsed else None
            row.update({f"parse_ok_{order}": bool(parsed and parsed.parse_ok),
                        f"parse_problem_{order}": parsed.problem if parsed else None,
                        f"explanation_{order}": parsed.reason if parsed else None})
        row.update(combine(verdicts["ab"], verdicts["ba"], policy=cfg.policy))
        failed = [order for order in ("ab", "ba") if row[f"error_{order}"] is not None]
        row["error"] = None
        if failed:
            # An order with no output is an error, not a parse failure: say which.
            row["reason"] = "error_" + "_".join(failed)
            row["error"] = input_error or "; ".join(f"{o}: {row[f'error_{o}']}" for o in failed)
        rows.append(row)
    frame = pd.DataFrame(rows)
    for column in ("verdict_ab", "verdict_ba", "verdict_ba_corrected", "final"):
        frame[column] = pd.array(frame[column].tolist(), dtype="Int64")
    return frame


# --- output ----------------------------------------------------------------------------------

def assemble(frame: pd.DataFrame, judged: pd.DataFrame, prompts: dict[str, list], cfg: JudgeJobConfig) -> pd.DataFrame:
    """Input columns (passthrough; clashing names as input_<name>) + judgements (+ prompts)."""
    keep = list(frame.columns) if cfg.passthrough_columns is None else list(dict.fromkeys(
        ([cfg.id_column] if cfg.id_column else []) + cfg.passthrough_columns))
    reserved = _POINTWISE_COLUMNS if cfg.mode == "pointwise" else _PAIRWISE_COLUMNS
    base = frame[keep].rename(columns={c: f"input_{c}" for c in keep if c in reserved})
    parts = [base.reset_index(drop=True), judged.reset_index(drop=True)]
    if cfg.keep_prompts:
        parts.append(pd.DataFrame(prompts))
    return pd.concat(parts, axis=1)


def write_consistent(result: pd.DataFrame, path: Path) -> dict:
    """PandaLM's filter: the pairs whose verdict survives the swap, with `verdict`."""
    records = [{"row": i, "verdict_ab": _int_or_none(ab), "verdict_ba": _int_or_none(ba)}
               for i, (ab, ba) in enumerate(zip(result["verdict_ab"], result["verdict_ba"]))]
    kept, dropped = filter_consistent(records)
    frame = result.iloc[[row["row"] for row in kept]].copy()
    frame["verdict"] = pd.array([row["verdict"] for row in kept], dtype="Int64")
    frame.to_parquet(path, index=False)
    # The judgement's own reason: it tells a failed request (error_ba) from an unreadable output.
    reasons = Counter(result["reason"].iloc[[row["row"] for row in dropped]])
    logger.info("filter_consistent: kept %d of %d pairs (%s)", len(kept), len(records), dict(reasons))
    return {"kept": len(kept), "dropped": len(dropped), "dropped_by_reason": dict(reasons),
            "kept_verdicts": _counts(frame["verdict"])}


def _int_or_none(value) -> int | None:
    return None if pd.isna(value) else int(value)


def summarize(result: pd.DataFrame, cfg: JudgeJobConfig) -> dict:
    """The account of the run: rows in = rows out, errors and parse failures counted apart."""
    rows = len(result)
    errors = result["error"].notna()
    summary: dict = {"mode": cfg.mode, "backend": cfg.backend, "template": cfg.template,
                     "rows_in": rows, "rows_out": rows, "rows_error": int(errors.sum()),
                     "error_kinds": dict(Counter(error_kind(e) for e in result.loc[errors, "error"]))}
    if cfg.mode == "pointwise":
        judged = ~errors
        failed = judged & ~result["parse_ok"].astype(bool)
        scores = result.loc[result["parse_ok"].astype(bool), "score"].astype(float)
        summary.update(
            rows_judged=int(judged.sum()), rows_parsed=int((judged & ~failed).sum()),
            rows_parse_failed=int(failed.sum()), parse_failure_rate=_rate(failed.sum(), judged.sum()),
            parse_problems=dict(Counter(result.loc[failed, "parse_problem"])),
            retries=int((result["attempts"] - 1).clip(lower=0).sum()),
            scores=distribution(scores.tolist()))
    else:
        judgements = failed = retries = 0
        for order in ("ab", "ba"):
            answered = result[f"error_{order}"].isna()
            judgements += int(answered.sum())
            failed += int((answered & ~result[f"parse_ok_{order}"].astype(bool)).sum())
            retries += int((result[f"attempts_{order}"] - 1).clip(lower=0).sum())
        both = result["parse_ok_ab"].astype(bool) & result["parse_ok_ba"].astype(bool)
        consistent = result["consistent"].astype(bool)
        summary.update(
            judgements_requested=2 * rows, judgements_answered=judgements, judgements_parse_failed=failed,
            parse_failure_rate=_rate(failed, judgements), retries=retries,
            rows_both_parsed=int(both.sum()), rows_consistent=int(consistent.sum()),
            consistency_rate=_rate(consistent.sum(), both.sum()), policy=cfg.policy,
            reasons=dict(Counter(result["reason"].dropna())),
            verdict_counts={"ab": _counts(result["verdict_ab"]),
                            "ba_corrected": _counts(result["verdict_ba_corrected"]),
                            "final": _counts(result["final"])})
    problems = []
    if summary["rows_error"] > cfg.max_error_share * rows:
        problems.append(f"error rows {summary['rows_error']} of {rows} > max_error_share {cfg.max_error_share}")
    if rows and summary["rows_error"] == rows:
        problems.append("every row failed")
    return {"ok": not problems, "problems": problems, **summary}


_GAVE_UP = re.compile(r"^gave up after \d+ attempts: ")


def error_kind(error: str) -> str:
    """A short class of an error message for counting: "http 500", "timeout", "missing_field"..."""
    text = _GAVE_UP.sub("", str(error))
    if text.startswith("ab: ") or text.startswith("ba: "):
        text = _GAVE_UP.sub("", text[4:])
    return re.split(r"[:(]", text, maxsplit=1)[0].strip()


def _counts(values) -> dict[str, int]:
    """Verdict counts keyed "1", "2", "0" (tie) and "none" (no verdict)."""
    counts = Counter("none" if pd.isna(v) else str(int(v)) for v in values)
    return {k: counts[k] for k in ("1", "2", "0", "none") if counts[k]}


def _rate(num, den) -> float | None:
    return round(float(num) / float(den), 6) if den else None
