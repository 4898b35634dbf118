"""The augment job: have a hosted LLM write extra samples, check their format, keep the ones a
rubric judge scores at or above a threshold (generated samples are cheap and often wrong: only
checked, well-rated ones are worth training on).

Run as:
  export LLM_API_KEY=...
  python -m jobs.augment --config configs/augment/reading_zh.yaml input=data/reading_items.jsonl

For each input item: the generation template (e.g. augment_reading_zh: complete a reading-
comprehension item to four multiple-choice questions with answers) is sent to `generator`;
the text that comes back is checked by parse_reading_item; a well-formed one is scored by
`judge` with the rubric template (rubric_zh ends with `总分:XX分`) and kept when its score
is >= threshold. Every item ends in exactly one of:
  kept       well-formed and scored >= threshold                   -> kept.parquet
  rejected   well-formed but scored below threshold, or its score unreadable
  malformed  the generated text is not in the required format
  failed     the generation or the judge request failed after its retries (HTTP error)
  invalid_input  the item itself is empty
and everything but `kept` goes to rejects.parquet with `stage` and `reason`. summary.json counts
generated / failed / malformed / rejected / kept.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from rayscore.config import interval_problems, range_problems, save_config
from rayscore.io import JobSummary, absolute, is_missing, join, local_output, read_table, write_json
from rayscore.judge.core import TRUNCATED, JudgeSpec, cell_text, judge_items, open_backend
from rayscore.judge.http_client import HttpJudgeClient, HttpJudgeSpec
from rayscore.judge.parsing import parse_reading_item
from rayscore.judge.prompts import TemplateError, load_template, placeholders, render

__all__ = ["AugmentJobConfig", "run", "KEPT_FILE", "REJECTS_FILE"]

logger = logging.getLogger(__name__)

KEPT_FILE, REJECTS_FILE = "kept.parquet", "rejects.parquet"
_OUTPUT_COLUMNS = ("generated", "generate_error", "generate_attempts", "judge_raw", "judge_error", "score",
                   "outcome", "stage", "reason")


@dataclass
class AugmentJobConfig:
    """augment: items in; generated samples that pass the format check and the rubric judge out."""

    input: str = ""
    """Items to augment: parquet, JSONL, JSON array or CSV."""
    output_dir: str = ""
    """Where kept.parquet, rejects.parquet, summary.json and config.yaml go."""
    id_column: str | None = "id"
    """Column identifying each item (must exist when set); null = none."""
    item_column: str = "item"
    """The item text filling {item} in the generation template (and {question} for the judge)."""
    template: str = "augment_reading_zh"
    """Generation template (a shipped name or a file path) with an {item} placeholder."""
    rubric_template: str = "rubric_zh"
    """Judge template: {question} = the item, {answer} = the generated text, optional {rubric}."""
    rubric: str | None = None
    """Extra scoring requirements for the judge template's {rubric}; null = none."""
    score_range: list[float] = field(default_factory=lambda: [0.0, 44.0])
    """[low, high] a judge score must lie in (rubric_zh: 0 to 44)."""
    threshold: float = 30.0
    """Keep generated samples scored at or above this."""
    max_rows: int | None = None
    """Augment only the first N items (a trial run); null = all."""
    max_failed_share: float = 0.2
    """The job fails (after writing everything) when more items than this share hit HTTP errors."""
    generator: HttpJudgeSpec = field(default_factory=HttpJudgeSpec)
    """The endpoint that writes the samples (a higher temperature gives more varied items)."""
    judge: HttpJudgeSpec = field(default_factory=HttpJudgeSpec)
    """The endpoint that scores them (temperature 0 for reproducible scores)."""

    def check(self) -> list[str]:
        problems = []
        if not self.input:
            problems.append("input: required (a parquet, JSONL, JSON or CSV table of items)")
        if not self.output_dir:
            problems.append("output_dir: required (a directory)")
        for name, endpoint in (("generator", self.generator), ("judge", self.judge)):
            if not endpoint.model:
                problems.append(f"{name}.model: required (the model name the endpoint serves)")
        wrong_range = interval_problems(self, "score_range")
        problems += wrong_range
        if not wrong_range and not self.score_range[0] <= self.threshold <= self.score_range[1]:
            problems.append(f"threshold: {self.threshold} is outside score_range {self.score_range}")
        problems += range_problems(self, max_failed_share="[0, 1]", max_rows=">= 0")
        problems += _template_problems("template", self.template, {"item"})
        problems += _template_problems("rubric_template", self.rubric_template, {"question", "answer"})
        return problems


