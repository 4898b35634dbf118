"""Metrics against scikit-learn / scipy, hand-computed values, and JudgeLM's eval script."""

import math
import random
import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from rayscore.eval import metrics
from rayscore.eval.annotators import cohen_kappa, fleiss_kappa, fleiss_kappa_from_counts, majority_vote, rating_counts
from rayscore.eval.correlation import correlation, correlation_by_group
from rayscore.eval.length_control import answer_length, chinese_number, length_control, length_rows, requested_length
from rayscore.eval.pairwise_agreement import pairwise, pairwise_agreement, swap_consistency
from rayscore.eval.verdicts import unswap

# --- regression ---------------------------------------------------------------------------------


def test_regression_hand_computed_and_missing_is_not_zero():
    real = [9.7, 8.0, 6.5, 7.0, 5.0]
    pred = [9.0, 8.5, None, 9.0, float("nan")]  # the base model declined to rate two items
    out = metrics.regression(real, pred)
    errors = np.array([-0.7, 0.5, 2.0])
    assert out["n"] == 3 and out["n_missing_pred"] == 2 and out["n_missing_true"] == 0
    assert out["coverage"] == pytest.approx(3 / 5)
    assert out["mae"] == pytest.approx(np.abs(errors).mean())
    assert out["mse"] == pytest.approx((errors ** 2).mean())
    assert out["rmse"] == pytest.approx(math.sqrt((errors ** 2).mean()))
    assert out["mean_error"] == pytest.approx(errors.mean())
    # unit bins centred on whole numbers: -0.7 -> [-1.5,-0.5), 0.5 -> [0.5,1.5), 2.0 -> [1.5,2.5]
    assert out["error_histogram"]["edges"] == [-1.5, -0.5, 0.5, 1.5, 2.5]
    assert out["error_histogram"]["counts"] == [1, 0, 1, 1]
    assert sum(out["error_histogram"]["counts"]) == out["n"]


def test_regression_all_missing_and_length_mismatch():
    out = metrics.regression([1, 2], [None, None])
    assert out["n"] == 0 and out["mae"] is None and out["n_missing_pred"] == 2
    with pytest.raises(ValueError, match="lengths differ"):
        metrics.regression([1, 2], [1])


# --- classification, kappa, majority vote ---------------------------------------------------------


def test_classification_matches_hand_and_sklearn():
    gold = ["正确", "正确", "正确", "错误", "错误", "错误", "错误", None]
    pred = ["正确", "正确", "错误", "错误", "错误", "正确", "错误", "正确"]
    out = metrics.classification(gold, pred, labels=["正确", "错误"])
    assert out["n"] == 7 and out["n_missing"] == 1
    assert out["confusion_matrix"] == [[2, 1], [1, 3]]
    assert out["accuracy"] == pytest.approx(5 / 7)
    assert out["per_class"]["正确"] == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "support": 3})
    assert out["per_class"]["错误"]["precision"] == pytest.approx(3 / 4)
    assert out["per_class"]["错误"]["recall"] == pytest.approx(3 / 4)
    assert out["f1_macro"] == pytest.approx((2 / 3 + 3 / 4) / 2)
    assert out["f1_macro"] == pytest.approx(f1_score(gold[:7], pred[:7], average="macro"))


def test_classification_zero_division_is_zero():
    out = metrics.classification([0, 0, 1], [0, 0, 0], labels=[0, 1, 2])
    assert out["per_class"][1] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert out["per_class"][2]["support"] == 0
    assert out["confusion_matrix"] == [[2, 0, 0], [1, 0, 0], [0, 0, 0]]


def test_cohen_kappa_textbook_example():
    # Wikipedia's Cohen's kappa example: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> 0.4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa(a + [None], b + ["yes"]) == pytest.approx(0.4)  # unlabelled skipped


# The Wikipedia Fleiss' kappa example (also statsmodels' test table): 10 items, 14 raters,
# 5 categories. By hand: p_j = .143 .200 .279 .150 .229, P_bar = 0.378, P_e = 0.213, kappa = 0.210.
WIKI_FLEISS = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
               [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]


