"""A finished training run logged to TensorBoard (event files) and MLflow (a local file store),
read back with each library's own reader.

    .venv/bin/pytest tests/unit/test_tracking.py -q
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from rayscore.config import ConfigError, load_config
from rayscore.eval.plots import plot_score_histogram
from rayscore.train.reward import RewardJobConfig
from rayscore.train.tracking import numbers, track


@pytest.fixture
def run(tmp_path):
    out = tmp_path / "train_reward"
    out.mkdir()
    log = [{"step": 10, "loss": 0.69, "learning_rate": 1e-3, "accuracy": 0.5, "epoch": 0.1},
           {"step": 20, "loss": 0.21, "learning_rate": 8e-4, "accuracy": 0.9, "epoch": 0.2},
           {"step": 20, "eval_accuracy": 0.95, "epoch": 0.2}]
    (out / "log_history.json").write_text(json.dumps({"log_history": log}), encoding="utf-8")
    (out / "metrics.json").write_text(json.dumps({"eval_accuracy": 0.97, "train_pairs": 400, "eval_swap_check_ok": True,
                                                  "calibration": {"ece": 0.01}}), encoding="utf-8")
    plot_score_histogram(np.linspace(0, 1, 40), str(out / "training_curves.png"), title="curves")
    return out


def test_numbers_flatten_and_leave_out_what_is_not_a_measurement():
    measured = {"a": 1, "b": {"c": 0.5, "d": True}, "e": "x", "step": 3, "f": float("nan")}
    assert numbers(measured) == {"a": 1.0, "b/c": 0.5}


def test_tensorboard_and_mlflow_get_the_curves_the_final_numbers_and_the_plots(run, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    metrics = track(["tensorboard", "mlflow"], run, "train_reward", json.loads((run / "metrics.json").read_text()))
    stored = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert stored["tracked"] == metrics["tracked"] and stored["train_pairs"] == 400

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(metrics["tracked"]["tensorboard"], size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    assert [(e.step, round(e.value, 2)) for e in events.Scalars("train/loss")] == [(10, 0.69), (20, 0.21)]
    assert [(e.step, round(e.value, 2)) for e in events.Scalars("eval/accuracy")] == [(20, 0.95)]
    assert round(events.Scalars("final/calibration/ece")[0].value, 3) == 0.01
    assert "training_curves" in events.Tags()["images"]

    from mlflow.tracking import MlflowClient

    logged = metrics["tracked"]["mlflow"]
    assert logged["tracking_uri"] == (run / "mlruns").resolve().as_uri()
    client = MlflowClient(tracking_uri=logged["tracking_uri"])
    assert [(m.step, round(m.value, 2)) for m in client.get_metric_history(logged["run_id"], "loss")] == [
        (10, 0.69), (20, 0.21)]
    assert client.get_run(logged["run_id"]).data.metrics["final/eval_accuracy"] == 0.97
    artifacts = {a.path for a in client.list_artifacts(logged["run_id"])}
    assert {"training_curves.png", "metrics.json"} <= artifacts


def test_no_tracker_logs_nothing_and_an_unknown_one_is_refused(run):
    assert "tracked" not in track([], run, "train_reward", {"x": 1})
    assert not (run / "tensorboard").exists() and not (run / "mlruns").exists()
    with pytest.raises(ConfigError, match="report_to.*unknown tracker"):
        load_config(RewardJobConfig, ["data.train_path=t", "train.report_to=[wandb]"])
