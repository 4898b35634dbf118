"""Train a reward model with TRL's RewardTrainer on Ray Train (N workers, LoRA or full, DeepSpeed).

Run as:
  python -m jobs.train_reward --config configs/train_reward/addresses.yaml
  python -m jobs.train_reward --config configs/train_reward/tiny.yaml scaling.num_workers=1
  python -m jobs.train_reward --config configs/train_reward/deepspeed_zero3.yaml scaling.use_gpu=true \\
      train.precision=bfloat16

The driver reads and validates the pairs once, tokenises them through the model's chat template
with the same function the scorers use (`encode_conversation`), and hands the token ids to the
workers through the object store: training and scoring see identical ids, TRL never filters or
re-tokenises a row, and every dropped row is in quarantine with its reason.

Writes under <output_dir>:
  model/                 adapter/ (LoRA only), merged/ (what score and serve load), fingerprint.txt,
                         metrics.json, save_check.json (rewards in memory vs from the saved model),
                         calibration.json (temperature, and a quality model's threshold and the
                         operating points of 正确 / 错误 / 待审, fitted on the held-out pairs),
                         checks.json (the check set, when `checks` is set)
  metrics.json           data account, training and held-out metrics (accuracy, margin, swap check)
  config.yaml            the resolved config
  training_curves.png    loss and accuracy by step; log_history.json, the numbers behind it
  quarantine/pairs.jsonl rows not trained on, each with `reason`
  ray_results/           Ray Train checkpoints (or scaling.storage_path)
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from rayscore.checks import load_check_set, observe_conversations, save_check_set
from rayscore.config import range_problems, save_config
from rayscore.data.audited import audited_source
from rayscore.data.data_check import DataCheckSpec, check_data
from rayscore.data.pairs import records_to_pairs
from rayscore.data.preferences import (
    PreferenceDataSpec,
    load_preferences,
    pair_texts,
    reason_counts,
    split_pairs,
    write_quarantine,
)
from rayscore.io import join, local_output, write_json
from rayscore.models import (
    LoraSpec,
    ModelSpec,
    add_lora,
    add_missing_chars,
    encode_conversation,
    load_reward_model,
    load_tokenizer,
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
from rayscore.train.reward_eval import OutcomeSpec, calibrate, evaluate_pairs, score_pairs
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

SAVE_CHECK_FILE = "save_check.json"
SAVE_CHECK_PAIRS = 8  # pairs scored in memory and from the saved model after training


@dataclass
class RewardTrainSpec(TrainSpec):
    """Optimisation settings handed to TRL's RewardConfig (the shared ones, and these)."""

    use_margin: bool = False
    """Subtract margin = score_chosen - score_rejected inside the loss (TRL's margin column)."""
    center_rewards_coefficient: float | None = None
    """TRL's penalty pushing rewards towards mean zero (e.g. 0.01); null = off."""
    truncation: Literal["keep_end", "quarantine"] = "keep_end"
    """Pairs longer than model.max_seq_len: keep_end cuts the prompt and keeps the answer; quarantine
    sets them aside."""
    eval_steps: int = 0
    """Evaluate on the held-out pairs every N steps (eval curves); 0 = only once, after training."""

    def check(self) -> list[str]:
        problems = super().check()
        problems += range_problems(self, eval_steps=">= 0")
        return problems


