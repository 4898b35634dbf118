"""Tokenizer and model loading: the MiniLM default backbone, offline."""

import pytest

from rayscore.addresses.records import generate_records
from rayscore.data.pairs import conversation
from rayscore.models import ModelSpec, encode_conversation, load_tokenizer


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer(ModelSpec())


def test_the_training_data_characters_close_the_gap(tok):
    """Common hanzi leave rarer place-name characters unknown; load_tokenizer's extra_chars (a
    training run's data characters) reads every generated record without [UNK]."""
    from rayscore.data.chinese_chars import is_cjk

    texts = generate_records(2000, seed=11)["text"].tolist()
    unk = tok.unk_token_id
    assert any(unk in tok(t, add_special_tokens=False)["input_ids"] for t in texts)
    data_chars = sorted({ch for t in texts for ch in t if is_cjk(ch)})
    full = load_tokenizer(ModelSpec(), extra_chars=data_chars)
    assert len(full) > len(tok)
    assert [t for t in texts if unk in full(t, add_special_tokens=False)["input_ids"]] == []


def test_the_base_vocabulary_alone_would_lose_characters():
    base = load_tokenizer(ModelSpec(add_chinese_chars=False))
    ids = base("北京市朝阳区望京街道123号院5号楼", add_special_tokens=False)["input_ids"]
    assert ids.count(base.unk_token_id) >= 4  # 市 阳 望 号 院 楼 are not in MiniLM's vocabulary


def test_digits_are_single_tokens(tok):
    pieces = tok.tokenize("邮编:100102")
    assert pieces[-6:] == list("100102")


def test_encoder_template_reads_like_a_sentence_pair(tok):
    ids = encode_conversation(tok, conversation("张三,北京市", "正确"), max_len=64)
    assert tok.convert_ids_to_tokens(ids)[0] == "[CLS]"
    assert tok.decode(ids).replace(" ", "") == "[CLS]张三,北京市[SEP]正确[SEP]"


def test_long_records_keep_their_answer(tok):
    long_text = "北京市朝阳区" * 100
    ids = encode_conversation(tok, conversation(long_text, "错误"), max_len=32)
    assert len(ids) == 32
    assert tok.decode(ids[-3:]).replace(" ", "") == "错误[SEP]"
    assert ids[0] == tok.cls_token_id
