"""Item ratings in the Hupu rating CSV layout (an item's category and title with its 0-10 score,
what train_sft's generative score model learns to give): raw CSV rows -> SFT samples, bad rows
set aside, duplicate prompts removed, a deterministic train / validation split.

    data = load_sft_data(SftDataSpec(train_path="data/hupu.csv"))
    data.train, data.eval          # DataFrames of instruction / input / output (the answer text)
    data.quarantined, data.counts  # rows set aside with a reason; the account of every row

    conversion = convert_hupu_csv("data/hupu.csv")     # the converter alone
    train, evaluation = split_samples(conversion.samples, eval_ratio=0.005)

A CSV row `Head, Ids, Introduce, Title, TitleHot, TitleScore, Comments, Starts` becomes
`{"instruction": "{Introduce}中的{Title}你能打几颗星:", "input": "", "output": "{TitleScore}"}`.
Rows whose TitleScore is `-` (no score yet) are skipped and counted; rows that cannot be read
(wrong number of fields, empty category or title, a score that is not a number in [0, 10]) go
to quarantine with a reason. A missing column is an error naming the file and the column.
Every row is accounted for: rows = samples + no_score + duplicate_prompts + quarantined.

The split hashes the instruction (sha256), so it does not depend on row order or a seed, and
the same prompt always lands on the same side.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from rayscore.config import range_problems
from rayscore.io import is_uri, read_table

logger = logging.getLogger(__name__)

HUPU_COLUMNS = ("Head", "Ids", "Introduce", "Title", "TitleHot", "TitleScore", "Comments", "Starts")
REQUIRED_COLUMNS = ("Introduce", "Title", "TitleScore")
"""The columns the converter reads; the others are allowed to be absent."""
INSTRUCTION_TEMPLATE = "{introduce}中的{title}你能打几颗星:"
NO_SCORE = "-"
SAMPLE_COLUMNS = ("instruction", "input", "output")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@dataclass
class SftDataSpec:
    """Where the SFT samples come from and how the validation set is held out."""

    train_path: str = ""
    """Hupu CSV (format hupu_csv) or JSONL / JSON / parquet of instruction, input, output (format samples)."""
    format: Literal["hupu_csv", "samples"] = "hupu_csv"
    """hupu_csv: raw rating rows, converted here; samples: already in the instruction/input/output shape."""
    eval_path: str | None = None
    """Separate validation file in the same format; null = hold out eval_ratio of train_path."""
    eval_ratio: float = 0.005
    """Share of prompts held out for validation (by a hash of the instruction) when eval_path is null."""
    max_rows: int | None = None
    """Read only the first N rows of each file (quick runs)."""
    score_max: float = 10.0
    """Scores must lie in [0, score_max]; others are quarantined."""

    def check(self) -> list[str]:
        problems = []
        if not self.train_path:
            problems.append("train_path: required (a Hupu CSV or a samples JSONL/parquet)")
        if self.eval_path is None:
            problems += range_problems(self, eval_ratio="(0, 1)")
        problems += range_problems(self, score_max="> 0")
        return problems


@dataclass
class Conversion:
    """Samples from one file, the rows set aside, and the count of each outcome."""

    samples: pd.DataFrame
    quarantined: pd.DataFrame
    counts: dict = field(default_factory=dict)


@dataclass
class SftData:
    """What train_sft trains and evaluates on."""

    train: pd.DataFrame
    eval: pd.DataFrame
    quarantined: pd.DataFrame
    counts: dict
    data_check: dict = field(default_factory=dict)
    """The data check's report (rayscore.data.data_check), once train_sft has run it."""


def load_sft_data(spec: SftDataSpec) -> SftData:
    """Read, convert, de-duplicate and split (deterministically: a hash of each prompt decides its side)."""
    main = read_samples(spec.train_path, spec)
    if spec.eval_path:
        held_out = read_samples(spec.eval_path, spec)
        # A prompt in both files would be trained on and scored: keep it on the validation side.
        in_eval = set(held_out.samples["instruction"])
        leaked = main.samples["instruction"].isin(in_eval)
        train, evaluation = main.samples[~leaked].reset_index(drop=True), held_out.samples
        quarantined = pd.concat([main.quarantined.assign(split="train"), held_out.quarantined.assign(split="eval")],
                                ignore_index=True)
        counts = {"train_file": main.counts, "eval_file": held_out.counts,
                  "train_prompts_also_in_eval": int(leaked.sum())}
    else:
        train, evaluation = split_samples(main.samples, spec.eval_ratio)
        quarantined, counts = main.quarantined, dict(main.counts)
    counts.update(train_samples=len(train), eval_samples=len(evaluation))
    return SftData(train, evaluation, quarantined, counts)


def read_samples(path: str, spec: SftDataSpec) -> Conversion:
    if spec.format == "hupu_csv":
        return convert_hupu_csv(path, max_rows=spec.max_rows, score_max=spec.score_max)
    return check_samples(read_table(path), path, max_rows=spec.max_rows, score_max=spec.score_max)


def convert_hupu_csv(path: str, max_rows: int | None = None, score_max: float = 10.0) -> Conversion:
    """Hupu rating rows -> SFT samples (see the module docstring for the rules)."""
    samples, quarantined = [], []
    no_score = rows = 0
    with _open_text(path) as fh:
        reader = csv.DictReader(fh, restkey="__extra_fields__", restval=None)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; a Hupu CSV has "
                             f"{', '.join(HUPU_COLUMNS)} (found: {', '.join(reader.fieldnames or []) or 'no header'})")
        for row in reader:
            if max_rows is not None and rows >= max_rows:
                break
            rows += 1
            reason = row_problem(row, score_max)
            if reason == "no_score":
                no_score += 1
            elif reason is not None:
                quarantined.append({**_raw_fields(row), "line": reader.line_num, "reason": reason})
            else:
                samples.append(to_sample(row))
    frame, duplicates = drop_duplicate_prompts(pd.DataFrame(samples, columns=list(SAMPLE_COLUMNS)))
    bad = pd.DataFrame(quarantined) if quarantined else pd.DataFrame(columns=["line", "reason"])
    counts = _account(rows, len(frame), duplicates, bad, no_score=no_score)
    _log_account(path, counts)
    return Conversion(frame, bad, counts)


