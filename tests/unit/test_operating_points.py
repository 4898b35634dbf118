"""The three outcomes' operating points (rayscore.eval.operating_points): a Clopper-Pearson bound
tested over a fixed grid, so automatic 正确 and 错误 each reach the stated precision."""

import numpy as np
import pytest

from rayscore.eval.calibration import calibration_bins
from rayscore.eval.operating_points import fit_operating_points, outcome, precision_lower_bound, risk_coverage


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


def test_train_reward_fits_the_points_on_held_back_audited_records_when_asked():
    """outcomes.fit_on audited: the operating points see only the audited rows of the eval split,
    and say so; the temperature still uses every held-out pair."""
    import pandas as pd

    from rayscore.data.pairs import conversation
    from rayscore.train.reward_eval import OutcomeSpec, calibrate

    rng = np.random.default_rng(0)
    n = 400
    gold = rng.random(n) < 0.5
    audited = np.arange(n) < 100
    # generated rows separate cleanly; the audited ones are noisier (the user's own data)
    margin = np.where(gold, 1, -1) * np.where(audited, rng.normal(1.0, 2.0, n), rng.normal(6.0, 1.0, n))
    pairs = pd.DataFrame({"chosen": [conversation("r", "正确" if g else "错误") for g in gold],
                          "check_flags": [""] * n, "source": np.where(audited, "audited", "generated")})
    chosen, rejected = np.abs(margin) * 0 + np.where(gold, margin, -margin), np.zeros(n)
    everything = calibrate(chosen, rejected, pairs, records=True, outcomes=OutcomeSpec())
    own = calibrate(chosen, rejected, pairs, records=True, outcomes=OutcomeSpec(fit_on="audited"))
    assert everything["operating_points"]["n"] == n and own["operating_points"]["n"] == 100
    assert own["operating_points"]["fitted_on"] == "100 held-back audited records"
    assert own["temperature"] == everything["temperature"]
    assert own["operating_points"] != everything["operating_points"]


def test_score_batch_hands_its_actors_the_operating_points_not_a_threshold(tmp_path):
    """A quality spec without a threshold reaches the actors as it is, so they label 正确 / 待审 / 错误
    by the model's points; only a classifier gets its calibrated threshold filled in."""
    import json

    from rayscore.score.job import resolve_spec
    from rayscore.score.scorers import ScorerSpec, calibrated_points

    points = {"accept_at": 0.95, "reject_below": 0.05, "certified": {"正确": True, "错误": True}}
    (tmp_path / "calibration.json").write_text(json.dumps({"threshold": 0.6, "operating_points": points}))
    spec, choice = resolve_spec(ScorerSpec(kind="quality", model_dir=str(tmp_path)))
    assert spec.threshold is None and choice is None
    assert calibrated_points(spec)["accept_at"] == 0.95
    assert resolve_spec(ScorerSpec(kind="classifier", model_dir=str(tmp_path)))[0].threshold == 0.6
    fixed, _ = resolve_spec(ScorerSpec(kind="quality", model_dir=str(tmp_path), threshold=0.7))
    assert fixed.threshold == 0.7 and calibrated_points(fixed) is None       # a threshold set replaces them


def test_fixed_sequence_starts_where_rows_suffice_and_stops_at_the_first_failure():
    from rayscore.eval.operating_points import fewest_rows

    assert fewest_rows(0.99, 0.05) == 299 and fewest_rows(0.99, 0.05, wrong=1) == 473
    assert precision_lower_bound(472, 473, 0.05) >= 0.99 > precision_lower_bound(471, 472, 0.05)
    # 100 rows near 1 with 2 wrong: too few to be tested, so they neither pass nor stop the sequence
    p = np.concatenate([np.full(100, 0.99995), np.full(1000, 0.999), np.full(1000, 0.955), np.full(500, 0.2)])
    gold = np.concatenate([np.arange(100) >= 2, np.ones(1000, bool), np.arange(1000) >= 50, np.zeros(500, bool)])
    points = fit_operating_points(p, gold, target_precision=0.99, delta=0.05)
    # from 0.999 down to 0.96 the same 1,098 right of 1,100 pass; 0.95 adds 50 wrong of 1,000 and fails
    assert points["accept_at"] == 0.96 and points["certified"]["正确"]
    assert points["正确"]["n"] == 1100
    assert points["reject_below"] == 0.5 and points["错误"]["n"] == 500      # every 0.2 below 1 - 0.5


def test_one_confident_mistake_among_the_first_few_hundred_does_not_stop_the_sequence():
    # 400 rows at 0.996 with one wrong (its bound 0.988 fails) would stop a sequence that started
    # there; it starts where 473 rows are taken, and 0.993 (1,400 rows, 4 wrong) passes.
    p = np.concatenate([np.full(400, 0.996), np.full(1000, 0.994), np.full(300, 0.2)])
    gold = np.concatenate([np.arange(400) >= 1, np.arange(1000) >= 3, np.zeros(300, bool)])
    points = fit_operating_points(p, gold, target_precision=0.99, delta=0.05)
    assert precision_lower_bound(399, 400, 0.05) < 0.99
    assert points["certified"]["正确"] and points["accept_at"] == 0.5 and points["正确"]["n"] == 1400
