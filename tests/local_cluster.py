"""A real Ray head on loopback for tests that need a cluster: `ray start --head --block` in the
background, with its own temp dir and free ports (never `ray stop`: other Ray sessions share the
machine), ended by its pid, also when the test fails; and the check that a scored output holds
every input row exactly once.
"""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
RAY = str(VENV_BIN / "ray")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ray_env(**extra: str) -> dict:
    """The venv's bin first on PATH: the head runs the entrypoint's `python` from its own PATH."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}", RAY_AUTH_MODE="token",
               HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", **extra)
    return env


class LocalHead:
    """`ray start --head --block` on 127.0.0.1 with every port chosen free; stop() kills it by pid
    and then any process it started that is still alive."""

    def __init__(self, tmp: Path, num_cpus: int, extra_args: tuple[str, ...] = (), env: dict | None = None):
        self.gcs_port, self.dashboard_port = free_port(), free_port()
        self.address = f"http://127.0.0.1:{self.dashboard_port}"
        # Ray's socket paths (<temp>/session_<date>_<pid>/sockets/dash_MetricsHead) must stay under
        # 108 bytes, which pytest's tmp paths overrun.
        self.temp_dir = Path(tempfile.mkdtemp(prefix="rs-", dir="/tmp"))
        self.log = open(tmp / "head.log", "wb")
        ports = {"port": self.gcs_port, "dashboard-port": self.dashboard_port,
                 "node-manager-port": free_port(), "object-manager-port": free_port(),
                 "ray-client-server-port": free_port(), "dashboard-agent-listen-port": free_port(),
                 "dashboard-agent-grpc-port": free_port(), "runtime-env-agent-port": free_port(),
                 "metrics-export-port": free_port(), "min-worker-port": 0, "max-worker-port": 0}
        cmd = [RAY, "start", "--head", "--block", f"--num-cpus={num_cpus}", "--node-ip-address=127.0.0.1",
               "--dashboard-host=127.0.0.1", "--include-dashboard=true", "--disable-usage-stats",
               f"--temp-dir={self.temp_dir}", *(f"--{k}={v}" for k, v in ports.items()), *extra_args]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT,
                                     env=env or ray_env(), start_new_session=True)
        self.seen: dict[int, psutil.Process] = {}

    @property
    def gcs_address(self) -> str:
        return f"127.0.0.1:{self.gcs_port}"

    def wait_ready(self, timeout_s: float = 90) -> None:
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            self.remember_processes()
            assert self.proc.poll() is None, f"ray start exited: {self.tail()}"
            try:
                # 401 counts as up: with token auth on, even /api/version wants the token.
                if httpx.get(self.address + "/api/version", timeout=2).status_code in (200, 401):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"head not ready after {timeout_s} s: {self.tail()}")

    def remember_processes(self) -> None:
        """Everything the head started so far (fake worker nodes outlive their parent)."""
        try:
            for p in psutil.Process(self.proc.pid).children(recursive=True):
                self.seen.setdefault(p.pid, p)
        except psutil.NoSuchProcess:
            pass

    def stop(self) -> None:
        """SIGTERM to `ray start --block` (it stops what it started), then to whatever it started
        that still runs; SIGKILL for what is left after a grace period."""
        self.remember_processes()
        signal_and_wait([psutil.Process(self.proc.pid)] if self.proc.poll() is None else [])
        signal_and_wait(list(self.seen.values()))
        self.proc.wait(10)
        self.log.close()
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def tail(self, chars: int = 3000) -> str:
        if not self.log.closed:
            self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-chars:]


def signal_and_wait(procs: list[psutil.Process], grace_s: float = 10) -> None:
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.terminate()
    _, alive = psutil.wait_procs(procs, timeout=grace_s)
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(alive, timeout=grace_s)


def ray_cli(*args: str, timeout_s: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([RAY, *args], cwd=ROOT, env=ray_env(), capture_output=True, text=True,
                          timeout=timeout_s)


def check_scored(output: Path, input_rows: pd.DataFrame) -> dict:
    """Every input row exactly once in output or quarantine; the summary balances."""
    summary = json.loads((output / "summary.json").read_text())
    assert summary["ok"], summary
    scored = [pd.read_parquet(p) for p in sorted(output.glob("*.parquet"))]
    quarantined = [pd.read_parquet(p) for p in sorted((output / "quarantine").glob("*.parquet"))]
    ids = [i for t in scored + quarantined for i in t["record_id"].tolist()]
    assert sorted(ids) == sorted(input_rows["record_id"].astype(str))
    assert summary["rows_in"] == len(input_rows) == summary["rows_scored"] + summary["rows_quarantined"]
    assert sum(len(t) for t in scored) == summary["rows_scored"] > 0
    assert all(t["p_correct"].between(0, 1).all() for t in scored)
    return summary
