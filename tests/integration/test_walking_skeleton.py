"""The walking skeleton end to end on a real local Ray: train_reward on Ray Train with 2 workers
(the session fixture), then score_batch on 500 generated records."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

from rayscore.addresses.records import write_records
from rayscore.models import ModelSpec, load_reward_model, load_tokenizer


def test_training_changed_parameters_and_wrote_artifacts(quality_model_dir):
    run_dir = quality_model_dir.parent
    assert (quality_model_dir / "adapter" / "adapter_config.json").exists()
    assert (quality_model_dir / "merged" / "model.safetensors").exists()
    assert (quality_model_dir / "fingerprint.txt").read_text().strip()
    checkpoints = list((run_dir / "ray_results" / "train_reward").glob("checkpoint_*"))
    assert checkpoints, "Ray Train persisted no checkpoint"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["steps"] == 6 and metrics["num_workers"] == 2
    assert 0 <= metrics["eval_accuracy"] <= 1 and metrics["eval_swap_check_ok"]

    trained = load_file(quality_model_dir / "merged" / "model.safetensors")
    spec = ModelSpec(max_seq_len=64)
    base = load_reward_model(spec, load_tokenizer(spec)).state_dict()
    name = "bert.encoder.layer.0.attention.self.query.weight"
    assert not torch.allclose(trained[name], base[name]), "LoRA merge left the weights unchanged"
    # Rows past the base vocabulary: the common hanzi (in `base` too), then the training data's own.
    emb = "bert.embeddings.word_embeddings.weight"
    common = slice(30522, base[emb].shape[0])
    assert trained[emb].shape[0] > base[emb].shape[0] and trained[emb].shape[1] == base[emb].shape[1]
    assert not torch.allclose(trained[emb][common], base[emb][common]), "new token rows never trained"


@pytest.mark.slow
def test_score_batch_labels_every_record(quality_model_dir, tmp_path):
    from jobs.score_batch import main

    write_records(str(tmp_path / "in"), 500, seed=21, error_rate=0.5, rows_per_file=125)
    out = tmp_path / "out"
    code = main(["--config", "configs/score_batch/tiny.yaml", f"input={tmp_path / 'in'}", f"output={out}",
                 f"scorer.model_dir={quality_model_dir}", "rows_per_file=125", "scorer.threshold=0.4"])
    assert code == 0
    table = pd.concat([pd.read_parquet(p) for p in sorted(out.glob("part-*.parquet"))], ignore_index=True)
    assert len(table) == 500 and table.record_id.is_unique
    for column in ("record_id", "text", "input_label", "error_type", "reward_correct", "reward_wrong",
                   "p_correct", "label", "fingerprint"):
        assert column in table.columns
    assert table.p_correct.between(0, 1).all()
    temperature = json.loads((quality_model_dir / "calibration.json").read_text())["temperature"]
    margin = (table.reward_correct - table.reward_wrong).to_numpy(np.float64)
    assert np.allclose(table.p_correct, 1 / (1 + np.exp(-margin / temperature)), atol=1e-5)
    # A set threshold replaces the operating points (no 待审); a failed certain check still decides.
    by_model = table.decided_by == "model"
    assert ((table.p_correct >= 0.4) == (table.label == "正确"))[by_model].all()
    assert (table.label[~by_model] == "错误").all() and set(table.label) <= {"正确", "错误"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ok"] and summary["rows_in"] == summary["rows_scored"] == 500
    assert set(summary["gold_metrics"]["by_group"]) >= {"none", "postcode_length"}
