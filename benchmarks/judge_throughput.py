"""HTTP judging throughput: the judge job (chunked, exactly-once pipeline on a local Ray) against a
bare asyncio + aiohttp loop at the same concurrency, both against a loopback OpenAI-compatible
server with a fixed latency per request; (--client) what a judged row costs the client's CPU;
(--memory) the judge job's peak memory by row count.

Run as:
  python benchmarks/judge_throughput.py                       # ~1.5 min on 2 idle cores
  python benchmarks/judge_throughput.py --rows 2000 --latency-ms 50 --concurrency 16 --out /tmp/j.json
  python benchmarks/judge_throughput.py --client              # ~30 s
  python benchmarks/judge_throughput.py --memory --memory-rows 100000 1000000

The server (tests/fake_judge_server.py) runs in its own process and answers every request after
`latency_ms`, so the ceiling is concurrency / latency requests per second. Variants:
  (a) bare  one asyncio loop, one aiohttp.ClientSession, a semaphore of `concurrency`: the rows' prompts
            sent as fast as the limit allows (what a user would write; no retries, no output);
  (b) job   jobs.judge (pointwise, template score10_zh) on a local Ray with 2 CPUs: num_actors
            actors sharing `concurrency` requests in flight, rows_per_chunk rows per chunk, every
            chunk parsed and committed to parquet; end to end (the pipeline's start, actor start
            and the final summary included; Ray's own start excluded) and steady (rows / the time
            from the first commit to the last).
The ratio is (b) / (a). Writes benchmarks/results/judge_throughput.json.

--client: in this one process, against a server that answers at once (its own process), the
client CPU seconds per 1,000 rows (time.process_time) and rows/s of: a bare httpx loop, a bare
aiohttp loop, the judge's HttpJudgeClient (aiohttp, retries, proxy lookup once per batch), and
JudgeScorer.score on a frame (prompts built, answers parsed, the output frame). --client-rows
rows, --concurrency in flight. Writes benchmarks/results/judge_client.json.

--memory: the judge job alone (pointwise, parquet input in row groups of --memory-chunk rows,
chunks of that size, --memory-concurrency requests in flight over 2 actors) against a server
that answers at once (a bare asyncio HTTP/1.1 responder in its own process: the client side is
what is measured), once per --memory-rows size, each in a fresh process with its own local Ray.
Peak RSS of the driver (its own ru_maxrss, and psutil samples every 0.5 s), of each actor and
of all Ray processes, rows/s and `uptime` before and after go to
benchmarks/results/judge_memory.json. The driver holds the chunk list and a batch of ids per
chunk, so its peak should not grow with the rows.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import json
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

SERVER = """
import sys, time
from fake_judge_server import FakeJudgeServer
server = FakeJudgeServer()
server.latency_s = float(sys.argv[1])
server.responder = lambda prompt: "评分：7"
server.start()
print(server.base_url, flush=True)
while True:
    time.sleep(3600)
"""


# Answers every POST at once with the same completion, keep-alive, no parsing beyond the length.
INSTANT_SERVER = r"""
import asyncio, json, re
body = json.dumps({"object": "chat.completion", "model": "bench", "choices": [{"index": 0, "finish_reason": "stop",
                   "message": {"role": "assistant", "content": "评分：7"}}]}).encode()
reply = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body) + body
length = re.compile(rb"(?i)content-length:\s*(\d+)")

