"""The evaluate job's configuration (EvaluateJobConfig) and the metric families it can compute.

    cfg = EvaluateJobConfig(predictions="out/judge/judgements.parquet", output_dir="out/eval",
                            metrics=["pairwise"], prediction_column="verdict", gold_column="human")

rayscore.eval.job runs it: what each family computes is in that module's docstring.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rayscore.config import interval_problems, range_problems
from rayscore.eval.annotators import TieBreak
from rayscore.eval.pairwise_agreement import MissingVerdict
from rayscore.eval.text import Tokenizer

__all__ = ["EvaluateJobConfig", "FAMILIES", "KINDS"]

Family = Literal["regression", "classification", "pairwise", "correlation", "distribution", "text",
                 "length_control"]
FAMILIES = ("regression", "classification", "pairwise", "correlation", "distribution", "text", "length_control")
PredictionParser = Literal["none", "score", "verdict"]
Kind = Literal["number", "label", "verdict", "text"]

# How each family reads its prediction and gold values, and whether it needs gold.
KINDS: dict[str, tuple[Kind, bool]] = {
    "regression": ("number", True), "classification": ("label", True), "pairwise": ("verdict", True),
    "correlation": ("number", True), "distribution": ("number", False), "text": ("text", True),
    "length_control": ("text", False),
}


@dataclass
class EvaluateJobConfig:
    """evaluate: gold and predictions in, metrics.json + PNG plots + config.yaml out."""

    predictions: str = ""
    """Table with the predictions (and the gold values when `gold` is null)."""
    gold: str | None = None
    """A second table with the gold values, joined to `predictions` on id_column; null = one table."""
    id_column: str | None = "id"
    """Join key of the two tables (needed with `gold`); must be unique in each."""
    output_dir: str = ""
    """Where metrics.json, the PNG plots and config.yaml go."""
    metrics: list[Family] = field(default_factory=lambda: ["classification"])
    """Metric families to compute (see rayscore.eval.job)."""
    prediction_column: str = "prediction"
    """Predicted score, label, verdict on the (A, B) order, or generated text."""
    swap_column: str | None = None
    """Pairwise: the verdict on the swapped order (B, A) as the judge wrote it; null = one order."""
    prediction_parser: PredictionParser = "none"
    """Read predictions (and swap_column) as judge text first: score (parse_score), verdict (parse_pairwise)."""
    score_range: list[float] | None = None
    """prediction_parser=score: [low, high] a score must lie in; others are unparseable."""
    gold_column: str | None = "gold"
    """Gold value (score, label, verdict or reference text); null when annotator_columns are given."""
    annotator_columns: list[str] = field(default_factory=list)
    """Several annotators' labels: gold by majority vote, plus Cohen's and Fleiss' kappa."""
    tie_break: TieBreak = "first"
    """Majority-vote tie: first (the earliest annotator's label), tie_label, or drop (no gold)."""
    tie_label: int | str = 0
    """The gold label of a vote tie with tie_break=tie_label (0 = tie for pairwise verdicts)."""
    label_map: dict[str, int | float | str] = field(default_factory=dict)
    """Values rewritten before anything else, keyed by their text: {"Tie": 0, "garbage": 0, "正确": 1}."""
    labels: list[int | float | str] | None = None
    """Classification label order (confusion matrix rows and columns); null = the labels seen, sorted."""
    group_by: str | None = None
    """Column whose values get their own breakdown (task category, say); null = overall only."""
    missing_pred: MissingVerdict = "drop"
    """Pairwise: an unreadable verdict is dropped and counted, or read as a tie as JudgeLM's script does."""
    bootstrap: int = 1000
    """Correlation: bootstrap resamples for the confidence intervals (0 = none)."""
    confidence: float = 0.95
    """Correlation: confidence level of the intervals."""
    seed: int = 0
    """Correlation: bootstrap seed."""
    threshold: float | None = None
    """Distribution: report the share of scores below this (e.g. 6 on a 10-point scale)."""
    text_tokenizer: Tokenizer = "char"
    """Text: CJK split into characters (char) or jieba words (jieba)."""
    instruction_column: str = "instruction"
    """Length control: the instruction asking for a length (e.g. 写一篇300字...)."""
    plots: bool = True
    """Write the PNG plots."""

    def check(self) -> list[str]:
        problems = []
        if not self.predictions:
            problems.append("predictions: required (a parquet, JSONL, JSON or CSV table)")
        if not self.output_dir:
            problems.append("output_dir: required (a directory)")
        if not self.metrics:
            problems.append(f"metrics: name at least one of {', '.join(FAMILIES)}")
        if self.gold is not None and not self.id_column:
            problems.append("id_column: required to join the gold table to the predictions")
        needs_gold = any(KINDS[f][1] for f in self.metrics if f in KINDS)
        if self.gold_column and self.annotator_columns:
            problems.append("annotator_columns: set gold_column to null when the gold label is a majority vote")
        if needs_gold and not self.gold_column and not self.annotator_columns:
            problems.append("gold_column: required by the chosen metrics (or give annotator_columns)")
        if len(self.annotator_columns) == 1:
            problems.append("annotator_columns: give at least two annotators (or use gold_column)")
        if self.swap_column and "pairwise" not in self.metrics:
            problems.append("swap_column: only used by the pairwise metrics; add pairwise or remove it")
        problems += interval_problems(self, "score_range")
        problems += range_problems(self, bootstrap=">= 0", confidence="(0, 1)")
        return problems

    def gold_columns(self) -> list[str]:
        return [self.gold_column] if self.gold_column else list(self.annotator_columns)
