"""Where a training job's rows come from and how they are split: the keys every data spec shares.

    @dataclass
    class LabelDataSpec(SplitSpec): text_column: str = "text"; ...
"""

from __future__ import annotations

from dataclasses import dataclass

from rayscore.config import range_problems


@dataclass
class SplitSpec:
    """Training rows and their held-out share; a job's data spec subclasses it with its columns."""

    train_path: str = ""
    """Table file or directory (parquet, JSONL, CSV; local or s3://)."""
    eval_path: str | None = None
    """Separate eval set; null = hold out eval_fraction of train_path."""
    eval_fraction: float = 0.1
    """Share held out for evaluation when eval_path is null."""
    max_rows: int | None = None
    """Use only the first N rows (quick runs)."""
    seed: int = 0
    """Seed of the train/eval split."""

    def check(self) -> list[str]:
        problems = []
        if not self.train_path:
            problems.append("train_path: required (a parquet/JSONL/CSV file or directory)")
        problems += range_problems(self, eval_fraction="(0, 1)")
        return problems
