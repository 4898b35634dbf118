"""HTTP judging throughput: the judge job (chunked, exactly-once pipeline on a local Ray) against a
bare asyncio + httpx loop at the same concurrency, both against a loopback OpenAI-compatible
server with a fixed latency per request.

Run as:
  python benchmarks/judge_throughput.py                       # ~1.5 min on 2 idle cores
  python benchmarks/judge_throughput.py --rows 2000 --latency-ms 50 --concurrency 16 --out /tmp/j.json

The server (tests/fake_judge_server.py) runs in its own process and answers every request after
`latency_ms`, so the ceiling is concurrency / latency requests per second. Variants:
  (a) bare  one asyncio loop, one httpx.AsyncClient, a semaphore of `concurrency`: the rows' prompts
            sent as fast as the limit allows (what a user would write; no retries, no output);
  (b) job   jobs.judge (pointwise, template score10_zh) on a local Ray with 2 CPUs: num_actors
            actors sharing `concurrency` requests in flight, rows_per_chunk rows per chunk, every
            chunk parsed and committed to parquet; end to end (the pipeline's start, actor start
            and the final summary included; Ray's own start excluded) and steady (rows / the time
            from the first commit to the last).
The ratio is (b) / (a). Writes benchmarks/results/judge_throughput.json.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import json
import os
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


def start_server(latency_s: float) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(latency_s)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "tests")})
    return proc, proc.stdout.readline().strip()


async def bare(base_url: str, prompts: list[str], concurrency: int) -> float:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=8000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--actors", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "judge_throughput.json")
    args = parser.parse_args()
    os.chdir(ROOT)

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
        {"variant": "(a) bare asyncio + httpx", "rows/s": round(bare_rate, 1), "x bare": 1.0},
        {"variant": "(b) judge job, end to end", "rows/s": ran["rows_per_s"], "x bare": result["ratio_end_to_end"]},
        {"variant": "(b) judge job, steady", "rows/s": ran["steady_rows_per_s"], "x bare": result["ratio_steady"]},
    ]).to_string(index=False))
    write_result(args.out, result)


if __name__ == "__main__":
    main()
