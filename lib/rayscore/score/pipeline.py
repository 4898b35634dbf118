"""Score records (parquet, JSONL, CSV) on a Ray Data actor pool: validate, score, write, exactly once.

Run as:
  python -m jobs.score_batch --config configs/score_batch/addresses.yaml input=data/in output=data/out

Plan: the input's parquet footers are read on the driver (JSONL and CSV files are counted) and cut
into chunks of whole row groups or row ranges (chunks.py; rows_per_file rows, or as many as make
target_file_mb of output); a missing required column or an unreadable footer fails here, before
any scoring, naming the file and the column. Chunks already committed under this fingerprint for
the same input bytes are skipped; a chunk committed for other bytes (the file was overwritten or
edited) is re-scored and its parts replaced, and outputs of chunks the input no longer has are
removed; the log and summary.json count both. The rest stream through
`map_batches` on an actor pool: each actor loads the scorer once, and for each chunk reads its
rows file by file (data that cannot be read is quarantined as `unreadable_data`, named in the
summary; each file's columns are validated in their own types before the files are combined),
sets bad rows aside with a reason, scores the others sorted by length (a slice at a time, logging
progress), quarantines rows whose scores are not finite, and commits one output part, one
quarantine part, its sorted ids and a marker. Memory per actor is one chunk; the driver holds the
chunk list and one batch of ids per chunk (the duplicate-id report is a streaming merge of the
chunks' sorted ids), whatever the input size.

Exactly once: every output file is named from its chunk and the fingerprint of (model, scorer
config), and written to a temporary name and renamed; the marker, written last, is the commit.
A killed driver costs the chunks in flight: rerunning the same config skips committed chunks and
redoes the rest from scratch, overwriting whatever a killed attempt left. A killed actor is
restarted by Ray and its chunk retried (max_restarts=-1, max_task_retries=max_chunk_retries, set
explicitly below; Ray Data's defaults are the same but unbounded retries); a retried chunk that
was already committed is not redone. Outputs of another fingerprint in the output directory stop
the job unless overwrite=true, so a changed model or config never mixes with or reuses old rows.
Every row ends up exactly once in output or quarantine, and summary.json checks the account.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from rayscore.checks import resolve_check_set
from rayscore.config import to_dict
from rayscore.data.pairs import CORRECT, REVIEW, WRONG
from rayscore.eval.calibration import calibration_bins, calibration_report, merge_bins
from rayscore.eval.metrics import classification_from_counts
from rayscore.eval.operating_points import risk_coverage
from rayscore.io import JobSummary, absolute
from rayscore.logs import Progress, quiet_libraries, setup_logging
from rayscore.models import load_calibration
from rayscore.report import REPORT, facts_of, render_html
from rayscore.score.chunks import (Chunk, ChunkStore, InputError, Span, combine_tables, compressed_bytes_per_row,
                                   filesystem, plan_chunks, read_inputs, read_span)
from rayscore.score.scorers import QualityScorer, ScorerSpec, ThresholdSpec, calibrated_points, default_threshold
from rayscore.score.validate import OverLength, first_reasons, invalid_utf8, repair_utf8, validate_column

logger = logging.getLogger(__name__)


@dataclass
class ScoreJobConfig:
    """score_batch: records in, scores + labels + quarantine + summary.json out."""

    input: str = ""
    """Parquet, JSONL or CSV file, or a directory of them (local, s3://, gs://)."""
    output: str = ""
    """Output directory: part-*.parquet, quarantine/, _committed/, summary.json, config.yaml."""
    scorer: ScorerSpec = field(default_factory=ScorerSpec)
    """The scorer and its model."""
    id_column: str | None = "record_id"
    """Column holding each row's id; null = derive one from file and row position."""
    passthrough_columns: list[str] | None = None
    """Input columns copied to the output; null = all of them."""
    rows_per_file: int = 50_000
    """Rows per chunk = per output file (whole row groups; also the unit of resume and of actor memory)."""
    max_rows: int | None = None
    """Score only the input's first N rows (a trial run); null = all."""
    target_file_mb: float | None = None
    """Aim output files at this size instead of rows_per_file (estimated from the input footers; summary.json shows the real mean_file_mb)."""
    rows_per_score_call: int = 4096
    """Rows handed to the scorer at a time within a chunk (longest-similar together); progress is logged between calls."""
    num_actors: int = 2
    """Scoring actors (the pool's maximum size)."""
    min_actors: int | None = None
    """Smallest pool size for an autoscaling cluster; null = fixed at num_actors."""
    cpus_per_actor: float = 1.0
    """CPUs per actor (its torch threads); keep some CPU free on small machines."""
    gpus_per_actor: float = 0.0
    """GPUs per actor (fractions share a GPU)."""
    max_text_chars: int = 2000
    """Texts longer than this are truncated or quarantined (over_length)."""
    over_length: OverLength = "quarantine"
    """What happens to a text over max_text_chars."""
    max_quarantine_share: float = 0.05
    """The job fails (after writing everything) when more rows than this share are quarantined."""
    gold_column: str | None = "label"
    """Gold label column: accuracy/P/R/F1 in the summary when present."""
    group_column: str | None = None
    """Break gold metrics down by this column when present (e.g. error_type)."""
    progress_every_s: float = 30.0
    """Seconds between progress log lines (driver: rows/s over the job; actors: within a long chunk)."""
    max_chunk_retries: int = 3
    """Retries of a chunk whose actor died (killed, preempted, out of memory); then the job fails."""
    overwrite: bool = False
    """Delete outputs of another model or config in `output` instead of failing."""

    def check(self) -> list[str]:
        problems = []
        if not self.input:
            problems.append("input: required (a parquet, JSONL or CSV file, or a directory)")
        if not self.output:
            problems.append("output: required (a directory)")
        if self.rows_per_file < 1:
            problems.append(f"rows_per_file: must be >= 1, got {self.rows_per_file}")
        if self.max_rows is not None and self.max_rows < 0:
            problems.append(f"max_rows: must be >= 0, got {self.max_rows}")
        if self.target_file_mb is not None and self.target_file_mb <= 0:
            problems.append(f"target_file_mb: must be > 0, got {self.target_file_mb}")
        if self.rows_per_score_call < 1:
            problems.append(f"rows_per_score_call: must be >= 1, got {self.rows_per_score_call}")
        if self.max_chunk_retries < 0:
            problems.append(f"max_chunk_retries: must be >= 0, got {self.max_chunk_retries}")
        if self.max_text_chars < 1:
            problems.append(f"max_text_chars: must be >= 1, got {self.max_text_chars}")
        if self.num_actors < 1:
            problems.append(f"num_actors: must be >= 1, got {self.num_actors}")
        if self.min_actors is not None and not 1 <= self.min_actors <= self.num_actors:
            problems.append(f"min_actors: must be in [1, num_actors={self.num_actors}], got {self.min_actors}")
        if not 0 <= self.max_quarantine_share <= 1:
            problems.append(f"max_quarantine_share: must be in [0, 1], got {self.max_quarantine_share}")
        return problems


def scoring_fingerprint(cfg: ScoreJobConfig) -> str:
    """Identity of the results: the model's weights plus every setting that changes a row's output."""
    settings = cfg.scorer.identity()
    settings.update(id_column=cfg.id_column, passthrough=cfg.passthrough_columns, max_text_chars=cfg.max_text_chars,
                    over_length=cfg.over_length)
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]


