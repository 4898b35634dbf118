"""Preference data for reward models: read, validate (bad rows set aside with a reason), split.

    pairs, quarantined = load_preferences(spec)     # spec: PreferenceDataSpec
    train, evaluation = split_pairs(pairs, spec.eval_fraction, spec.seed)
    write_quarantine(quarantined, out_dir / "quarantine")   # quarantine/pairs.jsonl, one reason a row

Accepted shapes (TRL's): conversational `chosen`/`rejected` message lists (ultrafeedback_binarized;
a `prompt` column the lists already start with, as in HuggingFaceH4's copy, is not added twice),
plain text `prompt`/`chosen`/`rejected`, and explicit-prompt conversational (`prompt` messages +
`chosen`/`rejected` assistant turns). Labelled records (`text`, `label` 正确/错误) are converted to
pairs first (data.format = records). Every row comes out as chosen/rejected message lists.

Quarantine reasons: missing_<col>, empty_<col>, bad_type_<col> (chosen, rejected, prompt),
bad_role_<col> (a conversation that does not end in an assistant turn), chosen_equals_rejected,
bad_score (score_chosen / score_rejected not a finite number, checked when a margin needs them),
bad_record (records format: empty text or a label other than 正确/错误).
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from rayscore.data.pairs import LABELS, records_to_pairs
from rayscore.data.split import SplitSpec
from rayscore.io import is_missing, read_table, write_jsonl

logger = logging.getLogger(__name__)


@dataclass
class PreferenceDataSpec(SplitSpec):
    """Where the pairs come from and how they are split."""

    train_path: str = ""
    """Parquet file/dir, JSONL or JSON with preference pairs (or labelled records, see format)."""
    format: Literal["pairs", "records"] = "pairs"
    """pairs: TRL preference shapes; records: text + label (正确/错误) rows, converted to pairs."""
    audited_path: str = ""
    """records: an audit directory's labels (rayscore audit): people's answers trained on, a held-back
    share measured; "" = none."""
    audited_weight: int = 1
    """Each audited training record is trained on this many times (oversampling)."""


def load_preferences(spec: PreferenceDataSpec, path: str | None = None,
                     require_scores: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(valid pairs as message lists, quarantined rows with `reason`).

    require_scores: every pair needs numeric score_chosen / score_rejected (for a margin); a file
    without those columns is a data error, a row with a bad value is quarantined.
    """
    path = path or spec.train_path
    table = read_table(path)
    if spec.max_rows is not None:
        table = table.head(spec.max_rows)
    if spec.format == "records":
        missing = {"text", "label"} - set(table.columns)
        if missing:
            raise ValueError(f"{path}: records need columns text and label; missing {sorted(missing)}")
        ok = table["label"].isin(LABELS) & table["text"].map(lambda t: isinstance(t, str) and t.strip() != "")
        bad = table[~ok].assign(reason="bad_record")
        return records_to_pairs(table[ok].reset_index(drop=True)), bad.reset_index(drop=True)
    missing = {"chosen", "rejected"} - set(table.columns)
    if require_scores:
        missing |= {"score_chosen", "score_rejected"} - set(table.columns)
    if missing:
        raise ValueError(f"{path}: preference data needs columns chosen and rejected"
                         f"{' and score_chosen, score_rejected (for the margin)' if require_scores else ''}; "
                         f"missing {sorted(missing)}")
    reasons = [pair_problem(row, require_scores) for row in table.to_dict("records")]
    bad_mask = np.array([r is not None for r in reasons], dtype=bool)
    quarantined = table[bad_mask].assign(reason=[r for r in reasons if r is not None])
    good = table[~bad_mask].reset_index(drop=True)
    good = good.assign(
        chosen=[to_messages(r, "chosen") for r in good.to_dict("records")],
        rejected=[to_messages(r, "rejected") for r in good.to_dict("records")],
    ).drop(columns=[c for c in ("prompt",) if c in good.columns])
    if len(quarantined):
        logger.warning("%s: %d of %d rows quarantined (%s)", path, len(quarantined), len(table),
                       quarantined["reason"].value_counts().to_dict())
    return good, quarantined.reset_index(drop=True)


