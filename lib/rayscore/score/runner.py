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

import numpy as np

from rayscore.inference import PRECISIONS, Precision, autocast, pick_device, prepare_model, resolve_precision
from rayscore.models import encode_conversation_cut

__all__ = ["RewardRunner", "PRECISIONS", "Precision"]

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
        return self.logits_from_ids(ids)[:, 0]

    def logits(self, conversations: list[list[dict]]) -> np.ndarray:
        """Every output of the head, one row per conversation: (n, num_labels)."""
        return self.logits_from_ids(self.encode(conversations))

    def logits_from_ids(self, ids: list[list[int]]) -> np.ndarray:
        import torch

        out = None
        order = np.argsort([len(x) for x in ids], kind="stable")
        with torch.inference_mode(), autocast(self.dtype, self.device):
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                input_ids, mask = self._pad([ids[i] for i in idx])
                logits = self.model(input_ids=input_ids, attention_mask=mask).logits.float().cpu().numpy()
                if out is None:
                    out = np.empty((len(ids), logits.shape[1]), dtype=np.float32)
                out[idx] = logits
        return out if out is not None else np.empty((0, 1), dtype=np.float32)

    def _pad(self, batch: list[list[int]]):
        import torch

        width = max(len(x) for x in batch)
        input_ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, seq in enumerate(batch):  # right padding: decoder heads find the last real token
            input_ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            mask[row, : len(seq)] = 1
        return input_ids.to(self.device), mask.to(self.device)
