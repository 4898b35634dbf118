"""DeepSpeed ZeRO for the HF/TRL trainers on Ray Train: a typed spec in, a DeepSpeed config dict out.

    deepspeed:              # in a train_* YAML
      stage: 3              # 0 = off (plain DDP), 2 = shard optimizer state + gradients, 3 = + weights
      offload_optimizer: true
    ...
    setup_worker(cfg.deepspeed)                                 # in the worker, first thing
    args = RewardConfig(..., deepspeed=deepspeed_config(cfg.deepspeed, use_gpu=cfg.scaling.use_gpu))

The dict leaves batch size, gradient clipping, learning rate and precision as "auto", so the
HF trainer fills them from its own arguments and the two can never disagree. Create the trainer's
arguments *before* loading the model: under ZeRO-3 `from_pretrained` then partitions weights as it
loads them (HF's zero.Init integration) instead of materialising the whole model on every worker.

On CPU DeepSpeed runs over Ray's gloo process group in float32. Its C++ ops build just in time,
cached in TORCH_EXTENSIONS_DIR: `optimizer: torch` keeps the trainer's torch AdamW so no Adam is
built (DeepSpeed's takes ~40 s), and setup_worker skips the shared-memory comm op (~25 s on an idle
2-core machine, ~90 s on a loaded one), which only DeepSpeed's inference all-reduce uses.

Saving under ZeRO-3: `gather_full_state(trainer)` (called on every rank) consolidates the
partitioned weights on rank 0 through the trainer's accelerator, the path `Trainer.save_model`
takes; `plain_model_loading()` then lets rank 0 build an ordinary, unpartitioned copy to save.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal


@dataclass
class DeepSpeedSpec:
    """DeepSpeed ZeRO settings handed to the HF/TRL trainer (stage 0 = DeepSpeed off)."""

    stage: Literal[0, 2, 3] = 0
    """ZeRO stage: 0 = off (DDP), 2 = shard optimizer state and gradients, 3 = also shard weights."""
    offload_optimizer: bool = False
    """Keep optimizer state (and the optimizer step) in CPU memory (ZeRO-Offload)."""
    offload_params: bool = False
    """Keep sharded weights in CPU memory between uses (ZeRO-Infinity; stage 3 only)."""
    optimizer: Literal["torch", "deepspeed"] = "torch"
    """torch: the trainer's torch AdamW (nothing to compile); deepspeed: DeepSpeed's fused/CPU Adam
    (built on first use)."""
    torch_extensions_dir: str = "~/.cache/torch_extensions"
    """Cache for DeepSpeed's JIT-built C++ ops (TORCH_EXTENSIONS_DIR; an existing env var wins)."""

    @property
    def enabled(self) -> bool:
        return self.stage > 0

    def check(self) -> list[str]:
        problems = []
        if self.offload_params and self.stage != 3:
            problems.append(f"offload_params: needs stage 3 (weights are only sharded there), got stage {self.stage}")
        if self.offload_optimizer and self.stage == 0:
            problems.append("offload_optimizer: needs stage 2 or 3")
        return problems


def training_problems(cfg) -> list[str]:
    """Settings a training job config (its train.precision, scaling, deepspeed, lora, model) cannot
    run with together, each naming the key and how to fix it."""
    problems = []
    precision, use_gpu = cfg.train.precision, cfg.scaling.use_gpu
    if cfg.deepspeed.enabled and not use_gpu and precision != "float32":
        problems.append(f"train.precision: DeepSpeed on CPU runs in float32, got {precision!r} "
                        "(set train.precision=float32, or scaling.use_gpu=true)")
    if cfg.deepspeed.stage == 3 and not use_gpu and cfg.lora.enabled and cfg.model.add_chinese_chars:
        problems.append("model.add_chinese_chars: LoRA under ZeRO-3 on CPU cannot train added token rows "
                        "(PEFT gathers them on CUDA only); set model.add_chinese_chars=false, "
                        "lora.enabled=false or deepspeed.stage=2")
    if precision == "float16" and not use_gpu:
        problems.append("train.precision: float16 needs GPUs (use float32 or bfloat16 on CPU)")
    return problems


