"""Batched reward-model inference: the single forward path behind scoring, evaluation and serving.

    runner = RewardRunner(model, tok, max_seq_len=128, batch_size=128, dtype="bfloat16")
    rewards = runner.rewards([conversation(text, "正确") for text in texts])   # np.ndarray

Sequences are sorted by length and padded per batch (dynamic padding), so a batch of short
records never pays for one long one; results come back in input order. Precision is a setting:
float32; bfloat16 / float16 autocast (weights stay float32, matmuls run in the lower precision);
int8 = dynamic quantization of every Linear layer (CPU only); auto = bfloat16 where the hardware
computes it natively (resolve_precision), float32 elsewhere. benchmarks/README.md has the speed
and agreement of each on this machine.
"""

from __future__ import annotations

import contextlib
from typing import Literal

import numpy as np

from rayscore.models import encode_conversation_cut

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


class RewardRunner:
    def __init__(self, model, tok, max_seq_len: int, batch_size: int = 128,
                 dtype: Precision = "float32", device: str | None = None):
        self.tok, self.max_seq_len, self.batch_size = tok, max_seq_len, batch_size
        self.device = pick_device(device)
        self.dtype, self.precision_reason = resolve_precision(dtype, self.device)
        self.model = prepare_model(model, self.dtype, self.device)
        self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else 0
        self.cut = np.zeros(0, dtype=bool)
        """Per conversation of the last rewards() call: whether it was cut to max_seq_len tokens."""

    def encode(self, conversations: list[list[dict]]) -> list[list[int]]:
        encoded = [encode_conversation_cut(self.tok, c, self.max_seq_len) for c in conversations]
        self.cut = np.array([cut for _, cut in encoded], dtype=bool)
        return [ids for ids, _ in encoded]

    def rewards(self, conversations: list[list[dict]]) -> np.ndarray:
        return self.rewards_from_ids(self.encode(conversations))

    def rewards_from_ids(self, ids: list[list[int]]) -> np.ndarray:
        import torch

        out = np.empty(len(ids), dtype=np.float32)
        order = np.argsort([len(x) for x in ids], kind="stable")
        with torch.inference_mode(), autocast(self.dtype, self.device):
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                input_ids, mask = self._pad([ids[i] for i in idx])
                logits = self.model(input_ids=input_ids, attention_mask=mask).logits
                out[idx] = logits[:, 0].float().cpu().numpy()
        return out

    def _pad(self, batch: list[list[int]]):
        import torch

        width = max(len(x) for x in batch)
        input_ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, seq in enumerate(batch):  # right padding: decoder heads find the last real token
            input_ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            mask[row, : len(seq)] = 1
        return input_ids.to(self.device), mask.to(self.device)
