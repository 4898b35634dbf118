"""Preference data through to what TRL trains on: shapes, quarantine, truncation, margin, and the
held-out evaluation's swap check. No Ray; the MiniLM tokenizer (without added characters)."""

import json

import numpy as np
import pandas as pd
import pytest

from rayscore.data.data_check import DataCheckSpec
from rayscore.data.preferences import PreferenceDataSpec, load_preferences, reason_counts, write_quarantine
from rayscore.models import ENCODER_CHAT_TEMPLATE, ModelSpec, load_tokenizer
from rayscore.train.reward import (
    RewardJobConfig,
    RewardTrainSpec,
    encode_pairs,
    prepare_pairs,
    to_dataset,
)
from rayscore.train.reward_eval import evaluate_pairs

PROMPT, GOOD, BAD = "what is the capital of france", "paris is the capital", "london i think"


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer(ModelSpec(name_or_path="minilm", max_seq_len=64, add_chinese_chars=False))


def job(path, tmp_path, **train) -> RewardJobConfig:
    return RewardJobConfig(output_dir=str(tmp_path / "out"),
                           data=PreferenceDataSpec(train_path=str(path), eval_fraction=0.5),
                           # a few variations of one pair: near duplicates of one template by design
                           data_check=DataCheckSpec(drop_duplicates=False, eval_overlap="keep",
                                                    allow_low_diversity=True),
                           model=ModelSpec(name_or_path="minilm", max_seq_len=64, add_chinese_chars=False),
                           train=RewardTrainSpec(**train))


def write_jsonl(rows, path):
    pd.DataFrame(rows).to_json(path, orient="records", lines=True, force_ascii=False)
    return path


def ultrafeedback_row(prompt=PROMPT, good=GOOD, bad=BAD, score_chosen=8.0, score_rejected=3.0):
    user = {"role": "user", "content": prompt}
    return {"prompt": prompt,  # ultrafeedback_binarized repeats the prompt as text; the lists carry it
            "chosen": [user, {"role": "assistant", "content": good}],
            "rejected": [user, {"role": "assistant", "content": bad}],
            "score_chosen": score_chosen, "score_rejected": score_rejected}


def all_ids(data):
    frame = pd.concat([data.train, data.eval])
    return sorted(zip(map(tuple, frame.chosen_ids), map(tuple, frame.rejected_ids)))


def test_every_shape_gives_the_same_training_input(tok, tmp_path):
    """trl-lib/ultrafeedback_binarized (parquet), HuggingFaceH4's copy (a prompt column the lists
    already start with), plain text (JSONL) and explicit-prompt conversational (parquet) of the same
    pairs all become identical token ids: [CLS] prompt [SEP] answer [SEP]."""
    pairs = [(f"{PROMPT} {i}", f"{GOOD} {i}", f"{BAD} {i}") for i in range(6)]
    h4 = pd.DataFrame([ultrafeedback_row(p, g, b) for p, g, b in pairs])
    h4.to_parquet(tmp_path / "h4.parquet")
    h4.drop(columns="prompt").to_parquet(tmp_path / "trl.parquet")
    write_jsonl([{"prompt": p, "chosen": g, "rejected": b} for p, g, b in pairs], tmp_path / "plain.jsonl")
    pd.DataFrame([{"prompt": [{"role": "user", "content": p}], "chosen": [{"role": "assistant", "content": g}],
                   "rejected": [{"role": "assistant", "content": b}]} for p, g, b in pairs]
                 ).to_parquet(tmp_path / "explicit.parquet")

    names = ("trl.parquet", "h4.parquet", "plain.jsonl", "explicit.parquet")
    prepared = {name: prepare_pairs(job(tmp_path / name, tmp_path), tok) for name in names}
    assert all(all_ids(prepared[name]) == all_ids(prepared["trl.parquet"]) for name in names)
    assert all(len(prepared[name].quarantined) == 0 for name in names)
    row = prepared["plain.jsonl"].train.iloc[0]
    prompt, answer = row.chosen[0]["content"], row.chosen[-1]["content"]
    assert answer.startswith(GOOD) and tok.decode(row.chosen_ids) == f"[CLS] {prompt} [SEP] {answer} [SEP]"


