"""The evaluate job end to end: joined files, annotator votes, label maps, every metric family,
checked against scikit-learn / scipy (or by hand) computed here from the same rows."""

import json
import math
import random
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    confusion_matrix,
    f1_score,
    mean_absolute_error,
    mean_squared_error,
    precision_score,
    recall_score,
)

from jobs.evaluate import main
from rayscore.eval.text import text_scores

LABEL_MAP = {"Tie": 0, "garbage": 0}
UNSWAP = {1: 2, 2: 1, 0: 0}


def read_metrics(out):
    return json.loads((out / "metrics.json").read_text(encoding="utf-8"))


def is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- pairwise judge against three annotators, two files joined on the id ------------------------

@pytest.fixture(scope="module")
def judged_pairs(tmp_path_factory):
    """gold.jsonl: ids 0..59 (int), 3 annotators with "Tie"/"garbage"/1/2 and gaps; predictions.parquet:
    ids "0".."57" (text) + "extra", verdicts in both orders with gaps and unreadable values."""
    rng = random.Random(3)
    root = tmp_path_factory.mktemp("evaluate")
    gold, preds = [], []
    for i in range(60):
        truth = rng.choice([1, 2, 0])
        raw = {1: 1, 2: 2, 0: rng.choice(["Tie", "garbage"])}
        labels = [raw[truth] if rng.random() < 0.75 else rng.choice([1, 2, "Tie", "garbage"]) for _ in range(3)]
        if i % 13 == 0:
            labels[2] = None  # the third annotator skipped it
        gold.append({"id": i, "category": ["写作", "数学", "角色扮演"][i % 3],
                     **{f"label_{k}": v for k, v in enumerate(labels)}})
        if i >= 58:
            continue  # judged by nobody: gold-only ids
        ab = truth if rng.random() < 0.7 else rng.choice([0, 1, 2])
        ba = UNSWAP[ab] if rng.random() < 0.8 else rng.choice([0, 1, 2])
        if i % 11 == 5:
            ab = None          # the judge gave nothing
        if i % 19 == 7:
            ab = "??"          # the judge's text was not a verdict
        if i % 23 == 3:
            ba = "Tie"         # mapped to 0 by label_map
        preds.append({"id": str(i), "verdict_ab": None if ab is None else str(ab), "verdict_ba": str(ba)})
    preds.append({"id": "extra", "verdict_ab": "1", "verdict_ba": "2"})  # no gold for it
    pd.DataFrame(gold).to_json(root / "gold.jsonl", orient="records", lines=True, force_ascii=False)
    pd.DataFrame(preds).to_parquet(root / "predictions.parquet")
    return root, gold, preds


def mapped(value):
    return LABEL_MAP.get(value, value) if isinstance(value, str) else value


def vote_first(labels):
    labels = [mapped(x) for x in labels if x is not None]
    counts = Counter(labels)
    top = max(counts.values())
    return next(x for x in labels if counts[x] == top)


def verdict(value):
    value = mapped(value)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if number in (0, 1, 2) else None


