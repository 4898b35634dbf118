"""Judge outputs as judges really write them -> scores, verdicts, reading items; and the templates."""

import pytest

from rayscore.eval.judge_text import parse_pairwise, parse_score
from rayscore.judge.parsing import parse_reading_item
from rayscore.judge.prompts import (
    PAIRWISE_FIELDS,
    POINTWISE_FIELDS,
    TemplateError,
    load_template,
    placeholders,
    render,
    required_fields,
)

# (judge output, expected score or None, expected denominator)
SCORE_CASES = [
    ("总分:36分", 36, None),
    ("总分：36分", 36, None),
    ("总分: 36 分", 36, None),
    ("总分：３６分", 36, None),
    ("**总分：40分**", 40, None),
    ("总分：36/44分", 36, 44),
    ("Score: 8/10", 8, 10),
    ("[[8]]", 8, None),
    ("[[8.5]]", 8.5, None),
    ("评分：8", 8, None),
    ("得分：7.5分", 7.5, None),
    ("Rating: 9", 9, None),
    ("8分，理由是回答紧扣题意，语言流畅。", 8, None),
    ("8/10", 8, 10),
    ("7.5", 7.5, None),
    ("9\n回答准确完整。", 9, None),
    ("I'd give it a 7 out of 10.", 7, 10),
    ("我给这个回答打8分。", 8, None),
    ("Overall, the total score is 7.", 7, None),
    ("Total score: 38", 38, None),
    ("Final score: [[9]]", 9, None),
    ("评分：[[7]]", 7, None),
    ("该回答基本切题。\n评分：[[6]]", 6, None),
    # several numbers: the explicit total wins over the sub-scores
    ("准确性：8分，流畅性：7分，总分：15分", 15, None),
    ("一、正确性：18分\n二、贴合原文：10分\n三、难度：8分\n缺少1道题，扣10分。\n总分:26分", 26, None),
    # a judge that restates its total after checking: the last one counts
    ("总分:30分\n复核：正确性应为16分，因此总分:28分", 28, None),
    ("Accuracy score: 4, fluency score: 3. Final score: 7", 7, None),
    ("In total 3 questions are missing, score: 5", 5, None),
    ("Rating: [[8]]\n...\nSo my rating is [[8]].", 8, None),
    ("总分为 32 分（满分44分）", 32, None),
    # unreadable: never a default
    ("总分:XX分", None, None),
    ("我无法对这个回答进行评分。", None, None),
    ("", None, None),
    ("1. 完整性：缺少一道题，扣10分\n2. 正确性：18分", None, None),
    ("Helpfulness 8/10, accuracy 7/10", None, None),
    ("正确性得18分，贴合度得10分", None, None),
    ("3 个问题缺失，难以评价", None, None),
    ("As an AI, I cannot rate this item.", None, None),
    ("2/3 of the questions are answered correctly.", None, None),
    ("8分。理由：语言流畅。", 8, None),
]


@pytest.mark.parametrize("text,expected,denominator", SCORE_CASES)
def test_parse_score_reads_what_judges_write(text, expected, denominator):
    parsed = parse_score(text)
    assert parsed.score == expected
    assert parsed.parse_ok is (expected is not None)
    assert parsed.denominator == denominator
    if expected is None:
        assert parsed.problem and parsed.matched is None
    else:
        assert parsed.problem is None and parsed.matched


def test_parse_score_table_is_large_enough():
    assert len(SCORE_CASES) >= 30
    assert sum(expected is None for _, expected, _ in SCORE_CASES) >= 5


def test_parse_score_names_why_it_failed():
    assert parse_score("Helpfulness 8/10, accuracy 7/10").problem.startswith("ambiguous")
    assert "no score found" in parse_score("总分:XX分").problem
    assert parse_score(None).problem == "empty output"


def test_parse_score_out_of_range_is_not_a_score():
    parsed = parse_score("总分:45分", valid_range=(0, 44))
    assert (parsed.score, parsed.parse_ok) == (None, False)
    assert parsed.problem == "out of range: 45 not in [0, 44]"
    assert parsed.matched == "总分:45"
    assert parse_score("Rating: -1", valid_range=(1, 10)).parse_ok is False
    assert parse_score("总分:44分", valid_range=(0, 44)).score == 44  # bounds are inclusive


