"""Evaluation metrics, gold against predicted, as plain dicts ready for metrics.json.

    from rayscore.eval import metrics
    metrics.regression(real, predicted)                   # MAE, MSE, RMSE + error histogram
    metrics.classification(gold, pred, labels=["正确", "错误"])   # accuracy, P/R/F1, confusion
    metrics.classification_from_counts({("错误", "错误"): 3, ("正确", "错误"): 1}, positive="错误")
    metrics.pairwise(gold, verdict_ab, verdict_ba)        # JudgeLM / PandaLM agreement + swap
    metrics.correlation(judge, human, bootstrap=1000)     # Pearson, Spearman, Kendall + CIs
    metrics.distribution(scores, threshold=6)             # mean, std, shares per score
    metrics.length_control(instructions, answers)         # requested vs actual length
    metrics.majority_vote(labels_per_item), metrics.cohen_kappa(a, b), metrics.fleiss_kappa(m)

Missing values (None or NaN: a judge that gave no score, an unreadable verdict) are never
turned into a number silently: each function drops them from the statistic and reports how
many it dropped (`n_missing_*`), except where a published recipe says otherwise (pairwise
metrics count an unreadable verdict as a tie, as JudgeLM and PandaLM do; see `pairwise`).
scikit-learn and scipy compute what they have; Fleiss' kappa and the bootstrap are written here.
"""

from __future__ import annotations

import math
import re
import unicodedata
import warnings
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from typing import Literal

import numpy as np
from scipy import stats
from sklearn.metrics import (accuracy_score, cohen_kappa_score, confusion_matrix, mean_absolute_error,
                             mean_squared_error, precision_recall_fscore_support, root_mean_squared_error)

from rayscore.io import is_missing
from rayscore.eval.verdicts import combine, unswap

__all__ = [
    "regression", "classification", "classification_from_counts", "cohen_kappa", "fleiss_kappa", "fleiss_kappa_from_counts",
    "rating_counts", "majority_vote", "pairwise_agreement", "swap_consistency", "pairwise",
    "correlation", "correlation_by_group", "distribution", "requested_length", "answer_length",
    "length_rows", "length_control", "chinese_number",
]

PAIRWISE_LABELS = (0, 1, 2)
TieBreak = Literal["first", "tie_label", "drop"]
MissingVerdict = Literal["tie", "drop"]


# --- regression -------------------------------------------------------------------------------

def regression(y_true: Sequence, y_pred: Sequence, bins: int | Sequence[float] | None = None) -> dict:
    """MAE, MSE, RMSE and mean error (bias) over rows with both values, plus a histogram of
    pred - true. A missing prediction (the model declined to rate) is counted, not scored as 0.
    `bins` as in numpy.histogram; by default unit-wide bins centred on whole numbers."""
    t, p = _floats(y_true), _floats(y_pred)
    _same_length(t, p)
    missing_true, missing_pred = np.isnan(t), np.isnan(p) & ~np.isnan(t)
    ok = ~np.isnan(t) & ~np.isnan(p)
    out = {"n": int(ok.sum()), "n_missing_true": int(missing_true.sum()),
           "n_missing_pred": int(missing_pred.sum()),
           "coverage": _ratio(ok.sum(), (~missing_true).sum())}
    if not ok.any():
        return {**out, "mae": None, "mse": None, "rmse": None, "mean_error": None,
                "error_histogram": {"edges": [], "counts": []}}
    t, p = t[ok], p[ok]
    errors = p - t
    return {**out,
            "mae": float(mean_absolute_error(t, p)),
            "mse": float(mean_squared_error(t, p)),
            "rmse": float(root_mean_squared_error(t, p)),
            "mean_error": float(errors.mean()),
            "error_histogram": _histogram(errors, bins)}


# --- classification and agreement -------------------------------------------------------------