def run(cfg: ScoreJobConfig) -> JobSummary:
    """Score every pending chunk; Ray must be initialised (jobs call ray.init())."""
    started = time.time()
    given = cfg = absolute_paths(cfg)
    if cfg.scorer.kind not in ("generative", "judge"):
        try:  # the model's check set, verified before any work (actors resolve it again)
            resolve_check_set(cfg.scorer.model_dir, cfg.scorer.checks)
        except ValueError as e:
            raise InputError(str(e)) from None
    spec, threshold_choice = resolve_spec(cfg.scorer)
    cfg = replace(cfg, scorer=spec)
    fingerprint = scoring_fingerprint(cfg)
    store = ChunkStore(cfg.output, fingerprint)
    if cfg.overwrite:
        store.clear()
    foreign = store.foreign_outputs()
    if foreign:
        raise InputError(f"{cfg.output}: holds results of another model or scorer config ({foreign[0]}, "
                         f"{len(foreign)} in all; this run's fingerprint is {fingerprint}); use a new output "
                         "directory or set overwrite=true")
    store.clear_tmp()
    inputs = read_inputs(cfg.input, spec.input_columns() + ([cfg.id_column] if cfg.id_column else []))
    rows_per_chunk = chunk_rows(cfg, inputs)
    # max_rows is no part of the fingerprint: a trial run's whole chunks are a full run's first chunks.
    chunks = plan_chunks(inputs, rows_per_chunk, cfg.max_rows)
    skipped = inputs.skipped
    del inputs
    removed = store.remove_unplanned(chunks)
    if removed:
        logger.warning("removed %d output files of chunks the input no longer has, e.g. %s", len(removed), removed[0])
    pending, changed = [], []
    for chunk in chunks:
        marker = store.marker(chunk)
        stale = marker is not None and marker["key"] != chunk.key
        if stale or needs_work(marker):  # new, changed, or committed with rows whose scoring failed
            pending.append(chunk)
            if stale:
                changed.append(chunk)
    logger.info("%d chunks of ~%d rows (%d rows); %d already committed, %d to score; fingerprint %s",
                len(chunks), rows_per_chunk, sum(c.rows for c in chunks), len(chunks) - len(pending),
                len(pending), fingerprint)
    if changed:
        logger.warning("%d committed chunks cover input that changed since (size, mtime or content); re-scoring "
                       "them: %s", len(changed), ", ".join(f"{c.name} ({c.spans[0].path})" for c in changed[:5]))
    store.write_file("config.yaml", yaml.safe_dump(to_dict(given), allow_unicode=True, sort_keys=False))

    done_rows = score_pending(cfg, fingerprint, pending) if pending else 0

    summary = summarize([r for r in map(store.committed, chunks) if r is not None], chunks, cfg)
    wall = time.time() - started
    summary.update(fingerprint=fingerprint, kind=spec.kind, rows_per_chunk=rows_per_chunk,
                   wall_time_s=round(wall, 2), rows_this_run=done_rows,
                   rows_per_s=round(done_rows / wall, 2) if done_rows else None,
                   chunks_rescored_changed_input=len(changed),
                   chunk_files_removed=len(removed),
                   skipped_files={"count": len(skipped), "files": skipped[:SKIPPED_LISTED]})
    if threshold_choice:
        summary["threshold_choice"] = threshold_choice
    if spec.kind == "quality":
        summary["outcomes"] = outcomes_summary(given.scorer, summary)
    if cfg.id_column:
        summary["duplicate_ids"] = store.duplicate_ids(chunks)
        if summary["duplicate_ids"]["ids"]:
            logger.warning("%s: %d record ids occur on more than one row (%d rows), e.g. %s", cfg.id_column,
                           summary["duplicate_ids"]["ids"], summary["duplicate_ids"]["rows"],
                           summary["duplicate_ids"]["examples"])
    summary.update(write_plots(store, summary))
    path = store.write_file("summary.json", json.dumps(summary, ensure_ascii=False, indent=2))
    store.write_file(REPORT, render_html(facts_of(summary, sorted(summary.get("plots", {}))), cfg.output))
    logger.info("rows in %d = scored %d + quarantined %d; %s; %s",
                summary["rows_in"], summary["rows_scored"], summary["rows_quarantined"],
                summary["value_counts"], "ok" if summary["ok"] else summary["problems"])
    return JobSummary(path, summary)


