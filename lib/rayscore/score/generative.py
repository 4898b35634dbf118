"""The generative score reader: a causal LM that answers a prompt with a score ("9.7"), read as a
number from its digit-token probabilities, and optionally from its greedy answer.

    scorer = build_scorer(ScorerSpec(kind="generative", model_dir="out/sft/model", greedy=True))
    scorer.score(pd.DataFrame({"prompt": ["游戏厂商中的R星你能打几颗星:"]}))
    # -> expected_score, digit_mass, answer, greedy_score, parse_ok

    # the same readings on a model already in memory (what SFT evaluation calls):
    model, tok = load_causal_lm("out/sft/model")            # rayscore.models
    readings = read_expected(model, tok, prompts, batch_size=16, score_max=10)   # .scores .digit_mass .integer
    answers = greedy_answers(model, tok, prompts, batch_size=16, max_new_tokens=8)
    greedy, parse_ok = parse_answers(answers, score_max=10)

Answers are scores written as text: an integer part 0..10 and an optional one-digit decimal
(`9.7`, `10.0`, `8`), every character its own token (digits "0".."9" and "." must be single
tokens: `digit_token_ids` checks). Each prompt goes through the tokenizer's chat template as a
user turn, exactly as SFT training rendered it (`answer_context`).

Expected score, exactly (two forward passes per batch; no parsing, so it never fails):
  q(d)  = P(first answer token = digit d), over the ten digit tokens, renormalised; the raw sum
          is `digit_mass` (a model that declines to rate puts little mass on digits);
  r10   = P("0" | first token "1"): the share of a leading "1" that goes on to mean 10;
  P(I=k) = q(k) for k = 0, 2..9;  P(I=1) = q(1)(1 - r10);  P(I=10) = q(1) r10;
          restricted to k <= score_max and renormalised;  Î = argmax_k P(I=k);
  p.    = P("." | the answer so far is Î);  t(j) = P(tenths digit j | "Î."), renormalised;
  expected_score = sum_k k P(I=k) + 0.1 p. sum_j j t(j), clipped to [0, score_max].
The integer part is a full expectation, the 9-or-10 boundary included; the decimal is read after
the most likely integer (one more pass instead of eleven) and weighted by p., so a model trained
on integer answers (`8`) adds nothing after the point.
Greedy: up to max_new_tokens greedy tokens (rayscore.inference.greedy_generate), read by parse_score within
[0, score_max]; an answer that holds no score (`我无法评价…`) gets parse_ok False and a null
greedy_score — never 0.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rayscore.eval.judge_text import parse_score
from rayscore.inference import autocast, greedy_generate, pick_device, prepare_model, resolve_precision
from rayscore.models import load_causal_lm, model_fingerprint
from rayscore.score.contract import Scorer

logger = logging.getLogger(__name__)

ANSWER_PROBE = "5.5"
"""An answer rendered only to find where answers start in the chat template."""
TEN = 10
"""The one two-digit integer part an answer may have (read as "1" then "0")."""


@dataclass
class ExpectedScores:
    """What the digit probabilities say, one entry per prompt."""

    scores: np.ndarray
    """The expected score (module docstring)."""
    digit_mass: np.ndarray
    """Raw probability of any digit where the answer starts."""
    integer: np.ndarray
    """Î, the most likely integer part."""
    cut: np.ndarray | None = None
    """Whether the prompt's context was cut to max_seq_len (its start dropped)."""


@dataclass
class AnswerContext:
    """Token ids of a prompt as training saw it: up to the answer, and up to its first digit."""

    generation: list[int]
    digits: list[int]


