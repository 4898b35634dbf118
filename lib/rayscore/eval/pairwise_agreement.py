"""A pairwise judge against gold, as JudgeLM and PandaLM measure it: agreement of verdicts (1, 2,
0 = tie) in each order, consistency under swapping the answers, and the combined verdict.

    from rayscore.eval.pairwise_agreement import pairwise, pairwise_agreement, swap_consistency
    pairwise(gold, verdict_ab, verdict_ba)     # {"ab": ..., "ba": ..., "swap": ..., "combined": ...}
    pairwise_agreement(gold, verdicts)         # accuracy, macro P/R/F1, confusion over 0/1/2
    swap_consistency(verdict_ab, verdict_ba)   # consistency, prefer_before_rate, delta_bias ...

An unreadable verdict counts as a tie by default, as both published recipes count it
(missing_pred="drop" leaves it out and counts it); rows without gold are dropped and counted.
The verdicts are unswapped and combined by rayscore.eval.verdicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from rayscore.eval.values import ratio, same_length
from rayscore.eval.verdicts import combine, unswap
from rayscore.io import is_missing

__all__ = ["pairwise_agreement", "swap_consistency", "pairwise"]

PAIRWISE_LABELS = (0, 1, 2)
MissingVerdict = Literal["tie", "drop"]


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
    same_length(gold, pred)
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
    same_length(verdict_ab, verdict_ba_raw)
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
    same_length(gold, verdict_ba_raw)
    corrected = [None if is_missing(v) else unswap(int(v)) for v in verdict_ba_raw]
    labelled = [i for i, g in enumerate(gold) if not is_missing(g)]
    out["ba"] = pairwise_agreement(gold, corrected, missing_pred)
    out["swap"] = swap_consistency([verdict_ab[i] for i in labelled], [verdict_ba_raw[i] for i in labelled],
                                   missing_pred)
    both = [_fill(verdict_ab[i], missing_pred) == int(gold[i]) == _fill(corrected[i], missing_pred)
            for i in labelled
            if missing_pred == "tie" or not (is_missing(verdict_ab[i]) or is_missing(corrected[i]))]
    out["accuracy_both_orders"] = ratio(sum(both), len(both))
    finals = [combine(None if is_missing(a) else int(a), None if is_missing(b) else int(b), "tie")["final"]
              for a, b in zip(verdict_ab, verdict_ba_raw)]
    out["combined"] = pairwise_agreement(gold, finals, missing_pred)
    return out


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
