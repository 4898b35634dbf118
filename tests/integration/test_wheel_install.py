"""The built wheel, installed into a fresh venv, runs a job from a directory that is not the
checkout: the jobs, the shipped configs, the judge templates and the address tables all travel
inside the package.

    .venv/bin/python -m pytest -n 0 -q tests/integration/test_wheel_install.py

The fresh venv gets the wheel and nothing else; its dependencies (torch, Ray, ...) come from this
venv's site-packages through a .pth line, so the test takes seconds, not a reinstall of the stack.
A path a .pth file adds is not scanned for .pth files itself, so this venv's editable install of
the checkout is never seen there: every `rayscore` module the fresh venv imports is the wheel's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def run(cmd: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{cmd}: {done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with only the built wheel installed (bin/rayscore, bin/python)."""
    root = tmp_path_factory.mktemp("wheel")
    # A copy of the checkout: setuptools builds in the source tree (build/), never in this one.
    source = root / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "out", "build", "__pycache__",
                                                                "*.egg-info", ".pytest_cache", "results"))
    run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(root / "dist")], root)
    (wheel,) = (root / "dist").glob("rayscore-*.whl")
    venv = root / "venv"
    run([sys.executable, "-m", "venv", str(venv)], root)
    site = Path(run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    root).stdout.strip())
    (site / "project-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], root)
    return venv


def test_the_wheel_runs_a_job_from_another_directory(installed, tmp_path):
    rayscore = str(installed / "bin" / "rayscore")
    where = run([str(installed / "bin" / "python"), "-c", "import rayscore; print(rayscore.__file__)"], tmp_path)
    assert str(installed) in where.stdout                                # the wheel's copy, not the checkout
    assert run([rayscore, "--version"], tmp_path).stdout.strip() == "rayscore 0.1.0"
    assert "generate_records" in run([rayscore, "--help"], tmp_path).stdout

    # a shipped config by name, from an empty directory: 400 + 300 records written here
    run([rayscore, "generate_records", "--config", "tiny", "output_dir=records"], tmp_path)
    assert (tmp_path / "records" / "train").is_dir() and (tmp_path / "records" / "score").is_dir()
    assert json.loads((tmp_path / "records" / "summary.json").read_text(encoding="utf-8"))["ok"] is True

    # a starter project, then the same job by path inside it
    run([rayscore, "init", "proj"], tmp_path)
    assert (tmp_path / "proj" / "configs" / "judge" / "templates" / "rubric_zh.txt").is_file()
    run([rayscore, "generate_records", "--config", "configs/generate_records/tiny.yaml", "output_dir=data"],
        tmp_path / "proj")
    shown = run([rayscore, "show", "data"], tmp_path / "proj").stdout
    assert shown.startswith("data: ") and "rows" in shown
    # the judge's templates resolve inside the installed package too
    template = run([str(installed / "bin" / "python"), "-c",
                    "from rayscore.judge.prompts import load_template; print(len(load_template('rubric_zh')))"],
                   tmp_path)
    assert int(template.stdout) > 50
