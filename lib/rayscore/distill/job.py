"""Distil a teacher's pointwise grades into a small student, then score and filter a whole corpus
with the student (FineWeb-Edu's recipe as one job).

Run as:
  python -m jobs.distill --config configs/distill/demo.yaml                  # offline, minutes
  python -m jobs.distill --config configs/distill/edu.yaml corpus=data/web judge.http.base_url=http://vllm:8000/v1

Steps, each an existing job run with its own nested config (judge, train, score):
  1. sample     sample_rows rows of the corpus, chosen by a hash of their id (the same rows on
                every run, whatever the file layout) -> <output_dir>/sample.parquet
  2. teacher    the judge job (pointwise, backend http) grades the sample -> <output_dir>/teacher/;
                exactly once and resumable: a rerun sends no request for a row already judged
  3. split      rows with a teacher score -> labels/train.parquet, labels/heldout.parquet (by a
                hash of the text, train.data.eval_fraction held out); grades are rounded to a class
                0..train.num_labels-1 for a classifier, kept as numbers for a regressor
  4. student    train_classifier on labels/train.parquet -> <output_dir>/student/
  5. score      score_batch over the whole corpus with the student (classifier kind) -> scored/
  6. evaluate   the student's corpus scores on the held-out rows against the teacher's
                (eval/pointwise.py: agreement and F1 at the threshold, Spearman, confusion, plots)
                -> eval/
  7. filter     the scored rows with score >= threshold -> kept/part-*.parquet

summary.json: teacher calls made (HTTP requests, retries included), rows the teacher labelled,
the student's held-out agreement, rows scored and kept, and the cost ratio: teacher calls avoided
(one per corpus row a teacher-only pipeline would grade, minus those made) / calls made.

With `demo.enabled: true` the job first writes a generated corpus (distill/corpus.py) to `corpus`
if it is not there, and starts the stand-in teacher (distill/teacher.py) on a free loopback port
for the judge to call. Pairwise teacher verdicts (reward pairs) are not distilled here: train_reward
takes those.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from rayscore.config import save_config
from rayscore.data.labels import split_rows
from rayscore.eval.pointwise import pointwise_report
from rayscore.io import JobSummary, absolute, write_json
from rayscore.judge.job import JudgeJobConfig, read_judgements
from rayscore.score.pipeline import ScoreJobConfig
from rayscore.train.classifier import ClassifierJobConfig

logger = logging.getLogger(__name__)

SAMPLE_FILE, KEPT_DIR = "sample.parquet", "kept"


@dataclass
class DistillDemoSpec:
    """The offline demo: a generated corpus and the loopback stand-in teacher."""

    enabled: bool = False
    """Generate the corpus (if `corpus` does not exist) and serve the stand-in teacher on 127.0.0.1."""
    corpus_rows: int = 5000
    """Rows of the generated corpus."""
    seed: int = 0
    """Seed of the generated corpus."""

    def check(self) -> list[str]:
        return [] if self.corpus_rows >= 1 else [f"corpus_rows: must be >= 1, got {self.corpus_rows}"]


@dataclass
class DistillJobConfig:
    """distill: a corpus in; teacher labels on a sample, a student model, the corpus scored, the
    rows at or above the threshold kept, and summary.json out."""

    # Keys of the nested job configs this job fills in run() (their own checks are skipped).
    SET_BY_JOB: ClassVar[tuple[str, ...]] = (
        "judge.input", "judge.output_dir", "train.data.train_path", "score.input", "score.output",
        "score.scorer.model_dir")

    output_dir: str = "out/distill"
    """Everything the job writes goes under this directory (the nested jobs' outputs too)."""
    corpus: str = ""
    """Parquet file or directory of the corpus (id_column and text_column)."""
    id_column: str = "id"
    """Column identifying each corpus row (sampling, joins and outputs use it)."""
    text_column: str = "text"
    """Column holding the text the teacher grades and the student scores."""
    sample_rows: int = 500
    """Corpus rows the teacher grades (chosen by a hash of their id)."""
    threshold: float = 3.0
    """A row is kept when its student score is >= this (and counts as positive in the binary agreement)."""
    seed: int = 0
    """Seed of the sample (the split has its own: train.data.seed)."""
    judge: JudgeJobConfig = field(default_factory=lambda: JudgeJobConfig(template="edu_value_en", score_range=[0, 5]))
    """The teacher (the judge job, pointwise); input, output_dir and the columns are set by this job."""
    train: ClassifierJobConfig = field(default_factory=lambda: ClassifierJobConfig(num_labels=6))
    """The student (train_classifier); data paths, output_dir and threshold are set by this job."""
    score: ScoreJobConfig = field(default_factory=lambda: ScoreJobConfig(num_actors=2, cpus_per_actor=0.5))
    """Scoring the corpus with the student (score_batch); input, output and the scorer model are set by this job."""
    demo: DistillDemoSpec = field(default_factory=DistillDemoSpec)
    """The offline demo (generated corpus, loopback teacher)."""

    def check(self) -> list[str]:
        problems = []
        if not self.corpus:
            problems.append("corpus: required (a parquet file or directory)")
        if self.sample_rows < 10:
            problems.append(f"sample_rows: must be >= 10 (the student needs rows to train and hold out), "
                            f"got {self.sample_rows}")
        if self.judge.mode != "pointwise":
            problems.append("judge.mode: distill trains on pointwise grades; pairwise verdicts go to train_reward")
        if self.judge.backend != "http":
            problems.append("judge.backend: the teacher is an endpoint (http)")
        return problems


def run(cfg: DistillJobConfig) -> JobSummary:
    """The seven steps; Ray must be initialised (jobs call ensure_ray())."""
    from rayscore.distill.corpus import generate_corpus, write_corpus
    from rayscore.distill.teacher import RubricTeacher
    from rayscore.judge import job as judge_job
    from rayscore.score import pipeline
    from rayscore.train import classifier

    started = time.time()
    cfg = replace(cfg, output_dir=absolute(cfg.output_dir), corpus=absolute(cfg.corpus))
    out = Path(cfg.output_dir)
    save_config(cfg, out / "config.yaml")
    if cfg.demo.enabled and not Path(cfg.corpus).exists():
        write_corpus(generate_corpus(cfg.demo.corpus_rows, cfg.demo.seed), cfg.corpus)
        logger.info("demo: wrote a generated corpus of %d rows to %s", cfg.demo.corpus_rows, cfg.corpus)
    timings: dict[str, float] = {}

    def timed(step: str, since: float) -> float:
        timings[step] = round(time.time() - since, 1)
        return time.time()

    t = time.time()
    corpus_rows, sample = sample_corpus(cfg)
    sample.to_parquet(out / SAMPLE_FILE, index=False, row_group_size=256)
    logger.info("sample: %d of %d corpus rows (%.1f%%) for the teacher", len(sample), corpus_rows,
                100 * len(sample) / corpus_rows)
    t = timed("sample", t)

    teacher = RubricTeacher() if cfg.demo.enabled else None  # bound to its port now, serving inside `with`
    judge_cfg = replace(cfg.judge, input=str(out / SAMPLE_FILE), output_dir=str(out / "teacher"),
                        id_column=cfg.id_column, answer_column=cfg.text_column,
                        passthrough_columns=[cfg.id_column, cfg.text_column])
    if teacher is not None:
        judge_cfg = replace(judge_cfg, http=replace(judge_cfg.http, base_url=teacher.base_url,
                                                    model=judge_cfg.http.model or teacher.model))
        logger.info("demo: stand-in teacher at %s", teacher.base_url)
    with teacher or nullcontext():
        judged = judge_job.run(judge_cfg).data
    t = timed("teacher", t)
    grades = read_judgements(judge_cfg.output_dir)
    calls = teacher_calls(judge_cfg.output_dir)

    labels, unusable = teacher_labels(grades, cfg)
    train_rows, heldout = split_rows(labels, cfg.train.data.eval_fraction, cfg.train.data.seed)
    (out / "labels").mkdir(parents=True, exist_ok=True)
    train_rows.to_parquet(out / "labels" / "train.parquet", index=False)
    heldout.to_parquet(out / "labels" / "heldout.parquet", index=False)
    logger.info("teacher labels: %d usable (%d without a score); %d to train, %d held out",
                len(labels), unusable, len(train_rows), len(heldout))
    t = timed("split", t)

    train_cfg = replace(cfg.train, output_dir=str(out / "student"), threshold=cfg.threshold,
                        data=replace(cfg.train.data, train_path=str(out / "labels" / "train.parquet"),
                                     eval_path=str(out / "labels" / "heldout.parquet"),
                                     text_column="text", label_column="label"))
    trained = classifier.run(train_cfg)
    t = timed("student", t)

    score_cfg = replace(cfg.score, input=cfg.corpus, output=str(out / "scored"), id_column=cfg.id_column,
                        gold_column=None,
                        scorer=replace(cfg.score.scorer, kind="classifier", model_dir=str(trained.model_dir),
                                       text_column=cfg.text_column, threshold=cfg.threshold))
    scored = pipeline.run(score_cfg).data
    t = timed("score", t)

    student = evaluate_student(out / "scored", heldout, cfg, out / "eval")
    t = timed("evaluate", t)
    kept = keep_rows(out / "scored", out / KEPT_DIR)
    timed("filter", t)

    summary = distill_summary(cfg, corpus_rows, sample, judged, calls, labels, unusable, train_rows, heldout,
                              trained, scored, student, kept)
    summary.update(stage_seconds=timings, wall_time_s=round(time.time() - started, 1))
    path = write_json(out / "summary.json", summary)
    logger.info("teacher calls %d for %d corpus rows (%.1f%%); student agreement %.3f, F1 %.3f on %d held-out "
                "rows; kept %d of %d scored; cost ratio %.1f; %s", calls, corpus_rows, 100 * calls / corpus_rows,
                student["agreement"] or 0, student["binary"]["f1"] or 0, student["n"], kept, scored["rows_scored"],
                summary["cost_ratio"] or 0, "ok" if summary["ok"] else summary["problems"])
    return JobSummary(str(path), summary)


# --- steps -----------------------------------------------------------------------------------

def sample_corpus(cfg: DistillJobConfig) -> tuple[int, pd.DataFrame]:
    """(corpus rows, the sample_rows rows whose hash of (seed, id) is smallest: id and text).
    Only the id column is read for all rows; the text only for the sampled ones."""
    dataset = pads.dataset(cfg.corpus, format="parquet")
    missing = [c for c in (cfg.id_column, cfg.text_column) if c not in dataset.schema.names]
    if missing:
        raise ValueError(f"{cfg.corpus}: no column(s) {missing} (id_column / text_column); "
                         f"columns are {dataset.schema.names}")
    ids = dataset.to_table(columns=[cfg.id_column])[cfg.id_column].to_pylist()
    keys = np.array([int(hashlib.md5(f"{cfg.seed}:{i}".encode()).hexdigest()[:15], 16) for i in ids])
    chosen = set(np.asarray(ids, dtype=object)[np.argsort(keys, kind="stable")[:cfg.sample_rows]].tolist())
    table = dataset.to_table(columns=[cfg.id_column, cfg.text_column],
                             filter=pads.field(cfg.id_column).isin(pa.array(list(chosen))))
    sample = table.to_pandas().sort_values(cfg.id_column, kind="stable").reset_index(drop=True)
    return len(ids), sample


def read_outputs(pattern: str) -> pd.DataFrame:
    """Every parquet file a job's summary points at (one file, or a glob of parts)."""
    files = sorted(glob.glob(pattern))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True) if files else pd.DataFrame()


