"""Train a classifier (N classes) or a regressor (one score) on labelled texts, on Ray Train.

Run as:
  python -m jobs.train_classifier --config configs/train_classifier/edu_scores.yaml
  python -m jobs.train_classifier --config configs/train_classifier/tiny.yaml scaling.num_workers=1
  python -m jobs.train_classifier --config configs/train_classifier/edu_scores.yaml task=regression

The student of a teacher's pointwise grades (FineWeb-Edu's recipe: an LLM rates a sample, a small
model learns the ratings and scores the corpus). The HF Trainer trains
AutoModelForSequenceClassification (num_labels = N, or 1 with problem_type "regression") with the
same model loading, LoRA, DeepSpeed, checkpointing and resume as train_reward. The driver reads,
validates, splits and tokenises the rows once (the text as a one-turn conversation through the
model's chat template, exactly as the `classifier` scorer encodes it); workers get token ids.

A row's score is the regression output, or a classifier's expected class value sum_i p_i * i
(classes are 0..N-1); `threshold` turns a score into a binary label (score >= threshold). It is
saved with the model (calibration.json), so score_batch and serve label rows as training did.

Writes under <output_dir>:
  model/                 adapter/ (LoRA only), merged/ (what score and serve load), fingerprint.txt,
                         calibration.json (the threshold), metrics.json (held-out, from the saved model)
  metrics.json           data account, training and held-out metrics (eval/pointwise.py: agreement and
                         F1 at the threshold, Spearman, MAE, class accuracy and confusion)
  eval/                  confusion matrices, scatter and score histogram of the held-out rows
  config.yaml            the resolved config
  training_curves.png    loss by step; log_history.json, the numbers behind it
  quarantine/rows.jsonl  rows not trained on, each with `reason`
  ray_results/           Ray Train checkpoints (or scaling.storage_path)
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rayscore.config import range_problems, save_config
from rayscore.data.data_check import DataCheckSpec, check_data
from rayscore.data.labels import LabelDataSpec, Task, as_conversation, load_labels, split_rows
from rayscore.data.preferences import reason_counts, write_quarantine
from rayscore.io import join, local_output, write_json
from rayscore.models import (
    LoraSpec,
    ModelSpec,
    add_lora,
    add_missing_chars,
    encode_conversation,
    load_sequence_classifier,
    load_tokenizer,
    save_calibration,
    save_scorer,
)
from rayscore.report import write_report
from rayscore.train.curves import LOG_HISTORY_FILE, write_curves
from rayscore.train.deepspeed import (
    DeepSpeedSpec,
    deepspeed_config,
    gather_full_state,
    plain_model_loading,
    setup_worker,
    training_problems,
)
from rayscore.train.scaling import (
    ScalingSpec,
    TrainResult,
    TrainSpec,
    absolute_paths,
    attempt_callback,
    export_final_checkpoint,
    fit,
    is_rank_zero,
    local_workdir,
    model_location,
    report_final,
    setup_worker_logging,
    threads_for_worker,
    torch_trainer,
    trainer_arguments,
)
from rayscore.train.tracking import track

logger = logging.getLogger(__name__)


@dataclass
class ClassifierTrainSpec(TrainSpec):
    """Optimisation settings handed to the HF TrainingArguments (the shared ones, and these)."""

    epochs: float = 3.0
    """Passes over the training rows (ignored when max_steps > 0)."""
    batch_size_per_worker: int = 32
    """Rows per worker per step."""
    eval_steps: int = 0
    """Evaluate on the held-out rows every N steps (eval loss curve); 0 = only once, after training."""

    def check(self) -> list[str]:
        problems = super().check()
        problems += range_problems(self, eval_steps=">= 0")
        return problems


@dataclass
class ClassifierJobConfig:
    """train_classifier: labelled texts in, a classifier or regressor model directory out."""

    output_dir: str = "out/train_classifier"
    """Everything the job writes goes under this directory."""
    task: Task = "classification"
    """classification: labels are classes 0..num_labels-1; regression: labels are numbers (one output)."""
    num_labels: int = 2
    """classification: the number of classes (a 0-5 grade has 6); regression: ignored (one output)."""
    threshold: float | None = None
    """Score at or above which a row is labelled 1 (kept); null = the middle of the training labels' range."""
    data: LabelDataSpec = field(default_factory=LabelDataSpec)
    """Training data."""
    data_check: DataCheckSpec = field(default_factory=DataCheckSpec)
    """Duplicates, train/eval overlap and diversity of the texts, checked before training (docs/train.md)."""
    model: ModelSpec = field(default_factory=ModelSpec)
    """Backbone and tokenisation."""
    lora: LoraSpec = field(default_factory=LoraSpec)
    """Adapter (or full fine-tuning when lora.enabled is false)."""
    train: ClassifierTrainSpec = field(default_factory=ClassifierTrainSpec)
    """Optimisation."""
    scaling: ScalingSpec = field(default_factory=ScalingSpec)
    """Ray Train resources, storage and fault tolerance."""
    deepspeed: DeepSpeedSpec = field(default_factory=DeepSpeedSpec)
    """DeepSpeed ZeRO (stage 0 = off: plain DDP)."""

    def check(self) -> list[str]:
        problems = []
        if self.task == "classification" and self.num_labels < 2:
            problems.append(f"num_labels: a classifier needs >= 2 classes, got {self.num_labels} "
                            "(or set task=regression for one score)")
        return problems + training_problems(self)

    @property
    def outputs(self) -> int:
        return self.num_labels if self.task == "classification" else 1


