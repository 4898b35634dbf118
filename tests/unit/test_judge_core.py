"""The judge core against a real loopback endpoint: truncated completions are never read as
scores, and every judgement carries the judge's identity."""

from dataclasses import replace

import pandas as pd
import pytest

from fake_judge_server import FakeJudgeServer
from rayscore.judge.core import TRUNCATED, JudgeSpec, build_prompts, judge_items, load_judge_spec, open_backend
from rayscore.judge.http_client import HttpJudgeSpec


@pytest.fixture
def server():
    with FakeJudgeServer() as fake:
        yield fake


def http_spec(server, **judge) -> JudgeSpec:
    return JudgeSpec(http=HttpJudgeSpec(base_url=server.base_url, model="fake", max_retries=0), **judge)


ITEMS = [{"question": "1+1等于几？", "answer": "2"}, {"question": "介绍长城", "answer": "长城是防御工程。"}]


def test_a_completion_cut_off_by_the_token_limit_is_not_a_score(server):
    spec = http_spec(server, score_range=[0, 20])
    p0, p1 = build_prompts(spec, ITEMS)[0]["prompt"]
    # The same text, once complete and once cut off before the other sub-scores and the total.
    server.answers[p0] = server.answers[p1] = "正确性得分：18分"
    server.truncated.add(p1)

    frame = judge_items(spec, open_backend(spec), ITEMS)

    assert frame.loc[0, "score"] == 18 and frame.loc[0, "parse_ok"]
    assert pd.isna(frame.loc[1, "score"]) and not frame.loc[1, "parse_ok"]
    assert frame.loc[1, "parse_problem"] == TRUNCATED
    assert frame.loc[1, "raw"] == "正确性得分：18分" and pd.isna(frame.loc[1, "error"])  # kept, not an error


def test_a_truncated_order_gives_no_pairwise_verdict(server):
    spec = http_spec(server, mode="pairwise", template="pairwise_zh")
    item = {"question": "q", "answer_1": "a", "answer_2": "b"}
    prompts, _ = build_prompts(spec, [item])
    server.answers[prompts["prompt_ab"][0]] = server.answers[prompts["prompt_ba"][0]] = "1"
    server.truncated.add(prompts["prompt_ba"][0])

    row = judge_items(spec, open_backend(spec), [item]).iloc[0]

    assert row["verdict_ab"] == 1 and row["parse_ok_ab"]
    assert pd.isna(row["verdict_ba"]) and row["parse_problem_ba"] == TRUNCATED
    assert not row["consistent"] and pd.isna(row["final"]) and pd.isna(row["error"])


def test_every_row_carries_the_judges_identity(server):
    spec = http_spec(server)
    frame = judge_items(spec, open_backend(spec), ITEMS)
    assert frame["judge_fingerprint"].nunique() == 1 and frame["judge_fingerprint"][0] == spec.fingerprint
    # What changes a judgement changes the identity ...
    for changed in (replace(spec, template="rubric_zh"), replace(spec, rubric="要点"),
                    replace(spec, score_range=[1, 10]),
                    replace(spec, http=replace(spec.http, model="other")),
                    replace(spec, http=replace(spec.http, temperature=0.7)),
                    replace(spec, http=replace(spec.http, max_tokens=16))):
        assert changed.fingerprint != spec.fingerprint
    # ... where the endpoint lives and how hard the client pushes it do not.
    same = replace(spec, http=replace(spec.http, base_url="http://10.0.0.1/v1", max_concurrency=64, max_retries=9))
    assert same.fingerprint == spec.fingerprint


def test_a_missing_field_is_an_error_row_that_is_never_sent(server):
    spec = http_spec(server)
    frame = judge_items(spec, open_backend(spec), [{"question": "q", "answer": None}, ITEMS[0]])
    assert frame.loc[0, "error"] == "missing_field: answer" and server.total_requests == 1


def test_a_judge_yaml_loads_as_a_spec():
    spec = load_judge_spec("configs/judge/pairwise_http_zh.yaml")
    assert spec.mode == "pairwise" and spec.http.model and spec.item_fields()[:1] == ("question",)
    assert spec.required_fields() == tuple(f for f in spec.item_fields())


def test_a_rerun_with_more_actors_or_another_url_resumes_the_same_output(server):
    from rayscore.judge.job import JudgeJobConfig, pipeline_config
    from rayscore.score.job import scoring_fingerprint

    def fingerprint(**changes):
        cfg = JudgeJobConfig(**{"input": "in.parquet", "output_dir": "out", "http": HttpJudgeSpec(model="fake"),
                                **changes})
        return scoring_fingerprint(pipeline_config(cfg, cfg.judge_spec()))

    base = fingerprint()
    assert fingerprint(num_actors=4) == base
    assert fingerprint(max_rows=10) == base  # a trial run's whole chunks are the full run's
    assert fingerprint(http=HttpJudgeSpec(model="fake", base_url="http://10.0.0.1/v1", max_concurrency=32)) == base
    assert fingerprint(template="rubric_zh") != base and fingerprint(answer_column="reply") != base
    # The job's http.max_concurrency is the total: each actor gets its share.
    cfg = JudgeJobConfig(input="in", output_dir="out", num_actors=3, http=HttpJudgeSpec(model="m", max_concurrency=16))
    score_cfg = pipeline_config(cfg, cfg.judge_spec())
    assert score_cfg.num_actors == 3 and score_cfg.scorer.judge.http.max_concurrency == 5
    assert score_cfg.input == "in" and score_cfg.max_rows is None  # read in place, in chunks


def test_only_rows_whose_requests_failed_are_sent_again():
    from rayscore.judge.scorer import JudgeScorer

    pointwise = pd.DataFrame({"error": [None, "gave up after 4 attempts: http 500", "prompt_too_long: 9000 tokens"],
                              "attempts": [1, 4, 0]})
    assert JudgeScorer.failed_rows(pointwise).tolist() == [False, True, False]
    pairwise = pd.DataFrame({"error": [None, "ba: timeout", "ab: prompt_too_long"],
                             "error_ab": [None, None, "prompt_too_long"], "attempts_ab": [1, 1, 0],
                             "error_ba": [None, "timeout", None], "attempts_ba": [1, 4, 1]})
    assert JudgeScorer.failed_rows(pairwise).tolist() == [False, True, False]