def score_pending(cfg: ScoreJobConfig, fingerprint: str, pending: list[Chunk]) -> int:
    """Stream the pending chunks through the actor pool; returns the rows they held."""
    import ray

    ds = ray.data.from_items([{"chunk": json.dumps(c.to_json())} for c in pending],
                             override_num_blocks=len(pending))
    with warnings.catch_warnings():
        # max_restarts / max_task_retries have no named parameter in Ray 2.60 and its **kwargs form
        # warns (removal planned for 2.64); the pin is <2.61, and test_score_exactly_once would
        # catch a change.
        warnings.simplefilter("ignore", DeprecationWarning)
        ds = ds.map_batches(
            ChunkWorker,
            fn_constructor_kwargs={"cfg": cfg, "fingerprint": fingerprint},
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(
                min_size=min(cfg.min_actors or cfg.num_actors, len(pending)),
                max_size=min(cfg.num_actors, len(pending)),
                max_tasks_in_flight_per_actor=1),
            num_cpus=cfg.cpus_per_actor,
            num_gpus=cfg.gpus_per_actor or None,
            # Explicit, not Ray Data's defaults (both -1): a dead actor (killed, preempted, OOM) is
            # restarted without limit, but a chunk that keeps killing its actor fails the job after
            # max_chunk_retries instead of looping forever. Python errors are not retried: they recur.
            max_restarts=-1,
            max_task_retries=cfg.max_chunk_retries,
        )
    store = ChunkStore(cfg.output, fingerprint)
    # Rows to send: a new chunk's, or a committed chunk's failed rows only.
    todo = sum(c.rows if (r := store.committed(c)) is None else r["rows_error"] for c in pending)
    progress = Progress(todo, every_s=cfg.progress_every_s, what="scored", log=logger)
    errors = retries = 0
    for row in ds.iter_rows():
        record = json.loads(row["record"])
        errors += record.get("rows_error", 0)
        retries += record.get("retries", 0)
        progress.advance(record.pop("_work"), **failures(errors, retries))
    progress.finish(**failures(errors, retries))
    return progress.done


def failures(errors: int, retries: int) -> dict:
    """The progress line's error and retry counts, said once there are any."""
    return {"errors": errors, "retries": retries} if errors or retries else {}


def needs_work(record: dict | None) -> bool:
    """A chunk to (re)do: not committed, or committed with rows whose scoring failed (errors)."""
    return record is None or bool(record.get("rows_error"))


def absolute_paths(cfg: ScoreJobConfig) -> ScoreJobConfig:
    """Local paths made absolute on the driver (actors run in other directories)."""
    spec = cfg.scorer
    threshold_from = replace(spec.threshold_from, path=absolute(spec.threshold_from.path))
    return replace(cfg, input=absolute(cfg.input), output=absolute(cfg.output),
                   scorer=replace(spec, model_dir=absolute(spec.model_dir), threshold_from=threshold_from))


def resolve_spec(spec: ScorerSpec) -> tuple[ScorerSpec, dict | None]:
    """The spec the actors get: a quality threshold chosen on a validation set is chosen here, once,
    on the driver (loading the model once), and handed over as a plain threshold. A quality spec
    with no threshold stays so: its actors label by the model's operating points (正确 / 待审 /
    错误), which a threshold would replace."""
    if spec.kind == "classifier" and spec.threshold is None:
        spec = replace(spec, threshold=default_threshold(load_calibration(spec.model_dir)))
    if spec.kind != "quality" or not spec.threshold_from.path:
        return spec, None
    try:
        scorer = QualityScorer(spec)
    except (ValueError, FileNotFoundError) as e:
        raise InputError(str(e)) from None
    return replace(spec, threshold=scorer.spec.threshold, threshold_from=ThresholdSpec()), scorer.threshold_choice


RISK_BINS = 200
"""Bins of p_correct behind the risk-coverage curve (the operating points sit near 0 and 1)."""
SKIPPED_LISTED = 20
"""Skipped input files named in summary.json (all are counted)."""
UNREADABLE_LISTED = 20
"""Unreadable file spans named in summary.json (all are counted)."""


