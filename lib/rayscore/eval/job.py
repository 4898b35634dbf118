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
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from rayscore.config import save_config
from rayscore.eval import metrics, plots
from rayscore.eval.judge_text import parse_pairwise, parse_score
from rayscore.eval.metrics import MissingVerdict, TieBreak
from rayscore.eval.text import Tokenizer, text_scores
from rayscore.io import JobSummary, absolute, is_missing, join, local_output, read_table, write_json

__all__ = ["EvaluateJobConfig", "run", "FAMILIES"]

logger = logging.getLogger(__name__)

Family = Literal["regression", "classification", "pairwise", "correlation", "distribution", "text",
                 "length_control"]
FAMILIES = ("regression", "classification", "pairwise", "correlation", "distribution", "text", "length_control")
PredictionParser = Literal["none", "score", "verdict"]
Kind = Literal["number", "label", "verdict", "text"]

# How each family reads its prediction and gold values, and whether it needs gold.
_KINDS: dict[str, tuple[Kind, bool]] = {
    "regression": ("number", True), "classification": ("label", True), "pairwise": ("verdict", True),
    "correlation": ("number", True), "distribution": ("number", False), "text": ("text", True),
    "length_control": ("text", False),
}
_EXAMPLES = 5


@dataclass
class EvaluateJobConfig:
    """evaluate: gold and predictions in, metrics.json + PNG plots + config.yaml out."""

    predictions: str = ""
    """Table with the predictions (and the gold values when `gold` is null)."""
    gold: str | None = None
    """A second table with the gold values, joined to `predictions` on id_column; null = one table."""
    id_column: str | None = "id"
    """Join key of the two tables (needed with `gold`); must be unique in each."""
    output_dir: str = ""
    """Where metrics.json, the PNG plots and config.yaml go."""
    metrics: list[Family] = field(default_factory=lambda: ["classification"])
    """Metric families to compute (see the module docstring)."""
    prediction_column: str = "prediction"
    """Predicted score, label, verdict on the (A, B) order, or generated text."""
    swap_column: str | None = None
    """Pairwise: the verdict on the swapped order (B, A) as the judge wrote it; null = one order."""
    prediction_parser: PredictionParser = "none"
    """Read predictions (and swap_column) as judge text first: score (parse_score), verdict (parse_pairwise)."""
    score_range: list[float] | None = None
    """prediction_parser=score: [low, high] a score must lie in; others are unparseable."""
    gold_column: str | None = "gold"
    """Gold value (score, label, verdict or reference text); null when annotator_columns are given."""
    annotator_columns: list[str] = field(default_factory=list)
    """Several annotators' labels: gold by majority vote, plus Cohen's and Fleiss' kappa."""
    tie_break: TieBreak = "first"
    """Majority-vote tie: first (the earliest annotator's label), tie_label, or drop (no gold)."""
    tie_label: int | str = 0
    """The gold label of a vote tie with tie_break=tie_label (0 = tie for pairwise verdicts)."""
    label_map: dict[str, int | float | str] = field(default_factory=dict)
    """Values rewritten before anything else, keyed by their text: {"Tie": 0, "garbage": 0, "正确": 1}."""
    labels: list[int | float | str] | None = None
    """Classification label order (confusion matrix rows and columns); null = the labels seen, sorted."""
    group_by: str | None = None
    """Column whose values get their own breakdown (task category, say); null = overall only."""
    missing_pred: MissingVerdict = "drop"
    """Pairwise: an unreadable verdict is dropped and counted, or read as a tie as JudgeLM's script does."""
    bootstrap: int = 1000
    """Correlation: bootstrap resamples for the confidence intervals (0 = none)."""
    confidence: float = 0.95
    """Correlation: confidence level of the intervals."""
    seed: int = 0
    """Correlation: bootstrap seed."""
    threshold: float | None = None
    """Distribution: report the share of scores below this (e.g. 6 on a 10-point scale)."""
    text_tokenizer: Tokenizer = "char"
    """Text: CJK split into characters (char) or jieba words (jieba)."""
    instruction_column: str = "instruction"
    """Length control: the instruction asking for a length (e.g. 写一篇300字...)."""
    plots: bool = True
    """Write the PNG plots."""

    def check(self) -> list[str]:
        problems = []
        if not self.predictions:
            problems.append("predictions: required (a parquet, JSONL, JSON or CSV table)")
        if not self.output_dir:
            problems.append("output_dir: required (a directory)")
        if not self.metrics:
            problems.append(f"metrics: name at least one of {', '.join(FAMILIES)}")
        if self.gold is not None and not self.id_column:
            problems.append("id_column: required to join the gold table to the predictions")
        needs_gold = any(_KINDS[f][1] for f in self.metrics if f in _KINDS)
        if self.gold_column and self.annotator_columns:
            problems.append("annotator_columns: set gold_column to null when the gold label is a majority vote")
        if needs_gold and not self.gold_column and not self.annotator_columns:
            problems.append("gold_column: required by the chosen metrics (or give annotator_columns)")
        if len(self.annotator_columns) == 1:
            problems.append("annotator_columns: give at least two annotators (or use gold_column)")
        if self.swap_column and "pairwise" not in self.metrics:
            problems.append("swap_column: only used by the pairwise metrics; add pairwise or remove it")
        if self.score_range is not None and (len(self.score_range) != 2 or self.score_range[0] > self.score_range[1]):
            problems.append(f"score_range: must be [low, high] with low <= high, got {self.score_range}")
        if self.bootstrap < 0:
            problems.append(f"bootstrap: must be >= 0, got {self.bootstrap}")
        if not 0 < self.confidence < 1:
            problems.append(f"confidence: must be in (0, 1), got {self.confidence}")
        return problems

    def gold_columns(self) -> list[str]:
        return [self.gold_column] if self.gold_column else list(self.annotator_columns)


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