class GenerativeScorer(Scorer):
    """expected_score and digit_mass of each prompt; with spec.greedy also answer, greedy_score
    (null when unparseable) and parse_ok."""

    nullable_columns = ("greedy_score",)
    """Float outputs whose NaN is a value (the greedy answer did not parse), not a failed score."""

    def __init__(self, spec, device: str | None = None):
        if spec.score_max > TEN:
            raise ValueError(f"score_max: answers are 0..10 with one decimal, got score_max={spec.score_max}")
        self.spec = spec
        self.device = pick_device(device)
        self.dtype, why = resolve_precision(spec.dtype, self.device)
        self.precision = f"{self.dtype} ({why})"
        model, tok = load_causal_lm(spec.model_dir, self.dtype)
        if not tok.chat_template:
            raise ValueError(f"model_dir: the tokenizer at {spec.model_dir} has no chat template; the prompt "
                             "must be rendered as in training")
        digit_token_ids(tok)  # fail at load, not mid-job, when digits are not single tokens
        self.tok, self.model = tok, prepare_model(model, self.dtype, self.device)
        self.fingerprint = model_fingerprint(spec.model_dir)
        self.input_columns = tuple(spec.input_columns())
        self.output_columns = spec.output_columns()
        self.truncated_rows = 0
        """Rows whose prompt was cut to max_seq_len tokens, over every score() call."""

    def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        spec = self.spec
        prompts = [str(p) for p in frame[spec.prompt_column]]
        with autocast(self.dtype, self.device):
            readings = read_expected(self.model, self.tok, prompts, spec.batch_size, spec.score_max, spec.max_seq_len)
            out = {"expected_score": readings.scores, "digit_mass": readings.digit_mass}
            self.truncated_rows += int(readings.cut.sum())
            if spec.greedy:
                answers = greedy_answers(self.model, self.tok, prompts, spec.batch_size, spec.max_new_tokens,
                                         spec.max_seq_len)
                greedy, parse_ok = parse_answers(answers, spec.score_max)
                out.update(answer=answers, greedy_score=greedy, parse_ok=parse_ok)
        return pd.DataFrame(out, index=frame.index)


def expected_from_probs(q_first: np.ndarray, r10: np.ndarray, p_dot: np.ndarray, tenths: np.ndarray,
                        score_max: float = 10.0) -> np.ndarray:
    """The expected score from its parts (module docstring): q_first [n, 10] first-digit
    probabilities (renormalised), r10 [n], and p_dot [n] and tenths [n, 10] (renormalised) as
    read after the most likely integer part."""
    p_int = integer_distribution(q_first, r10, score_max)
    values = np.arange(TEN + 1, dtype=np.float64)
    score = p_int @ values + 0.1 * p_dot * (tenths @ values[:10])
    return np.clip(score, 0.0, score_max)


def integer_distribution(q_first: np.ndarray, r10: np.ndarray, score_max: float = 10.0) -> np.ndarray:
    """P(I = k), k = 0..10 [n, 11], from the first-digit distribution and r10, within score_max."""
    q = np.asarray(q_first, dtype=np.float64)
    p_int = np.concatenate([q, (q[:, 1] * r10)[:, None]], axis=1)
    p_int[:, 1] = q[:, 1] * (1 - r10)
    p_int = p_int * (np.arange(TEN + 1) <= score_max)
    return p_int / np.clip(p_int.sum(-1, keepdims=True), 1e-30, None)


def read_expected(model, tok, prompts: list[str], batch_size: int = 16, score_max: float = 10.0,
                  max_seq_len: int | None = None) -> ExpectedScores:
    """Expected scores of the prompts (module docstring), in input order."""
    import torch

    ids = digit_token_ids(tok)
    digit_ids = [ids[str(d)] for d in range(10)]
    full = [answer_context(tok, p).digits for p in prompts]
    contexts = [_cut(c, max_seq_len) for c in full]
    cut = np.array([len(c) != len(f) for c, f in zip(contexts, full)], dtype=bool)
    scores, mass, integer = np.empty(len(prompts)), np.empty(len(prompts)), np.zeros(len(prompts), dtype=int)
    with torch.inference_mode():
        for idx in _batches(contexts, batch_size):
            # Pass 1, context + "1": the first digit, and whether a "1" starts a 10.
            q1, after_one = _next_token_probs(model, tok, [contexts[i] + [ids["1"]] for i in idx],
                                              [len(contexts[i]) - 1 for i in idx], offsets=(0, 1))
            digits = q1[:, digit_ids]
            mass[idx] = digits.sum(-1)
            q = digits / np.clip(digits.sum(-1, keepdims=True), 1e-30, None)
            r10 = after_one[:, ids["0"]]
            best = integer_distribution(q, r10, score_max).argmax(-1)
            # Pass 2, context + Î + ".": is there a decimal, and which tenths digit.
            forced = [[ids[c] for c in str(int(k))] + [ids["."]] for k in best]
            after_int, after_dot = _next_token_probs(
                model, tok, [contexts[i] + f for i, f in zip(idx, forced)],
                [len(contexts[i]) + len(f) - 2 for i, f in zip(idx, forced)], offsets=(0, 1))
            tenths = after_dot[:, digit_ids]
            tenths = tenths / np.clip(tenths.sum(-1, keepdims=True), 1e-30, None)
            scores[idx] = expected_from_probs(q, r10, after_int[:, ids["."]], tenths, score_max)
            integer[idx] = best
    return ExpectedScores(scores, mass, integer, cut)


