"""Reading and filtering a nested job's output parts (score_batch's store), one part at a time."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rayscore.score.store import iter_parts, rewrite_parts

__all__ = ["read_parts", "rewrite_parts"]


def read_parts(directory: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """`columns` (None: all) of every part in directory (score_batch's committed chunks; local or
    a URI), in order."""
    frames = list(iter_parts(directory, columns))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
