"""Both training jobs hand TRL the same TrainingArguments for what they share
(rayscore.train.scaling.trainer_arguments), plus their own."""

import pytest

from rayscore.config import load_config
from rayscore.train.reward import RewardJobConfig, reward_config
from rayscore.train.scaling import trainer_arguments
from rayscore.train.sft import SftJobConfig, sft_config


@pytest.mark.parametrize("cls, build, config", [
    (RewardJobConfig, reward_config, "configs/train_reward/tiny.yaml"),
    (SftJobConfig, sft_config, "configs/train_sft/tiny.yaml"),
])
def test_jobs_share_the_trainer_arguments(cls, build, config, tmp_path):
    cfg = load_config(cls, ["--config", config])
    args = build(cfg, str(tmp_path))
    shared = trainer_arguments(cfg.train, str(tmp_path), cfg.scaling.use_gpu)
    assert shared.pop("report_to") == "none" and args.report_to == []  # TrainingArguments' spelling of none
    assert {k: getattr(args, k) for k in shared} == shared
    assert args.use_cpu and not args.bf16 and args.disable_tqdm and args.dataloader_num_workers == 0


def test_each_job_adds_its_own_arguments(tmp_path):
    reward = reward_config(load_config(RewardJobConfig, ["--config", "configs/train_reward/tiny.yaml"]), str(tmp_path))
    sft = sft_config(load_config(SftJobConfig, ["--config", "configs/train_sft/tiny.yaml"]), str(tmp_path))
    assert reward.save_total_limit == 2 and reward.max_length is None and not reward.activation_checkpointing
    assert sft.completion_only_loss and sft.logging_first_step and not sft.packing
    assert sft.eval_strategy == "no"   # no held-out samples to evaluate on
    evaluating = sft_config(load_config(SftJobConfig, ["--config", "configs/train_sft/tiny.yaml"]), str(tmp_path),
                            evaluates=True)
    assert evaluating.eval_strategy == "epoch" and evaluating.per_device_eval_batch_size == 16