async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(int(length.search(head).group(1)))
            writer.write(reply)
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    print(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1", flush=True)
    await server.serve_forever()

asyncio.run(main())
"""


def start_server(latency_s: float | None) -> tuple[subprocess.Popen, str]:
    """The fake judge server with `latency_s` per request, or (None) the instant responder."""
    args = ["-c", INSTANT_SERVER] if latency_s is None else ["-c", SERVER, str(latency_s)]
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "tests")})
    return proc, proc.stdout.readline().strip()


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


async def bare(base_url: str, prompts: list[str], concurrency: int) -> float:
    import aiohttp

    semaphore = asyncio.Semaphore(concurrency)

    async def one(session, prompt):
        async with semaphore:
            async with session.post(f"{base_url}/chat/completions", json={
                    "model": "bench", "messages": [{"role": "user", "content": prompt}], "temperature": 0}) as r:
                return (await r.json())["choices"][0]["message"]["content"]

    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        answers = await asyncio.gather(*(one(session, p) for p in prompts))
    assert len(answers) == len(prompts)
    return time.perf_counter() - started


async def bare_httpx(base_url: str, prompts: list[str], concurrency: int) -> float:
    import httpx

    semaphore = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def one(client, prompt):
        async with semaphore:
            r = await client.post(f"{base_url}/chat/completions", json={
                "model": "bench", "messages": [{"role": "user", "content": prompt}], "temperature": 0})
            return r.json()["choices"][0]["message"]["content"]

    started = time.perf_counter()
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        answers = await asyncio.gather(*(one(client, p) for p in prompts))
    assert len(answers) == len(prompts)
    return time.perf_counter() - started


def main_client(args) -> None:
    """Client CPU per judged row, one process, against the instant responder."""
    from common import machine, write_result
    from rayscore.judge.core import JudgeSpec
    from rayscore.judge.http_client import HttpJudgeClient, HttpJudgeSpec
    from rayscore.judge.prompts import load_template, render
    from rayscore.judge.scorer import JudgeScorerSpec

    load_before = os.getloadavg()
    n = args.client_rows
    frame = pd.DataFrame({"question": [f"问题{i}" for i in range(n)], "answer": [f"回答{i}" for i in range(n)]})
    template = load_template("score10_zh")
    prompts = [render(template, question=q, answer=a, reference=None, rubric=None)
               for q, a in zip(frame.question, frame.answer)]
    proc, base_url = start_server(None)
    http = HttpJudgeSpec(base_url=base_url, model="bench", max_concurrency=args.concurrency)
    client = HttpJudgeClient(http)
    scorer = JudgeScorerSpec(judge=JudgeSpec(score_range=[1, 10], http=http),
                             columns={"question": "question", "answer": "answer"}).build()
    batch = 512  # the judge job's http_prompts_per_batch
    variants = {
        "bare httpx loop": lambda: asyncio.run(bare_httpx(base_url, prompts, args.concurrency)),
        "bare aiohttp loop": lambda: asyncio.run(bare(base_url, prompts, args.concurrency)),
        "HttpJudgeClient.complete_many": lambda: [client.complete_many(prompts[i:i + batch])
                                                  for i in range(0, n, batch)],
        "JudgeScorer.score (prompts, parse, frame)": lambda: [scorer.score(frame.iloc[i:i + batch])
                                                              for i in range(0, n, batch)],
    }
    rows = []
    try:
        for name, run in variants.items():
            run()  # warm: imports, first connections
            cpu, wall = time.process_time(), time.perf_counter()
            run()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            rows.append({"variant": name, "rows/s": round(n / wall),
                         "client cpu s / 1k rows": round(1000 * cpu / n, 3)})
            print(rows[-1], flush=True)
    finally:
        proc.kill()
    print(pd.DataFrame(rows).to_string(index=False))
    write_result(args.out or ROOT / "benchmarks" / "results" / "judge_client.json",
                 {"rows": n, "concurrency": args.concurrency, "rows_per_call": batch, "variants": rows,
                  "date": time.strftime("%Y-%m-%d"), "machine": machine(load_before), "uptime_end": uptime()})


def job(base_url: str, rows: list[dict], concurrency: int, actors: int, chunk: int, work: Path) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from jobs.judge import main

    data = work / "answers.parquet"
    pq.write_table(pa.Table.from_pylist(rows), data, row_group_size=chunk)
    out = work / "judged"
    started = time.perf_counter()
    code = main(["--config", "configs/judge/tiny.yaml", f"input={data}", f"output_dir={out}",
                 f"http.base_url={base_url}", f"http.max_concurrency={concurrency}", f"num_actors={actors}",
                 f"rows_per_chunk={chunk}", "progress_every_s=5", "max_error_share=0"])
    wall = time.perf_counter() - started
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rows_judged"] == len(rows) and summary["rows_parsed"] == len(rows)
    commits = sorted(os.path.getmtime(p) for p in glob.glob(f"{out}/_committed/*.json"))
    steady_rows = len(rows) * (len(commits) - 1) / len(commits)  # rows committed after the first commit
    return {"wall_s": round(wall, 2), "rows_per_s": round(len(rows) / wall, 1),
            "steady_rows_per_s": round(steady_rows / (commits[-1] - commits[0]), 1) if len(commits) > 1 else None}


def memory_job(base_url: str, data: str, rows: int, concurrency: int, chunk: int, work: str) -> dict:
    """jobs.judge on `data` in this (fresh) process with its own local Ray; peak RSS sampled."""
    import ray

    from common import PeakRss, start_local_ray
    from jobs.judge import main as judge

    os.chdir(ROOT)
    start_local_ray(Path(work))
    out = Path(work) / "judged"
    started = time.perf_counter()
    with PeakRss() as peaks:
        code = judge(["--config", "configs/judge/tiny.yaml", f"input={data}", f"output_dir={out}",
                      f"http.base_url={base_url}", f"http.max_concurrency={concurrency}", "num_actors=2",
                      f"rows_per_chunk={chunk}", "progress_every_s=60", "max_error_share=0"])
    seconds = time.perf_counter() - started
    ray.shutdown()
    summary = json.loads((out / "summary.json").read_text())
    assert code == 0 and summary["rows_judged"] == rows == summary["rows_parsed"], summary["problems"]
    return {"rows": rows, "seconds": round(seconds, 1), "rows_per_s": round(rows / seconds, 1),
            "chunks": summary["chunks"], **peaks.mb(),
            "driver_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def write_answers(path: Path, rows: int, row_group: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with pq.ParquetWriter(path, pa.schema([("id", pa.string()), ("question", pa.string()),
                                           ("answer", pa.string())])) as writer:
        for start in range(0, rows, row_group):
            n = range(start, min(rows, start + row_group))
            writer.write_table(pa.table({"id": [f"r{i}" for i in n], "question": [f"问题{i}" for i in n],
                                         "answer": [f"回答{i}" for i in n]}))


def main_memory(args) -> None:
    from common import write_result

    result = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "cpus": os.cpu_count(), "uptime_start": uptime(),
              "concurrency": args.memory_concurrency, "rows_per_chunk": args.memory_chunk, "actors": 2,
              "server": "instant (asyncio responder, own process)", "runs": {}}
    proc, base_url = start_server(None)
    spawn = mp.get_context("spawn")
    try:
        with tempfile.TemporaryDirectory(prefix="jm-", dir="/tmp") as tmp:  # short: Ray's socket paths
            for rows in args.memory_rows:
                data = Path(tmp) / f"answers-{rows}.parquet"
                write_answers(data, rows, args.memory_chunk)
                before = uptime()
                print(f"{rows} rows ...", flush=True)
                with spawn.Pool(1) as pool:
                    run = pool.apply(memory_job, (base_url, str(data), rows, args.memory_concurrency,
                                                  args.memory_chunk, f"{tmp}/run-{rows}"))
                run.update(uptime_before=before, uptime_after=uptime())
                result["runs"][str(rows)] = run
                print(f"  driver peak {run['driver_peak_rss_mb']} MB (max rss {run['driver_max_rss_mb']}), actor "
                      f"peak {run['actor_peak_rss_mb']} MB, {run['rows_per_s']} rows/s in {run['seconds']} s",
                      flush=True)
                data.unlink()
    finally:
        proc.kill()
    runs = list(result["runs"].values())
    if len(runs) > 1:
        result["driver_peak_ratio"] = round(runs[-1]["driver_peak_rss_mb"] / runs[0]["driver_peak_rss_mb"], 3)
    result["uptime_end"] = uptime()
    print(pd.DataFrame(runs)[["rows", "rows_per_s", "seconds", "chunks", "driver_peak_rss_mb", "driver_max_rss_mb",
                              "actor_peak_rss_mb", "all_ray_processes_peak_rss_mb"]].to_string(index=False))
    write_result(args.out or ROOT / "benchmarks" / "results" / "judge_memory.json", result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=8000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--actors", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument("--client", action="store_true", help="only the client CPU per row (one process)")
    parser.add_argument("--client-rows", type=int, default=20_000)
    parser.add_argument("--memory", action="store_true", help="only the peak-RSS runs at --memory-rows")
    parser.add_argument("--memory-rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--memory-concurrency", type=int, default=64)
    parser.add_argument("--memory-chunk", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=None,
                        help="default benchmarks/results/judge_throughput.json (judge_memory.json with --memory)")
    args = parser.parse_args()
    os.chdir(ROOT)
    if args.memory:
        main_memory(args)
        return
    if args.client:
        main_client(args)
        return

    from common import machine, start_local_ray, write_result
    from rayscore.judge.prompts import load_template, render
    from rayscore.logs import setup_logging

    setup_logging("WARNING")
    load_before = os.getloadavg()
    rows = [{"id": f"r{i}", "question": f"问题{i}", "answer": f"回答{i}"} for i in range(args.rows)]
    template = load_template("score10_zh")
    prompts = [render(template, question=r["question"], answer=r["answer"], reference=None, rubric=None) for r in rows]
    proc, base_url = start_server(args.latency_ms / 1000)
    try:
        with tempfile.TemporaryDirectory(prefix="judge-bench-") as tmp:
            start_local_ray(Path(tmp))  # first: a Ray that cannot start on a busy machine fails fast
            bare_s = asyncio.run(bare(base_url, prompts, args.concurrency))
            ran = job(base_url, rows, args.concurrency, args.actors, args.chunk, Path(tmp))
    finally:
        proc.kill()
    ceiling = args.concurrency / (args.latency_ms / 1000)
    bare_rate = args.rows / bare_s
    result = {
        "rows": args.rows, "latency_ms": args.latency_ms, "concurrency": args.concurrency, "actors": args.actors,
        "rows_per_chunk": args.chunk, "ceiling_rows_per_s": round(ceiling, 1),
        "bare": {"wall_s": round(bare_s, 2), "rows_per_s": round(bare_rate, 1)}, "job": ran,
        "ratio_end_to_end": round(ran["rows_per_s"] / bare_rate, 3),
        "ratio_steady": round(ran["steady_rows_per_s"] / bare_rate, 3) if ran["steady_rows_per_s"] else None,
        "date": time.strftime("%Y-%m-%d"), "machine": machine(load_before),
    }
    print(pd.DataFrame([
        {"variant": "ceiling (concurrency / latency)", "rows/s": round(ceiling, 1), "x bare": None},
        {"variant": "(a) bare asyncio + aiohttp", "rows/s": round(bare_rate, 1), "x bare": 1.0},
        {"variant": "(b) judge job, end to end", "rows/s": ran["rows_per_s"], "x bare": result["ratio_end_to_end"]},
        {"variant": "(b) judge job, steady", "rows/s": ran["steady_rows_per_s"], "x bare": result["ratio_steady"]},
    ]).to_string(index=False))
    write_result(args.out or ROOT / "benchmarks" / "results" / "judge_throughput.json", result)


if __name__ == "__main__":
    main()