def pair_problem(row: dict, require_scores: bool = False) -> str | None:
    """Why a preference row cannot be trained on, or None."""
    row = {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in row.items()}  # parquet lists
    for key in ("chosen", "rejected"):
        value = row.get(key)
        if is_missing(value):
            return f"missing_{key}"
        if isinstance(value, str):
            if not value.strip():
                return f"empty_{key}"
        elif _is_messages(value):
            if not value or any(not isinstance(m.get("content"), str) or not isinstance(m.get("role"), str)
                                for m in value):
                return f"bad_type_{key}"
            if any(not m["content"].strip() for m in value):
                return f"empty_{key}"
            if value[-1].get("role") != "assistant":
                return f"bad_role_{key}"  # the reward is read after the answer: it must come last
        else:
            return f"bad_type_{key}"
    prompt = row.get("prompt")
    if not is_missing(prompt) and not isinstance(prompt, str) and not (
            _is_messages(prompt) and all(isinstance(m.get("role"), str) and isinstance(m["content"], str)
                                         for m in prompt)):
        return "bad_type_prompt"
    if _as_key(row["chosen"]) == _as_key(row["rejected"]):
        return "chosen_equals_rejected"
    if require_scores and not all(_is_number(row.get(k)) for k in ("score_chosen", "score_rejected")):
        return "bad_score"
    return None


def write_quarantine(quarantined: pd.DataFrame, out_dir: str | Path, name: str = "pairs") -> Path | None:
    """Quarantined rows as JSONL (<out_dir>/<name>.jsonl), each with its `reason`; None if there are
    none. JSONL, not parquet: a bad row's values may have any type, which a parquet column cannot."""
    if len(quarantined) == 0:
        return None
    return write_jsonl(quarantined, Path(out_dir, f"{name}.jsonl"))


def reason_counts(quarantined: pd.DataFrame) -> dict[str, int]:
    """{reason: rows}, most frequent first."""
    if len(quarantined) == 0:
        return {}
    return {str(k): int(v) for k, v in quarantined["reason"].value_counts().items()}


def to_messages(row: dict, key: str) -> list[dict]:
    """chosen/rejected as a full conversation, whatever the input shape."""
    value, prompt = row[key], row.get("prompt")
    prompt = None if is_missing(prompt) else prompt
    if isinstance(value, str):
        turns = [{"role": "assistant", "content": value}]
    else:
        turns = [{"role": m["role"], "content": m["content"]} for m in value]
    if prompt is None:
        return turns if not isinstance(value, str) else [{"role": "user", "content": ""}] + turns
    prompt_turns = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else [
        {"role": m["role"], "content": m["content"]} for m in prompt]
    if turns[: len(prompt_turns)] == prompt_turns:
        return turns  # the lists already start with the prompt (HuggingFaceH4/ultrafeedback_binarized)
    return prompt_turns + turns


def pair_texts(pairs: pd.DataFrame) -> list[str]:
    """The text a reward model learns from in each pair, for the data check: every turn of the
    chosen conversation (the prompt and the chosen answer), then the rejected answer."""
    return ["\n".join([*(m["content"] for m in chosen), list(rejected)[-1]["content"]])
            for chosen, rejected in zip(pairs["chosen"], pairs["rejected"])]


def split_pairs(pairs: pd.DataFrame, eval_fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deterministic split by a hash of each pair's prompt: the same record never lands in both."""
    keys = [_as_key(c[:-1]) + str(seed) for c in pairs["chosen"]]
    bucket = np.array([int(hashlib.md5(k.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF for k in keys])
    is_eval = bucket < eval_fraction
    return pairs[~is_eval].reset_index(drop=True), pairs[is_eval].reset_index(drop=True)


def _is_number(value) -> bool:
    return (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
            and math.isfinite(float(value)))


def _is_messages(value) -> bool:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    return isinstance(value, list) and all(isinstance(m, dict) and "content" in m for m in value)


def _as_key(value) -> str:
    if isinstance(value, str):
        return value
    return "\x1f".join(f"{m['role']}:{m['content']}" for m in list(value))
