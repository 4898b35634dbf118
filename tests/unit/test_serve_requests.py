"""Serve's request validation without Serve: which request fields each scorer kind reads
(declared once, in rayscore.score.scorers), and the errors that name the offending field."""

import json

import pydantic
import pytest

from rayscore.serve.api import ENDPOINT_KINDS, JudgeRequest, PairItem, RequestError, ScoreItem, ScoreRequest, item_rows
from rayscore.serve.config import ServeJobConfig


def rows(items, endpoint="/v1/score", kind="quality", max_items=8, max_text_chars=20):
    return item_rows(items, endpoint, kind, max_items, max_text_chars)


def error(*args, **kwargs) -> tuple[int, str]:
    with pytest.raises(RequestError) as caught:
        rows(*args, **kwargs)
    return caught.value.status, caught.value.message


def test_each_kind_reads_its_fields():
    assert rows([ScoreItem(id=1, text="张三")]) == [{"text": "张三"}]
    assert rows([ScoreItem(prompt="q", response="a")], kind="reward") == [{"prompt": "q", "response": "a"}]
    assert rows([ScoreItem(prompt="q")], kind="generative") == [{"prompt": "q"}]
    assert rows([PairItem(chosen="a", rejected="b")], "/v1/score_pairs", "pair") == [
        {"chosen": "a", "rejected": "b", "prompt": None}]
    assert rows([PairItem(prompt="q", chosen="a", rejected="b")], "/v1/score_pairs", "pair") == [
        {"chosen": "a", "rejected": "b", "prompt": "q"}]


def test_errors_name_the_field():
    assert error([ScoreItem(prompt="q", response="a")]) == (
        422, "items[0].prompt: not read by this app's 'quality' scorer, which reads {\"text\": ...} items")
    assert error([ScoreItem(id=1)]) == (
        422, "items[0].text: required (this app's 'quality' scorer reads {\"text\": ...})")
    assert error([ScoreItem(text="a"), ScoreItem(text=" ")]) == (422, "items[1].text: empty or only whitespace")
    assert error([ScoreItem(text="好" * 21)]) == (
        422, "items[0].text: 21 characters, more than max_text_chars=20")
    assert error([ScoreItem(text="a")] * 9) == (422, "items: 9 items, more than max_items_per_request=8")
    assert error([ScoreItem(prompt="q")], kind="reward") == (
        422, "items[0].response: required (this app's 'reward' scorer reads {\"prompt\": ..., \"response\": ...})")
    assert error([ScoreItem(text="a")], kind="reward") == (
        422, "items[0].text: not read by this app's 'reward' scorer, "
             "which reads {\"prompt\": ..., \"response\": ...} items")
    assert error([PairItem(chosen="a", rejected="")], "/v1/score_pairs", "pair") == (
        422, "items[0].rejected: empty or only whitespace")


def test_an_endpoint_of_another_kind_is_501():
    assert error([PairItem(chosen="a", rejected="b")], "/v1/score_pairs", "quality") == (
        501, "/v1/score_pairs: needs a 'pair' scorer; this app serves a 'quality' scorer (its endpoint is /v1/score)")
    assert error([ScoreItem(text="a")], "/v1/score", "pair") == (
        501, "/v1/score: needs a 'quality', 'reward', 'classifier' or 'generative' scorer; "
             "this app serves a 'pair' scorer (its endpoint is /v1/score_pairs)")


def test_every_kind_has_an_endpoint():
    from rayscore.score.scorers import KINDS

    assert sorted(k for kinds in ENDPOINT_KINDS.values() for k in kinds) == sorted(KINDS)


def test_the_config_refuses_what_cannot_be_served():
    cfg = ServeJobConfig()
    cfg.scorer.kind, cfg.scorer.messages_column = "reward", "conv"
    assert cfg.check() == ["scorer: the reward scorer is served on prompt/response items; "
                           "set scorer.messages_column: null"]
    cfg.scorer.kind = "ranker"
    assert cfg.check()[0] == ("scorer: kind 'ranker' cannot be served yet "
                              "(known: ['classifier', 'generative', 'pair', 'quality', 'reward'])")


def test_one_declaration_gives_batch_columns_and_request_fields():
    from rayscore.score.scorers import KIND_FIELDS, ScorerSpec

    for kind, fields in KIND_FIELDS.items():
        spec = ScorerSpec(kind=kind)
        assert spec.input_columns() == [getattr(spec, f"{f}_column") for f in fields.required]
        assert spec.optional_columns() == [getattr(spec, f"{f}_column") for f in fields.optional]
    renamed = ScorerSpec(kind="quality", text_column="record")
    assert renamed.input_columns() == ["record"] and renamed.column("text") == "record"
    assert ScorerSpec(kind="pair").optional_columns() == ["prompt"]
    conversations = ScorerSpec(kind="reward", messages_column="conv")
    assert conversations.input_columns() == ["conv"] and conversations.optional_columns() == []


def validation_errors(model: type[pydantic.BaseModel], body: bytes) -> list[tuple[tuple, str]]:
    """As FastAPI reads a body: Python's json module (which keeps a lone surrogate), then the model."""
    try:
        model.model_validate(json.loads(body))
    except pydantic.ValidationError as e:
        return [(err["loc"], err["msg"]) for err in e.errors()]
    return []


def test_text_without_a_utf8_form_is_refused_naming_the_field():
    assert validation_errors(ScoreRequest, rb'{"items": [{"text": "ab\ud800cd"}]}') == [
        (("items", 0, "text"), "not valid UTF-8 text: lone surrogate U+D800 at character 3")]
    assert validation_errors(ScoreRequest, rb'{"items": [{"text": "a"}, {"id": "\udc00x", "prompt": "q"}]}') == [
        (("items", 1, "id"), "not valid UTF-8 text: lone surrogate U+DC00 at character 1")]
    assert validation_errors(JudgeRequest, rb'{"items": [{"question": "q", "answer_2": "x\udbff"}]}') == [
        (("items", 0, "answer_2"), "not valid UTF-8 text: lone surrogate U+DBFF at character 2")]
    # A surrogate pair is one character (U+1F600), numbers are not text, and both are fine.
    assert validation_errors(ScoreRequest, rb'{"items": [{"id": 7, "text": "\ud83d\ude00"}]}') == []
    request = ScoreRequest.model_validate(json.loads(rb'{"items": [{"text": "\ud83d\ude00"}]}'))
    assert request.items[0].text == "\U0001F600"
