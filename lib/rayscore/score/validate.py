"""Row checks before the model: each bad row gets a reason and goes to quarantine, never dropped.

    texts, reasons = validate_texts(column, max_chars=2000, over_length="quarantine")
    values, reasons = validate_column(column, max_chars=2000, over_length="truncate")  # text or conversations
    reasons = first_reasons({"prompt": r1, "response": r2}, name_columns=True)        # one per row
    bad = invalid_utf8(column); column = repair_utf8(column)      # any string column, before to_pylist

Reasons (a row gets the first that applies):
  null_text        the value is null
  non_string_text  the column is neither text nor conversations (e.g. int64), or a value is not a string
  invalid_utf8     bytes that do not decode as UTF-8 (a binary column, or a string column whose
                   file holds invalid bytes) or a lone surrogate; in a column the scorer does
                   not read (the id, a passthrough column): `invalid_utf8:<column>`
  empty_text       empty or only whitespace (a conversation: any message's content)
  bad_messages     a conversation that is not a non-empty list of {role, content} ending with
                   the assistant turn (the reward is read after the answer)
  too_long         over max_chars characters (a conversation: any message's content) with
                   over_length = quarantine; with truncate the text is cut to max_chars instead
  null_id          (pipeline) the id column is null
When a scorer reads several columns, the reason names the column: `empty_text:response`.
"""

from __future__ import annotations

from typing import Literal

import pyarrow as pa

OverLength = Literal["truncate", "quarantine"]


def validate_texts(column: pa.ChunkedArray | pa.Array, max_chars: int,
                   over_length: OverLength) -> tuple[list[str | None], list[str | None]]:
    """(text to score or None, reason or None) per row, for a text column of any Arrow type."""
    column = _combined(column)
    if _is_string(column.type) and not _valid_utf8(column):
        column = _as_binary(column)
    is_binary = pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type)
    is_text = _is_string(column.type)
    texts, reasons = [], []
    for value in column.to_pylist():
        text, reason = _check(value, is_binary, is_text, max_chars, over_length)
        texts.append(text)
        reasons.append(reason)
    return texts, reasons


def validate_column(column: pa.ChunkedArray | pa.Array, max_chars: int,
                    over_length: OverLength) -> tuple[list, list[str | None]]:
    """(value to score or None, reason or None) per row: conversations for a list column, texts
    for anything else (a non-text type makes every row non_string_text)."""
    column = _combined(column)
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        return validate_messages(column, max_chars, over_length)
    return validate_texts(column, max_chars, over_length)


def validate_messages(column: pa.ChunkedArray | pa.Array, max_chars: int,
                      over_length: OverLength) -> tuple[list[list[dict] | None], list[str | None]]:
    """(conversation or None, reason or None) per row of a list<struct<role, content>> column."""
    values, reasons = [], []
    for value in _combined(column).to_pylist():
        conv, reason = _check_messages(value, max_chars, over_length)
        values.append(conv)
        reasons.append(reason)
    return values, reasons


def first_reasons(reasons_by_column: dict[str, list[str | None]], name_columns: bool) -> list[str | None]:
    """Per row, the first reason over the columns (in order), `reason:column` when name_columns."""
    columns = list(reasons_by_column.items())
    if not columns:
        return []
    out: list[str | None] = []
    for row in range(len(columns[0][1])):
        reason = next(((r[row], name) for name, r in columns if r[row] is not None), None)
        out.append(None if reason is None else f"{reason[0]}:{reason[1]}" if name_columns else reason[0])
    return out


def invalid_utf8(column: pa.ChunkedArray | pa.Array) -> list[bool] | None:
    """Per row, whether a string column's value holds bytes that are not UTF-8 (Arrow does not
    check a parquet file's strings, and Python fails on them); None when all are valid."""
    column = _combined(column)
    if not _is_string(column.type) or _valid_utf8(column):
        return None
    return [v is not None and not _decodes(v) for v in _as_binary(column).to_pylist()]


def repair_utf8(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """A string column whose invalid bytes are written as backslash escapes (the row goes to
    quarantine; its value stays readable there)."""
    column = _combined(column)
    if not _is_string(column.type) or _valid_utf8(column):
        return column
    values = [None if v is None else v.decode("utf-8", "backslashreplace") for v in _as_binary(column).to_pylist()]
    return pa.array(values, column.type)


def _is_string(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _valid_utf8(column: pa.Array) -> bool:
    try:
        column.validate(full=True)
        return True
    except pa.ArrowInvalid:
        return False


def _as_binary(column: pa.Array) -> pa.Array:
    return column.view(pa.large_binary() if pa.types.is_large_string(column.type) else pa.binary())


def _decodes(value: bytes) -> bool:
    try:
        value.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _combined(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks() if column.num_chunks else pa.array([], column.type)
    return column


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


def _check_messages(value, max_chars: int, over_length: OverLength):
    if value is None:
        return None, "null_text"
    if not value or any(not isinstance(m, dict) or not isinstance(m.get("role"), str) for m in value):
        return None, "bad_messages"
    out = []
    for message in value:
        content = message.get("content")
        is_binary = isinstance(content, bytes)
        text, reason = _check(content, is_binary, isinstance(content, str), max_chars, over_length)
        if reason is not None:
            return None, reason
        out.append({"role": message["role"], "content": text})
    if out[-1]["role"] != "assistant":
        return None, "bad_messages"
    return out, None
