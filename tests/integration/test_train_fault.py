"""Fault tolerance: a training worker killed with SIGKILL mid-run; the job still finishes, resumed
from the last checkpoint in its storage path rather than from step 0.

The job runs in a thread; this thread waits until Ray Train has registered a checkpoint (its
checkpoint_manager_snapshot.json in the storage path names one), then kills one RayTrainWorker
process of this test's own Ray (a descendant of this process) from outside. FailureConfig
(scaling.max_failures=1) makes Ray restart the worker group, and every worker resumes from the
latest checkpoint (restore_checkpoint -> trainer.train(resume_from_checkpoint=...)).
"""

import json
import os
import signal
import threading
import time

import psutil
import pytest

from rayscore.config import load_config
from rayscore.train.reward import RewardJobConfig, run

MAX_STEPS, SAVE_STEPS = 12, 3


def registered_checkpoint_step(storage) -> int | None:
    """The training step of the latest checkpoint Ray Train has registered, if any."""
    snapshot = storage / "train_reward" / "checkpoint_manager_snapshot.json"
    try:
        latest = json.loads(snapshot.read_text())["latest_checkpoint_result"]
    except (OSError, ValueError, KeyError):  # not written yet, or caught mid-write
        return None
    return int(latest["metrics"]["step"]) if latest and "step" in latest.get("metrics", {}) else None


def train_worker_pids() -> list[int]:
    """RayTrainWorker processes started by this test's Ray (never another session's)."""
    pids = []
    for proc in psutil.Process().children(recursive=True):
        try:
            if "RayTrainWorker" in " ".join(proc.cmdline()):
                pids.append(proc.pid)
        except psutil.Error:
            continue
    return pids


def kill_a_worker_after_first_checkpoint(storage, killed: dict, timeout_s: float = 600) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        step = registered_checkpoint_step(storage)
        pids = train_worker_pids()
        if step is not None and pids:
            os.kill(pids[-1], signal.SIGKILL)
            killed.update(pid=pids[-1], after_step=step)
            return
        time.sleep(0.1)


@pytest.mark.slow
def test_killed_worker_resumes_from_the_last_checkpoint(ray_local, tiny_records, tmp_path):
    storage = tmp_path / "storage"
    cfg = load_config(RewardJobConfig, [
        "--config", "configs/train_reward/tiny.yaml", f"output_dir={tmp_path / 'out'}",
        f"data.train_path={tiny_records / 'train'}", f"scaling.storage_path={storage}",
        "scaling.max_failures=1", f"train.max_steps={MAX_STEPS}", f"train.save_steps={SAVE_STEPS}",
        "train.batch_size_per_worker=8",
        "model.add_chinese_chars=false"])  # small checkpoints: no resized embedding matrix in each
    killed: dict = {}
    killer = threading.Thread(target=kill_a_worker_after_first_checkpoint, args=(storage, killed), daemon=True)
    killer.start()
    result = run(cfg)
    killer.join(timeout=5)

    assert killed, "no checkpoint was registered while workers ran"
    assert not psutil.pid_exists(killed["pid"]) or psutil.Process(killed["pid"]).status() == psutil.STATUS_ZOMBIE
    metrics = result.metrics
    assert result.ok and metrics["steps"] == MAX_STEPS
    # the restarted workers began at a checkpoint (at or after the one seen before the kill), not at 0
    resumed = metrics["resumed_from_step"]
    assert killed["after_step"] <= resumed < MAX_STEPS and resumed % SAVE_STEPS == 0
    assert metrics["first_step_this_attempt"] == resumed + 1
    history = json.loads((tmp_path / "out" / "log_history.json").read_text())["log_history"]
    assert max(e["step"] for e in history) == MAX_STEPS  # one history across both attempts
    assert list(storage.glob("train_reward/checkpoint_*/checkpoint/trainer_state.json"))
