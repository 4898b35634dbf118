"""A chunk: the unit of work, of output (one part) and of resume.

A chunk covers spans of input files: whole parquet row groups from one or more files, or one row
range of a JSONL or CSV file. Its name is fixed by its position in the sorted input listing; its
key hashes what it covers and what identifies those bytes (inputs.py plans both), so changed
input changes the key and a chunk committed for other bytes is re-scored, never reused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass


@dataclass
class Span:
    path: str
    row_groups: list[int]
    """Parquet row groups; empty for JSONL and CSV, whose span is a row range."""
    first_row: int
    """Index in its file of the span's first row (for derived record ids and row ranges)."""
    rows: int = 0
    identity: str = ""
    """What identifies the span's bytes (file size, mtime and the row groups' footer metadata)."""
    head: bool = False
    """Parquet: the span is the first `rows` rows of its row groups (max_rows cut its last one)."""
    offset: int = 0
    """JSONL, CSV: byte offset of the block the span's first row is in (read from there, not
    from the file's start: a file's chunks cost linear, not quadratic, reading)."""
    offset_row: int = 0
    """JSONL, CSV: index in its file of the first row at `offset`."""


@dataclass
class Chunk:
    index: int
    spans: list[Span]
    rows: int
    key: str = ""

    @property
    def name(self) -> str:
        return f"part-{self.index:05d}"

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Chunk:
        return cls(data["index"], [Span(**s) for s in data["spans"]], data["rows"], data["key"])


def chunk_key(spans: list[Span]) -> str:
    """What the spans cover and the identity of their bytes, hashed."""
    # `head` only when set, no read offsets (they follow from the identity): the keys of chunks
    # committed before those fields existed stay valid.
    fields = [{k: v for k, v in asdict(s).items() if (k != "head" or v) and k not in ("offset", "offset_row")}
              for s in spans]
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:16]


def new_chunk(index: int, spans: list[Span], rows: int) -> Chunk:
    return Chunk(index, spans, rows, chunk_key(spans))
