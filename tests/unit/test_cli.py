"""The `rayscore` command and the one place a user's mistake becomes a message and exit 2.

    .venv/bin/pytest tests/unit/test_cli.py -q

Nothing here starts Ray: every job run stops at its config or its pre-flight, before any work.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rayscore import cli
from rayscore.checks import CheckSetMismatch
from rayscore.config import ConfigError
from rayscore.data.hupu import SftDataSpec
from rayscore.entry import preflight, run_job
from rayscore.judge.http_client import HttpJudgeSpec
from rayscore.judge.local import LocalJudgeSpec
from rayscore.models import ModelSpec
from rayscore.score.inputs import InputError
from rayscore.score.scorers import ScorerSpec

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


def test_an_unknown_job_is_named_with_the_closest_job(capsys):
    assert cli.main(["scroe", "--config", "x.yaml"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rayscore: 'scroe' is not a job; did you mean 'score'? jobs: ") and "score_batch" in err
    assert cli.main(["trian_sft"]) == 2
    assert "did you mean 'train_sft'?" in capsys.readouterr().err
    assert cli.main(["xyzzy"]) == 2
    assert "did you mean" not in capsys.readouterr().err


def test_a_misspelt_key_gets_a_suggestion(capsys):
    assert cli.main(["train_sft", "lora.rr=4"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "rayscore train_sft: invalid configuration: lora.rr (from command line): unknown key; did you mean 'lora.r'?"]


def test_version_is_the_installed_distributions(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"rayscore {importlib.metadata.version('rayscore')}"


def test_a_jobs_help_with_a_config_shows_its_values(capsys):
    assert cli.main(["train_sft", "--config", "configs/train_sft/tiny.yaml", "lora.r=4", "--help"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("lora.r = 4  [int]") for line in lines)
    assert any(line.startswith("model.name_or_path = 'out/tiny/causal_lm'  [str]") for line in lines)
    assert any(line.startswith("lora.dropout = 0.0  [float]") for line in lines)  # from the YAML
    assert any(line.startswith("lora.alpha = 16  [int]") for line in lines)


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


def test_the_console_script_runs_a_job_with_a_shipped_config_from_any_directory(tmp_path):
    # A console script's sys.path starts at bin/, not the cwd; -I leaves the cwd out the same way.
    code = "import sys; from rayscore.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-I", "-c", code, "score", "--config", "tiny", "nosuchkey=1"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("rayscore score_batch: invalid configuration: nosuchkey")


def test_an_unknown_config_name_lists_the_jobs_shipped_configs(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train_reward", "--config", "tinyy"]) == 2
    err = capsys.readouterr().err
    assert "--config tinyy: no such file, nor a shipped config of that name" in err
    assert "shipped configs of train_reward: addresses, " in err and "tiny" in err


def test_init_writes_every_shipped_config_once(capsys, tmp_path):
    assert cli.main(["init", str(tmp_path / "proj")]) == 0
    written = sorted(p.relative_to(tmp_path / "proj" / "configs") for p in (tmp_path / "proj" / "configs").rglob("*.*"))
    shipped = sorted(p.relative_to(ROOT / "configs") for p in (ROOT / "configs").rglob("*.*")
                     if "__pycache__" not in p.parts and p.name != "__init__.py")
    assert written == shipped and len(written) > 50
    assert "rayscore train_reward --config configs/train_reward/tiny.yaml" in capsys.readouterr().out
    assert cli.main(["init", str(tmp_path / "proj")]) == 2                      # never overwrites
    assert "exists; rayscore init never overwrites" in capsys.readouterr().err
    assert cli.main(["init"]) == 2


def test_show_prints_a_finished_run_and_names_what_is_not_one(capsys, tmp_path):
    run = tmp_path / "scored"
    run.mkdir()
    (run / "summary.json").write_text(json.dumps({
        "ok": True, "kind": "quality", "rows_in": 1200, "rows_scored": 1190, "rows_quarantined": 10,
        "quarantine_reasons": {"empty_text": 10}, "label_counts": {"正确": 700, "错误": 490},
        "gold_metrics": {"overall": {"f1": 0.91234, "automatic": {"coverage": 0.97}}}, "fingerprint": "abc123"}),
        encoding="utf-8")
    (run / "reliability.png").write_bytes(b"png")
    assert cli.main(["show", str(run)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{run}: quality ok  (summary.json)"
    assert out[1] == "rows: rows_in 1,200, rows_scored 1,190, rows_quarantined 10"
    assert out[2] == "quarantined because: empty_text 10"
    assert "gold f1 0.9123" in out[4] and "automatic coverage 0.97" in out[4]
    assert out[-2:] == [f"plots: {run / 'reliability.png'}", "fingerprint: abc123"]
    assert cli.main(["show", str(tmp_path)]) == 2
    assert "not a finished rayscore run" in capsys.readouterr().err


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


# --- pre-flight: what this machine lacks stops the job before Ray starts ----------------------

def run_cli(capsys, monkeypatch, *args: str) -> tuple[int, list[str]]:
    """The CLI's status and error lines, asserting it never called ray.init (the call is recorded
    and passed on to the real one: the session may already hold a Ray, so is_initialized() alone
    would say nothing)."""
    import ray

    calls = []
    real_init = ray.init
    monkeypatch.setattr(ray, "init", lambda *a, **k: calls.append((a, k)) or real_init(*a, **k))
    status = cli.main(list(args))
    assert calls == []
    return status, capsys.readouterr().err.splitlines()


def test_a_missing_input_stops_the_job_before_ray(capsys, tmp_path, monkeypatch):
    missing = str(tmp_path / "nope")
    status, err = run_cli(capsys, monkeypatch, "score", "--config", "configs/score_batch/tiny.yaml", f"input={missing}",
                          f"scorer.model_dir={tmp_path}")
    assert status == 2
    assert err == [f"rayscore score_batch: invalid configuration: input = {missing!r}: no such file or directory"]


def test_a_missing_local_model_stops_the_job_before_ray(capsys, tmp_path, monkeypatch):
    (tmp_path / "train.csv").write_text("x\n")
    model = str(tmp_path / "no-model")
    status, err = run_cli(capsys, monkeypatch, "train_sft", f"data.train_path={tmp_path / 'train.csv'}",
                          f"model.name_or_path={model}")
    assert status == 2
    assert err == [f"rayscore train_sft: invalid configuration: model.name_or_path = {model!r}: no such directory"]


def test_a_hub_name_outside_the_cache_stops_the_job_when_offline(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    (tmp_path / "train.csv").write_text("x\n")
    status, err = run_cli(capsys, monkeypatch, "train_sft", f"data.train_path={tmp_path / 'train.csv'}",
                          "model.name_or_path=nobody-here/no-such-model")
    assert status == 2
    assert err == ["rayscore train_sft: invalid configuration: model.name_or_path = 'nobody-here/no-such-model': "
                   "not a local directory, and not in the Hugging Face cache (HF_HUB_OFFLINE is set)"]


def test_an_unset_api_key_variable_stops_the_job_before_ray(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("RAYSCORE_TEST_NO_KEY", raising=False)
    (tmp_path / "answers.jsonl").write_text("{}\n")
    status, err = run_cli(capsys, monkeypatch, "judge", "--config", "configs/judge/tiny.yaml",
                          f"input={tmp_path / 'answers.jsonl'}", f"output_dir={tmp_path / 'out'}",
                          "http.api_key_env=RAYSCORE_TEST_NO_KEY")
    assert status == 2
    assert err == ["rayscore judge: invalid configuration: http.api_key_env = 'RAYSCORE_TEST_NO_KEY': "
                   "environment variable RAYSCORE_TEST_NO_KEY is not set"]


def test_preflight_passes_what_is_here(tmp_path, monkeypatch):
    from rayscore.judge.job import JudgeJobConfig
    from rayscore.train.sft import SftJobConfig

    (tmp_path / "train.csv").write_text("x\n")
    (tmp_path / "model").mkdir()
    monkeypatch.setenv("RAYSCORE_TEST_KEY", "secret")
    configs = [
        SftJobConfig(data=SftDataSpec(train_path=str(tmp_path / "train.csv")),
                     model=ModelSpec(name_or_path=str(tmp_path / "model")), output_dir=str(tmp_path / "sft")),
        SftJobConfig(data=SftDataSpec(train_path=str(tmp_path / "*.csv")),  # a glob that matches
                     model=ModelSpec(name_or_path="minilm"), output_dir=str(tmp_path / "sft2")),
        JudgeJobConfig(input="s3://bucket/answers", output_dir=str(tmp_path / "judged"),
                       http=HttpJudgeSpec(model="m", api_key_env="RAYSCORE_TEST_KEY")),
        # backend local: the carried http spec is not used, nor its key.
        JudgeJobConfig(input=str(tmp_path / "train.csv"), output_dir=str(tmp_path / "judged_local"), backend="local",
                       local=LocalJudgeSpec(model_path=str(tmp_path / "model")),
                       http=HttpJudgeSpec(api_key_env="RAYSCORE_TEST_NO_KEY")),
    ]
    written: list[str] = []
    for cfg in configs:
        preflight(cfg, written)  # raises ConfigError on any problem
    # Each passing config adds its output directory, for the steps loaded after it.
    assert [str(tmp_path / d) for d in ("sft", "sft2", "judged", "judged_local")] == written


def test_preflight_leaves_inputs_an_earlier_step_of_the_run_writes(tmp_path):
    from rayscore.score.config import ScoreJobConfig

    written = [str(tmp_path / "out")]  # the output_dir of a step loaded before this one
    cfg = ScoreJobConfig(input=str(tmp_path / "out" / "data"), output=str(tmp_path / "scored"),
                         scorer=ScorerSpec(model_dir=str(tmp_path / "out" / "model")))
    preflight(cfg, written)
    assert str(tmp_path / "scored") in written
    with pytest.raises(ConfigError, match="input = .*: no such file or directory"):
        preflight(cfg, [])
