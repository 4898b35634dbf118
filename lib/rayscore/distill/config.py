"""The distill job's config: the corpus, the teacher (a judge), the student and the scoring, each
nested job with its own keys. `judge.mode` picks the student: pointwise grades train a classifier
or regressor (`train`), pairwise verdicts train a reward model (`train_reward`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from rayscore.config import range_problems
from rayscore.judge.job import JudgeJobConfig
from rayscore.score.config import ScoreJobConfig
from rayscore.train.classifier import ClassifierJobConfig
from rayscore.train.reward import RewardJobConfig


@dataclass
class DistillDemoSpec:
    """The offline demo: a generated corpus and the loopback stand-in teacher."""

    enabled: bool = False
    """Generate the corpus (if `corpus` does not exist) and serve the stand-in teacher on 127.0.0.1."""
    corpus_rows: int = 5000
    """Rows of the generated corpus (texts, or pairs of responses in pairwise mode)."""
    seed: int = 0
    """Seed of the generated corpus."""

    def check(self) -> list[str]:
        return range_problems(self, corpus_rows=">= 1")


@dataclass
class DistillJobConfig:
    """distill: a corpus in; teacher labels on a sample, a student model, the corpus scored, the
    rows (pointwise) or pairs (pairwise) the student keeps, and summary.json out."""

    # Keys of the nested job configs this job fills in run() (their own checks are skipped).
    SET_BY_JOB: ClassVar[tuple[str, ...]] = (
        "judge.input", "judge.output_dir", "train.data.train_path", "train_reward.data.train_path",
        "score.input", "score.output", "score.scorer.model_dir")

    output_dir: str = "out/distill"
    """Everything the job writes goes under this directory (the nested jobs' outputs too)."""
    corpus: str = ""
    """Parquet file or directory of the corpus: id_column and text_column (pointwise), or id_column,
    prompt_column, answer_1_column and answer_2_column (pairwise)."""
    id_column: str = "id"
    """Column identifying each corpus row (sampling, joins and outputs use it)."""
    text_column: str = "text"
    """Pointwise: the text the teacher grades and the student scores."""
    prompt_column: str = "prompt"
    """Pairwise: the instruction both responses answer."""
    answer_1_column: str = "response_1"
    """Pairwise: the first response."""
    answer_2_column: str = "response_2"
    """Pairwise: the second response."""
    sample_rows: int = 500
    """Corpus rows the teacher labels (chosen by a hash of their id)."""
    threshold: float = 3.0
    """Pointwise: a row is kept when its student score is >= this (and counts as positive in the binary agreement)."""
    min_preference: float = 0.7
    """Pairwise: a pair is kept, as chosen/rejected, when the student prefers one response with
    probability >= this (sigmoid of the reward margin)."""
    seed: int = 0
    """Seed of the sample (the split has the student's: train.data.seed / train_reward.data.seed)."""
    judge: JudgeJobConfig = field(default_factory=lambda: JudgeJobConfig(template="edu_value_en", score_range=[0, 5]))
    """The teacher (the judge job, over HTTP); input, output_dir and the columns are set by this job."""
    train: ClassifierJobConfig = field(default_factory=lambda: ClassifierJobConfig(num_labels=6))
    """Pointwise: the student (train_classifier); data paths, output_dir and threshold are set by this job."""
    train_reward: RewardJobConfig = field(default_factory=RewardJobConfig)
    """Pairwise: the student (train_reward); data paths and output_dir are set by this job."""
    score: ScoreJobConfig = field(default_factory=lambda: ScoreJobConfig(num_actors=2, cpus_per_actor=0.5))
    """Scoring the corpus with the student (score_batch); input, output and the scorer are set by this job."""
    demo: DistillDemoSpec = field(default_factory=DistillDemoSpec)
    """The offline demo (generated corpus, loopback teacher)."""

    def check(self) -> list[str]:
        problems = []
        if not self.corpus:
            problems.append("corpus: required (a parquet file or directory)")
        if self.sample_rows < 10:
            problems.append(f"sample_rows: must be >= 10 (the student needs rows to train and hold out), "
                            f"got {self.sample_rows}")
        problems += range_problems(self, min_preference="[0.5, 1)")
        if self.judge.backend != "http":
            problems.append("judge.backend: the teacher is an endpoint (http)")
        return problems

    def corpus_columns(self) -> list[str]:
        """The corpus columns the teacher and the student read, id first."""
        if self.judge.mode == "pointwise":
            return [self.id_column, self.text_column]
        return [self.id_column, self.prompt_column, self.answer_1_column, self.answer_2_column]
