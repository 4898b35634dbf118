"""Distil a teacher into a small student, then score and filter a whole corpus with the student:
FineWeb-Edu's recipe (pointwise grades -> a classifier) or its pairwise twin (verdicts on pairs of
responses -> a reward model), as one job.

Run as:
  python -m jobs.distill --config configs/distill/demo.yaml                  # offline, minutes
  python -m jobs.distill --config configs/distill/demo_pairwise.yaml         # the pairwise loop, offline
  python -m jobs.distill --config configs/distill/edu.yaml corpus=data/web judge.http.base_url=http://vllm:8000/v1

Steps, each an existing job run with its own nested config (judge, train or train_reward, score);
`judge.mode` picks the student's module (distill/pointwise.py or distill/pairwise.py):
  1. sample     sample_rows rows of the corpus, chosen by a hash of their id (the same rows on
                every run, whatever the file layout) -> <output_dir>/sample.parquet
  2. teacher    the judge job (backend http) labels the sample -> <output_dir>/teacher/; exactly
                once and resumable: a rerun sends no request for a row already judged.
                Pairwise, each pair is judged in both orders.
  3. split      the usable labels -> labels/train.parquet, labels/heldout.parquet (by a hash of the
                text or prompt); every other sampled row -> labels/set_aside.parquet with its
                reason. Pointwise: rows with a score, the grade rounded to a class
                0..train.num_labels-1 for a classifier or kept as a number for a regressor.
                Pairwise: pairs whose verdict survives the swap and names a winner, as
                prompt/chosen/rejected; ties, inconsistent and unreadable verdicts are set aside.
  4. student    train_classifier (pointwise) or train_reward (pairwise) -> <output_dir>/student/
  5. score      score_batch over the whole corpus with the student (classifier or pair kind) -> scored/
  6. evaluate   the student on the held-out rows against the teacher -> eval/. Pointwise:
                agreement and F1 at the threshold, Spearman, confusion, plots (eval/pointwise.py).
                Pairwise: verdict agreement, agreement on the pairs it is sure of, calibration, and
                the share of the teacher's held-out ties it is sure of all the same.
  7. filter     pointwise: rows with score >= threshold; pairwise: pairs the student prefers one
                way with p >= min_preference, as chosen/rejected -> kept/part-*.parquet

summary.json: teacher calls made (HTTP requests, retries included), rows the teacher labelled and
set aside (by reason), the student's held-out agreement, rows scored and kept, and the cost ratio:
teacher calls avoided (what a teacher-only pipeline would send for the whole corpus, one request
a row pointwise and two a pair pairwise, minus those made) / calls made.

With `demo.enabled: true` the job first writes a generated corpus (distill/corpus.py) to `corpus`
if it is not there, and starts the stand-in teacher (distill/teacher.py) on a free loopback port
for the judge to call.
"""

from __future__ import annotations

import hashlib
import logging
import time
from contextlib import nullcontext
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads

from rayscore.config import save_config
from rayscore.distill import pairwise, pointwise
from rayscore.distill.config import DistillJobConfig
from rayscore.io import (
    JobSummary,
    absolute,
    exists,
    filesystem,
    join,
    local_output,
    relocated,
    write_json,
    write_parquet,
)
from rayscore.judge.job import read_judgements
from rayscore.report import write_report

logger = logging.getLogger(__name__)

SAMPLE_FILE, KEPT_DIR = "sample.parquet", "kept"


def run(cfg: DistillJobConfig) -> JobSummary:
    """The seven steps; Ray must be initialised (jobs call ensure_ray())."""
    started = time.time()
    student = pairwise if cfg.judge.mode == "pairwise" else pointwise
    cfg = replace(cfg, output_dir=absolute(cfg.output_dir), corpus=absolute(cfg.corpus))
    # The nested jobs (teacher/, student/, scored/) and the files they read or the corpus's size
    # makes (sample.parquet, kept/) go to output_dir itself; the job's own small files (config,
    # labels, eval, summary) are written in `out`, a URI's staged there and uploaded at the end.
    with local_output(cfg.output_dir) as out:
        summary = _run(cfg, student, out, started)
    return JobSummary(join(cfg.output_dir, "summary.json"), summary)


