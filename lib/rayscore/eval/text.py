"""BLEU-4 and ROUGE-1/2/L for Chinese and English generations.

    from rayscore.eval.text import text_scores, tokenize, corpus_bleu, rouge_n, rouge_l
    text_scores(predictions, references)               # {"bleu4": ..., "rouge1": ..., ...}
    text_scores(predictions, references, tokenizer="jieba")
    corpus_bleu([[tokenize(r)] for r in refs], [tokenize(h) for h in hyps]).score

Tokenisation: Chinese (any CJK ideograph, kana or hangul) is split into characters, the usual
choice in Chinese generation contests; with tokenizer="jieba" into jieba words instead.
Latin text is split into lower-cased words and numbers; punctuation is dropped; text is
NFKC-normalised first (full-width letters and digits read as ASCII).
BLEU follows Papineni et al. (2002): clipped n-gram precisions up to 4-grams, uniform weights,
the brevity penalty against the reference closest in length (the shorter one on a tie), as
nltk's corpus_bleu does. ROUGE-N and ROUGE-L are F1 (beta = 1) of n-gram overlap and of the
longest common subsequence (Lin, 2004); with several references the best one counts.
These reward word overlap, so they fail on creative writing, where good answers share few words
with any one reference; a judge's score is the better measure there. They stay useful on short,
factual outputs.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["Bleu", "Rouge", "tokenize", "ngrams", "corpus_bleu", "sentence_bleu", "rouge_n", "rouge_l",
           "text_scores"]

Tokenizer = Literal["char", "jieba"]
Smoothing = Literal["none", "epsilon", "add1"]

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+", re.UNICODE)
_WORD = re.compile(r"[^\W_]", re.UNICODE)


@dataclass(frozen=True)
class Bleu:
    score: float
    precisions: tuple[float, ...]
    """Modified n-gram precisions p_1..p_N (after smoothing)."""
    brevity_penalty: float
    hyp_len: int
    ref_len: int


@dataclass(frozen=True)
class Rouge:
    precision: float
    recall: float
    f1: float


def tokenize(text: str, tokenizer: Tokenizer = "char") -> list[str]:
    """Tokens of `text`: CJK characters one by one ("char") or jieba words ("jieba"), Latin
    words and numbers whole and lower-cased, punctuation and whitespace dropped."""
    text = unicodedata.normalize("NFKC", text or "")  # full-width Ａ１ and ASCII A1 are one token
    if tokenizer == "char":
        return [t.lower() for t in _TOKEN.findall(text)]
    if tokenizer == "jieba":
        return [t.lower() for t in _jieba_words(text) if _WORD.search(t)]
    raise ValueError(f"tokenizer must be 'char' or 'jieba', got {tokenizer!r}")


def ngrams(tokens: Sequence[str], n: int) -> Counter:
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def corpus_bleu(references: Sequence[Sequence[Sequence[str]]], hypotheses: Sequence[Sequence[str]],
                max_n: int = 4, smoothing: Smoothing = "none") -> Bleu:
    """Corpus BLEU: `references[i]` is a list of token lists for `hypotheses[i]`.

    Counts are summed over the corpus before dividing (not an average of sentence BLEUs).
    smoothing: "none" (any zero precision makes BLEU 0), "epsilon" (a zero count becomes 0.1,
    nltk's method1), "add1" (add one to matches and totals for n >= 2, Lin & Och 2004, nltk's
    method2).
    """
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} reference sets for {len(hypotheses)} hypotheses")
    matches, totals = [0] * max_n, [0] * max_n
    hyp_len = ref_len = 0
    for refs, hyp in zip(references, hypotheses):
        if not refs:
            raise ValueError("every hypothesis needs at least one reference")
        hyp_len += len(hyp)
        ref_len += _closest_ref_len(refs, len(hyp))
        for n in range(1, max_n + 1):
            hyp_counts = ngrams(hyp, n)
            max_ref: Counter = Counter()
            for ref in refs:
                max_ref |= ngrams(ref, n)
            matches[n - 1] += sum(min(c, max_ref[g]) for g, c in hyp_counts.items())
            totals[n - 1] += max(len(hyp) - n + 1, 0)
    precisions = _smoothed_precisions(matches, totals, smoothing)
    bp = _brevity_penalty(hyp_len, ref_len)
    if hyp_len == 0 or min(precisions) == 0:
        return Bleu(0.0, tuple(precisions), bp, hyp_len, ref_len)
    score = bp * math.exp(sum(math.log(p) for p in precisions) / max_n)
    return Bleu(score, tuple(precisions), bp, hyp_len, ref_len)


def sentence_bleu(references: Sequence[Sequence[str]], hypothesis: Sequence[str], max_n: int = 4,
                  smoothing: Smoothing = "epsilon") -> Bleu:
    """BLEU of one hypothesis. Smoothed by default: short sentences often miss every 4-gram."""
    return corpus_bleu([references], [hypothesis], max_n=max_n, smoothing=smoothing)


def rouge_n(references: Sequence[Sequence[str]], hypothesis: Sequence[str], n: int) -> Rouge:
    """ROUGE-N: clipped n-gram overlap; precision over the hypothesis' n-grams, recall over the
    reference's; the reference with the best F1 counts."""
    hyp = ngrams(hypothesis, n)
    return _best([_prf(sum((hyp & ngrams(ref, n)).values()), sum(hyp.values()), max(len(ref) - n + 1, 0))
                  for ref in references])


