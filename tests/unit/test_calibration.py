"""Temperature scaling, mergeable reliability bins, ECE and the reliability diagram."""

import json
import logging

import numpy as np
import pytest
from scipy.special import expit

from rayscore.eval import calibration as cal

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TRUE_T = 2.5


def draw(n: int, seed: int, temperature: float = TRUE_T) -> tuple[np.ndarray, np.ndarray]:
    """Margins ~ N(0, 3), labels ~ Bernoulli(sigmoid(margin / temperature))."""
    rng = np.random.default_rng(seed)
    margins = rng.normal(0.0, 3.0, n)
    return margins, rng.random(n) < expit(margins / temperature)


# --- temperature scaling --------------------------------------------------------------------------


def test_fit_temperature_recovers_known_temperature():
    margins, labels = draw(20_000, seed=0)
    assert cal.fit_temperature(margins, labels) == pytest.approx(TRUE_T, abs=0.1)


def test_fit_temperature_is_stable_for_huge_margins():
    margins, labels = draw(5_000, seed=1)
    # A tiny share of absurd margins would overflow exp() in a naive log(sigmoid) and give inf/NaN.
    margins[:5] = [1e6, -1e6, 5e5, -5e5, 1e4]
    labels[:5] = [True, False, False, True, True]
    t = cal.fit_temperature(margins, labels)
    assert np.isfinite(t) and 0.01 <= t <= 100


def test_temperature_fit_lowers_ece_of_overconfident_scores():
    train_m, train_y = draw(20_000, seed=2)
    test_m, test_y = draw(20_000, seed=3)
    # Reading the margins at T = 1 is overconfident: the data were drawn at T = 2.5.
    before = cal.expected_calibration_error(cal.calibration_bins(expit(test_m), test_y))
    t = cal.fit_temperature(train_m, train_y)
    after = cal.expected_calibration_error(cal.calibration_bins(cal.apply_temperature(test_m, t), test_y))
    assert before > 0.05
    assert after < 0.02
    assert after < before / 3


def test_separable_data_warns_that_temperature_hit_the_bound(caplog):
    margins = np.array([-3.0, -1.0, 1.0, 3.0])
    with caplog.at_level(logging.WARNING, logger="rayscore.eval.calibration"):
        t = cal.fit_temperature(margins, margins > 0)
    assert t == pytest.approx(0.01, rel=0.01)
    assert "edge of the search range" in caplog.text


@pytest.mark.parametrize("margins,labels,match", [
    ([], [], "non-empty"),
    ([1.0, 2.0], [True], "2 margins but 1 labels"),
    ([1.0, float("nan"), -1.0], [True, False, False], "NaN or infinite"),
    ([1.0, float("inf"), -1.0], [True, False, False], "NaN or infinite"),
    ([1.0, -2.0, 0.5], [True, True, True], "single class.*undefined"),
    ([1.0, -2.0, 0.5], [False, False, False], "single class.*undefined"),
    ([1.0, -2.0, 0.5], [True, None, False], "booleans"),
])
def test_fit_temperature_rejects_bad_input(margins, labels, match):
    with pytest.raises(ValueError, match=match):
        cal.fit_temperature(margins, labels)


def test_apply_temperature_rejects_non_positive_temperature():
    assert cal.apply_temperature([0.0, 2.0], 2.0) == pytest.approx([0.5, expit(1.0)])
    with pytest.raises(ValueError, match="> 0"):
        cal.apply_temperature([1.0], 0.0)


# --- bins, merging, ECE ---------------------------------------------------------------------------