def chunk_rows(cfg: ScoreJobConfig, footers) -> int:
    """rows_per_file, or the rows that make about target_file_mb of output: the kept input
    columns' compressed bytes per row (from the footers) plus ~8 bytes per score column
    (zstd-compressed floats and labels) and the record id and fingerprint (~16). An upper
    estimate: snappy-compressed address records came out at about 0.6x it (output is zstd), so
    files land at 0.6-1x the target."""
    if cfg.target_file_mb is None:
        return cfg.rows_per_file
    kept = None if cfg.passthrough_columns is None else list(
        {*cfg.passthrough_columns, *cfg.scorer.input_columns(), *([cfg.id_column] if cfg.id_column else [])})
    per_row = compressed_bytes_per_row(footers, kept) + 8 * len(cfg.scorer.output_columns()) + 16
    return max(1, int(cfg.target_file_mb * 2**20 / per_row))


class ChunkWorker:
    """One per actor: loads the scorer once, then scores and commits whole chunks."""

    def __init__(self, cfg: ScoreJobConfig, fingerprint: str):
        # An actor is its own process: without this its progress lines (INFO) would be dropped.
        # Ray forwards the actor's stderr to the driver's log.
        if not logging.getLogger().handlers:
            setup_logging()
        quiet_libraries()
        self.cfg, self.fingerprint = cfg, fingerprint
        self.scorer = cfg.scorer.build()
        if "torch" in sys.modules:  # a model's scorer; an HTTP judge never loads torch (seconds per actor)
            import torch

            torch.set_num_threads(cfg.scorer.torch_threads or max(1, int(cfg.cpus_per_actor)))
        self.store = ChunkStore(cfg.output, fingerprint)
        self.fs, self.input_root = filesystem(cfg.input)

    def __call__(self, batch: dict) -> dict:
        records = []
        for text in batch["chunk"]:
            chunk = Chunk.from_json(json.loads(text))
            record = self.store.committed(chunk)
            if record is None:
                record = self.process(chunk)
                work = record["rows_in"]
            elif record.get("rows_error"):
                work = record["rows_error"]
                record = self.rejudge(chunk, record)
            else:
                work = 0  # a retried task whose chunk was committed meanwhile
            records.append(json.dumps({**record, "_work": work}, ensure_ascii=False))
        return {"record": np.array(records, dtype=object)}

    def process(self, chunk: Chunk) -> dict:
        started = time.time()
        cfg, spec = self.cfg, self.cfg.scorer
        table, values, reasons, unreadable = self.read(chunk)
        columns = list(values)
        ids = self.record_ids(table)
        if cfg.id_column:
            reasons = [r or ("null_id" if i is None else None) for r, i in zip(reasons, ids)]
        keep = [c for c in table.column_names if c not in ("_file", "_row") and (
            cfg.passthrough_columns is None or c in cfg.passthrough_columns or c in columns)]
        base = table.select(keep).drop_columns([c for c in ("record_id",) if c in keep])
        # An input column named like a score column (often a gold `label`) keeps its values as input_<name>.
        base = base.rename_columns([input_name(c, self.scorer.output_columns) for c in base.column_names])
        base = base.add_column(0, "record_id", pa.array(ids, pa.string()))

        good_idx = np.flatnonzero(np.array([r is None for r in reasons], dtype=bool))
        bad_idx = np.flatnonzero(np.array([r is not None for r in reasons], dtype=bool))
        frame = pd.DataFrame({c: [values[c][i] for i in good_idx] for c in columns})
        truncated_before = getattr(self.scorer, "truncated_rows", 0)
        every = self.score(frame, chunk)
        finite = finite_rows(every, getattr(self.scorer, "nullable_columns", ()))
        if not finite.all():  # a NaN reward would otherwise become a label
            for i in good_idx[~finite]:
                reasons[i] = "non_finite_score"
            every = every[finite].reset_index(drop=True)
            good_idx = good_idx[finite]
            bad_idx = np.flatnonzero(np.array([r is not None for r in reasons], dtype=bool))
        scored, errors, scores = self.split_errors(base.take(pa.array(good_idx, pa.int64())), every)
        quarantined = base.take(pa.array(bad_idx, pa.int64())).append_column(
            "reason", pa.array([reasons[i] for i in bad_idx], pa.string()))

        record = {
            "rows_in": table.num_rows,
            "rows_scored": scored.num_rows,
            "rows_quarantined": int(len(bad_idx)),
            **self.error_counts(errors, every),
            "reasons": dict(Counter(reasons[i] for i in bad_idx)),
            "value_counts": value_counts(scores),
            "gold": self.gold_counts(scored, scored["label"].to_pylist() if spec.kind == "quality" else None),
            **self.check_counts(scored),
            **self.probability_bins(scored),
            **self.model_counts(scored),
            "truncated_rows": getattr(self.scorer, "truncated_rows", 0) - truncated_before,
            "unreadable": unreadable,
            "seconds": round(time.time() - started, 3),
            "precision": self.scorer.precision,
            "pid": os.getpid(),
        }
        committed = self.store.commit(chunk, scored, quarantined, record, errors)
        logger.info("%s committed: %d rows (%d quarantined%s) in %.1f s", chunk.name, table.num_rows, len(bad_idx),
                    f", {errors.num_rows} errors" if errors is not None and errors.num_rows else "", record["seconds"])
        return committed

    def with_scores(self, base: pa.Table, scores: pd.DataFrame) -> pa.Table:
        """The rows' kept input columns, then the score columns, then the fingerprint."""
        for name in scores.columns:
            values = (pa.array(scores[name].tolist(), pa.list_(pa.string())) if name == "check_flags"
                      else pa.Array.from_pandas(scores[name]))
            base = base.append_column(name, values)
        return base.append_column("fingerprint", pa.array([self.fingerprint] * base.num_rows, pa.string()))

    def split_errors(self, base: pa.Table, scores: pd.DataFrame) -> tuple[pa.Table, pa.Table | None, pd.DataFrame]:
        """(scored rows, rows whose scoring failed or None, the scores of the scored rows). Only a
        scorer with `failed_rows` (the judge: requests that failed after their retries, worth
        sending again) fails rows."""
        table = self.with_scores(base, scores)
        failed_rows = getattr(self.scorer, "failed_rows", None)
        if failed_rows is None:
            return table, None, scores
        failed = np.asarray(failed_rows(scores), dtype=bool)
        mask = pa.array(failed)
        return table.filter(pc.invert(mask)), table.filter(mask), scores[~failed]

    def error_counts(self, errors: pa.Table | None, scores: pd.DataFrame) -> dict:
        if errors is None:
            return {}
        retries = getattr(self.scorer, "retries", None)
        return {"rows_error": errors.num_rows, "retries": int(retries(scores)) if retries else 0}

    def rejudge(self, chunk: Chunk, record: dict) -> dict:
        """Score again the rows of a committed chunk whose scoring failed, and recommit the chunk
        (ChunkStore.recommit): the rows scored before are neither read nor sent again."""
        started = time.time()
        errors = self.store.read_errors(record)
        outputs = set(self.scorer.output_columns) | {"fingerprint"}
        base = errors.select([c for c in errors.column_names if c not in outputs])
        spec = self.cfg.scorer
        columns = spec.input_columns() + [c for c in spec.optional_columns()
                                          if input_name(c, self.scorer.output_columns) in base.column_names]
        frame = pd.DataFrame({c: base[input_name(c, self.scorer.output_columns)].to_pylist() for c in columns})
        every = self.score(frame, chunk)
        scored, still, scores = self.split_errors(base, every)
        counts = self.error_counts(still, every)
        merged = {c: dict(Counter(record["value_counts"].get(c, {})) + Counter(v))
                  for c, v in {**record["value_counts"], **value_counts(scores)}.items()}
        update = {"rows_scored": record["rows_scored"] + scored.num_rows, "rows_error": counts["rows_error"],
                  "retries": record.get("retries", 0) + counts["retries"], "value_counts": merged,
                  "seconds": round(record.get("seconds", 0) + time.time() - started, 3)}
        committed = self.store.recommit(chunk, record, scored, still, update)
        logger.info("%s recommitted: %d of %d failed rows now scored in %.1f s", chunk.name, scored.num_rows,
                    errors.num_rows, time.time() - started)
        return committed

    def read(self, chunk: Chunk) -> tuple[pa.Table, dict[str, list], list[str | None], list[dict]]:
        """The chunk's rows, each scorer column's values to score, each row's first reason, and
        the spans whose data could not be read. Each file is validated in its own column types
        before the files are combined (one file's text may be binary or numbers in another)."""
        spec = self.cfg.scorer
        parts, unreadable = [], []
        for span in chunk.spans:
            try:
                parts.append(read_span(self.fs, span))
            except InputError as e:
                logger.warning("%s: quarantined as unreadable_data: %s", chunk.name, e)
                unreadable.append({"file": span.path, "rows": span.rows, "error": str(e)})
                parts.append(None)
        present = {c for p in parts if p is not None for c in p.column_names}
        columns = spec.input_columns() + [c for c in spec.optional_columns() if c in present]
        tables, values, reasons = [], {c: [] for c in columns}, []
        for span, part in zip(chunk.spans, parts):
            if part is None:
                part = self.unreadable_rows(span)
                part_values, part_reasons = {c: [None] * part.num_rows for c in columns}, \
                    ["unreadable_data"] * part.num_rows
            else:
                part_values, part_reasons = self.validate(part, columns)
                part_reasons = self.invalid_text_elsewhere(part, columns, part_reasons)
                part = pa.Table.from_arrays([repair_utf8(part[c]) for c in part.column_names], names=part.column_names)
            tables.append(part)
            reasons += part_reasons
            for c in columns:
                values[c] += part_values[c]
        return combine_tables(tables), values, reasons, unreadable

    def unreadable_rows(self, span: Span) -> pa.Table:
        """Rows of a span whose data cannot be read, as the footer or the count knows them: the
        file and row, and the record id when that column still reads (else a derived id)."""
        rows = pa.table({"_file": pa.array([span.path] * span.rows, pa.string()),
                         "_row": pa.array(range(span.first_row, span.first_row + span.rows), pa.int64())})
        if not self.cfg.id_column:
            return rows
        try:
            ids = read_span(self.fs, span, [self.cfg.id_column])[self.cfg.id_column]
            ids = [None if v is None else str(v) for v in repair_utf8(ids).to_pylist()]
        except InputError:
            ids = self.derived_ids(rows["_file"].to_pylist(), rows["_row"].to_pylist())
        return rows.append_column(self.cfg.id_column, pa.array(ids, pa.string()))

    def invalid_text_elsewhere(self, part: pa.Table, columns: list[str], reasons: list) -> list[str | None]:
        """Rows with invalid UTF-8 in a column the scorer does not read (the id, a passthrough
        column) go to quarantine too, as `invalid_utf8:<column>`: no reader could load them."""
        for name in part.column_names:
            bad = None if name in columns else invalid_utf8(part[name])
            if bad is not None:
                reasons = [r or (f"invalid_utf8:{name}" if b else None) for r, b in zip(reasons, bad)]
        return reasons

    def validate(self, table: pa.Table, columns: list[str]) -> tuple[dict[str, list], list[str | None]]:
        """Each column's values to score and each row's first reason (naming the column when the
        scorer reads more than one)."""
        values, reasons = {}, {}
        for column in columns:
            if column in table.column_names:  # an optional column may be in some files only
                values[column], reasons[column] = validate_column(table[column], self.cfg.max_text_chars,
                                                                  self.cfg.over_length)
            else:
                values[column], reasons[column] = [None] * table.num_rows, [None] * table.num_rows
        return values, first_reasons(reasons, name_columns=len(columns) > 1)

    def score(self, frame: pd.DataFrame, chunk: Chunk) -> pd.DataFrame:
        """Scores in frame order. Rows go to the scorer longest-similar together, a slice at a time,
        so a long chunk logs its progress and its token ids never all sit in memory at once."""
        if not len(frame):
            return pd.DataFrame({c: pd.Series([], dtype=object) for c in self.scorer.output_columns})
        lengths = np.zeros(len(frame), dtype=np.int64)
        for column in frame.columns:
            lengths += np.fromiter((text_length(v) for v in frame[column]), dtype=np.int64, count=len(frame))
        order = np.argsort(lengths, kind="stable")
        step, parts = self.cfg.rows_per_score_call, []
        started = last_log = time.time()
        for start in range(0, len(order), step):
            parts.append(self.scorer.score(frame.iloc[order[start:start + step]]))
            if time.time() - last_log >= self.cfg.progress_every_s:
                done, elapsed = min(start + step, len(order)), time.time() - started
                logger.info("%s: scored %d of %d rows (%.1f rows/s)", chunk.name, done, len(order), done / elapsed)
                last_log = time.time()
        return pd.concat(parts).sort_index()

    def record_ids(self, table: pa.Table) -> list[str | None]:
        if self.cfg.id_column:
            return [None if v is None else str(v) for v in table[self.cfg.id_column].to_pylist()]
        return self.derived_ids(table["_file"].to_pylist(), table["_row"].to_pylist())

    def derived_ids(self, files: list[str], rows: list[int]) -> list[str]:
        # Derived ids depend only on the file's path under the input root and the row's position.
        prefix = {f: hashlib.sha1(os.path.relpath(f, self.input_root).encode()).hexdigest()[:10]
                  for f in set(files)}
        return [f"{prefix[f]}-{r:010d}" for f, r in zip(files, rows)]

    def gold_column(self, scored: pa.Table) -> str | None:
        column = self.cfg.gold_column and input_name(self.cfg.gold_column, self.scorer.output_columns)
        return column if column and column in scored.column_names else None

    def check_counts(self, scored: pa.Table) -> dict:
        """Rows per failed check, and the rules-only baseline's gold counts (错误 iff any check failed)."""
        if "check_flags" not in scored.column_names:
            return {}
        flags = scored["check_flags"].to_pylist()
        return {"flags": dict(Counter(f for row in flags for f in row)),
                "rows_flagged": sum(1 for row in flags if row),
                "rules_gold": self.gold_counts(scored, [WRONG if row else CORRECT for row in flags])}

    def model_counts(self, scored: pa.Table) -> dict:
        """Quality scorers: the model's own labels' gold counts (what it says with no check
        overruling it), and the fine reliability bins of the rows it decides, for the summary's
        model baseline and its risk-coverage curve."""
        if self.cfg.scorer.kind != "quality":
            return {}
        p = scored["p_correct"].to_numpy(zero_copy_only=False)
        out = {"model_gold": self.gold_counts(scored, self.scorer.model_label(p).tolist())}
        gold_col = self.gold_column(scored)
        if gold_col:
            gold = np.array(scored[gold_col].to_pylist(), dtype=object)
            by_model = np.array(scored["decided_by"].to_pylist(), dtype=object) == "model"
            rows = by_model & np.isin(gold, (CORRECT, WRONG))
            out["model_bins"] = calibration_bins(p[rows], gold[rows] == CORRECT, n_bins=RISK_BINS)
        return out

    def probability_bins(self, scored: pa.Table) -> dict:
        """p_correct's histogram (20 bins) and, with gold labels, its reliability bins: sums that
        merge across chunks into the job's calibration report."""
        if "p_correct" not in scored.column_names:
            return {}
        p = scored["p_correct"].to_numpy(zero_copy_only=False)
        out = {"p_histogram": np.histogram(p[np.isfinite(p)], bins=20, range=(0.0, 1.0))[0].tolist()}
        gold_col = self.gold_column(scored)
        if gold_col:
            gold = np.array(scored[gold_col].to_pylist(), dtype=object)
            known = np.isin(gold, (CORRECT, WRONG))
            out["reliability"] = calibration_bins(p[known], gold[known] == CORRECT)
        return out

    def gold_counts(self, scored: pa.Table, pred: list | None) -> dict:
        """{group: {"gold|pred": n}}: enough to aggregate accuracy/P/R/F1 over all chunks."""
        gold_col = self.gold_column(scored)
        group_col = self.cfg.group_column and input_name(self.cfg.group_column, self.scorer.output_columns)
        if not gold_col or pred is None:
            return {}
        gold = scored[gold_col].to_pylist()
        groups = scored[group_col].to_pylist() if group_col and group_col in scored.column_names else [None] * len(gold)
        counts: dict = {}
        for g, t, p in zip(groups, gold, pred):
            cell = counts.setdefault(str(g) if g is not None else "all", {})
            cell[f"{t}|{p}"] = cell.get(f"{t}|{p}", 0) + 1
        return counts


