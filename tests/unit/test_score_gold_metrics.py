"""score_batch's gold metrics (summary.json `gold_metrics`, `rules_baseline`) come from
rayscore.eval.metrics.classification_from_counts: the same numbers the job wrote when it computed
them by hand, and the same as eval's row-based classification()."""

from collections import Counter

import pytest

from rayscore.eval import metrics
from rayscore.score.report import gold_metrics


def without_automatic(out: dict) -> dict:
    """gold_metrics' figures the old formula also had (it knew no 待审, so no `automatic`)."""
    strip = lambda m: {k: v for k, v in m.items() if k != "automatic"}  # noqa: E731
    return {**out, "overall": strip(out["overall"]), "by_group": {g: strip(m) for g, m in out["by_group"].items()}}


def old_gold_metrics(counts: dict[str, Counter], positive: str = "错误") -> dict:
    """pipeline.gold_metrics as it was written before it called eval (the reference)."""
    def metrics(cells: Counter) -> dict:
        n = sum(cells.values())
        tp = sum(v for k, v in cells.items() if k == f"{positive}|{positive}")
        fp = sum(v for k, v in cells.items() if k.split("|")[0] != positive and k.split("|")[1] == positive)
        fn = sum(v for k, v in cells.items() if k.split("|")[0] == positive and k.split("|")[1] != positive)
        correct = sum(v for k, v in cells.items() if k.split("|")[0] == k.split("|")[1])
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"n": n, "accuracy": round(correct / n, 4) if n else None, "precision": round(precision, 4),
                "recall": round(recall, 4), "f1": round(f1, 4)}

    overall = Counter()
    for cells in counts.values():
        overall.update(cells)
    return {"positive_label": positive, "overall": metrics(overall),
            "by_group": {g: metrics(c) for g, c in sorted(counts.items())}}


CASES = {
    "groups": {"none": Counter({"正确|正确": 40, "正确|错误": 3, "错误|错误": 1}),
               "postcode_length": Counter({"错误|错误": 17, "错误|正确": 4, "正确|错误": 2}),
               "phone": Counter({"错误|正确": 7, "错误|错误": 6})},
    "empty_group": {"all": Counter(), "other": Counter({"正确|正确": 2, "错误|错误": 1})},
    "only_empty": {"all": Counter()},
    "never_predicted_positive": {"all": Counter({"正确|正确": 9, "错误|正确": 5})},
    "never_predicted_negative": {"all": Counter({"错误|错误": 3, "正确|错误": 2})},
    "no_positive_gold": {"all": Counter({"正确|正确": 4, "正确|错误": 1})},
    "missing_gold_and_other_labels": {"all": Counter({"None|错误": 2, "None|正确": 1, "待定|错误": 1,
                                                      "错误|错误": 3, "正确|正确": 5})},
    "thirds": {"all": Counter({"错误|错误": 1, "正确|错误": 2, "错误|正确": 1, "正确|正确": 3})},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gold_metrics_equal_the_old_formula(name):
    counts = CASES[name]
    new, old = without_automatic(gold_metrics(counts)), old_gold_metrics(counts)
    assert new == old
    assert list(new) == list(old) and list(new["overall"]) == list(old["overall"])  # summary.json key order


def test_gold_metrics_equal_the_old_formula_for_the_other_positive():
    new = without_automatic(gold_metrics(CASES["groups"], positive="正确"))
    assert new == old_gold_metrics(CASES["groups"], positive="正确")


def test_empty_group_and_a_class_never_predicted():
    out = without_automatic(gold_metrics(CASES["empty_group"]))
    assert out["by_group"]["all"] == {"n": 0, "accuracy": None, "precision": 0.0, "recall": 0.0, "f1": 0.0}
    never = without_automatic(gold_metrics(CASES["never_predicted_positive"]))["overall"]
    assert never == {"n": 14, "accuracy": round(9 / 14, 4), "precision": 0.0, "recall": 0.0, "f1": 0.0}


@pytest.mark.parametrize("name", sorted(CASES))
def test_counts_agree_with_row_based_classification(name):
    # The same cells expanded into rows: eval's sklearn-based classification() gives the same numbers.
    cells = sum(CASES[name].values(), Counter())
    gold = [k.rsplit("|", 1)[0] for k, n in cells.items() for _ in range(n)]
    pred = [k.rsplit("|", 1)[1] for k, n in cells.items() for _ in range(n)]
    counted = metrics.classification_from_counts(Counter(zip(gold, pred)), positive="错误")
    assert counted["n"] == len(gold)
    if not gold:
        assert counted["accuracy"] is None
        return
    rows = metrics.classification(gold, pred, labels=sorted(set(gold) | set(pred) | {"错误"}))
    assert counted["accuracy"] == pytest.approx(rows["accuracy"])
    per_class = rows["per_class"]["错误"]
    assert {k: counted[k] for k in ("precision", "recall", "f1")} == pytest.approx(
        {k: per_class[k] for k in ("precision", "recall", "f1")})


def test_classification_from_counts_hand_example():
    out = metrics.classification_from_counts({(1, 1): 3, (0, 1): 1, (1, 0): 2, (0, 0): 4}, positive=1)
    assert out == pytest.approx({"n": 10, "accuracy": 0.7, "precision": 0.75, "recall": 0.6, "f1": 2 / 3})


def test_review_is_not_accepted_and_automatic_outcomes_are_counted():
    # 待审 is neither kept (a correct record sent to a person) nor missed (a wrong one is caught).
    cells = Counter({"正确|正确": 90, "正确|待审": 5, "正确|错误": 1, "错误|错误": 60, "错误|待审": 8, "错误|正确": 2})
    out = gold_metrics({"all": cells})["overall"]
    folded = without_automatic(gold_metrics({"all": Counter({"正确|正确": 90, "正确|错误": 6, "错误|错误": 68,
                                                             "错误|正确": 2})}))["overall"]
    assert {k: out[k] for k in folded} == folded
    auto = out["automatic"]
    assert auto["coverage"] == round(153 / 166, 4) and auto["review"] == 13
    assert auto["precision_正确"] == round(90 / 92, 4) and auto["precision_错误"] == round(60 / 61, 4)
    assert auto["risk"] == round(3 / 153, 4)
