"""The configs and judge templates that ship inside the package, found by name from any directory.

    shipped_configs()                          # the configs/ tree: the checkout's, or the installed copy
    find_config("addresses", job="audit")      # a path: ./addresses, else configs/audit/addresses.yaml
    find_config("configs/train_reward/tiny.yaml")   # the path if it is here, else the shipped one
    copy_configs("myproject")                  # rayscore init: a project folder to edit

The checkout's configs/ is installed as the package `rayscore.configs` (pyproject.toml), so a
config named in another config (`train_config: configs/train_reward/tiny.yaml`) or on the command
line resolves the same way in the checkout, in a folder `rayscore init` wrote, and anywhere else:
a path that exists is read as it is; otherwise a shipped config of that name is.
"""

from __future__ import annotations

import contextvars
import importlib.util
import shutil
from pathlib import Path

CONFIGS = "configs"
current_job: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_job", default=None)
"""The job being run (entry.run_job sets it): `--config NAME` names a config of this job."""


def shipped_configs() -> Path:
    """The shipped configs/ tree (a directory on disk in the checkout and in an installed wheel)."""
    spec = importlib.util.find_spec("rayscore.configs")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("rayscore.configs is not installed (pip install the project)")
    return Path(next(iter(spec.submodule_search_locations)))


def find_config(text: str, job: str | None = None) -> Path:
    """The file `--config TEXT` means: TEXT if it exists; else, in the shipped tree, TEXT below
    configs/ (configs/train_reward/tiny.yaml), JOB/TEXT(.yaml) (`--config tiny` of train_reward)
    or TEXT(.yaml) as JOB/NAME (train_reward/tiny). Returns TEXT unchanged when none exists, so
    the caller reports the name the user gave."""
    given = Path(text)
    if given.exists():
        return given
    root = shipped_configs()
    parts = given.parts[1:] if given.parts[:1] == (CONFIGS,) else given.parts
    names = [Path(*parts)] if parts else []
    if job and len(parts) == 1:
        names.insert(0, Path(job, parts[0]))
    for name in names:
        for candidate in (root / name, root / name.with_name(name.name + ".yaml")):
            if candidate.is_file():
                return candidate
    return given


def shipped_names(job: str) -> list[str]:
    """The shipped config names of a job (`--config NAME`)."""
    folder = shipped_configs() / job
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def copy_configs(directory: str | Path) -> Path:
    """A project folder to edit: DIRECTORY/configs/ holds a copy of every shipped config and judge
    template (relative paths in them, such as out/…, then resolve inside DIRECTORY). An existing
    configs/ there is never overwritten."""
    target = Path(directory) / CONFIGS
    if target.exists():
        raise FileExistsError(f"{target} exists; rayscore init never overwrites a project's configs")
    shutil.copytree(shipped_configs(), target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "__init__.py"))
    return target