def classification(y_true: Sequence, y_pred: Sequence, labels: Sequence | None = None) -> dict:
    """Accuracy, macro and per-class precision / recall / F1 (zero_division=0) and the
    confusion matrix (rows: true label, columns: predicted, in `labels` order). Rows where
    either side is None are dropped and counted."""
    _same_length(y_true, y_pred)
    pairs = [(t, p) for t, p in zip(y_true, y_pred) if not is_missing(t) and not is_missing(p)]
    n_missing = len(y_true) - len(pairs)
    t = [a for a, _ in pairs]
    p = [b for _, b in pairs]
    labels = list(labels) if labels is not None else _sorted_labels(set(t) | set(p))
    if not pairs:
        return {"n": 0, "n_missing": n_missing, "labels": labels, "accuracy": None}
    precision, recall, f1, support = precision_recall_fscore_support(
        t, p, labels=labels, zero_division=0)
    macro = precision_recall_fscore_support(t, p, labels=labels, average="macro", zero_division=0)
    return {
        "n": len(pairs), "n_missing": n_missing, "labels": labels,
        "accuracy": float(accuracy_score(t, p)),
        "precision_macro": float(macro[0]), "recall_macro": float(macro[1]), "f1_macro": float(macro[2]),
        "per_class": {label: {"precision": float(precision[i]), "recall": float(recall[i]),
                              "f1": float(f1[i]), "support": int(support[i])}
                      for i, label in enumerate(labels)},
        "confusion_matrix": confusion_matrix(t, p, labels=labels).tolist(),
    }


def classification_from_counts(confusion: Mapping[tuple[Hashable, Hashable], int], positive: Hashable) -> dict:
    """Accuracy, and precision / recall / F1 of the `positive` label, from a confusion count
    mapping {(gold, predicted): rows} instead of rows: counts add up (a batch job merges each
    chunk's counts), so whoever aggregates never holds a row. Every cell counts: a gold label
    other than `positive` (missing included, however the caller wrote it) is a negative. As in
    classification(), a ratio with nothing to divide is 0 (zero_division=0); accuracy is None
    without rows. `n` is the number of rows."""
    n = tp = fp = fn = correct = 0
    for (gold, pred), count in confusion.items():
        n += count
        correct += count if gold == pred else 0
        if pred == positive:
            tp, fp = (tp + count, fp) if gold == positive else (tp, fp + count)
        elif gold == positive:
            fn += count
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"n": n, "accuracy": correct / n if n else None, "precision": precision, "recall": recall, "f1": f1}


def cohen_kappa(a: Sequence, b: Sequence, labels: Sequence | None = None,
                weights: Literal["linear", "quadratic"] | None = None) -> float:
    """Cohen's kappa of two annotators (scikit-learn); items either left unlabelled are skipped."""
    _same_length(a, b)
    pairs = [(x, y) for x, y in zip(a, b) if not is_missing(x) and not is_missing(y)]
    if not pairs:
        raise ValueError("cohen_kappa: no item labelled by both annotators")
    return float(cohen_kappa_score([x for x, _ in pairs], [y for _, y in pairs], labels=labels,
                                   weights=weights))


def rating_counts(ratings: Sequence[Sequence], categories: Sequence | None = None) -> tuple[np.ndarray, list]:
    """Items x raters labels -> (items x categories counts, categories)."""
    categories = list(categories) if categories is not None else _sorted_labels(
        {r for row in ratings for r in row if not is_missing(r)})
    index = {c: j for j, c in enumerate(categories)}
    counts = np.zeros((len(ratings), len(categories)), dtype=np.int64)
    for i, row in enumerate(ratings):
        for r in row:
            if is_missing(r):
                continue
            if r not in index:
                raise ValueError(f"rating_counts: item {i} has label {r!r}, not among {categories}")
            counts[i, index[r]] += 1
    return counts, categories


def fleiss_kappa(ratings: Sequence[Sequence], categories: Sequence | None = None) -> float:
    """Fleiss' kappa of a matrix of labels: one row per item, one column per annotator."""
    counts, _ = rating_counts(ratings, categories)
    return fleiss_kappa_from_counts(counts)


