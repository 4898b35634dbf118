"""Judging exactly once at scale, counted at the endpoint (a real loopback server): (1) kill -9 the
driver of `python -m jobs.judge` mid-run and rerun: no committed row is sent again and the output
equals a clean run's; (2) kill -9 one judging actor mid-run: the job completes, every row judged
once, no committed row sent again; (3) the endpoint is down for part of the run: its rows become
errors, and a rerun sends those rows only."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from commits import markers, wait_for
from fake_judge_server import FakeJudgeServer
from jobs.judge import main
from rayscore.judge.job import read_judgements
from rayscore.judge.prompts import load_template, render

ROOT = Path(__file__).resolve().parents[2]
TINY = "configs/judge/tiny.yaml"
ROWS, CHUNK = 40, 5
COMPARED = ["id", "record_id", "raw", "score", "parse_ok", "attempts", "judge_fingerprint", "fingerprint"]


def answer(prompt: str) -> str:
    """A deterministic judge: row i's answer gets score i % 10 + 1."""
    return f"评分：{row_number(prompt) % 10 + 1}"


def row_number(text: str) -> int:
    return int(re.search(r"Q#(\d+)#", text).group(1))


@pytest.fixture
def server(ray_local):
    with FakeJudgeServer() as fake:
        fake.responder = answer
        yield fake


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    """ROWS answers, one row group per CHUNK rows (parquet: chunks are read in place)."""
    path = tmp_path_factory.mktemp("judge_resume") / "answers.parquet"
    rows = [{"id": f"a{i:03d}", "question": f"Q#{i}# 请回答", "answer": f"回答{i}"} for i in range(ROWS)]
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=CHUNK)
    return path


def prompt_of(row) -> str:
    return render(load_template("score10_zh"), question=row["question"], answer=row["answer"], reference=None,
                  rubric=None)


def args(answers, out, server, *extra):
    return ["--config", TINY, f"input={answers}", f"output_dir={out}", f"http.base_url={server.base_url}",
            f"rows_per_chunk={CHUNK}", "num_actors=2", "http.max_concurrency=2", "progress_every_s=1", *extra]


def committed_ids(out) -> set[str]:
    return set(read_judgements(out)["id"]) if list(Path(out).glob("part-*.parquet")) else set()


def judged(out) -> pd.DataFrame:
    return read_judgements(out)[COMPARED].sort_values("id", ignore_index=True)