# --- reading ---------------------------------------------------------------------------------

def load_rows(cfg: EvaluateJobConfig) -> tuple[pd.DataFrame, dict]:
    """One row per item: the predictions table, or gold and predictions outer-joined on the id."""
    preds = read_table(cfg.predictions)
    if cfg.gold is None:
        _require_columns(preds, [c for c in needed_columns(cfg) if c != cfg.id_column], cfg.predictions)
        return preds.reset_index(drop=True), {"tables": 1, "rows": len(preds)}
    gold = read_table(cfg.gold)
    for table, path in ((gold, cfg.gold), (preds, cfg.predictions)):
        _require_columns(table, [cfg.id_column], path)
        _require_unique_ids(table, cfg.id_column, path)
    # A configured column comes from the gold table when it is there, else from the predictions.
    wanted = [c for c in needed_columns(cfg) if c != cfg.id_column]
    from_gold = [c for c in wanted if c in gold.columns and c not in (cfg.prediction_column, cfg.swap_column)]
    from_preds = [c for c in wanted if c not in from_gold]
    _require_columns(preds, from_preds, f"{cfg.predictions} (or {cfg.gold})")
    left = gold[[cfg.id_column, *from_gold]].assign(**{cfg.id_column: gold[cfg.id_column].map(_id_text)})
    right = preds[[cfg.id_column, *from_preds]].assign(**{cfg.id_column: preds[cfg.id_column].map(_id_text)})
    merged = left.merge(right, on=cfg.id_column, how="outer", indicator=True, sort=False)
    side = merged.pop("_merge")
    report = {"tables": 2, "gold_rows": len(gold), "prediction_rows": len(preds),
              "matched": int((side == "both").sum()), "gold_only": int((side == "left_only").sum()),
              "predictions_only": int((side == "right_only").sum()),
              "gold_only_ids": merged.loc[side == "left_only", cfg.id_column].head(20).tolist(),
              "predictions_only_ids": merged.loc[side == "right_only", cfg.id_column].head(20).tolist()}
    if report["gold_only"] or report["predictions_only"]:
        logger.warning("join on %s: %d matched, %d gold ids without a prediction, %d predictions without gold",
                       cfg.id_column, report["matched"], report["gold_only"], report["predictions_only"])
    return merged.reset_index(drop=True), report


