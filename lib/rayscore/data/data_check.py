"""The data check every training job runs on its rows, on the driver, before Ray Train starts:
duplicates set aside, train/eval overlap refused, diversity measured and a one-template set refused.

    checked = check_data(train, evaluation, pair_texts, cfg.data_check, unit="pair")
    checked.train, checked.eval   # what trains and what evaluates
    checked.set_aside             # training rows dropped, each with its `reason` (REASONS)
    checked.report                # metrics.json's `data_check`: counts, distinct-1/2, largest template share

train_reward, train_classifier and train_sft call it where their rows are read, split and
validated, and configure it with the same `data_check:` block (DataCheckSpec). A refusal is a
DataCheckError naming the figure, the limit and the key that lets the job go on.

What is compared is the text a model learns from (a preference pair: its prompt, chosen and
rejected answers; a labelled row: its text; an SFT sample: its prompt and answer), whitespace
collapsed, read as its set of character n-grams (`ngram_chars` characters each):

- Duplicates. Exact: the same text. Near: an estimated Jaccard similarity of the two n-gram sets
  of at least `near_duplicate_threshold`. Each row is compared with the rows kept before it (an
  exact match through a dict, near ones through datasketch's MinHashLSH over MinHash signatures),
  so the first row of a cluster stays and the later ones are set aside (`drop_duplicates`) or only
  counted.
- Train/eval overlap: an eval row that is an exact or near duplicate of a kept training row. The
  job refuses, naming the count and an example, unless told otherwise by `eval_overlap`:
  `drop_from_train` sets the training rows it repeats aside (overlaps_eval) and keeps the eval set
  whole, so its figures stay comparable between runs (as decontaminating against a benchmark
  does); `keep` trains and evaluates on them as they are (the report still counts them).
- Diversity: distinct-1 and distinct-2, the share of distinct characters and of distinct character
  bigrams among all of those of the training rows. They are corpus-level, so they fall as a set
  grows: compare sets of similar size.
- The largest template cluster. A row's template text is its text with every run of digits
  written as one 0. Two rows are of one template when their template texts' n-gram sets have an
  estimated Jaccard similarity of at least `template_similarity` (0.5): a template's fixed
  wording outweighs the names, numbers and words filled into it. A template cluster is a row
  (its centre) with every row of its template: a star, not a chain, so rows that each differ a
  little from the last do not add up to one template. The largest is searched for with up to
  TEMPLATE_CENTRES sampled rows as centres (a cluster holding a share s of the rows holds about s
  of the sample, so a large one is not missed) and its rows are then counted over the whole set.
  Above `max_template_share` the job refuses unless `allow_low_diversity` is set. Rows whose
  filled-in parts are most of the text (a 3-character name in a 10-character prompt) are as
  different as their texts are, and count as different templates.

Signatures are datasketch's MinHash (seed 1) of each row's n-grams, its LSH finds the candidates.
Nothing here imports Ray or a model.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from rayscore.config import range_problems

logger = logging.getLogger(__name__)

REASONS = ("duplicate", "near_duplicate", "overlaps_eval")
"""Why a training row was set aside: the same text as an earlier row, a near duplicate of one,
a repeat of an eval row."""
SEED = 1
"""The MinHash seed: datasketch's default, so its permutations are those of MinHash(num_perm)."""
TEMPLATE_CENTRES = 1000
"""Rows sampled as candidate centres of the largest template cluster."""
TEMPLATE_FINALISTS = 8
"""Centres with the largest clusters in the sample, whose clusters are counted over all rows."""
_DIGITS = re.compile(r"\d+")
_EXAMPLE_CHARS = 80