@dataclass
class PreparedRows:
    """Validated, split and tokenised rows: what every worker trains and evaluates on (text, label,
    input_ids, plus the input's other columns)."""

    train: pd.DataFrame
    eval: pd.DataFrame
    quarantined: pd.DataFrame
    input_rows: int
    truncated_rows: int
    threshold: float
    extra_chars: list[str] = field(default_factory=list)
    """Characters of the data the tokenizer lacked, added in this order (workers add them too)."""
    data_check: dict = field(default_factory=dict)
    """The data check's report: duplicates, eval overlap, distinct-1/2, the largest template's share."""

    def account(self) -> dict:
        """Rows in = rows trained + rows held out + rows quarantined, by reason."""
        return {"input_rows": self.input_rows, "train_rows": len(self.train), "eval_rows": len(self.eval),
                "quarantined_rows": len(self.quarantined), "quarantine_reasons": reason_counts(self.quarantined),
                "truncated_rows": self.truncated_rows}


def run(cfg: ClassifierJobConfig) -> TrainResult:
    """Prepare the rows, train on Ray Train, export the model and the run's records.
    Ray must be initialised (jobs call ensure_ray())."""
    cfg = absolute_paths(cfg)
    with local_output(cfg.output_dir) as out:  # a URI's files are staged here, uploaded at the end
        return _run(cfg, out)


def _run(cfg: ClassifierJobConfig, out: Path) -> TrainResult:
    import ray

    save_config(cfg, out / "config.yaml")
    started = time.time()
    data = prepare_rows(cfg, load_tokenizer(cfg.model))
    Path(out, "quarantine", "rows.jsonl").unlink(missing_ok=True)  # never a previous run's rows
    write_quarantine(data.quarantined, out / "quarantine", name="rows")
    logger.info("rows: %s", data.account())
    if len(data.train) == 0:
        raise ValueError(f"{cfg.data.train_path}: no valid training rows (see {join(cfg.output_dir, 'quarantine')})")

    result = torch_trainer(train_loop_per_worker, cfg, cfg.scaling, name="train_classifier",
                           data=ray.put(data)).fit()
    model_dir = export_final_checkpoint(result, out)
    metrics = {**data.account(), "data_check": data.data_check,
               **{k: v for k, v in result.metrics.items() if k != "final"}}
    if len(data.eval):
        metrics["eval"] = evaluate_model(model_dir, data.eval, cfg, out / "eval")
    metrics["wall_time_s"] = round(time.time() - started, 1)
    write_json(out / "metrics.json", metrics)
    write_curves(model_dir, out, title="train_classifier")
    metrics = track(cfg.train.report_to, out, "train_classifier", metrics)
    write_report(out, cfg.output_dir)
    logger.info("model: %s  held-out agreement at %g: %s", model_location(cfg.output_dir), data.threshold,
                metrics.get("eval", {}).get("agreement"))
    return TrainResult(model_location(cfg.output_dir), metrics)


