"""The address-quality demo: generate, train with checks, label, and report the model against the
rules-only baseline on generated records and on the hand-written real-style set.

    report = run_demo(cfgs)            # cfgs: {"generate_records": ..., "train_reward": ..., "score_batch": ...}
    print(format_report(report))       # the table the demo prints; report is demo_summary.json

The rules-only baseline labels a record 错误 when any check fails (summary.json's
rules_baseline): the learned model reads the same observations and must do at least as well,
and better on the kinds no rule names (garbage in a name, an address cut short, a junk name).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

from rayscore.addresses.generate import GenerateJobConfig
from rayscore.addresses.generate import run as generate
from rayscore.io import write_json
from rayscore.score.pipeline import ScoreJobConfig
from rayscore.score.pipeline import run as score
from rayscore.train.reward import RewardJobConfig
from rayscore.train.reward import run as train

logger = logging.getLogger(__name__)

NO_ERROR = "none"
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
    hand_cfg = replace(score_cfg, input=str(Path(gen.output_dir) / "handwritten"),
                       output=str(Path(score_cfg.output).with_name(Path(score_cfg.output).name + "_handwritten")))
    handwritten = score(hand_cfg)
    step_s["score_handwritten"] = time.time() - t
    report = build_report(trained.metrics, scored.data, handwritten.data)
    report.update(ok=trained.ok and scored.ok and handwritten.ok, wall_time_s=round(time.time() - started, 1),
                  step_s={k: round(v, 1) for k, v in step_s.items()},
                  paths={"data": gen.output_dir, "model": str(trained.model_dir), "scored": score_cfg.output,
                         "scored_handwritten": hand_cfg.output, "summary": scored.path})
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


def side_by_side(summary: dict) -> dict:
    """{model: ..., rules: ...}, each with F1/precision/recall for 错误, correct kept and recall per kind."""
    out = {}
    for name, key in (("model", "gold_metrics"), ("rules", "rules_baseline")):
        metrics = summary.get(key)
        if not metrics:
            continue
        groups = metrics["by_group"]
        out[name] = {**{k: metrics["overall"][k] for k in ("n", "accuracy", "precision", "recall", "f1")},
                     "correct_kept": groups.get(NO_ERROR, {}).get("accuracy"),
                     "recall_by_kind": {g: m["recall"] for g, m in groups.items() if g != NO_ERROR}}
    return out


def format_report(report: dict) -> str:
    """The console table: each figure with its target, model beside rules."""
    tr, gen, hand = report["training"], report["generated"], report["handwritten"]
    lines = [
        "", "rayscore demo: address quality with checks",
        f"  time {report['wall_time_s']:.0f} s  ({', '.join(f'{k} {v:.0f} s' for k, v in report['step_s'].items())})",
        f"  training: {tr['train_pairs']} pairs, {tr['steps']} steps, {tr['train_pairs_per_s']} pairs/s; "
        f"held-back pair accuracy {_f(tr['eval_accuracy'])} (target >= {TARGETS['pair_accuracy']})",
        f"  scoring: {report['scoring']['rows_scored']} records at {report['scoring']['rows_per_s']} rows/s, "
        f"precision {', '.join(report['scoring']['precision']['chunks_by_precision'])}, "
        f"threshold {_f(report['scoring']['threshold'])}",
        f"  calibration: ECE of p_correct {_f(report['calibration']['ece'])} on {report['calibration']['n']} "
        f"held-back records (target <= {TARGETS['ece']})",
        "",
        f"  {'':28}{'model':>8}{'rules':>8}   target",
    ]
    for title, side, f1_target, kept_target in (("generated records", gen, "f1", "correct_kept"),
                                                 ("hand-written real-style", hand, "handwritten_f1",
                                                  "handwritten_correct_kept")):
        model, rules = side.get("model", {}), side.get("rules", {})
        lines.append(f"  {title} (n={model.get('n')})")
        for label, key, target in (("F1 catching 错误", "f1", f">= {TARGETS[f1_target]}"),
                                   ("precision", "precision", ""), ("recall", "recall", ""),
                                   ("correct kept", "correct_kept", f">= {TARGETS[kept_target]}")):
            lines.append(f"    {label:26}{_f(model.get(key)):>8}{_f(rules.get(key)):>8}   {target}")
        if title == "generated records":
            lines.append("    recall by error kind")
            for kind, recall in sorted(model.get("recall_by_kind", {}).items()):
                rule = rules.get("recall_by_kind", {}).get(kind)
                lines.append(f"      {kind:24}{_f(recall):>8}{_f(rule):>8}   >= {TARGETS['kind_recall']}")
    lines += ["", f"  outputs: {report['paths']['scored']}, {report['paths']['scored_handwritten']}",
              f"  summary: {report['paths']['demo_summary']}", ""]
    return "\n".join(lines)


def _f(value) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)
