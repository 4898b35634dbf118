"""Shared fixtures: one real local Ray for the whole session, and small generated data."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

# No model hub here or in CI: every load is from a local path.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]

# What puts a test in the slow lane by itself: it needs the session's Ray or its trained model.
RAY_FIXTURES = frozenset({"ray_local", "quality_model_dir"})


def pytest_collection_modifyitems(items):
    """Mark every test that starts Ray (directly or through a fixture) as slow, so that
    `pytest -m "not slow"` is the inner loop without a cluster or a training run."""
    for item in items:
        if RAY_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def ray_local():
    """A real in-process Ray (4 logical CPUs on 2 cores: room for 2 train workers or actors plus
    Ray Data's read tasks: with only 2, an actor pool takes every CPU, the reads that feed it
    never get one, and the job waits forever), with its dashboard, as on any cluster: the state
    API answers through it, and Ray Train's placement-group cleaner polls that API."""
    import ray

    if not ray.is_initialized():
        from rayscore.logs import NOISE_ENV

        ray.init(num_cpus=4, include_dashboard=True, log_to_driver=False,
                 runtime_env={"env_vars": {"HF_HUB_OFFLINE": "1", **NOISE_ENV}})
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def tiny_records(tmp_path_factory):
    """Generated address records: <dir>/train (400 rows) and <dir>/score (300 rows, 3 files)."""
    from rayscore.addresses.generate import GenerateJobConfig, run

    root = tmp_path_factory.mktemp("records")
    run(GenerateJobConfig(output_dir=str(root), train_rows=400, score_rows=300, seed=7, rows_per_file=100))
    return root


@pytest.fixture(scope="session")
def quality_model_dir(ray_local, tiny_records, tmp_path_factory):
    """A quality reward model trained for a few steps on Ray Train (2 workers): shared by the
    scoring, serving and evaluation tests, which need a fixed trained checkpoint, not a good one."""
    out = tmp_path_factory.mktemp("train_reward")
    # The job in a process of its own, connected to the session's Ray as under `ray job submit`:
    # its console, driver and workers, is kept in console.log for tests/integration/test_console.py.
    env = {**os.environ, "RAY_ADDRESS": ray_local.get_runtime_context().gcs_address}
    run = subprocess.run([sys.executable, "-m", "jobs.train_reward", "--config", "configs/train_reward/tiny.yaml",
                          f"output_dir={out}", f"data.train_path={tiny_records / 'train'}",
                          "train.progress_every_s=0"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    (out / "console.log").write_text(run.stdout + run.stderr, encoding="utf-8")
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    return out / "model"


@pytest.fixture(scope="session")
def s3_server():
    """An S3-compatible server (moto in server mode) on a free loopback port, for the session.
    Yields the standard AWS variables that point a client at it: a test sets them in its own
    environment (monkeypatch) and hands them to the jobs it starts, whose Ray actors inherit them."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError(f"moto server did not start on 127.0.0.1:{port}")
            time.sleep(0.2)
    yield {"AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    proc.terminate()
    proc.wait(timeout=30)
