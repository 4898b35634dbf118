"""Train a generative score model by SFT: TRL SFTTrainer + PEFT LoRA on Ray Train (the Hupu rating
design of docs/train.md: a prompt in, its score as text out).

Run as:
  python -m jobs.train_sft --config configs/train_sft/hupu.yaml data.train_path=data/hupu.csv
  python -m jobs.train_sft --config configs/train_sft/tiny.yaml model.name_or_path=/path/to/tiny-lm

Each sample is a conversation: the user turn `{Introduce}中的{Title}你能打几颗星:`, the assistant
turn the score as text (`9.7`). TRL receives it in its conversational prompt-completion shape and
tokenises it through the chat template; with completion_only_loss the prompt's labels are -100,
so the loss is on the answer (and the template's end-of-turn token) only.
After training, rank 0 reads scores on the held-out prompts (rayscore.train.sft_eval: expected
score from digit probabilities, and greedy answers parsed as numbers) for the tuned model and for
the base model with the adapter switched off, then saves the model.

The driver reads, converts, de-duplicates and splits the data once, sets aside samples longer
than model.max_seq_len (TRL would cut their answer), and hands the rest to the workers through
the object store: every worker trains on the same samples, and no worker needs the input file.

Writes under <output_dir>:
  model/                   adapter/ (LoRA only), merged/ (what the generative scorer loads), fingerprint.txt
  metrics.json             data account, training, and the evaluation of adapter and base side by side
  config.yaml              the resolved config
  training_curves.png      loss by step; log_history.json, the numbers behind it
  error_hist_adapter.png   expected score - real score on the held-out prompts (and _base.png)
  eval_predictions.parquet every held-out prompt with both readings of both models
  data/                    train.jsonl, eval.jsonl: the samples as trained and evaluated
  quarantine/rows.jsonl    rows not used, each with `reason`
  ray_results/             Ray Train checkpoints (or scaling.storage_path)
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from rayscore.config import range_problems, save_config
from rayscore.data.data_check import DataCheckSpec, check_data
from rayscore.data.hupu import SftData, SftDataSpec, load_sft_data, sample_prompt, sample_texts
from rayscore.io import join, local_output, write_json, write_jsonl
from rayscore.models import CAUSAL_CHAT_TEMPLATE, LoraSpec, ModelSpec, add_lora, load_causal_model, load_tokenizer
from rayscore.report import write_report
from rayscore.train.scaling import (
    ScalingSpec,
    TrainPrecision,
    TrainResult,
    TrainSpec,
    absolute_paths,
    attempt_callback,
    export_final_checkpoint,
    is_rank_zero,
    local_workdir,
    log_progress,
    model_location,
    report_final,
    restore_checkpoint,
    resumed_step,
    setup_worker_logging,
    threads_for_worker,
    torch_trainer,
    trainer_arguments,
)
from rayscore.train.sft_eval import SftEvalSpec, evaluate_sft
from rayscore.train.tracking import track

logger = logging.getLogger(__name__)

REPORT_DIR = "report"
"""Evaluation files travel from rank 0 to the driver inside the final checkpoint, in this folder."""
LOG_HISTORY_FILE, CURVES_FILE, PREDICTIONS_FILE = "log_history.json", "training_curves.png", "eval_predictions.parquet"


@dataclass
class SftTrainSpec(TrainSpec):
    """Optimisation settings handed to TRL's SFTConfig (the shared ones, and these)."""

    epochs: float = 3.0
    """Passes over the training samples (ignored when max_steps > 0)."""
    learning_rate: float = 1e-4
    """Peak AdamW learning rate."""
    batch_size_per_worker: int = 8
    """Samples per worker per step (before gradient accumulation)."""
    warmup_ratio: float = 0.03
    """Share of steps spent warming the learning rate up."""
    save_steps: int = 200
    """Checkpoint to Ray storage every N steps (what a restarted worker group resumes from)."""
    gradient_accumulation_steps: int = 1
    """Micro-batches summed per optimiser step."""
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = "cosine"
    """Learning-rate schedule after warm-up."""
    weights_dtype: TrainPrecision = "float32"
    """dtype the base weights are loaded in (bfloat16 halves GPU memory; LoRA weights stay float32)."""
    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass (less memory for large models, ~30 % slower)."""
    eval_every_epoch: bool = True
    """Loss on the held-out samples at the end of every epoch (and of the last, partial one)."""

    def check(self) -> list[str]:
        problems = super().check()
        problems += range_problems(self, gradient_accumulation_steps=">= 1")
        return problems


def _causal_model_spec() -> ModelSpec:
    return ModelSpec(name_or_path="Qwen/Qwen2-0.5B-Instruct", max_seq_len=128, add_chinese_chars=False)


def _causal_lora_spec() -> LoraSpec:
    return LoraSpec(r=8, alpha=16, dropout=0.05, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
                    modules_to_save=[])


@dataclass
class SftJobConfig:
    """train_sft: rating rows in, a generative score model directory and its evaluation out."""

    output_dir: str = "out/train_sft"
    """Everything the job writes goes under this directory."""
    data: SftDataSpec = field(default_factory=SftDataSpec)
    """Samples and the validation split."""
    data_check: DataCheckSpec = field(default_factory=DataCheckSpec)
    """Duplicates, train/eval overlap and diversity of the samples, checked before training (docs/train.md)."""
    model: ModelSpec = field(default_factory=_causal_model_spec)
    """A causal LM (any AutoModelForCausalLM path) and its tokenisation; its chat template is used."""
    lora: LoraSpec = field(default_factory=_causal_lora_spec)
    """Adapter (CAUSAL_LM; Qwen/Llama module names) or full fine-tuning when lora.enabled is false."""
    train: SftTrainSpec = field(default_factory=SftTrainSpec)
    """Optimisation."""
    eval: SftEvalSpec = field(default_factory=SftEvalSpec)
    """Reading scores on the held-out prompts, tuned model against base model."""
    scaling: ScalingSpec = field(default_factory=ScalingSpec)
    """Ray Train resources, storage and fault tolerance."""

    def check(self) -> list[str]:
        if self.model.name_or_path == "minilm":
            return ["model.name_or_path: minilm is an encoder; train_sft needs a causal LM "
                    "(e.g. Qwen/Qwen2-0.5B-Instruct or a local directory)"]
        return []


def run(cfg: SftJobConfig) -> TrainResult:
    """Prepare the data, train on Ray Train, export the model, write the report.
    Ray must be initialised (jobs do ray.init())."""
    cfg = absolute_paths(cfg)
    with local_output(cfg.output_dir) as out:  # a URI's files are staged here, uploaded at the end
        return _run(cfg, out)


def _run(cfg: SftJobConfig, out: Path) -> TrainResult:
    import ray

    save_config(cfg, out / "config.yaml")
    started = time.time()
    data = prepare_sft_data(cfg, load_tokenizer(cfg.model, CAUSAL_CHAT_TEMPLATE))
    write_data(data, out)
    if len(data.train) == 0:
        raise ValueError(f"data.train_path {cfg.data.train_path}: no training samples ({data.counts}); "
                         f"see {join(cfg.output_dir, 'quarantine')}")

    result = torch_trainer(train_loop_per_worker, cfg, cfg.scaling, name="train_sft", data=ray.put(data)).fit()
    model_dir = export_final_checkpoint(result, out)
    report, predictions, log_history = unpack_report(model_dir, out)
    metrics = {"data": data.counts, "data_check": data.data_check, **report,
               "wall_time_s": round(time.time() - started, 1)}
    write_json(out / "metrics.json", metrics)
    write_plots(out, log_history, predictions, [n for n in ("adapter", "base") if n in report["eval"]])
    metrics = track(cfg.train.report_to, out, "train_sft", metrics)
    write_report(out, cfg.output_dir)
    side = report["eval"].get("side_by_side", {})
    logger.info("model: %s  eval MAE, expected score: %s  greedy: %s", model_location(cfg.output_dir),
                side.get("expected", {}).get("mae"), side.get("greedy", {}).get("mae"))
    return TrainResult(model_location(cfg.output_dir), metrics)


def train_loop_per_worker(config: dict) -> None:
    """Runs on every Ray Train worker: model, TRL SFT; rank 0 evaluates and exports."""
    import ray
    from ray.train.huggingface.transformers import RayTrainReportCallback, prepare_trainer

    setup_worker_logging()
    cfg: SftJobConfig = config["cfg"]
    data: SftData = ray.get(config["data"])
    threads_for_worker(cfg.scaling.cpus_per_worker)
    tok = load_tokenizer(cfg.model, CAUSAL_CHAT_TEMPLATE)
    model = load_causal_model(cfg.model, tok, cfg.train.weights_dtype)
    if cfg.lora.enabled:
        model = add_lora(model, cfg.lora, tok, task_type="CAUSAL_LM")
    workdir = local_workdir("sft")
    attempt = attempt_callback()
    trainer = build_sft_trainer(cfg, model, tok, data.train, workdir, callbacks=[RayTrainReportCallback(), attempt],
                                eval_samples=data.eval)
    trainer = prepare_trainer(trainer)
    log_progress(trainer, cfg.train.progress_every_s, unit="samples")
    resume = restore_checkpoint(workdir)
    started = time.time()
    train_output = trainer.train(resume_from_checkpoint=resume)

    losses = loss_curve(trainer.state.log_history)
    train_metrics = {
        "train_samples": len(data.train), "steps": int(trainer.state.global_step),
        "train_loss": float(train_output.training_loss),
        "first_loss": losses[0][1] if losses else None, "last_loss": losses[-1][1] if losses else None,
        "eval_loss_by_epoch": eval_loss_by_epoch(trainer.state.log_history),
        "train_samples_per_s": round(train_output.metrics.get("train_samples_per_second", 0.0), 2),
        "train_time_s": round(time.time() - started, 1), "num_workers": cfg.scaling.num_workers,
        "resumed_from_step": resumed_step(resume), "first_step_this_attempt": attempt.first_step,
    }
    model_dir, summary = None, dict(train_metrics)
    if is_rank_zero():
        model_dir = Path(workdir, "final")
        eval_metrics = evaluate_and_save(trainer, cfg, tok, data, train_metrics, model_dir)
        summary.update(_flat_eval(eval_metrics))
    report_final(summary, str(model_dir) if model_dir else None)


def evaluate_and_save(trainer, cfg: SftJobConfig, tok, data: SftData, train_metrics: dict, model_dir: Path) -> dict:
    """Rank 0: read scores of the tuned and the base model on the held-out prompts, then save the
    model (adapter/, merged/) with the report files inside the final checkpoint."""
    from rayscore.models import save_scorer

    base = None
    if cfg.eval.compare_base and not cfg.lora.enabled:
        base = load_causal_model(cfg.model, tok, cfg.train.weights_dtype)  # the tuned weights replaced it
    eval_metrics, predictions = evaluate_sft(trainer.model, tok, data.eval, cfg.eval, cfg.data.score_max,
                                             cfg.model.max_seq_len, base)
    save_scorer(trainer.model, tok, model_dir)  # merges the adapter: after the base was read through it
    report = model_dir / REPORT_DIR
    report.mkdir(parents=True, exist_ok=True)
    write_json(report / "metrics.json", {"train": train_metrics, "eval": eval_metrics})
    write_json(report / LOG_HISTORY_FILE, {"log_history": trainer.state.log_history})
    predictions.to_parquet(report / PREDICTIONS_FILE, index=False)
    return eval_metrics


# --- data and trainer -------------------------------------------------------------------------

def conversations(samples: pd.DataFrame):
    """TRL's conversational prompt-completion dataset: the prompt is the user turn, the
    completion the assistant's answer (completion_only_loss masks the prompt)."""
    from datasets import Dataset

    return Dataset.from_dict({
        "prompt": [[{"role": "user", "content": sample_prompt(i, x)}]
                   for i, x in zip(samples["instruction"], samples["input"])],
        "completion": [[{"role": "assistant", "content": str(o)}] for o in samples["output"]],
    })


