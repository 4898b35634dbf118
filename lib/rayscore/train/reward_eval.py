"""How a trained reward model is measured on the held-out pairs, and the calibration fitted there:
pair accuracy with its swap check, the temperature of p = sigmoid(margin / T), and for quality
records the threshold and the operating points of the three outcomes (OutcomeSpec).

    from rayscore.train.reward_eval import calibrate, evaluate_pairs, score_pairs
    rewards = score_pairs(runner, pairs["chosen"], pairs["rejected"])      # a RewardRunner
    metrics = evaluate_pairs(runner, pairs, "error_type", rewards)         # eval_accuracy, swap check, ...
    calibration = calibrate(*rewards, pairs, records=True, outcomes=OutcomeSpec())

train_reward runs them on rank 0 through the scoring code path, on the model reloaded from disk.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from rayscore.data.pairs import CORRECT, WRONG

logger = logging.getLogger(__name__)

SWAP_CHECK_PAIRS = 512  # held-out pairs scored again with chosen and rejected exchanged


@dataclass
class OutcomeSpec:
    """How sure an automatic quality label must be: the precision it must reach on held-out records,
    with this confidence (a Clopper-Pearson bound); rows between the two operating points are 待审."""

    target_precision: float = 0.99
    """Precision each automatic outcome (正确, 错误) must reach on the held-out records."""
    confidence: float = 0.95
    """Probability that the stated precision holds (1 - delta of Learn then Test)."""
    fitted_on: str = "eval split"
    """Which data the operating points were fitted on, as the summary reports it."""
    fit_on: Literal["eval", "audited"] = "eval"
    """eval: every held-out record; audited: only the held-back audited records (data.audited_path),
    so the stated precision is measured on the user's own data."""

    def check(self) -> list[str]:
        values = {"target_precision": self.target_precision, "confidence": self.confidence}
        return [f"outcomes.{k}: must be in [0.5, 1), got {v}" for k, v in values.items() if not 0.5 <= v < 1]


