"""DeepSpeed ZeRO-2 and ZeRO-3 through Ray Train on CPU (gloo, float32), 2 workers, a few steps.

Each runs the shipped config (configs/train_reward/deepspeed_zero{2,3}.yaml) on the tiny Qwen2 of
test_train_reward_decoder.py; ZeRO-3's config also offloads weights and optimizer state to CPU
memory. The saved model is then loaded here, independently, and must score the same sequences
as the trained model did in memory on rank 0 (under ZeRO-3: after its shards were gathered).
Nothing is compiled: torch's AdamW, and DeepSpeed's shared-memory comm op left unbuilt.
"""

import json

import numpy as np
import pytest
from test_train_reward_decoder import DECODER_ARGS, build_tiny_qwen, write_pairs


@pytest.fixture(scope="module")
def tiny_qwen(tmp_path_factory):
    return build_tiny_qwen(tmp_path_factory.mktemp("tiny_qwen_ds"))


@pytest.mark.slow
@pytest.mark.parametrize("stage", [2, 3])
def test_zero_trains_and_saves_a_model_that_scores_as_in_memory(ray_local, tiny_qwen, tmp_path, stage):
    from jobs.train_reward import main
    from rayscore.models import load_scorer
    from rayscore.score.runner import RewardRunner

    out = tmp_path / "out"
    code = main(["--config", f"configs/train_reward/deepspeed_zero{stage}.yaml", f"output_dir={out}",
                 f"model.name_or_path={tiny_qwen}", f"data.train_path={write_pairs(tmp_path / 'pairs.jsonl')}",
                 "train.max_steps=6", "train.save_steps=3", *DECODER_ARGS])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["deepspeed_stage"] == stage and metrics["num_workers"] == 2 and metrics["steps"] == 6
    assert metrics["weights_sharded"] is (stage == 3)  # ZeRO-3 really partitioned the weights
    assert metrics["eval_accuracy"] >= 0.8 and metrics["eval_swap_check_ok"]

    check = json.loads((out / "model" / "save_check.json").read_text())
    model, tok = load_scorer(out / "model")
    reloaded = RewardRunner(model, tok, max_seq_len=64, batch_size=64, device="cpu").rewards(check["conversations"])
    assert len(reloaded) == 16 and np.std(reloaded) > 0
    np.testing.assert_allclose(reloaded, check["rewards_in_memory"], atol=1e-5)
    assert (out / "model" / "adapter" / "adapter_model.safetensors").exists()