# --- data ------------------------------------------------------------------------------------

def prepare_rows(cfg: ClassifierJobConfig, tok) -> PreparedRows:
    """Read, validate, split, check (data_check) and tokenise; every row not trained on is
    quarantined with a reason."""
    from rayscore.data.chinese_chars import data_cjk_chars

    rows, bad = load_labels(cfg.data, cfg.task, cfg.num_labels)
    input_rows = len(rows) + len(bad)
    if cfg.data.eval_path:
        eval_df, eval_bad = load_labels(cfg.data, cfg.task, cfg.num_labels, cfg.data.eval_path)
        input_rows += len(eval_df) + len(eval_bad)
        bad = pd.concat([bad.assign(split="train"), eval_bad.assign(split="eval")], ignore_index=True)
        train_df = rows
    else:
        train_df, eval_df = split_rows(rows, cfg.data.eval_fraction, cfg.data.seed)
    checked = check_data(train_df, eval_df, lambda frame: frame["text"].tolist(), cfg.data_check)
    train_df, eval_df = checked.train, checked.eval
    bad = pd.concat([bad, checked.set_aside.assign(split="train") if cfg.data.eval_path else checked.set_aside],
                    ignore_index=True)
    extra_chars = (add_missing_chars(tok, data_cjk_chars(pd.concat([train_df, eval_df])["text"]))
                   if cfg.model.add_chinese_chars else [])
    train_df, cut_train = encode_rows(train_df, tok, cfg.model.max_seq_len)
    eval_df, cut_eval = encode_rows(eval_df, tok, cfg.model.max_seq_len)
    return PreparedRows(train_df, eval_df, bad, input_rows, cut_train + cut_eval,
                        default_threshold(cfg, train_df), extra_chars, checked.report)


def default_threshold(cfg: ClassifierJobConfig, train: pd.DataFrame) -> float:
    """cfg.threshold, else the middle of the labels' range (classes: (N-1)/2; regression: the
    training labels' min and max)."""
    if cfg.threshold is not None:
        return float(cfg.threshold)
    if cfg.task == "classification":
        return (cfg.num_labels - 1) / 2
    return float((train["label"].min() + train["label"].max()) / 2) if len(train) else 0.0


def encode_rows(rows: pd.DataFrame, tok, max_len: int) -> tuple[pd.DataFrame, int]:
    """(rows with input_ids within max_len, rows that had to be cut)."""
    full = [encode_conversation(tok, as_conversation(t), sys.maxsize) for t in rows["text"]]
    too_long = [len(x) > max_len for x in full]
    ids = [encode_conversation(tok, as_conversation(t), max_len) if long else x
           for t, x, long in zip(rows["text"], full, too_long)]
    return rows.assign(input_ids=ids), int(sum(too_long))


def to_dataset(rows: pd.DataFrame, task: Task):
    """A datasets.Dataset of input_ids and labels (int classes, or float targets for MSE)."""
    from datasets import Dataset

    labels = rows["label"].astype(int if task == "classification" else float).tolist()
    return Dataset.from_dict({"input_ids": list(rows["input_ids"]), "labels": labels})


# --- training --------------------------------------------------------------------------------

def train_loop_per_worker(config: dict) -> None:
    """Runs on every Ray Train worker: build the model, train with the HF Trainer, save, report."""
    import ray
    from ray.train.huggingface.transformers import RayTrainReportCallback

    setup_worker_logging()
    cfg: ClassifierJobConfig = config["cfg"]
    data: PreparedRows = ray.get(config["data"])
    threads_for_worker(cfg.scaling.cpus_per_worker)
    setup_worker(cfg.deepspeed)
    workdir = local_workdir("classifier")
    args = training_arguments(cfg, workdir)  # before the model: under ZeRO-3 from_pretrained then shards as it loads
    tok = load_tokenizer(cfg.model, extra_chars=data.extra_chars)
    attempt = attempt_callback()
    trainer = build_trainer(cfg, args, build_model(cfg, tok), tok, data, [RayTrainReportCallback(), attempt])
    metrics = fit(trainer, cfg, workdir, attempt, unit="rows")
    model_dir = Path(workdir, "final")
    save_model(trainer, cfg, tok, data, model_dir)
    report_final(metrics, str(model_dir) if is_rank_zero() else None)


