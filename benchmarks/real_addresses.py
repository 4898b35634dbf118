"""The address-quality model on data nobody here generated: the label as shipped (a certain check,
then the model's operating points), the model alone and the checks alone, side by side on

  real        the measurement part of the shipped real addresses (never trained on, unlabelled):
              the share called 错误 and 待审 per corpus, with the reasons, and a sample of the
              rows not accepted to read by hand;
  demo        generated and hand-written records (the demo's own summary: F1, correct kept,
              recall per kind, coverage and precision of the automatic outcomes);
  leave_out   models trained without a fold of error kinds, scored on fresh records of the
              held-out kinds: recall per held-out kind and correct kept.

A 待审 counts as not accepted: a correct record is kept only when it comes out 正确, a wrong one
is caught when it comes out 错误 or 待审.

Run as:
  python -m jobs.demo && python benchmarks/real_addresses.py            # the demo's model
  python benchmarks/real_addresses.py --modes leave_out --folds 3 --steps 120
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from common import parse_modes, record_result, start_local_ray

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DEMO = Path("out/demo")
CONFIG = "configs/train_reward/addresses.yaml"
RESULTS = Path(__file__).parent / "results" / "real_addresses.json"
MODES = ("real", "demo", "leave_out")
FLAGGED_SAMPLE = 100


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEMO / "train_reward" / "model", help="quality model dir")
    parser.add_argument("--demo_summary", type=Path, default=DEMO / "demo_summary.json", help="the demo's report")
    parser.add_argument("--modes", default="real,demo", help=f"comma-separated subset of {MODES}")
    parser.add_argument("--per_corpus", type=int, default=None, help="real: addresses per corpus (default: all)")
    parser.add_argument("--folds", type=int, default=3, help="leave_out: folds of error kinds")
    parser.add_argument("--steps", type=int, default=120, help="leave_out: optimiser steps per fold model")
    parser.add_argument("--train_rows", type=int, default=2400, help="leave_out: training records per fold model")
    parser.add_argument("--eval_per_kind", type=int, default=150, help="leave_out: fresh records per kind")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON results file")
    return parser.parse_args(argv)


def scorer_for(model_dir: Path):
    from rayscore.score.scorers import ScorerSpec, build_scorer

    return build_scorer(ScorerSpec(kind="quality", model_dir=str(model_dir), max_seq_len=96, batch_size=256,
                                   dtype="auto"))


def score(scorer, texts: list[str]):
    """The scorer's columns, and the model's own label beside the shipped one."""
    import pandas as pd

    out = scorer.score(pd.DataFrame({"text": texts}))
    out["model_label"] = scorer.model_label(out["p_correct"].to_numpy())
    return out


def real_run(model_dir: Path, per_corpus: int | None) -> dict:
    from rayscore.addresses.real_measure import measurement_records, real_report

    scorer = scorer_for(model_dir)
    records = measurement_records(per_corpus)
    started = time.time()
    scored = score(scorer, records.text.tolist())
    scored["corpus"], scored["address"] = records.corpus.to_numpy(), records.address.to_numpy()
    report = real_report(scored, scorer.operating_points, scorer.spec.threshold)
    flagged = scored[scored.label != "正确"].sample(frac=1.0, random_state=0).head(FLAGGED_SAMPLE)
    return {"by_corpus": report, "rows": len(records), "rows_per_s": round(len(records) / (time.time() - started), 1),
            "precision": scorer.precision,
            "flagged_sample": [{"corpus": r.corpus, "address": r.address, "label": r.label, "decided_by": r.decided_by,
                                "p_correct": round(float(r.p_correct), 4), "flags": list(r.check_flags)}
                               for r in flagged.itertuples()]}


def demo_figures(path: Path) -> dict:
    report = json.loads(path.read_text(encoding="utf-8"))
    return {k: report[k] for k in ("generated", "handwritten", "training", "real") if k in report}


def leave_out_run(held_out: list[str], root: Path, args) -> dict:
    import pandas as pd

    from rayscore.addresses.records import NO_ERROR, generate_records
    from rayscore.config import load_config
    from rayscore.train.reward import RewardJobConfig, run

    weights = {k: 0.0 for k in held_out}
    data = root / ("without-" + "+".join(held_out))
    data.mkdir(parents=True)
    generate_records(args.train_rows, seed=31, kind_weights=weights).to_parquet(data / "train.parquet", index=False)
    generate_records(args.train_rows // 3, seed=37, kind_weights=weights).to_parquet(data / "valid.parquet",
                                                                                      index=False)
    cfg = load_config(RewardJobConfig, [
        "--config", CONFIG, f"output_dir={data / 'train'}", f"data.train_path={data / 'train.parquet'}",
        f"data.eval_path={data / 'valid.parquet'}", f"train.max_steps={args.steps}", f"train.save_steps={args.steps}"])
    result = run(cfg)
    fresh = generate_records(args.eval_per_kind * 40, seed=41, error_rate=0.5)
    fresh = pd.concat([g.head(args.eval_per_kind) for k, g in fresh.groupby("error_type")
                       if k in (*held_out, NO_ERROR)])
    scored = score(scorer_for(result.model_dir), fresh.text.tolist())
    kinds = fresh.error_type.to_numpy()
    sides = {"label": scored.label.to_numpy() != "正确", "model": scored.model_label.to_numpy() != "正确",
             "checks": scored.check_flags.map(len).to_numpy() > 0}
    return {"held_out": held_out, "steps": result.metrics.get("steps"), "test_rows": len(fresh),
            "recall_held_out": {side: {k: round(float(caught[kinds == k].mean()), 3) for k in held_out}
                                for side, caught in sides.items()},
            "correct_kept": {side: round(1 - float(caught[kinds == NO_ERROR].mean()), 3)
                             for side, caught in sides.items()}}


def print_tables(result: dict) -> None:
    real = result.get("real")
    if real:
        print(f"\nreal addresses, never trained on ({real['rows']} rows, {real['rows_per_s']} rows/s): "
              "share called 错误 / 待审")
        print(f"{'corpus':<12}{'label':>16}{'model':>16}{'checks':>10}{'by check':>10}")
        for corpus, r in real["by_corpus"].items():
            print(f"{corpus:<12}{r['decision']['错误']:>9.3f} / {r['decision']['待审']:.3f}"
                  f"{r['model']['错误']:>9.3f} / {r['model']['待审']:.3f}{r['checks']['错误']:>10.3f}"
                  f"{r['decided_by_check']:>10.3f}")
            print(f"{'':12}reasons: {r['reasons']}; not accepted with no check failed: {r['flagged_without_a_check']}")
    for name in ("generated", "handwritten"):
        side = result.get("demo", {}).get(name)
        if side:
            print(f"\n{name}: {'':14}{'label':>8}{'model':>8}{'checks':>8}")
            for key in ("f1", "precision", "recall", "correct_kept"):
                print(f"  {key:<24}" + "".join(f"{side.get(s, {}).get(key) or 0:>8.3f}"
                                                for s in ("decision", "model", "rules")))
            auto = side.get("decision", {}).get("automatic") or {}
            print(f"  automatic: coverage {auto.get('coverage')}, precision 正确 {auto.get('precision_正确')}, "
                  f"错误 {auto.get('precision_错误')}")
    for r in result.get("leave_out", []):
        print(f"\ntrained without {', '.join(r['held_out'])}: correct kept {r['correct_kept']}")
        for kind in r["held_out"]:
            print(f"  {kind:<24}" + "  ".join(f"{side} {r['recall_held_out'][side][kind]:.3f}"
                                             for side in ("label", "model", "checks")))


def main(argv=None) -> int:
    args = parse_args(argv)
    import ray

    from rayscore.addresses.corruptions import ERROR_TYPES
    from rayscore.logs import setup_logging

    setup_logging("WARNING")
    modes = parse_modes(args.modes, MODES)
    load_before = os.getloadavg()
    result = {"benchmark": "real_addresses", "model": str(args.model), "modes": modes}
    if "real" in modes:
        result["real"] = real_run(args.model, args.per_corpus)
    if "demo" in modes:
        result["demo"] = demo_figures(args.demo_summary)
    if "leave_out" in modes:
        root = Path(tempfile.mkdtemp(prefix="rayscore-real-"))
        start_local_ray(root)
        try:
            result["folds"] = [list(ERROR_TYPES[i::args.folds]) for i in range(args.folds)]
            result["leave_out"] = [leave_out_run(fold, root, args) for fold in result["folds"]]
        finally:
            ray.shutdown()
    print_tables(result)
    record_result(args.out, result, load_before)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
