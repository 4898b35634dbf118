"""Read a judge's free text: a pointwise score or a pairwise verdict.

    from rayscore.eval.judge_text import parse_score, parse_pairwise
    parsed = parse_score("……各项合计。总分：３６分", valid_range=(0, 44))
    parsed.score, parsed.parse_ok, parsed.matched      # 36.0, True, '总分:36'
    verdict = parse_pairwise("2\\n\\n### Reason: Response 2 is concise.")
    verdict.verdict, verdict.reason                     # 2, 'Response 2 is concise.'

A text that cannot be read gives `score=None` / `verdict=None` with `parse_ok=False` and a
`problem` saying why — never a default score: a judge that declines to rate is "no score", not 0.

Scores are looked for in tiers, most explicit first, and the first tier that matches wins:
  1. a total: 总分 / 总得分 / 最终得分 / 综合得分 / total score / overall score / final score
     (the LAST one, because judges restate the total after checking their sums),
  2. MT-Bench brackets `[[8.5]]`,
  3. a labelled score: 评分 / 得分 / 分数 / 打分 / score / rating / grade,
  4. a fraction `8/10` or `8 out of 10` anywhere, over a usual scale (5, 10, 20, 44, 50, 100 or
     the top of valid_range, so "2/3 of the questions" is no score),
  5. a bare number opening the text: `8`, `8分，理由是…`, `7.5\n…`,
  6. a verb form: 打8分 / 给7分 / 得7.5分.
Below the total, a tier holding several different numbers is ambiguous (sub-scores such as
`正确性得分：18分 … 难度得分：8分` with no total): no score rather than a guess. The same
number written twice is fine.
Text is NFKC-normalised first, so full-width digits and colons (`总分：３６分`) read as ASCII.

These readers live in eval because the evaluate job reads judge text with them
(`prediction_parser`) and eval sits below judge; the judge job, the augment job and the
generative scorer use the same functions (rayscore.judge.parsing re-exports them), so a score
is read the same way wherever it is read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rayscore.eval.verdicts import verdict_from_scores

__all__ = ["ParsedScore", "ParsedVerdict", "parse_score", "parse_pairwise", "normalize_text"]

_NUM = r"(-?\d+(?:\.\d+)?)"
_DENOM = r"(?:\s*(?:/|out\s+of)\s*(\d+(?:\.\d+)?))?"
_BRACKETED_NUM = r"(?:\[\[\s*)?" + _NUM + r"(?:\s*\]\])?" + _DENOM
_SEP = r"\s*(?::|=|为|是)?\s*"

_TOTAL_PATTERNS = [
    re.compile(r"(?:总分|总得分|总评分|最终得分|最终评分|综合得分|综合评分)" + _SEP + _BRACKETED_NUM),
    re.compile(r"\b(?:total|overall|final)(?:\s+(?:score|rating))?\s*(?::|=|\bis\b)\s*" + _BRACKETED_NUM,
               re.IGNORECASE),
    re.compile(r"\b(?:total|overall|final)\s+(?:score|rating)\s+(?:of\s+)?" + _BRACKETED_NUM, re.IGNORECASE),
]
_BRACKET_PATTERNS = [re.compile(r"\[\[\s*" + _NUM + r"\s*\]\]")]
_LABEL_PATTERNS = [
    re.compile(r"(?:评分结果|评分|得分|分数|打分|分值)" + _SEP + _BRACKETED_NUM),
    re.compile(r"\b(?:score|rating|grade)\s*(?::|=|\bis\b|\bof\b)\s*" + _BRACKETED_NUM, re.IGNORECASE),
]
_FRACTION = re.compile(_NUM + r"\s*(?:/|out\s+of)\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
# A number opening the text counts only when nothing but 分/points, punctuation or a line break
# follows it, so list markers ("1. 完整性…") and counts ("3 个问题") are not read as scores.
_LEADING = re.compile(r"^\s*" + _NUM + r"\s*(?:分|points?|pts)?\s*(?=$|[,;!\n。]|理由|because|reason)",
                      re.IGNORECASE)
_SCALES = (5.0, 10.0, 20.0, 44.0, 50.0, 100.0)
_VERB = re.compile(r"(?:打|给|评|得|给出)\s*了?\s*" + _NUM + r"\s*分")


@dataclass(frozen=True)
class ParsedScore:
    """A pointwise judge output read: the score, or None with the problem."""

    score: float | None
    parse_ok: bool
    matched: str | None = None
    """The (normalised) text the score was read from."""
    denominator: float | None = None
    """10 for `Score: 8/10`; None when the judge wrote no scale."""
    problem: str | None = None
    """Why no score was read (no score found, ambiguous, out of range)."""


@dataclass(frozen=True)
class ParsedVerdict:
    """A pairwise judge output read: 1 or 2 (that answer is better), 0 (tie), or None."""

    verdict: int | None
    parse_ok: bool
    reason: str | None = None
    """The judge's explanation (text after `Reason:` / `理由:`, else the lines after the verdict)."""
    scores: tuple[float, float] | None = None
    """JudgeLM-style outputs: the scores of answer 1 and answer 2."""
    reference: str | None = None
    """PandaLM's generated reference answer (after `Reference:`), when present."""
    matched: str | None = None
    problem: str | None = None


