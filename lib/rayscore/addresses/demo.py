"""The address-quality demo: generate, train with checks, label, and report the label as shipped
beside the model alone and the checks alone, on generated records, on the hand-written
real-style set and on real addresses never trained on.

    report = run_demo(cfgs)            # cfgs: {"generate_records": ..., "train_reward": ..., "score_batch": ...}
    print(format_report(report))       # the table the demo prints; report is demo_summary.json

The checks alone label a record 错误 when any check fails (summary.json's rules_baseline); the
label as shipped is 错误 when a certain check fails and otherwise the model's (正确, 错误 or
待审 by its operating points), and must do at least as well as the checks everywhere.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import replace
from pathlib import Path

from rayscore.addresses.generate import GenerateJobConfig, run as generate
from rayscore.addresses.real_measure import real_report, write_measurement
from rayscore.distill.outputs import read_parts
from rayscore.io import write_json
from rayscore.score.job import ScoreJobConfig, run as score
from rayscore.score.scorers import calibrated_points
from rayscore.train.reward import RewardJobConfig, run as train

logger = logging.getLogger(__name__)

NO_ERROR = "none"
# Real addresses of each corpus's measurement part scored by the demo (the benchmark scores all).
REAL_PER_CORPUS = 1000
# What the demo aims for on 2 CPU cores in under 10 minutes (docs/demo.md, "What it reaches").
TARGETS = {
    "pair_accuracy": 0.97, "f1": 0.95, "kind_recall": 0.90, "correct_kept": 0.97, "ece": 0.03,
    "handwritten_f1": 0.90, "handwritten_correct_kept": 0.95,
}


def run_demo(cfgs: dict) -> dict:
    """Run the three jobs (and the hand-written set through score_batch); returns the report."""
    started = time.time()
    gen: GenerateJobConfig = cfgs["generate_records"]
    trainer_cfg: RewardJobConfig = cfgs["train_reward"]
    score_cfg: ScoreJobConfig = cfgs["score_batch"]
    step_s = {}
    hand_cfg = replace(score_cfg, input=str(Path(gen.output_dir) / "handwritten"),
                       output=str(Path(score_cfg.output).with_name(Path(score_cfg.output).name + "_handwritten")))
    real_output = str(Path(score_cfg.output).with_name(Path(score_cfg.output).name + "_real"))
    for old in (score_cfg.output, hand_cfg.output, real_output):   # scores of the model this run replaces
        if Path(old).exists():
            logger.info("demo: removing %s (scored by the model this run trains again)", old)
            shutil.rmtree(old)
    t = time.time()
    generate(replace(gen, handwritten=True))
    step_s["generate"] = time.time() - t
    t = time.time()
    trained = train(trainer_cfg)
    step_s["train"] = time.time() - t
    t = time.time()
    scored = score(score_cfg)
    step_s["score"] = time.time() - t
    t = time.time()
    handwritten = score(hand_cfg)
    step_s["score_handwritten"] = time.time() - t
    t = time.time()
    real_cfg = replace(score_cfg, input=write_measurement(Path(gen.output_dir) / "real_measure", REAL_PER_CORPUS),
                       output=real_output)
    real = score(real_cfg)
    step_s["score_real"] = time.time() - t
    report = build_report(trained.metrics, scored.data, handwritten.data)
    report["real"] = real_report(read_parts(Path(real_cfg.output)), calibrated_points(real_cfg.scorer),
                                 real.data.get("threshold") or 0.5)
    report.update(ok=trained.ok and scored.ok and handwritten.ok, wall_time_s=round(time.time() - started, 1),
                  step_s={k: round(v, 1) for k, v in step_s.items()},
                  paths={"data": gen.output_dir, "model": str(trained.model_dir), "scored": score_cfg.output,
                         "scored_handwritten": hand_cfg.output, "scored_real": real_cfg.output,
                         "summary": scored.path})
    path = Path(score_cfg.output).parent / "demo_summary.json"
    write_json(path, report)
    report["paths"]["demo_summary"] = str(path)
    return report


def build_report(train_metrics: dict, scored: dict, handwritten: dict) -> dict:
    """Model vs rules-only baseline on both sets, with the figures the targets name."""
    return {
        "training": {k: train_metrics.get(k) for k in (
            "eval_accuracy", "eval_accuracy_swapped", "eval_accuracy_by_subset", "train_pairs", "eval_pairs",
            "steps", "train_pairs_per_s", "calibration")},
        "generated": side_by_side(scored),
        "handwritten": side_by_side(handwritten),
        "scoring": {"rows_scored": scored.get("rows_scored"), "rows_per_s": scored.get("rows_per_s"),
                    "precision": scored.get("precision"), "threshold": scored.get("threshold"),
                    "check_flags": scored.get("check_flags")},
        "calibration": {k: scored.get("calibration", {}).get(k) for k in ("ece", "n")},
    }


# The three ways of labelling a record, as summary.json reports them: the label as shipped (a
# certain check first, then the model's operating points), the model alone, the checks alone.
SIDES = (("decision", "gold_metrics"), ("model", "model_baseline"), ("rules", "rules_baseline"))


def side_by_side(summary: dict) -> dict:
    """{decision, model, rules}: each with F1/precision/recall for catching 错误 (a 待审 counts as
    caught, and as not kept), correct kept, recall per kind, and the automatic outcomes' coverage
    and precision."""
    out = {}
    for name, key in SIDES:
        metrics = summary.get(key)
        if not metrics:
            continue
        groups = metrics["by_group"]
        out[name] = {**{k: metrics["overall"][k] for k in ("n", "accuracy", "precision", "recall", "f1")},
                     "correct_kept": groups.get(NO_ERROR, {}).get("accuracy"),
                     "automatic": metrics["overall"].get("automatic"),
                     "recall_by_kind": {g: m["recall"] for g, m in groups.items() if g != NO_ERROR}}
    return out


def format_report(report: dict) -> str:
    """The console table: each figure with its target; the label as shipped beside the model alone
    and the checks alone."""
    tr, gen, hand = report["training"], report["generated"], report["handwritten"]
    points = (tr.get("calibration") or {}).get("operating_points") or {}
    lines = [
        "", "rayscore demo: address quality with checks",
        f"  time {report['wall_time_s']:.0f} s  ({', '.join(f'{k} {v:.0f} s' for k, v in report['step_s'].items())})",
        f"  training: {tr['train_pairs']} pairs, {tr['steps']} steps, {tr['train_pairs_per_s']} pairs/s; "
        f"held-back pair accuracy {_f(tr['eval_accuracy'])} (target >= {TARGETS['pair_accuracy']})",
        f"  scoring: {report['scoring']['rows_scored']} records at {report['scoring']['rows_per_s']} rows/s, "
        f"precision {', '.join(report['scoring']['precision']['chunks_by_precision'])}",
        f"  outcomes: 正确 at p >= {_f(points.get('accept_at'))}, 错误 below {_f(points.get('reject_below'))}, "
        f"待审 between (precision >= {_f(points.get('target_precision'))} at confidence "
        f"{_f(1 - points['delta']) if points else '-'}, fitted on {points.get('fitted_on', '-')}); "
        "a certain check failed: 错误",
        f"  calibration: ECE of p_correct {_f(report['calibration']['ece'])} on {report['calibration']['n']} "
        f"held-back records (target <= {TARGETS['ece']})",
        "",
        f"  {'':28}{'label':>8}{'model':>8}{'checks':>8}   target   (待审: caught if wrong, not kept if correct)",
    ]
    for title, side, f1_target, kept_target in (("generated records", gen, "f1", "correct_kept"),
                                                 ("hand-written real-style", hand, "handwritten_f1",
                                                  "handwritten_correct_kept")):
        cols = [side.get(name, {}) for name, _ in SIDES]
        lines.append(f"  {title} (n={cols[0].get('n')})")
        for label, key, target in (("F1 catching 错误", "f1", f">= {TARGETS[f1_target]}"),
                                   ("precision", "precision", ""), ("recall", "recall", ""),
                                   ("correct kept", "correct_kept", f">= {TARGETS[kept_target]}")):
            lines.append(f"    {label:26}" + "".join(f"{_f(c.get(key)):>8}" for c in cols) + f"   {target}")
        auto = [c.get("automatic") or {} for c in cols[:2]]
        lines.append(f"    {'decided automatically':26}" + "".join(f"{_f(a.get('coverage')):>8}" for a in auto))
        for outcome in ("正确", "错误"):
            lines.append(f"    {'precision of auto ' + outcome:24}"
                         + "".join(f"{_f(a.get('precision_' + outcome)):>8}" for a in auto))
        if title == "generated records":
            lines.append("    recall by error kind")
            for kind in sorted(cols[0].get("recall_by_kind", {})):
                lines.append(f"      {kind:24}" + "".join(f"{_f(c.get('recall_by_kind', {}).get(kind)):>8}"
                                                          for c in cols) + f"   >= {TARGETS['kind_recall']}")
    lines += real_lines(report.get("real"))
    lines += ["", f"  outputs: {report['paths']['scored']}, {report['paths']['scored_handwritten']}",
              f"  summary: {report['paths']['demo_summary']}", ""]
    return "\n".join(lines)


def real_lines(real: dict | None) -> list[str]:
    """Real addresses (unlabelled, never trained on): the share each labeller does not accept."""
    if not real:
        return []
    lines = ["", f"  real addresses, never trained on (unlabelled; share called 错误 / 待审)"
                 f"{'':2}{'label':>14}{'model':>14}{'checks':>8}"]
    for corpus, row in real.items():
        lines.append(f"    {corpus} (n={row['n']})".ljust(62)
                     + f"{_f(row['decision']['错误'])} / {_f(row['decision']['待审'])}".rjust(14)
                     + f"{_f(row['model']['错误'])} / {_f(row['model']['待审'])}".rjust(14)
                     + f"{_f(row['checks']['错误']):>8}")
    return lines


def _f(value) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)