def deepspeed_config(spec: DeepSpeedSpec, use_gpu: bool) -> dict | None:
    """The DeepSpeed config dict for TrainingArguments(deepspeed=...); None when stage is 0."""
    if not spec.enabled:
        return None
    zero: dict = {
        "stage": spec.stage,
        "overlap_comm": use_gpu,  # overlapping needs streams; on CPU it only adds buffers
        "contiguous_gradients": True,
        "reduce_bucket_size": "auto",
    }
    if spec.offload_optimizer:
        zero["offload_optimizer"] = {"device": "cpu", "pin_memory": use_gpu}
    if spec.stage == 3:
        zero.update({
            "stage3_gather_16bit_weights_on_model_save": True,  # the job saves a whole model dir
            "stage3_prefetch_bucket_size": "auto",
            "stage3_param_persistence_threshold": "auto",
        })
        if spec.offload_params:
            zero["offload_param"] = {"device": "cpu", "pin_memory": use_gpu}
    config: dict = {
        "zero_optimization": zero,
        "train_micro_batch_size_per_gpu": "auto",
        "train_batch_size": "auto",
        "gradient_accumulation_steps": "auto",
        "gradient_clipping": "auto",
        "bf16": {"enabled": "auto"},
        "fp16": {"enabled": "auto"},
        "steps_per_print": 1_000_000,  # the trainer logs; DeepSpeed's own prints only add noise
        "wall_clock_breakdown": False,
    }
    if spec.optimizer == "deepspeed":
        config["optimizer"] = {"type": "AdamW", "params": {
            "lr": "auto", "betas": "auto", "eps": "auto", "weight_decay": "auto"}}
    elif spec.offload_optimizer:
        # A torch optimizer over offloaded state: slower than DeepSpeedCPUAdam on big models,
        # but nothing to compile; DeepSpeed refuses it unless told this is deliberate.
        config["zero_force_ds_cpu_optimizer"] = False
    return config


def setup_worker(spec: DeepSpeedSpec) -> None:
    """In each training worker, before the trainer's arguments and the model are built: point the
    JIT op builds at a persistent cache, and let DeepSpeed adopt Ray Train's process group (ZeRO-3
    partitions weights while from_pretrained loads them, and sizes its batch by that world size)."""
    if not spec.enabled:
        return
    os.environ.setdefault("TORCH_EXTENSIONS_DIR", os.path.expanduser(spec.torch_extensions_dir))
    import deepspeed
    import deepspeed.ops

    # The comm backend builds this op when it starts, for inference all-reduce alone: training never
    # calls it. Marked incompatible, DeepSpeed leaves it unbuilt and all-reduces through the process group.
    deepspeed.ops.__compatible_ops__["deepspeed_shm_comm"] = False
    deepspeed.init_distributed()  # torch.distributed is already up (Ray Train): DeepSpeed wraps it


def is_zero3(trainer) -> bool:
    plugin = getattr(trainer.accelerator.state, "deepspeed_plugin", None)
    return bool(getattr(trainer, "is_deepspeed_enabled", False) and plugin is not None and plugin.zero_stage == 3)


def gather_full_state(trainer) -> dict | None:
    """Under ZeRO-3, the full (consolidated) state dict on rank 0 and None elsewhere; call on every
    rank, it is a collective. Without ZeRO-3 the model is whole on every rank: returns None."""
    if not is_zero3(trainer):
        return None
    return trainer.accelerator.get_state_dict(trainer.deepspeed)


def plain_model_loading() -> None:
    """After ZeRO-3 training, let this process build ordinary (unpartitioned) models again.

    HF's from_pretrained partitions weights while a ZeRO-3 TrainingArguments is alive in the
    process, and partitioning is a collective: a model built on rank 0 alone would hang."""
    from transformers.integrations.deepspeed import unset_hf_deepspeed_config

    unset_hf_deepspeed_config()
