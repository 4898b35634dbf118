"""A local causal LM as a judge: greedy generation through the chat template (the judge's local
backend; the judge job runs it on its actor pool).

    spec = LocalJudgeSpec(model_path="out/judge-model", max_new_tokens=256)
    generator = LocalGenerator(spec)                   # plain Python, no Ray
    outputs = generator.generate(prompts)              # one Generation per prompt, in order

Each prompt is sent as one user turn (after an optional system turn) through the tokenizer's
chat template with the generation prompt added, then decoded greedily (do_sample=False), so a
rerun gives the same text; device, precision and end-of-sequence handling are
rayscore.inference's, as for the generative scorer. An answer that used all max_new_tokens
without ending has finish_reason "length" (the judge reads it as truncated, never as a score). A
prompt longer than max_prompt_tokens is not cut (that would drop the instructions or the answers)
but becomes an error row, as does a batch whose generation raised.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from rayscore.config import range_problems
from rayscore.inference import autocast, greedy_generate, pick_device, prepare_model, resolve_precision
from rayscore.models import load_causal_lm

__all__ = ["LocalJudgeSpec", "Generation", "LocalGenerator"]

logger = logging.getLogger(__name__)


@dataclass
class LocalJudgeSpec:
    """A causal LM judge served by Ray Data actors."""

    model_path: str = ""
    """Directory of a causal LM and its tokenizer (HF format; a hub name needs a hub)."""
    max_new_tokens: int = 256
    """Longest judge output, in tokens (greedy decoding)."""
    max_prompt_tokens: int = 4096
    """Prompts longer than this (chat template included) become error rows, never truncated."""
    generate_batch_size: int = 4
    """Prompts per generate() call (sorted by length, left-padded)."""
    rows_per_batch: int = 16
    """Rows per Ray Data batch handed to an actor (a pairwise row holds two prompts)."""
    num_actors: int = 1
    """Actors in the pool; each loads the model once."""
    cpus_per_actor: float = 1.0
    """CPUs per actor (its torch threads); leave some CPU for Ray Data's other tasks."""
    gpus_per_actor: float = 0.0
    """GPUs per actor (fractions share a GPU)."""
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "float32"
    """Precision (rayscore.inference.resolve_precision): the weights are loaded in it; auto = bf16 where native."""
    torch_threads: int = 0
    """Intra-op threads per actor; 0 = the CPUs given to the actor."""
    system_prompt: str = ""
    """Optional system turn before each prompt."""
    chat_template: str | None = None
    """Jinja chat template; null = the tokenizer's own (required then)."""

    def check(self) -> list[str]:
        # model_path is required by the job when backend=local (an HTTP job carries an unused spec).
        return range_problems(self, max_new_tokens=">= 1", max_prompt_tokens=">= 1", generate_batch_size=">= 1",
                              rows_per_batch=">= 1", num_actors=">= 1", cpus_per_actor="> 0",
                              gpus_per_actor=">= 0")


@dataclass(frozen=True)
class Generation:
    """One prompt's outcome, shaped like http_client.Completion: text, or None and the error."""

    text: str | None
    error: str | None
    attempts: int = 1
    finish_reason: str | None = None
    """"stop" (the model ended its answer) or "length" (cut off at max_new_tokens); None without text."""


class LocalGenerator:
    """Loads the model once; `generate(prompts)` returns one Generation per prompt, in order."""

    def __init__(self, spec: LocalJudgeSpec, device: str | None = None):
        self.spec = spec
        self.device = pick_device(device)
        self.dtype, why = resolve_precision(spec.dtype, self.device)
        self.precision = f"{self.dtype} ({why})"
        model, tok = load_causal_lm(spec.model_path, self.dtype)
        if spec.chat_template is not None:
            tok.chat_template = spec.chat_template
        if not tok.chat_template:
            raise ValueError(f"local.chat_template: the tokenizer at {spec.model_path} has no chat "
                             f"template; set local.chat_template in the config")
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token if tok.eos_token is not None else tok.unk_token
        # Decoder-only generation continues from the last position: padding goes on the left.
        tok.padding_side = "left"
        self.tok, self.model = tok, prepare_model(model, self.dtype, self.device)

    def generate(self, prompts: list[str | None]) -> list[Generation]:
        """Greedy continuations; None prompts (rows already failed upstream) give None outputs."""
        out: list[Generation | None] = [None] * len(prompts)
        encoded: dict[int, list[int]] = {}
        for i, prompt in enumerate(prompts):
            if prompt is None:
                out[i] = Generation(None, None, attempts=0)
                continue
            ids = self.encode(prompt)
            if len(ids) > self.spec.max_prompt_tokens:
                out[i] = Generation(None, f"prompt_too_long: {len(ids)} tokens > max_prompt_tokens "
                                          f"{self.spec.max_prompt_tokens}", attempts=0)
            else:
                encoded[i] = ids
        order = sorted(encoded, key=lambda i: len(encoded[i]))
        size = self.spec.generate_batch_size
        for start in range(0, len(order), size):
            idx = order[start:start + size]
            try:
                with autocast(self.dtype, self.device):
                    outs = greedy_generate(self.model, self.tok, [encoded[i] for i in idx], size,
                                           self.spec.max_new_tokens)
                for i, g in zip(idx, outs):
                    out[i] = Generation(g.text, None, finish_reason=g.finish_reason)
            except Exception as e:  # one bad batch (out of memory, say) must not lose the others
                logger.exception("generation failed for %d prompts", len(idx))
                for i in idx:
                    out[i] = Generation(None, f"generation failed: {type(e).__name__}: {e}")
        return out

    def encode(self, prompt: str) -> list[int]:
        messages = [{"role": "user", "content": prompt}]
        if self.spec.system_prompt:
            messages.insert(0, {"role": "system", "content": self.spec.system_prompt})
        text = self.tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return self.tok(text, add_special_tokens=False)["input_ids"]