@dataclass
class RewardJobConfig:
    """train_reward: preference pairs in, a reward model directory out."""

    output_dir: str = "out/train_reward"
    """Everything the job writes goes under this directory."""
    data: PreferenceDataSpec = field(default_factory=PreferenceDataSpec)
    """Training data."""
    data_check: DataCheckSpec = field(default_factory=DataCheckSpec)
    """Duplicates, train/eval overlap and diversity of the pairs, checked before training (docs/train.md)."""
    model: ModelSpec = field(default_factory=ModelSpec)
    """Backbone and tokenisation."""
    lora: LoraSpec = field(default_factory=LoraSpec)
    """Adapter (or full fine-tuning when lora.enabled is false)."""
    train: RewardTrainSpec = field(default_factory=RewardTrainSpec)
    """Optimisation."""
    scaling: ScalingSpec = field(default_factory=ScalingSpec)
    """Ray Train resources, storage and fault tolerance."""
    deepspeed: DeepSpeedSpec = field(default_factory=DeepSpeedSpec)
    """DeepSpeed ZeRO (stage 0 = off: plain DDP)."""
    subset_column: str | None = None
    """Column for per-subset eval accuracy (skipped when absent), e.g. error_type."""
    checks: str | None = None
    """Check set (module:attribute) whose observations are appended to every user turn; saved with the model."""
    outcomes: OutcomeSpec = field(default_factory=OutcomeSpec)
    """Quality records: the operating points of automatic 正确 / 错误 (the rest is 待审), fitted on the eval split."""

    def check(self) -> list[str]:
        problems = self.outcomes.check()
        if self.outcomes.fit_on == "audited" and not self.data.audited_path:
            problems.append("outcomes.fit_on: audited needs data.audited_path (the audited labels)")
        if self.checks:
            try:
                load_check_set(self.checks)
            except ValueError as e:
                problems.append(str(e))
        return problems + training_problems(self)


@dataclass
class PreparedPairs:
    """Validated, split and tokenised pairs: what every worker trains and evaluates on.

    train / eval keep the message lists (chosen, rejected), any extra columns (scores, subset)
    and add chosen_ids / rejected_ids (token ids through the chat template, within max_seq_len).
    """

    train: pd.DataFrame
    eval: pd.DataFrame
    quarantined: pd.DataFrame
    input_pairs: int
    truncated_pairs: int
    extra_chars: list[str] = field(default_factory=list)
    """Characters of the data the tokenizer lacked, added in this order (workers add them too)."""
    audited: dict = field(default_factory=dict)
    """data.audited_path's account (AuditedSource.account): records, sets, held back, left out."""
    data_check: dict = field(default_factory=dict)
    """The data check's report: duplicates, eval overlap, distinct-1/2, the largest template's share."""

    def account(self) -> dict:
        """Rows in = rows trained + rows held out + rows quarantined, by reason."""
        return {
            "input_pairs": self.input_pairs, "train_pairs": len(self.train), "eval_pairs": len(self.eval),
            "quarantined_pairs": len(self.quarantined), "quarantine_reasons": reason_counts(self.quarantined),
            "truncated_pairs": self.truncated_pairs, **self.audited,
        }


def run(cfg: RewardJobConfig) -> TrainResult:
    """Prepare the pairs, train on Ray Train, export the model and the run's records.
    Ray must be initialised (jobs call ensure_ray())."""
    cfg = absolute_paths(cfg)
    with local_output(cfg.output_dir) as out:  # a URI's files are staged here, uploaded at the end
        return _run(cfg, out)


def _run(cfg: RewardJobConfig, out: Path) -> TrainResult:
    import ray

    save_config(cfg, out / "config.yaml")
    started = time.time()
    data = prepare_pairs(cfg, load_tokenizer(cfg.model))
    Path(out, "quarantine", "pairs.jsonl").unlink(missing_ok=True)  # never a previous run's rows
    write_quarantine(data.quarantined, out / "quarantine")
    logger.info("pairs: %s", data.account())
    if len(data.train) == 0:
        raise ValueError(f"{cfg.data.train_path}: no valid training pairs (see {join(cfg.output_dir, 'quarantine')})")

    result = torch_trainer(train_loop_per_worker, cfg, cfg.scaling, name="train_reward",
                           data=ray.put(data)).fit()
    model_dir = export_final_checkpoint(result, out)
    metrics = {**data.account(), "data_check": data.data_check,
               **{k: v for k, v in result.metrics.items() if k != "final"}}
    metrics["wall_time_s"] = round(time.time() - started, 1)
    write_json(out / "metrics.json", metrics)
    write_curves(model_dir, out, title="train_reward")
    metrics = track(cfg.train.report_to, out, "train_reward", metrics)
    write_report(out, cfg.output_dir)
    logger.info("model: %s  eval accuracy: %s", model_location(cfg.output_dir), metrics.get("eval_accuracy"))
    return TrainResult(model_location(cfg.output_dir), metrics)


