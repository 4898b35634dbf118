"""How a job's entry point runs: its main(argv), with a user's mistake reported as a message.

    # jobs/<job>.py -- `python -m jobs.<job> ARGS`; `rayscore <job> ARGS` runs the same
    if __name__ == "__main__":
        raise SystemExit(run_job(main))

A user's mistake is printed to stderr as `<job>: <message>` (one line per problem) and exits 2,
without a traceback: the message already names what to fix, and a traceback buries it. The
mistakes: a bad config key or value (ConfigError), an input that is not there
(FileNotFoundError), an input that cannot be scored (InputError), a model asked to score with
other checks than it was trained with (CheckSetMismatch). Anything else is a bug and keeps its
traceback. RAYSCORE_LOG_LEVEL=DEBUG logs the traceback of a user's mistake as well.

This lives apart from cli.py so that arrows go one way: cli imports the jobs, the jobs import
this, and nothing here imports a job.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

from rayscore.checks import CheckSetMismatch
from rayscore.config import ConfigError
from rayscore.score.chunks import InputError

__all__ = ["USER_ERRORS", "USAGE_ERROR", "run_job", "user_message"]

logger = logging.getLogger(__name__)

USAGE_ERROR = 2
"""Exit status of a user's mistake (as argparse and most Unix tools use it)."""
USER_ERRORS: tuple[type[Exception], ...] = (ConfigError, FileNotFoundError, InputError, CheckSetMismatch)


def run_job(main: Callable[[list[str]], int], argv: list[str] | None = None, prog: str | None = None) -> int:
    """main(argv) (argv: sys.argv[1:] when None) -> its exit status; 2 and a message on stderr
    for a user's mistake. `prog` prefixes the message (default: the job's module name)."""
    prog = prog or job_name(main)
    args = sys.argv[1:] if argv is None else list(argv)
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