def _run(cfg: DistillJobConfig, student, out: Path, started: float) -> dict:
    from rayscore.distill.corpus import write_corpus
    from rayscore.distill.teacher import RubricTeacher
    from rayscore.judge import job as judge_job
    from rayscore.score import job as score_job

    at = partial(join, cfg.output_dir)
    save_config(cfg, out / "config.yaml")
    if cfg.demo.enabled and not exists(cfg.corpus):
        write_corpus(student.demo_corpus(cfg.demo.corpus_rows, cfg.demo.seed), cfg.corpus)
        logger.info("demo: wrote a generated corpus of %d rows to %s", cfg.demo.corpus_rows, cfg.corpus)
    timings: dict[str, float] = {}

    def timed(step: str, since: float) -> float:
        timings[step] = round(time.time() - since, 1)
        return time.time()

    t = time.time()
    corpus_rows, sample = sample_corpus(cfg)
    write_parquet(sample, at(SAMPLE_FILE), row_group_size=256)
    logger.info("sample: %d of %d corpus rows (%.1f%%) for the teacher", len(sample), corpus_rows,
                100 * len(sample) / corpus_rows)
    t = timed("sample", t)

    teacher = RubricTeacher() if cfg.demo.enabled else None  # bound to its port now, serving inside `with`
    judge_cfg = replace(cfg.judge, input=at(SAMPLE_FILE), output_dir=at("teacher"),
                        id_column=cfg.id_column, passthrough_columns=cfg.corpus_columns(),
                        **student.judge_columns(cfg))
    if teacher is not None:
        judge_cfg = replace(judge_cfg, http=replace(judge_cfg.http, base_url=teacher.base_url,
                                                    model=judge_cfg.http.model or teacher.model))
        logger.info("demo: stand-in teacher at %s", teacher.base_url)
    with teacher or nullcontext():
        judged = judge_job.run(judge_cfg).data
    t = timed("teacher", t)
    verdicts = read_judgements(judge_cfg.output_dir, errors=True)  # rows whose requests failed too
    calls = teacher_calls(verdicts)

    labels, set_aside = student.labels(verdicts, cfg)
    train_rows, heldout = student.split(labels, cfg)
    (out / "labels").mkdir(parents=True, exist_ok=True)
    train_rows.to_parquet(out / "labels" / "train.parquet", index=False)
    heldout.to_parquet(out / "labels" / "heldout.parquet", index=False)
    set_aside.to_parquet(out / "labels" / "set_aside.parquet", index=False)
    reasons = {str(k): int(v) for k, v in set_aside["reason"].value_counts().items()}
    logger.info("teacher labels: %d usable (set aside: %s); %d to train, %d held out",
                len(labels), reasons or "none", len(train_rows), len(heldout))
    t = timed("split", t)

    trained = student.train_student(cfg, out / "labels", at("student"))
    t = timed("student", t)

    score_cfg = replace(cfg.score, input=cfg.corpus, output=at("scored"), id_column=cfg.id_column,
                        gold_column=None, scorer=student.scorer(cfg, str(trained.model_dir)))
    scored = score_job.run(score_cfg).data
    t = timed("score", t)

    report = relocated(student.evaluate(at("scored"), heldout, set_aside, cfg, out / "eval"), out, cfg.output_dir)
    t = timed("evaluate", t)
    kept = student.keep(at("scored"), at(KEPT_DIR), cfg)
    timed("filter", t)

    summary = distill_summary(cfg, corpus_rows, sample, judged, calls, labels, reasons, train_rows, heldout,
                              trained, scored, report, kept, student.TEACHER_ONLY_CALLS_PER_ROW)
    summary.update(stage_seconds=timings, wall_time_s=round(time.time() - started, 1))
    write_json(out / "summary.json", summary)
    write_report(out, cfg.output_dir)
    logger.info("teacher calls %d for %d corpus rows; student on %d held-out rows: %s; kept %d of %d scored; "
                "cost ratio %.1f; %s", calls, corpus_rows, report["n"], report["headline"], kept,
                scored["rows_scored"], summary["cost_ratio"] or 0, "ok" if summary["ok"] else summary["problems"])
    return summary


# --- steps -----------------------------------------------------------------------------------

