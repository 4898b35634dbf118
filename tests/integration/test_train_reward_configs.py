"""Every YAML under configs/train_reward/ loads into RewardJobConfig; DeepSpeed settings become the
config dict the HF trainer expects; combinations that cannot run fail before any work. No Ray."""

from pathlib import Path

import pytest

from rayscore.config import ConfigError, load_config
from rayscore.train.deepspeed import DeepSpeedSpec, deepspeed_config
from rayscore.train.reward import RewardJobConfig

CONFIGS = sorted(Path("configs/train_reward").glob("*.yaml"))


def test_the_modes_are_all_there():
    assert {p.stem for p in CONFIGS} >= {"tiny", "addresses", "ultrafeedback", "decoder_qwen", "full_finetune",
                                         "deepspeed_zero2", "deepspeed_zero3"}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_every_config_loads(path):
    cfg = load_config(RewardJobConfig, ["--config", str(path)])
    assert cfg.data.train_path and cfg.model.max_seq_len >= 8
    if path.stem.startswith("deepspeed_zero"):
        assert cfg.deepspeed.stage == int(path.stem[-1])
    if path.stem == "full_finetune":
        assert not cfg.lora.enabled


def test_zero3_dict_leaves_batch_and_precision_to_the_trainer():
    config = deepspeed_config(DeepSpeedSpec(stage=3, offload_optimizer=True, offload_params=True), use_gpu=False)
    zero = config["zero_optimization"]
    assert zero["stage"] == 3 and zero["stage3_gather_16bit_weights_on_model_save"] is True
    assert zero["offload_optimizer"] == {"device": "cpu", "pin_memory": False}
    assert zero["offload_param"] == {"device": "cpu", "pin_memory": False}
    assert config["train_micro_batch_size_per_gpu"] == "auto" and config["bf16"] == {"enabled": "auto"}
    assert "optimizer" not in config and config["zero_force_ds_cpu_optimizer"] is False  # torch AdamW: no build


def test_zero2_with_deepspeeds_own_adam_and_stage_0_is_off():
    config = deepspeed_config(DeepSpeedSpec(stage=2, optimizer="deepspeed"), use_gpu=True)
    assert config["zero_optimization"]["stage"] == 2 and "offload_param" not in config["zero_optimization"]
    assert config["optimizer"]["type"] == "AdamW" and config["optimizer"]["params"]["lr"] == "auto"
    assert deepspeed_config(DeepSpeedSpec(stage=0), use_gpu=True) is None


def test_impossible_combinations_fail_early_naming_the_key():
    with pytest.raises(ConfigError) as err:
        load_config(RewardJobConfig, ["--config", "configs/train_reward/deepspeed_zero3.yaml",
                                      "train.precision=bfloat16", "deepspeed.stage=2", "model.add_chinese_chars=true"])
    assert "deepspeed.offload_params (from configs/train_reward/deepspeed_zero3.yaml): needs stage 3" in str(err.value)
    assert "train.precision (from command line): DeepSpeed on CPU runs in float32" in str(err.value)
    with pytest.raises(ConfigError, match=r"model.add_chinese_chars \(from command line\): LoRA under ZeRO-3 on CPU"):
        load_config(RewardJobConfig, ["--config", "configs/train_reward/deepspeed_zero3.yaml",
                                      "model.add_chinese_chars=true"])
    expected = r"train.truncation \(from command line\): expected 'keep_end' \| 'quarantine'"
    with pytest.raises(ConfigError, match=expected):
        load_config(RewardJobConfig, ["--config", "configs/train_reward/tiny.yaml", "train.truncation=cut"])
    # on GPUs bf16 with DeepSpeed is the normal case
    cfg = load_config(RewardJobConfig, ["--config", "configs/train_reward/deepspeed_zero3.yaml",
                                        "scaling.use_gpu=true", "train.precision=bfloat16"])
    assert cfg.train.precision == "bfloat16"
