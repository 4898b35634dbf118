"""Scorers: a trained model plus how its inputs are formatted and its outputs read.

    scorer = build_scorer(ScorerSpec(kind="quality", model_dir="out/model"))
    scored = scorer.score(frame)      # frame has the input column(s); returns the score columns

The same objects run inside `score_batch`'s actor pool, behind Ray Serve, and in evaluation:
there is no second implementation of inference anywhere.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from rayscore.data.pairs import CORRECT, WRONG, conversation
from rayscore.models import load_scorer, model_fingerprint
from rayscore.score.runner import Precision, RewardRunner

logger = logging.getLogger(__name__)


@dataclass
class ScorerSpec:
    """Which scorer, which model, and how it runs."""

    kind: Literal["quality"] = "quality"
    """quality: p(正确) of digital-twin records and a label by threshold."""
    model_dir: str = ""
    """A trained model directory (train_reward's <output_dir>/model)."""
    text_column: str = "text"
    """Input column holding the record text."""
    threshold: float = 0.5
    """p_correct at or above this is labelled 正确."""
    batch_size: int = 128
    """Sequences per forward pass (sorted by length within each chunk)."""
    max_seq_len: int = 128
    """Tokens per sequence; longer records are cut at the end, the answer kept."""
    dtype: Precision = "float32"
    """float32, or bfloat16 autocast (faster on AVX-512-BF16 CPUs and GPUs)."""
    torch_threads: int = 0
    """Intra-op threads per scorer; 0 = the CPUs given to the actor."""

    def check(self) -> list[str]:
        problems = []
        if not self.model_dir:
            problems.append("model_dir: required (a trained model directory)")
        if not 0 <= self.threshold <= 1:
            problems.append(f"threshold: must be in [0, 1], got {self.threshold}")
        if self.batch_size < 1:
            problems.append(f"batch_size: must be >= 1, got {self.batch_size}")
        return problems


class QualityScorer:
    """Scores each record with both answers; p_correct = softmax over the two rewards."""

    output_columns = ("reward_correct", "reward_wrong", "p_correct", "label")

    def __init__(self, spec: ScorerSpec, device: str | None = None):
        model, tok = load_scorer(spec.model_dir)
        self.spec = spec
        self.runner = RewardRunner(model, tok, spec.max_seq_len, spec.batch_size, spec.dtype, device)
        self.fingerprint = model_fingerprint(spec.model_dir)

    def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        texts = frame[self.spec.text_column].tolist()
        rewards = self.runner.rewards(
            [conversation(t, CORRECT) for t in texts] + [conversation(t, WRONG) for t in texts])
        correct, wrong = rewards[: len(texts)], rewards[len(texts):]
        p_correct = 1.0 / (1.0 + np.exp(-(correct - wrong).astype(np.float64)))
        return pd.DataFrame({
            "reward_correct": correct,
            "reward_wrong": wrong,
            "p_correct": p_correct,
            "label": np.where(p_correct >= self.spec.threshold, CORRECT, WRONG),
        }, index=frame.index)


def build_scorer(spec: ScorerSpec, device: str | None = None) -> QualityScorer:
    if spec.kind == "quality":
        return QualityScorer(spec, device)
    raise ValueError(f"kind: unknown scorer {spec.kind!r}")
