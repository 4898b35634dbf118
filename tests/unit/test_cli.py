"""The `rayscore` command and the one place a user's mistake becomes a message and exit 2.

    .venv/bin/pytest tests/unit/test_cli.py -q

Nothing here starts Ray: every job run stops at its config, before any work.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from rayscore import cli
from rayscore.checks import CheckSetMismatch
from rayscore.config import ConfigError
from rayscore.entry import run_job
from rayscore.score.chunks import InputError

ROOT = Path(__file__).resolve().parents[2]
BAD_KEY = ["--config", "configs/score_batch/tiny.yaml", "nosuchkey=1"]


def job_modules() -> dict[str, ast.Module]:
    return {p.stem: ast.parse(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "jobs").glob("*.py"))
            if p.stem != "__init__"}


def test_the_job_list_is_the_modules_in_jobs():
    assert sorted(cli.JOBS) == sorted(job_modules())
    assert set(cli.ALIASES.values()) <= set(cli.JOBS)


@pytest.mark.parametrize("name", sorted(job_modules()))
def test_each_job_has_a_main_and_runs_it_through_run_job(name):
    tree = job_modules()[name]
    assert ast.get_docstring(tree), f"jobs/{name}.py: no module docstring for `rayscore --help`"
    assert any(isinstance(n, ast.FunctionDef) and n.name == "main" for n in tree.body)
    # python -m jobs.<name> and `rayscore <name>` must report mistakes the same way.
    assert "raise SystemExit(run_job(main))" in (ROOT / "jobs" / f"{name}.py").read_text(encoding="utf-8")


def test_aliases():
    assert cli.resolve("train") == "train_reward"
    assert cli.resolve("score") == "score_batch"
    assert cli.resolve("serve") == "serve_scorer"
    assert cli.resolve("eval") == "evaluate"
    assert cli.resolve("judge") == "judge"
    assert cli.resolve("nosuchjob") is None


def test_help_lists_every_job_with_its_docstring_first_line(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name, tree in job_modules().items():
        first_line = ast.get_docstring(tree).splitlines()[0]
        assert any(line.split()[0] == name and line.endswith(first_line) for line in out.splitlines()
                   if line.startswith("  ")), (name, out)
    assert "train_reward (or: train)" in out


def test_no_arguments_list_the_jobs_and_exit_2(capsys):
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert "usage: rayscore <job>" in err and "score_batch" in err


def test_an_unknown_job_is_named(capsys):
    assert cli.main(["scroe", "--config", "x.yaml"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rayscore: 'scroe' is not a job") and "score_batch" in err


def test_an_alias_runs_its_job(capsys):
    # `score` reaches jobs.score_batch: its config rejects the key, before Ray is touched.
    assert cli.main(["score", *BAD_KEY]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("rayscore score_batch: invalid configuration: nosuchkey")


def test_a_jobs_help_is_its_config_keys(capsys):
    assert cli.main(["eval", "--help"]) == 0
    assert "predictions" in capsys.readouterr().out


def test_bad_config_key_from_python_m_is_one_line_and_exit_2():
    done = subprocess.run([sys.executable, "-m", "jobs.score_batch", *BAD_KEY], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("score_batch: invalid configuration: nosuchkey (from command line): unknown key")


def test_the_console_script_finds_jobs_in_the_working_directory():
    # A console script's sys.path starts at bin/, not the cwd; -I leaves the cwd out the same way.
    code = "import sys; from rayscore.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-I", "-c", code, "score", *BAD_KEY], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("rayscore score_batch: invalid configuration: nosuchkey")


@pytest.mark.parametrize("error, message", [
    (ConfigError(["a (from command line): unknown key", "b (from x.yaml): expected int, got 'x'"]),
     ["job: invalid configuration: a (from command line): unknown key",
      "job: invalid configuration: b (from x.yaml): expected int, got 'x'"]),
    (FileNotFoundError(2, "No such file or directory", "data/in.jsonl"),
     ["job: data/in.jsonl: No such file or directory"]),
    (InputError("input: data/in has no column 'text'"), ["job: input: data/in has no column 'text'"]),
    (CheckSetMismatch("checks: out/model was trained without checks"),
     ["job: checks: out/model was trained without checks"]),
])
def test_a_users_mistake_is_a_message_and_exit_2(capsys, error, message):
    def main(argv):
        raise error

    assert run_job(main, [], prog="job") == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == message
    assert "Traceback" not in captured.err and captured.out == ""


def test_a_bug_keeps_its_traceback():
    def main(argv):
        raise KeyError("a bug, not a mistake")

    with pytest.raises(KeyError):
        run_job(main, [], prog="job")


def test_run_job_passes_the_arguments_and_the_status():
    seen = []

    def main(argv):
        seen.append(argv)
        return 1

    assert run_job(main, ["a=1"]) == 1
    assert seen == [["a=1"]]