def test_joined_files_annotators_and_label_map_match_sklearn(tmp_path, judged_pairs):
    root, gold_rows, pred_rows = judged_pairs
    out = tmp_path / "out"
    code = main(["--config", "configs/evaluate/tiny.yaml", f"predictions={root / 'predictions.parquet'}",
                 f"gold={root / 'gold.jsonl'}", f"output_dir={out}"])
    report = read_metrics(out)
    assert code == 0 and report["ok"]

    # The join keeps every id and says which were unmatched (int ids in one file, text in the other).
    join = report["inputs"]["join"]
    assert (join["gold_rows"], join["prediction_rows"], join["matched"]) == (60, 59, 58)
    assert (join["gold_only"], join["predictions_only"]) == (2, 1)
    assert join["gold_only_ids"] == ["58", "59"] and join["predictions_only_ids"] == ["extra"]
    assert report["inputs"]["rows"] == 61

    # Expected values, from the raw rows with scikit-learn.
    gold = {str(r["id"]): vote_first([r["label_0"], r["label_1"], r["label_2"]]) for r in gold_rows}
    ab = {r["id"]: verdict(r["verdict_ab"]) for r in pred_rows}
    ba = {r["id"]: verdict(r["verdict_ba"]) for r in pred_rows}
    rows = [(gold[i], ab.get(i), ba.get(i)) for i in gold]  # gold-only ids have no verdicts
    scored = [(g, a) for g, a, _ in rows if a is not None]
    t, p = [g for g, _ in scored], [a for _, a in scored]

    pairwise = report["metrics"]["pairwise"]
    assert pairwise["ab"]["n"] == len(scored) and pairwise["ab"]["n_missing_pred"] == len(rows) - len(scored)
    assert pairwise["ab"]["n_missing_gold"] == 1  # the prediction without gold
    assert pairwise["ab"]["accuracy"] == pytest.approx(accuracy_score(t, p))
    assert pairwise["ab"]["precision"] == pytest.approx(precision_score(t, p, average="macro", zero_division=0))
    assert pairwise["ab"]["recall"] == pytest.approx(recall_score(t, p, average="macro", zero_division=0))
    assert pairwise["ab"]["f1"] == pytest.approx(f1_score(t, p, average="macro", zero_division=0))
    assert pairwise["ab"]["confusion_matrix"] == confusion_matrix(t, p, labels=[0, 1, 2]).tolist()
    # Missing and unreadable verdicts are counted apart, never turned into ties.
    inputs = pairwise["inputs"]
    assert inputs["missing_prediction"] == sum(r["verdict_ab"] is None for r in pred_rows) + 2
    assert inputs["unparseable_prediction"] == sum(r["verdict_ab"] == "??" for r in pred_rows)
    assert inputs["unparseable_prediction_examples"][0] == "??"

    both = [(g, a, b) for g, a, b in rows if a is not None and b is not None]
    consistent = [a == UNSWAP[b] for _, a, b in both]
    assert pairwise["swap"]["n"] == len(both)
    assert pairwise["swap"]["consistency"] == pytest.approx(sum(consistent) / len(both))
    assert pairwise["accuracy_both_orders"] == pytest.approx(
        sum(g == a == UNSWAP[b] for g, a, b in both) / len(both))

    classification = report["metrics"]["classification"]
    assert classification["accuracy"] == pytest.approx(accuracy_score(t, p))
    assert classification["f1_macro"] == pytest.approx(f1_score(t, p, labels=[0, 1, 2], average="macro",
                                                               zero_division=0))
    assert classification["per_class"]["2"]["recall"] == pytest.approx(
        recall_score(t, p, labels=[2], average="macro", zero_division=0))
    assert classification["cohen_kappa"] == pytest.approx(cohen_kappa_score(t, p))

    # Annotator agreement: Cohen's kappa per pair (items both labelled), Fleiss' kappa over complete items.
    annotators = report["annotators"]
    labels = [[mapped(r[f"label_{k}"]) for k in range(3)] for r in gold_rows]
    pair = [(a[0], a[2]) for a in labels if a[2] is not None]
    assert annotators["cohen_kappa"]["label_0 vs label_2"] == pytest.approx(
        cohen_kappa_score([x for x, _ in pair], [y for _, y in pair]))
    complete = [a for a in labels if None not in a]
    counts = np.array([[row.count(c) for c in (0, 1, 2)] for row in complete], dtype=float)
    p_item = ((counts ** 2).sum(axis=1) - 3) / (3 * 2)
    p_cat = counts.sum(axis=0) / counts.sum()
    fleiss = (p_item.mean() - (p_cat ** 2).sum()) / (1 - (p_cat ** 2).sum())
    assert annotators["fleiss_items"] == len(complete)
    assert annotators["fleiss_kappa"] == pytest.approx(fleiss)
    assert annotators["vote_ties"] == sum(
        1 for a in labels if len([x for x in a if x is not None]) == 2 and a[0] != a[1] and a[2] is None
        or len(set(x for x in a if x is not None)) == 3)

    # Per-category breakdown: the same computation on each category's rows.
    group = report["by_group"]["groups"]["数学"]
    ids = [str(r["id"]) for r in gold_rows if r["category"] == "数学"]
    sub = [(gold[i], ab[i]) for i in ids if ab.get(i) is not None]
    assert group["rows"] == len(ids)
    assert group["pairwise"]["ab"]["accuracy"] == pytest.approx(
        accuracy_score([g for g, _ in sub], [a for _, a in sub]))
    assert set(report["by_group"]["groups"]) == {"写作", "数学", "角色扮演", "null"}  # "extra" has no category

    assert report["plots"] == {"confusion_matrix": "confusion_matrix.png",
                               "pairwise_confusion": "pairwise_confusion.png"}
    assert all(is_png(out / name) for name in report["plots"].values())
    assert (out / "config.yaml").exists()