def test_parse_score_fraction_over_the_valid_range_top():
    assert parse_score("I rate it 3/4.").score is None
    assert parse_score("I rate it 3/4.", valid_range=(0, 4)).score == 3


def test_parse_score_prefers_total_over_brackets_and_labels():
    assert parse_score("[[9]] 是我的初评。总分：36分").score == 36
    assert parse_score("评分：8\n复核后评分：8").score == 8  # the same score restated


def test_parse_score_sub_scores_without_a_total_are_ambiguous():
    parsed = parse_score("正确性得分：18分\n贴合原文得分：10分\n难度得分：8分")
    assert parsed.score is None and parsed.problem == "ambiguous: several labelled scores (8, 10, 18) and no total"
    assert parse_score("[[8]] 或 [[9]]").problem.startswith("ambiguous: several bracketed scores")


# (judge output, verdict, scores)
PAIRWISE_CASES = [
    ("1\n\n### Reason: Response 1 is concise.\n\n### Reference: Arts & Culture", 1, None),
    ("2\nReason: Response 2 follows the instruction.", 2, None),
    ("Tie\nReason: both are fine", 0, None),
    ("tie", 0, None),
    ("### Evaluation:\n2\n\n### Reason: Response 2 is better because...", 2, None),
    ("Evaluation: 1\nReason: r", 1, None),
    ("**1**\nReason: shorter", 1, None),
    ("8 6\nAssistant 1 gave more detail.", 1, (8.0, 6.0)),
    ("7 7\nBoth are equally helpful.", 0, (7.0, 7.0)),
    ("8,6", 1, (8.0, 6.0)),
    ("8.5, 9\nAssistant 2 is more accurate.", 2, (8.5, 9.0)),
    ("回答1更好\n理由：更准确", 1, None),
    ("回答２更好。理由：更完整", 2, None),
    ("两者相当", 0, None),
    ("平局。理由：都一般", 0, None),
    ("第二个回答更好，因为它更具体。", 2, None),
    ("Response 1 is better because it is correct.", 1, None),
    ("I think Response 2 is better.\nReason: it answers the question.", 2, None),
    ("", None, None),
    ("Both have merits.", None, None),
    ("Response 1 is better in style but Response 2 is better overall.", None, None),
]


@pytest.mark.parametrize("text,verdict,scores", PAIRWISE_CASES)
def test_parse_pairwise(text, verdict, scores):
    parsed = parse_pairwise(text)
    assert parsed.verdict == verdict
    assert parsed.parse_ok is (verdict is not None)
    assert parsed.scores == scores


def test_parse_pairwise_keeps_reason_and_reference():
    parsed = parse_pairwise("1\n\n### Reason: Response 1 is concise.\n\n### Reference: Arts & Culture")
    assert parsed.reason == "Response 1 is concise."
    assert parsed.reference == "Arts & Culture"
    assert parse_pairwise("2\n理由是回答2更完整。\n参考答案：北京").reason == "回答2更完整。"
    assert parse_pairwise("8 6\nAssistant 1 gave more detail.").reason == "Assistant 1 gave more detail."


def test_parse_pairwise_judgelm_scores_range_and_margin():
    out = parse_pairwise("11 6", valid_range=(1, 10))
    assert out.verdict is None and not out.parse_ok and out.problem.startswith("out of range")
    assert out.scores == (11.0, 6.0)
    assert parse_pairwise("7.5 7", tie_margin=1.0).verdict == 0
    assert parse_pairwise("9 7", tie_margin=1.0).verdict == 1


def test_parse_pairwise_conflict_is_reported():
    out = parse_pairwise("Response 1 is better in style but Response 2 is better overall.")
    assert out.problem == "conflicting verdicts [1, 2]"


GOOD_ITEM = """好的，以下是补全后的四道题：
问题1：文章第一段主要写了什么？
A. 春天的景色
B. 夏天的雨
C. 秋天的收获
D. 冬天的雪
答案：A
解析：第一段描写了春天。
问题2：作者为什么喜欢春天？
A. 因为花开
B. 因为天气热
C. 因为放假
D. 因为下雪
答案：A
问题3：“生机勃勃”在文中的意思是？
A、充满活力
B、非常安静
C、十分寒冷
D、特别干燥
答案：A
问题4：本文的主旨是？
(A) 热爱自然
(B) 讨厌冬天
(C) 喜欢旅行
(D) 学习知识
答案：Ａ
"""