def fleiss_kappa_from_counts(counts: np.ndarray | Sequence[Sequence[int]]) -> float:
    """Fleiss' kappa from an items x categories table of how many raters chose each category.

    kappa = (P_bar - P_e) / (1 - P_e), with P_i = (sum_j n_ij^2 - n) / (n (n - 1)) the agreement
    on item i, P_bar their mean, p_j the share of all ratings in category j, P_e = sum_j p_j^2.
    Every item needs the same number n >= 2 of raters. NaN when P_e = 1 (one category only).
    """
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2 or counts.shape[0] == 0:
        raise ValueError("fleiss_kappa: need a non-empty items x categories table")
    raters = counts.sum(axis=1)
    if not np.all(raters == raters[0]) or raters[0] < 2:
        raise ValueError(f"fleiss_kappa: every item needs the same number (>= 2) of ratings, "
                         f"got {sorted(set(raters.astype(int).tolist()))}")
    n = raters[0]
    p_item = ((counts ** 2).sum(axis=1) - n) / (n * (n - 1))
    p_category = counts.sum(axis=0) / counts.sum()
    p_bar, p_e = p_item.mean(), (p_category ** 2).sum()
    if math.isclose(p_e, 1.0):
        return float("nan")
    return float((p_bar - p_e) / (1 - p_e))


def majority_vote(annotations: Sequence[Sequence], tie_break: TieBreak = "first",
                  tie_label: Hashable = 0) -> list:
    """The gold label of each item from several annotators' labels (None entries ignored).

    A tie between the most frequent labels is broken by `tie_break`: "first" takes the tied
    label given first (by the lowest-numbered annotator), "tie_label" returns `tie_label`
    (0, "tie", for pairwise judgements), "drop" returns None. Items with no label give None.
    """
    if tie_break not in ("first", "tie_label", "drop"):
        raise ValueError(f"tie_break must be 'first', 'tie_label' or 'drop', got {tie_break!r}")
    gold = []
    for labels in annotations:
        labels = [x for x in labels if not is_missing(x)]
        if not labels:
            gold.append(None)
            continue
        counts = Counter(labels)
        top = max(counts.values())
        leaders = [x for x in dict.fromkeys(labels) if counts[x] == top]
        if len(leaders) == 1 or tie_break == "first":
            gold.append(leaders[0])
        else:
            gold.append(tie_label if tie_break == "tie_label" else None)
    return gold


# --- pairwise judges (JudgeLM, PandaLM) ---------------------------------------------------------

def pairwise_agreement(gold: Sequence, pred: Sequence, missing_pred: MissingVerdict = "tie") -> dict:
    """Agreement of verdicts (1, 2, 0 = tie) with gold labels, as JudgeLM and PandaLM report it.

    Follows JudgeLM's judgelm/llm_judge/eval_model_judgement.py (calculate_metrics): rows whose
    gold label is missing are dropped; an unreadable prediction counts as a tie (JudgeLM's
    parse_score gives [-1, -1], which translate_score_to_win_list reads as a draw; PandaLM's
    parse_pandalm_response returns 0 too) unless missing_pred="drop"; then accuracy_score and
    macro precision_score / recall_score / f1_score of scikit-learn over the labels present
    (0/1/2 in practice; JudgeLM's 1/-1/0 win list is the same three classes).
    PandaLM (github.com/WeOpenML/PandaLM) ships no metric script: its README reports accuracy
    and macro precision / recall / F1 over {0, 1, 2} against the gold label of three annotators
    (data/testset-v1.json, label_0..label_2; see majority_vote), which is this computation.
    """
    _same_length(gold, pred)
    rows = _verdict_rows(gold, pred, missing_pred=missing_pred)
    out = {"n": len(rows["gold"]), "n_missing_gold": rows["n_missing_gold"],
           "n_missing_pred": rows["n_missing_pred"], "missing_pred": missing_pred}
    if not rows["gold"]:
        return {**out, "accuracy": None, "precision": None, "recall": None, "f1": None}
    t, p = rows["gold"], rows["pred"]
    precision, recall, f1, _ = precision_recall_fscore_support(t, p, average="macro", zero_division=0)
    return {**out, "accuracy": float(accuracy_score(t, p)), "precision": float(precision),
            "recall": float(recall), "f1": float(f1),
            "confusion_matrix": confusion_matrix(t, p, labels=list(PAIRWISE_LABELS)).tolist(),
            "labels": list(PAIRWISE_LABELS)}


