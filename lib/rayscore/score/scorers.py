"""Scorers: a trained model plus how its inputs are formatted and its outputs read.

    scorer = build_scorer(ScorerSpec(kind="quality", model_dir="out/model"))
    scored = scorer.score(frame)      # frame has scorer.input_columns; returns scorer.output_columns
    scorer.fingerprint                # the model's identity (weights, config, tokenizer)

The same objects run inside `score_batch`'s actor pool, behind Ray Serve, and in evaluation:
there is no second implementation of inference anywhere. What each kind reads is declared once,
in KIND_FIELDS (score_batch's input columns, serve's request fields). Kinds and what they write:

- reward:     prompt + response (text columns) or one conversation column -> reward
- pair:       [prompt +] chosen / rejected -> reward_chosen, reward_rejected, margin,
              p_chosen = sigmoid(margin) (Bradley-Terry), preferred (chosen | rejected | tie)
- quality:    a record -> reward_correct, reward_wrong (the record answered 正确 / 错误),
              p_correct = sigmoid((reward_correct - reward_wrong) / T), label (正确, 错误 or 待审)
              and decided_by (check | model): a failed certain check makes it 错误, else the
              model's operating points decide (QualityScorer); T and the operating points are the
              model's calibration (fitted on held-out records at training), or one threshold set
              here or chosen on a labelled set (`threshold_from`)
- classifier: a text -> score (a regressor's output, or a classifier's expected class value
              sum_i p_i * i over classes 0..N-1), and for classifiers predicted_class (argmax) and
              probabilities (softmax, one per class); label = 1 if score >= threshold else 0, the
              threshold being this spec's or the one train_classifier saved with the model
- generative: a prompt -> expected_score, digit_mass from the digit-token probabilities of a
              causal LM, and with `greedy: true` also answer, greedy_score, parse_ok
              (generative.py has the exact definition)

A conversation column holds a list of {role, content} messages ending with the assistant turn
(the ultrafeedback_binarized shape); text columns are wrapped as [user: prompt, assistant: answer].

A reward model trained with a check set (rayscore.checks) reads the checks' observations after
its user turn and is scored with that same set, verified against the copy saved with the model;
its scorers also write `check_flags`, the checks that failed on each row.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd

from rayscore.checks import certain_failures, observe, observe_conversations, resolve_check_set, saved_check_ref
from rayscore.config import range_problems
from rayscore.data.labels import as_conversation
from rayscore.data.pairs import CORRECT, WRONG, conversation
from rayscore.data.preferences import to_messages
from rayscore.eval.operating_points import outcome
from rayscore.models import load_calibration, load_scorer, model_fingerprint
from rayscore.score.contract import Scorer
from rayscore.score.runner import PRECISIONS, Precision, RewardRunner
from rayscore.score.thresholds import ThresholdSpec, choose_threshold

logger = logging.getLogger(__name__)

ScorerKind = Literal["quality", "reward", "pair", "classifier", "generative"]


@dataclass(frozen=True)
class KindFields:
    """The fields a scorer kind reads: required, then optional (read when given). Field `f` is
    read from the input column the spec names in `<f>_column` (text -> text_column); serve's
    request items carry the fields under their own names."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


# The one declaration of what each kind reads: score_batch's input columns, serve's request fields.
KIND_FIELDS: dict[str, KindFields] = {
    "quality": KindFields(("text",)),
    "reward": KindFields(("prompt", "response")),
    "pair": KindFields(("chosen", "rejected"), optional=("prompt",)),
    "classifier": KindFields(("text",)),
    "generative": KindFields(("prompt",)),
}
KINDS = tuple(KIND_FIELDS)
MESSAGES_FIELDS = KindFields(("messages",))
"""What a reward spec with messages_column reads instead: one conversation per row."""