def prepare_sft_data(cfg: SftJobConfig, tok) -> SftData:
    """load_sft_data, then the data check (training samples it sets aside are quarantined with its
    reason), then samples longer than model.max_seq_len tokens (TRL would cut the end, which is the
    answer) are quarantined as too_long, train and eval alike."""
    data = load_sft_data(cfg.data)
    checked = check_data(data.train, data.eval, sample_texts, cfg.data_check, unit="sample")
    train, long_train = split_too_long(checked.train, tok, cfg.model.max_seq_len)
    evaluation, long_eval = split_too_long(checked.eval, tok, cfg.model.max_seq_len)
    quarantined = pd.concat([data.quarantined, checked.set_aside.assign(split="train"),
                             long_train.assign(split="train"), long_eval.assign(split="eval")], ignore_index=True)
    counts = {**data.counts, "set_aside_by_data_check": len(checked.set_aside),
              "too_long": len(long_train) + len(long_eval), "train_samples": len(train),
              "eval_samples": len(evaluation)}
    return SftData(train, evaluation, quarantined, counts, checked.report)


def split_too_long(samples: pd.DataFrame, tok, max_len: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(samples that fit, samples over max_len tokens with reason too_long and their length)."""
    lengths = np.array([len(tok.apply_chat_template(
        [{"role": "user", "content": sample_prompt(i, x)}, {"role": "assistant", "content": str(o)}],
        tokenize=True, return_dict=True)["input_ids"])
        for i, x, o in zip(samples["instruction"], samples["input"], samples["output"])], dtype=int)
    long = lengths > max_len
    if long.any():
        logger.warning("%d of %d samples are longer than model.max_seq_len=%d tokens: quarantined as too_long",
                       int(long.sum()), len(samples), max_len)
    return (samples[~long].reset_index(drop=True),
            samples[long].assign(reason="too_long", tokens=lengths[long]).reset_index(drop=True))


def build_sft_trainer(cfg: SftJobConfig, model, tok, samples: pd.DataFrame, workdir: str, callbacks=(),
                      eval_samples: pd.DataFrame | None = None):
    """TRL's SFTTrainer on the samples; with eval_samples (and train.eval_every_epoch) it measures
    their loss at the end of every epoch."""
    from trl import SFTTrainer

    evaluates = cfg.train.eval_every_epoch and eval_samples is not None and len(eval_samples) > 0
    return SFTTrainer(model=model, args=sft_config(cfg, workdir, evaluates), train_dataset=conversations(samples),
                      eval_dataset=conversations(eval_samples) if evaluates else None,
                      processing_class=tok, callbacks=list(callbacks))


def sft_config(cfg: SftJobConfig, workdir: str, evaluates: bool = False):
    from trl import SFTConfig

    t = cfg.train
    return SFTConfig(
        **trainer_arguments(t, workdir, cfg.scaling.use_gpu),
        gradient_accumulation_steps=t.gradient_accumulation_steps,
        lr_scheduler_type=t.lr_scheduler,
        logging_first_step=True,  # the curve starts at the untrained loss
        eval_strategy="epoch" if evaluates else "no",
        per_device_eval_batch_size=t.batch_size_per_worker,
        activation_checkpointing=t.gradient_checkpointing,
        max_length=cfg.model.max_seq_len,  # nothing longer is left (prepare_sft_data)
        completion_only_loss=True,
        packing=False,
    )


# --- report -----------------------------------------------------------------------------------

def loss_curve(log_history: list[dict]) -> list[tuple[int, float]]:
    """(step, training loss) of every logged step."""
    return [(int(e["step"]), float(e["loss"])) for e in log_history if "loss" in e and "step" in e]


def eval_loss_by_epoch(log_history: list[dict]) -> list[dict]:
    """The held-out loss at the end of each epoch: [{"epoch", "step", "loss"}, ...]."""
    return [{"epoch": round(float(e["epoch"]), 2), "step": int(e["step"]), "loss": round(float(e["eval_loss"]), 4)}
            for e in log_history if "eval_loss" in e]


def write_data(data: SftData, out: Path) -> None:
    write_jsonl(data.train, out / "data" / "train.jsonl")
    write_jsonl(data.eval, out / "data" / "eval.jsonl")
    write_jsonl(data.quarantined, out / "quarantine" / "rows.jsonl")


def unpack_report(model_dir: Path, out: Path) -> tuple[dict, pd.DataFrame, list[dict]]:
    """Move rank 0's report out of the exported model dir into output_dir; return its contents."""
    report = model_dir / REPORT_DIR
    for name in (LOG_HISTORY_FILE, PREDICTIONS_FILE):
        shutil.move(str(report / name), str(out / name))
    metrics = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
    shutil.rmtree(report)
    log_history = json.loads((out / LOG_HISTORY_FILE).read_text(encoding="utf-8"))["log_history"]
    return metrics, pd.read_parquet(out / PREDICTIONS_FILE), log_history


def write_plots(out: Path, log_history: list[dict], predictions: pd.DataFrame, models: list[str]) -> list[Path]:
    """training_curves.png, and error_hist_<model>.png (expected score - real) per evaluated model."""
    from rayscore.eval.plots import plot_error_histogram
    from rayscore.train.curves import plot_training_curves

    paths = [plot_training_curves(log_history, out / CURVES_FILE, title="train_sft")]
    for name in models:
        errors = predictions[f"{name}_expected"] - predictions["real"]
        paths.append(plot_error_histogram(errors.tolist(), out / f"error_hist_{name}.png",
                                          title=f"{name}: expected score - real score"))
    return paths


def _flat_eval(eval_metrics: dict) -> dict:
    """A few scalars for Ray's result (the full report travels as files)."""
    flat = {"eval_samples": eval_metrics.get("n", 0)}
    for name in ("adapter", "base"):
        if name in eval_metrics:
            flat[f"{name}_expected_mae"] = eval_metrics[name]["expected"]["mae"]
            flat[f"{name}_greedy_mae"] = eval_metrics[name]["greedy"]["mae"]
            flat[f"{name}_greedy_parse_rate"] = eval_metrics[name]["greedy"]["parse_rate"]
    return flat