def training_arguments(cfg: ClassifierJobConfig, workdir: str):
    from transformers import TrainingArguments

    t = cfg.train
    return TrainingArguments(
        **trainer_arguments(t, workdir, cfg.scaling.use_gpu),
        per_device_eval_batch_size=t.batch_size_per_worker * 2,
        lr_scheduler_type="linear",
        save_total_limit=2,  # local copies only; Ray storage keeps scaling.checkpoints_to_keep
        eval_strategy="steps" if t.eval_steps > 0 else "no",
        eval_steps=t.eval_steps if t.eval_steps > 0 else None,
        deepspeed=deepspeed_config(cfg.deepspeed, cfg.scaling.use_gpu),
    )


def build_model(cfg: ClassifierJobConfig, tok):
    """The model to train: a seeded head (the same on every worker), LoRA or every weight."""
    from transformers import set_seed

    set_seed(cfg.train.seed)
    problem_type = "single_label_classification" if cfg.task == "classification" else "regression"
    model = load_sequence_classifier(cfg.model, tok, num_labels=cfg.outputs, problem_type=problem_type)
    return add_lora(model, cfg.lora, tok) if cfg.lora.enabled else model


def build_trainer(cfg: ClassifierJobConfig, args, model, tok, data: PreparedRows, callbacks: list | None = None):
    """The HF Trainer on the prepared ids, padded per batch."""
    from transformers import DataCollatorWithPadding, Trainer

    has_eval = cfg.train.eval_steps > 0 and len(data.eval)
    return Trainer(
        model=model,
        args=args,
        train_dataset=to_dataset(data.train, cfg.task),
        eval_dataset=to_dataset(data.eval, cfg.task) if has_eval else None,
        data_collator=DataCollatorWithPadding(tok),
        processing_class=tok,
        callbacks=callbacks,
    )


def save_model(trainer, cfg: ClassifierJobConfig, tok, data: PreparedRows, model_dir: Path) -> None:
    """Save the model dir on rank 0: merged weights, tokenizer, the threshold, the log history.
    Every rank takes part: under ZeRO-3 the weight gather is a collective."""
    full_state = gather_full_state(trainer)
    if not is_rank_zero():
        return
    model = trainer.model
    if full_state is not None:  # ZeRO-3: rebuild an unsharded copy from the gathered weights
        logger.info("ZeRO-3: rebuilding the model on rank 0 from %d gathered tensors", len(full_state))
        plain_model_loading()
        model = build_model(cfg, tok)
        model.load_state_dict(full_state)
    save_scorer(model, tok, model_dir)
    save_calibration(model_dir, {"threshold": data.threshold, "task": cfg.task, "num_labels": cfg.outputs})
    write_json(model_dir / LOG_HISTORY_FILE, {"log_history": trainer.state.log_history})


# --- evaluation ------------------------------------------------------------------------------

def evaluate_model(model_dir: Path, rows: pd.DataFrame, cfg: ClassifierJobConfig, out_dir: Path) -> dict:
    """The saved model, through the classifier scorer (what score_batch and serve run), on the
    held-out rows: eval/pointwise.py's report; also written to model_dir/metrics.json."""
    from rayscore.eval.pointwise import pointwise_report
    from rayscore.score.scorers import ScorerSpec, build_scorer

    scorer = build_scorer(ScorerSpec(kind="classifier", model_dir=str(model_dir), text_column="text",
                                     max_seq_len=cfg.model.max_seq_len, batch_size=64))
    scored = scorer.score(rows[["text"]])
    classes = cfg.task == "classification"
    report = pointwise_report(rows["label"].to_numpy(dtype=np.float64), scored["score"].to_numpy(),
                              scorer.threshold, out_dir, title="train_classifier held-out",
                              gold_classes=rows["label"].tolist() if classes else None,
                              predicted_classes=scored["predicted_class"].tolist() if classes else None)
    write_json(model_dir / "metrics.json", report)
    return report
