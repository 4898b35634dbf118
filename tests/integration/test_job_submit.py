"""score_batch submitted with the real `ray job submit` CLI to a real head node on loopback.

The head is tests/local_cluster.py's LocalHead, ended by its pid also when the test fails. The
client sets RAY_AUTH_MODE=token (cluster/README.md: the head turns token auth on
when ~/.ray/auth_token exists, which any earlier ray.init() wrote).
"""

import re
import uuid

import pytest

from console import console_problems
from local_cluster import LocalHead, check_scored, ray_cli


@pytest.mark.slow
def test_score_batch_through_ray_job_submit(tiny_records, quality_model_dir, tmp_path_factory):
    from rayscore.io import read_table

    tmp = tmp_path_factory.mktemp("head")
    output = tmp / "scored"
    head = LocalHead(tmp, num_cpus=2)
    try:
        head.wait_ready()
        job_id = f"rayscore-test-{uuid.uuid4().hex[:8]}"
        submitted = ray_cli(
            "job", "submit", "--address", head.address, "--submission-id", job_id,
            "--working-dir", ".", "--runtime-env", "cluster/runtime_env.yaml", "--",
            "python", "-m", "jobs.score_batch", "--config", "configs/score_batch/tiny.yaml",
            f"input={tiny_records / 'score'}", f"output={output}", f"scorer.model_dir={quality_model_dir}",
            "progress_every_s=0", timeout_s=240)
        log = submitted.stdout + submitted.stderr
        assert submitted.returncode == 0, log[-4000:]
        # The CLI tails the driver's log, then reports the final status (exit 1 only on FAILED).
        assert f"Job '{job_id}' succeeded" in log, log[-4000:]
        assert "rows in 300 = scored" in log, log[-4000:]
        # The job's console (driver and actors): progress with a rate and an ETA, a closing total, no noise.
        console = log.split("Tailing logs until the job exits", 1)[-1].split(f"Job '{job_id}' succeeded", 1)[0]
        assert console_problems(console) == [], console[-4000:]
        assert re.search(r"scored 300/300 rows, [\d.,]+ rows/s, ETA 0 s", console), console[-4000:]
        assert re.search(r"scored 300 rows in \d+ (s|min \d\d s) \([\d.,]+ rows/s\)", console), console[-4000:]
        check_scored(output, read_table(tiny_records / "score"))
    finally:
        head.stop()
    assert head.proc.poll() is not None
    assert not [p for p in head.seen.values() if p.is_running()]
