"""What a job prints: its own lines, progress with a rate and an ETA, and no library noise.

    setup_logging()                      # a job's main(): format, level, quiet_libraries()
    quiet_libraries()                    # first thing in a Ray worker, actor or replica
    progress = Progress(total=4000, unit="rows", every_s=30, what="scored")
    progress.advance(256)                # logs "scored 1,234/4,000 rows, 56.7 rows/s, ETA 49 s" when due
    progress.finish()                    # logs "scored 4,000 rows in 1 min 10 s (57.1 rows/s)"

Library noise is silenced where it starts, one source at a time, each with its reason (NOISE_ENV,
NOISE_WARNINGS, NOISE_LOG_LINES); nothing here turns a whole library's warnings off. Logging is
set up by jobs only (the library just calls logging.getLogger(__name__)).
"""

from __future__ import annotations

import logging
import os
import sys
import time
import warnings
from collections.abc import Callable

logger = logging.getLogger(__name__)

NOISE_ENV = {
    # Ray Train sends a worker's print() to its logger even while a library has captured stdout
    # (dill disassembles functions into a captured buffer while datasets fingerprints them),
    # which floods the console with bytecode and prints every training log line twice.
    "RAY_TRAIN_ENABLE_PRINT_PATCH": "0",
    # Ray Train's preemption watcher (node drains on spot clusters) is an actor whose constructor
    # arguments Ray keeps in the object store, and Ray's core logs an error about that for every
    # training run. Training here survives a lost node by max_failures and checkpoints instead.
    "RAY_TRAIN_ENABLE_PREEMPTION_WATCHER": "0",
    # A progress bar per model load ("Loading weights") from transformers, tqdm in a log stream.
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    # Tokenizer threads fork badly under Ray workers and fight Ray for cores.
    "TOKENIZERS_PARALLELISM": "false",
    # Ray's driver folds lines of different workers that differ only in their numbers into one,
    # with a note on how to stop it: only the first training worker logs information, so the
    # lines it would fold are distinct (chunk 1 and chunk 2 committed), not repeats.
    "RAY_DEDUP_LOGS": "0",
}
"""Environment set by setup_logging / quiet_libraries when not set already: read by this process
and inherited by what it starts (a local Ray's workers; Ray Train passes its RAY_TRAIN_* ones on to
its controller and workers on any cluster). cluster/runtime_env.yaml sets the same for clusters."""

NOISE_WARNINGS = (
    # PEFT's get_peft_model reads model.is_gradient_checkpointing, which transformers 5 renamed.
    (FutureWarning, r"`is_gradient_checkpointing` is deprecated", r"transformers\.modeling_utils"),
    # Every checkpoint of a LoRA model whose embeddings grew (added characters): saving those rows
    # is what we want, and PEFT does it.
    (UserWarning, r"Setting `save_embedding_layers` to `True`", r"peft\.utils\.save_and_load"),
)
"""(category, message regex, module regex) of Python warnings that say nothing to a user."""

NOISE_LOG_LINES = (
    # ray.init() on a new local instance: token auth is on (the safe default); the note says how
    # to turn it off, and ensure_ray logs the instance and its dashboard in one line of its own.
    ("ray._private.authentication.authentication_token_setup", "Token authentication is enabled"),
    ("ray._private.worker", "Started a local Ray instance"),
    ("ray._private.worker", "Connected to Ray cluster"),
    # ensure_ray turns Ray Data's progress report off (jobs log their own); Ray Data says so once.
    ("ray.data._internal.progress", "Progress bars disabled"),
    # "✔️ Dataset dataset_0357... execution finished in 71.57 seconds": the job's closing line says
    # the same with rows and rate (a failed execution's line stays).
    ("ray.data._internal.execution.streaming_executor", "\u2714\ufe0f "),
    # DeepSpeed (imported by transformers and accelerate) on a machine without GPUs.
    ("DeepSpeed", "Setting accelerator to CPU"),
    # Every ray.train.report() in every worker, metrics dict and all. This module's logger is named
    # by its file path, so Ray Train's own log level (LoggingConfig) does not reach it.
    ("file:ray.train.v2._internal.execution.context", "Reporting training result"),
)
"""(logger, message start) of library log lines that say nothing to a user; "file:<module>" is
the logger a module names by its file path (logging.getLogger(__file__))."""


