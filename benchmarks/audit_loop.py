"""The audit loop with a simulated person: what each pick strategy buys, per audited row.

The unaudited model is the demo's. The pool a person is asked about and the measurement set
(never audited) are real addresses with kinds the generator never makes (audit_sets.py): a real
shape that is correct (a company written after the address) and two error kinds (a vague place
instead of a number, a placeholder for the number), beside the generator's own kinds on real
bases. The person answers with the truth. Per strategy, rounds of the audit job as a user runs
them: step pick (with its exploration share), the person fills in tasks.csv, step learn (import,
train again continuing the model before, score the pool again, report). Reported per round:

  yield         share of the round's audited rows whose model label was wrong (a 待审 row
                counts by its likelier answer, the model's threshold), and over all rounds so far
  measurement   F1 for catching 错误 (a 待审 counts as not accepted), correct kept, recall of
                each unseen kind, on the measurement set: before any audit and after each round
  gain_per_100  F1 gain over the unaudited model per 100 audited rows
  held_back     the learn report's held-back audited rows, before and after

label_issues needs labels to doubt; the pool has none, so it reads the checks' verdict as the
label (错误 iff a check failed) and the model's p_correct on the pool as the out-of-sample
probability (the model never trained on the pool): the rows where the two disagree the most.

Run as:
  python -m jobs.demo && python benchmarks/audit_loop.py
  python benchmarks/audit_loop.py --strategies uncertain,random --rounds 100,100 --steps 80
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from audit_sets import UNSEEN_KINDS, audit_records
from common import parse_modes, record_result, start_local_ray

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DEMO = Path("out/demo")
RESULTS = Path(__file__).parent / "results" / "audit_loop.json"
STRATEGIES = ("uncertain", "disagree", "label_issues", "random")
SCORER = {"max_seq_len": 96, "batch_size": 256, "dtype": "auto"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEMO / "train_reward" / "model", help="the unaudited model")
    parser.add_argument("--train_config", default="configs/train_reward/addresses.yaml", help="learn's training")
    parser.add_argument("--strategies", default=",".join(STRATEGIES), help=f"comma-separated subset of {STRATEGIES}")
    parser.add_argument("--rounds", default="100,100", help="rows audited in each round")
    parser.add_argument("--pool", type=int, default=3000, help="rows a person may be asked about")
    parser.add_argument("--measure", type=int, default=2000, help="rows of the measurement set")
    parser.add_argument("--steps", type=int, default=80, help="optimiser steps of each learn round")
    parser.add_argument("--weight", type=int, default=5, help="audited_weight (oversampling)")
    parser.add_argument("--explore", type=float, default=0.2, help="pick.explore of uncertain and disagree")
    parser.add_argument("--eval_rows", type=int, default=0,
                        help="held-out generated records each round is measured and calibrated on (0: the demo's all)")
    parser.add_argument("--root", type=Path, default=None,
                        help="work directory; rounds an earlier run finished there are read back, not run again")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON results file")
    return parser.parse_args(argv)


def measure(model_dir: str, held: pd.DataFrame) -> dict:
    from rayscore.audit.learn import score_rows

    return label_figures(held, score_rows(model_dir, held["text"].tolist(), SCORER)["label"].to_numpy())


def checks_alone(held: pd.DataFrame) -> dict:
    """The measurement set labelled by the checks alone: 错误 iff any flag (the baseline to beat)."""
    from rayscore.addresses.checks import ADDRESS_CHECKS

    flagged = [bool(r.flags) for r in ADDRESS_CHECKS.run(held["text"].tolist())]
    return label_figures(held, np.where(flagged, "错误", "正确"))


def label_figures(held: pd.DataFrame, labels: np.ndarray) -> dict:
    from rayscore.audit.learn import label_metrics

    out = label_metrics(held["truth"].to_numpy(), labels)
    caught = labels != "正确"
    out["caught_by_kind"] = {k: round(float(caught[(held["kind"] == k).to_numpy()].mean()), 4)
                             for k in sorted(held["kind"].unique())}
    return out


def score_pool(pool_dir: Path, model_dir: str, out: Path) -> str:
    """score_batch on the pool (the scored run every strategy's first pick reads)."""
    from rayscore.config import load_config
    from rayscore.score.job import ScoreJobConfig, run

    config = {"input": str(pool_dir), "output": str(out), "id_column": "record_id", "gold_column": None,
              "rows_per_file": 1000, "num_actors": 2, "cpus_per_actor": 1,
              "scorer": {"kind": "quality", "model_dir": model_dir, **SCORER}}
    path = out.parent / f"{out.name}.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    assert run(load_config(ScoreJobConfig, ["--config", str(path)])).ok
    return str(out)


def pool_yield(scored_dir: str, picked: pd.DataFrame, pool: pd.DataFrame) -> dict:
    """Share of picked rows the model had wrong (待审 by its likelier answer), and the 待审 share."""
    from rayscore.audit.learn import scored_model

    threshold = json.loads(Path(scored_model(scored_dir), "calibration.json").read_text())["threshold"]
    rows = pd.concat([pd.read_parquet(p, columns=["record_id", "label", "p_correct"])
                      for p in sorted(Path(scored_dir).glob("part-*.parquet"))])
    rows = rows.set_index("record_id").loc[picked["record_id"]]
    likely = np.where(rows["p_correct"] >= threshold, "正确", "错误")
    said = np.where(rows["label"] == "待审", likely, rows["label"])
    known = pool.set_index("record_id").loc[picked["record_id"]]
    wrong = said != known["truth"].to_numpy()
    return {"audited": len(picked), "model_wrong": int(wrong.sum()),
            "yield": round(float(wrong.mean()), 4) if len(picked) else None,
            "review_share": round(float((rows["label"] == "待审").mean()), 4) if len(picked) else None,
            "kinds": known["kind"].value_counts().to_dict()}


def label_issues_table(scored_dir: str, path: Path) -> str:
    """The pool with the checks' verdict as its label and the model's p_correct as out-of-sample."""
    rows = pd.concat([pd.read_parquet(p, columns=["record_id", "text", "p_correct", "check_flags", "decided_by"])
                      for p in sorted(Path(scored_dir).glob("part-*.parquet"))])
    rows = rows[rows["decided_by"] == "model"]
    table = pd.DataFrame({"record_id": rows["record_id"], "text": rows["text"],
                          "label": ["错误" if len(f) else "正确" for f in rows["check_flags"]],
                          "p_correct_oof": rows["p_correct"]})
    table.to_parquet(path, index=False)
    return str(path)


def answer(tasks_csv: Path, truth: pd.Series, out: Path) -> str:
    """The simulated person: tasks.csv with every label filled in with the truth."""
    tasks = pd.read_csv(tasks_csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    tasks["label"] = truth.loc[tasks["id"]].to_numpy()
    tasks["who"] = "simulated person"
    tasks.to_csv(out, index=False, encoding="utf-8-sig")
    return str(out)


def run_strategy(strategy: str, args, root: Path, scored0: str, pool: pd.DataFrame, held: pd.DataFrame,
                 valid: str, base: dict) -> dict:
    from rayscore.audit.config import AuditJobConfig, LabelIssuesSpec, LearnSpec, PickSpec
    from rayscore.audit.job import run

    truth = pool.set_index("record_id")["truth"]
    audit_dir, scored, rounds, audited, wrong = root / strategy, scored0, [], 0, 0
    learn = LearnSpec(train_config=args.train_config, audited_weight=args.weight,
                      train_overrides=[f"train.max_steps={args.steps}", f"data.eval_path={valid}"])
    for i, budget in enumerate(int(b) for b in args.rounds.split(",")):
        started = time.time()
        batch = audit_dir / "batches" / f"batch-{i + 1:04d}"
        done = audit_dir / "rounds" / f"round-{i + 1:04d}" / "report.json"
        if done.exists():                                   # an earlier run finished this round: read it back
            report = json.loads(done.read_text(encoding="utf-8"))
            picked = pd.read_parquet(batch / "picked.parquet")
            got = pool_yield(report["scored_before"], picked, pool)
        else:
            label_issues = LabelIssuesSpec()
            if strategy == "label_issues":
                label_issues = LabelIssuesSpec(path=label_issues_table(scored, root / f"{strategy}-{i}.parquet"))
            pick = PickSpec(strategy=strategy, budget=budget, explore=args.explore, label_issues=label_issues)
            run(AuditJobConfig(step="pick", output_dir=str(audit_dir), scored=scored, pick=pick))
            picked = pd.read_parquet(batch / "picked.parquet")
            got = pool_yield(scored, picked, pool)
            labelled = answer(batch / "tasks.csv", truth, batch / "answered.csv")
            report = run(AuditJobConfig(step="learn", output_dir=str(audit_dir), scored=scored, labelled=labelled,
                                        learn=learn)).data
        audited, wrong = audited + got["audited"], wrong + got["model_wrong"]
        scored = report["scored_after"]
        after = measure(report["model_after"], held)
        rounds.append({"round": i + 1, "pick": got, "audited_total": audited,
                       "yield_total": round(wrong / audited, 4) if audited else None,
                       "measurement": after, "f1_gain": round(after["f1"] - base["f1"], 4),
                       "kept_change": round(after["correct_kept"] - base["correct_kept"], 4),
                       "gain_per_100": round(100 * (after["f1"] - base["f1"]) / audited, 4),
                       "held_back": report["held_back"], "training": report["training"],
                       "seconds": round(time.time() - started, 1)})
        print(f"{strategy:>12} round {i + 1}: audited {audited:4d}  yield {_f(got['yield'])} "
              f"(total {_f(rounds[-1]['yield_total'])})  F1 {after['f1']:.3f} ({rounds[-1]['f1_gain']:+.3f})  "
              f"kept {after['correct_kept']:.3f}  {rounds[-1]['seconds']:.0f}s", flush=True)
    return {"rounds": rounds}


def _f(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def main(argv=None) -> None:
    args = parse_args(argv)
    strategies = parse_modes(args.strategies, STRATEGIES)
    load_before = os.getloadavg()
    root = args.root.resolve() if args.root else Path(tempfile.mkdtemp(prefix="audit-loop-"))
    pool, held = audit_records("train", args.pool, seed=1), audit_records("measure", args.measure, seed=2)
    (root / "pool").mkdir(parents=True, exist_ok=True)
    pool[["record_id", "text"]].to_parquet(root / "pool" / "part-00000.parquet", index=False)
    valid = root / "valid.parquet"
    held_out = pd.read_parquet(DEMO / "data" / "valid")
    (held_out.sample(n=args.eval_rows, random_state=0) if args.eval_rows else held_out).to_parquet(valid, index=False)
    start_local_ray(root)
    scored0 = str(root / "scored0")
    if not (root / "scored0" / "summary.json").exists():
        score_pool(root / "pool", str(args.model.resolve()), root / "scored0")
    base = measure(str(args.model.resolve()), held)
    print(f"{'unaudited':>12}: F1 {base['f1']:.3f}  kept {base['correct_kept']:.3f}  caught {base['caught_by_kind']}")
    rules = checks_alone(held)
    print(f"{'checks alone':>12}: F1 {rules['f1']:.3f}  kept {rules['correct_kept']:.3f}  "
          f"caught {rules['caught_by_kind']}")
    results = {s: run_strategy(s, args, root, scored0, pool, held, str(valid), base) for s in strategies}
    best = max((s for s in strategies if s != "random"), key=lambda s: results[s]["rounds"][-1]["yield_total"] or 0,
               default=None)
    summary = {}
    if best and "random" in results:
        r_best, r_rand = results[best]["rounds"][-1], results["random"]["rounds"][-1]
        summary = {"best_strategy": best, "best_yield_total": r_best["yield_total"],
                   "random_yield_total": r_rand["yield_total"],
                   "yield_ratio": round(r_best["yield_total"] / r_rand["yield_total"], 2)
                   if r_rand["yield_total"] else None,
                   "best_f1_gain": r_best["f1_gain"], "best_kept_change": r_best["kept_change"]}
        print(f"best {best}: yield {summary['best_yield_total']} vs random {summary['random_yield_total']} "
              f"({summary['yield_ratio']}x); F1 {r_best['f1_gain']:+.3f}, kept {r_best['kept_change']:+.4f}")
    record_result(args.out, {
        "setup": {"model": str(args.model), "pool": args.pool, "measure": args.measure, "rounds": args.rounds,
                  "steps": args.steps, "weight": args.weight, "explore": args.explore, "eval_rows": args.eval_rows,
                  "pool_kinds": pool["kind"].value_counts().to_dict(), "unseen_kinds": list(UNSEEN_KINDS)},
        "unaudited": base, "checks_alone": rules, "strategies": results, "summary": summary}, load_before)


if __name__ == "__main__":
    main()
