"""The evaluate job: gold against predictions -> metrics.json + PNG plots.

Run as:
  python -m jobs.evaluate --config configs/evaluate/judge_vs_human.yaml
  python -m jobs.evaluate --config configs/evaluate/regression.yaml predictions=out/sft/predictions.jsonl

Inputs are parquet, JSONL, JSON arrays or CSV: one table holding gold and predictions, or two
(`gold` and `predictions`) joined on `id_column` with an outer join, so an id found on one side
only stays in as a row with a missing prediction (or gold) and the join report counts them.
`label_map` rewrites values first (e.g. "Tie" -> 0, "garbage" -> 0, "正确" -> 1); several
`annotator_columns` give the gold label by majority vote (`tie_break`), and their agreement as
Cohen's kappa per pair and Fleiss' kappa. Optionally predictions are judge text, read with the
judge's own parsers (`prediction_parser`).

Metric families (`metrics`), each computed over all rows and per `group_by` value:
  regression      MAE, MSE, RMSE, mean error; error histogram PNG
  classification  accuracy, macro and per-class precision / recall / F1, Cohen's kappa with
                  gold; confusion matrix PNG
  pairwise        verdicts 1 / 2 / 0 (tie) against gold (JudgeLM / PandaLM definitions) in
                  the (A, B) order, the swapped order (`swap_column`), both orders right, and
                  consistency under the swap; confusion matrix PNG
  correlation     Pearson, Spearman, Kendall of prediction and gold with bootstrap CIs; scatter PNG
  distribution    mean, std, share below `threshold`, share of each score; histogram PNG
  text            BLEU-4, ROUGE-1/2/L of prediction (generated text) against gold (reference)
  length_control  requested length parsed from `instruction_column` vs actual characters; PNG
A missing prediction (null, NaN, blank) or one that cannot be read as the family needs is
counted (`missing_prediction`, `unparseable_prediction`) and left out, never scored as 0.
The configuration is EvaluateJobConfig (eval/config.py); the rows are read by eval/inputs.py.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pandas as pd

from rayscore.config import save_config
from rayscore.eval import metrics, plots
from rayscore.eval.annotators import cohen_kappa, fleiss_kappa, majority_vote
from rayscore.eval.config import KINDS, EvaluateJobConfig
from rayscore.eval.correlation import correlation
from rayscore.eval.inputs import load_rows, map_labels, plain_value, read_values, text_or_empty
from rayscore.eval.length_control import length_control, length_rows
from rayscore.eval.pairwise_agreement import pairwise
from rayscore.eval.text import text_scores
from rayscore.io import JobSummary, absolute, join, local_output, write_json

__all__ = ["run"]

logger = logging.getLogger(__name__)


def run(cfg: EvaluateJobConfig) -> JobSummary:
    """Compute every configured metric family; write metrics.json, plots and config.yaml."""
    cfg = replace(cfg, predictions=absolute(cfg.predictions), gold=absolute(cfg.gold),
                  output_dir=absolute(cfg.output_dir))
    with local_output(cfg.output_dir) as out:  # a URI's files are staged here, uploaded at the end
        report = _run(cfg, out)
    return JobSummary(join(cfg.output_dir, "metrics.json"), report)


def _run(cfg: EvaluateJobConfig, out: Path) -> dict:
    save_config(cfg, out / "config.yaml")
    frame, account = load_rows(cfg)
    frame = map_labels(frame, cfg)
    report: dict = {"inputs": {"predictions": cfg.predictions, "gold": cfg.gold, "rows": len(frame), "join": account},
                    "label_map": cfg.label_map}
    gold = frame[cfg.gold_column].tolist() if cfg.gold_column else None
    if cfg.annotator_columns:
        gold, report["annotators"] = vote(frame, cfg)

    report["metrics"] = evaluate_rows(frame, gold, cfg)
    if cfg.group_by:
        groups = frame[cfg.group_by].map(lambda g: "null" if _missing(g) else str(g))
        report["by_group"] = {"column": cfg.group_by, "groups": {
            name: {"rows": int(len(idx)), **evaluate_rows(frame.loc[idx], _take(gold, idx), cfg)}
            for name, idx in groups.groupby(groups, sort=True).groups.items()}}
    if cfg.plots:
        report["plots"] = write_plots(report["metrics"], frame, gold, cfg, out)

    problems = [f"{family}: no row could be evaluated (see its inputs account)"
                for family, result in report["metrics"].items() if not evaluated_rows(family, result)]
    report = {"ok": not problems, "problems": problems, **report}
    write_json(out / "metrics.json", report)
    logger.info("evaluated %d rows (%s): %s", len(frame), ", ".join(cfg.metrics), headline(report["metrics"]))
    return report


# --- annotators ------------------------------------------------------------------------------

def vote(frame: pd.DataFrame, cfg: EvaluateJobConfig) -> tuple[list, dict]:
    """Gold by majority vote across annotator columns, and how far the annotators agree."""
    ratings = frame[cfg.annotator_columns].to_numpy(dtype=object).tolist()
    ratings = [[plain_value(v) for v in row] for row in ratings]
    gold = majority_vote(ratings, tie_break=cfg.tie_break, tie_label=cfg.tie_label)
    undecided = majority_vote(ratings, tie_break="drop")
    labelled = [i for i, row in enumerate(ratings) if any(v is not None for v in row)]
    complete = [row for row in ratings if all(v is not None for v in row)]
    report = {"columns": cfg.annotator_columns, "tie_break": cfg.tie_break,
              "items": len(ratings), "items_without_label": len(ratings) - len(labelled),
              "vote_ties": sum(1 for i in labelled if undecided[i] is None),
              "fleiss_kappa": None, "fleiss_items": len(complete), "cohen_kappa": {}}
    if complete:
        report["fleiss_kappa"] = fleiss_kappa(complete)
    for i, a in enumerate(cfg.annotator_columns):
        for j in range(i + 1, len(cfg.annotator_columns)):
            b = cfg.annotator_columns[j]
            report["cohen_kappa"][f"{a} vs {b}"] = _kappa([r[i] for r in ratings], [r[j] for r in ratings])
    return gold, report


def _kappa(a: list, b: list) -> float | None:
    try:
        return cohen_kappa(a, b)
    except ValueError:  # no item labelled by both
        return None


# --- metrics ---------------------------------------------------------------------------------

def evaluate_rows(frame: pd.DataFrame, gold: list | None, cfg: EvaluateJobConfig) -> dict:
    """Every configured family over these rows: {family: result with an "inputs" account}."""
    results = {}
    for family in cfg.metrics:
        kind, needs_gold = KINDS[family]
        pred, account = read_values(frame[cfg.prediction_column].tolist(), kind, cfg, parse=True)
        inputs = {"rows": len(frame), **_named(account, "prediction")}
        truth = swap = None
        if needs_gold:
            truth, account = read_values(gold, kind, cfg, parse=False)
            inputs.update(_named(account, "gold"))
        if family == "pairwise" and cfg.swap_column:
            swap, account = read_values(frame[cfg.swap_column].tolist(), "verdict", cfg, parse=True)
            inputs.update(_named(account, "swap"))
        results[family] = {"inputs": inputs, **compute(family, pred, truth, swap, frame, cfg)}
    return results


def _named(account: dict, side: str) -> dict:
    return {f"missing_{side}": account["missing"], f"unparseable_{side}": account["unparseable"],
            f"unparseable_{side}_examples": account["examples"]}


def compute(family: str, pred: list, gold: list | None, swap: list | None, frame: pd.DataFrame,
            cfg: EvaluateJobConfig) -> dict:
    if family == "regression":
        return metrics.regression(gold, pred)
    if family == "classification":
        return _classification(gold, pred, cfg)
    if family == "pairwise":
        return pairwise(gold, pred, swap, missing_pred=cfg.missing_pred)
    if family == "correlation":
        return correlation(pred, gold, bootstrap=cfg.bootstrap, seed=cfg.seed, confidence=cfg.confidence)
    if family == "distribution":
        return metrics.distribution(pred, threshold=cfg.threshold)
    if family == "text":
        both = [(p, g) for p, g in zip(pred, gold) if p is not None and g is not None]
        return text_scores([p for p, _ in both], [g for _, g in both], tokenizer=cfg.text_tokenizer)
    if family == "length_control":
        rows = [(i, p) for i, p in zip(frame[cfg.instruction_column].tolist(), pred) if p is not None]
        return length_control([text_or_empty(i) for i, _ in rows], [p for _, p in rows])
    raise ValueError(f"metrics: unknown family {family!r}")


def _classification(gold: list, pred: list, cfg: EvaluateJobConfig) -> dict:
    seen = {type(v) is str for v in [*gold, *pred] if v is not None}
    if len(seen) > 1:  # text and number labels side by side: compare them all as text
        gold, pred = ([None if v is None else str(v) for v in values] for values in (gold, pred))
    result = metrics.classification(gold, pred, labels=cfg.labels)
    pairs = [(g, p) for g, p in zip(gold, pred) if g is not None and p is not None]
    result["cohen_kappa"] = _kappa([g for g, _ in pairs], [p for _, p in pairs]) if pairs else None
    return result


# --- plots and report ------------------------------------------------------------------------

def write_plots(results: dict, frame: pd.DataFrame, gold: list | None, cfg: EvaluateJobConfig, out: Path) -> dict:
    """One PNG per family that has a picture; {name: file name}."""
    written = {}
    pred = frame[cfg.prediction_column].tolist()
    if "regression" in results and results["regression"]["n"]:
        p, _ = read_values(pred, "number", cfg, parse=True)
        g, _ = read_values(gold, "number", cfg, parse=False)
        errors = [b - a for a, b in zip(g, p) if a is not None and b is not None]
        written["error_histogram"] = plots.plot_error_histogram(errors, out / "error_histogram.png").name
    if "classification" in results and results["classification"]["n"]:
        r = results["classification"]
        written["confusion_matrix"] = plots.plot_confusion_matrix(
            r["confusion_matrix"], r["labels"], out / "confusion_matrix.png").name
    if "pairwise" in results and results["pairwise"]["ab"]["n"]:
        r = results["pairwise"]["ab"]
        written["pairwise_confusion"] = plots.plot_confusion_matrix(
            r["confusion_matrix"], ["tie", "1", "2"], out / "pairwise_confusion.png",
            title="pairwise verdicts, (A, B) order").name
    if "correlation" in results and results["correlation"]["n"]:
        p, _ = read_values(pred, "number", cfg, parse=True)
        g, _ = read_values(gold, "number", cfg, parse=False)
        written["correlation"] = plots.plot_scatter(p, g, out / "correlation.png").name
    if "distribution" in results and results["distribution"]["n"]:
        p, _ = read_values(pred, "number", cfg, parse=True)
        written["score_histogram"] = plots.plot_score_histogram(
            [v for v in p if v is not None], out / "score_histogram.png", threshold=cfg.threshold).name
    if "length_control" in results and results["length_control"]["n_with_target"]:
        p, _ = read_values(pred, "text", cfg, parse=True)
        answered = [(i, a) for i, a in zip(frame[cfg.instruction_column], p) if a is not None]
        rows = length_rows([text_or_empty(i) for i, _ in answered], [a for _, a in answered])
        written["length_control"] = plots.plot_length_control(
            [r["requested"] for r in rows], [r["actual"] for r in rows], out / "length_control.png").name
    return written


def evaluated_rows(family: str, result: dict) -> int:
    """Rows a family's numbers rest on."""
    if family == "pairwise":
        return result["ab"]["n"]
    if family == "length_control":
        return result["n_with_target"]
    return result.get("n") or 0


def headline(results: dict) -> str:
    """The numbers one reads first, for the log."""
    picks = {"regression": ("mae", "rmse"), "classification": ("accuracy", "f1_macro"),
             "correlation": (), "distribution": ("mean", "std"), "text": ("bleu4", "rougeL"),
             "length_control": ("mean_abs_error",)}
    parts = []
    for family, result in results.items():
        if family == "pairwise":
            parts.append(f"pairwise accuracy {_fmt(result['ab'].get('accuracy'))}"
                         + (f", consistency {_fmt(result['swap'].get('consistency'))}" if "swap" in result else ""))
        elif family == "correlation":
            parts.append(f"spearman {_fmt((result.get('spearman') or {}).get('r'))}")
        else:
            parts.append(", ".join(f"{k} {_fmt(result.get(k))}" for k in picks[family]))
    return "; ".join(parts)


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


# --- helpers ---------------------------------------------------------------------------------

def _missing(value) -> bool:
    return plain_value(value) is None


def _take(values: list | None, index) -> list | None:
    if values is None:
        return None
    return [values[i] for i in index]
