"""Train a reward model with TRL's RewardTrainer on Ray Train (N workers, LoRA via PEFT).

Run as:
  python -m jobs.train_reward --config configs/train_reward/addresses.yaml
  python -m jobs.train_reward --config configs/train_reward/tiny.yaml scaling.num_workers=1

Pairs are tokenised here, through the model's chat template, by the same function the scorers
use (`encode_conversation`), so training and scoring see identical token ids; TRL receives
`chosen_ids` / `rejected_ids` and never filters or re-tokenises a row.
Writes <output_dir>/model (adapter/, merged/, fingerprint.txt), metrics.json, config.yaml.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from rayscore.config import save_config
from rayscore.data.preferences import PreferenceDataSpec, load_preferences, split_pairs
from rayscore.io import write_json
from rayscore.models import LoraSpec, ModelSpec, add_lora, encode_conversation, load_reward_model, load_tokenizer
from rayscore.runtime import absolute
from rayscore.train.scaling import (
    ScalingSpec, export_final_checkpoint, is_rank_zero, local_workdir, report_final, restore_checkpoint,
    threads_for_worker, torch_trainer)

logger = logging.getLogger(__name__)


@dataclass
class RewardTrainSpec:
    """Optimisation settings handed to TRL's RewardConfig."""

    epochs: float = 1.0
    """Passes over the training pairs (ignored when max_steps > 0)."""
    max_steps: int = -1
    """Stop after this many optimiser steps (-1: run all epochs)."""
    learning_rate: float = 5e-4
    """Peak AdamW learning rate (LoRA on CPU wants more than TRL's 1e-4)."""
    batch_size_per_worker: int = 16
    """Pairs per worker per step."""
    warmup_ratio: float = 0.05
    """Share of steps spent warming the learning rate up."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    use_margin: bool = False
    """Subtract margin = score_chosen - score_rejected inside the loss (TRL's margin column)."""
    center_rewards_coefficient: float | None = None
    """TRL's penalty pushing rewards towards mean zero (e.g. 0.01); null = off."""
    precision: Literal["float32", "bfloat16", "float16"] = "float32"
    """Mixed precision: bfloat16 on GPUs (and recent CPUs), float32 for exact CPU runs."""
    logging_steps: int = 10
    """Log loss every N steps."""
    save_steps: int = 50
    """Checkpoint to Ray storage every N steps (what a restarted worker group resumes from)."""
    seed: int = 0
    """Seed for the head's initialisation and data order."""

    def check(self) -> list[str]:
        problems = []
        if self.learning_rate <= 0:
            problems.append(f"learning_rate: must be > 0, got {self.learning_rate}")
        if self.batch_size_per_worker < 1:
            problems.append(f"batch_size_per_worker: must be >= 1, got {self.batch_size_per_worker}")
        if self.epochs <= 0 and self.max_steps <= 0:
            problems.append("epochs: must be > 0 unless max_steps > 0")
        return problems


@dataclass
class RewardJobConfig:
    """train_reward: preference pairs in, a reward model directory out."""

    output_dir: str = "out/train_reward"
    """Everything the job writes goes under this directory."""
    data: PreferenceDataSpec = field(default_factory=PreferenceDataSpec)
    """Training data."""
    model: ModelSpec = field(default_factory=ModelSpec)
    """Backbone and tokenisation."""
    lora: LoraSpec = field(default_factory=LoraSpec)
    """Adapter (or full fine-tuning when lora.enabled is false)."""
    train: RewardTrainSpec = field(default_factory=RewardTrainSpec)
    """Optimisation."""
    scaling: ScalingSpec = field(default_factory=ScalingSpec)
    """Ray Train resources, storage and fault tolerance."""
    subset_column: str | None = "error_type"
    """Column for per-subset eval accuracy (skipped when absent)."""


@dataclass
class RewardResult:
    model_dir: Path
    metrics: dict

    @property
    def ok(self) -> bool:
        return self.model_dir.exists()


def run(cfg: RewardJobConfig) -> RewardResult:
    """Train on Ray Train and export the model; Ray must be initialised (jobs do ray.init())."""
    cfg = replace(cfg, output_dir=absolute(cfg.output_dir),
                  data=replace(cfg.data, train_path=absolute(cfg.data.train_path), eval_path=absolute(cfg.data.eval_path)),
                  model=replace(cfg.model, name_or_path=absolute(cfg.model.name_or_path)))
    out = Path(cfg.output_dir)
    save_config(cfg, out / "config.yaml")
    started = time.time()
    result = torch_trainer(train_loop_per_worker, cfg, cfg.scaling, name="train_reward").fit()
    model_dir = export_final_checkpoint(result, cfg.output_dir)
    metrics = {k: v for k, v in result.metrics.items() if k != "final"}
    metrics["wall_time_s"] = round(time.time() - started, 1)
    write_json(out / "metrics.json", metrics)
    logger.info("model: %s  eval accuracy: %s", model_dir, metrics.get("eval_accuracy"))
    return RewardResult(model_dir, metrics)


def train_loop_per_worker(config: dict) -> None:
    """Runs on every Ray Train worker: build data and model, train with TRL, report, export."""
    from ray.train.huggingface.transformers import RayTrainReportCallback, prepare_trainer
    from trl import RewardTrainer

    cfg: RewardJobConfig = config["cfg"]
    threads_for_worker(cfg.scaling.cpus_per_worker)
    tok = load_tokenizer(cfg.model)
    train_df, eval_df, quarantined = build_splits(cfg)
    model = load_reward_model(cfg.model, tok)
    if cfg.lora.enabled:
        model = add_lora(model, cfg.lora, tok)

    workdir = local_workdir("reward")
    trainer = RewardTrainer(
        model=model,
        args=reward_config(cfg, workdir),
        train_dataset=tokenized(train_df, tok, cfg),
        eval_dataset=tokenized(eval_df, tok, cfg),
        processing_class=tok,
        callbacks=[RayTrainReportCallback()],
    )
    trainer = prepare_trainer(trainer)
    started = time.time()
    train_output = trainer.train(resume_from_checkpoint=restore_checkpoint(workdir))
    elapsed = time.time() - started

    metrics = {
        "train_pairs": len(train_df), "eval_pairs": len(eval_df), "quarantined_pairs": len(quarantined),
        "train_loss": float(train_output.training_loss), "steps": int(trainer.state.global_step),
        "train_pairs_per_s": round(train_output.metrics.get("train_samples_per_second", 0.0), 2),
        "train_time_s": round(elapsed, 1), "num_workers": cfg.scaling.num_workers,
    }
    model_dir = None
    if is_rank_zero():
        from rayscore.models import save_scorer
        from rayscore.score.runner import RewardRunner

        model_dir = Path(workdir, "final")
        save_scorer(trainer.model, tok, model_dir)
        merged, merged_tok = _load_merged(model_dir)
        runner = RewardRunner(merged, merged_tok, cfg.model.max_seq_len, batch_size=64, device="cpu")
        metrics.update(evaluate_pairs(runner, eval_df, cfg.subset_column))
        write_json(model_dir / "metrics.json", metrics)
    report_final(metrics, str(model_dir) if model_dir else None)


def build_splits(cfg: RewardJobConfig) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    pairs, quarantined = load_preferences(cfg.data)
    if cfg.data.eval_path:
        eval_df, eval_bad = load_preferences(cfg.data, cfg.data.eval_path)
        return pairs, eval_df, pd.concat([quarantined, eval_bad])
    train_df, eval_df = split_pairs(pairs, cfg.data.eval_fraction, cfg.data.seed)
    return train_df, eval_df, quarantined


def tokenized(pairs: pd.DataFrame, tok, cfg: RewardJobConfig):
    """A datasets.Dataset of chosen_ids / rejected_ids (+ margin): what TRL trains on as is."""
    from datasets import Dataset

    n = cfg.model.max_seq_len
    columns = {
        "chosen_ids": [encode_conversation(tok, list(c), n) for c in pairs["chosen"]],
        "rejected_ids": [encode_conversation(tok, list(r), n) for r in pairs["rejected"]],
    }
    if cfg.train.use_margin:
        columns["margin"] = (pairs["score_chosen"] - pairs["score_rejected"]).astype(float).tolist()
    return Dataset.from_dict(columns)


def reward_config(cfg: RewardJobConfig, workdir: str):
    from trl import RewardConfig

    t = cfg.train
    return RewardConfig(
        output_dir=workdir,
        num_train_epochs=t.epochs,
        max_steps=t.max_steps,
        learning_rate=t.learning_rate,
        per_device_train_batch_size=t.batch_size_per_worker,
        per_device_eval_batch_size=t.batch_size_per_worker * 2,
        warmup_steps=t.warmup_ratio,
        weight_decay=t.weight_decay,
        lr_scheduler_type="linear",
        logging_steps=t.logging_steps,
        save_strategy="steps",
        save_steps=t.save_steps,
        eval_strategy="no",
        report_to="none",
        seed=t.seed,
        bf16=t.precision == "bfloat16",
        fp16=t.precision == "float16",
        use_cpu=not cfg.scaling.use_gpu,
        gradient_checkpointing=False,
        max_length=None,  # already cut to model.max_seq_len by encode_conversation: TRL drops nothing
        center_rewards_coefficient=t.center_rewards_coefficient,
        ddp_find_unused_parameters=False,
        dataloader_num_workers=0,
        disable_tqdm=True,
    )


def evaluate_pairs(runner, pairs: pd.DataFrame, subset_column: str | None = None) -> dict:
    """Accuracy, margins and reward spread on held-out pairs, through the scoring code path.

    The swap check scores the same pairs with chosen and rejected exchanged: a sound eval gives
    about 1 - accuracy there (ties aside); one that stays high is broken.
    """
    if len(pairs) == 0:
        return {"eval_pairs": 0}
    chosen = runner.rewards([list(c) for c in pairs["chosen"]])
    rejected = runner.rewards([list(r) for r in pairs["rejected"]])
    correct = chosen > rejected
    swapped = rejected > chosen
    metrics = {
        "eval_accuracy": float(correct.mean()),
        "eval_accuracy_swapped": float(swapped.mean()),
        "eval_swap_check_ok": bool(abs(correct.mean() + swapped.mean() - 1) < 0.02),
        "eval_mean_margin": float((chosen - rejected).mean()),
        "eval_reward_mean": float(np.concatenate([chosen, rejected]).mean()),
        "eval_reward_std": float(np.concatenate([chosen, rejected]).std()),
    }
    if subset_column and subset_column in pairs.columns:
        by = pd.Series(correct).groupby(pairs[subset_column].to_numpy()).mean()
        metrics["eval_accuracy_by_subset"] = {str(k): round(float(v), 4) for k, v in by.items()}
    return metrics


def _load_merged(model_dir: Path):
    from rayscore.models import load_scorer

    return load_scorer(model_dir)
