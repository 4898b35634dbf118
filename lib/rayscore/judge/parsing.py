"""The validator of augmented reading-comprehension items (the augment job's format check).

    ok, reason = parse_reading_item(llm_output)          # (False, 'question 3: no answer line')

A judge's pointwise score and pairwise verdict are read by rayscore.eval.judge_text (parse_score,
parse_pairwise), below judge, because the evaluate job reads judge text with them too.
"""

from __future__ import annotations

import re

from rayscore.eval.judge_text import normalize_text

__all__ = ["parse_reading_item"]


# --- augmented reading-comprehension items --------------------------------------------------

_QUESTION = re.compile(r"^(?:(?:问题|题目)\s*([1-9一二三四五六七八九])(?=[\s:.、)]|$)"
                       r"|第\s*([1-9一二三四五六七八九])\s*题)"
                       r"\s*[:.、)]?\s*(.*)$")
_OPTION = re.compile(r"^\(?([A-Z])\s*[).、:]\s*(\S.*)$")
_ANSWER = re.compile(r"^(?:正确答案|参考答案|答案)\s*(?:[:为是]|(?=[A-Za-z]))\s*(.*)$")
_ANSWER_LETTER = re.compile(r"^([A-Za-z])(?![A-Za-z])")
_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
READING_QUESTIONS = 4
READING_OPTIONS = "ABCD"


def parse_reading_item(text: str | None) -> tuple[bool, str | None]:
    """(True, None) when `text` holds four questions in the augment_reading_zh format, else
    (False, the first problem found).

    The format, per question (full-width punctuation and `A、`/`(A)` option marks accepted;
    a preamble before 问题1 and 解析 lines are ignored):
        问题1：<question text>
        A. <option>
        B. <option>
        C. <option>
        D. <option>
        答案：<one of A-D>
    """
    if text is None or not str(text).strip():
        return False, "empty output"
    blocks = _question_blocks(normalize_text(str(text)))
    if len(blocks) != READING_QUESTIONS:
        return False, f"expected {READING_QUESTIONS} questions, found {len(blocks)}"
    for position, (number, lines) in enumerate(blocks, start=1):
        if number != position:
            return False, f"question {position}: numbered {number}"
        problem = _check_question(lines)
        if problem:
            return False, f"question {position}: {problem}"
    return True, None


def _question_blocks(norm: str) -> list[tuple[int, list[str]]]:
    blocks: list[tuple[int, list[str]]] = []
    for raw in norm.splitlines():
        line = raw.strip().strip("#").strip()
        header = _QUESTION.match(line)
        if header:
            number = header.group(1) or header.group(2)
            blocks.append((int(number) if number.isdigit() else _CN_DIGITS[number], [header.group(3).strip()]))
        elif blocks and line:
            blocks[-1][1].append(line)
    return blocks


def _check_question(lines: list[str]) -> str | None:
    stem, options, answers = [], [], []
    for line in lines:
        option, answer = _OPTION.match(line), _ANSWER.match(line)
        if answer:
            answers.append(answer.group(1).strip())
        elif option:
            options.append(option.group(1))
        elif not options and line:
            stem.append(line)
    if not "".join(stem).strip():
        return "empty question text"
    if options != list(READING_OPTIONS):
        missing = [o for o in READING_OPTIONS if o not in options]
        if missing:
            return f"missing option {', '.join(missing)}"
        return f"options {''.join(options)} are not exactly A, B, C, D in order"
    if not answers:
        return "no answer line"
    if len(answers) > 1:
        return "several answer lines"
    letter = _ANSWER_LETTER.match(answers[0])
    if letter is None:
        return f"answer line without a single letter: {answers[0][:20]!r}"
    if letter.group(1).upper() not in READING_OPTIONS:
        return f"answer {letter.group(1)!r} is not one of A-D"
    return None
