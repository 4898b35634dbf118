"""Swap logic of pairwise judging: unswap, combine, and PandaLM's consistency filter."""

import pytest

from rayscore.eval.verdicts import combine, unswap, verdict_from_scores
from rayscore.judge.pairwise import filter_consistent


def test_unswap_maps_back():
    assert [unswap(v) for v in (1, 2, 0, None)] == [2, 1, 0, None]
    assert all(unswap(unswap(v)) == v for v in (0, 1, 2))


@pytest.mark.parametrize("bad", [3, -1, True, "1"])
def test_unswap_rejects_non_verdicts(bad):
    with pytest.raises(ValueError, match="verdict"):
        unswap(bad)


@pytest.mark.parametrize("ab,ba_raw,policy,consistent,final,reason", [
    (1, 2, "tie", True, 1, None),      # A wins in both orders
    (2, 1, "tie", True, 2, None),      # B wins in both orders
    (0, 0, "tie", True, 0, None),
    (1, 1, "tie", False, 0, "inconsistent"),    # position 1 won both times: position bias
    (1, 1, "first", False, 1, "inconsistent"),
    (2, 2, "first", False, 2, "inconsistent"),
    (1, 0, "tie", False, 0, "inconsistent"),
    (0, 2, "first", False, 0, "inconsistent"),
    (None, 2, "tie", False, None, "parse_failed_ab"),
    (1, None, "first", False, None, "parse_failed_ba"),
    (None, None, "tie", False, None, "parse_failed_ab_ba"),
])
def test_combine(ab, ba_raw, policy, consistent, final, reason):
    row = combine(ab, ba_raw, policy)
    assert row["verdict_ab"] == ab and row["verdict_ba"] == ba_raw
    assert row["verdict_ba_corrected"] == unswap(ba_raw)
    assert (row["consistent"], row["final"], row["reason"]) == (consistent, final, reason)


def test_combine_rejects_unknown_policy():
    with pytest.raises(ValueError, match="policy"):
        combine(1, 2, "majority")


def test_filter_consistent_keeps_survivors_and_accounts_for_the_rest():
    rows = [
        {"id": "a", "verdict_ab": 1, "verdict_ba": 2},
        {"id": "b", "verdict_ab": 1, "verdict_ba": 1},
        {"id": "c", "verdict_ab": 0, "verdict_ba": 0},
        {"id": "d", "verdict_ab": None, "verdict_ba": 1},
        {"id": "e", "verdict_ab": 2, "verdict_ba": 1},
    ]
    kept, dropped = filter_consistent(rows)
    assert [(r["id"], r["verdict"]) for r in kept] == [("a", 1), ("c", 0), ("e", 2)]
    assert [(r["id"], r["drop_reason"]) for r in dropped] == [("b", "inconsistent"), ("d", "parse_failed_ab")]
    assert len(kept) + len(dropped) == len(rows)
    assert "verdict" not in rows[0]  # inputs are not modified


def test_filter_consistent_custom_keys():
    kept, dropped = filter_consistent([{"x": 2, "y": 1}], ab_key="x", ba_key="y")
    assert kept[0]["verdict"] == 2 and dropped == []


def test_verdict_from_scores_follows_judgelm():
    assert verdict_from_scores(8, 6) == 1
    assert verdict_from_scores(6, 8) == 2
    assert verdict_from_scores(7, 7) == 0
    assert verdict_from_scores(7.5, 7, tie_margin=0.5) == 0
    assert verdict_from_scores(8, 7, tie_margin=0.5) == 1