def needed_columns(cfg: EvaluateJobConfig) -> list[str]:
    """Every column the configured families read, once each."""
    columns = [cfg.prediction_column]
    if any(_KINDS[f][1] for f in cfg.metrics):
        columns += cfg.gold_columns()
    if cfg.swap_column:
        columns.append(cfg.swap_column)
    if "length_control" in cfg.metrics:
        columns.append(cfg.instruction_column)
    if cfg.group_by:
        columns.append(cfg.group_by)
    if cfg.id_column:
        columns.append(cfg.id_column)
    return list(dict.fromkeys(columns))


def _require_columns(table: pd.DataFrame, columns: list[str], where: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{where}: no column {', '.join(map(repr, missing))} "
                         f"(columns: {', '.join(map(str, table.columns))}); set the *_column keys")


def _require_unique_ids(table: pd.DataFrame, id_column: str, path: str) -> None:
    ids = table[id_column].map(_id_text)
    duplicated = ids[ids.duplicated(keep=False)]
    if not duplicated.empty:
        raise ValueError(f"{path}: {duplicated.nunique()} ids appear more than once in {id_column!r} "
                         f"(e.g. {', '.join(duplicated.unique()[:5])}); a join needs unique ids")


def _id_text(value) -> str | None:
    """Ids compare as text, so 7 in one file matches "7" (or 7.0) in the other."""
    value = _plain(value)
    return None if value is None else str(value)


# --- labels ----------------------------------------------------------------------------------

def map_labels(frame: pd.DataFrame, cfg: EvaluateJobConfig) -> pd.DataFrame:
    """Apply label_map to gold, annotator, prediction and swap columns; other values stay."""
    columns = [c for c in [*cfg.gold_columns(), cfg.prediction_column, cfg.swap_column] if c and c in frame]
    frame = frame.copy()
    for column in columns:
        frame[column] = pd.Series([_map_value(_plain(v), cfg.label_map) for v in frame[column]],
                                  index=frame.index, dtype=object)
    return frame


def _map_value(value, label_map: dict):
    if value is None or not label_map:
        return value
    return label_map.get(str(value), value)


def vote(frame: pd.DataFrame, cfg: EvaluateJobConfig) -> tuple[list, dict]:
    """Gold by majority vote across annotator columns, and how far the annotators agree."""
    ratings = frame[cfg.annotator_columns].to_numpy(dtype=object).tolist()
    ratings = [[_plain(v) for v in row] for row in ratings]
    gold = metrics.majority_vote(ratings, tie_break=cfg.tie_break, tie_label=cfg.tie_label)
    undecided = metrics.majority_vote(ratings, tie_break="drop")
    labelled = [i for i, row in enumerate(ratings) if any(v is not None for v in row)]
    complete = [row for row in ratings if all(v is not None for v in row)]
    report = {"columns": cfg.annotator_columns, "tie_break": cfg.tie_break,
              "items": len(ratings), "items_without_label": len(ratings) - len(labelled),
              "vote_ties": sum(1 for i in labelled if undecided[i] is None),
              "fleiss_kappa": None, "fleiss_items": len(complete), "cohen_kappa": {}}
    if complete:
        report["fleiss_kappa"] = metrics.fleiss_kappa(complete)
    for i, a in enumerate(cfg.annotator_columns):
        for j in range(i + 1, len(cfg.annotator_columns)):
            b = cfg.annotator_columns[j]
            report["cohen_kappa"][f"{a} vs {b}"] = _kappa([r[i] for r in ratings], [r[j] for r in ratings])
    return gold, report


def _kappa(a: list, b: list) -> float | None:
    try:
        return metrics.cohen_kappa(a, b)
    except ValueError:  # no item labelled by both
        return None


# --- metrics ---------------------------------------------------------------------------------