def test_bins_hand_computed_edges_and_skipped_rows():
    p = [0.0, 0.1, 0.15, 0.9, 1.0, float("nan"), float("inf")]
    y = [False, False, True, True, True, True, False]
    bins = cal.calibration_bins(p, y, n_bins=10)
    assert bins["n_bins"] == 10
    assert bins["count"] == [1, 2, 0, 0, 0, 0, 0, 0, 0, 2]  # 1.0 in the last bin; NaN/inf skipped
    assert bins["sum_y"] == [0, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert bins["sum_p"][1] == pytest.approx(0.25) and bins["sum_p"][9] == pytest.approx(1.9)
    assert json.loads(json.dumps(bins)) == bins
    assert all(type(c) is int for c in bins["count"]) and all(type(s) is float for s in bins["sum_p"])


def test_p_equal_to_one_lands_in_last_bin():
    for n_bins in (1, 3, 10, 15):
        bins = cal.calibration_bins([1.0], [True], n_bins=n_bins)
        assert bins["count"][-1] == 1 and sum(bins["count"]) == 1


def test_ece_and_table_hand_computed():
    bins = cal.calibration_bins([0.1, 0.15, 0.9], [False, True, True], n_bins=10)
    # bin 1: mean p 0.125, share 0.5, 2 of 3 rows; bin 9: mean p 0.9, share 1, 1 of 3 rows.
    expected = 2 / 3 * abs(0.125 - 0.5) + 1 / 3 * abs(0.9 - 1.0)
    assert cal.expected_calibration_error(bins) == pytest.approx(expected)
    assert cal.reliability_table(bins) == [
        {"lower": 0.1, "upper": 0.2, "count": 2, "mean_p": 0.125, "share_positive": 0.5},
        {"lower": 0.9, "upper": 1.0, "count": 1, "mean_p": 0.9, "share_positive": 1.0},
    ]
    report = cal.calibration_report(bins)
    assert report["ece"] == pytest.approx(expected) and report["n"] == 3
    assert report["bins"] == cal.reliability_table(bins)


def test_merged_halves_equal_the_whole():
    rng = np.random.default_rng(4)
    p = rng.random(10_001)
    y = rng.random(10_001) < p
    whole = cal.calibration_bins(p, y, n_bins=15)
    # Bins travel from actors to the driver as JSON.
    halves = [json.loads(json.dumps(cal.calibration_bins(p[s], y[s], n_bins=15)))
              for s in (slice(None, 4_000), slice(4_000, None))]
    merged = cal.merge_bins(*halves)
    assert merged["n_bins"] == 15
    assert merged["count"] == whole["count"] and merged["sum_y"] == whole["sum_y"]
    assert merged["sum_p"] == pytest.approx(whole["sum_p"], rel=1e-12)
    assert cal.expected_calibration_error(merged) == pytest.approx(cal.expected_calibration_error(whole))
    assert cal.merge_bins(whole) == whole


def test_ece_small_when_calibrated_and_large_when_not():
    rng = np.random.default_rng(5)
    p = rng.random(50_000)
    y = rng.random(50_000) < p
    assert cal.expected_calibration_error(cal.calibration_bins(p, y)) < 0.02
    # Pushing every score towards 0 or 1 keeps the ranking but not the probabilities.
    overconfident = np.where(p > 0.5, 1 - (1 - p) ** 4, p ** 4)
    assert cal.expected_calibration_error(cal.calibration_bins(overconfident, y)) > 0.1
    assert cal.expected_calibration_error(cal.calibration_bins(1 - p, y)) > 0.4


def test_bin_and_merge_errors():
    with pytest.raises(ValueError, match="outside"):
        cal.calibration_bins([0.5, 1.2], [True, False])
    with pytest.raises(ValueError, match="2 probabilities but 1 labels"):
        cal.calibration_bins([0.5, 0.2], [True])
    with pytest.raises(ValueError, match="n_bins"):
        cal.calibration_bins([0.5], [True], n_bins=0)
    with pytest.raises(ValueError, match="nothing to merge"):
        cal.merge_bins()
    with pytest.raises(ValueError, match="different sizes"):
        cal.merge_bins(cal.calibration_bins([0.5], [True], n_bins=10),
                       cal.calibration_bins([0.5], [True], n_bins=5))
    with pytest.raises(ValueError, match="missing"):
        cal.merge_bins({"n_bins": 10, "count": [0] * 10})
    with pytest.raises(ValueError, match="no rows"):
        cal.expected_calibration_error(cal.calibration_bins([float("nan")], [True]))
    with pytest.raises(ValueError, match="no rows"):
        cal.calibration_report(cal.calibration_bins([], []))


# --- plot -----------------------------------------------------------------------------------------


def test_plot_reliability_writes_png(tmp_path):
    from rayscore.eval import plots

    margins, labels = draw(2_000, seed=6)
    bins = cal.calibration_bins(expit(margins), labels)
    path = plots.plot_reliability(bins, tmp_path / "sub" / "reliability.png", title="T = 1")
    assert path == tmp_path / "sub" / "reliability.png"
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 1_000
    # An actor with no scored rows still gets a (blank) diagram rather than an error.
    empty = plots.plot_reliability(cal.calibration_bins([], []), tmp_path / "empty.png")
    assert empty.read_bytes()[:8] == PNG_MAGIC
