"""The distill demos measured: teacher share, the student's agreement with the teacher, wall time.

Run as (from the project root; about ten minutes each on an idle 2-core machine, see benchmarks/README.md):
  python benchmarks/distill_demo.py
  python benchmarks/distill_demo.py sample_rows=250 train.train.epochs=8     # any distill key=value
  python benchmarks/distill_demo.py --pairwise                               # the pairwise loop

Runs configs/distill/demo.yaml (a generated corpus, the loopback stand-in teacher, a MiniLM
student) or configs/distill/demo_pairwise.yaml on a 2-CPU local Ray, prints the figures and writes
benchmarks/results/distill_demo.json (distill_pairwise_demo.json). Because the stand-in teacher's
rubric is a local function, the student is also checked against it on the whole corpus, 90% of
which the teacher never saw.
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
from rayscore.distill.config import DistillJobConfig
from rayscore.distill.job import run
from rayscore.distill.outputs import read_parts
from rayscore.logs import setup_logging

RESULTS = Path("benchmarks/results")


def whole_corpus_agreement(scored_dir: Path, threshold: float) -> dict:
    """The student against the hidden rubric on every corpus row (90% of them never graded by the
    teacher): possible here only because the stand-in teacher's rubric is a local function."""
    from rayscore.distill.teacher import grade
    from rayscore.eval.pointwise import pointwise_report

    scored = read_parts(scored_dir)
    report = pointwise_report(scored["text"].map(grade), scored["score"], threshold)
    return {"agreement": round(report["agreement"], 4), "f1": round(report["binary"]["f1"], 4), "n": report["n"]}


def whole_corpus_preferences(scored_dir: Path, kept_dir: Path) -> dict:
    """The pairwise student against the hidden rubric on every pair whose two grades differ, and
    the kept pairs: the share whose chosen response has the higher grade, and the share of equal
    grades (no right answer) among them."""
    import numpy as np

    from rayscore.distill.teacher import grade

    scored = read_parts(scored_dir)
    diff = scored["response_1"].map(grade) - scored["response_2"].map(grade)
    decided = diff != 0
    agree = np.sign(scored.loc[decided, "margin"]) == np.sign(diff[decided])
    kept = read_parts(kept_dir)
    kept_diff = kept["chosen"].map(grade) - kept["rejected"].map(grade)
    sure = np.maximum(scored["p_chosen"], 1 - scored["p_chosen"]).to_numpy()
    right = (np.sign(scored["margin"]) == np.sign(diff)).to_numpy() & decided.to_numpy()
    sweep = {f"{t:g}": {"kept": int((sure >= t).sum()),
                        "chosen_has_higher_grade": round(float(right[sure >= t].mean()), 4),
                        "equal_grades": round(float((diff[sure >= t] == 0).mean()), 4),
                        "pairs_with_a_winner_kept": round(float((sure[decided] >= t).mean()), 4)}
             for t in (0.7, 0.8, 0.9, 0.95, 0.98, 0.99)}
    return {"agreement": round(float(agree.mean()), 4), "n": int(decided.sum()),
            "kept_correct": round(float((kept_diff > 0).mean()), 4),
            "kept_equal_grades": round(float((kept_diff == 0).mean()), 4), "kept": len(kept), "sweep": sweep}


def main(argv: list[str]) -> int:
    setup_logging()
    logging.getLogger("rayscore").setLevel(logging.INFO)
    pairs = "--pairwise" in argv
    argv = [a for a in argv if a != "--pairwise"]
    load_before = os.getloadavg()
    root = Path(tempfile.mkdtemp(prefix="distill-bench-"))
    config = "configs/distill/demo_pairwise.yaml" if pairs else "configs/distill/demo.yaml"
    cfg = load_config(DistillJobConfig, ["--config", config, f"output_dir={root / 'out'}",
                                         f"corpus={root / 'corpus'}", *argv])
    start_local_ray(root)
    started = time.time()
    summary = run(cfg).data
    wall = time.time() - started
    figures = pairwise_figures(summary) if pairs else pointwise_figures(summary, cfg)
    figures.update(cost_ratio=summary["cost_ratio"], wall_time_s=round(wall, 1), stage_seconds=summary["stage_seconds"])
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    out = RESULTS / ("distill_pairwise_demo.json" if pairs else "distill_demo.json")
    write_result(out, {"command": " ".join(["python benchmarks/distill_demo.py", *(["--pairwise"] if pairs else []),
                                            *argv]), "ok": summary["ok"],
                       "figures": figures, "machine": machine(load_before), "date": time.strftime("%Y-%m-%d %H:%M")})
    return 0 if summary["ok"] else 1


def pairwise_figures(summary: dict) -> dict:
    student, teacher = summary["student"], summary["teacher"]
    whole = whole_corpus_preferences(Path(summary["outputs"]["scored"]), Path(summary["outputs"]["kept"]))
    calibration = student.get("calibration") or {}
    return {
        "corpus_pairs": summary["corpus_rows"],
        "teacher_calls": teacher["calls"],
        "teacher_calls_per_corpus_pair": round(teacher["calls"] / summary["corpus_rows"], 4),
        "pairs_labelled": teacher["rows_labelled"],
        "set_aside": teacher["set_aside_by_reason"],
        "train_pairs": student["train_rows"],
        "heldout_pairs": student["n"],
        "heldout_agreement": round(student["agreement"], 4),
        "heldout_sure_share": round(student["sure_share"], 4),
        "heldout_agreement_when_sure": round(student["agreement_when_sure"], 4),
        "heldout_ece": calibration.get("ece"),
        "heldout_ties": student["heldout_ties"],
        "heldout_ties_kept_share": student["ties_kept_share"],
        "whole_corpus_agreement": whole["agreement"],
        "whole_corpus_pairs_with_a_winner": whole["n"],
        "pairs_kept": summary["rows_kept"],
        "kept_share": summary["kept_share"],
        "kept_chosen_has_higher_grade": whole["kept_correct"],
        "kept_equal_grades": whole["kept_equal_grades"],
        "min_preference_sweep": whole["sweep"],
    }


def pointwise_figures(summary: dict, cfg: DistillJobConfig) -> dict:
    student = summary["student"]
    whole = whole_corpus_agreement(Path(summary["outputs"]["scored"]), cfg.threshold)
    return {
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
    }


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