def test_unparsed_verdicts_as_ties_reproduce_judgelm(tmp_path, judged_pairs):
    root, gold_rows, pred_rows = judged_pairs
    out = tmp_path / "out"
    main(["--config", "configs/evaluate/tiny.yaml", f"predictions={root / 'predictions.parquet'}",
          f"gold={root / 'gold.jsonl'}", f"output_dir={out}", "missing_pred=tie", "metrics=[pairwise]"])
    ab = read_metrics(out)["metrics"]["pairwise"]["ab"]
    gold = {str(r["id"]): vote_first([r["label_0"], r["label_1"], r["label_2"]]) for r in gold_rows}
    preds = {r["id"]: verdict(r["verdict_ab"]) for r in pred_rows}
    t = list(gold.values())
    p = [0 if preds.get(i) is None else preds[i] for i in gold]  # JudgeLM: no verdict counts as a tie
    assert ab["n"] == 60 and ab["missing_pred"] == "tie"
    assert ab["accuracy"] == pytest.approx(accuracy_score(t, p))
    assert ab["f1"] == pytest.approx(f1_score(t, p, average="macro", zero_division=0))


# --- scores: regression, correlation, distribution from judge text -------------------------------

def test_scores_from_text_regression_correlation_distribution(tmp_path):
    rng = np.random.default_rng(5)
    n = 50
    real = np.round(rng.uniform(3, 10, n), 1)
    pred = np.clip(np.round(real + rng.normal(0, 1.0, n)), 1, 10)
    outputs = [f"{p:g}" for p in pred]
    outputs[3] = "我无法评价这个对象。"     # a refusal: unparseable, not 0
    outputs[8] = None                        # nothing generated
    outputs[12] = "９分，理由是很受欢迎"       # full-width digit with trailing text
    outputs[20] = "15"                       # outside [0, 10]
    real_col = [str(v) for v in real]
    real_col[30] = "-"                       # no crowd score
    frame = pd.DataFrame({"id": range(n), "output": outputs, "TitleScore": real_col,
                          "Introduce": ["游戏厂商", "手机品牌"] * (n // 2)})
    path = tmp_path / "predictions.jsonl"
    frame.to_json(path, orient="records", lines=True, force_ascii=False)
    out = tmp_path / "out"
    code = main(["--config", "configs/evaluate/regression.yaml", f"predictions={path}", f"output_dir={out}",
                 "metrics=[regression, correlation, distribution]", "threshold=6", "bootstrap=200"])
    report = read_metrics(out)
    assert code == 0

    parsed = pred.astype(float)
    parsed[12] = 9.0
    usable = [i for i in range(n) if i not in (3, 8, 20, 30)]
    t, p = real[usable], parsed[usable]
    regression = report["metrics"]["regression"]
    assert regression["n"] == len(usable)
    assert regression["inputs"]["missing_prediction"] == 1 and regression["inputs"]["unparseable_prediction"] == 2
    assert regression["inputs"]["unparseable_gold"] == 1
    assert regression["mae"] == pytest.approx(mean_absolute_error(t, p))
    assert regression["mse"] == pytest.approx(mean_squared_error(t, p))
    assert regression["rmse"] == pytest.approx(math.sqrt(mean_squared_error(t, p)))

    correlation = report["metrics"]["correlation"]
    assert correlation["pearson"]["r"] == pytest.approx(stats.pearsonr(p, t).statistic)
    assert correlation["spearman"]["r"] == pytest.approx(stats.spearmanr(p, t).statistic)
    assert correlation["kendall"]["r"] == pytest.approx(stats.kendalltau(p, t).statistic)
    assert correlation["pearson"]["ci_low"] < correlation["pearson"]["r"] < correlation["pearson"]["ci_high"]

    scores = parsed[[i for i in range(n) if i not in (3, 8, 20)]]  # the distribution needs no gold
    distribution = report["metrics"]["distribution"]
    assert distribution["n"] == len(scores)
    assert distribution["mean"] == pytest.approx(scores.mean()) and distribution["std"] == pytest.approx(scores.std())
    assert distribution["share_below_threshold"] == pytest.approx((scores < 6).mean())
    assert distribution["shares"]["9"] == pytest.approx((scores == 9).mean())

    games = [i for i in usable if i % 2 == 0]
    group = report["by_group"]["groups"]["游戏厂商"]["regression"]
    assert group["mae"] == pytest.approx(mean_absolute_error(real[games], parsed[games]))
    assert set(report["plots"]) == {"error_histogram", "correlation", "score_histogram"}
    assert all(is_png(out / name) for name in report["plots"].values())


# --- text overlap and length control ---------------------------------------------------------------

def test_text_overlap_and_length_control(tmp_path):
    rows = [
        {"id": 1, "instruction": "写一篇300字的秋天散文", "output": "秋" * 290 + "\n \n", "reference": "秋天来了"},
        {"id": 2, "instruction": "写一段100字左右的介绍", "output": "长城 " * 60, "reference": "长城很长"},
        {"id": 3, "instruction": "翻译：hello", "output": "你好", "reference": "你好"},
        {"id": 4, "instruction": "写一篇300字的作文", "output": None, "reference": "作文"},
    ]
    path = tmp_path / "answers.json"
    pd.DataFrame(rows).to_json(path, orient="records", force_ascii=False)  # a JSON array
    out = tmp_path / "out"
    code = main([f"predictions={path}", f"output_dir={out}", "metrics=[text, length_control]",
                 "prediction_column=output", "gold_column=reference"])
    report = read_metrics(out)
    assert code == 0

    text = report["metrics"]["text"]
    expected = text_scores([r["output"] for r in rows[:3]], [r["reference"] for r in rows[:3]])
    assert text["n"] == 3 and text["inputs"]["missing_prediction"] == 1
    assert text["bleu4"] == pytest.approx(expected["bleu4"]) and text["rougeL"] == pytest.approx(expected["rougeL"])
    # ROUGE-1 F1 by hand: row 3 matches exactly; row 1 shares one 秋 (P 1/290, R 1/4).
    r1 = 2 * (1 / 290) * (1 / 4) / (1 / 290 + 1 / 4)
    r2 = 2 * (3 / 120) * (3 / 4) / (3 / 120 + 3 / 4)  # 长 twice and 城 once, clipped to the reference
    assert text["rouge1"] == pytest.approx((r1 + r2 + 1.0) / 3)

    length = report["metrics"]["length_control"]
    assert length["n_with_target"] == 2 and length["n_without_target"] == 1
    assert length["inputs"]["missing_prediction"] == 1  # never counted as a 0-character answer
    assert length["mean_signed_error"] == pytest.approx((-10 + 20) / 2)
    assert length["mean_abs_error"] == pytest.approx((10 + 20) / 2)
    assert length["by_target"]["300"]["mean_signed_error"] == -10
    assert is_png(out / "length_control.png")


# --- bad input is reported, not guessed around -----------------------------------------------------

def test_duplicate_ids_and_missing_columns_fail_with_the_file(tmp_path):
    gold = tmp_path / "gold.jsonl"
    preds = tmp_path / "preds.jsonl"
    pd.DataFrame({"id": [1, 2, 2], "gold": [1, 0, 1]}).to_json(gold, orient="records", lines=True)
    pd.DataFrame({"id": [1, 2], "prediction": [1, 0]}).to_json(preds, orient="records", lines=True)
    with pytest.raises(ValueError, match=r"gold.jsonl: 1 ids appear more than once in 'id' \(e.g. 2\)"):
        main([f"predictions={preds}", f"gold={gold}", f"output_dir={tmp_path / 'out'}"])
    pd.DataFrame({"id": [1, 2], "label": [1, 0]}).to_json(gold, orient="records", lines=True)
    with pytest.raises(ValueError, match="no column 'gold'"):
        main([f"predictions={preds}", f"gold={gold}", f"output_dir={tmp_path / 'out'}"])


def test_config_conflicts_fail_before_reading(tmp_path):
    from rayscore.config import ConfigError

    with pytest.raises(ConfigError) as err:
        main(["predictions=x.jsonl", f"output_dir={tmp_path}", "metrics=[regression, bogus]"])
    text = str(err.value)
    assert "metrics (from command line): expected" in text
    with pytest.raises(ConfigError) as err:
        main(["predictions=x.jsonl", f"output_dir={tmp_path}", "annotator_columns=[a, b]", "swap_column=v"])
    text = str(err.value)
    assert "annotator_columns (from command line): set gold_column to null" in text
    assert "swap_column (from command line): only used by the pairwise metrics" in text
