"""train_sft end to end: a tiny Llama built here learns category -> score through TRL SFT + LoRA on
Ray Train (2 workers), beats its base model, and leaves every artifact behind."""

import json
import random

import numpy as np
import pandas as pd
import pytest

from rayscore.config import load_config
from rayscore.data.hupu import load_sft_data, sample_prompt
from rayscore.models import CAUSAL_CHAT_TEMPLATE, add_lora, load_causal_lm, load_causal_model, load_tokenizer
from rayscore.score.generative import answer_context, read_expected
from rayscore.train.sft import SftJobConfig, build_sft_trainer
from rayscore.train.sft_eval import expected_scores, greedy_scores

CONFIG = "configs/train_sft/tiny.yaml"
# A learnable toy task: the category decides the integer part, the decimal is noise (.2/.5/.8);
# 冠军 is always 10.0, the two-digit case the expected-score reading must not read as "1".
CATEGORY_SCORE = {"游戏厂商": 9, "手机品牌": 2, "城市": 7, "球员": 4, "冠军": 10}
TITLE_CHARS = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"
CHATML = ("{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
          "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
HEADER = "Head,Ids,Introduce,Title,TitleHot,TitleScore,Comments,Starts"


def hupu_rows(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        category = rng.choice(list(CATEGORY_SCORE))
        title = "".join(rng.choice(TITLE_CHARS) for _ in range(3))
        score = "10.0" if CATEGORY_SCORE[category] == 10 else f"{CATEGORY_SCORE[category]}.{rng.choice('258')}"
        rows.append(f"{category}评分,{i},{category},{title},{rng.randint(1, 5000)},{score},好|差,3|1")
    return rows


def build_tiny_lm(path) -> None:
    """A character-level tokenizer with a ChatML template and a 2-layer Llama, saved like a hub model."""
    import torch
    from tokenizers import Tokenizer, decoders, models
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from rayscore.models import save_tokenizer

    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<unk>"]
    chars = set("".join(CATEGORY_SCORE) + TITLE_CHARS + "中的你能打几颗星:0123456789.- \nuserassistantsystem")
    backend = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(special + sorted(chars))}, merges=[],
                                   unk_token="<unk>"))  # no merges: one token per character
    backend.add_special_tokens(special)
    backend.decoder = decoders.Fuse()
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                  unk_token="<unk>")
    tok.chat_template = CHATML
    torch.manual_seed(0)
    # initializer_range 0.15: logits on the scale of a trained model's, so a LoRA adapter can move
    # them in a few dozen steps (at 0.02 the frozen random lm_head keeps every answer near uniform).
    # Llama rather than Qwen2: AutoTokenizer rebuilds a qwen2 model's tokenizer as Qwen2Tokenizer
    # (byte-level), which a character-level vocabulary does not survive.
    model = LlamaForCausalLM(LlamaConfig(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        vocab_size=len(tok), max_position_embeddings=128, initializer_range=0.15, bos_token_id=None,
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id))
    model.save_pretrained(path)
    save_tokenizer(tok, path)


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny_llama")
    build_tiny_lm(path)
    return path


@pytest.fixture(scope="module")
def hupu_csv(tmp_path_factory):
    rows = hupu_rows(300) + [
        "游戏厂商评分,900,游戏厂商,新厂,3,-,,",     # no score: skipped
        "城市评分,901,城市,,40,7.5,,",             # empty title: quarantined
        "球员评分,902,球员,甲乙,40,很强,,",         # not a number: quarantined
    ]
    path = tmp_path_factory.mktemp("hupu") / "hupu.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def job_config(tiny_lm, hupu_csv, output_dir, *extra) -> SftJobConfig:
    return load_config(SftJobConfig, ["--config", CONFIG, f"output_dir={output_dir}",
                                      f"data.train_path={hupu_csv}", f"model.name_or_path={tiny_lm}", *extra])


def test_loss_is_on_the_answer_only(tiny_lm, hupu_csv, tmp_path):
    cfg = job_config(tiny_lm, hupu_csv, tmp_path)
    data = load_sft_data(cfg.data)
    tok = load_tokenizer(cfg.model, CAUSAL_CHAT_TEMPLATE)
    model = add_lora(load_causal_model(cfg.model, tok), cfg.lora, tok, task_type="CAUSAL_LM")
    trainer = build_sft_trainer(cfg, model, tok, data.train.head(4), str(tmp_path / "work"))
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(2)])
    sample = data.train.iloc[0]
    ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
    prompt_len = len(answer_context(tok, sample_prompt(sample["instruction"])).generation)
    assert prompt_len > 10
    assert all(label == -100 for label in labels[:prompt_len])          # the prompt: no loss
    answer = [i for i, label in zip(ids, labels) if label != -100]
    assert answer == ids[prompt_len:prompt_len + len(answer)]           # the answer: labels = ids
    assert tok.decode(answer) == sample["output"] + "<|im_end|>\n"     # score and end of turn


