"""The audit job's three steps over one audit directory (config.py shows its layout).

pick:   (score first, with score_config, when `scored` holds no finished run) scored rows (or a
        labelled set, for label_issues) -> batches/<batch>/: picked.parquet, tasks.json +
        labeling_config.xml (Label Studio), tasks.csv (a spreadsheet), summary.json. Rows
        exported in an earlier batch or already audited are never picked again, and a batch is
        never overwritten (someone may be labelling it). A share of the budget (`explore`) is
        picked at random: a model is confidently wrong on kinds it never saw, so no ranking of
        its own finds them, and the next round learns them from these rows.
import: a labelled file -> a new part in labels/ and imports/<import>.json (importing.py).
learn:  import (when `labelled` is given), then train again, score again, report (learn.py):
        rounds/<round>/. One round is two commands: pick, then learn once the labels are back.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from rayscore.audit.config import AuditJobConfig
from rayscore.audit.importing import import_labels
from rayscore.audit.label_issues import TrainFold, label_issue_ranks, out_of_fold, read_labelled
from rayscore.audit.labelstudio import write_tasks
from rayscore.audit.learn import next_round, rescore, retrain, round_report, scored_model, train_config
from rayscore.audit.pick import open_scored, pick_ranked, pick_scored
from rayscore.audit.shapes import shape_key
from rayscore.audit.spreadsheet import write_csv
from rayscore.audit.store import LabelStore
from rayscore.config import load_config, to_dict
from rayscore.data.pairs import CORRECT, WRONG
from rayscore.io import JobSummary, absolute, write_json
from rayscore.score.inputs import InputError

logger = logging.getLogger(__name__)


def run(cfg: AuditJobConfig, train_fold: TrainFold | None = None) -> JobSummary:
    """One step; `train_fold` trains a model for label_issues' k-fold loop (jobs/audit.py passes train_reward)."""
    cfg = replace(cfg, output_dir=absolute(cfg.output_dir), scored=absolute(cfg.scored) if cfg.scored else "",
                  labelled=absolute(cfg.labelled) if cfg.labelled else "")
    if cfg.step == "learn":
        return learn_step(cfg)
    return pick(cfg, train_fold) if cfg.step == "pick" else import_step(cfg)


def batches_dir(cfg: AuditJobConfig) -> Path:
    return Path(cfg.output_dir, "batches")


def store_of(cfg: AuditJobConfig) -> LabelStore:
    return LabelStore(Path(cfg.output_dir, "labels"))


def already_seen(cfg: AuditJobConfig) -> frozenset[str]:
    """Record ids exported in any batch or already in the store: never picked twice."""
    ids = set(store_of(cfg).read()["record_id"])
    for picked in batches_dir(cfg).glob("*/picked.parquet"):
        ids |= set(pd.read_parquet(picked, columns=["record_id"])["record_id"])
    return frozenset(ids)


def next_batch(cfg: AuditJobConfig) -> str:
    taken = [p.name for p in batches_dir(cfg).glob("batch-*")] if batches_dir(cfg).is_dir() else []
    numbers = [int(n.split("-")[1]) for n in taken if n.split("-")[1].isdigit()]
    return f"batch-{max(numbers, default=0) + 1:04d}"


def pick(cfg: AuditJobConfig, train_fold: TrainFold | None = None) -> JobSummary:
    spec = cfg.pick
    name = cfg.batch or next_batch(cfg)
    out = batches_dir(cfg) / name
    if out.exists():
        raise InputError(f"batch: {out} exists (it may be being labelled); name another batch or leave batch empty")
    key, exclude = shape_key(spec.dedupe), already_seen(cfg)
    if spec.strategy == "label_issues":
        picked = pick_label_issues(cfg, key, exclude, train_fold)
        source = absolute(spec.label_issues.path)
    else:
        if cfg.score_config and not Path(cfg.scored, "summary.json").exists():
            score_first(cfg)
        picked = pick_exploring(cfg, key, exclude)
        source = cfg.scored
    out.mkdir(parents=True)
    picked.assign(strategy=spec.strategy).to_parquet(out / "picked.parquet", index=False)
    write_tasks(picked, out / "tasks.json")
    write_csv(picked, out / "tasks.csv")
    summary = {"ok": True, "step": "pick", "batch": name, "strategy": spec.strategy, "budget": spec.budget,
               "picked": len(picked), "source": source, "excluded_already_seen": len(exclude),
               "model_labels": picked["model_label"].value_counts().to_dict(),
               "files": {f: str(out / f) for f in ("picked.parquet", "tasks.json", "labeling_config.xml", "tasks.csv")},
               "config": to_dict(cfg)}
    if len(picked) < spec.budget:
        logger.warning("%s: %d rows picked of a budget of %d (fewer candidates or shapes)", name, len(picked),
                       spec.budget)
    path = write_json(out / "summary.json", summary)
    logger.info("%s: %d rows by %s -> %s (Label Studio: tasks.json + labeling_config.xml; spreadsheet: tasks.csv)",
                name, len(picked), spec.strategy, out)
    return JobSummary(str(path), summary)


