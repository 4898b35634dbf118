"""The distill demo measured: teacher share, the student's agreement with the teacher, wall time.

Run as (from the project root; about N minutes on an idle 2-core machine, see benchmarks/README.md):
  python benchmarks/distill_demo.py
  python benchmarks/distill_demo.py sample_rows=250 train.train.epochs=8     # any distill key=value

Runs configs/distill/demo.yaml (a generated corpus, the loopback stand-in teacher, a MiniLM
student) on a 2-CPU local Ray, prints the figures and writes benchmarks/results/distill_demo.json.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from common import machine, start_local_ray, write_result

from rayscore.config import load_config
from rayscore.distill.job import DistillJobConfig, run
from rayscore.logs import setup_logging

OUT = Path("benchmarks/results/distill_demo.json")


def whole_corpus_agreement(scored_dir: Path, threshold: float) -> dict:
    """The student against the hidden rubric on every corpus row (90% of them never graded by the
    teacher): possible here only because the stand-in teacher's rubric is a local function."""
    import pandas as pd

    from rayscore.distill.teacher import grade
    from rayscore.eval.pointwise import pointwise_report

    scored = pd.concat([pd.read_parquet(p) for p in sorted(scored_dir.glob("part-*.parquet"))])
    report = pointwise_report(scored["text"].map(grade), scored["score"], threshold)
    return {"agreement": round(report["agreement"], 4), "f1": round(report["binary"]["f1"], 4), "n": report["n"]}


def main(argv: list[str]) -> int:
    setup_logging()
    logging.getLogger("rayscore").setLevel(logging.INFO)
    load_before = os.getloadavg()
    root = Path(tempfile.mkdtemp(prefix="distill-bench-"))
    cfg = load_config(DistillJobConfig, ["--config", "configs/distill/demo.yaml", f"output_dir={root / 'out'}",
                                         f"corpus={root / 'corpus'}", *argv])
    start_local_ray(root)
    started = time.time()
    summary = run(cfg).data
    wall = time.time() - started
    student = summary["student"]
    whole = whole_corpus_agreement(Path(summary["outputs"]["scored"]), cfg.threshold)
    figures = {
        "corpus_rows": summary["corpus_rows"],
        "teacher_calls": summary["teacher"]["calls"],
        "teacher_share": round(summary["teacher"]["calls"] / summary["corpus_rows"], 4),
        "heldout_rows": student["n"],
        "binary_agreement": round(student["agreement"], 4),
        "binary_f1": round(student["binary"]["f1"], 4),
        "spearman": round(student["spearman"], 4) if student["spearman"] is not None else None,
        "class_accuracy": round(student["classes"]["accuracy"], 4) if "classes" in student else None,
        "whole_corpus_agreement": whole["agreement"],
        "whole_corpus_f1": whole["f1"],
        "rows_kept": summary["rows_kept"],
        "kept_share": summary["kept_share"],
        "cost_ratio": summary["cost_ratio"],
        "wall_time_s": round(wall, 1),
        "stage_seconds": summary["stage_seconds"],
    }
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    write_result(OUT, {"command": "python benchmarks/distill_demo.py " + " ".join(argv), "ok": summary["ok"],
                       "figures": figures, "machine": machine(load_before), "date": time.strftime("%Y-%m-%d %H:%M")})
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