def normalize_text(text: str) -> str:
    """NFKC (full-width digits and punctuation to ASCII) without markdown emphasis."""
    return unicodedata.normalize("NFKC", text).replace("**", "").replace("__", "")


def parse_score(text: str | None, valid_range: tuple[float, float] | None = None) -> ParsedScore:
    """The score a judge wrote in `text`; `valid_range=(lo, hi)` (inclusive) rejects others."""
    if text is None or not str(text).strip():
        return ParsedScore(None, False, problem="empty output")
    norm = normalize_text(str(text))
    scales = _SCALES + ((float(valid_range[1]),) if valid_range is not None else ())
    found = _find_score(norm, scales)
    if isinstance(found, str):
        return ParsedScore(None, False, problem=found)
    score, denominator, matched = found
    if valid_range is not None and not valid_range[0] <= score <= valid_range[1]:
        return ParsedScore(None, False, matched=matched, denominator=denominator,
                           problem=f"out of range: {_fmt(score)} not in [{_fmt(valid_range[0])}, "
                                   f"{_fmt(valid_range[1])}]")
    return ParsedScore(score, True, matched=matched, denominator=denominator)


def _find_score(norm: str, scales: tuple[float, ...]) -> tuple[float, float | None, str] | str:
    """(score, denominator, matched text), or the problem as a string."""
    totals = _matches(norm, _TOTAL_PATTERNS)
    if totals:
        return _from_match(totals[-1])
    for patterns, what in ((_BRACKET_PATTERNS, "bracketed scores"), (_LABEL_PATTERNS, "labelled scores")):
        found = _matches(norm, patterns)
        if found:
            return _unique(found, what)
    fractions = [m for m in _FRACTION.finditer(norm)
                 if float(m.group(2)) in scales and float(m.group(1)) <= float(m.group(2))]
    if fractions:
        return _unique(fractions, "fractions")
    leading = _LEADING.match(norm)
    if leading:
        return float(leading.group(1)), None, leading.group(0).strip()
    verbs = list(_VERB.finditer(norm))
    if verbs:
        return _unique(verbs, "scores")
    if re.search(r"\d", norm):
        return "no score found: numbers but no score pattern"
    return "no score found"


def _matches(text: str, patterns: list[re.Pattern]) -> list[re.Match]:
    """Every match of any of the patterns, in order of position."""
    return sorted((m for p in patterns for m in p.finditer(text)), key=lambda m: m.start())


def _from_match(m: re.Match) -> tuple[float, float | None, str]:
    denominator = m.group(2) if m.re.groups >= 2 else None
    return float(m.group(1)), float(denominator) if denominator else None, m.group(0).strip()


def _unique(matches: list[re.Match], what: str) -> tuple[float, float | None, str] | str:
    values = sorted({float(m.group(1)) for m in matches})
    if len(values) > 1:
        return f"ambiguous: several {what} ({', '.join(_fmt(v) for v in values)}) and no total"
    # The same score written twice: report the writing that names its scale, if one does.
    with_scale = [m for m in matches if m.re.groups >= 2 and m.group(2)]
    return _from_match((with_scale or matches)[-1])


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


# --- pairwise -------------------------------------------------------------------------------

_HEADER_ONLY = re.compile(r"^(?:evaluation|verdict|result|judgement|judgment|评判结果|评估结果|结论|结果)\s*:?\s*$",
                          re.IGNORECASE)
_HEADER_PREFIX = re.compile(r"^(?:evaluation|verdict|result|judgement|judgment|评判结果|评估结果|结论|结果)\s*:\s*",
                            re.IGNORECASE)
_TWO_SCORES = re.compile(r"^" + _NUM + r"\s*(?:,|\s)\s*" + _NUM + r"$")
_ONE_LABEL = re.compile(r"^(?:response|answer|output|回答|答案|回复|输出)?\s*([012])$", re.IGNORECASE)
_TIE_WORDS = {"tie", "draw", "equal", "平局", "平手", "两者相当", "相当", "一样好", "不相上下", "难分伯仲",
              "打平", "持平"}
_BETTER = [
    re.compile(r"(?:response|answer|output)\s*([12])\s*(?:is\s+)?(?:better|wins|is\s+preferred)", re.IGNORECASE),
    re.compile(r"(?:回答|答案|回复|输出)\s*([12一二])\s*(?:更好|更优|较好|更佳|胜出|胜|更胜一筹)"),
    re.compile(r"第\s*([12一二])\s*个?\s*(?:回答|答案|回复|输出)\s*(?:更好|更优|较好|更佳|胜出|胜)"),
]
_TIE = re.compile(r"两者相当|两个回答相当|二者相当|不相上下|难分伯仲|平局|一样好|同样好|\btie\b|equally good"
                  r"|both (?:responses|answers) are equally", re.IGNORECASE)
