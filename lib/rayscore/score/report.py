"""What score_batch reports: each chunk's counts, the job's summary.json, its metrics and plots.

    record = {..., **ChunkCounts(cfg, scorer).of(scored)}       # in the worker, per chunk
    summary = summarize(records, chunks, cfg)                   # on the driver, over every chunk

A chunk's record holds sums (rows per reason, label, gold and prediction; histogram and
reliability bins) so that the summary is their total over the committed chunks, whatever the
run that committed each; no row is read again to report.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pyarrow as pa

from rayscore.data.pairs import CORRECT, REVIEW, WRONG
from rayscore.eval.calibration import calibration_bins, calibration_report, merge_bins
from rayscore.eval.metrics import classification_from_counts
from rayscore.eval.operating_points import risk_coverage
from rayscore.models import load_calibration
from rayscore.score.chunk import Chunk
from rayscore.score.config import ScoreJobConfig, input_name
from rayscore.score.contract import Scorer
from rayscore.score.scorers import ScorerSpec, calibrated_points, default_threshold
from rayscore.score.store import ChunkStore

RISK_BINS = 200
"""Bins of p_correct behind the risk-coverage curve (the operating points sit near 0 and 1)."""
UNREADABLE_LISTED = 20
"""Unreadable file spans named in summary.json (all are counted)."""
COUNTED_COLUMNS = ("label", "decided_by", "predicted_class", "preferred", "parse_ok")
"""Categorical output columns whose values are counted in summary.json (value_counts)."""


def value_counts(scores: pd.DataFrame) -> dict:
    return {c: {str(k): int(v) for k, v in Counter(scores[c].tolist()).items()}
            for c in COUNTED_COLUMNS if c in scores}


class ChunkCounts:
    """A scored chunk's gold, check and probability counts, for its record."""

    def __init__(self, cfg: ScoreJobConfig, scorer: Scorer):
        self.cfg, self.scorer = cfg, scorer

    def of(self, scored: pa.Table) -> dict:
        quality = self.cfg.scorer.kind == "quality"
        return {"gold": self.gold_counts(scored, scored["label"].to_pylist() if quality else None),
                **self.check_counts(scored), **self.probability_bins(scored), **self.model_counts(scored)}

    def gold_column(self, scored: pa.Table) -> str | None:
        column = self.cfg.gold_column and input_name(self.cfg.gold_column, self.scorer.output_columns)
        return column if column and column in scored.column_names else None

    def check_counts(self, scored: pa.Table) -> dict:
        """Rows per failed check, and the rules-only baseline's gold counts (错误 iff any check failed)."""
        if "check_flags" not in scored.column_names:
            return {}
        flags = scored["check_flags"].to_pylist()
        return {"flags": dict(Counter(f for row in flags for f in row)),
                "rows_flagged": sum(1 for row in flags if row),
                "rules_gold": self.gold_counts(scored, [WRONG if row else CORRECT for row in flags])}

    def model_counts(self, scored: pa.Table) -> dict:
        """Quality scorers: the model's own labels' gold counts (what it says with no check
        overruling it), and the fine reliability bins of the rows it decides, for the summary's
        model baseline and its risk-coverage curve."""
        if self.cfg.scorer.kind != "quality":
            return {}
        p = scored["p_correct"].to_numpy(zero_copy_only=False)
        out = {"model_gold": self.gold_counts(scored, self.scorer.model_label(p).tolist())}
        gold_col = self.gold_column(scored)
        if gold_col:
            gold = np.array(scored[gold_col].to_pylist(), dtype=object)
            by_model = np.array(scored["decided_by"].to_pylist(), dtype=object) == "model"
            rows = by_model & np.isin(gold, (CORRECT, WRONG))
            out["model_bins"] = calibration_bins(p[rows], gold[rows] == CORRECT, n_bins=RISK_BINS)
        return out

    def probability_bins(self, scored: pa.Table) -> dict:
        """p_correct's histogram (20 bins) and, with gold labels, its reliability bins: sums that
        merge across chunks into the job's calibration report."""
        if "p_correct" not in scored.column_names:
            return {}
        p = scored["p_correct"].to_numpy(zero_copy_only=False)
        out = {"p_histogram": np.histogram(p[np.isfinite(p)], bins=20, range=(0.0, 1.0))[0].tolist()}
        gold_col = self.gold_column(scored)
        if gold_col:
            gold = np.array(scored[gold_col].to_pylist(), dtype=object)
            known = np.isin(gold, (CORRECT, WRONG))
            out["reliability"] = calibration_bins(p[known], gold[known] == CORRECT)
        return out

    def gold_counts(self, scored: pa.Table, pred: list | None) -> dict:
        """{group: {"gold|pred": n}}: enough to aggregate accuracy/P/R/F1 over all chunks."""
        gold_col = self.gold_column(scored)
        group_col = self.cfg.group_column and input_name(self.cfg.group_column, self.scorer.output_columns)
        if not gold_col or pred is None:
            return {}
        gold = scored[gold_col].to_pylist()
        groups = scored[group_col].to_pylist() if group_col and group_col in scored.column_names else [None] * len(gold)
        counts: dict = {}
        for g, t, p in zip(groups, gold, pred):
            cell = counts.setdefault(str(g) if g is not None else "all", {})
            cell[f"{t}|{p}"] = cell.get(f"{t}|{p}", 0) + 1
        return counts


