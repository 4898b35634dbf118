"""The driver's progress: which chunks still need work, and the failure counts its line shows."""

from rayscore.score.job import failures, needs_work


def test_a_chunk_is_redone_when_uncommitted_or_committed_with_errors():
    assert needs_work(None) and needs_work({"rows_error": 3})
    assert not needs_work({"rows_error": 0}) and not needs_work({"rows_in": 5})


def test_failures_are_said_once_there_are_any():
    assert failures(0, 0) == {}
    assert failures(2, 0) == {"errors": 2, "retries": 0}
    assert failures(0, 5) == {"errors": 0, "retries": 5}
