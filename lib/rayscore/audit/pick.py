"""Pick the scored rows a person should see, by a named strategy, one row per near-duplicate shape.

    scored = open_scored("out/scored")                       # parts, text column, the model's cuts
    picked = pick_scored(scored, "uncertain", budget=200, key=shape_key("address_shape"))
    picked[["record_id", "why"]]                             # e.g. 'addr-7', '待审, p_correct 0.63'

Strategies rank rows, lower first; only rows the model decided are candidates (a certain check's
错误 is never overruled, so a person's answer could not change it):
  uncertain  待审 rows first, most uncertain first (|p_correct - 0.5|), then the rows nearest a cut
             in log-odds (accept_at / reject_below, or the one threshold): the labels most likely to flip
  disagree   the model against its checks: 正确 while a (non-certain) check failed, or 错误 while
             no check failed; the most confident first
  random     a stable hash of (seed, record id): the comparison that says what the others buy

Memory is bounded whatever the input: parts are read a record batch at a time (only the columns
a strategy needs), ranks are computed per batch with numpy, and only rows that beat the current
budget-th best shape are looked at row by row (BestPerShape keeps at most `budget` shapes).
"""

from __future__ import annotations

import hashlib
import heapq
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from rayscore.data.pairs import CORRECT, REVIEW, WRONG
from rayscore.score.inputs import InputError
from rayscore.score.store import PARTS, part_files

BATCH_ROWS = 65_536
"""Rows read from a part at a time."""
PICKED_COLUMNS = ["record_id", "text", "model_label", "p_correct", "decided_by", "check_flags", "why", "rank",
                  "shape", "fingerprint"]


@dataclass(frozen=True)
class Scored:
    """A score_batch output directory, as the strategies read it."""

    parts: list[Path]
    text_column: str
    cuts: dict[str, float]
    """The model's cuts on p_correct: {accept_at, reject_below} or {threshold}."""
    has_flags: bool


def open_scored(directory: str | Path) -> Scored:
    """The parts, text column and cuts of a finished score_batch run (its summary.json and config.yaml)."""
    root = Path(directory)
    if not root.is_dir():
        raise FileNotFoundError(f"scored: {root} is not a directory (score_batch's output)")
    parts = part_files(root)
    summary_path = root / "summary.json"
    if not parts or not summary_path.exists():
        raise InputError(f"scored: {root} has {len(parts)} {PARTS} and "
                         f"{'a' if summary_path.exists() else 'no'} summary.json; run score_batch to the end first")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    if summary.get("kind") != "quality":
        raise InputError(f"scored: {summary_path}: kind {summary.get('kind')!r}; audit reads a quality scorer's output")
    points = summary.get("outcomes", {}).get("operating_points")
    if points:
        cuts = {"accept_at": float(points["accept_at"]), "reject_below": float(points["reject_below"])}
    elif summary.get("threshold") is not None:
        cuts = {"threshold": float(summary["threshold"])}
    else:
        raise InputError(f"scored: {summary_path}: neither outcomes.operating_points nor threshold")
    config_path = root / "config.yaml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) if config_path.exists() else {}
    text_column = (config.get("scorer") or {}).get("text_column", "text")
    schema = pq.read_schema(parts[0])
    missing = [c for c in ("record_id", text_column, "p_correct", "label", "decided_by") if c not in schema.names]
    if missing:
        raise InputError(f"scored: {parts[0]} lacks column(s) {missing}; columns are {schema.names}")
    return Scored(parts, text_column, cuts, "check_flags" in schema.names)


@dataclass(order=True)
class Candidate:
    rank: float
    record_id: str
    row: dict = field(compare=False)


