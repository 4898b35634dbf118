"""Tiny models built from a config, for tests and benchmarks (never for real scoring).

    # tests/ is on pytest's pythonpath
    from tiny_models import char_tokenizer, save_tiny, tiny_causal_lm, tiny_reward_model
    tok = char_tokenizer(["张三,北京市…", "some prompt"])        # one token per character
    save_tiny(tiny_reward_model(tok), tok, "out/tiny_reward")     # a model dir score_batch loads
    save_tiny(tiny_causal_lm(tok), tok, "out/tiny_lm")            # for the generative scorer

The tokenizer is character-level (so every digit and "." is its own token, as the generative
scorer needs) with a chat template `<|user|>…<|end|><|assistant|>…<|end|>` and a pad token; the
models are Qwen3 with a few thousand parameters, so a forward pass costs microseconds and a test
or a memory benchmark measures the pipeline, not the model. Qwen3, not Qwen2: transformers 5's
AutoTokenizer replaces any tokenizer saved with a qwen2 config by Qwen2Tokenizer (qwen2 is in its
MODELS_WITH_INCORRECT_HUB_TOKENIZER_CLASS), which drops a character-level vocabulary. Saved through
rayscore.models.save_scorer like every trained scorer, so the loading path is the real one.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

SPECIALS = ("<pad>", "<unk>", "<|user|>", "<|assistant|>", "<|end|>")
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
BASE_CHARS = "0123456789.:,-+ " + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" + "正确错误"


def char_tokenizer(texts: Iterable[str] = (), max_len: int = 512):
    """A PreTrainedTokenizerFast with one token per character seen in `texts` (plus digits,
    ASCII letters and 正确/错误); other characters map to <unk>."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    chars = sorted(set(BASE_CHARS).union(*map(set, texts)) - {"\n"})
    vocab = {t: i for i, t in enumerate(SPECIALS)}
    for ch in chars:
        vocab.setdefault(ch, len(vocab))
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    backend.decoder = decoders.Fuse()
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", unk_token="<unk>",
                                  eos_token="<|end|>", model_max_length=max_len)
    tok.add_special_tokens({"additional_special_tokens": list(SPECIALS[2:])})
    tok.chat_template = CHAT_TEMPLATE
    return tok


def _config(tok, hidden: int, layers: int, **extra):
    from transformers import Qwen3Config

    return Qwen3Config(vocab_size=len(tok), hidden_size=hidden, intermediate_size=2 * hidden,
                       num_hidden_layers=layers, num_attention_heads=2, num_key_value_heads=1,
                       head_dim=hidden // 2, max_position_embeddings=1024, pad_token_id=tok.pad_token_id,
                       eos_token_id=tok.eos_token_id, bos_token_id=None, tie_word_embeddings=False,
                       **extra)


def tiny_reward_model(tok, hidden: int = 32, layers: int = 2, seed: int = 0):
    """A randomly initialised Qwen3 sequence classifier with one output (a reward head)."""
    import torch
    from transformers import Qwen3ForSequenceClassification

    torch.manual_seed(seed)
    return Qwen3ForSequenceClassification(_config(tok, hidden, layers, num_labels=1)).eval()


def tiny_causal_lm(tok, hidden: int = 32, layers: int = 2, seed: int = 0):
    """A randomly initialised Qwen3 causal LM over the tokenizer's vocabulary."""
    import torch
    from transformers import Qwen3ForCausalLM

    torch.manual_seed(seed)
    return Qwen3ForCausalLM(_config(tok, hidden, layers)).eval()


def save_tiny(model, tok, out_dir: str | Path) -> Path:
    """Save as a trained scorer dir (merged/ + fingerprint.txt), loadable by every scorer."""
    from rayscore.models import save_scorer

    return save_scorer(model, tok, out_dir)