# --- data ------------------------------------------------------------------------------------

def prepare_pairs(cfg: RewardJobConfig, tok) -> PreparedPairs:
    """Read, validate, split, check (data_check) and tokenise; every row not trained on is
    quarantined with a reason."""
    require_scores = cfg.train.use_margin
    pairs, bad = load_preferences(cfg.data, require_scores=require_scores)
    input_pairs = len(pairs) + len(bad)
    if cfg.data.eval_path:
        eval_df, eval_bad = load_preferences(cfg.data, cfg.data.eval_path, require_scores=require_scores)
        input_pairs += len(eval_df) + len(eval_bad)
        bad = pd.concat([bad.assign(split="train"), eval_bad.assign(split="eval")], ignore_index=True)
        train_df = pairs
    else:
        train_df, eval_df = split_pairs(pairs, cfg.data.eval_fraction, cfg.data.seed)
    # The rows of the data files, before the audited records join: those repeat on purpose.
    checked = check_data(train_df, eval_df, pair_texts, cfg.data_check, unit="pair")
    train_df, eval_df = checked.train, checked.eval
    bad = pd.concat([bad, checked.set_aside.assign(split="train") if cfg.data.eval_path else checked.set_aside],
                    ignore_index=True)
    audited_account = {}
    if cfg.data.audited_path:  # people's answers: trained on (oversampled); a held-back share is only measured
        audited = audited_source(cfg.data.audited_path, cfg.data.audited_weight, cfg.checks)
        audited_account = audited.account()
        train_df = pd.concat([train_df, records_to_pairs(audited.train)], ignore_index=True)
        if cfg.outcomes.fit_on == "audited":
            # Held back to fit the operating points on; otherwise they are only measured (audit's
            # learn report): rows picked for being hard would bias points fitted on the eval split.
            eval_df = pd.concat([eval_df, records_to_pairs(audited.held_back)], ignore_index=True)
        bad = pd.concat([bad, audited.left_out], ignore_index=True)   # contradicts a certain check, or conflicting
        input_pairs += len(audited.train) + len(audited.left_out)
        input_pairs += len(audited.held_back) if cfg.outcomes.fit_on == "audited" else 0
    checks = load_check_set(cfg.checks) if cfg.checks else None
    train_df, eval_df = with_observations(train_df, checks), with_observations(eval_df, checks)
    extra_chars = (add_missing_chars(tok, data_chars(pd.concat([train_df, eval_df])))
                   if cfg.model.add_chinese_chars else [])
    train_df, long_train, cut_train = encode_pairs(train_df, tok, cfg.model.max_seq_len, cfg.train.truncation)
    eval_df, long_eval, cut_eval = encode_pairs(eval_df, tok, cfg.model.max_seq_len, cfg.train.truncation)
    quarantined = pd.concat([bad, long_train, long_eval], ignore_index=True)
    return PreparedPairs(train_df, eval_df, quarantined, input_pairs, cut_train + cut_eval, extra_chars,
                         audited_account, checked.report)


def data_chars(pairs: pd.DataFrame) -> list[str]:
    """The CJK characters of every message, sorted: what the tokenizer must know to read the data."""
    from rayscore.data.chinese_chars import data_cjk_chars

    return data_cjk_chars(m.get("content") for side in ("chosen", "rejected") for conv in pairs[side] for m in conv)


def with_observations(pairs: pd.DataFrame, checks) -> pd.DataFrame:
    """Pairs whose user turn carries the checks' observations (both sides share it), with the
    failed checks in `check_flags`; unchanged without a check set."""
    if checks is None or not len(pairs):
        return pairs
    chosen, flags = observe_conversations(checks, [list(c) for c in pairs["chosen"]])
    rejected, _ = observe_conversations(checks, [list(r) for r in pairs["rejected"]])
    return pairs.assign(chosen=chosen, rejected=rejected, check_flags=[",".join(f) for f in flags])