def outcomes_summary(spec: ScorerSpec, summary: dict) -> dict:
    """How the quality labels were decided: the operating points (and what they were fitted on)
    or the one threshold, the rows each of check and model decided, and on gold rows the coverage
    and precision of the automatic outcomes."""
    points = calibrated_points(spec)
    out = {"rule": "a certain check failed: 错误; else 正确 at p_correct >= accept_at, 错误 below reject_below, "
                   "待审 between" if points else "a certain check failed: 错误; else 正确 at p_correct >= threshold",
           "decided_by": summary["value_counts"].get("decided_by", {})}
    if points:
        out["operating_points"] = points
    if "gold_metrics" in summary:
        out["automatic"] = summary["gold_metrics"]["overall"]["automatic"]
    return out


def write_plots(store: ChunkStore, summary: dict) -> dict:
    """p_correct_histogram.png and, with gold labels, reliability.png in the output directory."""
    import tempfile

    from rayscore.eval.plots import plot_reliability, plot_risk_coverage, plot_score_histogram

    written = {}
    with tempfile.TemporaryDirectory() as tmp:
        if "p_correct_histogram" in summary:
            counts = np.asarray(summary["p_correct_histogram"]["counts"])
            edges = np.linspace(0.0, 1.0, len(counts) + 1)
            # Bin centres repeated by count redraw the merged histogram exactly at its resolution.
            values = np.repeat((edges[:-1] + edges[1:]) / 2, counts)
            written["p_correct_histogram.png"] = plot_score_histogram(
                values, f"{tmp}/h.png", title="p_correct", threshold=summary.get("threshold"), bins=edges)
        if "calibration" in summary:
            written["reliability.png"] = plot_reliability(summary["calibration"]["reliability_bins"], f"{tmp}/r.png",
                                                          title="p_correct reliability")
        if "risk_coverage" in summary:
            point = summary["model_baseline"]["overall"]["automatic"]
            written["risk_coverage.png"] = plot_risk_coverage(summary["risk_coverage"], f"{tmp}/c.png", point,
                                                              title="model decisions: risk vs coverage")
        paths = {name: store.write_file(name, path.read_bytes()) for name, path in written.items()}
    return {"plots": paths} if paths else {}