def teacher_calls(judge_output: str) -> int:
    """Requests sent to the teacher for the sample (every attempt, over the judged rows and any
    rows whose requests failed)."""
    rows = read_judgements(judge_output, errors=True)
    return int(rows["attempts"].fillna(0).sum()) if "attempts" in rows else 0


def teacher_labels(grades: pd.DataFrame, cfg: DistillJobConfig) -> tuple[pd.DataFrame, int]:
    """(id, text, label, teacher_score) of the rows the teacher scored, and how many it did not.
    A classifier student learns the grade rounded to a class 0..num_labels-1."""
    text = cfg.text_column if cfg.text_column in grades else f"input_{cfg.text_column}"
    usable = grades["score"].notna() if len(grades) else pd.Series(dtype=bool)
    rows = grades[usable]
    score = rows["score"].astype(float)
    label = (score.round().clip(0, cfg.train.num_labels - 1).astype(int) if cfg.train.task == "classification"
             else score)
    ids = rows[cfg.id_column] if cfg.id_column in rows else rows["record_id"]
    labels = pd.DataFrame({"id": ids.astype(str).to_numpy(), "text": rows[text].to_numpy(),
                           "label": label.to_numpy(), "teacher_score": score.to_numpy()})
    return labels, int((~usable).sum())