def pick_exploring(cfg: AuditJobConfig, key, exclude: frozenset[str]) -> pd.DataFrame:
    """The strategy's best rows, then `explore` of the budget at random among the rest."""
    spec, scored = cfg.pick, open_scored(cfg.scored)
    explore = round(spec.budget * spec.explore) if spec.strategy in ("uncertain", "disagree") else 0
    picked = pick_scored(scored, spec.strategy, spec.budget - explore, key, spec.seed, exclude)
    if explore:
        extra = pick_scored(scored, "random", explore + len(picked), key, spec.seed,
                            exclude | frozenset(picked["record_id"]))
        extra = extra[~extra["shape"].isin(set(picked["shape"]))].head(explore)
        picked = pd.concat([picked, extra.assign(why="explore: " + extra["why"])], ignore_index=True)
    return picked


def score_first(cfg: AuditJobConfig) -> None:
    """score_batch with `score_config` into `scored`: the round's first step."""
    from rayscore.score.job import ScoreJobConfig, run as score_batch

    summary = score_batch(load_config(ScoreJobConfig, ["--config", cfg.score_config, f"output={cfg.scored}"]))
    if not summary.ok:
        raise RuntimeError(f"score_config {cfg.score_config}: scoring into {cfg.scored} failed ({summary.path})")


def learn_step(cfg: AuditJobConfig) -> JobSummary:
    """import (if a file is given) -> train again -> score again -> report, in rounds/<round>/."""
    imported = import_step(cfg).data if cfg.labelled else None
    labels = Path(cfg.output_dir, "labels")
    if store_of(cfg).read().empty:
        raise InputError(f"learn: {labels} holds no audited labels; import a labelled file first (labelled=...)")
    before = scored_model(cfg.scored)
    out = next_round(Path(cfg.output_dir, "rounds"))
    train_cfg = train_config(cfg.learn, labels, before, out / "train")
    logger.info("%s: training with the audited labels (%s)", out.name,
                f"continuing {before}" if cfg.learn.continue_training else f"from {train_cfg.model.name_or_path}")
    after = retrain(train_cfg)
    logger.info("%s: scoring %s again with %s", out.name, cfg.scored, after)
    scored_after = rescore(cfg.scored, after, out / "scored", cfg.learn.score_overrides)
    report = {"ok": True, "step": "learn", "round": out.name, "imported": imported,
              **round_report(labels, before, after, cfg.scored, scored_after, train_cfg.checks, out / "train"),
              "next": f"step=pick scored={scored_after}", "config": to_dict(cfg)}
    path = write_json(out / "report.json", report)
    held = report["held_back"]
    if held["rows"]:
        logger.info("%s: held-back audited records (%d): F1 %.3f -> %.3f, correct kept %s -> %s", out.name,
                    held["rows"], held["before"]["f1"], held["after"]["f1"], held["before"]["correct_kept"],
                    held["after"]["correct_kept"])
    logger.info("%s: %d of %d labels changed (%s); report %s; next: step=pick scored=%s", out.name,
                report["changes"]["changed"], report["changes"]["rows"], report["changes"]["overall"], path,
                scored_after)
    return JobSummary(str(path), report)


def pick_label_issues(cfg: AuditJobConfig, key, exclude: frozenset[str], train_fold: TrainFold | None) -> pd.DataFrame:
    spec = cfg.pick.label_issues
    records = read_labelled(absolute(spec.path), oof_column=spec.oof_column)
    if spec.oof_column:
        p = records["p_correct_oof"].to_numpy()
    else:
        if train_fold is None:
            raise InputError("pick.label_issues.oof_column is null but no trainer was given for the k-fold loop")
        p = out_of_fold(records, spec.folds, train_fold, Path(cfg.output_dir, "folds"))
    ranks, whys = label_issue_ranks(records["label"], p)
    source = spec.oof_column or f"{spec.folds} folds"
    rows = records.assign(model_label=[CORRECT if q >= 0.5 else WRONG for q in p], p_correct=p, decided_by="model",
                          check_flags=[[] for _ in range(len(records))], fingerprint=f"out-of-fold ({source})")
    return pick_ranked(rows, ranks, whys, cfg.pick.budget, key, exclude)


def latest_batch(cfg: AuditJobConfig) -> Path:
    found = sorted(p.parent for p in batches_dir(cfg).glob("*/picked.parquet"))
    if not found:
        raise InputError(f"batch: no exported batch under {batches_dir(cfg)}; run step pick first")
    return found[-1]


def import_step(cfg: AuditJobConfig) -> JobSummary:
    batch = batches_dir(cfg) / cfg.batch if cfg.batch else latest_batch(cfg)
    if not (batch / "picked.parquet").exists():
        raise InputError(f"batch: {batch} holds no picked.parquet (not a batch step pick wrote)")
    now = datetime.now(UTC).isoformat(timespec="seconds")
    report = import_labels(cfg.labelled, batch, store_of(cfg), cfg.who, now)
    report = {"ok": True, "step": "import", **report}
    name = report["import_batch"] or f"repeat-{report['sha256'][:16]}"
    path = write_json(Path(cfg.output_dir, "imports", f"{name}.json"), report)
    if report.get("already_imported"):
        logger.info("%s: imported before (%s); nothing changed", cfg.labelled, report["already_imported"])
    else:
        logger.info("%s -> %s: %d answers stored (%s), %d rows unanswered, %d cancelled annotations ignored",
                    cfg.labelled, report["part"], report["imported"], report["labels"], report["rows"]["unanswered"],
                    report["cancelled_annotations"])
    return JobSummary(str(path), report)
