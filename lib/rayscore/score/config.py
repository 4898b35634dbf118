"""The score_batch job's configuration, and how its output names the input's columns.

    cfg = ScoreJobConfig(input="data/in", output="data/out", scorer=ScorerSpec(model_dir="out/model"))
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rayscore.config import range_problems
from rayscore.score.scorers import ScorerSpec
from rayscore.score.validate import OverLength


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
    """Aim output files at this size instead of rows_per_file (estimated from the input footers;
    summary.json shows the real mean_file_mb)."""
    rows_per_score_call: int = 4096
    """Rows handed to the scorer at a time within a chunk (longest-similar together); progress is logged
    between calls."""
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
        problems += range_problems(
            self,
            rows_per_file=">= 1",
            max_rows=">= 0",
            target_file_mb="> 0",
            rows_per_score_call=">= 1",
            max_chunk_retries=">= 0",
            max_text_chars=">= 1",
            num_actors=">= 1",
            max_quarantine_share="[0, 1]",
        )
        if self.min_actors is not None and not 1 <= self.min_actors <= self.num_actors:
            problems.append(f"min_actors: must be in [1, num_actors={self.num_actors}], got {self.min_actors}")
        return problems


def input_name(column: str, output_columns) -> str:
    """The output name of an input column: input_<name> when a score column (or the fingerprint)
    has its name, so a gold `label` beside the scorer's `label` keeps its values."""
    return f"input_{column}" if column in output_columns or column == "fingerprint" else column
