"""Shared fixtures: one real local Ray for the whole session, and small generated data."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from filelock import FileLock

# No model hub here or in CI: every load is from a local path.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]

# What puts a test in the slow lane by itself: it needs the session's Ray (directly, or through
# the trained model or the docs' working directory).
RAY_FIXTURES = frozenset({"ray_local"})


# The longest test files (measured), started first so that the xdist workers end together on short
# files, not one waiting on the other's last long one. xdist keeps this order with
# --no-loadscope-reorder (pyproject's addopts); it would otherwise put the files with most tests first.
# test_serve.py trains the session's tiny model first; the other worker starts on a file without it.
LONGEST_FIRST = ["test_serve.py", "test_score_exactly_once.py", "test_audit_job.py", "test_storage_jobs.py",
                 "test_distill.py",
                 "test_labelstudio_roundtrip.py", "test_train_storage.py",
                 "test_job_submit.py",
                 "test_train_reward.py", "test_deepspeed.py", "test_autoscaling.py", "test_train_fault.py",
                 "test_score_scorers.py", "test_train_classifier.py", "test_judge_resume.py", "test_train_sft.py"]


def pytest_collection_modifyitems(items):
    """Mark every test that starts Ray (directly or through a fixture) as slow, so that
    `pytest -m "not slow"` is the inner loop without a cluster or a training run; then order the
    files longest first (the order within a file stays)."""
    for item in items:
        if RAY_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(scope="session")
def ray_local():
    """A real in-process Ray (4 logical CPUs on 2 cores: room for 2 train workers or actors plus
    Ray Data's read tasks: with only 2, an actor pool takes every CPU, the reads that feed it
    never get one, and the job waits forever), with its dashboard, as on any cluster: the state
    API answers through it, and Ray Train's placement-group cleaner polls that API."""
    import ray

    if not ray.is_initialized():
        from rayscore.logs import NOISE_ENV

        # address="local": a Ray of this process's own, never one `ray start` left on the machine
        # (a LocalHead test's, or another xdist worker's).
        ray.init(address="local", num_cpus=4, include_dashboard=True, log_to_driver=False,
                 object_store_memory=1 << 30,
                 runtime_env={"env_vars": {"HF_HUB_OFFLINE": "1", **NOISE_ENV}})
    yield ray
    ray.shutdown()


def shared_dir(tmp_path_factory, name: str) -> tuple[Path, FileLock]:
    """A directory every xdist worker of this run sees (the run's base temp dir when there are
    none), and the lock under which the first worker to get there fills it."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    return root / name, FileLock(str(root / f"{name}.lock"))


@pytest.fixture(scope="session")
def tiny_records(tmp_path_factory):
    """configs/generate_records/tiny.yaml's address records: <dir>/train (400 rows) and
    <dir>/score (300 rows, 3 files); the same rows docs/train.md generates."""
    from rayscore.addresses.generate import GenerateJobConfig, run
    from rayscore.config import load_config

    root, lock = shared_dir(tmp_path_factory, "records")
    with lock:
        if not (root / "done").exists():
            run(load_config(GenerateJobConfig, ["--config", str(ROOT / "configs/generate_records/tiny.yaml"),
                                                f"output_dir={root}"]))
            (root / "done").write_text("")
    return root


@pytest.fixture(scope="session")
def docs_env(ray_local) -> dict:
    """The environment the docs' commands run in: this venv's `python` first on PATH, and the
    session's Ray in RAY_ADDRESS (ray.init() joins it, as under `ray job submit`)."""
    return dict(os.environ, RAY_ADDRESS=ray_local.get_runtime_context().gcs_address,
                PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


@pytest.fixture(scope="session")
def docs_workdir(docs_env, tmp_path_factory) -> Path:
    """The working directory the docs' runnable blocks run in (tests/doc_blocks.py), with
    docs/train.md's already run as written: generate_records and train_reward on the tiny configs
    (a reward model trained for a few steps by 2 Ray Train workers). The model every scoring,
    serving and evaluation test shares is thus the one a newcomer's first commands produce; its
    console is <workdir>/train.log. Run once per run, by the first xdist worker that needs it."""
    from doc_blocks import PAGE_ORDER, link_repository, run_page, runnable_pages

    root, lock = shared_dir(tmp_path_factory, "docs_run")
    with lock:
        if not (root / "train.done").exists():
            link_repository(root)
            page, script = runnable_pages()[0]
            assert page == ROOT / PAGE_ORDER[0], f"the first runnable page is {page}, not {PAGE_ORDER[0]}"
            run_page(page, script, root, docs_env)
            (root / "train.done").write_text("")
    return root


@pytest.fixture(scope="session")
def quality_model_dir(docs_workdir) -> Path:
    """The quality reward model docs/train.md trains: a fixed trained checkpoint, not a good one."""
    return docs_workdir / "out/tiny/train_reward/model"


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
                raise RuntimeError(f"moto server did not start on 127.0.0.1:{port}") from None
            time.sleep(0.2)
    yield {"AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    proc.terminate()
    proc.wait(timeout=30)