def test_fleiss_kappa_wikipedia_example():
    p_bar = 0.378021978021978  # mean of P_i = (sum n_ij^2 - 14) / (14 * 13)
    p_e = 0.21275510204081632  # sum of (column total / 140)^2
    expected = (p_bar - p_e) / (1 - p_e)
    assert fleiss_kappa_from_counts(WIKI_FLEISS) == pytest.approx(expected)
    assert round(fleiss_kappa_from_counts(WIKI_FLEISS), 3) == 0.210


def test_fleiss_kappa_from_label_matrix_matches_counts():
    rng = random.Random(0)
    labels = []
    for counts in WIKI_FLEISS:  # expand each item's counts into 14 raters' labels, shuffled
        row = [category for category, c in enumerate(counts, start=1) for _ in range(c)]
        rng.shuffle(row)
        labels.append(row)
    assert fleiss_kappa(labels) == pytest.approx(0.20993070442195522)
    table, categories = rating_counts(labels)
    assert categories == [1, 2, 3, 4, 5] and table.tolist() == WIKI_FLEISS


def test_fleiss_kappa_edge_cases():
    assert fleiss_kappa([[1, 1, 1], [2, 2, 2], [0, 0, 0]]) == pytest.approx(1.0)
    assert math.isnan(fleiss_kappa([[1, 1], [1, 1]]))  # one category: undefined
    with pytest.raises(ValueError, match="same number"):
        fleiss_kappa([[1, 2, 1], [1, None, 2]])


def test_majority_vote_tie_breaks():
    annotations = [[1, 1, 2], [2, 1, 0], [0, None, 0], [None, None], [2, 1, 1, 2]]
    assert majority_vote(annotations, "first") == [1, 2, 0, None, 2]
    assert majority_vote(annotations, "tie_label") == [1, 0, 0, None, 0]
    assert majority_vote(annotations, "drop") == [1, None, 0, None, None]
    assert majority_vote([["a", "b"]], "tie_label", tie_label="tie") == ["tie"]
    with pytest.raises(ValueError):
        majority_vote(annotations, "random")


# --- pairwise: JudgeLM's eval_model_judgement.py, transcribed, as the reference ------------------

def judgelm_calculate_metrics(gt_scores, seq_scores, rev_scores):
    """judgelm/llm_judge/eval_model_judgement.py calculate_metrics (if_filter_minus_one=True)
    with common.translate_score_to_win_list, on score pairs already parsed ([-1, -1] = failure)."""
    def win_list(scores, T=0.0):
        return [1 if s[0] - s[1] > T else (-1 if s[1] - s[0] > T else 0) for s in scores]

    keep = [i for i, g in enumerate(gt_scores) if not (g[0] == -1 or g[1] == -1)]
    gt_win = win_list([gt_scores[i] for i in keep])
    seq_win = win_list([seq_scores[i] for i in keep])
    rev_win = win_list([rev_scores[i] for i in keep])
    out = {"accuracy": accuracy_score(gt_win, seq_win),
           "precision": precision_score(gt_win, seq_win, average="macro", zero_division=0),
           "recall": recall_score(gt_win, seq_win, average="macro", zero_division=0),
           "f1": f1_score(gt_win, seq_win, average="macro", zero_division=0)}
    same = before = after = 0
    for s, r in zip(seq_win, rev_win):
        s = -s
        if s == r:
            same += 1
        elif s - r > 0:
            after += 1
        elif s - r < 0:
            before += 1
    n = len(seq_win)
    out.update(consistency=same / n, prefer_before_rate=before / n, prefer_after_rate=after / n,
               delta_bias=abs(before - after) / n, total_bias=(before + after) / n)
    return out


def _verdict(scores):
    """Our verdict for a JudgeLM score pair: None for a parse failure, else 1 / 2 / 0."""
    if scores == [-1, -1]:
        return None
    return 1 if scores[0] > scores[1] else (2 if scores[1] > scores[0] else 0)


