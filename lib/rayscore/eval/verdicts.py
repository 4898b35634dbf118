"""Pairwise verdicts in both orders: undo the swap, check consistency, pick a final verdict.

    from rayscore.eval.verdicts import combine, unswap, verdict_from_scores
    row = combine(v_ab, v_ba, policy="tie")      # v_ba: the verdict on the swapped pair (B, A)
    row["consistent"], row["final"]              # True, 1   (verdicts in a-b terms)
    unswap(2)                                    # 1: "the second is better" on (B, A) is A
    verdict_from_scores(8, 6)                    # 1  (JudgeLM: the higher score wins)

Verdicts are 1 (the answer shown first is better), 2 (the second is better), 0 (tie) or None
(the judge's output could not be read). A judge with position bias prefers whichever answer it
sees first; asking in both orders and mapping the second verdict back (`unswap`) exposes it:
consistent verdicts agree after the swap is undone.

These definitions live in eval because the agreement metrics are computed with them
(pairwise_agreement.pairwise); the judge job applies the same functions to its own verdicts, so a
judged pair and its evaluation never disagree on what "consistent" means.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["Policy", "unswap", "combine", "verdict_from_scores"]

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


def _require_valid(verdict: int) -> None:
    if verdict not in _VALID or isinstance(verdict, bool):
        raise ValueError(f"a verdict is 1, 2, 0 (tie) or None, got {verdict!r}")