@pytest.mark.slow
def test_train_sft_job(ray_local, tiny_lm, hupu_csv, tmp_path):
    from jobs.train_sft import main

    out = tmp_path / "run"
    assert main(["--config", CONFIG, f"output_dir={out}", f"data.train_path={hupu_csv}",
                 f"model.name_or_path={tiny_lm}"]) == 0

    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    data = metrics["data"]
    assert data["rows"] == data["samples"] + data["no_score"] + data["duplicate_prompts"] + data["quarantined"]
    assert data["no_score"] == 1 and data["quarantined_by_reason"] == {"bad_score": 1, "empty_title": 1}
    assert data["train_samples"] + data["eval_samples"] == data["samples"] and data["too_long"] == 0
    quarantine = pd.read_json(out / "quarantine" / "rows.jsonl", lines=True, dtype=False)
    assert sorted(quarantine["Ids"].astype(str)) == ["901", "902"]

    train = metrics["train"]
    assert train["steps"] == 60 and train["num_workers"] == 2 and train["resumed_from_step"] == 0
    assert train["last_loss"] < 0.3 * train["first_loss"], train  # it learned
    # The held-out loss at the end of every epoch (about 8 steps each), and of the last, partial one.
    by_epoch = train["eval_loss_by_epoch"]
    epochs = [e["epoch"] for e in by_epoch]
    assert len(by_epoch) >= 5 and epochs == sorted(epochs) and by_epoch[-1]["step"] == 60, by_epoch
    assert all(float(e).is_integer() for e in epochs[:-1])
    assert by_epoch[-1]["loss"] < 0.5 * by_epoch[0]["loss"], by_epoch

    evaluation = metrics["eval"]
    adapter, base = evaluation["adapter"], evaluation["base"]
    assert evaluation["n"] == data["eval_samples"] > 20
    assert adapter["expected"]["mae"] < 0.6 < base["expected"]["mae"], evaluation["side_by_side"]
    assert adapter["greedy"]["parse_rate"] > 0.9 and adapter["greedy"]["mae"] < 0.6
    # The untrained base answers with characters, not scores: counted as unparseable, never 0.
    assert base["greedy"]["parsed"] + base["greedy"]["unparseable"] == evaluation["n"]
    assert base["greedy"]["n_missing_pred"] == base["greedy"]["unparseable"] > 0
    assert evaluation["side_by_side"]["expected"]["mae"] == {"adapter": adapter["expected"]["mae"],
                                                             "base": base["expected"]["mae"]}
    assert sum(adapter["expected"]["error_histogram"]["counts"]) == evaluation["n"]

    for png in ("training_curves.png", "error_hist_adapter.png", "error_hist_base.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
    assert (out / "config.yaml").exists() and (out / "log_history.json").exists()
    assert (out / "model" / "adapter" / "adapter_config.json").exists()
    assert not (out / "model" / "report").exists()

    # The saved merged model reads the same scores as the one evaluated in memory.
    predictions = pd.read_parquet(out / "eval_predictions.parquet")
    assert len(predictions) == evaluation["n"]
    tens = predictions[predictions["real"] == 10]
    assert len(tens) >= 3 and (tens["adapter_expected"] > 9.5).all(), tens[["output", "adapter_expected"]]
    model, tok = load_causal_lm(str(out / "model"))
    prompts = [sample_prompt(i, x) for i, x in zip(predictions["instruction"], predictions["input"])]
    np.testing.assert_allclose(expected_scores(model, tok, prompts), predictions["adapter_expected"], atol=1e-4)
    greedy, parse_ok = greedy_scores(model, tok, prompts, max_new_tokens=8)
    assert (parse_ok == predictions["adapter_parse_ok"]).all()
    np.testing.assert_allclose(greedy[parse_ok], predictions["adapter_greedy"][parse_ok])
    # Batching and padding do not change a reading.
    one_by_one = read_expected(model, tok, prompts[:6], batch_size=1)
    np.testing.assert_allclose(one_by_one.scores, predictions["adapter_expected"][:6], atol=1e-4)


def test_too_long_samples_are_quarantined(tiny_lm, hupu_csv, tmp_path):
    from rayscore.train.sft import prepare_sft_data

    # ChatML around "<2-char category>中的<3 chars>你能打几颗星:" + "9.5" is 38 tokens; 4-char categories make 40.
    cfg = job_config(tiny_lm, hupu_csv, tmp_path, "model.max_seq_len=39")
    data = prepare_sft_data(cfg, load_tokenizer(cfg.model, CAUSAL_CHAT_TEMPLATE))
    long = data.quarantined[data.quarantined["reason"] == "too_long"]
    assert data.counts["too_long"] == len(long) > 50
    assert set(long["tokens"]) == {40} and set(long["split"]) == {"train", "eval"}
    assert long["instruction"].str.match("^(游戏厂商|手机品牌)").all()
    assert data.counts["train_samples"] + data.counts["eval_samples"] + len(long) == data.counts["samples"]
