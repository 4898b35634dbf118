"""step learn: the audited labels -> a model trained again -> the records scored again -> a report.

    report = learn(cfg)      # rounds/<round>/: train/ (model), scored/, report.json

The model that scored `scored` is the model before. Training continues from it (or starts from
the train config's model, `learn.continue_training: false`) with the audited labels as an extra
source: oversampled by `audited_weight`, a held-back share never trained on, and answers that
contradict a certain check reported, not trained on (data/audited.py). The records `scored`
holds are scored again with that run's own config into rounds/<round>/scored, which the next
pick reads. report.json holds:

  held_back  the held-back audited records, scored by the model before and after: F1 for
             catching 错误 (a 待审 counts as not accepted), correct kept, the share sent to 待审
  audits     per check flag ("none": no flag failed), the answers and how many of them the model
             before had wrong: where people corrected it
  changes    label transitions (before -> after) on the records scored again, overall and per flag
  training   the training run's audited account (sets, held back, left out and why) and its
             operating points, with what they were fitted on
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import yaml

from rayscore.config import load_config
from rayscore.data.audited import audited_source
from rayscore.data.pairs import CORRECT, REVIEW
from rayscore.score.inputs import InputError
from rayscore.score.store import part_files

logger = logging.getLogger(__name__)

NO_FLAG = "none"
TOP_FLAGS = 15
"""Flags listed in the report's per-flag tables (the most frequent)."""


def scored_config(scored: str | Path) -> dict:
    path = Path(scored, "config.yaml")
    if not path.exists():
        raise InputError(f"scored: {path} is missing; learn reuses the scored run's config to score again")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def scored_model(scored: str | Path) -> str:
    """The model dir that scored `scored` (its config.yaml)."""
    model = (scored_config(scored).get("scorer") or {}).get("model_dir")
    if not model:
        raise InputError(f"scored: {scored}/config.yaml names no scorer.model_dir")
    return str(model)


def next_round(rounds: Path) -> Path:
    numbers = [int(p.name.split("-")[1]) for p in rounds.glob("round-*") if p.name.split("-")[1].isdigit()]
    return rounds / f"round-{max(numbers, default=0) + 1:04d}"


def train_config(spec, labels: Path, before: str, out: Path):
    """The train_reward config of a learn round: the spec's YAML and overrides, the audited labels."""
    from rayscore.train.reward import RewardJobConfig

    words = ["--config", spec.train_config, *spec.train_overrides, f"data.audited_path={labels}",
             f"data.audited_weight={spec.audited_weight}", f"output_dir={out}"]
    if spec.continue_training:
        words.append(f"model.name_or_path={before}")
    return load_config(RewardJobConfig, words)


def retrain(cfg) -> str:
    """One train_reward run; its model dir. Ray must be up."""
    from rayscore.train.reward import run as train_reward

    return str(train_reward(cfg).model_dir)


def rescore(scored: str | Path, model_dir: str, out: Path, overrides: list[str]) -> str:
    """score_batch with the scored run's own config, the new model and a new output; its directory."""
    from rayscore.score.job import ScoreJobConfig, run as score_batch

    config = Path(scored, "config.yaml")
    words = ["--config", str(config), f"scorer.model_dir={model_dir}", f"output={out}", *overrides]
    summary = score_batch(load_config(ScoreJobConfig, words))
    if not summary.ok:
        raise RuntimeError(f"scoring again into {out} failed: {summary.path}")
    return str(out)


def label_metrics(gold, pred) -> dict:
    """score_batch's gold metrics of one set (F1 for catching 错误, a 待审 counting as caught), with
    correct kept and the 待审 share."""
    from rayscore.score.report import gold_metrics

    gold, pred = np.asarray(gold, dtype=object), np.asarray(pred, dtype=object)
    overall = gold_metrics({"all": Counter(f"{g}|{p}" for g, p in zip(gold, pred))})["overall"]
    correct = gold == CORRECT
    return {"rows": int(len(gold)), **{k: overall.get(k) for k in ("f1", "precision", "recall")},
            "correct_kept": round(float((pred[correct] == CORRECT).mean()), 4) if correct.any() else None,
            "review_share": round(float((pred == REVIEW).mean()), 4) if len(pred) else None}


def score_rows(model_dir: str, texts: list[str], scorer_overrides: dict | None = None) -> pd.DataFrame:
    """label, p_correct, decided_by, check_flags of each text, in this process."""
    from rayscore.score.scorers import ScorerSpec, build_scorer

    if not texts:
        return pd.DataFrame(columns=["label", "p_correct", "decided_by", "check_flags"])
    scorer = build_scorer(ScorerSpec(kind="quality", model_dir=model_dir, **(scorer_overrides or {})))
    return scorer.score(pd.DataFrame({"text": texts})).reset_index(drop=True)


