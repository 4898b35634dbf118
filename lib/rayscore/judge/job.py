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

import json
import logging
import math
import re
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from rayscore.config import save_config
from rayscore.eval.metrics import distribution
from rayscore.eval.verdicts import Policy
from rayscore.io import JobSummary, absolute, json_value, read_table, write_json
from rayscore.judge.core import Backend, JudgeSpec, Mode, judge_identity, judge_items, open_backend
from rayscore.judge.http_client import HttpJudgeSpec
from rayscore.judge.local import LocalJudgeSpec
from rayscore.judge.pairwise import filter_consistent

__all__ = ["JudgeJobConfig", "run", "JUDGEMENTS_FILE", "CONSISTENT_FILE"]

logger = logging.getLogger(__name__)

JUDGEMENTS_FILE, CONSISTENT_FILE = "judgements.parquet", "consistent.parquet"


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
        if self.filter_consistent and self.mode != "pairwise":
            problems.append("filter_consistent: needs mode=pairwise")
        if not 0 <= self.max_error_share <= 1:
            problems.append(f"max_error_share: must be in [0, 1], got {self.max_error_share}")
        if self.max_rows is not None and self.max_rows < 0:
            problems.append(f"max_rows: must be >= 0, got {self.max_rows}")
        if self.http_prompts_per_batch < 1:
            problems.append(f"http_prompts_per_batch: must be >= 1, got {self.http_prompts_per_batch}")
        # The judge's own rules (backend, score range, template) are JudgeSpec's, named as here.
        return problems + self.judge_spec().check()

    def judge_spec(self) -> JudgeSpec:
        """The judge this job runs (rayscore.judge.core)."""
        return JudgeSpec(mode=self.mode, template=self.template, rubric=self.rubric, score_range=self.score_range,
                         tie_margin=self.tie_margin, policy=self.policy, reference=bool(self.reference_column),
                         backend=self.backend, http=self.http, local=self.local)

    def field_columns(self) -> dict[str, str]:
        """Item field -> input column, for the fields the judge reads (JudgeSpec.item_fields)."""
        columns = {"question": self.question_column, "answer": self.answer_column,
                   "answer_1": self.answer_1_column, "answer_2": self.answer_2_column,
                   "reference": self.reference_column}
        return {name: columns[name] for name in self.judge_spec().item_fields()}


def run(cfg: JudgeJobConfig) -> JobSummary:
    """Judge every row; backend local needs Ray initialised (jobs.judge does it)."""
    started = time.time()
    cfg = replace(cfg, input=absolute(cfg.input), output_dir=absolute(cfg.output_dir),
                  local=replace(cfg.local, model_path=absolute(cfg.local.model_path, names=True)))
    out = Path(cfg.output_dir)
    save_config(cfg, out / "config.yaml")
    spec = cfg.judge_spec()
    frame = read_input(cfg)
    logger.info("judging %d rows (%s, %s backend, template %s, judge %s)", len(frame), cfg.mode, cfg.backend,
                cfg.template, spec.fingerprint)
    items = items_of(frame, cfg)
    if cfg.backend == "http":
        judged = judge_http(spec, items, cfg)
    else:
        judged = judge_local(spec, items, cfg)
    result = assemble(frame, judged, cfg)
    result.to_parquet(out / JUDGEMENTS_FILE, index=False)

    summary = summarize(result, cfg)
    summary["judge"] = {"fingerprint": spec.fingerprint, **judge_identity(spec)}
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


def read_input(cfg: JudgeJobConfig) -> pd.DataFrame:
    """The input table (first max_rows rows); missing columns fail here, before any request."""
    frame = read_table(cfg.input)
    if cfg.max_rows is not None:
        frame = frame.head(cfg.max_rows)
    needed = list(cfg.field_columns().values())
    needed += [cfg.id_column] if cfg.id_column else []
    needed += cfg.passthrough_columns or []
    missing = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if missing:
        raise ValueError(f"{cfg.input}: no column {', '.join(map(repr, missing))} "
                         f"(columns: {', '.join(map(str, frame.columns))}); set the *_column keys")
    return frame.reset_index(drop=True)


