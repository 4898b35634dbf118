"""Decoder reward models (the path users take on GPUs with Qwen/Llama), on a tiny Qwen2 built here.

The tiny model and its byte-level BPE tokenizer (with a Qwen-style chat template and a pad token
of its own) are written to a tmp dir, then loaded the way a user's checkpoint is:
AutoModelForSequenceClassification -> Qwen2ForSequenceClassification with a new score head.
`build_tiny_qwen` and `preference_rows` are also used by test_deepspeed.py.
"""

import json
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

CHAT_TEMPLATE = ("{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
                 "{{ message['content'] }}<|im_end|>\n{% endfor %}")
WORDS = "the a good bad answer question helpful wrong right yes no please thanks city road number".split()
DECODER_ARGS = ["model.max_seq_len=64", "train.learning_rate=0.003", "train.batch_size_per_worker=8",
                "train.logging_steps=2", "data.eval_fraction=0.2"]


def preference_rows(n: int, seed: int = 0) -> list[dict]:
    """ultrafeedback_binarized-shaped pairs with a learnable rule: the better answer ends 'right yes'."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        question = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8)))
        filler = " ".join(rng.choice(WORDS[:6]) for _ in range(rng.randint(1, 6)))
        user = {"role": "user", "content": f"q{i}: {question}"}
        rows.append({"chosen": [user, {"role": "assistant", "content": f"{filler} right yes"}],
                     "rejected": [user, {"role": "assistant", "content": f"{filler} wrong no"}],
                     "score_chosen": float(rng.randint(6, 10)), "score_rejected": float(rng.randint(1, 5))})
    return rows


def build_tiny_qwen(out_dir: Path) -> Path:
    """A 2-layer Qwen2 causal LM + byte-level BPE tokenizer (pad <|endoftext|>, eos <|im_end|>)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    texts = [" ".join(WORDS)] * 20 + [m["content"] for r in preference_rows(200, seed=1)
                                      for m in r["chosen"] + r["rejected"]]
    bpe.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tok.chat_template = CHAT_TEMPLATE
    tok.save_pretrained(out_dir)
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=256,
                         pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, tie_word_embeddings=False)
    Qwen2ForCausalLM(config).save_pretrained(out_dir)
    return Path(out_dir)


def write_pairs(path: Path, n: int = 240) -> Path:
    pd.DataFrame(preference_rows(n)).to_json(path, orient="records", lines=True)
    return path


@pytest.fixture(scope="module")
def tiny_qwen(tmp_path_factory):
    return build_tiny_qwen(tmp_path_factory.mktemp("tiny_qwen"))


@pytest.fixture(scope="module")
def qwen_reward(tiny_qwen):
    from rayscore.models import ModelSpec, load_reward_model, load_tokenizer

    spec = ModelSpec(name_or_path=str(tiny_qwen), max_seq_len=64, add_chinese_chars=False, split_digits=False)
    tok = load_tokenizer(spec)
    return load_reward_model(spec, tok).eval(), tok


def test_a_model_with_its_own_template_keeps_it(qwen_reward):
    model, tok = qwen_reward
    assert tok.chat_template == CHAT_TEMPLATE
    assert tok.pad_token == "<|endoftext|>" and model.config.pad_token_id == tok.pad_token_id != tok.eos_token_id
    assert type(model).__name__ == "Qwen2ForSequenceClassification"


def test_reward_does_not_depend_on_padding_in_the_batch(qwen_reward):
    """Right padding + pad_token_id shared by tokenizer and model config: the head pools each
    sequence's last real token whatever the batch's width. A config pad id that disagrees with
    the tokenizer (the bug this guards against) makes the padded rewards change."""
    from rayscore.score.runner import RewardRunner

    model, tok = qwen_reward
    short = [[{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "yes"}] for i in range(3)]
    long = [[{"role": "user", "content": " ".join(WORDS * 2)}, {"role": "assistant", "content": "no " * 10}]]
    alone = RewardRunner(model, tok, max_seq_len=64, batch_size=1).rewards(short)
    runner = RewardRunner(model, tok, max_seq_len=64, batch_size=8)
    ids = runner.encode(short + long)
    assert max(map(len, ids)) - max(map(len, ids[:3])) > 20  # the short ones carry > 20 pad tokens
    padded = runner.rewards(short + long)[:3]
    np.testing.assert_allclose(padded, alone, atol=1e-5)

    right_pad_id = model.config.pad_token_id
    try:
        model.config.pad_token_id = tok.eos_token_id  # disagrees with the tokenizer's pad
        broken = RewardRunner(model, tok, max_seq_len=64, batch_size=8).rewards(short + long)[:3]
    finally:
        model.config.pad_token_id = right_pad_id
    assert np.abs(broken - alone).max() > 1e-3


@pytest.mark.slow
def test_decoder_reward_model_trains_on_ray_train(ray_local, tiny_qwen, tmp_path):
    """configs/train_reward/decoder_qwen.yaml (LoRA on the attention projections + the score head,
    margin, centred rewards) on one worker for a few steps on the tiny Qwen (two workers on a
    decoder: test_deepspeed.py)."""
    from safetensors.torch import load_file
    from transformers import AutoTokenizer

    from jobs.train_reward import main

    out = tmp_path / "out"
    code = main(["--config", "configs/train_reward/decoder_qwen.yaml", f"output_dir={out}",
                 f"model.name_or_path={tiny_qwen}", f"data.train_path={write_pairs(tmp_path / 'pairs.jsonl')}",
                 "train.max_steps=8", "train.save_steps=4", "train.eval_steps=4", "scaling.num_workers=1",
                 *DECODER_ARGS])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["steps"] == 8 and metrics["num_workers"] == 1
    assert metrics["eval_accuracy"] >= 0.8 and metrics["eval_swap_check_ok"]  # the rule is easy to learn
    assert metrics["save_check_max_abs_diff"] < 1e-5

    merged = out / "model" / "merged"
    config = json.loads((merged / "config.json").read_text())
    saved_tok = AutoTokenizer.from_pretrained(merged)
    assert config["architectures"] == ["Qwen2ForSequenceClassification"]
    assert saved_tok.pad_token == "<|endoftext|>" and config["pad_token_id"] == saved_tok.pad_token_id  # on disk
    assert (merged / "chat_template.jinja").read_text() == CHAT_TEMPLATE
    adapter = json.loads((out / "model" / "adapter" / "adapter_config.json").read_text())
    assert set(adapter["target_modules"]) == {"q_proj", "k_proj", "v_proj", "o_proj"}
    base = load_file(tiny_qwen / "model.safetensors")
    trained = load_file(merged / "model.safetensors")
    name = "model.layers.0.self_attn.q_proj.weight"
    assert not np.allclose(base[name].numpy(), trained[name].numpy())  # the LoRA delta was merged in
    history = json.loads((out / "log_history.json").read_text())["log_history"]
    assert [e["step"] for e in history if "eval_accuracy" in e] == [4, 8]  # evaluated during training
