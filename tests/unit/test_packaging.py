"""What an installed rayscore carries: every package of lib/rayscore, the jobs and the configs,
and the lookup of a shipped config by name.

    .venv/bin/pytest tests/unit/test_packaging.py -q
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from rayscore.shipped import copy_configs, find_config, shipped_configs, shipped_names

ROOT = Path(__file__).resolve().parents[2]


def test_the_package_list_is_every_package_in_lib_with_the_jobs_and_configs():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    found = {".".join(p.parent.relative_to(ROOT / "lib").parts)
             for p in (ROOT / "lib" / "rayscore").rglob("__init__.py")}
    assert set(setuptools["packages"]) == found | {"rayscore.jobs", "rayscore.configs"}
    assert setuptools["package-dir"] == {"": "lib", "rayscore.jobs": "jobs", "rayscore.configs": "configs"}


def test_the_shipped_configs_are_the_checkouts():
    assert shipped_configs().resolve() == (ROOT / "configs").resolve()
    assert "tiny" in shipped_names("train_reward") and shipped_names("no_such_job") == []


def test_a_config_is_found_by_path_then_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shipped = (ROOT / "configs" / "train_reward" / "tiny.yaml").resolve()
    assert find_config("tiny", job="train_reward").resolve() == shipped
    assert find_config("tiny.yaml", job="train_reward").resolve() == shipped
    assert find_config("train_reward/tiny").resolve() == shipped
    assert find_config("configs/train_reward/tiny.yaml").resolve() == shipped     # named in another config
    (tmp_path / "configs" / "train_reward").mkdir(parents=True)
    (tmp_path / "configs" / "train_reward" / "tiny.yaml").write_text("output_dir: mine\n", encoding="utf-8")
    assert find_config("configs/train_reward/tiny.yaml") == Path("configs/train_reward/tiny.yaml")  # yours first
    assert find_config("nosuch", job="train_reward") == Path("nosuch")


def test_copy_configs_refuses_to_overwrite(tmp_path):
    target = copy_configs(tmp_path)
    assert (target / "judge" / "templates").is_dir() and (target / "audit" / "addresses.yaml").is_file()
    with pytest.raises(FileExistsError, match="never overwrites"):
        copy_configs(tmp_path)
