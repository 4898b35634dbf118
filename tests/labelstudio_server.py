"""A real Label Studio server on 127.0.0.1, from a venv of its own, for round-trip tests.

    venv = labelstudio_venv(cache_root)           # LABEL_STUDIO_VENV, or built once under cache_root
    with LabelStudioServer(venv, tmp_dir) as ls:  # SQLite and media in tmp_dir/data, a free port
        ls.api.post(f"{ls.url}/api/projects", json={...})   # requests, with the user's token
        ls.user_id, ls.startup_s, ls.log_tail()

Label Studio pins pyarrow < 25, so it cannot live in the project's venv: it runs from its own
venv (`uv venv DIR && uv pip install --python DIR/bin/python label-studio==<LABEL_STUDIO_VERSION>`,
about 15 seconds; uv is in the test extra). Set LABEL_STUDIO_VENV to an existing such venv to skip
the build; otherwise it is built once under the cache root (a lock keeps xdist workers from
building it twice) and reused while its marker file is there. The test process never imports
label_studio.

The server is started with a known user and legacy API token (`label-studio start --username
--password --user-token --enable-legacy-api-token`: 1.23 accepts a legacy token only when the
organization allows it), with Sentry, analytics and the PyPI version check off (no network),
its output in tmp_dir/label-studio.log, in a process group of its own that stop() ends.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from filelock import FileLock

LABEL_STUDIO_VERSION = "1.23.2"
LABEL_STUDIO_REQUIREMENT = f"label-studio=={LABEL_STUDIO_VERSION}"
VENV_ENV = "LABEL_STUDIO_VENV"
INSTALLED_MARKER = ".rayscore-installed"
INSTALL_TIMEOUT_S = 900
START_TIMEOUT_S = 240
"""A fresh SQLite database is migrated at start: ~25 s on 2 busy cores."""

# Label Studio reads its settings from LABEL_STUDIO_<NAME>, HEARTEX_<NAME> or a bare <NAME>:
# none of these may leak in from the caller's environment.
_BARE_SETTINGS = ("HOST", "PORT", "USERNAME", "PASSWORD", "USER_TOKEN", "DATABASE_NAME", "DJANGO_DB",
                  "BASE_DATA_DIR", "SENTRY_DSN", "DEBUG", "LOG_LEVEL", "DISABLE_SIGNUP_WITHOUT_LINK")
_STARTED = re.compile(r"Starting development server at http://127\.0\.0\.1:(\d+)/")


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def installed_version(venv: Path) -> str | None:
    """label-studio's version in `venv` (its metadata, without importing it), or None."""
    if not venv_python(venv).exists():
        return None
    out = subprocess.run([str(venv_python(venv)), "-c",
                          "import importlib.metadata as m; print(m.version('label-studio'))"],
                         capture_output=True, text=True, timeout=60)
    return out.stdout.strip() if out.returncode == 0 else None


def labelstudio_venv(cache_root: str | Path) -> tuple[Path, float]:
    """(venv with label-studio==LABEL_STUDIO_VERSION, seconds spent building it: 0 when reused)."""
    given = os.environ.get(VENV_ENV)
    if given:
        venv = Path(given)
        found = installed_version(venv)
        if found != LABEL_STUDIO_VERSION:
            raise RuntimeError(f"{VENV_ENV}={venv}: label-studio {found or 'not installed'} there; the tests pin "
                               f"{LABEL_STUDIO_REQUIREMENT} (tests/labelstudio_server.py)")
        return venv, 0.0
    cache_root = Path(cache_root)
    cache_root.mkdir(parents=True, exist_ok=True)
    venv = cache_root / f"labelstudio-{LABEL_STUDIO_VERSION}-py{sys.version_info.major}{sys.version_info.minor}"
    with FileLock(str(venv) + ".lock"):
        if (venv / INSTALLED_MARKER).exists():
            return venv, 0.0
        start = time.monotonic()
        shutil.rmtree(venv, ignore_errors=True)  # a build that did not finish
        log = cache_root / f"{venv.name}-install.log"
        with log.open("w") as out:
            # uv resolves and installs in parallel: seconds, where pip takes a minute and a half.
            for cmd in ([sys.executable, "-m", "uv", "venv", "--quiet", "--python", sys.executable, str(venv)],
                        [sys.executable, "-m", "uv", "pip", "install", "--quiet", "--compile-bytecode", "--python",
                         str(venv_python(venv)), LABEL_STUDIO_REQUIREMENT]):
                done = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, timeout=INSTALL_TIMEOUT_S)
                if done.returncode != 0:
                    raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}); see {log}:\n{tail(log)}")
        found = installed_version(venv)
        if found != LABEL_STUDIO_VERSION:
            raise RuntimeError(f"{venv}: uv installed label-studio {found}, not {LABEL_STUDIO_VERSION}")
        (venv / INSTALLED_MARKER).write_text(LABEL_STUDIO_REQUIREMENT + "\n")
        return venv, time.monotonic() - start


def tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return f"({path} not written)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabelStudioServer:
    """One Label Studio process: start() waits for /health, stop() ends its process group."""

    def __init__(self, venv: str | Path, workdir: str | Path, email: str = "auditor@example.com",
                 password: str = "rayscore-test-password", token: str = "rayscore0test0token0123456789"):
        self.venv, self.workdir = Path(venv), Path(workdir)
        self.email, self.password, self.token = email, password, token
        self.data_dir = self.workdir / "data"
        self.log_path = self.workdir / "label-studio.log"
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.user_id: int | None = None
        self.startup_s = 0.0
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Token {token}"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("LABEL_STUDIO_", "HEARTEX_", "DJANGO_")) and k not in _BARE_SETTINGS}
        env.pop("VIRTUAL_ENV", None)
        env.update({
            "PYTHONUNBUFFERED": "1",  # the "Starting development server" line reaches the log at once
            "LABEL_STUDIO_BASE_DATA_DIR": str(self.data_dir),  # else settings first create ~/.local/share/label-studio
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            "LABEL_STUDIO_SENTRY_DSN": "", "LABEL_STUDIO_FRONTEND_SENTRY_DSN": "",  # default: HumanSignal's Sentry
            "LABEL_STUDIO_COLLECT_ANALYTICS": "false", "LABEL_STUDIO_LATEST_VERSION_CHECK": "false",
            "PATH": f"{self.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        })
        return env

    def start(self, timeout_s: float = START_TIMEOUT_S) -> LabelStudioServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        cmd = [str(self.venv / "bin" / "label-studio"), "start", "--no-browser",
               "--data-dir", str(self.data_dir), "--internal-host", "127.0.0.1", "--port", str(free_port()),
               "--username", self.email, "--password", self.password, "--user-token", self.token,
               "--enable-legacy-api-token"]
        started = time.monotonic()
        with self.log_path.open("w") as log:
            self.proc = subprocess.Popen(cmd, cwd=self.workdir, env=self.environment(), stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_until_up(started + timeout_s)
        except BaseException:
            self.stop()
            raise
        self.startup_s = time.monotonic() - started
        return self

    def _wait_until_up(self, deadline: float) -> None:
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"label-studio exited with {self.proc.returncode} before it served /health; "
                                   f"{self.log_path}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"label-studio did not serve /health in time; {self.log_path}:\n{self.log_tail()}")
            if not self.url:
                # Label Studio moves to the next port when the one given is taken: read the one it serves on.
                found = _STARTED.search(self.log_path.read_text(encoding="utf-8", errors="replace"))
                if found:
                    self.url = f"http://127.0.0.1:{found.group(1)}"
            if self.url:
                try:
                    if requests.get(f"{self.url}/health", timeout=2).json().get("status") == "UP":
                        break
                except (requests.RequestException, ValueError):
                    pass
            time.sleep(0.25)
        me = self.api.get(f"{self.url}/api/current-user/whoami", timeout=30)
        me.raise_for_status()
        assert me.json()["email"] == self.email, me.json()
        self.user_id = me.json()["id"]

    def version(self) -> str:
        r = self.api.get(f"{self.url}/api/version", timeout=30)
        r.raise_for_status()
        return r.json()["release"]

    def stop(self, timeout_s: float = 20) -> None:
        self.api.close()
        if self.proc is None or self.proc.poll() is not None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)  # its own session: the server and anything it started
            except ProcessLookupError:
                return
            try:
                self.proc.wait(timeout=timeout_s)
                return
            except subprocess.TimeoutExpired:
                continue
        self.proc.wait(timeout=timeout_s)

    def log_tail(self, lines: int = 60) -> str:
        return tail(self.log_path, lines)

    def __enter__(self) -> LabelStudioServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