def sample_corpus(cfg: DistillJobConfig) -> tuple[int, pd.DataFrame]:
    """(corpus rows, the sample_rows rows whose hash of (seed, id) is smallest: the columns the
    teacher reads). Only the id column is read for all rows; the others only for the sampled ones."""
    fs, root = filesystem(cfg.corpus)
    dataset = pads.dataset(root, filesystem=fs, format="parquet")
    columns = cfg.corpus_columns()
    missing = [c for c in columns if c not in dataset.schema.names]
    if missing:
        keys = "id_column / text_column" if cfg.judge.mode == "pointwise" else \
            "id_column / prompt_column / answer_1_column / answer_2_column"
        raise ValueError(f"{cfg.corpus}: no column(s) {missing} ({keys}); columns are {dataset.schema.names}")
    ids = dataset.to_table(columns=[cfg.id_column])[cfg.id_column].to_pylist()
    keys = np.array([int(hashlib.md5(f"{cfg.seed}:{i}".encode()).hexdigest()[:15], 16) for i in ids])
    chosen = set(np.asarray(ids, dtype=object)[np.argsort(keys, kind="stable")[:cfg.sample_rows]].tolist())
    table = dataset.to_table(columns=columns,
                             filter=pads.field(cfg.id_column).isin(pa.array(list(chosen))))
    sample = table.to_pandas().sort_values(cfg.id_column, kind="stable").reset_index(drop=True)
    return len(ids), sample


def teacher_calls(rows: pd.DataFrame) -> int:
    """Requests sent to the teacher for the sample (every attempt, over the judged rows and any
    rows whose requests failed)."""
    columns = [c for c in ("attempts", "attempts_ab", "attempts_ba") if c in rows]  # pointwise, pairwise
    return int(sum(rows[c].fillna(0).sum() for c in columns))


def distill_summary(cfg, corpus_rows, sample, judged, calls, labels, set_aside, train_rows, heldout, trained,
                    scored, student, kept, calls_per_row) -> dict:
    problems = []
    for name, ok, detail in (("teacher", judged.get("ok"), judged.get("problems")),
                             ("score", scored.get("ok"), scored.get("problems"))):
        if not ok:
            problems.append(f"{name}: {detail}")
    if not trained.ok:
        problems.append("student: no model was exported")
    accounted = len(labels) + sum(set_aside.values()) + judged.get("rows_quarantined", 0)
    if accounted != len(sample):
        problems.append(f"teacher: labelled + set aside + quarantined = {accounted} != {len(sample)} sampled rows")
    if scored["rows_scored"] + scored["rows_quarantined"] != corpus_rows:
        problems.append(f"score: rows scored + quarantined != {corpus_rows} corpus rows")
    if student["heldout_rows_scored"] != student["heldout_rows"]:
        problems.append(f"evaluate: {student['heldout_rows'] - student['heldout_rows_scored']} held-out rows "
                        "missing from the scored corpus")
    avoided = calls_per_row * corpus_rows - calls
    return {
        "ok": not problems, "problems": problems,
        "corpus_rows": corpus_rows, "sample_rows": len(sample),
        "teacher": {"calls": calls, "rows_labelled": len(labels), "rows_set_aside": sum(set_aside.values()),
                    "set_aside_by_reason": set_aside,
                    "labelled_share": round(len(labels) / corpus_rows, 6) if corpus_rows else None,
                    "score_distribution": judged.get("scores"), "verdict_counts": judged.get("verdict_counts"),
                    "consistency_rate": judged.get("consistency_rate"), "summary": str(
                        join(cfg.output_dir, "teacher", "summary.json"))},
        "student": {"model_dir": str(trained.model_dir), "train_rows": len(train_rows),
                    "heldout_rows": len(heldout),
                    "task": "reward" if cfg.judge.mode == "pairwise" else cfg.train.task, **student},
        **({"min_preference": cfg.min_preference} if cfg.judge.mode == "pairwise" else {"threshold": cfg.threshold}),
        "rows_scored": scored["rows_scored"], "rows_quarantined": scored["rows_quarantined"],
        "rows_kept": kept, "kept_share": round(kept / scored["rows_scored"], 6) if scored["rows_scored"] else None,
        "teacher_calls_avoided": avoided,
        "cost_ratio": round(avoided / calls, 3) if calls else None,
        "outputs": {"kept": join(cfg.output_dir, KEPT_DIR), "scored": join(cfg.output_dir, "scored"),
                    "student": str(trained.model_dir), "eval": join(cfg.output_dir, "eval")},
    }
