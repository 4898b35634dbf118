"""The scoring actor: one ChunkWorker per actor of score_batch's pool scores and commits whole chunks.

Per chunk it reads the rows file by file (data that cannot be read is quarantined as
`unreadable_data`; each file's columns are validated in their own types before the files are
combined), sets bad rows aside with a reason, scores the others sorted by length (a slice at a
time, logging progress), quarantines rows whose scores are not finite, and commits one output
part, one quarantine part, its sorted ids and a marker (store.py). A chunk committed with rows
whose scoring failed (errors) has only those rows scored again. What it asks of the scorer is
contract.Scorer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
from collections import Counter

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rayscore.io import filesystem
from rayscore.logs import quiet_libraries, setup_logging
from rayscore.score.chunk import Chunk, Span
from rayscore.score.config import ScoreJobConfig, input_name
from rayscore.score.contract import Scorer
from rayscore.score.inputs import InputError, combine_tables, read_span
from rayscore.score.report import ChunkCounts, value_counts
from rayscore.score.store import ChunkStore
from rayscore.score.validate import first_reasons, invalid_utf8, repair_utf8, validate_column

logger = logging.getLogger(__name__)


class ChunkWorker:
    """One per actor: loads the scorer once, then scores and commits whole chunks."""

    def __init__(self, cfg: ScoreJobConfig, fingerprint: str):
        # An actor is its own process: without this its progress lines (INFO) would be dropped.
        # Ray forwards the actor's stderr to the driver's log.
        if not logging.getLogger().handlers:
            setup_logging()
        quiet_libraries()
        self.cfg, self.fingerprint = cfg, fingerprint
        self.scorer: Scorer = cfg.scorer.build()
        self.counts = ChunkCounts(cfg, self.scorer)
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
        cfg = self.cfg
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
        truncated_before = self.scorer.truncated_rows
        every = self.score(frame, chunk)
        finite = finite_rows(every, self.scorer.nullable_columns)
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
            **self.counts.of(scored),
            "truncated_rows": self.scorer.truncated_rows - truncated_before,
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
        scorer whose failed_rows says so (the judge: requests that failed after their retries,
        worth sending again) fails rows."""
        table = self.with_scores(base, scores)
        failed = self.scorer.failed_rows(scores)
        if failed is None:
            return table, None, scores
        failed = np.asarray(failed, dtype=bool)
        mask = pa.array(failed)
        return table.filter(pc.invert(mask)), table.filter(mask), scores[~failed]

    def error_counts(self, errors: pa.Table | None, scores: pd.DataFrame) -> dict:
        if errors is None:
            return {}
        return {"rows_error": errors.num_rows, "retries": int(self.scorer.retries(scores))}

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