def setup_logging(level: str | None = None) -> None:
    """A job's logging: one line per record, "12:00:01 INFO rayscore.x: message"; library noise off."""
    logging.basicConfig(
        level=(level or os.environ.get("RAYSCORE_LOG_LEVEL", "INFO")).upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    quiet_libraries()


def quiet_libraries() -> None:
    """Silence the library noise sources listed above in this process (idempotent). Jobs call it
    through setup_logging; Ray workers, actors and replicas call it as they start."""
    for name, value in NOISE_ENV.items():
        os.environ.setdefault(name, value)
    for category, message, module in NOISE_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)
    for name in dict.fromkeys(name for name, _ in NOISE_LOG_LINES):
        target = logging.getLogger(_logger_name(name))
        if not any(isinstance(f, _DropLines) for f in target.filters):
            target.addFilter(_DropLines(name))
    # transformers reads HF_HUB_DISABLE_PROGRESS_BARS when first imported; in a process that
    # imported it already (a reused Ray worker), turn its bars off directly.
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()


def _logger_name(name: str) -> str:
    """A logger's name; for "file:a.b.c", the path of module a.b.c, found without importing
    anything but the top-level package's location."""
    if not name.startswith("file:"):
        return name
    import importlib.util

    top, *rest = name[len("file:"):].split(".")
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.origin:
        return name
    return os.path.join(os.path.dirname(spec.origin), *rest[:-1], rest[-1] + ".py")


class _DropLines(logging.Filter):
    """Drops a logger's records that start with one of NOISE_LOG_LINES' texts."""

    def __init__(self, name: str):
        super().__init__()
        self.starts = tuple(start for logger_name, start in NOISE_LOG_LINES if logger_name == name)

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.starts)


def format_duration(seconds: float) -> str:
    """48 s, 3 min 12 s, 2 h 05 min."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def format_rate(rate: float) -> str:
    """0.13, 4.10, 56.7, 5,954: three figures or so, whatever the speed."""
    return f"{rate:,.0f}" if rate >= 100 else f"{rate:.1f}" if rate >= 10 else f"{rate:.2f}"


def format_progress(done: int, total: int | None, rate: float, unit: str = "rows") -> str:
    """"1,234/4,000 rows, 56.7 rows/s, ETA 49 s" (without a total: "1,234 rows, 56.7 rows/s")."""
    if total is None or total < 0:
        return f"{done:,} {unit}, {format_rate(rate)} {unit}/s"
    eta = format_duration(max(0, total - done) / rate) if rate > 0 else "unknown"
    return f"{done:,}/{total:,} {unit}, {format_rate(rate)} {unit}/s, ETA {eta}"


class Progress:
    """Counts a long phase and logs "<what> done/total unit, rate unit/s, ETA ..." at most every
    `every_s` seconds (so never for a phase shorter than that); finish() logs the phase's total.

    `start` is a count already done before this process began (a resumed run): the rate and the
    ETA count only what this process did. `log` is the logger the lines go to (the caller's, so
    they carry its name); `clock` is for tests. Notes (strings) and named values follow the line:
    update(20, "16.0 pairs/s", loss=0.53) -> "...; 16.0 pairs/s, loss 0.53".
    """

    def __init__(self, total: int | None, unit: str = "rows", every_s: float = 30.0, what: str = "",
                 log: logging.Logger | None = None, start: int = 0, clock: Callable[[], float] = time.monotonic):
        self.total, self.unit, self.every_s, self.what = total, unit, every_s, what
        self.log = log or logger
        self.clock = clock
        self.start = self.done = start
        self.started = self.last_logged = clock()

    @property
    def elapsed_s(self) -> float:
        return self.clock() - self.started

    @property
    def rate(self) -> float:
        """Units per second since this Progress began."""
        elapsed = self.elapsed_s
        return (self.done - self.start) / elapsed if elapsed > 0 else 0.0

    def advance(self, n: int = 1, *notes: str, **values) -> bool:
        """Count n more; log a line when every_s has passed since the last one. Returns whether it logged."""
        return self.update(self.done + n, *notes, **values)

    def update(self, done: int, *notes: str, **values) -> bool:
        """Set the count to `done` (e.g. a trainer's global step); log a line when due."""
        self.done = done
        now = self.clock()
        if now - self.last_logged < self.every_s:
            return False
        self.last_logged = now
        self.log.info("%s", self.line(*notes, **values))
        return True

    def line(self, *notes: str, **values) -> str:
        return self._say(format_progress(self.done, self.total, self.rate, self.unit), notes, values)

    def finish(self, *notes: str, **values) -> str:
        """Log and return the phase's total: "<what> 4,000 rows in 1 min 10 s (57.1 rows/s)"."""
        text = f"{self.done - self.start:,} {self.unit} in {format_duration(self.elapsed_s)} " \
               f"({format_rate(self.rate)} {self.unit}/s)"
        text = self._say(text, notes, values)
        self.log.info("%s", text)
        return text

    def _say(self, text: str, notes: tuple[str, ...], values: dict) -> str:
        parts = [*notes, *(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in values.items())]
        if parts:
            text += "; " + ", ".join(parts)
        return f"{self.what} {text}" if self.what else text
