"""A nested override changes that key only: every other key keeps the default the job gives it.

    .venv/bin/python -m pytest -n 0 -q tests/unit/test_config_defaults.py

A job's section default can differ from the section class's own (train_sft's lora targets Qwen's
modules, distill's judge uses edu_value_en): overriding one key of the section must not fall back
to the class's defaults for its siblings. Walks every config class of every job `rayscore` runs.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

import pytest

from rayscore import cli
from rayscore.config import describe, resolve_config


def job_config_classes() -> dict[str, type]:
    """"<job>:<class>" -> each job config class a job module in jobs/ imports (demo: one per step)."""
    found = {}
    for job in cli.JOBS:
        module = importlib.import_module(f"jobs.{job}")
        for name, value in vars(module).items():
            if isinstance(value, type) and dataclasses.is_dataclass(value) and name.endswith("JobConfig"):
                found[f"{job}:{name}"] = value
    return found


def leaves(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted key -> value, for every key that is not itself a section."""
    out = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            out.update(leaves(value, prefix + f.name + "."))
        else:
            out[prefix + f.name] = value
    return out


def nest(dotted: str, value: Any) -> dict:
    *parents, last = dotted.split(".")
    out: dict = {last: value}
    for part in reversed(parents):
        out = {part: out}
    return out


CLASSES = job_config_classes()


def test_every_job_has_a_config_class():
    jobs = {key.split(":")[0] for key in CLASSES}
    assert jobs == set(cli.JOBS)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_overriding_one_key_leaves_every_other_default(name):
    cls = CLASSES[name]
    defaults = leaves(cls())
    changed = {}
    for key, value in defaults.items():
        cfg, problems = resolve_config(cls, [(nest(key, value), "test")])
        # Its own default is a valid value (a check may still want a required key set).
        assert not [p for p in problems if ": expected " in p or ": unknown key" in p], problems
        moved = {k: (v, leaves(cfg)[k]) for k, v in defaults.items() if leaves(cfg)[k] != v}
        if moved:
            changed[key] = moved
    assert changed == {}, f"{name}: overriding these keys changed others' defaults: {changed}"


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_help_shows_the_defaults_the_job_runs_with(name):
    cls = CLASSES[name]
    text = describe(cls)
    for key, value in leaves(cls()).items():
        line = next(line for line in text.splitlines() if line.startswith(key + " = "))
        assert line.startswith(f"{key} = {value!r} ") or "(required)" in line or "(set by the job)" in line, line


def test_a_nested_override_keeps_the_jobs_section_defaults():
    sft = CLASSES["train_sft:SftJobConfig"]
    cfg, _ = resolve_config(sft, [({"lora": {"r": 4}}, "command line")])
    assert cfg.lora.r == 4
    assert cfg.lora.target_modules == ["q_proj", "k_proj", "v_proj", "o_proj"] and cfg.lora.modules_to_save == []
    distill = CLASSES["distill:DistillJobConfig"]
    cfg, _ = resolve_config(distill, [({"judge": {"num_actors": 3}}, "command line")])
    assert cfg.judge.num_actors == 3 and cfg.judge.template == "edu_value_en" and cfg.judge.score_range == [0, 5]
    assert "model.name_or_path = 'Qwen/Qwen2-0.5B-Instruct'" in describe(sft)