def evaluate_rows(frame: pd.DataFrame, gold: list | None, cfg: EvaluateJobConfig) -> dict:
    """Every configured family over these rows: {family: result with an "inputs" account}."""
    results = {}
    for family in cfg.metrics:
        kind, needs_gold = _KINDS[family]
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
        return metrics.pairwise(gold, pred, swap, missing_pred=cfg.missing_pred)
    if family == "correlation":
        return metrics.correlation(pred, gold, bootstrap=cfg.bootstrap, seed=cfg.seed, confidence=cfg.confidence)
    if family == "distribution":
        return metrics.distribution(pred, threshold=cfg.threshold)
    if family == "text":
        both = [(p, g) for p, g in zip(pred, gold) if p is not None and g is not None]
        return text_scores([p for p, _ in both], [g for _, g in both], tokenizer=cfg.text_tokenizer)
    if family == "length_control":
        rows = [(i, p) for i, p in zip(frame[cfg.instruction_column].tolist(), pred) if p is not None]
        return metrics.length_control([_text_or_empty(i) for i, _ in rows], [p for _, p in rows])
    raise ValueError(f"metrics: unknown family {family!r}")


def _classification(gold: list, pred: list, cfg: EvaluateJobConfig) -> dict:
    seen = {type(v) is str for v in [*gold, *pred] if v is not None}
    if len(seen) > 1:  # text and number labels side by side: compare them all as text
        gold, pred = ([None if v is None else str(v) for v in values] for values in (gold, pred))
    result = metrics.classification(gold, pred, labels=cfg.labels)
    pairs = [(g, p) for g, p in zip(gold, pred) if g is not None and p is not None]
    result["cohen_kappa"] = _kappa([g for g, _ in pairs], [p for _, p in pairs]) if pairs else None
    return result


def read_values(values: list, kind: Kind, cfg: EvaluateJobConfig, parse: bool) -> tuple[list, dict]:
    """Values as the family needs them (None where missing or unreadable) and the account."""
    out, missing, unreadable = [], 0, []
    for value in values:
        value = _plain(value)
        if value is None:
            missing += 1
            out.append(None)
            continue
        read = _read(value, kind, cfg, parse)
        if read is None:
            unreadable.append(value)
        out.append(read)
    return out, {"missing": missing, "unparseable": len(unreadable),
                 "examples": [str(v)[:80] for v in unreadable[:_EXAMPLES]]}


def _read(value, kind: Kind, cfg: EvaluateJobConfig, parse: bool):
    if parse and cfg.prediction_parser == "score":
        valid = tuple(cfg.score_range) if cfg.score_range is not None else None
        value = parse_score(str(value), valid_range=valid).score
        value = None if value is None else _plain(value)
    elif parse and cfg.prediction_parser == "verdict":
        value = parse_pairwise(str(value)).verdict
    if value is None:
        return None
    if kind == "number":
        return _number(value)
    if kind == "verdict":
        number = _number(value)
        return int(number) if number in (0, 1, 2) else None
    if kind == "text":
        return value if isinstance(value, str) else str(value)
    return _label(value, cfg.labels)


def _label(value, labels: list | None):
    """A class label: numeric text as a number ("1" and 1 are one class); with `labels` set, a
    value outside them is unreadable rather than a new class."""
    if isinstance(value, str):
        number = _number(value)
        if number is not None:
            value = int(number) if number.is_integer() else number
    if labels is not None and value not in labels:
        return None
    return value


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(unicodedata.normalize("NFKC", str(value)).strip())
    except ValueError:
        return None


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
        rows = metrics.length_rows([_text_or_empty(i) for i, _ in answered], [a for _, a in answered])
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

def _plain(value):
    """A cell as a plain Python value: None for null / NaN / blank text, whole floats as ints."""
    if isinstance(value, np.generic):
        value = value.item()
    if is_missing(value):
        return None
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _missing(value) -> bool:
    return _plain(value) is None


def _take(values: list | None, index) -> list | None:
    if values is None:
        return None
    return [values[i] for i in index]


def _text_or_empty(value) -> str:
    value = _plain(value)
    return "" if value is None else str(value)