def _template_problems(key: str, name: str, needed: set[str]) -> list[str]:
    try:
        used = placeholders(load_template(name))
    except TemplateError as e:
        return [f"{key}: {e}"]
    return [f"{key}: {name!r} has no {{{p}}} placeholder" for p in sorted(needed - used)]


def run(cfg: AugmentJobConfig) -> JobSummary:
    """Generate, validate, judge and sort every item; write kept, rejects and the summary."""
    started = time.time()
    cfg = replace(cfg, input=absolute(cfg.input), output_dir=absolute(cfg.output_dir))
    with local_output(cfg.output_dir) as out:  # a URI's files are staged here, uploaded at the end
        summary = _run(cfg, out, started)
    return JobSummary(join(cfg.output_dir, "summary.json"), summary)


def _run(cfg: AugmentJobConfig, out: Path, started: float) -> dict:
    save_config(cfg, out / "config.yaml")
    frame = read_items(cfg)
    items = [cell_text(v) for v in frame[cfg.item_column].tolist()]
    logger.info("augmenting %d items with %s, judged by %s", len(items), cfg.generator.model, cfg.judge.model)

    rows = [_new_row() for _ in items]
    for row, item in zip(rows, items):
        if item is None:
            _settle(row, "invalid_input", "input", f"missing_field: {cfg.item_column}")
    generate_samples(items, rows, cfg)
    validate_samples(rows)
    judge_samples(items, rows, cfg)

    result = pd.concat([frame.rename(columns={c: f"input_{c}" for c in frame.columns if c in _OUTPUT_COLUMNS}),
                        pd.DataFrame(rows, columns=list(_OUTPUT_COLUMNS))], axis=1)
    result["score"] = pd.array(result["score"].tolist(), dtype="Float64")
    kept = result[result["outcome"] == "kept"]
    rejects = result[result["outcome"] != "kept"]
    kept.to_parquet(out / KEPT_FILE, index=False)
    rejects.to_parquet(out / REJECTS_FILE, index=False)

    summary = summarize(result, cfg)
    summary.update(wall_time_s=round(time.time() - started, 2),
                   outputs={"kept": join(cfg.output_dir, KEPT_FILE), "rejects": join(cfg.output_dir, REJECTS_FILE)})
    write_json(out / "summary.json", summary)
    logger.info("items %d: generated %d, failed %d, malformed %d, rejected %d, kept %d; %s",
                summary["rows_in"], summary["generated"], summary["failed"], summary["malformed"],
                summary["rejected"], summary["kept"], "ok" if summary["ok"] else summary["problems"])
    return summary


def read_items(cfg: AugmentJobConfig) -> pd.DataFrame:
    frame = read_table(cfg.input)
    if cfg.max_rows is not None:
        frame = frame.head(cfg.max_rows)
    needed = [cfg.item_column] + ([cfg.id_column] if cfg.id_column else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"{cfg.input}: no column {', '.join(map(repr, missing))} "
                         f"(columns: {', '.join(map(str, frame.columns))}); set item_column / id_column")
    return frame.reset_index(drop=True)


