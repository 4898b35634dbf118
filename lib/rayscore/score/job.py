"""Score records (parquet, JSONL, CSV) on a Ray Data actor pool: validate, score, write, exactly once.

Run as:
  python -m jobs.score_batch --config configs/score_batch/addresses.yaml input=data/in output=data/out

Plan: the input's parquet footers are read on the driver (JSONL and CSV files are counted) and cut
into chunks of whole row groups or row ranges (inputs.py; rows_per_file rows, or as many as make
target_file_mb of output); a missing required column or an unreadable footer fails here, before
any scoring, naming the file and the column. Chunks already committed under this fingerprint for
the same input bytes are skipped; a chunk committed for other bytes (the file was overwritten or
edited) is re-scored and its parts replaced, and outputs of chunks the input no longer has are
removed; the log and summary.json count both. The rest stream through `map_batches` on an actor
pool of ChunkWorkers (worker.py), each loading the scorer once and committing whole chunks to the
store (store.py). Memory per actor is one chunk; the driver holds the chunk list and one batch of
ids per chunk (the duplicate-id report is a streaming merge of the chunks' sorted ids), whatever
the input size. summary.json, its metrics and plots: report.py.

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
import time
import warnings
from dataclasses import replace

import yaml

from rayscore.checks import resolve_check_set
from rayscore.config import to_dict
from rayscore.io import JobSummary, absolute
from rayscore.logs import Progress
from rayscore.models import load_calibration
from rayscore.report import REPORT, facts_of, render_html
from rayscore.score.chunk import Chunk
from rayscore.score.config import ScoreJobConfig
from rayscore.score.inputs import InputError, compressed_bytes_per_row, plan_chunks, read_inputs
from rayscore.score.report import outcomes_summary, summarize, write_plots
from rayscore.score.scorers import QualityScorer, ScorerSpec, default_threshold
from rayscore.score.store import ChunkStore
from rayscore.score.thresholds import ThresholdSpec
from rayscore.score.worker import ChunkWorker

__all__ = ["ScoreJobConfig", "run", "scoring_fingerprint"]

logger = logging.getLogger(__name__)

SKIPPED_LISTED = 20
"""Skipped input files named in summary.json (all are counted)."""


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
    try:  # the model's check set, verified before any work (actors resolve it again)
        if cfg.scorer.has_checks():
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
    pending, changed = pending_chunks(store, chunks)
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


def pending_chunks(store: ChunkStore, chunks: list[Chunk]) -> tuple[list[Chunk], list[Chunk]]:
    """(chunks to score, those of them committed for input that changed since): new chunks,
    changed ones, and chunks committed with rows whose scoring failed."""
    pending, changed = [], []
    for chunk in chunks:
        marker = store.marker(chunk)
        stale = marker is not None and marker["key"] != chunk.key
        if stale or needs_work(marker):
            pending.append(chunk)
            if stale:
                changed.append(chunk)
    return pending, changed


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