@dataclass
class DataCheckSpec:
    """The check of training data before any step: duplicates, train/eval overlap, diversity."""

    drop_duplicates: bool = True
    """Set aside exact and near-duplicate training rows, keeping the first of each cluster; false = only count them."""
    near_duplicate_threshold: float = 0.9
    """Estimated Jaccard similarity of two texts' character n-gram sets at which they are near duplicates (0.5-0.95)."""
    ngram_chars: int = 5
    """Characters per n-gram the similarities are measured on."""
    num_perm: int = 128
    """MinHash permutations per signature: more estimate similarity more closely and cost more time."""
    eval_overlap: Literal["refuse", "drop_from_train", "keep"] = "refuse"
    """An eval row repeating a training row: refuse to train; set the training rows it repeats aside; or keep both."""
    template_similarity: float = 0.5
    """Similarity (digits masked) at which two rows are of one template (0.2-0.95)."""
    max_template_share: float = 0.3
    """Largest share of the training rows one template cluster may hold; above it the job refuses."""
    allow_low_diversity: bool = False
    """Train even when one template holds more than max_template_share of the rows (the report still says so)."""

    def check(self) -> list[str]:
        problems = range_problems(
            self,
            near_duplicate_threshold="[0.5, 0.95]",
            template_similarity="[0.2, 0.95]",
            max_template_share="(0, 1]",
            ngram_chars="[1, 32]",
            num_perm="[64, 1024]",
        )
        return problems


class DataCheckError(ValueError):
    """The training data failed the check: each line names the figure, the limit and the key to go on."""


@dataclass
class CheckedData:
    """The rows after the check, the training rows it set aside, and its report."""

    train: pd.DataFrame
    eval: pd.DataFrame
    set_aside: pd.DataFrame
    report: dict = field(default_factory=dict)


def check_data(train: pd.DataFrame, evaluation: pd.DataFrame, texts: Callable[[pd.DataFrame], list[str]],
               spec: DataCheckSpec, unit: str = "row") -> CheckedData:
    """Check the training rows (and the eval rows against them) as the module docstring says.
    `texts` gives the text a model learns from of each row of a frame; `unit` names a row in the
    messages (pair, row, sample). Logs one line; raises DataCheckError on a refusal."""
    started = time.perf_counter()
    train_texts = [normalise(t) for t in texts(train)] if len(train) else []
    eval_texts = [normalise(t) for t in texts(evaluation)] if len(evaluation) else []
    sigs = signatures(train_texts + eval_texts, spec.ngram_chars, spec.num_perm)
    train_sigs, eval_sigs = sigs[: len(train_texts)], sigs[len(train_texts):]

    heads, kinds, first, index = find_duplicates(train_texts, train_sigs, spec.near_duplicate_threshold)
    overlaps = find_overlaps(eval_texts, eval_sigs, train_sigs, first, index, spec.near_duplicate_threshold)
    reasons = kinds.copy() if spec.drop_duplicates else np.full(len(train_texts), "", dtype=object)
    repeated = {train for _, train in overlaps}
    if spec.eval_overlap == "drop_from_train" and repeated:
        in_cluster = np.array([h in repeated for h in heads], dtype=bool)
        reasons[in_cluster & (reasons == "")] = "overlaps_eval"
    keep = reasons == ""

    kept_texts = [t for t, k in zip(train_texts, keep) if k]
    share, cluster_rows, centre = largest_template(kept_texts, spec)
    report = {
        "train_rows_in": len(train_texts), "eval_rows": len(eval_texts),
        "exact_duplicates": int((kinds == "duplicate").sum()),
        "near_duplicates": int((kinds == "near_duplicate").sum()),
        "duplicates_dropped": bool(spec.drop_duplicates),
        "eval_rows_overlapping_train": len({e for e, _ in overlaps}),
        "train_rows_dropped_for_overlap": int((reasons == "overlaps_eval").sum()),
        "train_rows_out": int(keep.sum()),
        "distinct_1": distinct_n(kept_texts, 1), "distinct_2": distinct_n(kept_texts, 2),
        "largest_template_share": round(share, 4), "largest_template_rows": cluster_rows,
        "largest_template_example": kept_texts[centre][:_EXAMPLE_CHARS] if centre is not None else None,
        "max_template_share": spec.max_template_share,
        "low_diversity": share > spec.max_template_share, "low_diversity_allowed": bool(spec.allow_low_diversity),
        "near_duplicate_threshold": spec.near_duplicate_threshold, "template_similarity": spec.template_similarity,
        "ngram_chars": spec.ngram_chars, "num_perm": spec.num_perm,
        "seconds": round(time.perf_counter() - started, 3),
    }
    logger.info(summary_line(report, unit))
    problems = []
    if overlaps and spec.eval_overlap == "refuse":
        problems.append(overlap_problem(overlaps, eval_texts, train_texts, spec, unit))
    if report["low_diversity"] and not spec.allow_low_diversity:
        problems.append(
            f"data_check: the largest template cluster holds {share:.1%} of the {keep.sum():,} training {unit}s "
            f"({cluster_rows:,} {unit}s like {report['largest_template_example']!r}), above "
            f"data_check.max_template_share={spec.max_template_share:g}: a model trained on it learns the template, "
            f"not the task. Add varied {unit}s, or set data_check.allow_low_diversity=true to train anyway.")
    if problems:
        raise DataCheckError("\n".join(problems))
    set_aside = train[~keep].assign(reason=reasons[~keep].tolist()).reset_index(drop=True)
    return CheckedData(train[keep].reset_index(drop=True), evaluation, set_aside, report)


