"""The augment job against a fake OpenAI-compatible endpoint on loopback: well-formed, malformed,
low-scoring and failing generations each end where they should, and the summary accounts for all."""

import json

import pandas as pd
import pytest

from fake_judge_server import FakeJudgeServer
from jobs.augment import main
from rayscore.judge.prompts import load_template, render


def questions(n: int, tag: str) -> str:
    """n questions in the augment_reading_zh format; `tag` lets the fake judge recognise them."""
    blocks = []
    for k in range(1, n + 1):
        blocks.append(f"问题{k}：第{k}题（{tag}）的题干？\nA. 甲\nB. 乙\nC. 丙\nD. 丁\n答案：B\n解析：材料第{k}段。")
    return "\n\n".join(blocks)


ITEMS = [
    {"id": "good", "item": "【材料】春天来了。GOOD"},
    {"id": "low", "item": "【材料】夏天很热。LOW"},
    {"id": "broken", "item": "【材料】秋天的落叶。BROKEN"},
    {"id": "down", "item": "【材料】冬天下雪。DOWN"},
    {"id": "judge_down", "item": "【材料】一年四季。JUDGE_DOWN"},
    {"id": "vague", "item": "【材料】四季轮回。VAGUE"},
    {"id": "empty", "item": "  "},
    {"id": "fullwidth", "item": "【材料】月亮。GOOD"},
]
GENERATED = {
    "GOOD": questions(4, "好"),
    "LOW": questions(4, "弱"),
    "BROKEN": questions(3, "缺"),              # one question short: malformed
    "JUDGE_DOWN": questions(4, "评"),
    "VAGUE": questions(4, "含糊"),
}
JUDGED = {
    "好": "正确性18分，贴合原文11分，难度10分。\n总分：３９分",   # full-width: 39, kept
    "弱": "题目过于简单。\n总分:20分",                            # below 30: rejected
    "含糊": "正确性得分：15分\n难度得分：8分",                     # sub-scores, no total: unreadable
}
JUDGE_OPENING = load_template("rubric_zh").split("\n", 1)[0]


def respond(prompt: str) -> str:
    if prompt.startswith(JUDGE_OPENING):
        return next(text for tag, text in JUDGED.items() if f"（{tag}）" in prompt)
    return next(text for marker, text in GENERATED.items() if prompt.rstrip().endswith(marker))


@pytest.fixture
def server():
    with FakeJudgeServer() as fake:
        fake.responder = respond
        yield fake


def test_augment_keeps_what_passes_and_accounts_for_the_rest(tmp_path, server):
    path = tmp_path / "items.jsonl"
    pd.DataFrame(ITEMS).to_json(path, orient="records", lines=True, force_ascii=False)
    gen_template, judge_template = load_template("augment_reading_zh"), load_template("rubric_zh")
    server.fail_first(render(gen_template, item=ITEMS[3]["item"]), status=500, times=10)
    server.fail_first(render(gen_template, item=ITEMS[0]["item"]), status=429, times=1, retry_after="0")
    judge_prompt = render(judge_template, question=ITEMS[4]["item"], answer=GENERATED["JUDGE_DOWN"])
    server.fail_first(judge_prompt, status=503, times=10)
    out = tmp_path / "out"

    code = main(["--config", "configs/augment/tiny.yaml", f"input={path}", f"output_dir={out}",
                 f"generator.base_url={server.base_url}", f"judge.base_url={server.base_url}"])

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    kept = pd.read_parquet(out / "kept.parquet")
    rejects = pd.read_parquet(out / "rejects.parquet").set_index("id")
    assert code == 0 and summary["ok"]
    assert kept["id"].tolist() == ["good", "fullwidth"]
    assert kept["score"].tolist() == [39.0, 39.0]
    assert kept["generated"].tolist() == [GENERATED["GOOD"]] * 2 and kept["item"].tolist()[0] == ITEMS[0]["item"]
    assert kept["generate_attempts"].tolist() == [2, 1]  # the 429 was retried

    assert sorted(rejects.index) == ["broken", "down", "empty", "judge_down", "low", "vague"]
    assert rejects.loc["low", ["outcome", "stage", "reason"]].tolist() == [
        "rejected", "judge", "score 20 < threshold 30"]
    assert rejects.loc["low", "score"] == 20
    assert rejects.loc["vague", "outcome"] == "rejected" and pd.isna(rejects.loc["vague", "score"])
    assert rejects.loc["vague", "reason"].startswith("score unreadable: ambiguous")
    assert rejects.loc["broken", ["outcome", "stage", "reason"]].tolist() == [
        "malformed", "validate", "expected 4 questions, found 3"]
    assert rejects.loc["down", ["outcome", "stage"]].tolist() == ["failed", "generate"]
    assert rejects.loc["down", "reason"].startswith("gave up after 3 attempts: http 500")
    assert rejects.loc["judge_down", ["outcome", "stage"]].tolist() == ["failed", "judge"]
    assert rejects.loc["judge_down", "generated"] == GENERATED["JUDGE_DOWN"]  # kept for a later re-judge
    assert rejects.loc["empty", ["outcome", "reason"]].tolist() == ["invalid_input", "missing_field: item"]
    # Only well-formed samples reach the judge: good, fullwidth, low, vague once, judge_down 1 + 2 retries.
    assert server.requests_for(judge_prompt) == 3
    assert sum(body["model"] == "fake-judge" for body in server.bodies) == 4 + 3

    assert summary["rows_in"] == 8
    assert (summary["generated"], summary["failed"], summary["malformed"], summary["rejected"], summary["kept"],
            summary["invalid_input"]) == (6, 2, 1, 2, 2, 1)
    assert summary["failed_by_stage"] == {"generate": 1, "judge": 1}
    assert summary["rejected_reasons"] == {"below threshold": 1, "score unreadable": 1}
    assert summary["mean_score"] == pytest.approx((39 + 39 + 20) / 3)


def test_threshold_outside_the_score_range_is_a_config_error(tmp_path):
    from rayscore.config import ConfigError

    with pytest.raises(ConfigError, match=r"threshold \(from command line\): 50.0 is outside score_range"):
        main(["--config", "configs/augment/tiny.yaml", "threshold=50"])
