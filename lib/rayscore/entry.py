"""How a job's entry point runs: its main(argv), with a user's mistake reported as a message.

    # jobs/<job>.py -- `python -m jobs.<job> ARGS`; `rayscore <job> ARGS` runs the same
    if __name__ == "__main__":
        raise SystemExit(run_job(main))

A user's mistake is printed to stderr as `<job>: <message>` (one line per problem) and exits 2,
without a traceback: the message already names what to fix, and a traceback buries it. The
mistakes: a bad config key or value (ConfigError), an input that is not there
(FileNotFoundError), an input that cannot be scored (InputError), a model asked to score with
other checks than it was trained with (CheckSetMismatch), training data the data check refuses
(DataCheckError: repeated in the eval split, or mostly one template). Anything else is a bug and
keeps its traceback. RAYSCORE_LOG_LEVEL=DEBUG logs the traceback of a user's mistake as well.

Pre-flight: during run_job, each config the job loads is checked against this machine before
Ray starts (a ConfigError, one line per key, naming its value): a local input that is not there
(INPUT_KEYS), a model that cannot be loaded (MODEL_KEYS: a missing local path, or a hub name
outside the Hugging Face cache while offline), a judge endpoint's API key variable that is named
but unset. Keys the job fills itself (SET_BY_JOB) are skipped, and so are inputs under an output
directory of this run (demo's later steps read what its earlier steps write).

This lives apart from cli.py so that arrows go one way: cli imports the jobs, the jobs import
this, and nothing here imports a job.
"""

from __future__ import annotations

import dataclasses
import glob
import logging
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rayscore.checks import CheckSetMismatch
from rayscore.config import ConfigError, on_load, set_by_job
from rayscore.data.data_check import DataCheckError
from rayscore.models import resolve_model_path
from rayscore.score.inputs import InputError
from rayscore.shipped import current_job

__all__ = ["USER_ERRORS", "USAGE_ERROR", "INPUT_KEYS", "MODEL_KEYS", "run_job", "user_message", "preflight"]

logger = logging.getLogger(__name__)

USAGE_ERROR = 2
"""Exit status of a user's mistake (as argparse and most Unix tools use it)."""
USER_ERRORS: tuple[type[Exception], ...] = (ConfigError, FileNotFoundError, InputError, CheckSetMismatch,
                                             DataCheckError)

INPUT_KEYS = ("input", "predictions", "gold", "corpus", "train_path", "eval_path", "model_dir")
"""Config keys (at any depth) naming a file, directory or glob a job reads."""
MODEL_KEYS = ("name_or_path", "model_path")
"""Config keys naming a model: a local directory or a Hugging Face hub name."""
OUTPUT_KEYS = ("output_dir", "output")
"""Config keys naming what a job writes: an input under one is made by the run itself."""
_HUB_NAME = re.compile(r"^[\w.-]+/[\w.-]+$")


def run_job(main: Callable[[list[str]], int], argv: list[str] | None = None, prog: str | None = None) -> int:
    """main(argv) (argv: sys.argv[1:] when None) -> its exit status; 2 and a message on stderr
    for a user's mistake. `prog` prefixes the message (default: the job's module name)."""
    prog = prog or job_name(main)
    args = sys.argv[1:] if argv is None else list(argv)
    written: list[str] = []  # output directories of the configs loaded so far in this run
    token = on_load.set(lambda cfg: preflight(cfg, written))
    job_token = current_job.set(job_name(main))   # `--config NAME` names one of this job's configs
    try:
        return main(args)
    except USER_ERRORS as e:
        logger.debug("%s stopped on a user's mistake", prog, exc_info=True)
        for line in user_message(e):
            print(f"{prog}: {line}", file=sys.stderr)
        return USAGE_ERROR
    except SystemExit as e:
        # `--help` (load_config prints the keys and exits 0): a status, not an escape from main.
        if e.code is None or isinstance(e.code, int):
            return e.code or 0
        print(f"{prog}: {e.code}", file=sys.stderr)
        return 1
    finally:
        on_load.reset(token)
        current_job.reset(job_token)


