"""The `rayscore` command: the first word names a job, the rest are that job's arguments.

Run as (from the project root, like `python -m jobs.<job>`: jobs/ and configs/ are found there):
  rayscore score --config configs/score_batch/addresses.yaml input=data/in output=data/out
  rayscore train_reward --config configs/train_reward/addresses.yaml --help   # the job's keys
  rayscore --help                                                             # the jobs
  rayscore --version                                                          # the installed version
  python -m rayscore.cli score ...                                            # without the script

`rayscore <job> ARGS` imports jobs.<job> and calls its main(ARGS) through run_job, exactly as
`python -m jobs.<job> ARGS` does: the jobs/ entry points stay the one implementation, and a
user's mistake reads the same either way (a message on stderr, exit 2; see entry.py).
"""

from __future__ import annotations

import ast
import difflib
import importlib
import importlib.metadata
import importlib.util
import logging
import os
import sys
from pathlib import Path

from rayscore.entry import USAGE_ERROR, run_job

__all__ = ["JOBS", "ALIASES", "main", "resolve", "summaries", "usage", "version"]

logger = logging.getLogger(__name__)

# The modules in jobs/, in the order a project runs them; test_cli checks this against jobs/.
JOBS: tuple[str, ...] = ("generate_records", "train_reward", "train_classifier", "train_sft", "score_batch",
                         "evaluate", "audit", "judge", "augment", "distill", "serve_scorer", "demo")
ALIASES: dict[str, str] = {"train": "train_reward", "score": "score_batch", "serve": "serve_scorer",
                           "eval": "evaluate"}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] in ("-h", "--help"):
        print(usage())
        return 0
    if args and args[0] == "--version":
        print(f"rayscore {version()}")
        return 0
    if not args:
        print(usage(), file=sys.stderr)
        return USAGE_ERROR
    name = resolve(args[0])
    if name is None:
        close = difflib.get_close_matches(args[0], [*JOBS, *ALIASES], n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        print(f"rayscore: {args[0]!r} is not a job; {hint}jobs: {', '.join(JOBS)} "
              f"(aliases: {', '.join(f'{a}={j}' for a, j in ALIASES.items())})", file=sys.stderr)
        return USAGE_ERROR
    if not _jobs_importable():
        print(f"rayscore: no jobs/ package in {os.getcwd()}; run rayscore from the project root",
              file=sys.stderr)
        return USAGE_ERROR
    job = importlib.import_module(f"jobs.{name}")
    return run_job(job.main, args[1:], prog=f"rayscore {name}")


def resolve(word: str) -> str | None:
    """A job name or alias -> the job's module name in jobs/; None if it names no job."""
    name = ALIASES.get(word, word)
    return name if name in JOBS else None


def version() -> str:
    """The installed distribution's version (what pip installed, not a copy kept in the source)."""
    try:
        return importlib.metadata.version("rayscore")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed: pip install -e .)"


def usage() -> str:
    lines = ["usage: rayscore <job> [--config FILE] [key=value ...]",
             "       rayscore <job> [--config FILE] [key=value ...] --help",
             "                                  every key: its value, type and docstring; (required) if unset",
             "       rayscore --version",
             "",
             "jobs:"]
    aliases = {job: alias for alias, job in ALIASES.items()}
    for name, summary in summaries().items():
        alias = f" (or: {aliases[name]})" if name in aliases else ""
        lines.append(f"  {name + alias:<30} {summary}".rstrip())
    lines += ["", "Run from the project root: `rayscore <job> ARGS` is `python -m jobs.<job> ARGS`."]
    if _jobs_folder() is None:
        lines.append(f"(no jobs/ package in {os.getcwd()}: these jobs cannot run from here)")
    return "\n".join(lines)


def summaries() -> dict[str, str]:
    """Each job's name -> the first line of its module docstring ("" when jobs/ is not found),
    read from the source: importing the jobs would import torch and Ray just to print a list."""
    folder = _jobs_folder()
    out = {}
    for name in JOBS:
        path = folder / f"{name}.py" if folder else None
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) if path and path.exists() else None
        out[name] = doc.splitlines()[0] if doc else ""
    return out


def _jobs_folder() -> Path | None:
    if not _jobs_importable():
        return None
    spec = importlib.util.find_spec("jobs")
    return Path(next(iter(spec.submodule_search_locations))) if spec and spec.submodule_search_locations else None


def _jobs_importable() -> bool:
    """jobs/ is not installed with the package; like `python -m`, look for it in the working
    directory (a console script's sys.path starts with its bin/ directory, not the cwd)."""
    if importlib.util.find_spec("jobs") is not None:
        return True
    cwd = os.getcwd()
    if not Path(cwd, "jobs", "__init__.py").exists():
        return False
    sys.path.insert(0, cwd)
    logger.debug("added %s to sys.path to import jobs/", cwd)
    return importlib.util.find_spec("jobs") is not None


if __name__ == "__main__":
    raise SystemExit(main())