def evaluate_student(scored_dir: Path, heldout: pd.DataFrame, cfg: DistillJobConfig, out_dir: Path) -> dict:
    """The student's corpus scores (score_batch's output) on the held-out rows, against the teacher."""
    columns = ["record_id", "score"] + (["predicted_class"] if cfg.train.task == "classification" else [])
    scored = read_outputs(str(scored_dir / "part-*.parquet"))[columns]
    joined = heldout.merge(scored, left_on="id", right_on="record_id", how="inner")
    classes = cfg.train.task == "classification"
    report = pointwise_report(joined["teacher_score"], joined["score"], cfg.threshold, out_dir,
                              title="student vs teacher",
                              gold_classes=joined["label"].tolist() if classes else None,
                              predicted_classes=joined["predicted_class"].tolist() if classes else None)
    report["heldout_rows"], report["heldout_rows_scored"] = len(heldout), len(joined)
    return report


def keep_rows(scored_dir: Path, kept_dir: Path) -> int:
    """Write each scored part's rows with label 1 (score >= threshold) to kept/; returns the rows kept.
    One part at a time: memory is one part, whatever the corpus size."""
    kept_dir.mkdir(parents=True, exist_ok=True)
    for old in kept_dir.glob("part-*.parquet"):
        old.unlink()  # a previous run's selection, maybe under another threshold or model
    kept = 0
    for path in sorted(scored_dir.glob("part-*.parquet")):
        table = pq.read_table(path)
        chosen = table.filter(pc.equal(table["label"], 1))
        if chosen.num_rows:
            pq.write_table(chosen, kept_dir / path.name)
        kept += chosen.num_rows
    return kept