def preflight(cfg: Any, written: list[str]) -> None:
    """Raise a ConfigError for every input, model or API key `cfg` names that this machine lacks
    (see the module docstring); then add cfg's output directories to `written`."""
    by_job = tuple(set_by_job(type(cfg)))
    values = [(key, value, parent) for key, value, parent in _walk(cfg, "")
              if not any(key == k or key.startswith(k + ".") for k in by_job)]
    outputs = written + [os.path.abspath(v) for k, v, _ in values
                         if k.rpartition(".")[2] in OUTPUT_KEYS and isinstance(v, str) and v and "://" not in v]
    problems = []
    for key, value, parent in values:
        name = key.rpartition(".")[2]
        if not isinstance(value, str) or not value or "://" in value:
            continue  # unset (the config's own check says if it is required) or remote
        if name in INPUT_KEYS and not _made_by_run(value, outputs) and not _exists(value):
            problems.append(f"{key} = {value!r}: no such file or directory")
        elif name in MODEL_KEYS:
            problem = _model_problem(value)
            if problem:
                problems.append(f"{key} = {value!r}: {problem}")
        elif name == "api_key_env" and getattr(parent, "backend", "http") == "http" and not os.environ.get(value):
            problems.append(f"{key} = {value!r}: environment variable {value} is not set")
    written.extend(outputs[len(written):])
    if problems:
        raise ConfigError(problems)


def _walk(obj: Any, prefix: str, parent: Any = None):
    """(dotted key, value, the section holding the key's section) for every key of a config."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            # A section's rules can depend on its parent's keys (a judge's http spec on its backend).
            yield from _walk(value, prefix + f.name + ".", obj)
        else:
            yield prefix + f.name, value, parent


def _made_by_run(path: str, outputs: list[str]) -> bool:
    full = os.path.abspath(path)
    return any(full == out or full.startswith(out.rstrip(os.sep) + os.sep) for out in outputs)


def _exists(path: str) -> bool:
    return bool(glob.glob(path)) if glob.has_magic(path) else os.path.exists(path)


def _model_problem(name: str) -> str | None:
    """Why `name` cannot be loaded here, without a network call; None if it can (or may)."""
    try:
        path = resolve_model_path(name)  # "minilm" -> the directory its package ships
    except FileNotFoundError as e:
        return str(e)
    if os.path.exists(path):
        return None
    if not _HUB_NAME.match(name):
        return "no such directory"
    if not _offline():
        return None  # the hub is reachable, as far as we know without asking it
    from huggingface_hub import try_to_load_from_cache

    if isinstance(try_to_load_from_cache(name, "config.json"), str):
        return None
    return "not a local directory, and not in the Hugging Face cache (HF_HUB_OFFLINE is set)"


def _offline() -> bool:
    # Read now, not at import: huggingface_hub's constant is fixed when it is first imported.
    return any(os.environ.get(name, "").lower() in ("1", "true", "yes", "on")
               for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def user_message(error: BaseException) -> list[str]:
    """The lines a user reads for one of USER_ERRORS (no traceback, no exception class)."""
    # An error raised in a Ray task comes back wrapped, its text led by the remote traceback;
    # the original is its `cause`.
    cause = getattr(error, "cause", None)
    if isinstance(cause, BaseException) and cause is not error:
        error = cause
    if isinstance(error, ConfigError):
        return [f"invalid configuration: {problem}" for problem in error.problems]
    if isinstance(error, FileNotFoundError) and error.filename:
        return [f"{error.filename}: {error.strerror or 'no such file or directory'}"]
    return str(error).splitlines() or [type(error).__name__]


def job_name(main: Callable) -> str:
    """jobs.score_batch.main -> "score_batch" (also when the job runs as __main__)."""
    module = main.__module__
    if module == "__main__":
        spec = getattr(sys.modules["__main__"], "__spec__", None)
        module = spec.name if spec is not None else Path(sys.argv[0]).stem
    return module.rpartition(".")[2]
