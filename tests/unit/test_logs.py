"""What a job prints: the progress line's format and timing, and the library noise it drops.

    .venv/bin/pytest tests/unit/test_logs.py -q
"""

from __future__ import annotations

import logging
import os
import warnings

import pytest

from console import PROGRESS_LINE, console_problems
from rayscore.logs import NOISE_LOG_LINES, Progress, _logger_name, format_duration, format_progress, quiet_libraries


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("seconds, text", [(0, "0 s"), (48.4, "48 s"), (59.6, "1 min 00 s"), (192, "3 min 12 s"),
                                           (3600, "1 h 00 min"), (7500, "2 h 05 min"), (-3, "0 s")])
def test_durations_read_like_a_clock(seconds, text):
    assert format_duration(seconds) == text


def test_the_progress_line_has_counts_rate_and_eta():
    line = format_progress(1234, 4000, 56.7, "rows")
    assert line == "1,234/4,000 rows, 56.7 rows/s, ETA 49 s"
    assert PROGRESS_LINE.fullmatch(line)
    assert format_progress(0, 4000, 0.0) == "0/4,000 rows, 0.00 rows/s, ETA unknown"
    assert format_progress(5, None, 2.5) == "5 rows, 2.50 rows/s"  # no total, no ETA
    assert PROGRESS_LINE.fullmatch(format_progress(5000, 100_000, 5953.94, "records"))
    assert format_progress(5000, 100_000, 5953.94, "records") == "5,000/100,000 records, 5,954 records/s, ETA 16 s"


def test_progress_logs_at_most_every_every_s_with_the_rate_so_far(caplog):
    clock = Clock()
    log = logging.getLogger("rayscore.test_progress")
    progress = Progress(total=4000, every_s=30, what="scored", log=log, clock=clock)
    with caplog.at_level(logging.INFO, logger=log.name):
        clock.now += 10
        assert not progress.advance(500)      # too soon
        clock.now += 20
        assert progress.advance(500)          # 1,000 rows in 30 s
        clock.now += 5
        assert not progress.advance(1000)
        clock.now += 45
        assert progress.advance(1000, "bf16", loss=0.123456)
        summary = progress.finish()
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "scored 1,000/4,000 rows, 33.3 rows/s, ETA 1 min 30 s"
    assert lines[1] == "scored 3,000/4,000 rows, 37.5 rows/s, ETA 27 s; bf16, loss 0.1235"
    assert lines[2] == summary == "scored 3,000 rows in 1 min 20 s (37.5 rows/s)"
    assert [r.name for r in caplog.records] == [log.name] * 3


def test_a_resumed_count_rates_only_this_processs_work(caplog):
    clock = Clock()
    progress = Progress(total=200, unit="steps", every_s=0, start=100, clock=clock)
    clock.now += 50
    progress.update(150)
    assert progress.rate == 1.0
    assert progress.line() == "150/200 steps, 1.00 steps/s, ETA 50 s"


def test_known_library_noise_is_dropped_and_other_lines_kept(caplog):
    quiet_libraries()
    quiet_libraries()  # idempotent: one filter per logger
    name, start = next((n, s) for n, s in NOISE_LOG_LINES if n == "DeepSpeed")
    noisy = logging.getLogger(name)
    assert sum(type(f).__name__ == "_DropLines" for f in noisy.filters) == 1
    with caplog.at_level(logging.INFO, logger=name):
        noisy.warning(start + ". If you have GPU or other accelerator, we were unable to detect it.")
        noisy.warning("ZeRO stage 3 needs more memory")
    assert [r.getMessage() for r in caplog.records] == ["ZeRO stage 3 needs more memory"]
    # A module whose logger is named by its file path: the path is found without importing Ray.
    assert os.path.isfile(_logger_name("file:ray.train.v2._internal.execution.context"))


def test_only_the_named_deprecation_is_silenced():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        quiet_libraries()
        warnings.warn_explicit("`is_gradient_checkpointing` is deprecated and will be removed in v6.", FutureWarning,
                               "modeling_utils.py", 1, module="transformers.modeling_utils")
        warnings.warn_explicit("`other_thing` is deprecated", FutureWarning, "modeling_utils.py", 2,
                               module="transformers.modeling_utils")
        warnings.warn_explicit("`is_gradient_checkpointing` is deprecated", FutureWarning, "mine.py", 3,
                               module="mypackage.mine")
    assert [str(w.message) for w in seen] == ["`other_thing` is deprecated",
                                              "`is_gradient_checkpointing` is deprecated"]


def test_the_console_check_finds_noise_and_repeated_lines_but_not_progress():
    clean = "\n".join([
        "21:40:05 INFO rayscore.train.reward: pairs: {'input_pairs': 4100}",
        "(RayTrainWorker pid=21207) train 10/208 steps, 0.5 steps/s, ETA 6 min 36 s; 8.0 pairs/s, loss 0.67",
        "(RayTrainWorker pid=21207) train 20/208 steps, 0.5 steps/s, ETA 6 min 16 s; 8.0 pairs/s, loss 0.53",
        "-" * 40, "-" * 40])  # rules of a CLI's output are not repeated lines
    assert console_problems(clean) == []
    noisy = clean + "\n" + "\n".join([
        "(RayTrainWorker pid=21207) /x/modeling_utils.py:3303: FutureWarning: "
        "`is_gradient_checkpointing` is deprecated",
        "\x1b[36m(RayTrainWorker pid=21234)\x1b[0m added 248 characters to the tokenizer",
        "\x1b[36m(RayTrainWorker pid=21207)\x1b[0m added 248 characters to the tokenizer",
        "Loading weights: 100%|##########| 103/103"])
    problems = console_problems(noisy)
    assert [p.split(":")[0] for p in problems] == ["Python warning", "progress bar", "printed 2 times"]
