"""Length control: how closely answers keep to the length their instructions ask for.

    from rayscore.eval.length_control import length_control, requested_length
    requested_length("写一篇300字左右的短文")   # 300
    requested_length("三百到五百字")             # 400: a range's midpoint
    length_control(instructions, answers)      # mean absolute / signed / relative error, per target

The requested length is read from the instruction (写一篇300字…, 三百字, 字数300左右, 300-500字);
an answer's length is its characters without whitespace, as a requested length counts them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np

from rayscore.eval.values import same_length

__all__ = ["chinese_number", "requested_length", "answer_length", "length_rows", "length_control"]

_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
             "八": 8, "九": 9}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}
_NUMBER = r"(\d+|[零〇一二两三四五六七八九十百千万]+)"
_CHARS = r"\s*个?\s*(?:汉字|中文字|字)(?![母节符])"
_LENGTH_PATTERNS = [
    ("range", re.compile(_NUMBER + r"\s*(?:-|~|到|至)\s*" + _NUMBER + _CHARS)),
    ("one", re.compile(_NUMBER + _CHARS)),
    ("one", re.compile(r"字数\s*(?::|为|在|约|是|控制在|不少于|不低于|不超过|不多于|大约|左右)*\s*" + _NUMBER)),
]
# Chinese numerals below this are words, not lengths (十字路口, 一字不差, 三个字).
_MIN_CHINESE_LENGTH = 20


def chinese_number(text: str) -> int | None:
    """三百 -> 300, 一千五百 -> 1500, 两千 -> 2000, 八十 -> 80, 十五 -> 15, 三千五 -> 3500; else None."""
    if not text or any(ch not in _CN_DIGIT and ch not in _CN_UNIT and ch != "万" for ch in text):
        return None
    total, section, digit, unit = 0, 0, None, 1
    for ch in text:
        if ch in _CN_DIGIT:
            digit = _CN_DIGIT[ch]
        elif ch == "万":
            total += (section + (digit or 0)) * 10000
            section, digit, unit = 0, None, 10000
        else:
            unit = _CN_UNIT[ch]
            section += (1 if digit is None else digit) * unit  # 十五: a bare 十 is one ten
            digit = None
    if digit is not None:
        # A digit right after 百/千/万 is in the next unit down: 三千五 = 3500, 两万五 = 25000.
        follows_unit = len(text) >= 2 and text[-2] in (*_CN_UNIT, "万") and unit >= 100
        section += digit * (unit // 10 if follows_unit else 1)
    return total + section


def requested_length(instruction: str | None) -> int | None:
    """The character count an instruction asks for, or None when it asks for none.

    Reads `写一篇300字…`, `300字左右`, `不少于500字`, `写一段100字的`, `三百字`, `字数300左右`,
    and ranges `300-500字` (their midpoint). When several are present the last one wins
    (the request usually closes the instruction). Chinese numerals below 20 are not lengths.
    """
    if not instruction:
        return None
    text = unicodedata.normalize("NFKC", instruction)
    found: list[tuple[int, int]] = []  # (position, length)
    taken: list[range] = []
    for kind, pattern in _LENGTH_PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() in span for span in taken):
                continue
            numbers = [_length_number(g) for g in m.groups()]
            if any(n is None for n in numbers):
                continue
            length = round(sum(numbers) / 2) if kind == "range" else numbers[0]
            found.append((m.start(), length))
            taken.append(range(m.start(), m.end()))
    return max(found)[1] if found else None


def answer_length(answer: str | None) -> int:
    """Characters of an answer, not counting spaces, tabs or line breaks: a requested length
    ("写200字") counts the characters written, so layout must not make an answer look longer."""
    return len(re.sub(r"\s+", "", answer or ""))


def length_rows(instructions: Sequence[str], answers: Sequence[str]) -> list[dict]:
    """Per row: requested length (None if none asked), actual length, error = actual - requested."""
    same_length(instructions, answers)
    rows = []
    for instruction, answer in zip(instructions, answers):
        requested, actual = requested_length(instruction), answer_length(answer)
        rows.append({"requested": requested, "actual": actual,
                     "error": None if requested is None else actual - requested})
    return rows


def length_control(instructions: Sequence[str], answers: Sequence[str]) -> dict:
    """How closely answers keep to the length their instructions ask for, overall and per target.

    Errors are actual - requested characters (whitespace not counted): mean absolute, mean
    signed (positive = too long) and mean absolute relative error. Rows whose instruction
    asks for no length are counted in n_without_target and left out of the errors.
    """
    rows = length_rows(instructions, answers)
    with_target = [r for r in rows if r["requested"] is not None]
    out = {"n": len(rows), "n_with_target": len(with_target), "n_without_target": len(rows) - len(with_target)}
    if not with_target:
        return {**out, "mean_abs_error": None, "mean_signed_error": None, "mean_abs_rel_error": None,
                "by_target": {}}
    by_target = {}
    for target in sorted({r["requested"] for r in with_target}):
        group = [r for r in with_target if r["requested"] == target]
        by_target[target] = {"n": len(group), **_length_errors(group)}
    return {**out, **_length_errors(with_target), "by_target": by_target}


def _length_errors(rows: list[dict]) -> dict:
    errors = np.array([r["error"] for r in rows], dtype=float)
    requested = np.array([r["requested"] for r in rows], dtype=float)
    actual = np.array([r["actual"] for r in rows], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.abs(errors) / requested  # a request of 0 characters has no relative error
    relative = relative[np.isfinite(relative)]
    return {"mean_actual": float(actual.mean()), "mean_abs_error": float(np.abs(errors).mean()),
            "mean_signed_error": float(errors.mean()),
            "mean_abs_rel_error": float(relative.mean()) if len(relative) else None}


def _length_number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    value = chinese_number(token)
    return value if value is not None and value >= _MIN_CHINESE_LENGTH else None