def test_parse_reading_item_accepts_the_format():
    assert parse_reading_item(GOOD_ITEM) == (True, None)


@pytest.mark.parametrize("broken,reason", [
    (GOOD_ITEM.split("问题4")[0], "expected 4 questions, found 3"),
    (GOOD_ITEM.replace("C. 秋天的收获\n", ""), "question 1: missing option C"),
    (GOOD_ITEM.replace("答案：A\n问题3", "问题3"), "question 2: no answer line"),
    (GOOD_ITEM.replace("答案：Ａ", "答案：E"), "question 4: answer 'E' is not one of A-D"),
    (GOOD_ITEM.replace("答案：Ａ", "答案：见解析"), "question 4: answer line without a single letter: '见解析'"),
    (GOOD_ITEM.replace("问题2：作者为什么喜欢春天？", "问题2："), "question 2: empty question text"),
    (GOOD_ITEM.replace("问题3", "问题5"), "question 3: numbered 5"),
    ("", "empty output"),
])
def test_parse_reading_item_names_the_problem(broken, reason):
    assert parse_reading_item(broken) == (False, reason)


# --- templates ---------------------------------------------------------------------------------

SHIPPED = ["rubric_zh", "rubric_en", "score10_zh", "pairwise_zh", "pairwise_en", "augment_reading_zh"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_templates_render_with_and_without_reference(name):
    template = load_template(name)
    fields = {f: f"<{f}>" for f in placeholders(template)}
    full = render(template, **fields)
    assert all(f"<{f}>" in full for f in fields)
    assert "{#" not in full and "{/" not in full  # no section marks left
    without = render(template, **{**fields, "reference": None, "rubric": None})
    assert "<reference>" not in without and "{#" not in without and "{/" not in without
    assert "\n\n\n" not in without  # a dropped section leaves no gap


def test_template_field_sets():
    for name in ("rubric_zh", "rubric_en", "score10_zh"):
        assert required_fields(load_template(name)) == {"question", "answer"}
        assert placeholders(load_template(name)) <= set(POINTWISE_FIELDS)
    for name in ("pairwise_zh", "pairwise_en"):
        assert required_fields(load_template(name)) == {"question", "answer_1", "answer_2"}
        assert placeholders(load_template(name)) == set(PAIRWISE_FIELDS)
    assert required_fields(load_template("augment_reading_zh")) == {"item"}


def test_rubric_zh_carries_the_44_point_rubric():
    text = load_template("rubric_zh")
    for needle in ("扣10分", "扣5分", "0～20分", "0～12分", "44分", "总分:XX分"):
        assert needle in text
    # the judge is told to end with a line our parser reads
    last_line = text.strip().splitlines()[-1]
    assert last_line == "总分:XX分"
    assert parse_score(last_line.replace("XX", "36")).score == 36


def test_render_missing_placeholder_is_named():
    with pytest.raises(TemplateError, match=r"\{answer_2\}.*given: answer_1, question"):
        render(load_template("pairwise_en"), question="q", answer_1="a")


def test_render_optional_section_and_literal_braces():
    template = 'Q: {question}\n{#reference}\nRef: {reference}\n{/reference}Output {"score": 1}'
    assert render(template, question="x", reference="r") == 'Q: x\nRef: r\nOutput {"score": 1}'
    assert render(template, question="x", reference="") == 'Q: x\nOutput {"score": 1}'
    assert render(template, question="x") == 'Q: x\nOutput {"score": 1}'


def test_render_does_not_expand_values():
    assert render("{question}|{answer}", question="{answer}", answer="A") == "{answer}|A"


def test_render_rejects_unclosed_section():
    with pytest.raises(TemplateError, match="unmatched section"):
        render("{#reference}ref: {reference}", reference="r")


def test_load_template_unknown_name_lists_shipped():
    with pytest.raises(TemplateError, match="pairwise_zh"):
        load_template("no_such_template")
