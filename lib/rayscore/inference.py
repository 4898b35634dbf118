"""Torch inference plumbing shared by every model that runs here: device, precision, greedy generation.

    device = pick_device()                                   # CUDA when torch sees one, else CPU
    dtype, why = resolve_precision("auto", device)           # ("bfloat16", "CPU has native bf16 ...")
    model = prepare_model(model, dtype, device)
    outs = greedy_generate(model, tok, contexts, batch_size=4, max_new_tokens=64)
    outs[0].text, outs[0].finish_reason                      # "8分", "stop" (or "length": cut off)

The reward runner (score/runner.py), the generative scorer (score/generative.py) and the local LM
judge (judge/local.py) all go through these, so a model gets the same device, precision and
end-of-sequence handling wherever it runs. `finish_reason` follows the OpenAI API: "stop" when
the model ended its answer (an EOS token), "length" when max_new_tokens cut it off.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["Precision", "PRECISIONS", "resolve_precision", "cpu_flags", "pick_device", "prepare_model",
           "autocast", "eos_ids", "Generated", "greedy_generate"]

Precision = Literal["auto", "float32", "bfloat16", "float16", "int8"]
PRECISIONS = ("auto", "float32", "bfloat16", "float16", "int8")
# CPU flags of native bf16 arithmetic: without them bf16 autocast is emulated and slower than fp32.
NATIVE_BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def resolve_precision(dtype: Precision, device) -> tuple[str, str]:
    """(precision used, why). "auto" is bfloat16 autocast where the hardware computes it natively
    (GPUs that support it, CPUs with AVX512-BF16 or AMX), float32 elsewhere."""
    import torch

    if dtype != "auto":
        return dtype, "configured"
    if device.type == "cuda":
        native = torch.cuda.is_bf16_supported()
        return ("bfloat16", "GPU supports bf16") if native else ("float32", "GPU lacks bf16")
    flags = cpu_flags()
    native = [f for f in NATIVE_BF16_CPU_FLAGS if f in flags]
    return ("bfloat16", f"CPU has native bf16 ({native[0]})") if native else ("float32", "CPU lacks native bf16")


def cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def pick_device(device: str | None = None):
    """The device a scorer runs on: the one asked for, else CUDA when torch sees a GPU (an actor
    given num_gpus sees exactly its GPU), else CPU. The only hardware branch in scoring."""
    import torch

    return torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))


def prepare_model(model, dtype: Precision, device):
    """The model on `device`, in eval mode, quantized when dtype is int8."""
    import torch

    model = model.to(device).eval()
    if dtype == "int8":
        if device.type != "cpu":
            raise ValueError(f"dtype: int8 (dynamic quantization) runs on CPU only, not {device.type}; "
                             "use bfloat16 or float16 on GPUs")
        model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    return model


def autocast(dtype: Precision, device):
    """Autocast for bfloat16/float16; nothing for float32 and int8 (int8 is in the weights)."""
    import torch

    if dtype in ("float32", "int8"):
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=getattr(torch, dtype))


def eos_ids(model, tok) -> list[int]:
    """Every token id that ends an answer: the generation config's (one or a list) and the tokenizer's."""
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids = list(configured) if isinstance(configured, (list, tuple)) else [configured] if configured is not None else []
    if tok.eos_token_id is not None and tok.eos_token_id not in ids:
        ids.append(tok.eos_token_id)
    return ids


@dataclass(frozen=True)
class Generated:
    """One greedy continuation: its text (special tokens dropped) and why it ended."""

    text: str
    finish_reason: Literal["stop", "length"]


def greedy_generate(model, tok, contexts: list[list[int]], batch_size: int,
                    max_new_tokens: int) -> list[Generated]:
    """Greedy continuations of token-id contexts, in input order; similar lengths are batched
    together and padded on the left (decoder-only generation continues from the last position)."""
    import torch

    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    eos = eos_ids(model, tok)
    device = next(model.parameters()).device
    out: list[Generated | None] = [None] * len(contexts)
    order = np.argsort([len(c) for c in contexts], kind="stable")
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            batch = [contexts[i] for i in idx]
            width = max(len(c) for c in batch)
            input_ids = torch.tensor([[pad] * (width - len(c)) + list(c) for c in batch], dtype=torch.long)
            mask = torch.tensor([[0] * (width - len(c)) + [1] * len(c) for c in batch], dtype=torch.long)
            generated = model.generate(input_ids=input_ids.to(device), attention_mask=mask.to(device),
                                       max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=pad,
                                       eos_token_id=eos or None)
            new = generated[:, width:].cpu()
            for row, i in enumerate(idx):
                tokens = new[row].tolist()
                # An answer that ended emitted an EOS; one that ran max_new_tokens without it was cut.
                ended = any(t in eos for t in tokens) if eos else len(tokens) < max_new_tokens
                text = tok.decode(tokens, skip_special_tokens=True)
                out[i] = Generated(text, "stop" if ended or len(tokens) < max_new_tokens else "length")
    return out