def outcomes_summary(spec: ScorerSpec, summary: dict) -> dict:
    """How the quality labels were decided: the operating points (and what they were fitted on)
    or the one threshold, the rows each of check and model decided, and on gold rows the coverage
    and precision of the automatic outcomes."""
    points = calibrated_points(spec)
    out = {"rule": "a certain check failed: 错误; else 正确 at p_correct >= accept_at, 错误 below reject_below, "
                   "待审 between" if points else "a certain check failed: 错误; else 正确 at p_correct >= threshold",
           "decided_by": summary["value_counts"].get("decided_by", {})}
    if points:
        out["operating_points"] = points
    if "gold_metrics" in summary:
        out["automatic"] = summary["gold_metrics"]["overall"]["automatic"]
    return out


def write_plots(store: ChunkStore, summary: dict) -> dict:
    """p_correct_histogram.png and, with gold labels, reliability.png in the output directory."""
    import tempfile

    from rayscore.eval.plots import plot_reliability, plot_risk_coverage, plot_score_histogram

    written = {}
    with tempfile.TemporaryDirectory() as tmp:
        if "p_correct_histogram" in summary:
            counts = np.asarray(summary["p_correct_histogram"]["counts"])
            edges = np.linspace(0.0, 1.0, len(counts) + 1)
            # Bin centres repeated by count redraw the merged histogram exactly at its resolution.
            values = np.repeat((edges[:-1] + edges[1:]) / 2, counts)
            written["p_correct_histogram.png"] = plot_score_histogram(
                values, f"{tmp}/h.png", title="p_correct", threshold=summary.get("threshold"), bins=edges)
        if "calibration" in summary:
            written["reliability.png"] = plot_reliability(summary["calibration"]["reliability_bins"], f"{tmp}/r.png",
                                                          title="p_correct reliability")
        if "risk_coverage" in summary:
            point = summary["model_baseline"]["overall"]["automatic"]
            written["risk_coverage.png"] = plot_risk_coverage(summary["risk_coverage"], f"{tmp}/c.png", point,
                                                              title="model decisions: risk vs coverage")
        paths = {name: store.write_file(name, path.read_bytes()) for name, path in written.items()}
    return {"plots": paths} if paths else {}


