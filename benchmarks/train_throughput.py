"""Training throughput: train_reward on Ray Train (1 and 2 workers) against the same TRL
RewardTrainer run plainly in one process -- same model (MiniLM + LoRA as in addresses.yaml),
same generated address pairs, same steps and batch per worker, same 2 cores.

Run as:
  python benchmarks/train_throughput.py                     # ~5-8 min on 2 cores
  python benchmarks/train_throughput.py --steps 40 --repeats 2 --out /tmp/train_throughput.json

pairs/s is the HF trainer's train_samples_per_second (optimiser steps x global batch / time in
trainer.train(), which includes the one checkpoint written at the last step) -- the same number
for every mode. wall_s is the whole job: data preparation, model loading, Ray worker start-up,
training, export and evaluation. Plain: one process, 2 torch threads. Ray 1 worker: 2 CPUs, 2
threads. Ray 2 workers: 1 CPU and 1 thread each, DDP over gloo. The table also records the
machine's load average before and after, since other work on the machine moves these numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from common import machine, start_local_ray, write_result

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CONFIG = "configs/train_reward/addresses.yaml"
RESULTS = Path(__file__).parent / "results" / "train_throughput.json"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1200, help="generated address records (one pair each)")
    parser.add_argument("--steps", type=int, default=30, help="optimiser steps per run")
    parser.add_argument("--batch", type=int, default=16, help="pairs per worker per step")
    parser.add_argument("--repeats", type=int, default=1, help="rounds of (plain, ray x1, ray x2)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON results file")
    return parser.parse_args(argv)


def job_config(data_dir: Path, out_dir: Path, args, workers: int, cpus_per_worker: float):
    from rayscore.config import load_config
    from rayscore.train.reward import RewardJobConfig

    return load_config(RewardJobConfig, [
        "--config", CONFIG, f"output_dir={out_dir}", f"data.train_path={data_dir}", "data.eval_path=null",
        f"train.max_steps={args.steps}", f"train.save_steps={args.steps}", f"train.logging_steps={args.steps}",
        f"train.batch_size_per_worker={args.batch}",
        f"scaling.num_workers={workers}", f"scaling.cpus_per_worker={cpus_per_worker}"])


def run_plain(cfg) -> dict:
    """The same RewardTrainer on the same prepared pairs, in this process, without Ray."""
    import torch

    from rayscore.models import load_tokenizer
    from rayscore.train.reward import build_model, build_trainer, prepare_pairs, reward_config
    from rayscore.train.scaling import absolute_paths

    torch.set_num_threads(2)
    started = time.time()
    cfg = absolute_paths(cfg)
    tok = load_tokenizer(cfg.model)
    data = prepare_pairs(cfg, tok)
    with tempfile.TemporaryDirectory(prefix="rayscore-bench-") as workdir:
        args = reward_config(cfg, workdir)
        trainer = build_trainer(cfg, args, build_model(cfg, tok), tok, data)
        output = trainer.train()
    return {"mode": "plain TRL, 1 process", "workers": 1, "threads_per_worker": 2,
            "pairs_per_s": round(output.metrics["train_samples_per_second"], 2),
            "train_s": round(output.metrics["train_runtime"], 1), "wall_s": round(time.time() - started, 1),
            "steps": trainer.state.global_step,
            "pairs_trained": trainer.state.global_step * args.per_device_train_batch_size}


def run_ray(cfg) -> dict:
    from rayscore.train.reward import run

    started = time.time()
    metrics = run(cfg).metrics
    workers = cfg.scaling.num_workers
    return {"mode": f"Ray Train, {workers} worker{'s' if workers > 1 else ''}", "workers": workers,
            "threads_per_worker": int(cfg.scaling.cpus_per_worker),
            "pairs_per_s": metrics["train_pairs_per_s"], "train_s": metrics["train_time_s"],
            "wall_s": round(time.time() - started, 1), "steps": metrics["steps"],
            "pairs_trained": metrics["steps"] * cfg.train.batch_size_per_worker * workers}


def summarise(runs: list[dict]) -> dict:
    """Median pairs/s per mode and the ratios to the plain run."""
    import statistics

    by_mode: dict[str, list[float]] = {}
    for r in runs:
        by_mode.setdefault(r["mode"], []).append(r["pairs_per_s"])
    median = {mode: statistics.median(v) for mode, v in by_mode.items()}
    plain = median["plain TRL, 1 process"]
    return {"median_pairs_per_s": median,
            "ratio_to_plain": {mode: round(v / plain, 3) for mode, v in median.items()},
            "target_ray_1_worker_ge_0.9x_plain": median["Ray Train, 1 worker"] >= 0.9 * plain}


def print_table(runs: list[dict], summary: dict) -> None:
    plain = summary["median_pairs_per_s"]["plain TRL, 1 process"]
    print(f"\n{'mode':<24}{'workers':>8}{'threads':>8}{'pairs/s':>10}{'train s':>9}{'wall s':>8}{'x plain':>9}")
    for r in runs:
        print(f"{r['mode']:<24}{r['workers']:>8}{r['threads_per_worker']:>8}{r['pairs_per_s']:>10.1f}"
              f"{r['train_s']:>9.1f}{r['wall_s']:>8.1f}{r['pairs_per_s'] / plain:>9.2f}")
    print("median pairs/s x plain:", summary["ratio_to_plain"])


def main(argv=None) -> int:
    args = parse_args(argv)
    import ray

    from rayscore.addresses.generate import GenerateJobConfig, run as generate
    from rayscore.logs import setup_logging

    setup_logging("WARNING")
    load_before = os.getloadavg()
    root = Path(tempfile.mkdtemp(prefix="rayscore-train-bench-"))
    generate(GenerateJobConfig(output_dir=str(root / "data"), train_rows=args.records, score_rows=0, seed=11))
    data = root / "data" / "train"
    start_local_ray(root)
    runs = []
    try:
        for i in range(args.repeats):
            runs.append(run_plain(job_config(data, root / f"plain{i}", args, 1, 2)))
            runs.append(run_ray(job_config(data, root / f"ray1_{i}", args, 1, 2)))
            runs.append(run_ray(job_config(data, root / f"ray2_{i}", args, 2, 1)))
            print(json.dumps(runs[-3:], indent=1))
    finally:
        ray.shutdown()
    summary = summarise(runs)
    print_table(runs, summary)
    result = {
        "benchmark": "train_throughput", "config": CONFIG, "records": args.records, "steps": args.steps,
        "batch_per_worker": args.batch, "repeats": args.repeats, "runs": runs, **summary,
        "machine": machine(load_before), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    write_result(args.out, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
