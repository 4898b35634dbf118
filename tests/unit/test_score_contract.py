"""The worker's contract with a scorer (rayscore.score.contract), without a model or Ray: every
scorer kind keeps it, a scorer that says nothing gets the written defaults, and one that fails
rows has them committed apart as errors."""

import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rayscore.judge.scorer import JudgeScorer
from rayscore.score import worker as worker_module
from rayscore.score.config import ScoreJobConfig
from rayscore.score.contract import Scorer
from rayscore.score.generative import GenerativeScorer
from rayscore.score.inputs import plan_chunks, read_inputs
from rayscore.score.scorers import ClassifierScorer, KindFields, PairScorer, QualityScorer, RewardScorer, ScorerSpec
from rayscore.score.worker import ChunkWorker


class LengthScorer(Scorer):
    """Says only what it must: its columns, its precision and score()."""

    output_columns = ("score",)
    precision = "exact"

    def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"score": [float(len(t)) for t in frame["text"]]}, index=frame.index)


class FlakyScorer(LengthScorer):
    """Fails the rows of two characters, as a judge's failed requests fail theirs."""

    def failed_rows(self, scores: pd.DataFrame) -> np.ndarray:
        return np.array([s == 2.0 for s in scores["score"]])

    def retries(self, scores: pd.DataFrame) -> int:
        return 3


@dataclass
class FakeSpec(ScorerSpec):
    kind: str = "length"
    flaky: bool = False

    def fields(self) -> KindFields:
        return KindFields(("text",))

    def output_columns(self) -> tuple[str, ...]:
        return ("score",)

    def has_checks(self) -> bool:
        return False

    def build(self, device=None) -> Scorer:
        return FlakyScorer() if self.flaky else LengthScorer()


def test_every_scorer_kind_keeps_the_contract():
    for cls in (QualityScorer, RewardScorer, PairScorer, ClassifierScorer, GenerativeScorer, JudgeScorer):
        assert Scorer in cls.__mro__, cls  # subclassed: the defaults come with it


def test_a_scorer_that_says_nothing_gets_the_written_defaults():
    scorer = LengthScorer()
    scores = scorer.score(pd.DataFrame({"text": ["ab"]}))
    assert (scorer.truncated_rows, scorer.nullable_columns) == (0, ())
    assert scorer.failed_rows(scores) is None and scorer.retries(scores) == 0


def chunk_record(tmp_path, monkeypatch, flaky: bool) -> tuple[dict, ChunkWorker]:
    # An actor's process set-up (logging, library noise, torch threads) would change this test process's.
    monkeypatch.setattr(worker_module, "setup_logging", lambda: None)
    monkeypatch.setattr(worker_module, "quiet_libraries", lambda: None)
    if "torch" in sys.modules:
        monkeypatch.setattr(sys.modules["torch"], "set_num_threads", lambda n: None)
    pq.write_table(pa.table({"record_id": ["a", "b", "c"], "text": ["ab", "xy", "abc"]}), tmp_path / "in.parquet")
    cfg = ScoreJobConfig(input=str(tmp_path / "in.parquet"), output=str(tmp_path / "out"),
                         scorer=FakeSpec(model_dir="unused", flaky=flaky))
    (chunk,) = plan_chunks(read_inputs(cfg.input, ["text"]), 100)
    worker = ChunkWorker(cfg, fingerprint="f" * 12)
    return worker.process(chunk), worker


def test_the_worker_records_what_the_contract_says(tmp_path, monkeypatch):
    record, _ = chunk_record(tmp_path, monkeypatch, flaky=False)
    assert (record["rows_scored"], record["truncated_rows"], record["precision"]) == (3, 0, "exact")
    assert "rows_error" not in record and record["errors_file"] is None  # no row can fail


def test_rows_a_scorer_fails_are_committed_apart(tmp_path, monkeypatch):
    record, worker = chunk_record(tmp_path, monkeypatch, flaky=True)
    assert (record["rows_scored"], record["rows_error"], record["retries"]) == (1, 2, 3)
    assert sorted(worker.store.read_errors(record)["record_id"].to_pylist()) == ["a", "b"]