COUNTED_COLUMNS = ("label", "decided_by", "predicted_class", "preferred", "parse_ok")
"""Categorical output columns whose values are counted in summary.json (value_counts)."""


def value_counts(scores: pd.DataFrame) -> dict:
    return {c: {str(k): int(v) for k, v in Counter(scores[c].tolist()).items()}
            for c in COUNTED_COLUMNS if c in scores}


def finite_rows(scores: pd.DataFrame, nullable=()) -> np.ndarray:
    """Per row, whether every float score is finite, the scorer's `nullable` columns aside (those
    whose NaN is a value: a greedy answer or a judgement that did not parse)."""
    ok = np.ones(len(scores), dtype=bool)
    for name in scores.columns:
        if name not in nullable and pd.api.types.is_float_dtype(scores[name]):
            ok &= np.isfinite(scores[name].to_numpy(dtype=np.float64))
    return ok


def text_length(value) -> int:
    """Characters of a text, or of all contents of a conversation."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        return sum(len(m.get("content") or "") for m in value)
    return 0


def input_name(column: str, output_columns) -> str:
    return f"input_{column}" if column in output_columns or column == "fingerprint" else column


def summarize(records: list[dict], chunks: list[Chunk], cfg: ScoreJobConfig) -> dict:
    """Totals over every committed chunk of this fingerprint; the row accounting must balance."""
    total = Counter()
    reasons, values, gold, rules_gold, model_gold, flags = Counter(), {}, {}, {}, {}, Counter()
    histogram, reliability, model_bins, precisions = np.zeros(20, dtype=np.int64), [], [], Counter()
    unreadable = []
    for r in records:
        precisions[r.get("precision", "unrecorded")] += 1
        total.update(rows_in=r["rows_in"], rows_scored=r["rows_scored"], rows_quarantined=r["rows_quarantined"],
                     rows_error=r.get("rows_error", 0), retries=r.get("retries", 0),
                     part_bytes=r.get("part_bytes", 0), rows_flagged=r.get("rows_flagged", 0),
                     truncated_rows=r.get("truncated_rows", 0))
        unreadable += r.get("unreadable", [])
        reasons.update(r["reasons"])
        flags.update(r.get("flags", {}))
        for column, counts in r["value_counts"].items():
            values.setdefault(column, Counter()).update(counts)
        for target, counts in ((gold, r["gold"]), (rules_gold, r.get("rules_gold", {})),
                               (model_gold, r.get("model_gold", {}))):
            for group, cells in counts.items():
                target.setdefault(group, Counter()).update(cells)
        if "p_histogram" in r:
            histogram += np.asarray(r["p_histogram"], dtype=np.int64)
        if r.get("reliability"):
            reliability.append(r["reliability"])
        if r.get("model_bins"):
            model_bins.append(r["model_bins"])
    expected_rows = sum(c.rows for c in chunks)
    problems = []
    if len(records) != len(chunks):
        problems.append(f"{len(chunks) - len(records)} of {len(chunks)} chunks not committed")
    elif total["rows_in"] != expected_rows:
        problems.append(f"rows_in {total['rows_in']} != {expected_rows} rows in the input's footers")
    if total["rows_in"] != total["rows_scored"] + total["rows_quarantined"] + total["rows_error"]:
        problems.append("rows_in != rows_scored + rows_quarantined + rows_error")
    share = total["rows_quarantined"] / total["rows_in"] if total["rows_in"] else 0.0
    if share > cfg.max_quarantine_share:
        problems.append(f"quarantined share {share:.4f} > max_quarantine_share {cfg.max_quarantine_share}")
    summary = {
        "ok": not problems, "problems": problems,
        "rows_in": total["rows_in"], "rows_expected": expected_rows,
        "rows_scored": total["rows_scored"], "rows_quarantined": total["rows_quarantined"],
        "quarantine_reasons": dict(reasons), "quarantined_share": round(share, 6),
        "rows_error": total["rows_error"], "retries": total["retries"],
        "label_counts": dict(values.get("label", {})),
        "value_counts": {c: dict(v) for c, v in values.items()},
        "precision": {"configured": cfg.scorer.dtype, "chunks_by_precision": dict(precisions)},
        "truncated_rows": total["truncated_rows"],
        "unreadable": {"spans": len(unreadable), "rows": sum(u["rows"] for u in unreadable),
                       "examples": unreadable[:UNREADABLE_LISTED]},
        "chunks": len(chunks), "files": len(records), "output_mb": round(total["part_bytes"] / 2**20, 3),
        "mean_file_mb": round(total["part_bytes"] / 2**20 / len(records), 3) if records else None,
    }
    if cfg.scorer.kind in ("quality", "classifier"):
        summary["threshold"] = (cfg.scorer.threshold if cfg.scorer.threshold is not None
                                else default_threshold(load_calibration(cfg.scorer.model_dir)))
    if cfg.scorer.kind == "quality":
        summary["p_correct_histogram"] = {"bins": 20, "counts": histogram.tolist()}
    if cfg.scorer.has_checks():
        summary["check_flags"] = {"rows_flagged": total["rows_flagged"], "rows_per_flag": dict(flags.most_common())}
    if gold:
        summary["gold_metrics"] = gold_metrics(gold)
    if rules_gold:
        summary["rules_baseline"] = gold_metrics(rules_gold)
    if model_gold:
        summary["model_baseline"] = gold_metrics(model_gold)
    merged = merge_bins(*reliability) if reliability else None
    if merged and sum(merged["count"]):
        summary["calibration"] = calibration_report(merged) | {"reliability_bins": merged}
    merged = merge_bins(*model_bins) if model_bins else None
    if merged and sum(merged["count"]):
        summary["risk_coverage"] = risk_coverage(merged)
    return summary


def gold_metrics(counts: dict[str, Counter], positive: str = WRONG) -> dict:
    """Accuracy, and precision/recall/F1 for catching wrong records (positive = 错误), overall and
    per group, from the chunks' merged {group: {"gold|pred": rows}} counts; each is
    rayscore.eval.metrics.classification_from_counts, rounded to 4 decimals.

    A 待审 label is not accepted: it counts as 错误 here (a wrong record sent to a person is
    caught, a correct one is not kept). `automatic` says how much was decided without a person
    (coverage) and the precision of each automatic outcome."""
    def metrics(cells: Counter) -> dict:
        # The prediction is a label of ours (正确 / 错误 / 待审), so the last "|" is the separator.
        confusion = Counter()
        for cell, n in cells.items():
            gold, pred = cell.rsplit("|", 1)
            confusion[gold, WRONG if pred == REVIEW else pred] += n
        scores = classification_from_counts(confusion, positive) | {"automatic": automatic(cells)}
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()}

    overall = Counter()
    for cells in counts.values():
        overall.update(cells)
    return {"positive_label": positive, "overall": metrics(overall),
            "by_group": {g: metrics(c) for g, c in sorted(counts.items())}}


def automatic(cells: Counter) -> dict:
    """Coverage (share of rows labelled 正确 or 错误, not 待审) and the precision of each automatic
    outcome, from {"gold|pred": rows} counts."""
    by_pred: dict[str, Counter] = {}
    for cell, n in cells.items():
        gold, pred = cell.rsplit("|", 1)
        by_pred.setdefault(pred, Counter())[gold] += n
    total = sum(cells.values())
    decided = sum(sum(by_pred.get(p, {}).values()) for p in (CORRECT, WRONG))
    wrongly = sum(n for o in (CORRECT, WRONG) for g, n in by_pred.get(o, {}).items() if g != o)
    out = {"coverage": round(decided / total, 4) if total else None,
           "risk": round(wrongly / decided, 4) if decided else None,
           "review": sum(by_pred.get(REVIEW, {}).values())}
    for outcome in (CORRECT, WRONG):
        rows = sum(by_pred.get(outcome, {}).values())
        out[f"precision_{outcome}"] = round(by_pred[outcome][outcome] / rows, 4) if rows else None
    return out
