"""A row's random draws: every choice for one record comes from one random() callable, in order.

    import random
    from rayscore.addresses.draws import draw_digits, pick, pick_cumulative
    r = random.Random(0).random
    pick(r, ("路", "街", "巷")), draw_digits(r, 4), pick_cumulative(r, (("", 0.8), ("-", 1.0)))
    # ('巷', '7579', '')

Each helper draws a fixed number of times from `r`, so a row is a pure function of the
(seed, row index) its callable was seeded with (records.py): changing how often one draws
changes every row after it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

# A row's random() callable: every choice for one row is drawn from it, in a fixed order.
Draw = Callable[[], float]
T = TypeVar("T")


def pick(r: Draw, seq: Sequence[T]) -> T:
    return seq[int(r() * len(seq))]


def pick_cumulative(r: Draw, table: Sequence[tuple[str, float]]) -> str:
    x = r()
    for name, upto in table:
        if x < upto:
            return name
    return table[-1][0]


def draw_digits(r: Draw, k: int) -> str:
    # One draw for all k digits: a double carries 53 random bits, plenty for k <= 8.
    return f"{int(r() * 10 ** k):0{k}d}"
