"""Which address errors the demo's model learns, and whether it catches kinds it never saw:
train_reward (the shipped addresses.yaml: MiniLM + LoRA reading the address checks'
observations, 2 Ray Train workers) on correct records plus

  alone      ONE error kind at a time,
  mixed      every kind mixed,
  leave_out  every kind but a held-out fold (the kinds are cut into --folds folds),

with the same records per class and the same steps in every run. alone and mixed report
held-back pair accuracy (overall, on correct records, on the wrong kind); leave_out scores
fresh records of the held-out kinds with the trained model (the scorer score_batch runs) and
reports each held-out kind's recall and the share of fresh correct records kept: the true test
of a quality model is the errors it never saw.

Run as:
  python benchmarks/address_learnability.py                       # ~30 min on 2 idle cores
  python benchmarks/address_learnability.py --modes leave_out --steps 30 --folds 4
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from common import parse_modes, record_result, start_local_ray

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CONFIG = "configs/train_reward/addresses.yaml"
RESULTS = Path(__file__).parent / "results" / "address_learnability.json"
MODES = ("alone", "mixed", "leave_out")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per_class", type=int, default=500, help="correct and wrong records per run")
    parser.add_argument("--steps", type=int, default=40, help="optimiser steps per run (2 workers x 16 pairs)")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated subset of {MODES}")
    parser.add_argument("--kinds", default="", help="alone: these error kinds only (default: all)")
    parser.add_argument("--folds", type=int, default=3, help="leave_out: number of held-out folds")
    parser.add_argument("--eval_per_kind", type=int, default=200, help="leave_out: fresh records per held-out kind")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON results file")
    return parser.parse_args(argv)


def record_pool(per_class: int, seed: int):
    """Enough generated records that every kind has per_class of them."""
    from rayscore.addresses.corruptions import ERROR_TYPES
    from rayscore.addresses.records import generate_records

    return generate_records(per_class * 2 * len(ERROR_TYPES) + 4000, seed=seed)


def train(records, root: Path, name: str, steps: int) -> tuple[dict, Path]:
    from rayscore.config import load_config
    from rayscore.train.reward import RewardJobConfig, run

    data = root / name.replace(" ", "_").replace(",", "+") / "records.parquet"
    data.parent.mkdir(parents=True)
    records.to_parquet(data, index=False)
    cfg = load_config(RewardJobConfig, [
        "--config", CONFIG, f"output_dir={data.parent / 'train'}", f"data.train_path={data}",
        "data.eval_path=null", "data.eval_fraction=0.2", f"train.max_steps={steps}", f"train.save_steps={steps}"])
    result = run(cfg)
    return result.metrics, result.model_dir


def pair_run(records, root: Path, name: str, steps: int) -> dict:
    metrics, _ = train(records, root, name, steps)
    by_kind = metrics["eval_accuracy_by_subset"]
    wrong = {k: a for k, a in by_kind.items() if k != "none"}
    return {"run": name, "eval_pairs": metrics["eval_pairs"], "steps": metrics["steps"],
            "accuracy": round(metrics["eval_accuracy"], 3), "correct": by_kind.get("none"),
            "caught": round(sum(wrong.values()) / len(wrong), 3), "caught_by_kind": wrong,
            "pairs_per_s": metrics["train_pairs_per_s"]}


def leave_out_run(pool, fresh, held_out: list[str], root: Path, steps: int, per_class: int) -> dict:
    import pandas as pd

    from rayscore.score.scorers import ScorerSpec, build_scorer

    seen = pool[~pool.error_type.isin(held_out)]
    records = pd.concat([seen[seen.error_type == "none"].head(per_class),
                         seen[seen.error_type != "none"].head(per_class)])
    metrics, model_dir = train(records, root, "without " + ",".join(held_out), steps)
    scorer = build_scorer(ScorerSpec(kind="quality", model_dir=str(model_dir), max_seq_len=96, batch_size=256))
    test = fresh[fresh.error_type.isin([*held_out, "none"])]
    labels = scorer.score(test[["text"]]).label
    caught = (labels != "正确").groupby(test.error_type.to_numpy()).mean()   # 待审 is caught too
    return {"held_out": held_out, "train_pairs": metrics["train_pairs"], "steps": metrics["steps"],
            "pair_accuracy_seen_kinds": round(metrics["eval_accuracy"], 3),
            "recall_held_out": {k: round(float(caught[k]), 3) for k in held_out},
            "correct_kept": round(1 - float(caught["none"]), 3), "test_rows": len(test)}


def folds_of(kinds: tuple[str, ...], n: int) -> list[list[str]]:
    return [list(kinds[i::n]) for i in range(n)]


def print_tables(result: dict) -> None:
    runs = result.get("pair_runs", [])
    if runs:
        print(f"\n{'wrong records':<24}{'pair accuracy':>14}{'correct':>9}{'caught':>8}")
        for r in runs:
            print(f"{r['run']:<24}{r['accuracy']:>14.3f}{r['correct']:>9.2f}{r['caught']:>8.2f}")
    for r in result.get("leave_out", []):
        print(f"\ntrained without {', '.join(r['held_out'])}: correct kept {r['correct_kept']:.3f}, "
              f"pair accuracy on seen kinds {r['pair_accuracy_seen_kinds']:.3f}")
        for kind, recall in r["recall_held_out"].items():
            print(f"  {kind:<24} recall {recall:.3f}")


def main(argv=None) -> int:
    args = parse_args(argv)
    import pandas as pd
    import ray

    from rayscore.addresses.corruptions import ERROR_TYPES
    from rayscore.addresses.records import NO_ERROR
    from rayscore.logs import setup_logging

    setup_logging("WARNING")
    modes = parse_modes(args.modes, MODES)
    load_before = os.getloadavg()
    root = Path(tempfile.mkdtemp(prefix="rayscore-learnability-"))
    pool = record_pool(args.per_class, seed=23)
    correct, wrong = pool[pool.error_type == NO_ERROR].head(args.per_class), pool[pool.error_type != NO_ERROR]
    result = {"benchmark": "address_learnability", "config": CONFIG, "per_class": args.per_class,
              "steps": args.steps, "modes": modes}
    start_local_ray(root)
    try:
        runs = []
        kinds = [k for k in args.kinds.split(",") if k] or list(ERROR_TYPES)
        if "alone" in modes:
            for kind in kinds:
                runs.append(pair_run(pd.concat([correct, wrong[wrong.error_type == kind].head(args.per_class)]),
                                     root, kind, args.steps))
                print(json.dumps(runs[-1], ensure_ascii=False), flush=True)
        if "mixed" in modes:
            runs.append(pair_run(pd.concat([correct, wrong.head(args.per_class)]), root, "all kinds mixed", args.steps))
            print(json.dumps(runs[-1], ensure_ascii=False), flush=True)
        result["pair_runs"] = runs
        if "leave_out" in modes:
            fresh = record_pool(args.eval_per_kind, seed=29)
            fresh = pd.concat([g.head(args.eval_per_kind) for _, g in fresh.groupby("error_type")])
            result["folds"] = folds_of(ERROR_TYPES, args.folds)
            result["leave_out"] = []
            for held_out in result["folds"]:
                result["leave_out"].append(leave_out_run(pool, fresh, held_out, root, args.steps, args.per_class))
                print(json.dumps(result["leave_out"][-1], ensure_ascii=False), flush=True)
    finally:
        ray.shutdown()
    print_tables(result)
    record_result(args.out, result, load_before)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
