"""What the checks cost at scoring time, and which precision the demo's model should ship with:
the trained quality model scored in one process with and without its check set (same weights:
a copy of the model dir without checks.json), in float32 and in bfloat16 autocast.

Run as:
  python -m jobs.demo                                 # first: trains out/demo/train_reward/model
  python benchmarks/quality_scoring.py                # ~3 min on 2 idle cores
  python benchmarks/quality_scoring.py --rows 500 --rounds 1 --model out/demo/train_reward/model

Each variant scores the same generated records (QualityScorer.score, the code score_batch and
Serve run) with 2 torch threads; variants alternate over `rounds` rounds and the best round
counts, so a burst of load on the shared machine hurts every variant alike. Reported: rows/s,
the with/without ratio at each precision, and bf16's label agreement and p_correct correlation
with float32 (the precision is recommended when labels agree on >= 99.5 % of rows).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from common import machine, write_result

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "quality_scoring.json"
AGREEMENT_NEEDED = 0.995


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=str(ROOT / "out/demo/train_reward/model"), help="trained quality model dir")
    p.add_argument("--rows", type=int, default=3000, help="generated records scored by every variant")
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds; the best counts")
    p.add_argument("--out", type=Path, default=RESULTS)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import numpy as np
    import torch

    from rayscore.addresses.records import generate_records
    from rayscore.checks import CHECKS_FILE
    from rayscore.logs import setup_logging
    from rayscore.score.scorers import ScorerSpec, build_scorer

    setup_logging("WARNING")   # the table, not the libraries' load reports and progress bars

    if not Path(args.model, CHECKS_FILE).exists():
        sys.exit(f"{args.model}: no model trained with checks here; run python -m jobs.demo first")
    load_before = os.getloadavg()
    torch.set_num_threads(2)
    work = Path(tempfile.mkdtemp(prefix="rayscore-quality-scoring-"))
    bare = work / "model_without_checks"
    shutil.copytree(args.model, bare)
    (bare / CHECKS_FILE).unlink()
    frame = generate_records(args.rows, seed=97)[["text", "label", "error_type"]]
    scorers = {(dtype, checks): build_scorer(ScorerSpec(kind="quality", model_dir=str(path), batch_size=256,
                                                        max_seq_len=96, dtype=dtype))
               for dtype in ("float32", "bfloat16") for checks, path in ((True, args.model), (False, bare))}
    best, outputs = {}, {}
    for _ in range(args.rounds):
        for key, scorer in scorers.items():
            started = time.perf_counter()
            outputs[key] = scorer.score(frame)
            best[key] = max(best.get(key, 0.0), args.rows / (time.perf_counter() - started))
    fp32, bf16 = outputs[("float32", True)], outputs[("bfloat16", True)]
    agreement = float((fp32.label == bf16.label).mean())
    result = {
        "benchmark": "quality_scoring", "model": args.model, "rows": args.rows, "rounds": args.rounds,
        "rows_per_s": {f"{d}{' + checks' if c else ''}": round(v, 1) for (d, c), v in best.items()},
        "checks_ratio": {d: round(best[(d, True)] / best[(d, False)], 3) for d in ("float32", "bfloat16")},
        "bf16_vs_fp32": {"speedup": round(best[("bfloat16", True)] / best[("float32", True)], 3),
                         "label_agreement": round(agreement, 5),
                         "p_correct_pearson": round(float(np.corrcoef(fp32.p_correct, bf16.p_correct)[0, 1]), 6),
                         "recommended": "bfloat16" if agreement >= AGREEMENT_NEEDED else "float32"},
        "label_accuracy": {d: round(float((outputs[(d, True)].label == frame.label).mean()), 4)
                           for d in ("float32", "bfloat16")},
        "machine": machine(load_before), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    shutil.rmtree(work, ignore_errors=True)
    print(f"\n{'variant':<24}{'rows/s':>10}")
    for name, value in result["rows_per_s"].items():
        print(f"{name:<24}{value:>10.1f}")
    print(f"with/without checks: {result['checks_ratio']}")
    print(f"bf16 vs fp32: {result['bf16_vs_fp32']}")
    write_result(args.out, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