def swap_consistency(verdict_ab: Sequence, verdict_ba_raw: Sequence,
                     missing: MissingVerdict = "tie") -> dict:
    """Consistency of a judge under swapping the answers, with JudgeLM's bias rates.

    `verdict_ab[i]` judges (A, B); `verdict_ba_raw[i]` judges (B, A) as the judge wrote it.
    As in JudgeLM's calculate_metrics: consistency is the share of pairs whose verdicts agree
    once the swap is undone; a pair that disagrees leans to the first position
    (prefer_before_rate) when the judge favoured whichever answer it saw first more than the
    other order did, else to the second (prefer_after_rate); delta_bias = |before - after|,
    total_bias = before + after = 1 - consistency. Unreadable verdicts count as ties (JudgeLM)
    unless missing="drop".
    """
    _same_length(verdict_ab, verdict_ba_raw)
    pairs = []
    n_missing = 0
    for ab, ba in zip(verdict_ab, verdict_ba_raw):
        if is_missing(ab) or is_missing(ba):
            n_missing += 1
            if missing == "drop":
                continue
        pairs.append((0 if is_missing(ab) else int(ab), 0 if is_missing(ba) else int(ba)))
    n = len(pairs)
    if n == 0:
        return {"n": 0, "n_missing": n_missing, "consistency": None}
    # Lean towards the first position: +1 for "1", -1 for "2", 0 for a tie. An unbiased judge
    # leans opposite ways in the two orders, so the sum is 0; JudgeLM's flip-and-subtract is this.
    lean = {0: 0, 1: 1, 2: -1}
    sums = [lean[ab] + lean[ba] for ab, ba in pairs]
    before, after = sum(s > 0 for s in sums), sum(s < 0 for s in sums)
    return {"n": n, "n_missing": n_missing, "consistency": (n - before - after) / n,
            "prefer_before_rate": before / n, "prefer_after_rate": after / n,
            "delta_bias": abs(before - after) / n, "total_bias": (before + after) / n}


def pairwise(gold: Sequence, verdict_ab: Sequence, verdict_ba_raw: Sequence | None = None,
             missing_pred: MissingVerdict = "tie") -> dict:
    """A pairwise judge against gold in one dict: agreement in each order, under the swap, and
    of the combined verdict (a judge with position bias can look good in one order only).

    - "ab": pairwise_agreement on the (A, B) order (JudgeLM evaluates the sequential order),
    - "ba": the same on the swapped order, verdicts mapped back to (A, B) terms,
    - "swap": swap_consistency over the rows with a gold label (JudgeLM filters both lists by it),
    - "accuracy_both_orders": the share of rows right in both orders (agreement counted only
      when the verdict survives the swap),
    - "combined": agreement of rayscore.eval.verdicts.combine(..., policy="tie") final verdicts.
    """
    out = {"ab": pairwise_agreement(gold, verdict_ab, missing_pred)}
    if verdict_ba_raw is None:
        return out
    _same_length(gold, verdict_ba_raw)
    corrected = [None if is_missing(v) else unswap(int(v)) for v in verdict_ba_raw]
    labelled = [i for i, g in enumerate(gold) if not is_missing(g)]
    out["ba"] = pairwise_agreement(gold, corrected, missing_pred)
    out["swap"] = swap_consistency([verdict_ab[i] for i in labelled], [verdict_ba_raw[i] for i in labelled],
                                   missing_pred)
    both = [_fill(verdict_ab[i], missing_pred) == int(gold[i]) == _fill(corrected[i], missing_pred)
            for i in labelled
            if missing_pred == "tie" or not (is_missing(verdict_ab[i]) or is_missing(corrected[i]))]
    out["accuracy_both_orders"] = _ratio(sum(both), len(both))
    finals = [combine(None if is_missing(a) else int(a), None if is_missing(b) else int(b), "tie")["final"]
              for a, b in zip(verdict_ab, verdict_ba_raw)]
    out["combined"] = pairwise_agreement(gold, finals, missing_pred)
    return out


