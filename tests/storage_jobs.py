"""Jobs run as a user runs them, against the loopback S3 server: `python -m jobs.<job>` in a
process group of its own, with a local Ray of its own that inherits the S3 variables (the
session's Ray was started before them, so its workers would not see the server).

    make_bucket("s3://bucket"); upload_dir(local_dir, "s3://bucket/in")   # rayscore.io's upload
    with s3_env(s3_server, tmp_path) as env:     # AWS_* for the server, a model cache, a Ray temp dir
        proc = start_job("train_reward", [...words], env, tmp_path / "train.log")
        end_group(proc)                          # whatever it started, killed
        driver_pid = run_job("score_batch", [...words], env, tmp_path / "score.log")   # to exit 0
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from rayscore.io import filesystem

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def s3_env(s3_server: dict, tmp_path: Path) -> Iterator[dict]:
    """The jobs' environment: the server's variables, a model cache of this test, a Ray temp dir
    of their own (removed afterwards)."""
    ray_tmp = tempfile.mkdtemp(prefix="rs-s3-", dir="/tmp")  # short: Ray's socket paths have a length limit
    try:
        yield {**s3_server, "RAYSCORE_MODEL_CACHE": str(tmp_path / "model_cache"), "RAY_TMPDIR": ray_tmp}
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)


def make_bucket(uri: str) -> None:
    fs, bucket = filesystem(uri)
    fs.create_dir(bucket)


def read_json(uri: str) -> dict:
    fs, path = filesystem(uri)
    with fs.open_input_stream(path) as f:
        return json.loads(f.read().decode())


def start_job(job: str, words: list[str], env: dict, log: Path) -> subprocess.Popen:
    full = {**os.environ, "RAY_ADDRESS": "local", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", **env}
    with open(log, "w") as fh:
        return subprocess.Popen([sys.executable, "-m", f"jobs.{job}", *words], cwd=ROOT, env=full, stdout=fh,
                                stderr=subprocess.STDOUT, start_new_session=True)


def run_job(job: str, words: list[str], env: dict, log: Path, timeout_s: float = 600) -> int:
    """The job run to its end (its driver's pid); fails the test with the end of its console when it fails."""
    proc = start_job(job, words, env, log)
    try:
        code = proc.wait(timeout=timeout_s)
    finally:
        end_group(proc)
    assert code == 0, f"{job} exited {code}:\n{log.read_text()[-4000:]}"
    return proc.pid


def end_group(proc: subprocess.Popen) -> None:
    """Whatever the job started (raylet, GCS, workers) and is still running: its own process group."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)