def summarize(records: list[dict], chunks: list[Chunk], cfg: ScoreJobConfig) -> dict:
    """Totals over every committed chunk of this fingerprint; the row accounting must balance."""
    total = Counter()
    reasons, values, gold, rules_gold, model_gold, flags = Counter(), {}, {}, {}, {}, Counter()
    histogram, reliability, model_bins, precisions = np.zeros(20, dtype=np.int64), [], [], Counter()
    unreadable = []
    for r in records:
        precisions[r.get("precision", "unrecorded")] += 1
        total.update(rows_in=r["rows_in"], rows_scored=r["rows_scored"], rows_quarantined=r["rows_quarantined"],
                     rows_error=r.get("rows_error", 0), retries=r.get("retries", 0),
                     part_bytes=r.get("part_bytes", 0), rows_flagged=r.get("rows_flagged", 0),
                     truncated_rows=r.get("truncated_rows", 0))
        unreadable += r.get("unreadable", [])
        reasons.update(r["reasons"])
        flags.update(r.get("flags", {}))
        for column, counts in r["value_counts"].items():
            values.setdefault(column, Counter()).update(counts)
        for target, counts in ((gold, r["gold"]), (rules_gold, r.get("rules_gold", {})),
                               (model_gold, r.get("model_gold", {}))):
            for group, cells in counts.items():
                target.setdefault(group, Counter()).update(cells)
        if "p_histogram" in r:
            histogram += np.asarray(r["p_histogram"], dtype=np.int64)
        if r.get("reliability"):
            reliability.append(r["reliability"])
        if r.get("model_bins"):
            model_bins.append(r["model_bins"])
    expected_rows = sum(c.rows for c in chunks)
    problems = []
    if len(records) != len(chunks):
        problems.append(f"{len(chunks) - len(records)} of {len(chunks)} chunks not committed")
    elif total["rows_in"] != expected_rows:
        problems.append(f"rows_in {total['rows_in']} != {expected_rows} rows in the input's footers")
    if total["rows_in"] != total["rows_scored"] + total["rows_quarantined"] + total["rows_error"]:
        problems.append("rows_in != rows_scored + rows_quarantined + rows_error")
    share = total["rows_quarantined"] / total["rows_in"] if total["rows_in"] else 0.0
    if share > cfg.max_quarantine_share:
        problems.append(f"quarantined share {share:.4f} > max_quarantine_share {cfg.max_quarantine_share}")
    summary = {
        "ok": not problems, "problems": problems,
        "rows_in": total["rows_in"], "rows_expected": expected_rows,
        "rows_scored": total["rows_scored"], "rows_quarantined": total["rows_quarantined"],
        "quarantine_reasons": dict(reasons), "quarantined_share": round(share, 6),
        "rows_error": total["rows_error"], "retries": total["retries"],
        "label_counts": dict(values.get("label", {})),
        "value_counts": {c: dict(v) for c, v in values.items()},
        "precision": {"configured": cfg.scorer.dtype, "chunks_by_precision": dict(precisions)},
        "truncated_rows": total["truncated_rows"],
        "unreadable": {"spans": len(unreadable), "rows": sum(u["rows"] for u in unreadable),
                       "examples": unreadable[:UNREADABLE_LISTED]},
        "chunks": len(chunks), "files": len(records), "output_mb": round(total["part_bytes"] / 2**20, 3),
        "mean_file_mb": round(total["part_bytes"] / 2**20 / len(records), 3) if records else None,
    }
    if cfg.scorer.kind in ("quality", "classifier"):
        summary["threshold"] = (cfg.scorer.threshold if cfg.scorer.threshold is not None
                                else default_threshold(load_calibration(cfg.scorer.model_dir)))
    if cfg.scorer.kind == "quality":
        summary["p_correct_histogram"] = {"bins": 20, "counts": histogram.tolist()}
    if cfg.scorer.has_checks():
        summary["check_flags"] = {"rows_flagged": total["rows_flagged"], "rows_per_flag": dict(flags.most_common())}
    if gold:
        summary["gold_metrics"] = gold_metrics(gold)
    if rules_gold:
        summary["rules_baseline"] = gold_metrics(rules_gold)
    if model_gold:
        summary["model_baseline"] = gold_metrics(model_gold)
    merged = merge_bins(*reliability) if reliability else None
    if merged and sum(merged["count"]):
        summary["calibration"] = calibration_report(merged) | {"reliability_bins": merged}
    merged = merge_bins(*model_bins) if model_bins else None
    if merged and sum(merged["count"]):
        summary["risk_coverage"] = risk_coverage(merged)
    return summary


def gold_metrics(counts: dict[str, Counter], positive: str = WRONG) -> dict:
    """Accuracy, and precision/recall/F1 for catching wrong records (positive = 错误), overall and
    per group, from the chunks' merged {group: {"gold|pred": rows}} counts; each is
    rayscore.eval.metrics.classification_from_counts, rounded to 4 decimals.

    A 待审 label is not accepted: it counts as 错误 here (a wrong record sent to a person is
    caught, a correct one is not kept). `automatic` says how much was decided without a person
    (coverage) and the precision of each automatic outcome."""
    def metrics(cells: Counter) -> dict:
        # The prediction is a label of ours (正确 / 错误 / 待审), so the last "|" is the separator.
        confusion = Counter()
        for cell, n in cells.items():
            gold, pred = cell.rsplit("|", 1)
            confusion[gold, WRONG if pred == REVIEW else pred] += n
        scores = classification_from_counts(confusion, positive) | {"automatic": automatic(cells)}
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()}

    overall = Counter()
    for cells in counts.values():
        overall.update(cells)
    return {"positive_label": positive, "overall": metrics(overall),
            "by_group": {g: metrics(c) for g, c in sorted(counts.items())}}


def automatic(cells: Counter) -> dict:
    """Coverage (share of rows labelled 正确 or 错误, not 待审) and the precision of each automatic
    outcome, from {"gold|pred": rows} counts."""
    by_pred: dict[str, Counter] = {}
    for cell, n in cells.items():
        gold, pred = cell.rsplit("|", 1)
        by_pred.setdefault(pred, Counter())[gold] += n
    total = sum(cells.values())
    decided = sum(sum(by_pred.get(p, {}).values()) for p in (CORRECT, WRONG))
    wrongly = sum(n for o in (CORRECT, WRONG) for g, n in by_pred.get(o, {}).items() if g != o)
    out = {"coverage": round(decided / total, 4) if total else None,
           "risk": round(wrongly / decided, 4) if decided else None,
           "review": sum(by_pred.get(REVIEW, {}).values())}
    for outcome in (CORRECT, WRONG):
        rows = sum(by_pred.get(outcome, {}).values())
        out[f"precision_{outcome}"] = round(by_pred[outcome][outcome] / rows, 4) if rows else None
    return out