class BestPerShape:
    """The `budget` best-ranked shapes, each with its best-ranked row, in bounded memory.

    A shape pushed out of the budget can come back with a better row later: its earlier best was
    worse than the budget-th best then, and that bar only rises, so the result is exactly the best
    `budget` shapes by their best row. Ties go to the smaller record id (same input, same pick)."""

    def __init__(self, budget: int):
        self.budget = budget
        self.best: dict[str, Candidate] = {}
        self._worst_first: list[tuple[float, str, str]] = []   # (-rank, negated id order, shape); stale ones skipped

    def bar(self) -> float:
        """Rows ranked at or above this cannot enter (inf until the budget is full)."""
        if len(self.best) < self.budget:
            return math.inf
        self._drop_stale()
        return -self._worst_first[0][0]

    def offer(self, shape: str, candidate: Candidate) -> None:
        held = self.best.get(shape)
        if held is not None:
            if candidate < held:
                self.best[shape] = candidate
                self._push(shape, candidate)
            return
        if len(self.best) >= self.budget:
            self._drop_stale()
            worst = self.best[self._worst_first[0][2]]
            if not candidate < worst:
                return
            _, _, out = heapq.heappop(self._worst_first)
            del self.best[out]
        self.best[shape] = candidate
        self._push(shape, candidate)
        if len(self._worst_first) > 4 * self.budget + 64:  # stale entries: rebuild, memory stays O(budget)
            self._worst_first = []
            for s, c in self.best.items():
                self._push(s, c)

    def rows(self) -> list[dict]:
        return [{**c.row, "rank": c.rank, "shape": s} for s, c in sorted(self.best.items(), key=lambda kv: kv[1])]

    def _push(self, shape: str, c: Candidate) -> None:
        heapq.heappush(self._worst_first, (-c.rank, _desc(c.record_id), shape))

    def _drop_stale(self) -> None:
        while True:
            neg_rank, desc, shape = self._worst_first[0]
            held = self.best.get(shape)
            if held is not None and held.rank == -neg_rank and _desc(held.record_id) == desc:
                return
            heapq.heappop(self._worst_first)


def _desc(text: str) -> tuple:
    """An order key that sorts strings descending (the heap's top is the worst: largest id on ties)."""
    return tuple(-ord(ch) for ch in text) + (1,)


# --- strategies: (rank per row, the why of one row) ---------------------------------------------

def log_odds(p) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=float), 1e-9, 1 - 1e-9)
    return np.log(q / (1 - q))


def uncertain_ranks(p: np.ndarray, label: np.ndarray, cuts: dict[str, float]) -> np.ndarray:
    """待审 rows in [0, 0.5] by |p - 0.5|; decided rows after them, 1 + the distance to the nearest
    cut in log-odds: p 0.001 is far from a cut at 0.02 (a sure 错误), p 0.5 is near one at 0.57."""
    distance = np.min(np.abs(log_odds(p)[:, None] - log_odds(list(cuts.values()))[None, :]), axis=1)
    return np.where(label == REVIEW, np.abs(p - 0.5), 1.0 + distance)


def uncertain_why(row: dict, cuts: dict[str, float]) -> str:
    p = row["p_correct"]
    if row["model_label"] == REVIEW:
        return f"{REVIEW}, p_correct {p:.2f}"
    name, cut = min(cuts.items(), key=lambda kv: abs(log_odds(p) - log_odds(kv[1])))
    return f"{row['model_label']}, p_correct {p:.3f}, nearest cut {name} {cut:.3f}"


def disagree_ranks(p: np.ndarray, label: np.ndarray, flag_count: np.ndarray) -> np.ndarray:
    """正确 with a failed check ranked by 1 - p, 错误 with none by p (most confident first); others inf."""
    return np.where((label == CORRECT) & (flag_count > 0), 1.0 - p,
                    np.where((label == WRONG) & (flag_count == 0), p, np.inf))


def disagree_why(row: dict) -> str:
    p, flags = row["p_correct"], row["check_flags"]
    if row["model_label"] == CORRECT:
        return f"model {CORRECT} (p_correct {p:.2f}) but {', '.join(flags)} failed"
    return f"model {WRONG} (p_correct {p:.2f}) but no check failed"


