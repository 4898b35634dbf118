"""Scoring throughput and memory: score_batch on local Ray against the bare single-process limit
and against what a user would write instead -- same model, same generated address records, same
2 cores -- plus each precision's speed and agreement with float32, and peak memory at 100k and 1M
rows with a tiny model.

Run as:
  python benchmarks/score_throughput.py                      # ~8 min on 2 idle cores, ~18 at load 10-20
  python benchmarks/score_throughput.py --rows 300 --memory-rows 20000 60000 --work /tmp/b --out /tmp/s.json
  python benchmarks/score_throughput.py --memory-only        # driver/actor peak RSS at 100k and 1M rows, ~4 min

Variants (quality scorer: two sequences, (record, 正确) and (record, 错误), per record):
  (a) bare      one process, the scorer itself (RewardRunner: length-sorted dynamic padding,
                inference_mode), the best of a sweep over batch sizes and 1 or 2 torch threads;
  (b) loop      plain per-batch loop over a pandas frame in file order, padding to the longest
                row of each batch, torch.no_grad, batch 64, torch's default threads (2);
  (b') pipeline transformers pipeline("text-classification") over the rendered strings, its
                default batch size (1), torch's default threads (2);
  (c) ray       score_batch's run() on a local Ray: 2 actors x 1 CPU x 1 thread, the best batch
                size of (a); end to end (actor start and model load included) and steady
                (rows / the busiest actor's time in its chunks).
Precisions: (a) again in bfloat16 autocast and int8 (dynamic quantization), compared with the
float32 scores of (a): Pearson correlation of p_correct and the share of equal labels at 0.5.
The recommendation is the fastest precision whose label agreement is >= 99.5 %.
Memory: (c) with a tiny Qwen3 reward model (tests/tiny_models.py; reward kind, one sequence per row:
one fixed question as the prompt, the record as the response) on 100k and 1M generated rows; peak RSS of
the driver and of each scoring actor, sampled every 0.5 s with psutil (--memory-only runs just
this and writes benchmarks/results/score_memory.json). The driver's summary (the duplicate-id
report among it) is built from per-chunk results, so its peak should not grow with the rows.
Every variant runs in a fresh process, so each peak RSS is its own. The machine is shared: the
JSON records the load average before and after every variant.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "score_throughput.json"
MEMORY_RESULTS = ROOT / "benchmarks" / "results" / "score_memory.json"
PROMPT = "这条地址记录填写正确吗？"   # "Is this address record filled in correctly?"
MAX_SEQ_LEN = 96


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=str(ROOT / "out/demo/train_reward/model"),
                   help="trained quality model dir (copied to <work>/model; trained quickly there if missing)")
    p.add_argument("--rows", type=int, default=3000, help="records for (a), (b), (c) and the precisions")
    p.add_argument("--pipeline-rows", type=int, default=300, help="records for (b'), which is slow")
    p.add_argument("--sweep-rows", type=int, default=200, help="records per setting in the sweep")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 32, 64, 128])
    p.add_argument("--memory-rows", type=int, nargs=2, default=[100_000, 1_000_000])
    p.add_argument("--work", default=str(ROOT / "out/bench"), help="generated data and tiny models (reused)")
    p.add_argument("--out", type=Path, default=None, help=f"default {RESULTS} ({MEMORY_RESULTS} with --memory-only)")
    p.add_argument("--memory-only", action="store_true", help="only the peak-RSS runs at --memory-rows")
    return p.parse_args(argv)


# --- helpers ----------------------------------------------------------------------------------

def fresh(fn, *args):
    """fn(*args) in a new process: its own imports, threads and peak RSS."""
    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as ex:
        return ex.submit(fn, *args).result()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def uptime() -> str:
    import subprocess

    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def conversations(texts):
    from rayscore.data.pairs import CORRECT, WRONG, conversation

    return [conversation(t, CORRECT) for t in texts] + [conversation(t, WRONG) for t in texts]


def p_correct_of(rewards, n):
    import numpy as np

    return (1 / (1 + np.exp(-(rewards[:n] - rewards[n:]).astype(np.float64)))).tolist()


# --- variants (each in a fresh process) --------------------------------------------------------

def bare(model_dir: str, texts: list[str], batch_sizes: list[int], sweep_rows: int, dtype: str,
         threads: int | None = None) -> dict:
    """The scorer alone in one process. With several batch sizes: sweep them at 1 torch thread,
    then try 2 threads at the best (on a loaded 2-core machine 2 threads can be slower than 1:
    OpenMP threads wait for each other when other processes hold a core)."""
    import pandas as pd
    import torch

    from rayscore.score.scorers import ScorerSpec, build_scorer

    scorer = build_scorer(ScorerSpec(kind="quality", model_dir=model_dir, batch_size=batch_sizes[0],
                                     max_seq_len=MAX_SEQ_LEN, dtype=dtype))
    frame = pd.DataFrame({"text": texts})
    tokens = sum(len(x) for x in scorer.runner.encode(conversations(texts)))
    scorer.score(frame.head(64))  # warm-up: first-call allocations, oneDNN kernels

    def rate(threads: int, batch: int) -> float:
        torch.set_num_threads(threads)
        scorer.runner.batch_size = batch
        started = time.perf_counter()
        scorer.score(frame.head(sweep_rows))
        return round(sweep_rows / (time.perf_counter() - started), 1)

    sweep = {}
    if threads is None:
        sweep = {f"1x{b}": rate(1, b) for b in batch_sizes}
        best = max(sweep, key=sweep.get)
        sweep[f"2x{best.split('x')[1]}"] = rate(2, int(best.split("x")[1]))
        threads, batch = map(int, max(sweep, key=sweep.get).split("x"))
    else:
        batch = batch_sizes[0]
    torch.set_num_threads(threads)
    scorer.runner.batch_size = batch
    started = time.perf_counter()
    out = scorer.score(frame)
    seconds = time.perf_counter() - started
    return {"rows_per_s": round(len(texts) / seconds, 1), "tokens_per_s": round(tokens / seconds),
            "seconds": round(seconds, 1), "batch_size": batch, "threads": threads,
            "sweep_rows_per_s_threads_x_batch": sweep, "dtype": dtype,
            "peak_rss_mb": round(peak_rss_mb()), "p_correct": out["p_correct"].tolist(),
            "mean_tokens_per_sequence": round(tokens / (2 * len(texts)), 1)}


def naive_loop(model_dir: str, texts: list[str], batch: int = 64) -> dict:
    import numpy as np
    import pandas as pd
    import torch

    from rayscore.models import load_scorer

    torch.set_num_threads(2)
    model, tok = load_scorer(model_dir)
    frame = pd.DataFrame({"text": texts})
    rewards = {"正确": [], "错误": []}
    tokens = 0
    started = time.perf_counter()
    for start in range(0, len(frame), batch):  # what one writes first: file order, pad to the batch's longest
        part = frame.iloc[start:start + batch]
        for answer in rewards:
            strings = [tok.apply_chat_template([{"role": "user", "content": t},
                                                {"role": "assistant", "content": answer}],
                                               tokenize=False) for t in part["text"]]
            enc = tok(strings, padding=True, truncation=True, max_length=MAX_SEQ_LEN, add_special_tokens=False,
                      return_tensors="pt")
            tokens += int(enc["attention_mask"].sum())
            with torch.no_grad():
                rewards[answer].append(model(**enc).logits[:, 0].numpy())
    seconds = time.perf_counter() - started
    both = np.concatenate([np.concatenate(rewards["正确"]), np.concatenate(rewards["错误"])])
    return {"rows_per_s": round(len(texts) / seconds, 1), "tokens_per_s": round(tokens / seconds),
            "seconds": round(seconds, 1), "batch_size": batch, "peak_rss_mb": round(peak_rss_mb()),
            "p_correct": p_correct_of(both, len(texts))}


def hf_pipeline(model_dir: str, texts: list[str]) -> dict:
    import numpy as np
    import torch
    from transformers import pipeline

    from rayscore.models import load_scorer

    torch.set_num_threads(2)
    model, tok = load_scorer(model_dir)
    pipe = pipeline("text-classification", model=model, tokenizer=tok, device="cpu")
    strings = [tok.apply_chat_template(c, tokenize=False) for c in conversations(texts)]
    started = time.perf_counter()
    out = pipe(strings, function_to_apply="none", add_special_tokens=False, truncation=True, max_length=MAX_SEQ_LEN)
    seconds = time.perf_counter() - started
    rewards = np.array([o["score"] if isinstance(o, dict) else o[0]["score"] for o in out])
    return {"rows_per_s": round(len(texts) / seconds, 1), "seconds": round(seconds, 1), "batch_size": 1,
            "peak_rss_mb": round(peak_rss_mb()), "p_correct": p_correct_of(rewards, len(texts))}


def ray_score(model_dir: str, input_path: str, batch_size: int, rows_per_file: int, dtype: str = "float32",
              kind: str = "quality") -> dict:
    """score_batch's run() on a fresh local Ray; peak RSS of the driver and the actors."""
    import ray

    from common import PeakRss
    from rayscore.score.job import ScoreJobConfig, run
    from rayscore.score.scorers import ScorerSpec

    work = tempfile.mkdtemp(prefix="rs-bench-", dir="/tmp")  # short: Ray's socket paths have a length limit
    # 3 logical CPUs on 2 cores: the two 1-CPU actors use both cores, and Ray Data keeps one CPU
    # for its own small tasks (with only as many CPUs as actors, the pool takes them all, the read
    # tasks that feed it never get one, and the job waits forever).
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False, _temp_dir=f"{work}/ray",
             runtime_env={"env_vars": {"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}})
    cfg = ScoreJobConfig(input=input_path, output=f"{work}/out",
                         scorer=ScorerSpec(kind=kind, model_dir=model_dir, batch_size=batch_size,
                                           max_seq_len=MAX_SEQ_LEN, dtype=dtype,
                                           prompt_column="prompt", response_column="text"),
                         rows_per_file=rows_per_file, num_actors=2, cpus_per_actor=1.0, max_quarantine_share=1.0,
                         progress_every_s=60)
    started = time.perf_counter()
    with PeakRss() as peaks:
        summary = run(cfg).data
    seconds = time.perf_counter() - started
    records = [json.loads(p.read_text()) for p in Path(f"{work}/out/_committed").glob("*.json")]
    busy: dict[int, float] = {}
    for r in records:
        busy[r["pid"]] = busy.get(r["pid"], 0.0) + r["seconds"]
    import pandas as pd

    scored = pd.concat([pd.read_parquet(p, columns=["record_id"] + (["p_correct"] if kind == "quality" else []))
                        for p in sorted(Path(f"{work}/out").glob("part-*.parquet"))])
    ray.shutdown()
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    return {"rows": summary["rows_scored"], "rows_quarantined": summary["rows_quarantined"],
            "rows_per_s": round(summary["rows_scored"] / seconds, 1),
            "seconds": round(seconds, 1),
            "steady_rows_per_s": round(summary["rows_scored"] / max(busy.values()), 1),
            "chunks": summary["chunks"], "files": summary["files"], "mean_file_mb": summary["mean_file_mb"],
            "batch_size": batch_size, "ok": summary["ok"],
            **peaks.mb(),
            "p_correct_by_id": dict(zip(scored["record_id"], scored["p_correct"].round(7)))
            if kind == "quality" else None}


# --- data and models --------------------------------------------------------------------------

def ensure_model(path: str, work: Path) -> str:
    """A private copy of the model to benchmark, at <work>/model: the demo's (copied, so a demo
    rerun meanwhile cannot pull it away), or, when there is none, one trained quickly with
    jobs.train_reward and configs/train_reward/tiny.yaml."""
    import shutil
    import subprocess

    target = work / "model"
    if Path(path, "fingerprint.txt").exists():
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(path, target)
        return str(target)
    if not Path(target, "fingerprint.txt").exists():
        print(f"{path} not found: training a quick model into {target} (a few minutes)", flush=True)
        subprocess.run([sys.executable, "-m", "jobs.generate_records", "--config", "configs/generate_records/tiny.yaml",
                        f"output_dir={work / 'data'}", "train_rows=2000"], cwd=ROOT, check=True)
        subprocess.run([sys.executable, "-m", "jobs.train_reward", "--config", "configs/train_reward/tiny.yaml",
                        f"output_dir={work / 'train_reward'}", f"data.train_path={work / 'data' / 'train'}",
                        "train.max_steps=100"], cwd=ROOT, check=True)
        shutil.copytree(work / "train_reward" / "model", target)
    return str(target)


def write_input(path: Path, rows: int, per_file: int, row_group: int, seed: int) -> Path:
    """Generated records as parquet (reused when already there)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from rayscore.addresses.records import generate_records

    done = path / "_done"
    stamp = f"{rows} {per_file} {row_group} {seed} prompt"
    if done.exists() and done.read_text() == stamp:
        return path
    path.mkdir(parents=True, exist_ok=True)
    for old in path.glob("*.parquet"):
        old.unlink()
    for k, start in enumerate(range(0, rows, per_file)):
        frame = generate_records(min(per_file, rows - start), seed=seed, start=start)
        frame["prompt"] = PROMPT   # the reward scorer's prompt: one every row has (no row quarantined)
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path / f"part-{k:05d}.parquet",
                       row_group_size=row_group)
    done.write_text(stamp)
    return path


def tiny_model(work: Path) -> str:
    from rayscore.addresses.records import generate_records

    if str(ROOT / "tests") not in sys.path:
        sys.path.insert(0, str(ROOT / "tests"))  # the tests' tiny models (tests/tiny_models.py)
    from tiny_models import char_tokenizer, save_tiny, tiny_reward_model

    out = work / "tiny_model"
    if not (out / "fingerprint.txt").exists():
        tok = char_tokenizer(generate_records(20_000, seed=99)["text"])
        save_tiny(tiny_reward_model(tok, hidden=16, layers=1), tok, out)
    return str(out)


# --- report -----------------------------------------------------------------------------------

def agreement(reference: list[float], other: list[float]) -> dict:
    import numpy as np

    a, b = np.asarray(reference), np.asarray(other)
    flipped = (a >= 0.5) != (b >= 0.5)
    return {"p_correct_pearson": round(float(np.corrcoef(a, b)[0, 1]), 5),
            "label_agreement": round(float((~flipped).mean()), 5),
            "max_abs_diff": round(float(np.abs(a - b).max()), 5),
            # Labels flip only near the threshold: how near the flipped rows were, and how many rows are that near.
            "flipped_max_distance_from_0.5": round(float(np.abs(a[flipped] - 0.5).max()), 5) if flipped.any() else 0.0,
            "share_within_0.01_of_0.5": round(float((np.abs(a - 0.5) < 0.01).mean()), 5)}


def memory_runs(args, work: Path, measure) -> dict:
    """Peak RSS of score_batch with the tiny reward model at each of args.memory_rows rows."""
    memory = {}
    tiny = tiny_model(work)
    per_file = args.memory_rows[0]  # the small run reads the big input's first file
    big = write_input(work / "records_large", args.memory_rows[1], per_file, min(10_000, per_file), seed=4321)
    for rows in args.memory_rows:
        files = sorted(big.glob("part-*.parquet"))[: max(1, rows // per_file)]
        source = str(files[0]) if len(files) == 1 else str(big)
        if rows < args.memory_rows[1] and len(files) > 1:  # a prefix of the big input: link its files
            source = str(work / f"records_{rows}")
            Path(source).mkdir(exist_ok=True)
            for f in files:
                link = Path(source) / f.name
                if not link.exists():
                    link.symlink_to(f)
        memory[rows] = measure(f"memory_{rows}", ray_score, tiny, source, 512, 10_000, "float32", "reward")
    return memory


def rss_ratios(memory: dict, rows: list[int]) -> dict:
    small, large = memory[rows[0]], memory[rows[1]]
    return {"driver": round(large["driver_peak_rss_mb"] / small["driver_peak_rss_mb"], 3),
            "actor": round(large["actor_peak_rss_mb"] / small["actor_peak_rss_mb"], 3),
            "all_ray_processes": round(large["all_ray_processes_peak_rss_mb"]
                                       / small["all_ray_processes_peak_rss_mb"], 3)}


def main_memory(args, result: dict, started: float) -> int:
    def measure(name, fn, *fn_args):
        before, up = load(), uptime()
        print(f"{name} ...", flush=True)
        out = fresh(fn, *fn_args)
        out.update(load_before=before, uptime_before=up, load_after=load())
        print(f"  {name}: driver peak {out['driver_peak_rss_mb']} MB, {out['rows_per_s']} rows/s", flush=True)
        return out

    memory = memory_runs(args, Path(args.work), measure)
    result.update(memory={str(k): v for k, v in memory.items()},
                  summary={"rss_ratio_1m_over_100k": rss_ratios(memory, args.memory_rows)})
    result["machine"].update(load_avg_end=load(), uptime_end=uptime())
    result["wall_time_s"] = round(time.time() - started)
    out = args.out or MEMORY_RESULTS
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(memory_table(result))
    print(json.dumps(result["summary"], indent=1))
    print(f"wrote {out}")
    return 0


def memory_table(result: dict) -> str:
    lines = ["| rows (tiny model) | rows/s | seconds | files | driver peak MB | actor peak MB | all Ray MB "
             "| load before |",
             "|---|---|---|---|---|---|---|---|"]
    for rows, m in result["memory"].items():
        lines.append(f"| {rows} | {m['rows_per_s']} | {m['seconds']} | {m['files']} | {m['driver_peak_rss_mb']} | "
                     f"{m['actor_peak_rss_mb']} | {m['all_ray_processes_peak_rss_mb']} | {m['load_before']} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    work = Path(args.work)
    started = time.time()
    result = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                          "load_avg_start": load(), "uptime_start": uptime()},
              "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}}
    if args.memory_only:
        return main_memory(args, result, started)
    model = ensure_model(args.model, work)
    result["settings"]["model_copied_to"] = model
    # (c) gets 10 chunks: 5 per actor, so neither waits for the other at the end.
    chunk = max(1, args.rows // 10)
    data = write_input(work / "records_ratio", args.rows, args.rows, chunk, seed=1234)
    import pandas as pd

    texts = pd.read_parquet(data)["text"].tolist()
    variants = {}

    def measure(name, fn, *fn_args):
        before = load()
        print(f"{name} ...", flush=True)
        out = fresh(fn, *fn_args)
        out.update(load_before=before, load_after=load())
        variants[name] = out
        print(f"  {name}: {out['rows_per_s']} rows/s ({out['seconds']} s)", flush=True)
        return out

    a = measure("a_bare_float32", bare, model, texts, args.batch_sizes, args.sweep_rows, "float32")
    measure("b_loop_unsorted", naive_loop, model, texts)
    measure("b_hf_pipeline", hf_pipeline, model, texts[: args.pipeline_rows])
    c = measure("c_score_batch", ray_score, model, str(data), a["batch_size"], chunk)
    for dtype in ("bfloat16", "int8"):
        measure(f"a_bare_{dtype}", bare, model, texts, [a["batch_size"]], 0, dtype, a["threads"])

    precisions = {}
    for dtype in ("float32", "bfloat16", "int8"):
        v = variants[f"a_bare_{dtype}"]
        precisions[dtype] = {"rows_per_s": v["rows_per_s"],
                             "speedup_vs_float32": round(v["rows_per_s"] / a["rows_per_s"], 2),
                             **agreement(a["p_correct"], v["p_correct"])}
    eligible = [d for d, p in precisions.items() if p["label_agreement"] >= 0.995]
    recommended = max(eligible, key=lambda d: precisions[d]["rows_per_s"])
    by_id = pd.Series(c.pop("p_correct_by_id"))
    ids = pd.read_parquet(data)["record_id"]
    consistency = agreement(a["p_correct"], by_id.loc[ids].tolist())

    def measure_memory(name, fn, *fn_args):
        measure(name, fn, *fn_args)
        return variants.pop(name)

    memory = memory_runs(args, work, measure_memory)

    for v in variants.values():
        v.pop("p_correct", None)
    summary = {
        "c_over_a": round(c["rows_per_s"] / a["rows_per_s"], 3),
        "c_steady_over_a": round(c["steady_rows_per_s"] / a["rows_per_s"], 3),
        "c_over_b_loop": round(c["rows_per_s"] / variants["b_loop_unsorted"]["rows_per_s"], 2),
        "c_over_b_pipeline": round(c["rows_per_s"] / variants["b_hf_pipeline"]["rows_per_s"], 2),
        "score_batch_vs_bare_scores": consistency,
        "rss_ratio_1m_over_100k": rss_ratios(memory, args.memory_rows),
        "recommended_dtype": recommended,
    }
    result.update(variants=variants, precisions=precisions, memory={str(k): v for k, v in memory.items()},
                  summary=summary)
    result["machine"].update(load_avg_end=load(), uptime_end=uptime())
    result["wall_time_s"] = round(time.time() - started)
    out = args.out or RESULTS
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(report(result))
    print(f"wrote {out}")
    return 0


def report(result: dict) -> str:
    v, s = result["variants"], result["summary"]
    lines = ["| variant | rows/s | tokens/s | batch | threads | peak RSS MB |", "|---|---|---|---|---|---|"]
    for name, threads in (("a_bare_float32", v["a_bare_float32"]["threads"]), ("b_loop_unsorted", 2),
                          ("b_hf_pipeline", 2)):
        x = v[name]
        lines.append(f"| {name} | {x['rows_per_s']} | {x.get('tokens_per_s', '')} | {x['batch_size']} | {threads} | "
                     f"{x['peak_rss_mb']} |")
    c = v["c_score_batch"]
    lines.append(f"| c_score_batch (end to end / steady) | {c['rows_per_s']} / {c['steady_rows_per_s']} | | "
                 f"{c['batch_size']} | 2 actors x 1 | driver {c['driver_peak_rss_mb']}, "
                 f"actor {c['actor_peak_rss_mb']} |")
    lines += ["", "| dtype | rows/s | × fp32 | p_correct r | label agreement |", "|---|---|---|---|---|"]
    for d, p in result["precisions"].items():
        lines.append(f"| {d} | {p['rows_per_s']} | {p['speedup_vs_float32']} | {p['p_correct_pearson']} "
                     f"| {p['label_agreement']} |")
    lines += ["", "| rows (tiny model) | rows/s | seconds | files | driver peak MB | actor peak MB | all Ray MB |",
              "|---|---|---|---|---|---|---|"]
    for rows, m in result["memory"].items():
        lines.append(f"| {rows} | {m['rows_per_s']} | {m['seconds']} | {m['files']} | {m['driver_peak_rss_mb']} | "
                     f"{m['actor_peak_rss_mb']} | {m['all_ray_processes_peak_rss_mb']} |")
    lines += ["", json.dumps(s, indent=1), f"load average start {result['machine']['load_avg_start']}, "
              f"end {result['machine']['load_avg_end']}"]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
