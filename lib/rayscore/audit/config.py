"""audit's typed config: one job, three steps (pick, import, learn), sharing one audit directory.

    <output_dir>/batches/<batch>/   picked.parquet (what was exported), tasks.json, labeling_config.xml,
                                    tasks.csv, summary.json
    <output_dir>/labels/            the audited labels (store.py), read by train_reward's data.audited_path
    <output_dir>/imports/           one report per import
    <output_dir>/rounds/<round>/    learn: train/ (the retrained model), scored/ (scored again), report.json
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rayscore.config import range_problems

Strategy = Literal["uncertain", "disagree", "label_issues", "random"]
Dedupe = Literal["address_shape", "text_shape", "none"]


@dataclass
class LabelIssuesSpec:
    """label_issues: confident learning on a labelled training set (text, label 正确/错误)."""

    path: str = ""
    """Labelled records (parquet, JSONL, JSON, CSV) with id_column, text and label."""
    oof_column: str | None = "p_correct_oof"
    """Column of out-of-fold p_correct (from models that never saw the row); null = train k models here."""
    folds: int = 2
    """k of the k-fold loop when oof_column is null: k train_reward runs, each scores the fold it left out."""
    train_config: str = "configs/train_reward/tiny.yaml"
    """train_reward YAML each fold trains with (its data.train_path and output_dir are set per fold)."""
    train_overrides: list[str] = field(default_factory=list)
    """key=value words for each fold's training, e.g. [train.max_steps=20] for a small step budget."""

    def check(self) -> list[str]:
        problems = range_problems(self, folds=">= 2")
        bad = [w for w in self.train_overrides if "=" not in w]
        if bad:
            problems.append(f"train_overrides: expected key=value words, got {bad}")
        return problems


@dataclass
class PickSpec:
    """Which rows a person sees."""

    strategy: Strategy = "uncertain"
    """uncertain (待审 first, then nearest a cut) | disagree (model vs checks) | label_issues | random."""
    budget: int = 200
    """Rows to export: the best-ranked row of each of the best-ranked `budget` shapes."""
    dedupe: Dedupe = "address_shape"
    """One row per key: address_shape (name dropped, digits as 0), text_shape, none."""
    seed: int = 0
    """random: which rows (a hash of the id with the seed)."""
    explore: float = 0.2
    """uncertain, disagree: share of the budget picked at random (a model is confidently wrong on what it never saw)."""
    label_issues: LabelIssuesSpec = field(default_factory=LabelIssuesSpec)
    """strategy label_issues only."""

    def check(self) -> list[str]:
        problems = range_problems(self, budget=">= 1", explore="[0, 1]")
        if self.strategy == "label_issues" and not self.label_issues.path:
            problems.append("label_issues.path: required for strategy label_issues (a labelled training set)")
        return problems


@dataclass
class LearnSpec:
    """step learn: train again with the audited labels, score the records again, report what changed."""

    train_config: str = "configs/train_reward/addresses.yaml"
    """train_reward YAML to train with (data.audited_path and output_dir are set by the step)."""
    train_overrides: list[str] = field(default_factory=list)
    """key=value words for that training, e.g. [train.max_steps=80] for a short continuation."""
    continue_training: bool = True
    """Start from the model that scored `scored` (a short continuation); false: from the train config's model."""
    audited_weight: int = 3
    """Each audited record is trained on this many times (data.audited_weight)."""
    score_overrides: list[str] = field(default_factory=list)
    """key=value words for scoring again; the scored run's own config is reused (its input, a new output)."""

    def check(self) -> list[str]:
        problems = range_problems(self, audited_weight=">= 1")
        for name in ("train_overrides", "score_overrides"):
            bad = [w for w in getattr(self, name) if "=" not in w]
            problems += [f"{name}: expected key=value words, got {bad}"] if bad else []
        return problems


@dataclass
class AuditJobConfig:
    """audit: pick scored rows for a person and export them (step pick), or import their labels (step import)."""

    step: Literal["pick", "import", "learn"] = "pick"
    """pick: choose rows and write a batch to label; import: read a labelled file into the store;
    learn: import (when `labelled` is given), train again, score again, report."""
    output_dir: str = "out/audit"
    """The audit directory: batches/, labels/ (the audited-label dataset), imports/, rounds/ (learn)."""
    scored: str = ""
    """pick: score_batch's output directory (part-*.parquet, summary.json, config.yaml)."""
    batch: str = ""
    """pick writes batches/<batch> ("" = the next batch-NNNN); import checks against it ("" = the latest)."""
    pick: PickSpec = field(default_factory=PickSpec)
    """step pick: strategy, budget, near-duplicates."""
    labelled: str = ""
    """step import: the labelled file, Label Studio's JSON export (.json) or the filled-in CSV (.csv)."""
    who: str = ""
    """step import: who labelled, for CSV rows whose `who` is empty ("" = leave it empty)."""
    score_config: str = ""
    """step pick: score_batch YAML to run first when `scored` holds no finished run ("" = score nothing)."""
    learn: LearnSpec = field(default_factory=LearnSpec)
    """step learn: how to train and score again."""

    def check(self) -> list[str]:
        problems = []
        if not self.output_dir:
            problems.append("output_dir: required (the audit directory)")
        if self.step in ("pick", "learn") and not self.scored and self.pick.strategy != "label_issues":
            problems.append(f"scored: required for step {self.step} (score_batch's output directory)")
        if self.step == "import" and not self.labelled:
            problems.append("labelled: required for step import (a Label Studio JSON export or the filled-in CSV)")
        if self.labelled and not self.labelled.endswith((".json", ".csv")):
            problems.append(f"labelled: {self.labelled} is neither .json (Label Studio export) nor .csv")
        if self.batch and ("/" in self.batch or self.batch.startswith(".")):
            problems.append(f"batch: a plain name, got {self.batch!r}")
        return problems
