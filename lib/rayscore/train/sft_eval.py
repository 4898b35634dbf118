"""Evaluating a generative score model against real scores, next to its base model.

    scores = expected_scores(model, tok, prompts)             # continuous, never missing
    scores, parse_ok = greedy_scores(model, tok, prompts)     # NaN (and parse_ok False) when unreadable
    metrics, predictions = evaluate_sft(model, tok, eval_samples, SftEvalSpec())   # adapter vs base

Scores are read by rayscore.score.generative, the same code the `generative` scorer runs in
score_batch and serve (one inference path; its docstring defines both readings exactly):
(a) the expected score from the digit-token probabilities at the answer positions, and (b) the
greedy answer parsed as a number, where an answer holding no score is its own outcome
(parse_ok False, counted as `unparseable`), never 0.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rayscore.config import range_problems
from rayscore.data.hupu import sample_prompt
from rayscore.eval import metrics as eval_metrics
from rayscore.score.generative import ExpectedScores, expected_scores, greedy_answers, parse_answers, read_expected

__all__ = ["SftEvalSpec", "expected_scores", "greedy_scores", "evaluate_sft", "score_report", "side_by_side"]

logger = logging.getLogger(__name__)


@dataclass
class SftEvalSpec:
    """Evaluation of the trained score model (and the base model) on the held-out prompts."""

    batch_size: int = 16
    """Prompts per forward pass / generate() call."""
    max_new_tokens: int = 16
    """Longest greedy answer, in tokens (a score needs ~5; a base model's refusal is cut here)."""
    max_samples: int | None = None
    """Evaluate only the first N held-out samples (null = all)."""
    compare_base: bool = True
    """Also evaluate the base model without the adapter on the same prompts."""

    def check(self) -> list[str]:
        return range_problems(self, batch_size=">= 1", max_new_tokens=">= 1", max_samples=">= 1")


def greedy_scores(model, tok, prompts: list[str], batch_size: int = 16, max_new_tokens: int = 16,
                  score_max: float = 10.0, max_seq_len: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(scores with NaN where the answer holds no score, parse_ok) of the greedy answers."""
    return parse_answers(greedy_answers(model, tok, prompts, batch_size, max_new_tokens, max_seq_len), score_max)


def evaluate_sft(model, tok, samples: pd.DataFrame, spec: SftEvalSpec, score_max: float = 10.0,
                 max_seq_len: int | None = None, base_model=None) -> tuple[dict, pd.DataFrame]:
    """Metrics of the tuned model ("adapter") and the base model ("base") on the same prompts.

    The base is the PEFT model with its adapter disabled, or `base_model` when given (full
    fine-tuning). Returns (metrics, one row per sample with every reading)."""
    if spec.max_samples is not None:
        samples = samples.head(spec.max_samples)
    samples = samples.reset_index(drop=True)
    if len(samples) == 0:
        return {"n": 0}, samples
    prompts = [sample_prompt(i, x) for i, x in zip(samples["instruction"], samples["input"])]
    real = samples["output"].astype(float).to_numpy()
    predictions = samples.assign(real=real)
    readers = {"adapter": (model, contextlib.nullcontext)}
    if spec.compare_base:
        if base_model is not None:
            readers["base"] = (base_model, contextlib.nullcontext)
        elif hasattr(model, "disable_adapter"):
            readers["base"] = (model, model.disable_adapter)
        else:
            logger.warning("compare_base: no adapter to disable and no base model given; base not evaluated")
    report: dict = {"n": len(samples)}
    for name, (reader, context) in readers.items():
        with context(), _eval_mode(reader):
            expected = read_expected(reader, tok, prompts, spec.batch_size, score_max, max_seq_len)
            answers = greedy_answers(reader, tok, prompts, spec.batch_size, spec.max_new_tokens, max_seq_len)
        greedy, parse_ok = parse_answers(answers, score_max)
        predictions = predictions.assign(**{
            f"{name}_expected": expected.scores, f"{name}_digit_mass": expected.digit_mass,
            f"{name}_answer": answers, f"{name}_greedy": greedy, f"{name}_parse_ok": parse_ok})
        report[name] = score_report(real, expected, greedy, parse_ok, answers)
    report["side_by_side"] = side_by_side(report, list(readers))
    return report, predictions


def score_report(real: np.ndarray, expected: ExpectedScores, greedy: np.ndarray, parse_ok: np.ndarray,
                 answers: list[str]) -> dict:
    """MAE / MSE / RMSE / error histogram (pred - real) of both readings; unreadable greedy
    answers are counted (and left out of the greedy errors), a few kept as examples."""
    greedy_report = eval_metrics.regression(real, greedy)
    unreadable = [a for a, ok in zip(answers, parse_ok) if not ok]
    greedy_report.update(parsed=int(parse_ok.sum()), unparseable=len(unreadable),
                         parse_rate=float(parse_ok.mean()), unparseable_examples=unreadable[:5])
    expected_report = eval_metrics.regression(real, expected.scores)
    expected_report["mean_digit_mass"] = float(expected.digit_mass.mean())
    return {"expected": expected_report, "greedy": greedy_report}


def side_by_side(report: dict, names: list[str]) -> dict:
    """{reading: {metric: {model: value}}}: each metric of the tuned model beside its base model's,
    so one table shows what fine-tuning changed."""
    table = {}
    for reading in ("expected", "greedy"):
        keys = ["mae", "mse", "rmse", "mean_error"] + (["parse_rate", "unparseable"] if reading == "greedy" else [])
        table[reading] = {k: {n: report[n][reading][k] for n in names} for k in keys}
    return table


@contextlib.contextmanager
def _eval_mode(model):
    """No dropout while reading (the model comes straight from training); its mode is restored."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)