# A reason mark may open a line (PandaLM's `### Reason:`) or follow the verdict on its line
# (`平局。理由：都一般`); the first mark wins, so the reason may mention later marks itself.
_REASON = re.compile(r"(?:\b(?:reason|explanation)\s*:|(?:理由|原因)\s*(?::|是))\s*(.*?)"
                     r"(?=\n\s*#*\s*(?:reference|参考答案|参考回答)\s*:|\Z)", re.IGNORECASE | re.DOTALL)
_REFERENCE = re.compile(r"(?:^|\n)\s*#*\s*(?:reference|参考答案|参考回答)\s*:\s*(.*)\Z", re.IGNORECASE | re.DOTALL)
_DIGITS = {"1": 1, "2": 2, "一": 1, "二": 2}


def parse_pairwise(text: str | None, valid_range: tuple[float, float] | None = None,
                   tie_margin: float = 0.0) -> ParsedVerdict:
    """Which answer a pairwise judge prefers: 1, 2, 0 (tie), or None with the problem.

    Reads the first line first: PandaLM's `1` / `2` / `Tie`, JudgeLM's two scores `8 6`
    (verdict from the scores; within `tie_margin` is a tie, JudgeLM's T=0), or a phrase such as
    `回答1更好`, `Response 2 is better`, `两者相当`, `平局`. When the first line holds none, the
    whole text is searched for such phrases, and they must all agree. `valid_range` applies to
    JudgeLM scores.
    """
    if text is None or not str(text).strip():
        return ParsedVerdict(None, False, problem="empty output")
    norm = normalize_text(str(text)).strip()
    lines = _content_lines(norm)
    if not lines:
        return ParsedVerdict(None, False, problem="no verdict found")
    first = _HEADER_PREFIX.sub("", lines[0])
    reason, reference = _reason_and_reference(norm)

    scores = _TWO_SCORES.match(first)
    if scores:
        s1, s2 = float(scores.group(1)), float(scores.group(2))
        if valid_range is not None and not all(valid_range[0] <= s <= valid_range[1] for s in (s1, s2)):
            return ParsedVerdict(None, False, reason=reason, scores=(s1, s2), matched=first,
                                 problem=f"out of range: scores {_fmt(s1)}, {_fmt(s2)} not in "
                                         f"[{_fmt(valid_range[0])}, {_fmt(valid_range[1])}]")
        return ParsedVerdict(verdict_from_scores(s1, s2, tie_margin), True, reason=reason,
                             scores=(s1, s2), reference=reference, matched=first)

    verdict, matched = _verdict_from_line(first)
    if verdict is not None:
        return ParsedVerdict(verdict, True, reason=reason, reference=reference, matched=matched)

    found = _verdicts_in(norm)
    if len(found) == 1:
        (verdict, matched), = found.items()
        return ParsedVerdict(verdict, True, reason=reason, reference=reference, matched=matched)
    if len(found) > 1:
        return ParsedVerdict(None, False, reason=reason, problem=f"conflicting verdicts {sorted(found)}")
    return ParsedVerdict(None, False, reason=reason, problem="no verdict found")


def _verdict_from_line(line: str) -> tuple[int | None, str | None]:
    cleaned = line.strip(" *#:.。,，!！[]()【】\"'`").strip()
    label = _ONE_LABEL.match(cleaned)
    if label:
        return int(label.group(1)), cleaned
    if cleaned.lower() in _TIE_WORDS:
        return 0, cleaned
    found = _verdicts_in(line)
    return next(iter(found.items())) if len(found) == 1 else (None, None)


def _verdicts_in(text: str) -> dict[int, str]:
    """Every verdict a phrase in `text` states, with the phrase."""
    found: dict[int, str] = {}
    for pattern in _BETTER:
        for m in pattern.finditer(text):
            found.setdefault(_DIGITS[m.group(1)], m.group(0))
    tie = _TIE.search(text)
    if tie:
        found.setdefault(0, tie.group(0))
    return found


def _reason_and_reference(norm: str) -> tuple[str | None, str | None]:
    """The explanation (after a reason mark, else the lines after the verdict) and the reference."""
    reference = _REFERENCE.search(norm)
    body = norm[:reference.start()] if reference else norm
    reason = _REASON.search(body)
    if reason:
        text = reason.group(1).strip()
    else:
        text = "\n".join(_content_lines(body)[1:]).strip()
    return text or None, reference.group(1).strip() or None if reference else None


def _content_lines(text: str) -> list[str]:
    """Non-empty lines without markdown marks, a leading `Evaluation:`-style header skipped."""
    lines = [line.strip().strip("#* ").strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    while lines and _HEADER_ONLY.match(lines[0]):
        lines = lines[1:]
    return lines
