"""Row checks before the model: each bad row gets a reason and goes to quarantine, never dropped.

    texts, reasons = validate_texts(column, max_chars=2000, over_length="quarantine")
"""

from __future__ import annotations

from typing import Literal

import pyarrow as pa

OverLength = Literal["truncate", "quarantine"]


def validate_texts(column: pa.ChunkedArray | pa.Array, max_chars: int,
                   over_length: OverLength) -> tuple[list[str | None], list[str | None]]:
    """(text to score or None, reason or None) per row, for a text column of any Arrow type."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], column.type)
    is_binary = pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type)
    is_text = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
    texts, reasons = [], []
    for value in column.to_pylist():
        text, reason = _check(value, is_binary, is_text, max_chars, over_length)
        texts.append(text)
        reasons.append(reason)
    return texts, reasons


def _check(value, is_binary: bool, is_text: bool, max_chars: int, over_length: OverLength):
    if value is None:
        return None, "null_text"
    if is_binary:
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            return None, "invalid_utf8"
    elif not is_text or not isinstance(value, str):
        return None, "non_string_text"
    if not value.strip():
        return None, "empty_text"
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value if ord(ch) >= 0xD800):
        return None, "invalid_utf8"  # lone surrogates: not encodable as UTF-8
    if len(value) > max_chars:
        if over_length == "quarantine":
            return None, "too_long"
        value = value[:max_chars]
    return value, None
