"""A finished run at a glance: `rayscore show DIR` prints it, report.html beside it shows it.

    lines = run_lines("out/demo/scored")      # rows in / out / quarantined (why), metrics, plots, fingerprint
    write_report("out/demo/scored")           # out/demo/scored/report.html: the same numbers and the PNGs
    render_html(facts_of(summary, plots), "s3://bucket/run")   # the page for a store that is not local

A run directory is any job's output: summary.json (score_batch, judge, evaluate, distill, augment,
audit), metrics.json (train_*), report.json (an audit learn round). The page references the PNGs
beside it by name, so it works wherever the directory is copied; it carries no script and no
outside resource.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

RUN_FILES = ("summary.json", "metrics.json", "report.json", "demo_summary.json")
REPORT = "report.html"
ROW_KEYS = ("rows_in", "rows_written", "input_pairs", "rows_scored", "rows_judged", "train_pairs", "eval_pairs",
            "rows_quarantined", "quarantined_pairs", "rows_error")
METRIC_KEYS = ("eval_accuracy", "train_loss", "accuracy", "f1", "precision", "recall", "correct_kept", "ece",
               "coverage", "threshold", "rows_per_s", "train_pairs_per_s", "wall_time_s")


def run_file(directory: str | Path) -> Path:
    for name in RUN_FILES:
        path = Path(directory, name)
        if path.exists():
            return path
    raise FileNotFoundError(f"{directory}: none of {', '.join(RUN_FILES)}; not a finished rayscore run")


def facts(directory: str | Path) -> dict:
    """What the run's summary says, with the PNGs beside it."""
    path = run_file(directory)
    return facts_of(json.loads(path.read_text(encoding="utf-8")), sorted(p.name for p in Path(directory).glob("*.png")),
                    path.name)


def facts_of(data: dict, plots: list[str], file: str = "summary.json") -> dict:
    """What a summary says, in the order a person reads it: rows, quarantine, metrics, plots."""
    rows = {k: data[k] for k in ROW_KEYS if isinstance(data.get(k), int)}
    reasons = data.get("quarantine_reasons") or {}
    metrics = {k: data[k] for k in METRIC_KEYS
               if isinstance(data.get(k), (int, float)) and not isinstance(data[k], bool)}
    gold = (data.get("gold_metrics") or {}).get("overall") or {}
    metrics |= {f"gold {k}": gold[k] for k in ("accuracy", "precision", "recall", "f1") if k in gold}
    automatic = gold.get("automatic") or {}
    if automatic.get("coverage") is not None:
        metrics["automatic coverage"] = automatic["coverage"]
    held = data.get("held_back") or {}
    if held.get("rows"):
        metrics |= {"held-back F1 before": held["before"]["f1"], "held-back F1 after": held["after"]["f1"]}
    return {"file": file, "ok": data.get("ok"), "kind": data.get("kind") or data.get("step"),
            "rows": rows, "quarantine_reasons": reasons, "metrics": metrics,
            "labels": data.get("label_counts") or {}, "fingerprint": data.get("fingerprint"),
            "problems": data.get("problems") or [], "plots": plots}


def run_lines(directory: str | Path) -> list[str]:
    """A few lines for the console."""
    f = facts(directory)
    status = {True: "ok", False: "NOT ok", None: ""}[f["ok"]]
    lines = [f"{directory}: {f['kind'] or 'run'} {status}".rstrip() + f"  ({f['file']})"]
    if f["rows"]:
        lines.append("rows: " + ", ".join(f"{k} {v:,}" for k, v in f["rows"].items()))
    if f["quarantine_reasons"]:
        lines.append("quarantined because: " + ", ".join(f"{k} {v:,}" for k, v in f["quarantine_reasons"].items()))
    if f["labels"]:
        lines.append("labels: " + ", ".join(f"{k} {v:,}" for k, v in f["labels"].items()))
    if f["metrics"]:
        lines.append("metrics: " + ", ".join(f"{k} {_num(v)}" for k, v in f["metrics"].items()))
    lines += [f"problem: {p}" for p in f["problems"]]
    if f["plots"]:
        lines.append("plots: " + ", ".join(str(Path(directory, p)) for p in f["plots"]))
    if f["fingerprint"]:
        lines.append(f"fingerprint: {f['fingerprint']}")
    return lines


def render_html(f: dict, where: str) -> str:
    """The page of facts `f` (facts / facts_of) about the run at `where`."""
    esc = html.escape

    def table(title: str, items: dict) -> str:
        if not items:
            return ""
        body = "".join(f"<tr><th>{esc(str(k))}</th><td>{esc(_num(v))}</td></tr>" for k, v in items.items())
        return f"<h2>{esc(title)}</h2><table>{body}</table>"

    status = {True: "ok", False: "not ok", None: ""}[f["ok"]]
    parts = [f"<h1>{esc(f['kind'] or 'run')} <span class='status'>{esc(status)}</span></h1>",
             f"<p>{esc(where)}</p>",
             table("Rows", f["rows"]), table("Quarantined, by reason", f["quarantine_reasons"]),
             table("Labels", f["labels"]), table("Metrics", f["metrics"])]
    if f["problems"]:
        parts.append("<h2>Problems</h2><ul>" + "".join(f"<li>{esc(p)}</li>" for p in f["problems"]) + "</ul>")
    parts += [f"<figure><img src='{esc(p)}' alt='{esc(p)}'><figcaption>{esc(p)}</figcaption></figure>"
              for p in f["plots"]]
    if f["fingerprint"]:
        parts.append(f"<p>fingerprint <code>{esc(f['fingerprint'])}</code></p>")
    style = ("body{font-family:sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse;margin-bottom:1em}"
             "th,td{border:1px solid #ccc;padding:.2em .6em;text-align:left}img{max-width:100%}")
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>rayscore: {esc(where)}"
            f"</title><style>{style}</style></head><body>{''.join(parts)}</body></html>")


def write_report(directory: str | Path, where: str | None = None) -> Path:
    """report.html in a run's directory; `where` is the run's own location when the directory
    only stages it (a job whose output_dir is a URI)."""
    path = Path(directory, REPORT)
    path.write_text(render_html(facts(directory), where or str(Path(directory).resolve())), encoding="utf-8")
    return path


def _num(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