def summary_line(report: dict, unit: str) -> str:
    """The console's one line about the check."""
    dropped = "set aside" if report["duplicates_dropped"] else "kept"
    return (f"data check: {report['train_rows_in']:,} training {unit}s, {report['exact_duplicates']:,} duplicates and "
            f"{report['near_duplicates']:,} near duplicates {dropped}; {report['eval_rows_overlapping_train']:,} of "
            f"{report['eval_rows']:,} eval {unit}s repeat a training {unit}; distinct-1 {report['distinct_1']:.3f}, "
            f"distinct-2 {report['distinct_2']:.3f}; largest template {report['largest_template_share']:.1%} of "
            f"{report['train_rows_out']:,} (limit {report['max_template_share']:.0%}); {report['seconds']:.1f} s")


def overlap_problem(overlaps: list[tuple[int, int]], eval_texts: list[str], train_texts: list[str],
                    spec: DataCheckSpec, unit: str) -> str:
    e, t = overlaps[0]
    same = "the same text" if eval_texts[e] == train_texts[t] else "a near duplicate"
    count = len({e for e, _ in overlaps})
    return (f"data_check: {count:,} of {len(eval_texts):,} eval {unit}s repeat a training {unit} (the same text, or "
            f"Jaccard >= {spec.near_duplicate_threshold:g}), e.g. eval {unit} {eval_texts[e][:_EXAMPLE_CHARS]!r} is "
            f"{same} of training {unit} {train_texts[t][:_EXAMPLE_CHARS]!r}: the eval would measure memory, not "
            f"learning. Split the data again, or set data_check.eval_overlap=drop_from_train to train without them.")


def normalise(text) -> str:
    """Whitespace collapsed to single spaces, ends stripped: how texts are compared."""
    return " ".join(str(text).split())


# --- signatures ------------------------------------------------------------------------------

def signatures(texts: list[str], n: int, num_perm: int) -> np.ndarray:
    """(len(texts), num_perm) MinHash signatures of each text's set of character n-grams: the
    hashvalues of datasketch's MinHash(num_perm, seed=SEED). A text shorter than n is one n-gram."""
    from datasketch import MinHash

    if not texts:
        return np.zeros((0, num_perm), dtype=np.uint32)
    grams = ([t[i:i + n].encode() for i in range(max(len(t) - n + 1, 1))] for t in texts)
    return np.stack([m.hashvalues for m in MinHash.bulk(grams, num_perm=num_perm, seed=SEED)])


def lean(signature: np.ndarray):
    from datasketch import LeanMinHash

    return LeanMinHash(seed=SEED, hashvalues=signature, scheme="affine32")