def encode_pairs(pairs: pd.DataFrame, tok, max_len: int,
                 truncation: Literal["keep_end", "quarantine"]) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """(pairs with chosen_ids / rejected_ids, pairs set aside as too_long, pairs cut to max_len)."""
    full = {side: [encode_conversation(tok, list(c), sys.maxsize) for c in pairs[side]]
            for side in ("chosen", "rejected")}
    longest = np.array([max(len(c), len(r)) for c, r in zip(full["chosen"], full["rejected"])], dtype=int)
    too_long = longest > max_len
    if truncation == "quarantine":
        kept = pairs[~too_long].reset_index(drop=True)
        ids = {side: [x for x, long in zip(full[side], too_long) if not long] for side in full}
        dropped = pairs[too_long].assign(reason="too_long", tokens=longest[too_long]).reset_index(drop=True)
        return kept.assign(chosen_ids=ids["chosen"], rejected_ids=ids["rejected"]), dropped, 0
    ids = {side: [encode_conversation(tok, list(c), max_len) if len(x) > max_len else x
                  for c, x in zip(pairs[side], full[side])] for side in full}
    return pairs.assign(chosen_ids=ids["chosen"], rejected_ids=ids["rejected"]), pairs.iloc[:0], int(too_long.sum())


def to_dataset(pairs: pd.DataFrame, use_margin: bool):
    """A datasets.Dataset of chosen_ids / rejected_ids (+ margin): what TRL trains on as is."""
    from datasets import Dataset

    columns = {"chosen_ids": list(pairs["chosen_ids"]), "rejected_ids": list(pairs["rejected_ids"])}
    if use_margin:
        columns["margin"] = (pairs["score_chosen"] - pairs["score_rejected"]).astype(float).tolist()
    return Dataset.from_dict(columns)


# --- training --------------------------------------------------------------------------------

def train_loop_per_worker(config: dict) -> None:
    """Runs on every Ray Train worker: build the model, train with TRL, save and evaluate, report."""
    import ray
    from ray.train.huggingface.transformers import RayTrainReportCallback

    setup_worker_logging()
    cfg: RewardJobConfig = config["cfg"]
    data: PreparedPairs = ray.get(config["data"])
    threads_for_worker(cfg.scaling.cpus_per_worker)
    setup_worker(cfg.deepspeed)
    workdir = local_workdir("reward")
    args = reward_config(cfg, workdir)  # before the model: under ZeRO-3 from_pretrained then shards as it loads
    tok = load_tokenizer(cfg.model, extra_chars=data.extra_chars)
    attempt = attempt_callback()
    trainer = build_trainer(cfg, args, build_model(cfg, tok), tok, data, [RayTrainReportCallback(), attempt])
    metrics = fit(trainer, cfg, workdir, attempt, unit="pairs")
    metrics["weights_sharded"] = any(hasattr(p, "ds_id") for p in trainer.model.parameters())  # ZeRO-3 did shard
    model_dir = Path(workdir, "final")
    metrics.update(save_and_evaluate(trainer, cfg, tok, data, model_dir))
    report_final(metrics, str(model_dir) if is_rank_zero() else None)


def reward_config(cfg: RewardJobConfig, workdir: str):
    from trl import RewardConfig

    t = cfg.train
    return RewardConfig(
        **trainer_arguments(t, workdir, cfg.scaling.use_gpu),
        per_device_eval_batch_size=t.batch_size_per_worker * 2,
        lr_scheduler_type="linear",
        save_total_limit=2,  # local copies only; Ray storage keeps scaling.checkpoints_to_keep
        eval_strategy="steps" if t.eval_steps > 0 else "no",
        eval_steps=t.eval_steps if t.eval_steps > 0 else None,
        deepspeed=deepspeed_config(cfg.deepspeed, cfg.scaling.use_gpu),
        activation_checkpointing=False,  # TRL's default is on; on CPU it only costs time
        max_length=None,  # already within model.max_seq_len (encode_pairs): TRL drops nothing
        center_rewards_coefficient=t.center_rewards_coefficient,
    )