def row_problem(row: dict, score_max: float = 10.0) -> str | None:
    """Why a CSV row gives no sample: "no_score" (a `-` score, skipped) or a quarantine reason."""
    if row.get("__extra_fields__"):
        return "too_many_fields"
    if any(row.get(c) is None for c in REQUIRED_COLUMNS):
        return "too_few_fields"
    score = row["TitleScore"].strip()
    if score == NO_SCORE:
        return "no_score"
    if not row["Introduce"].strip():
        return "empty_introduce"
    if not row["Title"].strip():
        return "empty_title"
    return score_problem(score, score_max)


def score_problem(score: str, score_max: float = 10.0) -> str | None:
    """None for a plain decimal number in [0, score_max] (`9.7`, `10`), else the reason."""
    if not score:
        return "empty_score"
    if not _NUMBER.fullmatch(score):
        return "bad_score"
    return None if 0 <= float(score) <= score_max else "score_out_of_range"


def to_sample(row: dict) -> dict:
    instruction = INSTRUCTION_TEMPLATE.format(introduce=row["Introduce"].strip(), title=row["Title"].strip())
    return {"instruction": instruction, "input": "", "output": row["TitleScore"].strip()}


def sample_prompt(instruction: str, input: str = "") -> str:
    """The user turn of a sample (Alpaca style: the input, when there is one, on its own line)."""
    return f"{instruction}\n{input}" if input else instruction


def sample_texts(samples: pd.DataFrame) -> list[str]:
    """The text a generative score model learns from in each sample (its prompt, then its answer),
    for the data check."""
    return [f"{sample_prompt(i, x)}\n{o}" for i, x, o in zip(samples["instruction"], samples["input"],
                                                            samples["output"])]


def check_samples(table: pd.DataFrame, path: str, max_rows: int | None = None,
                  score_max: float = 10.0) -> Conversion:
    """Samples already in instruction / input / output form: the same checks and de-duplication."""
    missing = [c for c in ("instruction", "output") if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; samples need instruction, "
                         f"output and optionally input")
    if max_rows is not None:
        table = table.head(max_rows)
    table = table.assign(input=table["input"] if "input" in table.columns else "")
    table = table.assign(**{c: table[c].map(lambda v: "" if v is None else str(v).strip()) for c in SAMPLE_COLUMNS})
    reasons = ["empty_instruction" if not r["instruction"] else score_problem(r["output"], score_max)
               for r in table.to_dict("records")]
    bad_mask = pd.Series([r is not None for r in reasons], index=table.index)
    bad = table[bad_mask].assign(reason=[r for r in reasons if r is not None]).reset_index(drop=True)
    frame, duplicates = drop_duplicate_prompts(table.loc[~bad_mask, list(SAMPLE_COLUMNS)])
    counts = _account(len(table), len(frame), duplicates, bad)
    _log_account(path, counts)
    return Conversion(frame, bad, counts)


def drop_duplicate_prompts(samples: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Keep the first sample of each prompt (instruction + input); return how many were dropped."""
    key = samples["instruction"] + "\n" + samples["input"]
    dup = key.duplicated(keep="first")
    return samples[~dup].reset_index(drop=True), int(dup.sum())


def split_samples(samples: pd.DataFrame, eval_ratio: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, validation): a sample is held out when the hash of its instruction says so."""
    held_out = samples["instruction"].map(lambda s: in_eval_split(s, eval_ratio)).astype(bool)
    return samples[~held_out].reset_index(drop=True), samples[held_out].reset_index(drop=True)


def in_eval_split(instruction: str, eval_ratio: float) -> bool:
    digest = hashlib.sha256(instruction.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < eval_ratio


def _account(rows: int, samples: int, duplicates: int, bad: pd.DataFrame, no_score: int = 0) -> dict:
    by_reason = Counter(bad["reason"]) if len(bad) else Counter()
    counts = {"rows": rows, "samples": samples, "no_score": no_score, "duplicate_prompts": duplicates,
              "quarantined": len(bad), "quarantined_by_reason": dict(sorted(by_reason.items()))}
    assert rows == samples + no_score + duplicates + len(bad), counts
    return counts


def _log_account(path: str, counts: dict) -> None:
    logger.info("%s: %d rows -> %d samples, %d without a score, %d duplicate prompts, %d quarantined %s",
                path, counts["rows"], counts["samples"], counts["no_score"], counts["duplicate_prompts"],
                counts["quarantined"], counts["quarantined_by_reason"] or "")


def _raw_fields(row: dict) -> dict:
    out = {k: v for k, v in row.items() if k != "__extra_fields__"}
    if row.get("__extra_fields__"):
        out["extra_fields"] = "|".join(row["__extra_fields__"])
    return out


def _open_text(path: str):
    """A text handle on a local path or a pyarrow-filesystem URI (s3://, gs://); a BOM is dropped."""
    if is_uri(path):
        from pyarrow import fs

        filesystem, inner = fs.FileSystem.from_uri(path)
        with filesystem.open_input_stream(inner) as stream:
            return io.StringIO(stream.read().decode("utf-8-sig"), newline="")
    try:
        return open(path, encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