def items_of(frame: pd.DataFrame, cfg: JudgeJobConfig) -> list[dict]:
    """Each row as an item keyed by the judge's field names."""
    columns = cfg.field_columns()
    return [dict(zip(columns, values)) for values in zip(*(frame[c].tolist() for c in columns.values()))] \
        if len(frame) else []


def judge_http(spec: JudgeSpec, items: list[dict], cfg: JudgeJobConfig) -> pd.DataFrame:
    backend = open_backend(spec)
    step, parts, started = cfg.http_prompts_per_batch, [], time.time()
    for start in range(0, len(items), step):
        parts.append(judge_items(spec, backend, items[start:start + step], cfg.keep_prompts, cfg.field_columns()))
        done = min(start + step, len(items))
        logger.info("judged %d/%d rows (%.1f rows/s)", done, len(items), done / (time.time() - started))
    return pd.concat(parts, ignore_index=True) if parts else judge_items(spec, backend, [], cfg.keep_prompts)


def judge_local(spec: JudgeSpec, items: list[dict], cfg: JudgeJobConfig) -> pd.DataFrame:
    import ray

    if not items:
        return judge_items(spec, lambda prompts: [], [], cfg.keep_prompts)
    local = cfg.local
    work = pd.DataFrame({"_row": range(len(items)), "item": [json.dumps(json_value(i), ensure_ascii=False)
                                                             for i in items]})
    # One block per batch, so every actor of the pool gets work (a single block feeds one actor).
    blocks = max(1, math.ceil(len(items) / local.rows_per_batch))
    ds = ray.data.from_pandas(work).repartition(blocks).map_batches(
        LocalJudge, fn_constructor_kwargs={"spec": spec, "keep_prompts": cfg.keep_prompts},
        batch_size=local.rows_per_batch, batch_format="pandas",
        compute=ray.data.ActorPoolStrategy(size=min(local.num_actors, blocks)),
        num_cpus=local.cpus_per_actor, num_gpus=local.gpus_per_actor or None)
    done = ds.to_pandas().sort_values("_row")
    if done["_row"].tolist() != list(range(len(items))):
        raise RuntimeError(f"local judge returned {len(done)} rows for {len(items)}")  # Ray Data lost or doubled rows
    return done.drop(columns=["_row", "item"]).reset_index(drop=True)


class LocalJudge:
    """Ray Data callable (one per actor): loads the local model once, judges each batch of items."""

    def __init__(self, spec: JudgeSpec, keep_prompts: bool):
        import torch

        torch.set_num_threads(spec.local.torch_threads or max(1, int(spec.local.cpus_per_actor)))
        self.spec, self.keep_prompts = spec, keep_prompts
        self.backend = open_backend(spec)

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        items = [json.loads(t) for t in batch["item"]]
        judged = judge_items(self.spec, self.backend, items, self.keep_prompts)
        judged.index = batch.index
        return pd.concat([batch, judged], axis=1)


# --- output ----------------------------------------------------------------------------------

def assemble(frame: pd.DataFrame, judged: pd.DataFrame, cfg: JudgeJobConfig) -> pd.DataFrame:
    """Input columns (passthrough; names clashing with a judgement column as input_<name>) + judgements."""
    keep = list(frame.columns) if cfg.passthrough_columns is None else list(dict.fromkeys(
        ([cfg.id_column] if cfg.id_column else []) + cfg.passthrough_columns))
    reserved = set(cfg.judge_spec().output_columns(keep_prompts=True)) | {"verdict"}
    base = frame[keep].rename(columns={c: f"input_{c}" for c in keep if c in reserved})
    return pd.concat([base.reset_index(drop=True), judged.reset_index(drop=True)], axis=1)


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
