"""Pairwise judging in both orders: undo the swap, check consistency, pick a final verdict.

    v_ab = parse_pairwise(judge(question, a, b)).verdict        # 1: a better, 2: b better, 0: tie
    v_ba = parse_pairwise(judge(question, b, a)).verdict        # the same pair, answers swapped
    row = combine(v_ab, v_ba, policy="tie")
    row["consistent"], row["final"]                              # True, 1   (verdicts in a-b terms)
    kept, dropped = filter_consistent(rows)                      # PandaLM's training-data filter

Verdicts are 1 (the answer shown first is better), 2 (the second is better), 0 (tie) or None
(the judge's output could not be read). A judge with position bias prefers whichever answer it
sees first; asking in both orders and mapping the second verdict back (`unswap`) exposes it:
consistent verdicts agree after the swap is undone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

__all__ = ["Policy", "unswap", "combine", "filter_consistent", "verdict_from_scores"]

Policy = Literal["tie", "first"]
_VALID = (0, 1, 2)


def unswap(verdict: int | None) -> int | None:
    """A verdict given on (B, A) in (A, B) terms: 1 <-> 2, a tie stays a tie, None stays None."""
    if verdict is None:
        return None
    _require_valid(verdict)
    return {1: 2, 2: 1, 0: 0}[verdict]


def verdict_from_scores(score_1: float, score_2: float, tie_margin: float = 0.0) -> int:
    """JudgeLM's rule: the higher score wins; within `tie_margin` (JudgeLM's T, 0 there) a tie."""
    if score_1 - score_2 > tie_margin:
        return 1
    if score_2 - score_1 > tie_margin:
        return 2
    return 0


def combine(verdict_ab: int | None, verdict_ba_raw: int | None, policy: Policy = "tie") -> dict:
    """The two orders' verdicts in (A, B) terms, whether they agree, and the final verdict.

    policy "tie": an inconsistent pair is a tie (position bias decided it, not quality).
    policy "first": an inconsistent pair keeps the (A, B) verdict.
    A None on either side (unreadable output) gives consistent=False, final=None and a reason,
    whatever the policy: a parse failure is not evidence of a tie.
    """
    if policy not in ("tie", "first"):
        raise ValueError(f"policy must be 'tie' or 'first', got {policy!r}")
    if verdict_ab is not None:
        _require_valid(verdict_ab)
    corrected = unswap(verdict_ba_raw)
    row = {"verdict_ab": verdict_ab, "verdict_ba": verdict_ba_raw, "verdict_ba_corrected": corrected,
           "consistent": False, "final": None, "reason": None}
    if verdict_ab is None or corrected is None:
        failed = [name for name, v in (("ab", verdict_ab), ("ba", verdict_ba_raw)) if v is None]
        row["reason"] = "parse_failed_" + "_".join(failed)
        return row
    row["consistent"] = verdict_ab == corrected
    if row["consistent"]:
        row["final"] = verdict_ab
    else:
        row["final"] = 0 if policy == "tie" else verdict_ab
        row["reason"] = "inconsistent"
    return row


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


def _require_valid(verdict: int) -> None:
    if verdict not in _VALID or isinstance(verdict, bool):
        raise ValueError(f"a verdict is 1, 2, 0 (tie) or None, got {verdict!r}")
