"""What a job's console may not hold, and the progress line it must: checks on captured output.

    problems = console_problems(stdout + stderr)   # [] when clean
"""

from __future__ import annotations

import re
from collections import Counter

NOISE = {
    "bytecode dump": re.compile(r"Disassembly of|LOAD_GLOBAL|RETURN_VALUE"),
    "transformers load report": re.compile(r"LOAD REPORT|were not initialized from the model checkpoint"),
    "progress bar": re.compile(r"\d+%\|"),
    "preemption watcher error": re.compile(r"PreemptionWatcher"),
    "Python warning": re.compile(r"\b(FutureWarning|DeprecationWarning|UserWarning|warnings\.warn\()"),
    "Ray Train internals": re.compile(
        r"Setting up process group|Started training worker group|Reporting training result"),
    "HF log dict": re.compile(r"\{'loss': "),
    "token auth note": re.compile(r"Token authentication is enabled"),
    "DeepSpeed accelerator note": re.compile(r"Setting accelerator to CPU"),
    "Ray log dedup": re.compile(r"repeated \d+x across cluster"),
    "Ray Data report": re.compile(r"Execution plan of Dataset|Running Dataset|execution finished in|Total Progress:"),
}
"""Library noise seen on job consoles before it was silenced at its source (rayscore.logs)."""

# done/total, a rate and an ETA, as rayscore.logs.Progress writes them.
PROGRESS_LINE = re.compile(r"[\d,]+/[\d,]+ \w+, [\d.,]+ \w+/s, ETA (\d+ s|\d+ min \d\d s|\d+ h \d\d min|unknown)")

# Ray's prefix on a forwarded worker line and its colours; a log line's time of day.
_PREFIX = re.compile(r"^(\x1b\[[\d;]*m)?\([^)]*pid=\d+[^)]*\)(\x1b\[[\d;]*m)?\s*|\x1b\[[\d;]*m")
_CLOCK = re.compile(r"^\d\d:\d\d:\d\d ")


def console_problems(text: str) -> list[str]:
    """Noise found in a console (naming the kind and the line) and lines printed more than once."""
    problems = []
    lines = [line for line in text.splitlines() if line.strip()]
    for line in lines:
        for kind, pattern in NOISE.items():
            if pattern.search(line):
                problems.append(f"{kind}: {line[:200]}")
    # Repeats among log lines; a traceback's header and frames (indented) and a CLI's rules may repeat.
    bare = Counter(text for text in (_CLOCK.sub("", _PREFIX.sub("", line)) for line in lines)
                   if re.match(r"\w", text) and not text.startswith("Traceback"))
    problems += [f"printed {n} times: {line[:200]}" for line, n in bare.items() if n > 1]
    return problems
