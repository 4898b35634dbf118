"""The three outcomes' operating points (rayscore.eval.operating_points): a Clopper-Pearson bound
tested over a fixed grid, so automatic 正确 and 错误 each reach the stated precision."""

import numpy as np
import pytest

from rayscore.eval.calibration import calibration_bins
from rayscore.eval.operating_points import (fit_operating_points, outcome, precision_lower_bound,
                                            risk_coverage)


def draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores of a decent model: gold correct rows mostly near 1, wrong ones near 0, some overlap."""
    gold = rng.random(n) < 0.5
    margin = np.where(gold, 1.5, -1.5) + rng.normal(0, 1, n)
    return 1 / (1 + np.exp(-3 * margin)), gold


def test_lower_bound_is_the_clopper_pearson_bound():
    # With no error, n rows bound the precision at delta ** (1 / n): 299 rows are needed for 0.99.
    assert precision_lower_bound(299, 299, 0.05) == pytest.approx(0.05 ** (1 / 299))
    assert precision_lower_bound(299, 299, 0.05) >= 0.99 > precision_lower_bound(250, 250, 0.05)
    assert precision_lower_bound(0, 10, 0.05) == 0.0 == precision_lower_bound(0, 0, 0.05)
    assert precision_lower_bound(95, 100, 0.05) < 0.95


def test_points_are_certified_and_hold_on_fresh_rows():
    rng = np.random.default_rng(0)
    p, gold = draw(rng, 4000)
    points = fit_operating_points(p, gold, target_precision=0.99, delta=0.05)
    assert points["certified"] == {"正确": True, "错误": True}
    assert points["accept_at"] > 0.5 > points["reject_below"]
    assert points["正确"]["lower_bound"] >= 0.99 and points["错误"]["lower_bound"] >= 0.99
    # The least conservative threshold that passes: the next one on the grid does not.
    fresh_p, fresh_gold = draw(rng, 40000)
    labels = outcome(fresh_p, points)
    assert fresh_gold[labels == "正确"].mean() >= 0.99
    assert (~fresh_gold[labels == "错误"]).mean() >= 0.99
    assert 0.5 < points["coverage"] < 1


def test_the_stated_precision_holds_in_repeated_draws():
    # Over many held-out draws, the chosen 正确 point falls short of 0.95 on the population in
    # at most about delta of them.
    rng = np.random.default_rng(1)
    population_p, population_gold = draw(rng, 200000)
    short = 0
    for _ in range(60):
        p, gold = draw(rng, 600)
        points = fit_operating_points(p, gold, target_precision=0.95, delta=0.1)
        if points["certified"]["正确"]:
            short += population_gold[population_p >= points["accept_at"]].mean() < 0.95
    assert short <= 0.1 * 60 + 3


def test_too_few_rows_fall_back_uncertified():
    points = fit_operating_points([0.99, 0.98, 0.01, 0.4], [True, True, False, False], fallback_threshold=0.6)
    assert points["certified"] == {"正确": False, "错误": False}
    assert points["accept_at"] == points["reject_below"] == 0.6
    assert list(outcome([0.7, 0.6, 0.59], points)) == ["正确", "正确", "错误"]


def test_outcome_has_a_review_band_and_nan_goes_to_a_person():
    points = {"accept_at": 0.9, "reject_below": 0.2}
    assert list(outcome([0.95, 0.9, 0.5, 0.2, 0.1, float("nan")], points)) == ["正确", "正确", "待审", "待审",
                                                                              "错误", "待审"]


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="3 scores but 2 labels"):
        fit_operating_points([0.1, 0.2, 0.3], [True, False])


def test_risk_coverage_from_merged_bins():
    rng = np.random.default_rng(2)
    p, gold = draw(rng, 5000)
    curve = risk_coverage(calibration_bins(p, gold, n_bins=100))
    assert curve[0]["threshold"] == 0.5 and curve[0]["coverage"] == 1.0
    # At t = 0.5 everything is decided: the risk is the error of the 0.5 cut.
    assert curve[0]["risk"] == pytest.approx(((p >= 0.5) != gold).mean(), abs=1e-6)
    coverage = [c["coverage"] for c in curve]
    assert coverage == sorted(coverage, reverse=True)
    assert curve[-2]["risk"] < curve[0]["risk"]
    assert risk_coverage(calibration_bins([], [], n_bins=10)) == []