def build_model(cfg: RewardJobConfig, tok):
    """The reward model to train: a seeded head (the same on every worker), LoRA or every weight."""
    from transformers import set_seed

    set_seed(cfg.train.seed)
    model = load_reward_model(cfg.model, tok)
    return add_lora(model, cfg.lora, tok) if cfg.lora.enabled else model


def build_trainer(cfg: RewardJobConfig, args, model, tok, data: PreparedPairs, callbacks: list | None = None):
    """TRL's RewardTrainer on the prepared ids (also what the benchmark runs without Ray)."""
    from trl import RewardTrainer

    return RewardTrainer(
        model=model,
        args=args,
        train_dataset=to_dataset(data.train, cfg.train.use_margin),
        eval_dataset=(to_dataset(data.eval, cfg.train.use_margin) if cfg.train.eval_steps > 0 and len(data.eval)
                      else None),
        processing_class=tok,
        callbacks=callbacks,
    )


def save_and_evaluate(trainer, cfg: RewardJobConfig, tok, data: PreparedPairs, model_dir: Path) -> dict:
    """Save the model dir (rank 0) and evaluate the saved model on the held-out pairs.

    The same few sequences are scored by the model in memory and by the model reloaded from
    disk: `save_check_max_abs_diff` shows that saving (LoRA merge, ZeRO-3 gather) lost nothing.
    Every rank takes part: under ZeRO-3 forwards and the weight gather are collectives.
    """
    from rayscore.models import load_scorer, save_calibration, save_scorer
    from rayscore.score.runner import RewardRunner

    probe = save_check_conversations(data)
    device = str(trainer.args.device)
    in_memory = RewardRunner(trainer.model, tok, cfg.model.max_seq_len, batch_size=64, device=device).rewards(probe)
    full_state = gather_full_state(trainer)
    if not is_rank_zero():
        return {}
    model = trainer.model
    if full_state is not None:  # ZeRO-3: rebuild an unsharded copy from the gathered weights
        logger.info("ZeRO-3: rebuilding the model on rank 0 from %d gathered tensors", len(full_state))
        plain_model_loading()
        model = build_model(cfg, tok)
        model.load_state_dict(full_state)
    save_scorer(model, tok, model_dir)
    save_check_set(cfg.checks, model_dir)
    merged, merged_tok = load_scorer(model_dir)
    runner = RewardRunner(merged, merged_tok, cfg.model.max_seq_len, batch_size=64, device=device)
    saved = runner.rewards(probe)
    write_json(model_dir / SAVE_CHECK_FILE, {"conversations": probe, "rewards_in_memory": in_memory,
                                             "rewards_saved": saved})
    metrics = {"save_check_max_abs_diff": float(np.abs(saved - in_memory).max())}
    rewards = score_pairs(runner, data.eval["chosen"], data.eval["rejected"]) if len(data.eval) else None
    metrics.update(evaluate_pairs(runner, data.eval, cfg.subset_column, rewards))
    if rewards is not None:
        calibration = calibrate(*rewards, data.eval, records=cfg.data.format == "records",
                                certain=load_check_set(cfg.checks).certain if cfg.checks else frozenset(),
                                outcomes=cfg.outcomes)
        save_calibration(model_dir, calibration)
        metrics["calibration"] = calibration
    write_json(model_dir / "metrics.json", metrics)
    write_json(model_dir / LOG_HISTORY_FILE, {"log_history": trainer.state.log_history})
    return metrics


def save_check_conversations(data: PreparedPairs) -> list[list[dict]]:
    pairs = (data.eval if len(data.eval) else data.train).head(SAVE_CHECK_PAIRS)
    return [list(c) for c in pairs["chosen"]] + [list(r) for r in pairs["rejected"]]
