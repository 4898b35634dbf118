"""Load test of the Serve scorer on loopback: N concurrent clients, a bounded number of requests,
with dynamic batching off (max_batch_size=1) and on (e.g. 32).

Run as:
  python benchmarks/serve_load.py                                  # out/demo/train_reward/model
  python benchmarks/serve_load.py path/to/model --clients 32 --requests 1500 --batch-sizes 1,32
  python benchmarks/serve_load.py --set scorer.dtype=bfloat16 --output /tmp/bf16.json
  python benchmarks/serve_load.py --batch-sizes 32 --requests 400 --kill-after 100   # fault mode

Needs a trained model directory (`python -m jobs.demo` writes out/demo/train_reward/model).
Starts an in-process Ray and Serve on 127.0.0.1, deploys configs/serve_scorer/addresses.yaml with
one fixed replica per setting, warms it up, then each client posts one request at a time (closed
loop) until the total is reached. Prints p50/p95/p99 latency, requests/s, items/s, errors and the
mean number of items per scorer call, and writes benchmarks/results/serve_load.json.

Fault mode (--kill-after N): after the N-th measured response, the Scorer replica is killed with
kill -9; the run counts replies by kind (200, 503 with Retry-After, other JSON errors, replies
that are not JSON, transport errors) and the seconds from the kill to the first 200 of a request
sent after it (the replacement). Writes benchmarks/results/serve_load_fault.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np

from common import record_result

ROOT = Path(__file__).resolve().parents[1]
REPLY_KINDS = ["200", "503_retry_after", "other_json_error", "non_json", "transport_error"]
DEFAULT_MODEL = "out/demo/train_reward/model"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model_dir", nargs="?", default=DEFAULT_MODEL, help="trained model directory")
    p.add_argument("--config", default="configs/serve_scorer/addresses.yaml")
    p.add_argument("--clients", type=int, default=32, help="concurrent clients")
    p.add_argument("--requests", type=int, default=1500, help="measured requests per setting")
    p.add_argument("--warmup", type=int, default=64, help="unmeasured requests per setting")
    p.add_argument("--items-per-request", type=int, default=1)
    p.add_argument("--batch-sizes", default="1,32", help="max_batch_size settings to compare")
    p.add_argument("--batch-wait-s", type=float, default=0.01, help="batch_wait_timeout_s")
    p.add_argument("--cpus-per-replica", type=float, default=1.0, help="also the replica's torch threads")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any other ServeJobConfig override, e.g. --set scorer.dtype=bfloat16")
    p.add_argument("--kill-after", type=int, default=None, metavar="N",
                   help="fault mode: kill -9 the scorer replica after the N-th measured response")
    p.add_argument("--output", default=None, help="default benchmarks/results/serve_load[_fault].json")
    return p.parse_args(argv)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sample_texts(n: int) -> list[str]:
    from rayscore.addresses.records import generate_records

    return generate_records(n, seed=11)["text"].tolist()


def replica_pid(app_name: str) -> int:
    """The pid of the app's one Scorer replica, found by its actor name in Serve's namespace."""
    import ray

    (name,) = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)
               if a["name"].startswith(f"SERVE_REPLICA::{app_name}#Scorer#")]
    return ray.get(ray.get_actor(name, namespace="serve").__ray_call__.remote(lambda _: os.getpid()))


def reply_kind(r: httpx.Response) -> str:
    try:
        r.json()
    except ValueError:
        return "non_json"
    if r.status_code == 503 and r.headers.get("retry-after"):
        return "503_retry_after"
    return "200" if r.status_code == 200 else "other_json_error"


async def load(url: str, bodies: list[dict], clients: int, kill_after: int | None = None,
               victim: int | None = None) -> dict:
    """Post every body once from `clients` closed-loop clients; latencies in ms, errors, reply kinds,
    and with kill_after, when the victim pid was killed and the first later request answered."""
    latencies: list[float] = []
    errors: list[str] = []
    kinds: Counter = Counter()
    fault = {"killed_at": None, "first_ok_after": None}
    queue = iter(bodies)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        async def one_client() -> None:
            for body in queue:  # a shared iterator: each body is taken by exactly one client
                start = time.perf_counter()
                try:
                    r = await client.post("/v1/score", json=body)
                    kinds[reply_kind(r)] += 1
                    if r.status_code != 200:
                        errors.append(f"{r.status_code}: {r.text[:200]}")
                    elif fault["killed_at"] and start > fault["killed_at"] and not fault["first_ok_after"]:
                        fault["first_ok_after"] = time.perf_counter()
                except httpx.HTTPError as e:
                    kinds["transport_error"] += 1
                    errors.append(f"{type(e).__name__}: {e}")
                latencies.append((time.perf_counter() - start) * 1000)
                if kill_after is not None and len(latencies) == kill_after:
                    os.kill(victim, signal.SIGKILL)
                    fault["killed_at"] = time.perf_counter()

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        wall = time.perf_counter() - started
    replaced = fault["first_ok_after"] and fault["first_ok_after"] - fault["killed_at"]
    return {"latencies_ms": latencies, "errors": errors, "wall_s": wall, "replies": dict(kinds),
            "replaced_after_s": round(replaced, 1) if replaced else None}


def summarize(result: dict, items_per_request: int) -> dict:
    lat = np.array(result["latencies_ms"])
    n, wall = len(lat), result["wall_s"]
    return {
        "requests": n, "errors": len(result["errors"]), "wall_s": round(wall, 2),
        "requests_per_s": round(n / wall, 1), "items_per_s": round(n * items_per_request / wall, 1),
        "p50_ms": round(float(np.percentile(lat, 50)), 1), "p95_ms": round(float(np.percentile(lat, 95)), 1),
        "p99_ms": round(float(np.percentile(lat, 99)), 1), "max_ms": round(float(lat.max()), 1),
        "first_errors": result["errors"][:3], "replies": result["replies"],
        "replaced_after_s": result["replaced_after_s"],
    }


def bench_setting(args, max_batch_size: int, port: int, bodies: list[dict], warmup: list[dict]) -> dict:
    from ray import serve

    from rayscore.config import load_config
    from rayscore.serve.app import ServeJobConfig, run

    cfg = load_config(ServeJobConfig, [
        "--config", args.config, f"scorer.model_dir={args.model_dir}", f"port={port}", "block=false",
        "app_name=bench", "min_replicas=1", "max_replicas=1", f"max_batch_size={max_batch_size}",
        f"batch_wait_timeout_s={args.batch_wait_s}", f"cpus_per_replica={args.cpus_per_replica}",
        f"max_ongoing_requests={max(args.clients, max_batch_size) * 2}", "auth_token_env=",
        f"max_items_per_request={max(args.items_per_request, 1)}", *args.set])
    started = run(cfg)
    assert started.ok, f"app did not start: {started}"
    url = started.url
    asyncio.run(load(url, warmup, args.clients))
    before = httpx.get(url + "/healthz").json()["stats"]
    victim = replica_pid("bench") if args.kill_after is not None else None
    row = summarize(asyncio.run(load(url, bodies, args.clients, args.kill_after, victim)), args.items_per_request)
    row["max_batch_size"] = max_batch_size
    if victim is not None:  # the replacement's counters start at zero: nothing to compare
        serve.delete("bench")
        return row
    after = httpx.get(url + "/healthz").json()["stats"]
    batches = after["batches"] - before["batches"]
    row.update(max_batch_size=max_batch_size,
               mean_items_per_scorer_call=round((after["items"] - before["items"]) / batches, 2) if batches else None,
               largest_batch=after["largest_batch"],
               # Share of the wall time the replica spent inside scorer.score: near 1 = model-bound.
               scorer_busy=round((after["scorer_ms"] - before["scorer_ms"]) / 1000 / row["wall_s"], 2))
    serve.delete("bench")
    return row


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.chdir(ROOT)
    load_before = os.getloadavg()
    if not (Path(args.model_dir) / "merged").exists() and not Path(args.model_dir, "config.json").exists():
        print(f"no trained model at {args.model_dir}: run the demo first (python -m jobs.demo), "
              f"or pass a model directory", file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import ray
    from ray import serve

    from rayscore.logs import setup_logging

    setup_logging("WARNING")
    ray.init(num_cpus=max(4, int(args.cpus_per_replica) + 2), include_dashboard=False, log_to_driver=False)
    texts = sample_texts(2000)

    def bodies(n: int, offset: int) -> list[dict]:
        k = args.items_per_request
        return [{"items": [{"text": texts[(offset + i * k + j) % len(texts)]} for j in range(k)]} for i in range(n)]

    port = free_port()
    rows = []
    try:
        for size in [int(s) for s in args.batch_sizes.split(",")]:
            rows.append(bench_setting(args, size, port, bodies(args.requests, 0), bodies(args.warmup, 997)))
            print(f"max_batch_size={size}: done", file=sys.stderr)
    finally:
        serve.shutdown()
        ray.shutdown()

    header = ["max_batch_size", "requests", "errors", "requests_per_s", "items_per_s", "p50_ms", "p95_ms",
              "p99_ms", "mean_items_per_scorer_call", "scorer_busy"]
    if args.kill_after is not None:
        header = ["max_batch_size", "requests", *REPLY_KINDS, "replaced_after_s", "p50_ms", "max_ms"]
        for row in rows:
            row.update({kind: row["replies"].get(kind, 0) for kind in REPLY_KINDS})
    print(f"\n{args.clients} clients, {args.requests} requests x {args.items_per_request} item(s) per setting, "
          f"1 replica x {args.cpus_per_replica:g} CPU, batch wait {args.batch_wait_s * 1000:g} ms")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(row[h]) for h in header) + " |")
    if len(rows) >= 2 and rows[0]["items_per_s"]:
        print(f"\nthroughput, largest batch vs first: {rows[-1]['items_per_s'] / rows[0]['items_per_s']:.2f}x; "
              f"p99 {rows[0]['p99_ms']} -> {rows[-1]['p99_ms']} ms")

    fault = "_fault" if args.kill_after is not None else ""
    out = Path(args.output or ROOT / f"benchmarks/results/serve_load{fault}.json")
    settings = {k: v for k, v in vars(args).items() if k != "output"}
    record_result(out, {"settings": settings, "results": rows}, load_before)
    if args.kill_after is not None:  # failed as designed: only 503s with Retry-After, then served again
        return 0 if all(r["non_json"] == r["other_json_error"] == r["transport_error"] == 0
                        and r["replaced_after_s"] for r in rows) else 1
    return 0 if all(r["errors"] == 0 for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