def evaluate_pairs(runner, pairs: pd.DataFrame, subset_column: str | None = None,
                   rewards: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """Accuracy, margins and reward spread on held-out pairs, through the scoring code path.

    Swap check: the eval run again on a sample of the pairs (SWAP_CHECK_PAIRS) with chosen and
    rejected exchanged. A sound eval gives accuracy_swapped = 1 - accuracy - ties on the sample;
    one that stays high whatever it is shown (reads position or call order, not the text) or that
    cannot tell the answers apart fails it. A sample is enough to see that, at a fraction of a
    second full pass over the held-out pairs.
    """
    if len(pairs) == 0:
        return {"eval_pairs": 0}
    chosen, rejected = rewards if rewards is not None else score_pairs(runner, pairs["chosen"], pairs["rejected"])
    accuracy = float((chosen > rejected).mean())
    sample = np.random.default_rng(0).permutation(len(pairs))[:SWAP_CHECK_PAIRS]
    swapped_first, swapped_second = score_pairs(runner, pairs["rejected"].iloc[sample], pairs["chosen"].iloc[sample])
    accuracy_sample = float((chosen[sample] > rejected[sample]).mean())
    accuracy_swapped = float((swapped_first > swapped_second).mean())
    rewards = np.concatenate([chosen, rejected])
    metrics = {
        "eval_pairs": len(pairs),
        "eval_accuracy": accuracy,
        "eval_accuracy_swapped": accuracy_swapped,
        "eval_ties": float((chosen == rejected).mean()),
        "eval_swap_check_pairs": len(sample),
        "eval_swap_check_ok": bool(abs(accuracy_sample + accuracy_swapped - 1) <= 0.02),
        "eval_mean_margin": float((chosen - rejected).mean()),
        "eval_reward_mean": float(rewards.mean()),
        "eval_reward_std": float(rewards.std()),
    }
    if subset_column and subset_column in pairs.columns:
        by = pd.Series(chosen > rejected).groupby(pairs[subset_column].to_numpy()).mean()
        metrics["eval_accuracy_by_subset"] = {str(k): round(float(v), 4) for k, v in by.items()}
    if not metrics["eval_swap_check_ok"]:
        logger.warning("swap check failed on %d pairs: accuracy %.3f, swapped %.3f (expected about %.3f): the "
                       "eval is not reading the answers", len(sample), accuracy_sample, accuracy_swapped,
                       1 - accuracy_sample)
    return metrics


def calibrate(chosen: np.ndarray, rejected: np.ndarray, pairs: pd.DataFrame, records: bool,
              certain: frozenset[str] = frozenset(), outcomes: OutcomeSpec | None = None) -> dict:
    """Temperature T for p = sigmoid(margin / T), fitted on the held-out pairs in both orders
    (Bradley-Terry: P(first preferred)); for labelled records also the threshold on
    p_correct = sigmoid((r_正确 - r_错误) / T) with the best F1 for catching 错误, the ECE there,
    and the two operating points of the three outcomes (operating_points.py), fitted on the
    held-out records no certain check decides (those the model decides when scoring).
    Fitting one parameter on held-out pairs keeps the ranking (and pair accuracy) unchanged."""
    from rayscore.eval.calibration import (
        apply_temperature,
        calibration_bins,
        expected_calibration_error,
        fit_temperature,
    )
    from rayscore.eval.operating_points import fit_operating_points
    from rayscore.score.scorers import choose_threshold

    margin = (chosen - rejected).astype(np.float64)
    both = np.concatenate([margin, -margin])
    try:
        temperature = fit_temperature(both, np.concatenate([np.ones(len(margin), bool), np.zeros(len(margin), bool)]))
    except ValueError as e:  # e.g. every margin exactly 0
        logger.warning("calibration skipped: %s", e)
        return {"temperature": 1.0, "fitted_on_pairs": 0}
    out = {"temperature": round(float(temperature), 6), "fitted_on_pairs": int(len(margin))}
    if records:
        gold_correct = np.array([list(c)[-1]["content"] == CORRECT for c in pairs["chosen"]])
        p_correct = apply_temperature(np.where(gold_correct, margin, -margin), temperature)
        gold = np.where(gold_correct, CORRECT, WRONG)
        choice = choose_threshold(p_correct, gold, best_f1=True)
        out.update(threshold=choice["threshold"], threshold_f1=choice["f1"],
                   ece=round(expected_calibration_error(calibration_bins(p_correct, gold_correct)), 4))
        outcomes = outcomes or OutcomeSpec()
        flags = pairs["check_flags"] if "check_flags" in pairs else pd.Series([""] * len(pairs))
        model_decides = np.array([not set(f.split(",")) & certain for f in flags], dtype=bool)
        fitted_on = outcomes.fitted_on
        if outcomes.fit_on == "audited":
            audited = (pairs["source"] == "audited").to_numpy() if "source" in pairs else np.zeros(len(pairs), bool)
            model_decides &= audited
            fitted_on = f"{int(model_decides.sum())} held-back audited records"
        points = fit_operating_points(p_correct[model_decides], gold_correct[model_decides],
                                      outcomes.target_precision, 1 - outcomes.confidence, choice["threshold"])
        out["operating_points"] = points | {"fitted_on": fitted_on}
        logger.info("operating points on %d held-out records the model decides: 正确 at p >= %.4f, 错误 below %.4f "
                    "(coverage %s; certified %s)", points["n"], points["accept_at"], points["reject_below"],
                    points["coverage"], points["certified"])
    return out


def score_pairs(runner, first, second) -> tuple[np.ndarray, np.ndarray]:
    """Rewards of the first and of the second conversation of every pair, in that order."""
    return runner.rewards([list(c) for c in first]), runner.rewards([list(c) for c in second])