def test_margin_column_comes_from_the_scores(tok, tmp_path):
    path = write_jsonl([ultrafeedback_row(f"q{i}", score_chosen=9.0, score_rejected=float(i)) for i in range(6)],
                       tmp_path / "uf.jsonl")
    data = prepare_pairs(job(path, tmp_path, use_margin=True), tok)
    frame = pd.concat([data.train, data.eval])
    dataset = to_dataset(frame, use_margin=True)
    assert dataset.column_names == ["chosen_ids", "rejected_ids", "margin"]
    assert sorted(dataset["margin"]) == [9.0 - i for i in reversed(range(6))]
    assert "margin" not in to_dataset(frame, use_margin=False).column_names


def test_bad_rows_are_quarantined_with_reasons_and_written(tok, tmp_path):
    rows = [
        ultrafeedback_row("fine 1"),
        ultrafeedback_row("fine 2"),
        ultrafeedback_row("same", good="same answer", bad="same answer"),                    # identical
        {**ultrafeedback_row("no score"), "score_chosen": None},                             # margin needs it
        {**ultrafeedback_row("last turn user"),
         "rejected": [{"role": "assistant", "content": "hi"}, {"role": "user", "content": "x"}]},
        {**ultrafeedback_row("content not text"), "chosen": [{"role": "user", "content": 5}]},
        {**ultrafeedback_row("empty answer"), "rejected": [{"role": "user", "content": "q"},
                                                            {"role": "assistant", "content": "  "}]},
        {**ultrafeedback_row("bad prompt"), "prompt": {"not": "messages"}},
    ]
    path = write_jsonl(rows, tmp_path / "mixed.jsonl")
    data = prepare_pairs(job(path, tmp_path, use_margin=True), tok)
    assert data.account() == {
        "input_pairs": 8, "train_pairs": len(data.train), "eval_pairs": len(data.eval), "quarantined_pairs": 6,
        "quarantine_reasons": {"chosen_equals_rejected": 1, "bad_score": 1, "bad_role_rejected": 1,
                               "bad_type_chosen": 1, "empty_rejected": 1, "bad_type_prompt": 1},
        "truncated_pairs": 0}
    assert len(data.train) + len(data.eval) == 2

    written = write_quarantine(data.quarantined, tmp_path / "quarantine")
    lines = [json.loads(line) for line in written.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 6 and {r["reason"] for r in lines} == set(reason_counts(data.quarantined))
    assert next(r for r in lines if r["reason"] == "bad_type_chosen")["chosen"] == [{"role": "user", "content": 5}]
    assert write_quarantine(data.quarantined.iloc[:0], tmp_path / "none") is None


def test_margin_without_score_columns_is_a_data_error_naming_the_file(tok, tmp_path):
    path = write_jsonl([{"prompt": "q", "chosen": "a", "rejected": "b"}], tmp_path / "plain.jsonl")
    with pytest.raises(ValueError, match=r"plain.jsonl: .*score_chosen.*missing \['score_chosen', 'score_rejected'\]"):
        load_preferences(PreferenceDataSpec(train_path=str(path)), require_scores=True)


def test_truncation_keeps_the_answer_or_quarantines(tok):
    long_prompt = " ".join(["word"] * 200)
    pairs = pd.DataFrame({
        "chosen": [[{"role": "user", "content": long_prompt}, {"role": "assistant", "content": "yes indeed"}],
                   [{"role": "user", "content": "short"}, {"role": "assistant", "content": "yes"}]],
        "rejected": [[{"role": "user", "content": long_prompt}, {"role": "assistant", "content": "no never"}],
                     [{"role": "user", "content": "short"}, {"role": "assistant", "content": "no"}]],
    })
    kept, dropped, cut = encode_pairs(pairs, tok, max_len=32, truncation="keep_end")
    assert len(kept) == 2 and len(dropped) == 0 and cut == 1
    assert all(len(ids) <= 32 for ids in kept.chosen_ids)
    assert tok.decode(kept.chosen_ids[0]).startswith("[CLS] word")
    assert tok.decode(kept.chosen_ids[0]).endswith("word yes indeed [SEP]")  # the prompt was cut, not the answer
    assert tok.decode(kept.rejected_ids[0]).endswith("word no never [SEP]")

    kept, dropped, cut = encode_pairs(pairs, tok, max_len=32, truncation="quarantine")
    assert len(kept) == 1 and cut == 0 and kept.chosen[0][0]["content"] == "short"
    assert list(dropped.reason) == ["too_long"] and dropped.tokens[0] > 200


def test_minilm_gets_the_encoder_template_and_an_override_wins(tok):
    assert tok.chat_template == ENCODER_CHAT_TEMPLATE
    custom = "{% for m in messages %}{{ m['content'] }} | {% endfor %}"
    other = load_tokenizer(ModelSpec(name_or_path="minilm", add_chinese_chars=False, chat_template=custom))
    assert other.chat_template == custom


class OrderRunner:
    """A broken eval: ignores the text; the first call of each pass scores high."""

    def __init__(self):
        self.calls = 0

    def rewards(self, conversations):
        self.calls += 1
        return np.full(len(conversations), 1.0 if self.calls % 2 else 0.0, dtype=np.float32)


class ConstantRunner:
    def rewards(self, conversations):
        return np.zeros(len(conversations), dtype=np.float32)


class KeywordRunner:
    """A sound scorer of a learnable rule: answers saying 'paris' are better."""

    def rewards(self, conversations):
        return np.array([float("paris" in c[-1]["content"]) + 0.01 * len(c[-1]["content"]) for c in conversations],
                        dtype=np.float32)


def eval_pairs():
    rows = [ultrafeedback_row(f"q{i}", good=f"paris {'x' * i}", bad=f"london {'y' * (5 - i)}") for i in range(6)]
    return pd.DataFrame(rows).assign(source=["a", "a", "a", "b", "b", "b"])


def test_swap_check_catches_an_eval_that_ignores_its_input():
    broken = evaluate_pairs(OrderRunner(), eval_pairs())
    assert broken["eval_accuracy"] == 1.0  # looks perfect ...
    assert broken["eval_accuracy_swapped"] == 1.0 and broken["eval_swap_check_ok"] is False  # ... and is caught

    flat = evaluate_pairs(ConstantRunner(), eval_pairs())
    assert flat["eval_ties"] == 1.0 and flat["eval_swap_check_ok"] is False


def test_sound_eval_passes_the_swap_check_with_per_subset_accuracy():
    pairs = eval_pairs()
    pairs.loc[5, "chosen"] = [pairs.chosen[5][0], {"role": "assistant", "content": "rome"}]  # one miss, subset b
    metrics = evaluate_pairs(KeywordRunner(), pairs, subset_column="source")
    assert metrics["eval_accuracy"] == pytest.approx(5 / 6)
    assert metrics["eval_accuracy_swapped"] == pytest.approx(1 / 6) and metrics["eval_swap_check_ok"] is True
    assert metrics["eval_accuracy_by_subset"] == {"a": 1.0, "b": round(2 / 3, 4)}
    assert metrics["eval_mean_margin"] > 0 and metrics["eval_reward_std"] > 0
    assert "eval_accuracy_by_subset" not in evaluate_pairs(KeywordRunner(), pairs, subset_column="missing")


def test_the_swap_check_scores_a_sample_and_still_catches_order_reading(monkeypatch):
    import rayscore.train.reward_eval as reward_eval

    class Counting(KeywordRunner):
        scored = 0

        def rewards(self, conversations):
            Counting.scored += len(conversations)
            return super().rewards(conversations)

    monkeypatch.setattr(reward_eval, "SWAP_CHECK_PAIRS", 4)
    pairs = pd.concat([eval_pairs()] * 5, ignore_index=True)   # 30 pairs
    metrics = evaluate_pairs(Counting(), pairs)
    assert Counting.scored == 2 * 30 + 2 * 4 and metrics["eval_swap_check_pairs"] == 4
    assert metrics["eval_accuracy"] == 1.0 and metrics["eval_swap_check_ok"] is True
    assert evaluate_pairs(OrderRunner(), pairs)["eval_swap_check_ok"] is False
