"""Generate labelled digital-twin records for training and for scoring.

Run as:
  python -m jobs.generate_records --config configs/generate_records/demo.yaml
  python -m jobs.generate_records --config configs/generate_records/demo.yaml score_rows=1000000

Writes <output_dir>/train/ (records to train on), <output_dir>/score/ (other records, other
seed) and, with valid_rows, <output_dir>/valid/ (a third seed) as parquet parts; millions of rows
stream out in parts and never sit in memory at once.
With `handwritten: true` it also copies the hand-written real-style set that ships with rayscore
(addresses/data/handwritten.csv, never produced by the generator) to <output_dir>/handwritten/.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from rayscore.addresses.records import kind_cumulative
from rayscore.config import range_problems, save_config
from rayscore.io import write_json

logger = logging.getLogger(__name__)


@dataclass
class GenerateJobConfig:
    """generate_records: synthetic Chinese address records with labelled corruptions."""

    output_dir: str = "out/data"
    """Parquet goes to <output_dir>/train and <output_dir>/score."""
    train_rows: int = 4000
    """Records for training (pairs are made from them by train_reward)."""
    score_rows: int = 4000
    """Records for scoring, drawn with another seed."""
    valid_rows: int = 0
    """Records for validation (<output_dir>/valid, a third seed, every kind equally often): what training
    evaluates and calibrates on."""
    error_rate: float = 0.5
    """Share of corrupted (错误) records."""
    seed: int = 0
    """Train uses seed, score uses seed + 1."""
    rows_per_file: int = 100_000
    """Rows per parquet part."""
    train_kind_weights: dict[str, float] | None = None
    """Relative frequency of each error kind in the train split (unnamed kinds weigh 1; null: equal). The
    score split keeps every kind equally often."""
    real_share: float = 0.0
    """Share of train and valid rows built on a real address (the train part of the shipped corpora; see
    addresses/real_bases.py) instead of a generated one."""
    score_real_share: float = 0.0
    """The same share for the score split."""
    handwritten: bool = False
    """Also write the shipped hand-written real-style records to <output_dir>/handwritten/."""
    progress_every_s: float = 30.0
    """Seconds between progress log lines (records written of each split, records/s, ETA)."""

    def check(self) -> list[str]:
        problems = []
        if min(self.train_rows, self.score_rows, self.valid_rows) < 0:
            problems.append("train_rows: train_rows, score_rows and valid_rows must be >= 0")
        problems += range_problems(self, error_rate="[0, 1]", real_share="[0, 1]", score_real_share="[0, 1]",
                                   rows_per_file=">= 1")
        try:
            kind_cumulative(self.train_kind_weights)
        except ValueError as e:
            problems.append(f"train_{e}")
        return problems


def run(cfg: GenerateJobConfig) -> dict[str, list[str]]:
    from rayscore.addresses.records import write_records

    out = Path(cfg.output_dir)
    save_config(cfg, out / "config.yaml")
    written = {}
    splits = (("train", cfg.train_rows, cfg.seed, cfg.train_kind_weights, cfg.real_share),
              ("score", cfg.score_rows, cfg.seed + 1, None, cfg.score_real_share),
              ("valid", cfg.valid_rows, cfg.seed + 2, None, cfg.real_share))
    for split, rows, seed, weights, real_share in splits:
        if rows:
            written[split] = write_records(str(out / split), rows, seed, cfg.error_rate, cfg.rows_per_file, weights,
                                           cfg.progress_every_s, real_share)
            logger.info("%s: %d records in %d files under %s", split, rows, len(written[split]), out / split)
    if cfg.handwritten:
        written["handwritten"] = [write_handwritten(str(out / "handwritten"))]
    rows = {split: rows for split, rows, *_ in splits if rows}
    write_json(out / "summary.json", {"ok": True, "kind": "generate_records", "rows_written": sum(rows.values()),
                                      "rows_by_split": rows, "files": written})
    return written


HANDWRITTEN_FILE = Path(__file__).with_name("data") / "handwritten.csv"


def write_handwritten(path: str) -> str:
    """The hand-written real-style records as <path>/part-00000.parquet (what score_batch reads)."""
    import pandas as pd

    frame = pd.read_csv(HANDWRITTEN_FILE, dtype=str, keep_default_na=False)
    Path(path).mkdir(parents=True, exist_ok=True)
    file = Path(path, "part-00000.parquet")
    frame.to_parquet(file, index=False)
    logger.info("handwritten: %d real-style records under %s", len(frame), path)
    return str(file)
