"""train_reward end to end on Ray Train with MiniLM: what a run writes, and that it learned.

1. configs/train_reward/ultrafeedback.yaml (LoRA, margin, centred rewards, eval during training,
   truncation: quarantine) on ultrafeedback_binarized-shaped pairs with bad and over-long rows.
2. configs/train_reward/full_finetune.yaml (no adapter) on labelled address records, 1 worker.
"""

import json

import numpy as np
import pandas as pd
import pytest
from test_train_reward_decoder import preference_rows

from rayscore.config import load_config
from rayscore.models import ENCODER_CHAT_TEMPLATE
from rayscore.train.reward import RewardJobConfig


def mixed_pairs(path, n_good=160):
    """Good pairs, 6 over-long ones and one of each kind of bad row."""
    rows = preference_rows(n_good, seed=3)
    long_user = {"role": "user", "content": " ".join(["road number"] * 40)}
    for i in range(6):
        rows.append({"chosen": [long_user, {"role": "assistant", "content": f"good {i} right yes"}],
                     "rejected": [long_user, {"role": "assistant", "content": f"good {i} wrong no"}],
                     "score_chosen": 9.0, "score_rejected": 1.0})
    same = rows[0]["chosen"]
    rows += [
        {"chosen": same, "rejected": same, "score_chosen": 9.0, "score_rejected": 1.0},
        {**rows[1], "score_chosen": None},
        {**rows[2], "chosen": None},
        {**rows[3], "rejected": "   "},
    ]
    pd.DataFrame(rows).to_json(path, orient="records", lines=True)
    return path, len(rows)


@pytest.mark.slow
def test_lora_run_writes_every_artifact_and_learns(ray_local, tmp_path):
    out = tmp_path / "out"
    data, n_rows = mixed_pairs(tmp_path / "pairs.jsonl")
    code = _main(["--config", "configs/train_reward/ultrafeedback.yaml", f"output_dir={out}",
                  f"data.train_path={data}", "data.eval_fraction=0.2", "model.max_seq_len=48",
                  "train.max_steps=12", "train.eval_steps=6", "train.save_steps=6", "train.logging_steps=2",
                  "train.batch_size_per_worker=8", "train.learning_rate=0.002"])
    assert code == 0

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["input_pairs"] == n_rows
    assert metrics["train_pairs"] + metrics["eval_pairs"] + metrics["quarantined_pairs"] == n_rows
    assert metrics["quarantine_reasons"] == {"too_long": 6, "chosen_equals_rejected": 1, "bad_score": 1,
                                             "missing_chosen": 1, "empty_rejected": 1}
    quarantine = [json.loads(line) for line in (out / "quarantine" / "pairs.jsonl").read_text().splitlines()]
    assert len(quarantine) == metrics["quarantined_pairs"] == 10
    assert all(row["reason"] for row in quarantine)
    assert metrics["steps"] == 12 and metrics["num_workers"] == 2 and metrics["resumed_from_step"] == 0

    # learned: the held-out pairs are ranked right, the eval is sound, saving lost nothing
    assert metrics["eval_accuracy"] >= 0.75 and metrics["eval_swap_check_ok"]
    assert metrics["eval_mean_margin"] > 0 and metrics["eval_reward_std"] > 0
    assert metrics["save_check_max_abs_diff"] < 1e-5

    history = json.loads((out / "log_history.json").read_text())["log_history"]
    losses = [e["loss"] for e in history if "loss" in e]
    assert losses[-1] < losses[0]
    assert [e["step"] for e in history if "eval_accuracy" in e] == [6, 12]
    png = (out / "training_curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000

    resolved = load_config(RewardJobConfig, ["--config", str(out / "config.yaml")])
    assert resolved.output_dir == str(out) and resolved.data.train_path == str(data)
    assert resolved.train.truncation == "quarantine" and resolved.train.use_margin and resolved.model.max_seq_len == 48

    model = out / "model"
    for name in ("adapter/adapter_model.safetensors", "adapter/adapter_config.json", "merged/model.safetensors",
                 "merged/config.json", "merged/tokenizer.json", "fingerprint.txt", "metrics.json"):
        assert (model / name).exists(), name
    assert (model / "merged" / "chat_template.jinja").read_text() == ENCODER_CHAT_TEMPLATE
    assert list((out / "ray_results" / "train_reward").glob("checkpoint_*/checkpoint/trainer_state.json"))


@pytest.mark.slow
def test_full_fine_tuning_saves_a_model_without_adapter(ray_local, tiny_records, tmp_path):
    from safetensors.torch import load_file

    from rayscore.models import resolve_model_path

    out = tmp_path / "out"
    code = _main(["--config", "configs/train_reward/full_finetune.yaml", f"output_dir={out}",
                  f"data.train_path={tiny_records / 'train'}", "data.max_rows=200", "model.max_seq_len=64",
                  "train.max_steps=4", "train.save_steps=100", "train.logging_steps=2", "train.batch_size_per_worker=8",
                  "scaling.num_workers=1", "scaling.cpus_per_worker=2"])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["steps"] == 4 and metrics["num_workers"] == 1 and metrics["save_check_max_abs_diff"] < 1e-5
    assert "eval_accuracy_by_subset" in metrics and "none" in metrics["eval_accuracy_by_subset"]
    assert not (out / "model" / "adapter").exists() and (out / "model" / "merged" / "model.safetensors").exists()

    base = load_file(f"{resolve_model_path('minilm')}/model.safetensors")
    trained = load_file(out / "model" / "merged" / "model.safetensors")
    for name in ("encoder.layer.0.attention.self.query.weight", "encoder.layer.5.output.dense.weight"):
        assert not np.allclose(base[name].numpy(), trained[f"bert.{name}"].numpy()), name  # every weight trains


def _main(argv):
    from jobs.train_reward import main

    return main(argv)
