"""train_reward with everything in a bucket of the loopback S3 server: its data, the model it
starts from, its checkpoints and its output_dir. The job (`python -m jobs.train_reward`, with a
local Ray of its own) is killed with SIGKILL, driver and Ray together, once Ray Train has
registered a checkpoint in the bucket; run again with the same words it resumes from the last
checkpoint there, not from step 0, and leaves its model and records in the bucket."""

import time

import pandas as pd
import pytest

from rayscore.io import exists, files, read_table, upload_dir
from rayscore.model_cache import download_record
from storage_jobs import end_group, make_bucket, read_json, run_job, s3_env, start_job
from tiny_models import char_tokenizer, save_tiny, tiny_reward_model

MAX_STEPS, SAVE_STEPS = 32, 4
BUCKET = "s3://train-store"
OUT = f"{BUCKET}/run"
SNAPSHOT = f"{OUT}/ray_results/train_reward/checkpoint_manager_snapshot.json"


@pytest.fixture
def env(s3_server, tmp_path):
    """The jobs' environment (storage_jobs.s3_env)."""
    with s3_env(s3_server, tmp_path) as env:
        yield env


def registered_step() -> int | None:
    """The step of the latest checkpoint Ray Train has registered in the bucket, if any."""
    try:
        latest = read_json(SNAPSHOT)["latest_checkpoint_result"]
    except (OSError, ValueError, KeyError):  # not written yet, or caught mid-write
        return None
    return int(latest["metrics"]["step"]) if latest and "step" in latest.get("metrics", {}) else None


@pytest.mark.slow
def test_killed_training_job_resumes_from_its_last_checkpoint_in_the_bucket(tiny_records, s3_server, env, tmp_path,
                                                                            monkeypatch):
    for name, value in s3_server.items():
        monkeypatch.setenv(name, value)  # this process's client; the jobs get them in their env
    make_bucket(BUCKET)
    upload_dir(tiny_records / "train", f"{BUCKET}/data/train")
    texts = read_table(tiny_records / "train").text
    tok = char_tokenizer(texts)
    save_tiny(tiny_reward_model(tok, hidden=64), tok, tmp_path / "base")
    upload_dir(tmp_path / "base", f"{BUCKET}/base")
    words = ["--config", "configs/train_reward/tiny.yaml", f"output_dir={OUT}",
             f"data.train_path={BUCKET}/data/train", f"model.name_or_path={BUCKET}/base",
             "model.add_chinese_chars=false", "lora.enabled=false", "scaling.num_workers=1",
             f"train.max_steps={MAX_STEPS}", f"train.save_steps={SAVE_STEPS}", "train.logging_steps=4",
             "train.learning_rate=0.001"]

    proc = start_job("train_reward", words, env, tmp_path / "killed.log")
    try:
        deadline, seen = time.time() + 300, None
        while time.time() < deadline and proc.poll() is None:
            seen = registered_step()
            if seen:
                break
            time.sleep(0.25)   # each look is a request to the S3 server, which shares the 2 cores
        ended = "the job ended before it could be killed:\n"
        assert proc.poll() is None, ended + (tmp_path / "killed.log").read_text()[-3000:]
        assert seen, "no checkpoint was registered in the bucket"
    finally:
        end_group(proc)  # SIGKILL: driver, Ray and its training worker
    assert not exists(f"{OUT}/model"), "the killed run finished"

    run_job("train_reward", words, env, tmp_path / "rerun.log")

    metrics = read_json(f"{OUT}/metrics.json")
    resumed = metrics["resumed_from_step"]
    assert metrics["steps"] == MAX_STEPS
    assert seen <= resumed < MAX_STEPS and resumed % SAVE_STEPS == 0  # the bucket's last checkpoint, not 0
    assert metrics["first_step_this_attempt"] == resumed + 1
    # restore_checkpoint's line: the checkpoint it copied came from the bucket
    assert "resuming from train-store/run/ray_results/train_reward/checkpoint_" in (tmp_path / "rerun.log").read_text()
    written = {name for name, _, _ in files(OUT)}
    assert {"model/merged/config.json", "model/merged/model.safetensors", "model/fingerprint.txt",
            "model/calibration.json", "metrics.json", "config.yaml", "training_curves.png",
            "log_history.json", "report.html"} <= written
    assert any(n.startswith("ray_results/train_reward/checkpoint_") and n.endswith("/trainer_state.json")
               for n in written)
    history = read_json(f"{OUT}/log_history.json")["log_history"]
    assert max(e["step"] for e in history) == MAX_STEPS  # one history across both runs

    # The trained model scores from the bucket: its cached copy is the uploaded one.
    from rayscore.score.scorers import ScorerSpec, build_scorer

    monkeypatch.setenv("RAYSCORE_MODEL_CACHE", str(tmp_path / "driver_cache"))
    scorer = build_scorer(ScorerSpec(kind="quality", model_dir=f"{OUT}/model", max_seq_len=64))
    scored = scorer.score(pd.DataFrame({"text": texts[:8]}))
    assert scored.p_correct.between(0, 1).all() and len(scored) == 8
    entries = [p for p in (tmp_path / "driver_cache").iterdir() if p.is_dir()]
    assert len(entries) == 1 and download_record(entries[0])["uri"] == f"{OUT}/model"
