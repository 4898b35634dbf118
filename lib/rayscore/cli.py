"""The `rayscore` command: the first word names a job (or init, show), the rest are its arguments.

Run as, from any directory:
  rayscore score --config configs/score_batch/addresses.yaml input=data/in output=data/out
  rayscore train_reward --config tiny                   # a shipped config, by name (shipped.py)
  rayscore train_reward --config tiny --help            # the job's keys, as that config sets them
  rayscore init myproject                               # myproject/configs/: every shipped config, to edit
  rayscore show out/demo/scored                         # a finished run in a few lines
  rayscore --help | --version
  python -m rayscore.cli score ...                      # without the script

`rayscore <job> ARGS` imports rayscore.jobs.<job> (the checkout's jobs/, installed inside the
package) and calls its main(ARGS) through run_job, exactly as `python -m jobs.<job> ARGS` does
in the checkout: one implementation, and a user's mistake reads the same either way (a message
on stderr, exit 2; see entry.py).
"""

from __future__ import annotations

import ast
import difflib
import importlib
import importlib.metadata
import importlib.util
import sys
from pathlib import Path

from rayscore.entry import USAGE_ERROR, run_job
from rayscore.report import run_lines
from rayscore.shipped import copy_configs

__all__ = ["JOBS", "ALIASES", "COMMANDS", "main", "resolve", "summaries", "usage", "version", "init", "show"]


# The modules in jobs/, in the order a project runs them; test_cli checks this against jobs/.
JOBS: tuple[str, ...] = ("generate_records", "train_reward", "train_classifier", "train_sft", "score_batch",
                         "evaluate", "audit", "judge", "augment", "distill", "serve_scorer", "demo")
JOBS_PACKAGE = "rayscore.jobs"
"""Where the jobs live once installed: the checkout's jobs/ (pyproject.toml's package-dir)."""
ALIASES: dict[str, str] = {"train": "train_reward", "score": "score_batch", "serve": "serve_scorer",
                           "eval": "evaluate"}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] in ("-h", "--help"):
        print(usage())
        return 0
    if args and args[0] in COMMANDS:
        return COMMANDS[args[0]](args[1:])
    if args and args[0] == "--version":
        print(f"rayscore {version()}")
        return 0
    if not args:
        print(usage(), file=sys.stderr)
        return USAGE_ERROR
    name = resolve(args[0])
    if name is None:
        close = difflib.get_close_matches(args[0], [*JOBS, *ALIASES, *COMMANDS], n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        print(f"rayscore: {args[0]!r} is not a job; {hint}jobs: {', '.join(JOBS)} "
              f"(aliases: {', '.join(f'{a}={j}' for a, j in ALIASES.items())})", file=sys.stderr)
        return USAGE_ERROR
    job = importlib.import_module(f"{JOBS_PACKAGE}.{name}")
    return run_job(job.main, args[1:], prog=f"rayscore {name}")


def init(args: list[str]) -> int:
    """rayscore init DIR: DIR/configs/ with every shipped config and template, to edit."""
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: rayscore init DIR   (writes DIR/configs/: every shipped config, to edit)", file=sys.stderr)
        return USAGE_ERROR
    try:
        target = copy_configs(args[0])
    except FileExistsError as e:
        print(f"rayscore init: {e}", file=sys.stderr)
        return USAGE_ERROR
    print(f"wrote {target} ({sum(1 for _ in target.rglob('*.yaml'))} configs). Then, in {args[0]}:\n"
          f"  rayscore generate_records --config configs/generate_records/tiny.yaml\n"
          f"  rayscore train_reward --config configs/train_reward/tiny.yaml\n"
          f"  rayscore show out/tiny/train_reward")
    return 0


def show(args: list[str]) -> int:
    """rayscore show DIR...: each finished run's summary in a few lines."""
    if not args or any(a.startswith("-") for a in args):
        print("usage: rayscore show OUTPUT_DIR [OUTPUT_DIR ...]", file=sys.stderr)
        return USAGE_ERROR
    status = 0
    for directory in args:
        try:
            print("\n".join(run_lines(directory)))
        except FileNotFoundError as e:
            print(f"rayscore show: {e}", file=sys.stderr)
            status = USAGE_ERROR
    return status


COMMANDS = {"init": init, "show": show}


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
    lines += ["", "  init DIR                       DIR/configs/: every shipped config, to edit",
              "  show OUTPUT_DIR                a finished run's summary in a few lines",
              "", "--config NAME finds a shipped config of the job by name (rayscore train_reward --config tiny)."]
    return "\n".join(lines)


def summaries() -> dict[str, str]:
    """Each job's name -> the first line of its module docstring, read from the source: importing
    the jobs would import torch and Ray just to print a list."""
    spec = importlib.util.find_spec(JOBS_PACKAGE)
    folder = Path(next(iter(spec.submodule_search_locations))) if spec and spec.submodule_search_locations else None
    out = {}
    for name in JOBS:
        path = folder / f"{name}.py" if folder else None
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) if path and path.exists() else None
        out[name] = doc.splitlines()[0] if doc else ""
    return out


if __name__ == "__main__":
    raise SystemExit(main())