def generate_samples(items: list[str | None], rows: list[dict], cfg: AugmentJobConfig) -> None:
    template = load_template(cfg.template)
    todo = [i for i, row in enumerate(rows) if row["outcome"] is None]
    results = HttpJudgeClient(cfg.generator).complete_many([render(template, item=items[i]) for i in todo])
    for i, result in zip(todo, results):
        row = rows[i]
        row.update(generated=result.text, generate_error=result.error, generate_attempts=result.attempts)
        if result.error is not None:
            _settle(row, "failed", "generate", result.error)
        elif result.finish_reason == "length":  # cut off at max_tokens: the last question is incomplete
            _settle(row, "malformed", "generate", TRUNCATED)


def validate_samples(rows: list[dict]) -> None:
    for row in rows:
        if row["outcome"] is None:
            ok, problem = parse_reading_item(row["generated"])
            if not ok:
                _settle(row, "malformed", "validate", problem)


def judge_samples(items: list[str | None], rows: list[dict], cfg: AugmentJobConfig) -> None:
    """The rubric judge (rayscore.judge.core, pointwise): a truncated or unreadable verdict rejects."""
    spec = JudgeSpec(mode="pointwise", template=cfg.rubric_template, rubric=cfg.rubric,
                     score_range=list(cfg.score_range), backend="http", http=cfg.judge)
    todo = [i for i, row in enumerate(rows) if row["outcome"] is None]
    judged = judge_items(spec, open_backend(spec), [{"question": items[i], "answer": rows[i]["generated"]}
                                                    for i in todo]) if todo else None
    for k, i in enumerate(todo):
        row, verdict = rows[i], judged.iloc[k]
        error = None if is_missing(verdict["error"]) else verdict["error"]
        row.update(judge_raw=verdict["raw"], judge_error=error)
        if error is not None:
            _settle(row, "failed", "judge", error)
            continue
        score = None if pd.isna(verdict["score"]) else float(verdict["score"])
        row["score"] = score
        if score is None:
            _settle(row, "rejected", "judge", f"score unreadable: {verdict['parse_problem']}")
        elif score < cfg.threshold:
            _settle(row, "rejected", "judge", f"score {score:g} < threshold {cfg.threshold:g}")
        else:
            _settle(row, "kept", "judge", None)


def summarize(result: pd.DataFrame, cfg: AugmentJobConfig) -> dict:
    """The account: rows in = kept + rejected + malformed + failed + invalid_input."""
    outcomes = Counter(result["outcome"])
    rows = len(result)
    failed = result[result["outcome"] == "failed"]
    rejected = result[result["outcome"] == "rejected"]
    scores = result["score"].dropna().astype(float)
    summary = {
        "rows_in": rows,
        "generated": int(result["generated"].notna().sum()),
        "failed": outcomes["failed"], "malformed": outcomes["malformed"], "rejected": outcomes["rejected"],
        "kept": outcomes["kept"], "invalid_input": outcomes["invalid_input"],
        "failed_by_stage": dict(Counter(failed["stage"])),
        "malformed_reasons": dict(Counter(result.loc[result["outcome"] == "malformed", "reason"])),
        "rejected_reasons": dict(Counter("score unreadable" if r.startswith("score unreadable") else "below threshold"
                                         for r in rejected["reason"])),
        "threshold": cfg.threshold,
        "mean_score": float(scores.mean()) if len(scores) else None,
        "keep_rate": round(outcomes["kept"] / rows, 6) if rows else None,
    }
    problems = []
    accounted = sum(summary[k] for k in ("kept", "rejected", "malformed", "failed", "invalid_input"))
    if accounted != rows:
        problems.append(f"{rows} items in but {accounted} accounted for")
    if outcomes["failed"] > cfg.max_failed_share * rows:
        problems.append(f"failed {outcomes['failed']} of {rows} > max_failed_share {cfg.max_failed_share}")
    return {"ok": not problems, "problems": problems, **summary}


def _new_row() -> dict:
    return {name: None for name in _OUTPUT_COLUMNS} | {"generate_attempts": 0}


def _settle(row: dict, outcome: str, stage: str, reason: str | None) -> None:
    row.update(outcome=outcome, stage=stage, reason=reason)