def expected_scores(model, tok, prompts: list[str], batch_size: int = 16, score_max: float = 10.0) -> np.ndarray:
    """Just the expected scores (read_expected(...).scores)."""
    return read_expected(model, tok, prompts, batch_size, score_max).scores


def greedy_answers(model, tok, prompts: list[str], batch_size: int = 16, max_new_tokens: int = 16,
                   max_seq_len: int | None = None) -> list[str]:
    """Greedy continuations (special tokens dropped, stripped), in input order."""
    contexts = [_cut(answer_context(tok, p).generation, max_seq_len) for p in prompts]
    return [g.text.strip() for g in greedy_generate(model, tok, contexts, batch_size, max_new_tokens)]


def parse_answers(answers: list[str], score_max: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """(score with NaN where unreadable, parse_ok) of each answer."""
    parsed = [parse_score(a, valid_range=(0, score_max)) for a in answers]
    scores = np.array([p.score if p.parse_ok else np.nan for p in parsed], dtype=float)
    return scores, np.array([p.parse_ok for p in parsed], dtype=bool)


def answer_context(tok, prompt: str) -> AnswerContext:
    """Where the answer starts, found the way TRL's SFTTrainer finds the completion: the
    conversation with a probe answer parts from the prompt rendered with the generation prompt
    there. `generation` = ids before the answer, `digits` = ids before its first digit (templates
    may put a space or a think block in between)."""
    user = [{"role": "user", "content": prompt}]
    alone = _chat_ids(tok, user, add_generation_prompt=True)
    full = _chat_ids(tok, user + [{"role": "assistant", "content": ANSWER_PROBE}])
    start = 0
    while start < min(len(alone), len(full)) and alone[start] == full[start]:
        start += 1
    first_digit = digit_token_ids(tok)[ANSWER_PROBE[0]]
    try:
        at = full.index(first_digit, start)
    except ValueError:
        raise ValueError(f"cannot find the answer {ANSWER_PROBE!r} in the chat template's rendering "
                         f"{tok.decode(full)!r}: the expected score needs digits as tokens") from None
    return AnswerContext(generation=full[:start], digits=full[:at])


def digit_token_ids(tok) -> dict[str, int]:
    """Token id of each of "0".."9" and "." (a byte-level or SentencePiece tokenizer may put a
    space token before a lone character; the character's own token is the last one)."""
    ids = {}
    for char in "0123456789.":
        encoded = tok.encode(char, add_special_tokens=False)
        if not encoded or tok.decode(encoded[-1:]).strip() != char:
            raise ValueError(f"the tokenizer has no single token for {char!r} (got {encoded}); the "
                             f"expected score needs one token per digit")
        ids[char] = encoded[-1]
    return ids


# --- internals -------------------------------------------------------------------------------

def _chat_ids(tok, messages: list[dict], add_generation_prompt: bool = False) -> list[int]:
    # The call TRL's SFTTrainer makes, so the ids match training's.
    out = tok.apply_chat_template(messages, tokenize=True, return_dict=True,
                                  add_generation_prompt=add_generation_prompt)
    return list(out["input_ids"])


def _cut(ids: list[int], max_len: int | None) -> list[int]:
    """Keep the end (the answer position) of an over-long context; the prompt's start is cut."""
    return ids if not max_len or len(ids) <= max_len - 3 else ids[len(ids) - (max_len - 3):]


def _next_token_probs(model, tok, sequences: list[list[int]], positions: list[int], offsets: tuple[int, ...]):
    """Next-token probabilities (float64 numpy) at positions[i] + offset of each sequence, one
    [batch, vocab] array per offset. Right padding: positions stay as they are."""
    import torch

    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    width = max(len(s) for s in sequences)
    input_ids = torch.tensor([s + [pad] * (width - len(s)) for s in sequences], dtype=torch.long)
    mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in sequences], dtype=torch.long)
    device = next(model.parameters()).device
    logits = model(input_ids=input_ids.to(device), attention_mask=mask.to(device)).logits
    rows = torch.arange(len(sequences), device=logits.device)
    at = torch.tensor(positions, device=logits.device)
    return tuple(torch.softmax(logits[rows, at + k].double(), dim=-1).cpu().numpy() for k in offsets)


def _batches(contexts: list[list[int]], batch_size: int):
    """Index arrays of similar-length contexts (less padding), covering every input once."""
    order = np.argsort([len(c) for c in contexts], kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start:start + batch_size]
