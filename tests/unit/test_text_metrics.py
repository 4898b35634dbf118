"""BLEU-4 and ROUGE-1/2/L against hand-computed values (and nltk when it happens to be installed)."""

import math

import pytest

from rayscore.eval.text import corpus_bleu, ngrams, rouge_l, rouge_n, sentence_bleu, text_scores, tokenize

HYP = "the cat sat on the mat".split()
REF = "the cat is on the mat".split()
# By hand: unigrams 5/6 (the x2, cat, on, mat), bigrams 3/5 (the cat, on the, the mat),
# trigrams 1/4 (on the mat), 4-grams 0/3; equal lengths, so the brevity penalty is 1.


def test_tokenize_chinese_by_character_and_english_by_word():
    assert tokenize("我喜欢Python 3.11编程！Hello, World.") == [
        "我", "喜", "欢", "python", "3", "11", "编", "程", "hello", "world"]
    assert tokenize("  ，。！  ") == []
    assert tokenize("ＧＰＴ４很强") == ["gpt4", "很", "强"]
    assert tokenize("日本語とかな、한국어") == ["日", "本", "語", "と", "か", "な", "한", "국", "어"]


def test_tokenize_jieba_words():
    words = tokenize("我喜欢自然语言处理。", tokenizer="jieba")
    assert "喜欢" in words and "。" not in words
    assert "".join(words) == "我喜欢自然语言处理"
    with pytest.raises(ValueError):
        tokenize("x", tokenizer="bpe")


def test_ngrams():
    assert ngrams(["a", "b", "a", "b"], 2) == {("a", "b"): 2, ("b", "a"): 1}
    assert ngrams(["a"], 2) == {}


def test_bleu_without_smoothing_is_zero_when_a_4gram_precision_is():
    bleu = sentence_bleu([REF], HYP, smoothing="none")
    assert bleu.precisions == pytest.approx((5 / 6, 3 / 5, 1 / 4, 0.0))
    assert bleu.score == 0.0 and bleu.brevity_penalty == 1.0


def test_bleu_epsilon_and_add1_smoothing_by_hand():
    eps = sentence_bleu([REF], HYP, smoothing="epsilon")
    assert eps.score == pytest.approx(math.exp((math.log(5 / 6) + math.log(3 / 5) + math.log(1 / 4)
                                                + math.log(0.1 / 3)) / 4))
    add1 = sentence_bleu([REF], HYP, smoothing="add1")
    assert add1.precisions == pytest.approx((5 / 6, 4 / 6, 2 / 5, 1 / 4))
    assert add1.score == pytest.approx((5 / 6 * 4 / 6 * 2 / 5 * 1 / 4) ** 0.25)


def test_bleu_perfect_match_and_brevity_penalty():
    assert sentence_bleu([REF], REF).score == pytest.approx(1.0)
    short = corpus_bleu([[list("abcdef")]], [list("abcd")])
    assert short.brevity_penalty == pytest.approx(math.exp(1 - 6 / 4))
    assert short.score == pytest.approx(math.exp(-0.5))
    assert corpus_bleu([[REF]], [[]]).score == 0.0


def test_bleu_clips_counts_by_the_most_generous_reference():
    bleu = corpus_bleu([[["the", "cat"], ["the", "the", "dog"]]], [["the", "the", "the", "the"]], max_n=1)
    assert bleu.precisions == (2 / 4,)


def test_bleu_picks_the_closest_reference_length_shorter_on_ties():
    refs = [list("abc"), list("abcdefg")]
    bleu = corpus_bleu([refs], [list("abcde")], max_n=1)
    assert bleu.ref_len == 3 and bleu.brevity_penalty == 1.0


def test_corpus_bleu_sums_counts_before_dividing():
    refs = [[REF], [list("abcd")]]
    hyps = [HYP, list("abcd")]
    bleu = corpus_bleu(refs, hyps)
    # (5+4)/(6+4), (3+3)/(5+3), (1+2)/(4+2), (0+1)/(3+1)
    assert bleu.precisions == pytest.approx((9 / 10, 6 / 8, 3 / 6, 1 / 4))
    assert bleu.score == pytest.approx((9 / 10 * 6 / 8 * 3 / 6 * 1 / 4) ** 0.25)
    assert bleu.score > 0 and sentence_bleu([REF], HYP, smoothing="none").score == 0


def test_bleu_against_nltk_if_installed():
    nltk_bleu = pytest.importorskip("nltk.translate.bleu_score")
    refs = [[REF], [list("abcd")], [list("我喜欢吃苹果"), list("我爱吃苹果")]]
    hyps = [HYP, list("abcd"), list("我很爱吃苹果")]
    assert corpus_bleu(refs, hyps).score == pytest.approx(nltk_bleu.corpus_bleu(refs, hyps))


def test_rouge_chinese_by_hand():
    hyp, ref = tokenize("我喜欢吃苹果"), tokenize("我爱吃苹果")
    r1 = rouge_n([ref], hyp, 1)  # overlap 我 吃 苹 果: P 4/6, R 4/5
    assert (r1.precision, r1.recall) == pytest.approx((4 / 6, 4 / 5))
    assert r1.f1 == pytest.approx(2 * (4 / 6) * (4 / 5) / (4 / 6 + 4 / 5))
    r2 = rouge_n([ref], hyp, 2)  # overlap 吃苹 苹果: P 2/5, R 2/4
    assert r2.f1 == pytest.approx(2 * 0.4 * 0.5 / 0.9)
    rl = rouge_l([ref], hyp)  # LCS 我吃苹果 = 4
    assert (rl.precision, rl.recall) == pytest.approx((4 / 6, 4 / 5))


def test_rouge_l_is_a_subsequence_not_a_substring():
    assert rouge_l([list("abcde")], list("axbxcxdxe")).recall == pytest.approx(1.0)
    assert rouge_l([list("abc")], list("cba")).f1 == pytest.approx(1 / 3)
    assert rouge_n([list("abc")], list("xyz"), 1).f1 == 0.0


def test_rouge_takes_the_best_reference():
    refs = [list("完全不同"), list("我爱吃苹果")]
    assert rouge_n(refs, list("我爱吃苹果"), 2).f1 == pytest.approx(1.0)


def test_text_scores_char_and_jieba():
    preds = ["我喜欢吃苹果", "今天天气很好"]
    refs = ["我爱吃苹果", ["今天天气很好", "天气不错"]]
    out = text_scores(preds, refs)
    r1_first = 2 * (4 / 6) * (4 / 5) / (4 / 6 + 4 / 5)
    assert out["rouge1"] == pytest.approx((r1_first + 1.0) / 2)
    assert out["rougeL"] == pytest.approx((r1_first + 1.0) / 2)
    assert 0 < out["bleu4"] < 1 and out["n"] == 2
    words = text_scores(preds, refs, tokenizer="jieba")
    assert words["tokenizer"] == "jieba" and words["rouge1"] != out["rouge1"]
    with pytest.raises(ValueError):
        text_scores(preds, refs[:1])