# --- correlation --------------------------------------------------------------------------------

def correlation(x: Sequence, y: Sequence, bootstrap: int = 1000, seed: int = 0,
                confidence: float = 0.95) -> dict:
    """Pearson, Spearman and Kendall (tau-b) correlation, each with a percentile bootstrap CI.

    Pairs with a missing side are dropped and counted. The bootstrap resamples pairs with
    replacement `bootstrap` times; resamples where a statistic is undefined (constant input)
    are left out of that statistic's percentiles. bootstrap=0 gives no CIs.
    """
    xs, ys = _floats(x), _floats(y)
    _same_length(xs, ys)
    ok = ~np.isnan(xs) & ~np.isnan(ys)
    xs, ys = xs[ok], ys[ok]
    out: dict = {"n": int(ok.sum()), "n_missing": int((~ok).sum()), "confidence": confidence,
                 "bootstrap": bootstrap}
    if len(xs) < 3:
        return {**out, **{name: None for name in _CORRELATIONS}}
    point = _correlations(xs, ys)
    samples = _bootstrap_correlations(xs, ys, bootstrap, seed) if bootstrap > 0 else None
    alpha = (1 - confidence) / 2
    for name, (r, p) in point.items():
        entry = {"r": r, "p_value": p, "ci_low": None, "ci_high": None}
        if samples is not None:
            values = samples[name][~np.isnan(samples[name])]
            if len(values):
                entry["ci_low"], entry["ci_high"] = (float(v) for v in np.quantile(values, [alpha, 1 - alpha]))
        out[name] = entry
    return out


def correlation_by_group(x: Sequence, y: Sequence, groups: Sequence, **kwargs) -> dict:
    """correlation() over all rows ("all") and within each group (CritiqueLLM's task categories)."""
    _same_length(x, groups)
    out = {"all": correlation(x, y, **kwargs)}
    for group in dict.fromkeys(groups):
        idx = [i for i, g in enumerate(groups) if g == group]
        out[group] = correlation([x[i] for i in idx], [y[i] for i in idx], **kwargs)
    return out


_CORRELATIONS = ("pearson", "spearman", "kendall")


def _correlations(xs: np.ndarray, ys: np.ndarray) -> dict[str, tuple[float, float]]:
    with warnings.catch_warnings():
        # Constant input makes a coefficient undefined: NaN is the answer, not a warning.
        warnings.simplefilter("ignore")
        results = {"pearson": stats.pearsonr(xs, ys), "spearman": stats.spearmanr(xs, ys),
                   "kendall": stats.kendalltau(xs, ys)}
    return {name: (float(res.statistic), float(res.pvalue)) for name, res in results.items()}


def _bootstrap_correlations(xs: np.ndarray, ys: np.ndarray, resamples: int, seed: int) -> dict[str, np.ndarray]:
    # One set of resampled pairs feeds all three statistics, and a degenerate resample
    # (constant input) becomes NaN instead of spoiling the interval. Pearson and Spearman are
    # computed for all resamples at once; Kendall's tau-b goes through scipy one by one.
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(xs), size=(resamples, len(xs)))
    bx, by = xs[idx], ys[idx]
    kendall = np.empty(resamples)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for b in range(resamples):
            kendall[b] = stats.kendalltau(bx[b], by[b]).statistic
    return {"pearson": _rowwise_pearson(bx, by),
            "spearman": _rowwise_pearson(stats.rankdata(bx, axis=1), stats.rankdata(by, axis=1)),
            "kendall": kendall}


def _rowwise_pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (a * b).sum(axis=1) / np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    return np.clip(r, -1.0, 1.0)


# --- score distribution -------------------------------------------------------------------------