@dataclass
class ScorerSpec:
    """Which scorer, which model, and how it runs."""

    kind: ScorerKind = "quality"
    """quality | reward | pair | classifier | generative (module docstring)."""
    model_dir: str = ""
    """A trained model directory (train_reward's <output_dir>/model; a causal LM dir for generative)."""
    text_column: str = "text"
    """quality, classifier: the column holding the text."""
    prompt_column: str = "prompt"
    """reward, pair, generative: the user turn (pair: optional when chosen/rejected are conversations)."""
    response_column: str = "response"
    """reward: the assistant turn to score."""
    messages_column: str | None = None
    """reward: a column of whole conversations to score instead of prompt_column + response_column."""
    chosen_column: str = "chosen"
    """pair: the first response (text, or a conversation ending with it)."""
    rejected_column: str = "rejected"
    """pair: the second response."""
    threshold: float | None = None
    """quality: p_correct at or above this is labelled 正确; classifier: a score at or above it is labelled
    1; null = the model's own threshold (else 0.5)."""
    threshold_from: ThresholdSpec = field(default_factory=ThresholdSpec)
    """quality: choose `threshold` on a labelled validation set (path, target_precision | best_f1)."""
    greedy: bool = False
    """generative: also decode the greedy answer and parse it (answer, greedy_score, parse_ok)."""
    max_new_tokens: int = 8
    """generative: longest greedy answer, in tokens."""
    score_max: float = 10.0
    """generative: scores lie in [0, score_max]; parsed answers outside it are unparseable."""
    batch_size: int = 128
    """Sequences per forward pass (sorted by length within each chunk)."""
    max_seq_len: int = 128
    """Tokens per sequence; longer conversations are cut at the front, the answer kept."""
    dtype: Precision = "float32"
    """float32 | bfloat16 / float16 autocast | int8 (dynamic quantization, CPU); generative also loads its
    weights in bf16/fp16."""
    torch_threads: int = 0
    """Intra-op threads per scorer; 0 = the CPUs given to the actor."""
    checks: str | None = None
    """Check set (module:attribute) the model must have been trained with; null = the model's own
    (checks.json), if any."""

    def check(self) -> list[str]:
        problems = []
        if not self.model_dir:
            problems.append("model_dir: required (a trained model directory)")
        if self.kind == "quality":   # other kinds' thresholds are on their own scale
            problems += range_problems(self, threshold="[0, 1]")
        problems += range_problems(self, batch_size=">= 1", max_seq_len=">= 8")
        if self.dtype not in PRECISIONS:
            problems.append(f"dtype: must be one of {PRECISIONS}, got {self.dtype!r}")
        if self.checks and self.kind == "generative":
            problems.append("checks: generative scorers read no check observations; remove scorer.checks")
        if self.threshold_from.path and self.kind != "quality":
            problems.append(f"threshold_from: only the quality scorer has a threshold, kind is {self.kind!r}")
        problems += range_problems(self, max_new_tokens=">= 1", score_max="(0, 10]")   # answers: 0..10, one decimal
        return problems

    def fields(self) -> KindFields:
        """The fields this spec reads: its kind's (KIND_FIELDS), or one conversation for a reward
        spec with messages_column."""
        if self.kind == "reward" and self.messages_column:
            return MESSAGES_FIELDS
        return KIND_FIELDS[self.kind]

    def column(self, name: str) -> str:
        """The input column holding field `name` (the spec's `<name>_column`)."""
        return getattr(self, f"{name}_column")   # the spec names a field's column `<field>_column`

    def input_columns(self) -> list[str]:
        """Columns every input row needs (validated; a file without one fails the job)."""
        return [self.column(name) for name in self.fields().required]

    def optional_columns(self) -> list[str]:
        """Columns read (and validated) when the input has them."""
        return [self.column(name) for name in self.fields().optional]

    def output_columns(self) -> tuple[str, ...]:
        """The columns score() returns (the scorer's `output_columns`), known without loading the model."""
        columns = {"quality": ("reward_correct", "reward_wrong", "p_correct", "label", "decided_by"),
                   "reward": ("reward",),
                   "pair": ("reward_chosen", "reward_rejected", "margin", "p_chosen", "preferred"),
                   "classifier": ("score",) + (("predicted_class", "probabilities") if self.classes() else ()) + (
                       "label",),
                   "generative": ("expected_score", "digit_mass") + (
                       ("answer", "greedy_score", "parse_ok") if self.greedy else ())}[self.kind]
        return columns + (("check_flags",) if self.has_checks() else ())

    def classes(self) -> bool:
        """classifier: whether the model has classes (True) or is a regressor with one output,
        read from its saved config (True while there is no model to read)."""
        import json

        from rayscore.models import scorer_path

        try:
            config = json.loads((scorer_path(self.model_dir) / "config.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return True
        return config.get("problem_type") != "regression" and len(config.get("id2label", {0: 0, 1: 1})) > 1

    def has_checks(self) -> bool:
        return self.kind != "generative" and bool(self.checks or (self.model_dir and saved_check_ref(self.model_dir)))

    def identity(self) -> dict:
        """What changes a row's output (score_batch's fingerprint): every setting but the speed
        knobs, and the model's fingerprint. A spec of another kind (the judge's) says its own."""
        settings = {k: v for k, v in asdict(self).items() if k not in ("batch_size", "torch_threads")}
        return settings | {"model": model_fingerprint(self.model_dir)}

    def build(self, device: str | None = None) -> Scorer:
        """The scorer this spec describes (build_scorer)."""
        return build_scorer(self, device)


# --- reward-model scorers ---------------------------------------------------------------------

class _RewardModelScorer(Scorer):
    """Loads a trained reward model once, with its check set and calibration; `rewards` is the
    one forward path."""

    def __init__(self, spec: ScorerSpec, device: str | None = None):
        self.checks_ref, self.checks = resolve_check_set(spec.model_dir, spec.checks)
        model, tok = load_scorer(spec.model_dir)
        self.spec = spec
        self.calibration = load_calibration(spec.model_dir)
        self.temperature = float(self.calibration.get("temperature", 1.0))
        self.runner = RewardRunner(model, tok, spec.max_seq_len, spec.batch_size, spec.dtype, device)
        self.precision = f"{self.runner.dtype} ({self.runner.precision_reason})"
        self.fingerprint = model_fingerprint(spec.model_dir)
        self.input_columns = tuple(spec.input_columns())
        self.output_columns = spec.output_columns()
        self.truncated_rows = 0
        """Rows with a sequence cut to max_seq_len tokens, over every score() call."""

    def rewards(self, conversations: list[list[dict]], rows: int | None = None) -> np.ndarray:
        """The conversations' rewards; they are `rows` rows' sequences laid end to end (quality and
        pair score two per row: all firsts, then all seconds), for counting truncated rows."""
        rewards = self.runner.rewards(conversations)
        if len(conversations):
            self.truncated_rows += int(self.runner.cut.reshape(-1, rows or len(conversations)).any(axis=0).sum())
        return rewards

    def observed(self, conversations: list[list[dict]]) -> tuple[list[list[dict]], list[tuple[str, ...]]]:
        """The conversations with the checks' observations in their user turn, and each one's flags."""
        return observe_conversations(self.checks, conversations)

    def with_flags(self, frame: pd.DataFrame, flags: list[tuple[str, ...]]) -> pd.DataFrame:
        if self.checks is not None:
            frame["check_flags"] = [list(f) for f in flags]
        return frame


def _messages(value, prompt=None) -> list[dict]:
    """A text answer (with its prompt) or a conversation, as the message list the model scores."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(prompt, np.ndarray):
        prompt = prompt.tolist()
    return to_messages({"value": value, "prompt": prompt}, "value")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # The tanh form never overflows (exp(-x) does for a margin below about -710).
    return 0.5 * (1.0 + np.tanh(0.5 * x.astype(np.float64)))


class RewardScorer(_RewardModelScorer):
    """reward = the model's scalar output on (prompt, response) or on a whole conversation."""

    def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        spec = self.spec
        if spec.messages_column:
            conversations = [_messages(m) for m in frame[spec.messages_column]]
        else:
            conversations = [_messages(r, p) for p, r in zip(frame[spec.prompt_column], frame[spec.response_column])]
        conversations, flags = self.observed(conversations)
        return self.with_flags(pd.DataFrame({"reward": self.rewards(conversations)}, index=frame.index), flags)


class PairScorer(_RewardModelScorer):
    """Both responses scored in one pass; p_chosen = sigmoid(margin), the Bradley-Terry probability
    that `chosen` is preferred, as the reward model was trained to give."""

    def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        spec = self.spec
        prompts = frame[spec.prompt_column] if spec.prompt_column in frame else [None] * len(frame)
        chosen, flags = self.observed([_messages(c, p) for c, p in zip(frame[spec.chosen_column], prompts)])
        rejected, _ = self.observed([_messages(r, p) for r, p in zip(frame[spec.rejected_column], prompts)])
        rewards = self.rewards(chosen + rejected, rows=len(chosen))
        r_chosen, r_rejected = rewards[: len(chosen)], rewards[len(chosen):]
        margin = r_chosen - r_rejected
        return self.with_flags(pd.DataFrame({
            "reward_chosen": r_chosen,
            "reward_rejected": r_rejected,
            "margin": margin,
            "p_chosen": _sigmoid(margin / self.temperature),
            "preferred": np.where(margin > 0, "chosen", np.where(margin < 0, "rejected", "tie")),
        }, index=frame.index), flags)


class QualityScorer(_RewardModelScorer):
    """Scores each record with both answers; p_correct = softmax over the two rewards.

    The label is 正确, 错误 or 待审 (a person should look), and `decided_by` says what decided it:
    `check` when a certain check failed (the check set's `certain` flags: the model never
    overrules them, even for a flag it never saw fail in training), else `model`. The model's
    label comes from the two operating points calibrated with it (automatic 正确 and 错误 at a
    stated precision, 待审 between them). A threshold set in the spec (spec.threshold, or chosen
    on a validation set with spec.threshold_from) replaces them with one cut: 正确 or 错误, no
    待审. With threshold_from, the choice is made once, here, and `threshold_choice` says how
    (score_batch resolves it on the driver and hands actors the result)."""

    def __init__(self, spec: ScorerSpec, device: str | None = None):
        super().__init__(spec, device)
        self.threshold_choice: dict | None = None
        self.operating_points = calibrated_points(spec, self.calibration)
        if spec.threshold is None:
            self.spec = replace(spec, threshold=default_threshold(self.calibration))
        if spec.threshold_from.path:
            self.threshold_choice = threshold_from_validation(self, spec.threshold_from)
            self.spec = replace(self.spec, threshold=self.threshold_choice["threshold"], threshold_from=ThresholdSpec())

    def p_correct(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[str, ...]]]:
        """(reward_correct, reward_wrong, p_correct, check flags) of each record."""
        texts, flags = observe(self.checks, texts)
        rewards = self.rewards([conversation(t, CORRECT) for t in texts] + [conversation(t, WRONG) for t in texts],
                               rows=len(texts))
        correct, wrong = rewards[: len(texts)], rewards[len(texts):]
        return correct, wrong, _sigmoid((correct - wrong) / self.temperature), flags

    def model_label(self, p_correct: np.ndarray) -> np.ndarray:
        """The model's label alone: by the operating points, else by the one threshold."""
        if self.operating_points:
            return outcome(p_correct, self.operating_points)
        return np.where(p_correct >= self.spec.threshold, CORRECT, WRONG).astype(object)

    def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        correct, wrong, p_correct, flags = self.p_correct(frame[self.spec.text_column].tolist())
        by_check = np.array([bool(certain_failures(self.checks, f)) for f in flags], dtype=bool)
        return self.with_flags(pd.DataFrame({
            "reward_correct": correct,
            "reward_wrong": wrong,
            "p_correct": p_correct,
            "label": np.where(by_check, WRONG, self.model_label(p_correct)),
            "decided_by": np.where(by_check, "check", "model"),
        }, index=frame.index), flags)


class ClassifierScorer(_RewardModelScorer):
    """A sequence classifier or regressor on one text (train_classifier's models): the text as a
    one-turn conversation, as in training; score, classes and label as in the module docstring."""

    def __init__(self, spec: ScorerSpec, device: str | None = None):
        super().__init__(spec, device)
        self.threshold = spec.threshold if spec.threshold is not None else default_threshold(self.calibration)
        self.has_classes = "probabilities" in self.output_columns

    def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        texts, flags = observe(self.checks, frame[self.spec.text_column].tolist())
        logits = self.runner.logits([as_conversation(t) for t in texts]).astype(np.float64)
        out = {}
        if self.has_classes:
            shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
            probabilities = shifted / shifted.sum(axis=1, keepdims=True)
            out["score"] = probabilities @ np.arange(probabilities.shape[1], dtype=np.float64)
            out["predicted_class"] = probabilities.argmax(axis=1).astype(np.int64)
            out["probabilities"] = [row.tolist() for row in probabilities]
        else:
            out["score"] = logits[:, 0]
        out["label"] = (out["score"] >= self.threshold).astype(np.int64)
        return self.with_flags(pd.DataFrame(out, index=frame.index), flags)


def calibrated_points(spec: ScorerSpec, calibration: dict | None = None) -> dict | None:
    """The operating points a quality scorer labels by: the model's calibrated ones, unless the
    spec sets a threshold (or chooses one on a validation set), which replaces them."""
    if spec.kind != "quality" or spec.threshold is not None or spec.threshold_from.path:
        return None
    return (calibration if calibration is not None else load_calibration(spec.model_dir)).get("operating_points")


def default_threshold(calibration: dict) -> float:
    """The quality threshold when the config sets none: the model's calibrated one, else 0.5."""
    return float(calibration.get("threshold", 0.5))


# --- threshold selection (thresholds.py) -------------------------------------------------------

def threshold_from_validation(scorer: QualityScorer, spec: ThresholdSpec) -> dict:
    """Score the labelled validation set and choose the threshold (choose_threshold). Rows with an
    unusable text or a label other than 正确/错误 are skipped and counted."""
    from rayscore.io import read_table

    table = read_table(spec.path)
    text_column = scorer.spec.text_column
    missing = [c for c in (text_column, spec.label_column) if c not in table.columns]
    if missing:
        raise ValueError(f"scorer.threshold_from.path: {spec.path} lacks column(s) {missing}; "
                         f"columns are {list(table.columns)}")
    usable = table[text_column].map(lambda t: isinstance(t, str) and bool(t.strip())) & \
        table[spec.label_column].isin((CORRECT, WRONG))
    rows = table[usable]
    if not len(rows):
        raise ValueError(f"scorer.threshold_from.path: {spec.path} has no usable labelled rows")
    _, _, p, _ = scorer.p_correct(rows[text_column].tolist())
    try:
        choice = choose_threshold(p, rows[spec.label_column].to_numpy(), spec.target_precision,
                                  spec.best_f1, spec.positive)
    except ValueError as e:
        raise ValueError(f"scorer.threshold_from: {spec.path}: {e}") from None
    choice.update(path=spec.path, skipped_rows=int((~usable).sum()))
    logger.info("threshold %.4f chosen on %s (%s): precision %.4f, recall %.4f, f1 %.4f for %s",
                choice["threshold"], spec.path, choice["goal"], choice["precision"], choice["recall"],
                choice["f1"], spec.positive)
    return choice


def build_scorer(spec: ScorerSpec, device: str | None = None) -> Scorer:
    """The scorer of spec.kind; each has input_columns, output_columns, fingerprint and score(frame),
    and keeps score_batch's contract (contract.Scorer)."""
    if spec.kind == "quality":
        return QualityScorer(spec, device)
    if spec.kind == "reward":
        return RewardScorer(spec, device)
    if spec.kind == "pair":
        return PairScorer(spec, device)
    if spec.kind == "classifier":
        return ClassifierScorer(spec, device)
    if spec.kind == "generative":
        from rayscore.score.generative import GenerativeScorer

        return GenerativeScorer(spec, device)
    raise ValueError(f"kind: unknown scorer {spec.kind!r} (known: {KINDS})")