def random_rank(record_id: str, seed: int) -> float:
    digest = hashlib.blake2b(f"{seed}\x1f{record_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


# --- the scan --------------------------------------------------------------------------------

def pick_scored(scored: Scored, strategy: str, budget: int, key: Callable[[str, str], str],
                seed: int = 0, exclude: frozenset[str] = frozenset()) -> pd.DataFrame:
    """The picked rows (PICKED_COLUMNS, best first) of a scored directory; `exclude`: record ids
    already exported or audited."""
    if strategy == "disagree" and not scored.has_flags:
        raise InputError(f"pick.strategy disagree: {scored.parts[0]} has no check_flags column "
                         "(the model was trained without a check set); use uncertain or random")
    columns = ["record_id", scored.text_column, "p_correct", "label", "decided_by"]
    columns += ["check_flags"] * scored.has_flags + ["fingerprint"] * _has(scored, "fingerprint")
    best = BestPerShape(budget)
    for batch in _batches(scored.parts, columns):
        p = batch.column("p_correct").to_numpy(zero_copy_only=False).astype(float)
        label = np.asarray(batch.column("label").to_pylist(), dtype=object)
        by_model = np.asarray(pc.equal(batch.column("decided_by"), "model").fill_null(False))
        if strategy == "uncertain":
            ranks = uncertain_ranks(p, label, scored.cuts)
        elif strategy == "disagree":
            count = pc.fill_null(pc.list_value_length(batch.column("check_flags")), 0).to_numpy()
            ranks = disagree_ranks(p, label, count)
        elif strategy == "random":
            ranks = np.array([random_rank(str(i), seed) for i in batch.column("record_id").to_pylist()])
        else:
            raise ValueError(f"pick.strategy: {strategy!r} does not read scored rows")
        ranks = np.where(by_model & np.isfinite(p), ranks, np.inf)
        for i in np.flatnonzero(ranks < best.bar()):  # the row-by-row work: rows that can still enter
            if not ranks[i] < best.bar():
                continue
            row = _row(batch, int(i), scored)
            if row["record_id"] is None or not isinstance(row["text"], str) or row["record_id"] in exclude:
                continue
            row["why"] = (uncertain_why(row, scored.cuts) if strategy == "uncertain" else
                          disagree_why(row) if strategy == "disagree" else f"random (seed {seed})")
            best.offer(key(row["record_id"], row["text"]), Candidate(float(ranks[i]), row["record_id"], row))
    return _frame(best.rows())


def _has(scored: Scored, column: str) -> bool:
    return column in pq.read_schema(scored.parts[0]).names


def _batches(parts: Iterable[Path], columns: list[str]):
    for path in parts:
        try:
            reader = pq.ParquetFile(path)
            yield from reader.iter_batches(batch_size=BATCH_ROWS, columns=columns)
        except (OSError, ValueError) as e:
            raise InputError(f"scored: {path}: cannot be read ({e})") from None


def _row(batch, i: int, scored: Scored) -> dict:
    def value(name):
        return batch.column(name)[i].as_py() if name in batch.schema.names else None

    record_id = value("record_id")
    return {"record_id": None if record_id is None else str(record_id), "text": value(scored.text_column),
            "model_label": value("label"), "p_correct": float(value("p_correct")),
            "decided_by": value("decided_by"), "check_flags": list(value("check_flags") or []),
            "fingerprint": value("fingerprint")}


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=PICKED_COLUMNS)


def pick_ranked(rows: pd.DataFrame, ranks: np.ndarray, whys: list[str], budget: int,
                key: Callable[[str, str], str], exclude: frozenset[str] = frozenset()) -> pd.DataFrame:
    """The same one-per-shape budget over rows already in memory (label_issues' labelled set)."""
    best = BestPerShape(budget)
    for row, rank, why in zip(rows.to_dict("records"), ranks, whys):
        if not np.isfinite(rank) or row["record_id"] in exclude:
            continue
        best.offer(key(row["record_id"], row["text"]), Candidate(float(rank), row["record_id"], {**row, "why": why}))
    return _frame(best.rows())