def rouge_l(references: Sequence[Sequence[str]], hypothesis: Sequence[str]) -> Rouge:
    """ROUGE-L: LCS length over hypothesis length (precision) and reference length (recall)."""
    return _best([_prf(_lcs_length(ref, hypothesis), len(hypothesis), len(ref)) for ref in references])


def text_scores(predictions: Sequence[str], references: Sequence[str | Sequence[str]],
                tokenizer: Tokenizer = "char", smoothing: Smoothing = "none") -> dict:
    """Corpus BLEU-4 and mean sentence ROUGE-1/2/L F1 of predictions against references
    (one string, or a list of strings, per prediction)."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    hyps = [tokenize(p or "", tokenizer) for p in predictions]
    refs = [[tokenize(r, tokenizer) for r in ([ref] if isinstance(ref, str) else ref)] for ref in references]
    n = len(hyps)
    out = {"n": n, "tokenizer": tokenizer}
    if n == 0:
        return {**out, "bleu4": None, "rouge1": None, "rouge2": None, "rougeL": None}
    out["bleu4"] = corpus_bleu(refs, hyps, max_n=4, smoothing=smoothing).score
    out["rouge1"] = sum(rouge_n(r, h, 1).f1 for r, h in zip(refs, hyps)) / n
    out["rouge2"] = sum(rouge_n(r, h, 2).f1 for r, h in zip(refs, hyps)) / n
    out["rougeL"] = sum(rouge_l(r, h).f1 for r, h in zip(refs, hyps)) / n
    return out


# --- internals ------------------------------------------------------------------------------------

def _jieba_words(text: str) -> list[str]:
    import jieba

    # jieba announces building its dictionary on its own logger at DEBUG/INFO on first use.
    jieba.setLogLevel(logging.WARNING)
    return jieba.lcut(text)


def _closest_ref_len(refs: Sequence[Sequence[str]], hyp_len: int) -> int:
    return min((len(r) for r in refs), key=lambda r: (abs(r - hyp_len), r))


def _brevity_penalty(hyp_len: int, ref_len: int) -> float:
    if hyp_len == 0:
        return 0.0
    return 1.0 if hyp_len > ref_len else math.exp(1 - ref_len / hyp_len)


def _smoothed_precisions(matches: list[int], totals: list[int], smoothing: Smoothing) -> list[float]:
    if smoothing not in ("none", "epsilon", "add1"):
        raise ValueError(f"smoothing must be 'none', 'epsilon' or 'add1', got {smoothing!r}")
    out = []
    for i, (m, t) in enumerate(zip(matches, totals)):
        t = max(t, 1)  # as nltk: a hypothesis shorter than n has precision 0/1, not 0/0
        if smoothing == "add1" and i > 0:
            out.append((m + 1) / (t + 1))
        elif m == 0 and smoothing == "epsilon":
            out.append(0.1 / t)
        else:
            out.append(m / t)
    return out


def _prf(overlap: int, hyp_total: int, ref_total: int) -> Rouge:
    precision = overlap / hyp_total if hyp_total else 0.0
    recall = overlap / ref_total if ref_total else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Rouge(precision, recall, f1)


def _best(scores: list[Rouge]) -> Rouge:
    if not scores:
        raise ValueError("need at least one reference")
    return max(scores, key=lambda s: s.f1)


def _lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, start=1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]
