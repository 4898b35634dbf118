"""Which address errors the demo's backbone learns: train_reward (MiniLM + LoRA, the shipped
addresses.yaml on Ray Train) on correct records plus ONE error type at a time, then on all ten
mixed, with the same records per class and the same steps -- held-back pair accuracy per run.

Run as:
  python benchmarks/address_learnability.py                  # ~30 min on 2 cores
  python benchmarks/address_learnability.py --steps 30 --types digits_in_admin,postcode_length

A type whose "caught" stays near 0 is not learned within the budget; `correct` is the accuracy on
the correct records of the same run. The mixed row is the demo's problem at this budget.
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
RESULTS = Path(__file__).parent / "results" / "address_learnability.json"
MIXED = "all ten"


def parse_args(argv=None):
    from rayscore.addresses.records import ERROR_TYPES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per_class", type=int, default=500, help="correct and wrong records per run")
    parser.add_argument("--steps", type=int, default=60, help="optimiser steps per run (2 workers x 16 pairs)")
    parser.add_argument("--types", default=",".join(ERROR_TYPES), help="error types, comma-separated")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON results file")
    return parser.parse_args(argv)


def datasets(per_class: int, types: list[str]) -> dict:
    """{name: records}: per_class correct records + per_class wrong ones of one type (or mixed)."""
    import pandas as pd

    from rayscore.addresses.records import ERROR_TYPES, NO_ERROR, generate_records

    # Enough rows that every type has per_class examples (each is ~1/20 of a 50% error stream).
    records = generate_records(per_class * 2 * len(ERROR_TYPES) + 2000, seed=23)
    correct = records[records.error_type == NO_ERROR].head(per_class)
    wrong = records[records.error_type != NO_ERROR]
    out = {t: pd.concat([correct, wrong[wrong.error_type == t].head(per_class)]) for t in types}
    out[MIXED] = pd.concat([correct, wrong.head(per_class)])
    for name, frame in out.items():
        if (frame.error_type != NO_ERROR).sum() < per_class:
            raise ValueError(f"{name}: fewer than {per_class} wrong records generated")
    return out


def train(records, root: Path, name: str, steps: int) -> dict:
    from rayscore.config import load_config
    from rayscore.train.reward import RewardJobConfig, run

    data = root / name.replace(" ", "_") / "records.parquet"
    data.parent.mkdir(parents=True)
    records.to_parquet(data, index=False)
    cfg = load_config(RewardJobConfig, [
        "--config", CONFIG, f"output_dir={data.parent / 'train'}", f"data.train_path={data}",
        "data.eval_fraction=0.2", f"train.max_steps={steps}", f"train.save_steps={steps}"])
    metrics = run(cfg).metrics
    by_type = metrics["eval_accuracy_by_subset"]
    wrong = {t: a for t, a in by_type.items() if t != "none"}
    return {"run": name, "eval_pairs": metrics["eval_pairs"], "steps": metrics["steps"],
            "accuracy": round(metrics["eval_accuracy"], 3), "correct": by_type.get("none"),
            "caught": round(sum(wrong.values()) / len(wrong), 3) if name != MIXED else None,
            "caught_by_type": wrong, "pairs_per_s": metrics["train_pairs_per_s"]}


def print_table(runs: list[dict]) -> None:
    print(f"\n{'wrong records':<24}{'pair accuracy':>14}{'correct':>9}{'caught':>8}")
    for r in runs:
        caught = "" if r["caught"] is None else f"{r['caught']:.2f}"
        print(f"{r['run']:<24}{r['accuracy']:>14.3f}{r['correct']:>9.2f}{caught:>8}")
    mixed = runs[-1]["caught_by_type"]
    print("all ten, caught by type:", {t: round(a, 2) for t, a in sorted(mixed.items())})


def main(argv=None) -> int:
    args = parse_args(argv)
    import ray

    from rayscore.logs import setup_logging

    setup_logging("WARNING")
    load_before = os.getloadavg()
    root = Path(tempfile.mkdtemp(prefix="rayscore-learnability-"))
    sets = datasets(args.per_class, [t for t in args.types.split(",") if t])
    start_local_ray(root)
    runs = []
    try:
        for name, records in sets.items():
            runs.append(train(records, root, name, args.steps))
            print(json.dumps(runs[-1]), flush=True)
    finally:
        ray.shutdown()
    print_table(runs)
    result = {"benchmark": "address_learnability", "config": CONFIG, "per_class": args.per_class,
              "steps": args.steps, "runs": runs, "machine": machine(load_before),
              "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    write_result(args.out, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