def distill_summary(cfg, corpus_rows, sample, judged, calls, labels, unusable, train_rows, heldout, trained,
                    scored, student, kept) -> dict:
    problems = []
    for name, ok, detail in (("teacher", judged.get("ok"), judged.get("problems")),
                             ("score", scored.get("ok"), scored.get("problems"))):
        if not ok:
            problems.append(f"{name}: {detail}")
    if not trained.ok:
        problems.append("student: no model was exported")
    if scored["rows_scored"] + scored["rows_quarantined"] != corpus_rows:
        problems.append(f"score: rows scored + quarantined != {corpus_rows} corpus rows")
    if student["heldout_rows_scored"] != student["heldout_rows"]:
        problems.append(f"evaluate: {student['heldout_rows'] - student['heldout_rows_scored']} held-out rows "
                        "missing from the scored corpus")
    avoided = corpus_rows - calls
    return {
        "ok": not problems, "problems": problems,
        "corpus_rows": corpus_rows, "sample_rows": len(sample),
        "teacher": {"calls": calls, "rows_labelled": len(labels), "rows_without_score": unusable,
                    "labelled_share": round(len(labels) / corpus_rows, 6) if corpus_rows else None,
                    "score_distribution": judged.get("scores"), "summary": str(
                        Path(cfg.output_dir, "teacher", "summary.json"))},
        "student": {"model_dir": str(trained.model_dir), "train_rows": len(train_rows),
                    "heldout_rows": len(heldout), "task": cfg.train.task, **student},
        "threshold": cfg.threshold,
        "rows_scored": scored["rows_scored"], "rows_quarantined": scored["rows_quarantined"],
        "rows_kept": kept, "kept_share": round(kept / scored["rows_scored"], 6) if scored["rows_scored"] else None,
        "teacher_calls_avoided": avoided,
        "cost_ratio": round(avoided / calls, 3) if calls else None,
        "outputs": {"kept": str(Path(cfg.output_dir, KEPT_DIR)), "scored": str(Path(cfg.output_dir, "scored")),
                    "student": str(trained.model_dir), "eval": str(Path(cfg.output_dir, "eval"))},
    }