def distribution(scores: Sequence, threshold: float | None = None,
                 bins: int | Sequence[float] | None = None) -> dict:
    """Mean, standard deviation (population, ddof=0), the share below `threshold`, the count
    and share of each distinct score, and a histogram (unit bins centred on whole numbers by
    default). Missing scores are counted apart."""
    values = _floats(scores)
    missing = np.isnan(values)
    values = values[~missing]
    out: dict = {"n": int(len(values)), "n_missing": int(missing.sum()), "threshold": threshold}
    if not len(values):
        return {**out, "mean": None, "std": None, "min": None, "max": None, "share_below_threshold": None,
                "counts": {}, "shares": {}, "histogram": {"edges": [], "counts": []}}
    counts = Counter(_number_key(v) for v in values)
    keys = sorted(counts)
    return {**out,
            "mean": float(values.mean()), "std": float(values.std()),
            "min": float(values.min()), "max": float(values.max()),
            "share_below_threshold": None if threshold is None else float((values < threshold).mean()),
            "counts": {k: counts[k] for k in keys},
            "shares": {k: counts[k] / len(values) for k in keys},
            "histogram": _histogram(values, bins)}


# --- length control -----------------------------------------------------------------------------

_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
             "八": 8, "九": 9}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}
_NUMBER = r"(\d+|[零〇一二两三四五六七八九十百千万]+)"
_CHARS = r"\s*个?\s*(?:汉字|中文字|字)(?![母节符])"
_LENGTH_PATTERNS = [
    ("range", re.compile(_NUMBER + r"\s*(?:-|~|到|至)\s*" + _NUMBER + _CHARS)),
    ("one", re.compile(_NUMBER + _CHARS)),
    ("one", re.compile(r"字数\s*(?::|为|在|约|是|控制在|不少于|不低于|不超过|不多于|大约|左右)*\s*" + _NUMBER)),
]
# Chinese numerals below this are words, not lengths (十字路口, 一字不差, 三个字).
_MIN_CHINESE_LENGTH = 20


def chinese_number(text: str) -> int | None:
    """三百 -> 300, 一千五百 -> 1500, 两千 -> 2000, 八十 -> 80, 十五 -> 15, 三千五 -> 3500; else None."""
    if not text or any(ch not in _CN_DIGIT and ch not in _CN_UNIT and ch != "万" for ch in text):
        return None
    total, section, digit, unit = 0, 0, None, 1
    for ch in text:
        if ch in _CN_DIGIT:
            digit = _CN_DIGIT[ch]
        elif ch == "万":
            total += (section + (digit or 0)) * 10000
            section, digit, unit = 0, None, 10000
        else:
            unit = _CN_UNIT[ch]
            section += (1 if digit is None else digit) * unit  # 十五: a bare 十 is one ten
            digit = None
    if digit is not None:
        # A digit right after 百/千/万 is in the next unit down: 三千五 = 3500, 两万五 = 25000.
        follows_unit = len(text) >= 2 and text[-2] in (*_CN_UNIT, "万") and unit >= 100
        section += digit * (unit // 10 if follows_unit else 1)
    return total + section


def requested_length(instruction: str | None) -> int | None:
    """The character count an instruction asks for, or None when it asks for none.

    Reads `写一篇300字…`, `300字左右`, `不少于500字`, `写一段100字的`, `三百字`, `字数300左右`,
    and ranges `300-500字` (their midpoint). When several are present the last one wins
    (the request usually closes the instruction). Chinese numerals below 20 are not lengths.
    """
    if not instruction:
        return None
    text = unicodedata.normalize("NFKC", instruction)
    found: list[tuple[int, int]] = []  # (position, length)
    taken: list[range] = []
    for kind, pattern in _LENGTH_PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() in span for span in taken):
                continue
            numbers = [_length_number(g) for g in m.groups()]
            if any(n is None for n in numbers):
                continue
            length = round(sum(numbers) / 2) if kind == "range" else numbers[0]
            found.append((m.start(), length))
            taken.append(range(m.start(), m.end()))
    return max(found)[1] if found else None


def answer_length(answer: str | None) -> int:
    """Characters of an answer, not counting spaces, tabs or line breaks: a requested length
    ("写200字") counts the characters written, so layout must not make an answer look longer."""
    return len(re.sub(r"\s+", "", answer or ""))


