"""What score_batch's worker may ask of a scorer, and what a scorer that says nothing answers.

    class MyScorer(Scorer):              # explicit subclass: the defaults below come with it
        output_columns = ("score",)
        precision = "float32"
        def score(self, frame): ...

Every scorer kind (scorers.py, generative.py, the judge's) subclasses Scorer, so the worker asks
each the same questions and never guesses a capability from an attribute that may be missing.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd


class Scorer(Protocol):
    """A scorer as the worker sees it: score() plus what the chunk's record says about it."""

    output_columns: tuple[str, ...]
    """The columns score() returns, in order."""
    precision: str
    """The arithmetic the scores were computed in (e.g. "float32 (...)"), recorded per chunk."""
    truncated_rows: int = 0
    """Rows with a sequence cut to the scorer's length limit, over every score() call so far; the
    worker records each chunk's increase. Default: the scorer never cuts."""
    nullable_columns: tuple[str, ...] = ()
    """Score columns whose NaN is a value (a greedy answer or a judgement that did not parse); a
    NaN in any other float column quarantines the row as non_finite_score. Default: none."""

    def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        """output_columns for each row of frame, on frame's index."""
        ...

    def failed_rows(self, scores: pd.DataFrame) -> np.ndarray | None:
        """Per scored row, whether its scoring failed in a way worth trying again (a request that
        failed after its retries): those rows go to the chunk's errors part and a rerun sends only
        them. Default None: no row can fail, and no errors part is written."""
        return None

    def retries(self, scores: pd.DataFrame) -> int:
        """Attempts beyond the first that these rows took (the summary's `retries`). Default 0."""
        return 0
