"""Run as:
  python benchmarks/data_check.py                      # 100k rows, ~1 min on an idle core
  python benchmarks/data_check.py --rows 20000 --out /tmp/data_check.json

What the data check every training job runs before its first step costs (rayscore.data.data_check):
seconds and rows/s of check_data on --rows generated address records (varied: nothing is
dropped or refused), --eval-share of them as the eval split, the best of --repeats passes. Set
against the training it guards: the seconds one epoch over the same rows takes at the pairs/s
benchmarks/results/train_throughput.json measured (plain TRL, MiniLM + LoRA on 2 CPUs).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from common import machine, write_result

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "data_check.json"
TRAIN_THROUGHPUT = ROOT / "benchmarks" / "results" / "train_throughput.json"
TRAIN_MODE = "plain TRL, 1 process"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="seconds and rows/s of the training data check")
    p.add_argument("--rows", type=int, default=100_000, help="generated records checked (train + eval)")
    p.add_argument("--eval-share", type=float, default=0.1, help="share of the rows given as the eval split")
    p.add_argument("--repeats", type=int, default=2, help="passes of check_data; the best counts")
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--out", type=Path, default=RESULTS)
    return p.parse_args(argv)


def time_check(records, eval_share: float, repeats: int) -> tuple[float, dict]:
    """(best seconds of check_data, the report of the last pass)."""
    from rayscore.data.data_check import DataCheckSpec, check_data

    split = int(len(records) * (1 - eval_share))
    train, evaluation = records.iloc[:split], records.iloc[split:]
    best, report = float("inf"), {}
    for _ in range(repeats):
        started = time.perf_counter()
        report = check_data(train, evaluation, lambda frame: frame["text"].tolist(), DataCheckSpec()).report
        best = min(best, time.perf_counter() - started)
    return best, report


def training_epoch_s(rows: int) -> tuple[float | None, float | None]:
    """(pairs/s of train_throughput.json's plain run, seconds of one epoch over `rows` at that rate)."""
    if not TRAIN_THROUGHPUT.exists():
        return None, None
    rate = json.loads(TRAIN_THROUGHPUT.read_text())["median_pairs_per_s"].get(TRAIN_MODE)
    return (rate, rows / rate) if rate else (None, None)


def main(argv=None) -> int:
    args = parse_args(argv)
    load_before = os.getloadavg()
    import datasketch
    import numpy

    from rayscore.addresses.records import generate_records

    records = generate_records(args.rows, seed=args.seed)
    seconds, report = time_check(records, args.eval_share, args.repeats)
    pairs_per_s, epoch_s = training_epoch_s(report["train_rows_in"])
    result = {
        "benchmark": "data_check", "source": "rayscore.addresses.records.generate_records", "rows": args.rows,
        "train_rows": report["train_rows_in"], "eval_rows": report["eval_rows"], "repeats": args.repeats,
        "check": {"seconds": round(seconds, 2), "rows_per_s": round(args.rows / seconds),
                  "report": {k: v for k, v in report.items() if k != "seconds"}},
        "training": {"pairs_per_s": pairs_per_s, "from": f"{TRAIN_THROUGHPUT.relative_to(ROOT)} ({TRAIN_MODE})",
                     "one_epoch_s": round(epoch_s) if epoch_s else None,
                     "check_share_of_one_epoch": round(seconds / epoch_s, 5) if epoch_s else None},
        "versions": {"datasketch": datasketch.__version__, "numpy": numpy.__version__},
        "machine": machine(load_before), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    print(f"\n{'variant':<44}{'rows':>9}{'seconds':>10}{'rows/s':>10}")
    print(f"{'check_data (train + eval)':<44}{args.rows:>9}{seconds:>10.2f}{args.rows / seconds:>10.0f}")
    if epoch_s:
        print(f"one training epoch over {report['train_rows_in']:,} pairs at {pairs_per_s:.1f} pairs/s: "
              f"{epoch_s:,.0f} s; the check is {seconds / epoch_s:.3%} of it")
    print(f"duplicates {report['exact_duplicates']} + {report['near_duplicates']} near, eval overlap "
          f"{report['eval_rows_overlapping_train']}, largest template {report['largest_template_share']:.2%}; "
          f"load average before {load_before[0]:.2f}")
    write_result(args.out, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
