"""The driver's progress line: done/total rows, rows/s, ETA, errors and retries."""

import logging
import re
import time

from rayscore.score.pipeline import Progress, needs_work


def test_progress_line_has_counts_rate_and_eta(caplog):
    caplog.set_level(logging.INFO, logger="rayscore.score.pipeline")
    progress = Progress(total=100, every_s=0.0, started=time.time() - 10)
    progress.add(rows=25, errors=2, retries=3)
    line = caplog.records[-1].getMessage()
    rate = float(re.search(r"([\d.]+) rows/s", line).group(1))
    eta = float(re.search(r"ETA (\d+) s", line).group(1))
    assert line.startswith("25/100 rows") and "2 errors, 3 retries" in line
    assert 2.0 <= rate <= 2.6 and abs(eta - 75 / rate) <= 1
    progress.add(rows=75, errors=0, retries=0)
    progress.log(final=True)
    assert caplog.records[-1].getMessage().startswith("100/100 rows") and "done" in caplog.records[-1].getMessage()


def test_a_chunk_is_redone_when_uncommitted_or_committed_with_errors():
    assert needs_work(None) and needs_work({"rows_error": 3})
    assert not needs_work({"rows_error": 0}) and not needs_work({"rows_in": 5})