@pytest.mark.slow
def test_killed_driver_rerun_sends_no_committed_row_again(tmp_path, server, answers, ray_local):
    rows = pq.read_table(answers).to_pylist()
    clean = tmp_path / "clean"
    assert main(args(answers, clean, server)) == 0
    clean_calls = server.counts()
    assert sum(clean_calls.values()) == ROWS  # one request per row

    # The driver in its own process, attached to the same Ray; each request takes 0.3 s.
    server.latency_s = 0.3
    out = tmp_path / "out"
    env = {**os.environ, "RAY_ADDRESS": ray_local.get_runtime_context().gcs_address,
           "PYTHONPATH": os.pathsep.join(sys.path)}
    with open(tmp_path / "killed.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "jobs.judge", *args(answers, out, server)], cwd=ROOT,
                                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 240
        while len(markers(out)) < 2 and proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, (tmp_path / "killed.log").read_text()[-3000:]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    time.sleep(3)  # actors of the dead driver may still commit the chunk in hand, then Ray ends them
    server.latency_s = 0.0
    done = committed_ids(out)
    assert 0 < len(done) < ROWS, "the kill did not land mid-run"
    before = server.counts()

    assert main(args(answers, out, server)) == 0

    after = server.counts()
    sent_again = {row["id"]: after[prompt_of(row)] - before[prompt_of(row)] for row in rows}
    assert all(sent_again[i] == 0 for i in done), {i: sent_again[i] for i in done if sent_again[i]}
    assert all(sent_again[i] <= 1 for i in sent_again)
    summary = json.loads((out / "summary.json").read_text())
    # Rows of chunks an actor of the dead driver committed after we looked were not sent either.
    assert summary["ok"] and summary["rows_judged"] == ROWS and 0 < summary["rows_this_run"] <= ROWS - len(done)
    assert sum(sent_again.values()) == summary["rows_this_run"]
    print(f"kill -9 after {len(done)} committed rows; rerun sent {sum(sent_again.values())} requests "
          f"for the other {ROWS - len(done)}, 0 for committed rows")
    pd.testing.assert_frame_equal(judged(out), judged(clean))
    assert not list((out / "_tmp").glob("*"))


@pytest.mark.slow
def test_killed_actor_is_replaced_and_no_committed_row_is_sent_again(tmp_path, server, answers):
    """The input as JSONL (the actors read its row ranges themselves); one actor killed with kill -9
    soon after its first commit, in the middle of its next chunk: Ray restarts it and retries that chunk,
    whose requests may go out again (at most its CHUNK rows); no row of a chunk committed before the
    kill is sent again, and every row is judged once."""
    rows = pq.read_table(answers).to_pylist()
    path = tmp_path / "answers.jsonl"
    pd.DataFrame(rows).to_json(path, orient="records", lines=True, force_ascii=False)
    server.latency_s = 0.1  # one request in flight per actor: a chunk takes about 0.5 s
    out = tmp_path / "out"
    result: dict = {}
    job = threading.Thread(target=lambda: result.update(code=main(args(path, out, server))))
    job.start()
    try:
        first = wait_for(lambda: markers(out), 240, "the first commit")[0]
        time.sleep(0.25)  # about half way through its next chunk's requests
        os.kill(first["pid"], signal.SIGKILL)
        committed = {m["chunk"] for m in markers(out)}  # a marker is the commit (a part alone is redone)
    finally:
        job.join(timeout=240)
    assert not job.is_alive() and result["code"] == 0
    assert 0 < len(committed) < ROWS // CHUNK, "the kill did not land mid-run"
    done = {i for name in committed for k in [int(name.split("-")[1])] for i in range(k * CHUNK, (k + 1) * CHUNK)}
    counts = server.counts()
    sent = {row_number(row["question"]): counts[prompt_of(row)] for row in rows}
    assert all(sent[i] == 1 for i in done), {i: sent[i] for i in done if sent[i] != 1}
    again = {i for i, n in sent.items() if n > 1}
    assert all(sent[i] == 2 for i in again) and len({i // CHUNK for i in again}) <= 1, again
    later = [m for m in markers(out) if m["chunk"] not in committed]
    assert later and first["pid"] not in {m["pid"] for m in later}  # the killed actor committed no more
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ok"] and summary["rows_judged"] == ROWS and summary["rows_error"] == 0
    final = read_judgements(out)
    assert final["id"].is_unique and len(final) == ROWS
    assert final.set_index("id")["score"].to_dict() == {r["id"]: row_number(r["question"]) % 10 + 1 for r in rows}
    print(f"actor {first['pid']} killed after {len(committed)} commits; {len(again)} rows of its chunk in flight "
          f"sent again, 0 of the {len(done)} committed rows")


@pytest.mark.slow
def test_endpoint_down_for_a_while_gives_errors_that_a_rerun_resends_alone(tmp_path, server, answers):
    rows = pq.read_table(answers).to_pylist()
    server.down_between(6, 22)  # 16 requests fail: with one retry, several rows fail twice
    out = tmp_path / "out"
    assert main(args(answers, out, server, "http.max_retries=1", "max_error_share=1.0")) == 0

    first = json.loads((out / "summary.json").read_text())
    errors = pd.read_parquet(out / "errors")
    failed = set(errors["id"])
    assert first["rows_error"] == len(failed) > 0 and first["error_kinds"] == {"http 503": len(failed)}
    assert first["rows_judged"] + first["rows_error"] + first["rows_quarantined"] == first["rows_in"] == ROWS
    assert committed_ids(out) == {r["id"] for r in rows} - failed  # judged rows and error rows apart
    assert errors["error"].str.contains("503").all() and errors["score"].isna().all()
    before = server.counts()

    assert main(args(answers, out, server)) == 0

    after = server.counts()
    sent = {row["id"]: after[prompt_of(row)] - before[prompt_of(row)] for row in rows}
    assert {i for i, n in sent.items() if n} == failed and set(sent[i] for i in failed) == {1}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ok"] and summary["rows_error"] == 0 and summary["rows_judged"] == ROWS
    assert summary["rows_this_run"] == len(failed)
    print(f"endpoint down: {len(failed)} of {ROWS} rows became errors; the rerun sent {sum(sent.values())} "
          f"requests, one per error row, 0 for the {ROWS - len(failed)} judged rows")
    assert not list((out / "errors").glob("*.parquet"))  # the recommit removed the errors parts
    final = read_judgements(out)
    assert final["id"].is_unique and len(final) == ROWS
    expected = {row["id"]: row_number(row["question"]) % 10 + 1 for row in rows}
    assert final.set_index("id")["score"].to_dict() == expected
    # A third run has nothing to send.
    assert main(args(answers, out, server)) == 0 and server.counts() == after