def _random_scores(rng, n, p_fail):
    return [[-1, -1] if rng.random() < p_fail else [rng.randint(1, 10), rng.randint(1, 10)] for _ in range(n)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pairwise_metrics_match_judgelm_script(seed):
    rng = random.Random(seed)
    gt = _random_scores(rng, 300, 0.05)
    seq = [s if rng.random() < 0.6 else t for s, t in zip(gt, _random_scores(rng, 300, 0.05))]
    rev = [[b, a] if rng.random() < 0.7 else t for (a, b), t in zip(seq, _random_scores(rng, 300, 0.05))]
    expected = judgelm_calculate_metrics(gt, seq, rev)

    gold = [_verdict(g) for g in gt]
    out = pairwise(gold, [_verdict(s) for s in seq], [_verdict(r) for r in rev])
    for key in ("accuracy", "precision", "recall", "f1"):
        assert out["ab"][key] == pytest.approx(expected[key]), key
    for key in ("consistency", "prefer_before_rate", "prefer_after_rate", "delta_bias", "total_bias"):
        assert out["swap"][key] == pytest.approx(expected[key]), key
    assert out["ab"]["n"] == out["swap"]["n"] == sum(g is not None for g in gold)
    assert out["ab"]["n_missing_gold"] == sum(g is None for g in gold) > 0


def test_pairwise_agreement_hand_example():
    gold = [1, 2, 0, 1, 2, None]
    pred = [1, 2, 1, None, 1, 2]   # None counts as a tie, as in JudgeLM/PandaLM
    out = pairwise_agreement(gold, pred)
    assert out["n"] == 5 and out["n_missing_pred"] == 1 and out["n_missing_gold"] == 1
    assert out["accuracy"] == pytest.approx(2 / 5)
    # predicted 0: 0 of 1 right, predicted 1: 1 of 3, predicted 2: 1 of 1;
    # gold 0: 0 of 1 found, gold 1: 1 of 2, gold 2: 1 of 2
    assert out["precision"] == pytest.approx((0 + 1 / 3 + 1) / 3)
    assert out["recall"] == pytest.approx((0 + 1 / 2 + 1 / 2) / 3)
    assert out["confusion_matrix"] == [[0, 1, 0], [1, 1, 0], [0, 1, 1]]
    dropped = pairwise_agreement(gold, pred, missing_pred="drop")
    assert dropped["n"] == 4 and dropped["accuracy"] == pytest.approx(2 / 4)


def test_swap_consistency_hand_example():
    ab = [1, 1, 2, 0, 1]
    ba = [2, 1, 2, 0, 0]  # consistent, first-position bias, second-position bias, consistent, lean first
    out = swap_consistency(ab, ba)
    assert out["consistency"] == pytest.approx(2 / 5)
    assert out["prefer_before_rate"] == pytest.approx(2 / 5)
    assert out["prefer_after_rate"] == pytest.approx(1 / 5)
    assert out["delta_bias"] == pytest.approx(1 / 5)
    assert out["total_bias"] == pytest.approx(3 / 5)


def test_accuracy_both_orders_counts_only_verdicts_that_survive_the_swap():
    gold = [1, 2, 1, 0]
    ab = [1, 2, 1, 0]
    ba = [2, 1, 1, 1]      # rows 0, 1 right in both orders; row 2 position bias; row 3 wrong after swap
    out = pairwise(gold, ab, ba)
    assert out["ab"]["accuracy"] == 1.0
    assert out["accuracy_both_orders"] == pytest.approx(2 / 4)
    assert out["ba"]["accuracy"] == pytest.approx(2 / 4)
    assert [unswap(v) for v in ba] == [1, 2, 2, 2]
    # combined with policy "tie": rows 2 and 3 become ties -> right only on row 3's gold tie
    assert out["combined"]["accuracy"] == pytest.approx(3 / 4)


# --- correlation -----------------------------------------------------------------------------------


def test_correlation_matches_scipy_and_ci_brackets_it():
    rng = np.random.default_rng(0)
    human = rng.normal(size=80)
    judge = human + rng.normal(scale=0.8, size=80)
    out = correlation(list(judge) + [None], list(human) + [1.0], bootstrap=300, seed=1)
    assert out["n"] == 80 and out["n_missing"] == 1
    assert out["pearson"]["r"] == pytest.approx(stats.pearsonr(judge, human).statistic)
    assert out["spearman"]["r"] == pytest.approx(stats.spearmanr(judge, human).statistic)
    assert out["kendall"]["r"] == pytest.approx(stats.kendalltau(judge, human).statistic)
    assert out["pearson"]["p_value"] == pytest.approx(stats.pearsonr(judge, human).pvalue)
    for name in ("pearson", "spearman", "kendall"):
        assert out[name]["ci_low"] < out[name]["r"] < out[name]["ci_high"]
        assert out[name]["ci_high"] - out[name]["ci_low"] < 0.5
    again = correlation(list(judge) + [None], list(human) + [1.0], bootstrap=300, seed=1)
    assert again == out  # seeded


def test_correlation_bootstrap_percentiles_by_hand():
    x = [1, 2, 3, 4, 5, 6, 7, 8]
    y = [2, 1, 4, 3, 6, 5, 8, 7]
    out = correlation(x, y, bootstrap=200, seed=3)
    rng = np.random.default_rng(3)
    xs, ys = np.array(x, float), np.array(y, float)
    values = []
    for _ in range(200):
        idx = rng.integers(0, 8, 8)
        with np.errstate(all="ignore"):
            values.append(stats.spearmanr(xs[idx], ys[idx]).statistic)
    values = np.array(values)
    values = values[~np.isnan(values)]
    assert out["spearman"]["ci_low"] == pytest.approx(np.quantile(values, 0.025))
    assert out["spearman"]["ci_high"] == pytest.approx(np.quantile(values, 0.975))


def test_correlation_perfect_and_too_few():
    out = correlation([1, 2, 3, 4, 5], [10, 20, 30, 40, 50], bootstrap=50)
    assert out["pearson"]["r"] == pytest.approx(1.0)
    assert out["kendall"]["ci_low"] == pytest.approx(1.0)
    assert correlation([1, 2], [1, 2])["pearson"] is None


def test_correlation_by_group():
    out = correlation_by_group([1, 2, 3, 3, 2, 1], [1, 2, 3, 1, 2, 3], ["写作"] * 3 + ["数学"] * 3,
                                       bootstrap=0)
    assert out["写作"]["pearson"]["r"] == pytest.approx(1.0)
    assert out["数学"]["pearson"]["r"] == pytest.approx(-1.0)
    assert out["all"]["n"] == 6 and out["写作"]["pearson"]["ci_low"] is None


# --- distribution ------------------------------------------------------------------------------------


def test_distribution_hand_computed():
    scores = [9, 8, 9, 5, 7, None, 9, 8.5]
    out = metrics.distribution(scores, threshold=6)
    values = np.array([9, 8, 9, 5, 7, 9, 8.5])
    assert out["n"] == 7 and out["n_missing"] == 1
    assert out["mean"] == pytest.approx(values.mean())
    assert out["std"] == pytest.approx(values.std(ddof=0))
    assert out["share_below_threshold"] == pytest.approx(1 / 7)
    assert out["counts"] == {5: 1, 7: 1, 8: 1, 8.5: 1, 9: 3}
    assert out["shares"][9] == pytest.approx(3 / 7)
    assert out["histogram"]["edges"] == [4.5, 5.5, 6.5, 7.5, 8.5, 9.5]
    assert out["histogram"]["counts"] == [1, 0, 1, 1, 4]  # bins are [a, b): 8.5 joins the 9s
    assert metrics.distribution([None])["mean"] is None


# --- length control ------------------------------------------------------------------------------------


@pytest.mark.parametrize("instruction,length", [
    ("写一篇300字的作文，题目是《春天》", 300),
    ("请以“家乡”为题写一篇短文，300字左右", 300),
    ("写一篇不少于500字的议论文", 500),
    ("写一段100字的景物描写", 100),
    ("写一篇三百字的日记", 300),
    ("写一篇一千五百字的小说", 1500),
    ("写一篇关于十字路口的文章，200字", 200),
    ("介绍你的家乡，字数300左右", 300),
    ("写一篇300-500字的读后感", 400),
    ("写一篇８００字作文", 800),
    ("写一首关于秋天的诗", None),
    ("把这句话一字不差地抄写下来", None),
    ("用五个字概括这段话", None),
    ("写出26个字母", None),
])
def test_requested_length(instruction, length):
    assert requested_length(instruction) == length


def test_answer_length_excludes_whitespace():
    assert answer_length("春天 来了，\n花开了。\t") == 9  # punctuation counts
    assert answer_length("春 天\u3000来") == 3  # full-width space too
    assert answer_length(None) == 0


def test_length_control_errors_and_rows_without_target():
    instructions = ["写一篇10字的话", "写一篇10字的话", "写20字", "写一首诗"]
    answers = ["一二三四五六七八", "一二三四五 六七八九十一二", "a" * 25, "床前明月光"]
    out = length_control(instructions, answers)
    # errors: 8-10 = -2, 12-10 = +2, 25-20 = +5
    assert out["n"] == 4 and out["n_with_target"] == 3 and out["n_without_target"] == 1
    assert out["mean_abs_error"] == pytest.approx(3.0)
    assert out["mean_signed_error"] == pytest.approx(5 / 3)
    assert out["mean_abs_rel_error"] == pytest.approx((0.2 + 0.2 + 0.25) / 3)
    assert out["by_target"][10] == pytest.approx({"n": 2, "mean_actual": 10.0, "mean_abs_error": 2.0,
                                                 "mean_signed_error": 0.0, "mean_abs_rel_error": 0.2})
    rows = length_rows(instructions, answers)
    assert rows[3] == {"requested": None, "actual": 5, "error": None}


@pytest.mark.parametrize("text,value", [("三百", 300), ("一千五百", 1500), ("两千", 2000), ("八十", 80),
                                        ("十五", 15), ("三千五", 3500), ("两万五", 25000), ("三百零五", 305),
                                        ("一百二十", 120), ("三百字", None)])
def test_chinese_number(text, value):
    assert chinese_number(text) == value


# --- plots -------------------------------------------------------------------------------------------

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_plots_write_pngs_without_missing_glyphs(tmp_path):
    from rayscore.eval import plots

    real, pred = [9.7, 8.0, 6.5, 7.0], [9.0, 8.5, None, 9.0]
    cls = metrics.classification(["正确", "错误", "正确"], ["正确", "正确", "错误"])
    instructions = ["写一篇300字的作文", "写一篇三百字的日记", "写一首诗"]
    rows = length_rows(instructions, ["字" * 280, "字" * 320, "床前明月光"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = [
            plots.plot_error_histogram([p - t for t, p in zip(real, pred) if p is not None],
                                       tmp_path / "err.png", title="预测 - 真实"),
            plots.plot_confusion_matrix(cls["confusion_matrix"], cls["labels"], tmp_path / "sub" / "cm.png"),
            plots.plot_score_histogram([9, 8, 9, 5, None], tmp_path / "scores.png", threshold=6),
            plots.plot_length_control([r["requested"] for r in rows], [r["actual"] for r in rows],
                                      tmp_path / "length.png"),
            plots.plot_score_histogram([], tmp_path / "empty.png"),
        ]
    assert not [w for w in caught if "glyph" in str(w.message).lower()]
    for path in paths:
        assert path.exists() and path.read_bytes()[:8] == PNG_MAGIC
    assert paths[1] == tmp_path / "sub" / "cm.png"


def test_ascii_label():
    from rayscore.eval.plots import ascii_label

    assert [ascii_label(x) for x in ("正确", "错误", 2, "tie")] == ["correct", "wrong", "2", "tie"]
    assert ascii_label("游戏").isascii() and ascii_label("游戏") != ascii_label("厂商")


def test_confusion_matrix_shape_is_checked(tmp_path):
    from rayscore.eval import plots

    with pytest.raises(ValueError, match="labels"):
        plots.plot_confusion_matrix([[1, 2], [3, 4]], ["a", "b", "c"], tmp_path / "x.png")