def length_rows(instructions: Sequence[str], answers: Sequence[str]) -> list[dict]:
    """Per row: requested length (None if none asked), actual length, error = actual - requested."""
    _same_length(instructions, answers)
    rows = []
    for instruction, answer in zip(instructions, answers):
        requested, actual = requested_length(instruction), answer_length(answer)
        rows.append({"requested": requested, "actual": actual,
                     "error": None if requested is None else actual - requested})
    return rows


def length_control(instructions: Sequence[str], answers: Sequence[str]) -> dict:
    """How closely answers keep to the length their instructions ask for, overall and per target.

    Errors are actual - requested characters (whitespace not counted): mean absolute, mean
    signed (positive = too long) and mean absolute relative error. Rows whose instruction
    asks for no length are counted in n_without_target and left out of the errors.
    """
    rows = length_rows(instructions, answers)
    with_target = [r for r in rows if r["requested"] is not None]
    out = {"n": len(rows), "n_with_target": len(with_target), "n_without_target": len(rows) - len(with_target)}
    if not with_target:
        return {**out, "mean_abs_error": None, "mean_signed_error": None, "mean_abs_rel_error": None,
                "by_target": {}}
    by_target = {}
    for target in sorted({r["requested"] for r in with_target}):
        group = [r for r in with_target if r["requested"] == target]
        by_target[target] = {"n": len(group), **_length_errors(group)}
    return {**out, **_length_errors(with_target), "by_target": by_target}


def _length_errors(rows: list[dict]) -> dict:
    errors = np.array([r["error"] for r in rows], dtype=float)
    requested = np.array([r["requested"] for r in rows], dtype=float)
    actual = np.array([r["actual"] for r in rows], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.abs(errors) / requested  # a request of 0 characters has no relative error
    relative = relative[np.isfinite(relative)]
    return {"mean_actual": float(actual.mean()), "mean_abs_error": float(np.abs(errors).mean()),
            "mean_signed_error": float(errors.mean()),
            "mean_abs_rel_error": float(relative.mean()) if len(relative) else None}


def _length_number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    value = chinese_number(token)
    return value if value is not None and value >= _MIN_CHINESE_LENGTH else None


# --- helpers ------------------------------------------------------------------------------------

def _floats(values: Sequence) -> np.ndarray:
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":  # a judge's million scores: no list
        return values.astype(float)
    return np.array([np.nan if is_missing(v) else float(v) for v in values], dtype=float)


def _same_length(a: Sequence, b: Sequence) -> None:
    if len(a) != len(b):
        raise ValueError(f"lengths differ: {len(a)} gold/first values but {len(b)} predicted/second")


def _ratio(num: float, den: float) -> float | None:
    return float(num) / float(den) if den else None


def _sorted_labels(labels: set) -> list:
    try:
        return sorted(labels)
    except TypeError:  # mixed types: a stable order by text
        return sorted(labels, key=str)


def _number_key(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _histogram(values: np.ndarray, bins: int | Sequence[float] | None) -> dict:
    if bins is None:
        bins = np.arange(math.floor(values.min()) - 0.5, math.ceil(values.max()) + 1.0, 1.0)
    counts, edges = np.histogram(values, bins=bins)
    return {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]}


def _fill(verdict: object, missing_pred: MissingVerdict) -> int | None:
    if is_missing(verdict):
        return 0 if missing_pred == "tie" else None
    return int(verdict)


def _verdict_rows(gold: Sequence, pred: Sequence, missing_pred: MissingVerdict) -> dict:
    if missing_pred not in ("tie", "drop"):
        raise ValueError(f"missing_pred must be 'tie' or 'drop', got {missing_pred!r}")
    out = {"gold": [], "pred": [], "n_missing_gold": 0, "n_missing_pred": 0}
    for g, p in zip(gold, pred):
        if is_missing(g):
            out["n_missing_gold"] += 1
            continue
        if is_missing(p):
            out["n_missing_pred"] += 1
            if missing_pred == "drop":
                continue
        out["gold"].append(int(g))
        out["pred"].append(_fill(p, missing_pred))
    return out