def held_back_report(held_back: pd.DataFrame, before_labels, after: str) -> dict:
    """The held-back answers' metrics by the model before (its labels, already scored) and after."""
    out = {"rows": len(held_back)}
    if len(held_back):
        gold = held_back["label"].to_numpy()
        out["before"] = label_metrics(gold, before_labels)
        out["after"] = label_metrics(gold, score_rows(after, held_back["text"].tolist())["label"].to_numpy())
        out["f1_gain"] = round(out["after"]["f1"] - out["before"]["f1"], 4)
    return out


def flags_of(value) -> list[str]:
    if value is not None and not isinstance(value, str):
        flags = list(value)
    else:
        flags = [f for f in str(value or "").split(",") if f]
    return flags or [NO_FLAG]


def audits_by_flag(answers: pd.DataFrame, before: pd.DataFrame) -> dict:
    """Per flag: audited answers, and how many the model before labelled otherwise (a 待审 counts
    as otherwise: the person decided what the model left open)."""
    counts: dict[str, Counter] = {}
    for flags, answer, label in zip(before["check_flags"], answers["label"], before["label"]):
        for flag in flags_of(flags):
            c = counts.setdefault(flag, Counter())
            c["answers"] += 1
            c["corrected"] += int(label != answer)
            c[f"answered_{'correct' if answer == CORRECT else 'wrong'}"] += 1
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1]["corrected"], -kv[1]["answers"], kv[0]))
    return {flag: dict(c) for flag, c in ordered[:TOP_FLAGS]}


def label_changes(before_dir: str | Path, after_dir: str | Path) -> dict:
    """Label transitions between two scored runs of the same records, overall and per flag."""
    columns = ["record_id", "label", "check_flags"]
    before = _read(before_dir, columns).rename(columns={"label": "before"})
    after = _read(after_dir, ["record_id", "label"]).rename(columns={"label": "after"})
    both = before.merge(after, on="record_id", how="inner")
    moved = both[both["before"] != both["after"]]
    overall = Counter(f"{b}->{a}" for b, a in zip(moved["before"], moved["after"]))
    per_flag: dict[str, Counter] = {}
    for flags, b, a in zip(moved["check_flags"], moved["before"], moved["after"]):
        for flag in flags_of(flags):
            per_flag.setdefault(flag, Counter())[f"{b}->{a}"] += 1
    ordered = sorted(per_flag.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    return {"rows": len(both), "changed": len(moved), "overall": dict(overall.most_common()),
            "by_flag": {f: dict(c.most_common()) for f, c in ordered[:TOP_FLAGS]},
            "labels_before": both["before"].value_counts().to_dict(),
            "labels_after": both["after"].value_counts().to_dict()}


def _read(directory: str | Path, columns: list[str]) -> pd.DataFrame:
    parts = part_files(directory)
    names = pq.read_schema(parts[0]).names if parts else []
    wanted = [c for c in columns if c in names]
    frame = pd.concat([pd.read_parquet(p, columns=wanted) for p in parts], ignore_index=True) if parts else \
        pd.DataFrame(columns=columns)
    for c in columns:
        if c not in frame:
            frame[c] = None
    return frame.assign(record_id=frame["record_id"].astype(str))


def round_report(labels: Path, before: str, after: str, scored_before: str, scored_after: str, checks: str | None,
                 train_dir: Path) -> dict:
    """The report of one learn round (module docstring)."""
    source = audited_source(labels, 1, checks)
    answers = pd.concat([source.held_back, source.train], ignore_index=True)   # held back first
    before_labels = score_rows(before, answers["text"].tolist())                 # the model before, once
    metrics = _json(train_dir / "metrics.json")
    calibration = _json(Path(after, "calibration.json"))
    return {
        "model_before": before, "model_after": after, "scored_before": scored_before, "scored_after": scored_after,
        "held_back": held_back_report(source.held_back, before_labels["label"].to_numpy()[:len(source.held_back)],
                                      after),
        "audits": audits_by_flag(answers, before_labels),
        "changes": label_changes(scored_before, scored_after),
        "training": {k: v for k, v in metrics.items() if k.startswith("audited_") or k in ("train_pairs", "eval_pairs")}
        | {"operating_points": {k: calibration.get("operating_points", {}).get(k)
                                for k in ("accept_at", "reject_below", "certified", "n", "fitted_on")}},
    }


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