def similarity(sigs: np.ndarray, one: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity of each signature in `sigs` with `one` (share of equal values)."""
    return (sigs == one).mean(axis=-1)


# --- duplicates and overlap --------------------------------------------------------------------

def near_duplicate_index(threshold: float, num_perm: int):
    """datasketch's MinHashLSH for `threshold`, its bands weighted towards recall: a candidate is
    checked against the signatures anyway, so a false positive costs one comparison."""
    from datasketch import MinHashLSH

    return MinHashLSH(threshold=threshold, num_perm=num_perm, weights=(0.1, 0.9))


def find_duplicates(texts: list[str], sigs: np.ndarray,
                    threshold: float) -> tuple[np.ndarray, np.ndarray, dict[str, int], object]:
    """(heads: for each row the first row of its cluster, itself when it is the first; kinds: ""
    for a first row, else "duplicate" or "near_duplicate"; the head of each distinct text's
    cluster; the LSH index of the heads)."""
    index = near_duplicate_index(threshold, sigs.shape[1])
    heads = np.arange(len(texts))
    kinds = np.full(len(texts), "", dtype=object)
    first: dict[str, int] = {}
    for i, text in enumerate(texts):
        if text in first:
            heads[i], kinds[i] = first[text], "duplicate"
            continue
        minhash = lean(sigs[i])
        match = best_match(index.query(minhash), sigs, sigs[i], threshold)
        if match is not None:
            heads[i], kinds[i] = match, "near_duplicate"
        else:
            index.insert(i, minhash, check_duplication=False)
        first[text] = int(heads[i])
    return heads, kinds, first, index


def best_match(candidates: list[int], sigs: np.ndarray, one: np.ndarray, threshold: float) -> int | None:
    """The earliest of the most similar candidates at or above threshold, or None."""
    if not candidates:
        return None
    candidates = sorted(candidates)
    sims = similarity(sigs[candidates], one)
    best = int(np.argmax(sims))
    return candidates[best] if sims[best] >= threshold else None


def find_overlaps(eval_texts: list[str], eval_sigs: np.ndarray, train_sigs: np.ndarray, first: dict[str, int],
                  index, threshold: float) -> list[tuple[int, int]]:
    """(eval row, the head of the training cluster it repeats) for every eval row that is an exact
    or near duplicate of a training row; `first` and `index` are find_duplicates'."""
    if not first:
        return []
    out = []
    for e, text in enumerate(eval_texts):
        if text in first:
            out.append((e, first[text]))
            continue
        match = best_match(index.query(lean(eval_sigs[e])), train_sigs, eval_sigs[e], threshold)
        if match is not None:
            out.append((e, match))
    return out


# --- diversity -------------------------------------------------------------------------------

def distinct_n(texts: list[str], n: int) -> float:
    """Distinct character n-grams / all character n-grams of the texts (n = 1 or 2; 0.0 when none)."""
    if not texts:
        return 0.0
    codes = np.frombuffer("\0".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    inside = codes != 0
    if n == 1:
        grams = codes[inside]
    elif n == 2:
        both = inside[:-1] & inside[1:]
        grams = (codes[:-1] << np.uint64(21) | codes[1:])[both]
    else:
        raise ValueError(f"distinct_n: n must be 1 or 2, got {n}")
    return round(len(pd.unique(grams)) / len(grams), 4) if len(grams) else 0.0   # a hash table: no sort


def template_texts(texts: list[str]) -> list[str]:
    """Each text with every run of digits written as one 0: what templates are compared on."""
    return [_DIGITS.sub("0", t) for t in texts]


def largest_template(texts: list[str], spec: DataCheckSpec) -> tuple[float, int, int | None]:
    """(share of the rows in the largest template cluster, its rows, the index of its centre);
    see the module docstring for the definition."""
    if not texts:
        return 0.0, 0, None
    sigs = signatures(template_texts(texts), spec.ngram_chars, spec.num_perm)
    rng = np.random.default_rng(0)
    sample = np.sort(rng.choice(len(texts), size=min(len(texts), TEMPLATE_CENTRES), replace=False))
    sampled = sigs[sample]
    in_sample = np.zeros(len(sample), dtype=np.int64)
    for lo in range(0, len(sample), 64):   # 64 centres x the sample at a time: ~8 MB of comparisons
        block = sampled[lo:lo + 64, None, :]
        in_sample[lo:lo + 64] = (similarity(sampled[None, :, :], block) >= spec.template_similarity).sum(axis=1)
    best_rows, best_centre = 0, None
    for pick in np.argsort(-in_sample, kind="stable")[:TEMPLATE_FINALISTS]:
        centre = int(sample[pick])
        rows = int((similarity(sigs, sigs[centre]) >= spec.template_similarity).sum())
        if rows > best_rows:
            best_rows, best_centre = rows, centre
    return best_rows / len(texts), best_rows, best_centre
