"""The Ray autoscaler for real on one machine: a head that cannot hold the job, worker "nodes"
launched as local processes by Ray's fake multi-node provider, and a score_batch that needs them.

`ray.cluster_utils.AutoscalingCluster` would do this, but in this wheel it reads an example.yaml
that is not shipped, and it runs `ray stop --force` (which would end every Ray on the machine).
So the same config is built here and the head is started the way it does it:
`RAY_FAKE_CLUSTER=1 AUTOSCALER_UPDATE_INTERVAL_S=1 ray start --head --autoscaling-config=...`,
with its own temp dir and ports (tests/local_cluster.py's LocalHead).

The job is submitted without a `--working-dir` upload, with the code on PYTHONPATH instead: the fake
worker nodes share the head's session dir, and each node's runtime-env agent replaces the unpacked
working dir when it first uses it (`overwrite=True`), deleting it from under the running driver.
Machines of a real cluster each have their own disk; the upload itself is tested in test_job_submit.
"""

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

from local_cluster import ROOT, LocalHead, check_scored, ray_env

WORKER_TYPE = "cpu1"
MAX_WORKERS = 3

# One JSON line per second: how many nodes are alive, and of which type (the head has no CPU).
WATCH_NODES = """
import json, sys, time, ray
ray.init(address=sys.argv[1], log_to_driver=False)
while True:
    alive = [n for n in ray.nodes() if n["Alive"]]
    print(json.dumps({"t": time.time(), "alive": len(alive),
                      "cpus": sum(n["Resources"].get("CPU", 0) for n in alive)}), flush=True)
    time.sleep(1)
"""


def shared_disk_runtime_env(out: Path) -> Path:
    """cluster/runtime_env.yaml without the upload: every fake node reads the code from ROOT."""
    env = yaml.safe_load((ROOT / "cluster" / "runtime_env.yaml").read_text())
    del env["working_dir"], env["excludes"]
    env["env_vars"]["PYTHONPATH"] = f"{ROOT / 'lib'}:{ROOT}"
    out.write_text(yaml.safe_dump(env))
    return out


def fake_cluster_config(gcs_address: str) -> dict:
    """Ray's fake_multinode example config: a head without CPUs, 1-CPU workers from 0 to 3."""
    return {
        "cluster_name": "rayscore-fake",
        "max_workers": MAX_WORKERS,
        "provider": {"type": "fake_multinode", "use_node_id_as_ip": True, "disable_node_updaters": True,
                     "disable_launch_config_check": True, "gcs_address": gcs_address},
        "available_node_types": {
            "ray.head.default": {"resources": {"CPU": 0}, "node_config": {}, "max_workers": 0},
            WORKER_TYPE: {"resources": {"CPU": 1, "object_store_memory": 200 * 1024 ** 2},
                          "node_config": {}, "min_workers": 0, "max_workers": MAX_WORKERS},
        },
        "head_node_type": "ray.head.default",
        "upscaling_speed": 1.0,
        "idle_timeout_minutes": 0.1,  # 6 s without work and a worker node goes
        "auth": {}, "docker": {}, "file_mounts": {}, "cluster_synced_files": [],
        "file_mounts_sync_continuously": False, "rsync_exclude": [], "rsync_filter": [],
        "initialization_commands": [], "setup_commands": [], "head_setup_commands": [],
        "worker_setup_commands": [], "head_start_ray_commands": [], "worker_start_ray_commands": [],
    }


class NodeWatcher:
    """A driver on the cluster printing node counts; read() returns what it saw so far."""

    def __init__(self, gcs_address: str, out: Path):
        self.out = out
        self.file = open(out, "w")
        self.proc = subprocess.Popen([sys.executable, "-c", WATCH_NODES, gcs_address], stdout=self.file,
                                     stderr=subprocess.DEVNULL, cwd=ROOT, env=ray_env())

    def wait_first(self, timeout_s: float = 60) -> None:
        deadline = time.time() + timeout_s
        while not self.read():
            assert self.proc.poll() is None and time.time() < deadline, "node watcher did not start"
            time.sleep(0.5)

    def read(self) -> list[dict]:
        lines = self.out.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(10)
        self.file.close()


@pytest.mark.slow
def test_autoscaler_adds_nodes_for_score_batch_and_removes_them_when_idle(tiny_records, quality_model_dir,
                                                                         tmp_path_factory):
    from rayscore.io import read_table

    tmp = tmp_path_factory.mktemp("autoscale")
    output = tmp / "scored"
    head = LocalHead(tmp, num_cpus=0, env=ray_env(RAY_FAKE_CLUSTER="1", AUTOSCALER_UPDATE_INTERVAL_S="1"),
                     extra_args=(f"--autoscaling-config={tmp / 'cluster.json'}", "--object-store-memory=200000000"))
    (tmp / "cluster.json").write_text(json.dumps(fake_cluster_config(head.gcs_address)))
    watcher = submit = None
    try:
        head.wait_ready()
        watcher = NodeWatcher(head.gcs_address, tmp / "nodes.jsonl")
        watcher.wait_first()
        job_id = f"rayscore-autoscale-{uuid.uuid4().hex[:8]}"
        job_log = open(tmp / "submit.log", "w")
        # A 1-CPU actor, required (min_actors=1): it does not fit on the head.
        submit = subprocess.Popen(
            [str(Path(sys.executable).parent / "ray"), "job", "submit", "--address", head.address,
             "--submission-id", job_id, "--runtime-env", str(shared_disk_runtime_env(tmp / "runtime_env.yaml")),
             "--", "python", "-m", "jobs.score_batch", "--config", str(ROOT / "configs/score_batch/tiny.yaml"),
             f"input={tiny_records / 'score'}", f"output={output}", f"scorer.model_dir={quality_model_dir}",
             "num_actors=1", "min_actors=1", "cpus_per_actor=1"],
            cwd=ROOT, env=ray_env(), stdout=job_log, stderr=subprocess.STDOUT)
        deadline = time.time() + 150
        while submit.poll() is None and time.time() < deadline:
            head.remember_processes()  # the fake worker nodes are the monitor's children
            time.sleep(1)
        job_log.close()
        log = (tmp / "submit.log").read_text()
        assert submit.poll() is not None, f"job did not finish in 150 s: {log[-3000:]}"
        assert submit.returncode == 0, log[-4000:]
        assert f"Job '{job_id}' succeeded" in log, log[-4000:]

        seen = watcher.read()
        assert seen and seen[0]["cpus"] == 0, seen[:3]  # the head alone could not run an actor
        busiest = max(seen, key=lambda s: s["alive"])
        assert busiest["alive"] >= 2 and busiest["cpus"] >= 1, seen  # head + a one-CPU worker node
        assert max(s["alive"] for s in seen) <= 1 + MAX_WORKERS
        check_scored(output, read_table(tiny_records / "score"))

        # Idle worker nodes go after idle_timeout_minutes (6 s) plus an autoscaler round or two.
        deadline = time.time() + 60
        while time.time() < deadline and watcher.read()[-1]["alive"] > 1:
            head.remember_processes()
            time.sleep(1)
        last = watcher.read()[-1]
        assert last["alive"] == 1 and last["cpus"] == 0, last
    finally:
        if submit is not None and submit.poll() is None:
            submit.kill()
        if watcher is not None:
            watcher.stop()
        head.stop()
    assert not [p for p in head.seen.values() if p.is_running()]
