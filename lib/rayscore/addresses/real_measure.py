"""Measuring a quality model on real addresses it never trained on (the `measure` part of real.py).

    frame = measurement_records(per_corpus=1000)     # record_id, text, corpus, address
    write_measurement("out/real/measure", per_corpus=1000)
    report = real_report(scored, operating_points)   # per corpus: share called 错误 / 待审, and why

The addresses are real and unlabelled: most are deliverable. Each is wrapped as a record the way
the demo's records are written, with a name, postcode and phone generated for the province its
admin names resolve to (a random one when none resolves), so only the address is real and a
record's verdict is about its address. A figure here is the share a labeller does not accept,
for the label as shipped, for the model alone and for the checks alone, with the reasons
(failed checks) counted: a model that flags a large share of these is not usable, whatever it
scores on generated records.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pandas as pd

from rayscore.addresses.checks import inspect
from rayscore.addresses.names import make_name
from rayscore.addresses.numbering import DRAWN_MOBILE_PREFIXES, POSTCODE_PREFIXES
from rayscore.addresses.real import CORPORA, real_addresses
from rayscore.data.pairs import CORRECT, REVIEW, WRONG
from rayscore.eval.operating_points import outcome


def province_of(address: str) -> str | None:
    """The province code the address's admin names resolve to, as the checks read it (a label
    such as 地址: skipped), if any."""
    provinces = inspect(f"x,{address}").provinces
    return min(provinces) if provinces else None


def wrap(address: str, r) -> str:
    """The address as a record: 姓名,地址,邮编:…,电话:… with a postcode of its province."""
    province = province_of(address) or r.choice(sorted(POSTCODE_PREFIXES))
    postcode = r.choice(POSTCODE_PREFIXES[province]) + f"{r.randrange(10_000):04d}"
    phone = r.choice(DRAWN_MOBILE_PREFIXES) + f"{r.randrange(10 ** 8):08d}"
    return f"{make_name(r.random)},{address},邮编:{postcode},电话:{phone}"


def measurement_records(per_corpus: int | None = None, seed: int = 0) -> pd.DataFrame:
    """The first `per_corpus` addresses (None: all) of each corpus's measurement part, wrapped."""
    rows = []
    for corpus in CORPORA:
        addresses = real_addresses(corpus, "measure")[:per_corpus]
        r = random.Random(f"{seed}-{corpus}")
        rows += [(f"real-{corpus}-{i:06d}", wrap(a, r), corpus, a) for i, a in enumerate(addresses)]
    return pd.DataFrame(rows, columns=["record_id", "text", "corpus", "address"])


def write_measurement(path: str | Path, per_corpus: int | None = None, seed: int = 0) -> str:
    """measurement_records as <path>/part-00000.parquet (what score_batch reads)."""
    Path(path).mkdir(parents=True, exist_ok=True)
    file = Path(path, "part-00000.parquet")
    measurement_records(per_corpus, seed).to_parquet(file, index=False)
    return str(file)


def shares(labels) -> dict:
    counts, n = Counter(labels), len(labels)
    return {label: round(counts[label] / n, 4) if n else None for label in (WRONG, REVIEW)}


def real_report(scored: pd.DataFrame, operating_points: dict | None, threshold: float = 0.5) -> dict:
    """Per corpus: rows, the shares called 错误 and 待审 by the label as shipped, by the model
    alone (its operating points, else the threshold) and by the checks alone (错误 iff any
    failed), and the failed checks counted on the rows the shipped label does not accept."""
    out = {}
    for corpus, rows in scored.groupby("corpus", sort=True):
        p = rows["p_correct"].to_numpy(dtype=float)
        model = (outcome(p, operating_points) if operating_points
                 else [CORRECT if x >= threshold else WRONG for x in p])
        flags = [list(f) for f in rows["check_flags"]]
        flagged = rows["label"].to_numpy() != CORRECT
        out[str(corpus)] = {
            "n": len(rows),
            "decision": shares(rows["label"].tolist()),
            "model": shares(list(model)),
            "checks": shares([WRONG if f else CORRECT for f in flags]),
            "decided_by_check": round(float((rows["decided_by"] == "check").mean()), 4),
            "reasons": dict(Counter(f for fs, bad in zip(flags, flagged) if bad for f in fs).most_common()),
            "flagged_without_a_check": int(sum(1 for fs, bad in zip(flags, flagged) if bad and not fs)),
        }
    return out
