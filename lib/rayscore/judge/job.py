"""The judge job: an LLM judge over a table of answers, pointwise (a score) or pairwise (a verdict),
on score_batch's chunked, exactly-once, resumable pipeline.

Run as:
  python -m jobs.judge --config configs/judge/pointwise_http_zh.yaml input=data/answers.jsonl output_dir=out/judged
  python -m jobs.judge --config configs/judge/pairwise_local.yaml local.model_path=out/judge_model
  ray job submit --working-dir . -- python -m jobs.judge --config configs/judge/pairwise_http_zh.yaml

Input: parquet, JSONL or CSV, a file or a directory of them, local or s3:// / gs://, with one row
per item; the columns named in the config hold the question, the answer (pointwise) or the two
answers (pairwise) and, for reference-based judging, the reference answer. It is read as
score_batch reads it (rayscore.score.inputs): in chunks, by the actors, never copied on the driver
(parquet chunks are whole row groups: write it with row groups of at most rows_per_chunk rows;
a JSONL or CSV chunk is a row range). max_rows judges the first N rows only (a trial run).

The judge (rayscore.judge.core: prompts, backends, parsing) runs as a scorer kind
(judge/scorer.py) of rayscore.score.job: the input is cut into chunks, actors judge them
(each actor opens the backend once; HTTP requests in flight are http.max_concurrency over all
actors), and each chunk is committed atomically. A rerun of the same config skips committed chunks
and never calls the endpoint for their rows again; rows whose requests failed after their retries
are committed apart (errors/) and only they are sent again on the next run.

- pointwise: `score`, `parse_ok`, `parse_problem` (a text that cannot be read, or was cut off by the
  token limit ("truncated"), gives score null, never a default).
- pairwise: each pair is judged in both orders in the same run, (A, B) and (B, A): `verdict_ab`,
  `verdict_ba` (as the judge wrote it), `verdict_ba_corrected` (in A-B terms), `consistent`,
  `final` (by `policy`), `reason`, `explanation_ab/_ba`. `filter_consistent: true` also writes
  consistent.parquet, the pairs whose verdict survives the swap (PandaLM's recipe).
- every row: `judge_fingerprint` (the judge's identity: model, template hash, sampling), `record_id`
  and `fingerprint` (the output's: judge + column mapping).

Output (output_dir): part-*.parquet (judged rows: a chunk's part, then any retry parts
part-<n>-r<k>-*), errors/part-*.parquet (rows whose requests failed; resent on rerun),
quarantine/part-*.parquet (rows with an unusable field, with `reason`), consistent.parquet (with
filter_consistent), summary.json, config.yaml. read_judgements(output_dir) reads the judged rows.
rows_in = judged + errors + quarantined, checked in summary.json.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rayscore.config import range_problems, save_config
from rayscore.eval.metrics import distribution
from rayscore.eval.verdicts import Policy, combine
from rayscore.io import JobSummary, absolute, join, local_output, write_json
from rayscore.judge.core import Backend, JudgeSpec, Mode, judge_identity
from rayscore.judge.http_client import HttpJudgeSpec
from rayscore.judge.local import LocalJudgeSpec
from rayscore.judge.scorer import JudgeScorerSpec
from rayscore.report import write_report
from rayscore.score import job as score_job
from rayscore.score.store import ERRORS, PARTS, iter_parts

__all__ = ["JudgeJobConfig", "run", "read_judgements", "CONSISTENT_FILE"]

logger = logging.getLogger(__name__)

CONSISTENT_FILE = "consistent.parquet"


@dataclass
class JudgeJobConfig:
    """judge: a table of answers in, one judgement per row + summary.json out."""

    input: str = ""
    """Parquet, JSONL or CSV: a file or a directory of them (local, s3://, gs://); read in chunks."""
    output_dir: str = ""
    """Where the judged parts, errors/, quarantine/, consistent.parquet, summary.json and config.yaml go."""
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
    """Column identifying each row (must exist when set; copied to record_id); null = ids derived from file
    and row position."""
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
    """Judge only the input's first N rows (a trial run; a later full run keeps its whole chunks); null = all."""
    max_error_share: float = 0.1
    """The job fails (after writing everything) when more rows than this share have no judgement (errors +
    quarantined)."""
    rows_per_chunk: int = 1000
    """Rows per chunk: the unit of commit, resume and output file (whole parquet row groups)."""
    max_text_chars: int = 100_000
    """A field longer than this is quarantined (too_long), never cut."""
    progress_every_s: float = 30.0
    """Seconds between progress lines (done/total rows, rows/s, ETA, errors, retries)."""
    overwrite: bool = False
    """Delete the outputs of another judge or config in output_dir instead of failing."""
    backend: Backend = "http"
    """http: an OpenAI-compatible endpoint; local: a causal LM (local.num_actors actors)."""
    http: HttpJudgeSpec = field(default_factory=HttpJudgeSpec)
    """The endpoint (backend http); http.max_concurrency is the job's total, shared by its actors."""
    num_actors: int = 2
    """Backend http: actors sending requests (each gets http.max_concurrency / num_actors in flight)."""
    cpus_per_actor: float = 0.25
    """Backend http: CPUs reserved per actor (requests wait on the network, not the CPU)."""
    http_prompts_per_batch: int = 512
    """Backend http: prompts sent per call within a chunk (a pairwise row is two); progress is logged between calls."""
    local: LocalJudgeSpec = field(default_factory=LocalJudgeSpec)
    """The local model and its actor pool (backend local)."""

    def check(self) -> list[str]:
        problems = []
        if not self.input:
            problems.append("input: required (a parquet, JSONL or CSV file, or a directory of them)")
        if not self.output_dir:
            problems.append("output_dir: required (a directory)")
        if self.filter_consistent and self.mode != "pairwise":
            problems.append("filter_consistent: needs mode=pairwise")
        problems += range_problems(self, max_error_share="[0, 1]", max_rows=">= 0", http_prompts_per_batch=">= 1",
                                   rows_per_chunk=">= 1", max_text_chars=">= 1", num_actors=">= 1",
                                   cpus_per_actor="> 0")
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
    """Judge every row not judged yet; Ray must be initialised (jobs.judge does it)."""
    started = time.time()
    cfg = replace(cfg, input=absolute(cfg.input), output_dir=absolute(cfg.output_dir),
                  local=replace(cfg.local, model_path=absolute(cfg.local.model_path, names=True)))
    spec = cfg.judge_spec()
    score_cfg = pipeline_config(cfg, spec)
    logger.info("judging %s (%s, %s backend, template %s, judge %s): %d actors, %s requests in flight",
                cfg.input, cfg.mode, cfg.backend, cfg.template, spec.fingerprint, score_cfg.num_actors,
                spec.http.max_concurrency if cfg.backend == "http" else "local")
    scored = score_job.run(score_cfg).data
    where = cfg.output_dir  # the parts are there; the judge's own files are written in `out`
    with local_output(where) as out:  # a URI's are staged here, uploaded at the end
        save_config(cfg, out / "config.yaml")  # the judge's config, not the pipeline's
        summary = summarize(iter_judgements(where, errors=True, columns=summary_columns(cfg)), scored, cfg)
        summary["judge"] = {"fingerprint": spec.fingerprint, **judge_identity(spec)}
        outputs = {"judgements": join(where, PARTS), "errors": join(where, ERRORS),
                   "quarantine": join(where, "quarantine")}
        if cfg.filter_consistent:
            summary["filter_consistent"] = write_consistent(where, out / CONSISTENT_FILE)
            outputs["consistent"] = join(where, CONSISTENT_FILE)
        summary.update(wall_time_s=round(time.time() - started, 2), outputs=outputs)
        write_json(out / "summary.json", summary)
        write_report(out, where)
    logger.info("rows in %d = judged %d + errors %d + quarantined %d; parse failure rate %s%s; %s",
                summary["rows_in"], summary["rows_judged"], summary["rows_error"], summary["rows_quarantined"],
                summary["parse_failure_rate"],
                f"; consistency {summary['consistency_rate']}" if cfg.mode == "pairwise" else "",
                "ok" if summary["ok"] else summary["problems"])
    return JobSummary(join(where, "summary.json"), summary)


def pipeline_config(cfg: JudgeJobConfig, spec: JudgeSpec) -> score_job.ScoreJobConfig:
    """The score_batch config that runs this judge: one chunk = rows_per_chunk rows; HTTP actors
    share http.max_concurrency (each gets its share), local actors each load the model."""
    if cfg.backend == "http":
        actors = max(1, min(cfg.num_actors, spec.http.max_concurrency))
        spec = replace(spec, http=replace(spec.http, max_concurrency=max(1, spec.http.max_concurrency // actors)))
        cpus, gpus = cfg.cpus_per_actor, 0.0
        rows_per_call = max(1, cfg.http_prompts_per_batch // len(spec.prompt_names()))
    else:
        actors, cpus, gpus = cfg.local.num_actors, cfg.local.cpus_per_actor, cfg.local.gpus_per_actor
        rows_per_call = cfg.local.rows_per_batch
    scorer = JudgeScorerSpec(judge=spec, columns=cfg.field_columns(), keep_prompts=cfg.keep_prompts,
                             torch_threads=cfg.local.torch_threads)
    return score_job.ScoreJobConfig(
        input=cfg.input, output=cfg.output_dir, max_rows=cfg.max_rows, scorer=scorer, id_column=cfg.id_column,
        passthrough_columns=cfg.passthrough_columns, rows_per_file=cfg.rows_per_chunk,
        rows_per_score_call=rows_per_call, num_actors=actors, cpus_per_actor=cpus, gpus_per_actor=gpus,
        max_text_chars=cfg.max_text_chars, over_length="quarantine", max_quarantine_share=1.0,
        gold_column=None, progress_every_s=cfg.progress_every_s, overwrite=cfg.overwrite)


def read_judgements(output_dir: str | Path, errors: bool = False, columns: list[str] | None = None) -> pd.DataFrame:
    """The judged rows of a judge job's output (every part, in chunk order; a chunk's retried rows
    after its first part), and with errors=True also the rows whose requests failed."""
    frames = list(iter_judgements(output_dir, errors, columns))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def iter_judgements(output_dir: str | Path, errors: bool = False, columns: list[str] | None = None):
    """read_judgements one part at a time (memory: one part), empty parts left out."""
    for frame in iter_parts(output_dir, columns, errors):
        if len(frame):
            yield frame


def summary_columns(cfg: JudgeJobConfig) -> list[str]:
    if cfg.mode == "pointwise":
        return ["error", "attempts", "score", "parse_ok", "parse_problem"]
    return ["error", "error_ab", "error_ba", "attempts_ab", "attempts_ba", "parse_ok_ab", "parse_ok_ba",
            "verdict_ab", "verdict_ba", "verdict_ba_corrected", "consistent", "final", "reason"]


def write_consistent(out: str | Path, path: Path) -> dict:
    """PandaLM's filter: the pairs whose verdict survives the swap, with `verdict`, streamed part
    by part (memory: one part)."""
    kept = dropped = 0
    reasons: Counter = Counter()
    verdicts: list = []
    writer = None
    tmp = path.with_suffix(".tmp")
    try:
        for frame in iter_parts(out):
            if not len(frame):
                continue
            verdict = [combine(_int_or_none(ab), _int_or_none(ba), policy="first")
                       for ab, ba in zip(frame["verdict_ab"], frame["verdict_ba"])]
            keep = pd.Series([v["consistent"] for v in verdict], index=frame.index, dtype=bool)
            chosen = frame[keep].copy()
            chosen["verdict"] = pd.array([v["final"] for v, k in zip(verdict, keep) if k], dtype="Int64")
            kept, dropped = kept + int(keep.sum()), dropped + int((~keep).sum())
            # The judgement's own reason: it tells a failed request from an unreadable output.
            reasons.update(frame.loc[~keep, "reason"].dropna())
            verdicts += chosen["verdict"].tolist()
            table = pa.Table.from_pandas(chosen, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table.cast(writer.schema))
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        pd.DataFrame(columns=["verdict"]).to_parquet(tmp, index=False)
    tmp.rename(path)
    logger.info("filter_consistent: kept %d of %d pairs (%s)", kept, kept + dropped, dict(reasons))
    return {"kept": kept, "dropped": dropped, "dropped_by_reason": dict(reasons), "kept_verdicts": _counts(verdicts)}


def _int_or_none(value) -> int | None:
    return None if pd.isna(value) else int(value)


def summarize(parts, scored: dict, cfg: JudgeJobConfig) -> dict:
    """The account of the run: rows in = judged + errors + quarantined; parse failures counted
    among the judged rows. `parts`: frames of the judged and the error rows, summed one at a
    time (the driver never holds every row; pointwise keeps the scores, 8 bytes a row)."""
    n, kinds, problems_seen, reasons = Counter(), Counter(), Counter(), Counter()
    verdicts = {name: Counter() for name in ("verdict_ab", "verdict_ba_corrected", "final")}
    scores = []
    for frame in parts:
        errors = frame["error"].notna()
        ok_rows = frame[~errors]
        n.update(rows=len(frame), judged=len(ok_rows), error=int(errors.sum()))
        kinds.update(error_kind(e) for e in frame.loc[errors, "error"])
        if cfg.mode == "pointwise":
            parsed = ok_rows["parse_ok"].astype(bool)
            n.update(parsed=int(parsed.sum()), parse_failed=int((~parsed).sum()))
            problems_seen.update(ok_rows.loc[~parsed, "parse_problem"])
            scores.append(ok_rows.loc[parsed, "score"].astype(float).to_numpy())
            continue
        for order in ("ab", "ba"):
            answered = frame[f"error_{order}"].isna()
            n.update(answered=int(answered.sum()),
                     failed=int((answered & ~frame[f"parse_ok_{order}"].astype(bool)).sum()))
        both = frame["parse_ok_ab"].astype(bool) & frame["parse_ok_ba"].astype(bool)
        n.update(both=int(both.sum()), consistent=int(frame["consistent"].astype(bool).sum()))
        reasons.update(frame["reason"].dropna())
        for name, counts in verdicts.items():
            counts.update(_verdict_keys(frame[name]))
    rows_in, quarantined = scored["rows_in"], scored["rows_quarantined"]
    summary: dict = {"mode": cfg.mode, "backend": cfg.backend, "template": cfg.template,
                     "rows_in": rows_in, "rows_judged": n["judged"], "rows_error": n["error"],
                     "rows_quarantined": quarantined, "quarantine_reasons": scored["quarantine_reasons"],
                     "error_kinds": dict(kinds),
                     "retries": scored["retries"], "chunks": scored["chunks"],
                     "rows_this_run": scored["rows_this_run"], "rows_per_s": scored["rows_per_s"],
                     "output_fingerprint": scored["fingerprint"]}
    if cfg.mode == "pointwise":
        summary.update(
            rows_parsed=n["parsed"], rows_parse_failed=n["parse_failed"],
            parse_failure_rate=_rate(n["parse_failed"], n["judged"]), parse_problems=dict(problems_seen),
            scores=distribution(np.concatenate(scores) if scores else []))
    else:
        summary.update(
            judgements_requested=2 * n["rows"], judgements_answered=n["answered"],
            judgements_parse_failed=n["failed"], parse_failure_rate=_rate(n["failed"], n["answered"]),
            rows_both_parsed=n["both"], rows_consistent=n["consistent"],
            consistency_rate=_rate(n["consistent"], n["both"]), policy=cfg.policy, reasons=dict(reasons),
            verdict_counts={"ab": _ordered(verdicts["verdict_ab"]),
                            "ba_corrected": _ordered(verdicts["verdict_ba_corrected"]),
                            "final": _ordered(verdicts["final"])})
    problems = list(scored["problems"])
    unjudged = summary["rows_error"] + quarantined
    if unjudged > cfg.max_error_share * rows_in:
        problems.append(f"rows without a judgement (errors {summary['rows_error']} + quarantined {quarantined}) "
                        f"of {rows_in} > max_error_share {cfg.max_error_share}")
    if rows_in and unjudged == rows_in:
        problems.append("every row failed")
    if summary["rows_error"]:
        logger.warning("%d rows have errors (errors/): rerun the same command to send only them again",
                       summary["rows_error"])
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
    return _ordered(Counter(_verdict_keys(values)))


def _verdict_keys(values):
    return ("none" if pd.isna(v) else str(int(v)) for v in values)


def _ordered(counts: Counter) -> dict[str, int]:
    return {k: counts[k] for k in ("1", "2", "0", "none") if counts[k]}


def _rate(num, den) -> float | None:
    return round(float(num) / float(den), 6) if den else None
