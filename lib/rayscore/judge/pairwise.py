"""Pairwise judging in both orders: undo the swap, check consistency, pick a final verdict, and
keep only the pairs whose verdict survives the swap as judge training data.

    v_ab = parse_pairwise(judge(question, a, b)).verdict        # 1: a better, 2: b better, 0: tie
    v_ba = parse_pairwise(judge(question, b, a)).verdict        # the same pair, answers swapped
    row = combine(v_ab, v_ba, policy="tie")
    row["consistent"], row["final"]                              # True, 1   (verdicts in a-b terms)
    kept, dropped = filter_consistent(rows)                      # PandaLM's training-data filter

unswap, combine and verdict_from_scores live in rayscore.eval.verdicts (the agreement metrics use
them, and eval sits below judge).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rayscore.eval.verdicts import combine

__all__ = ["filter_consistent"]


def filter_consistent(rows: Iterable[Mapping], ab_key: str = "verdict_ab",
                      ba_key: str = "verdict_ba") -> tuple[list[dict], list[dict]]:
    """PandaLM's recipe for judge training data: keep only pairs whose verdict survives the swap.

    Each row holds the verdict on (A, B) under `ab_key` and the raw verdict on (B, A) under
    `ba_key`. Returns (kept, dropped): kept rows gain `verdict` (the agreed verdict in (A, B)
    terms); dropped rows gain `drop_reason` ("inconsistent", or "parse_failed_ab" /
    "parse_failed_ba" / "parse_failed_ab_ba"), so every row is accounted for.
    For a DataFrame: `filter_consistent(df.to_dict("records"))`.
    """
    kept, dropped = [], []
    for row in rows:
        result = combine(row.get(ab_key), row.get(ba_key), policy="first")
        if result["consistent"]:
            kept.append({**row, "verdict": result["final"]})
        else:
            dropped.append({**row, "drop_reason": result["reason"]})
    return kept, dropped
