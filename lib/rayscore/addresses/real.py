"""Real Chinese addresses written by people, shipped with rayscore, split once and for all.

    from rayscore.addresses.real import CORPORA, real_addresses, part_of
    real_addresses("cpca", "train")[:2]      # company addresses that may feed training
    real_addresses("geocoding", "measure")    # e-commerce addresses that are only ever measured
    part_of("北京市海淀区中关村大街1号")        # "train" or "measure": a stable hash of the address

Two corpora (data/real/, each folder with its licence): `cpca`, company addresses from job
postings (MIT), and `geocoding`, e-commerce delivery addresses (MIT). They are not labelled:
most are deliverable, and they carry the noise real records carry. Each address falls in one part
by a hash of its first characters (blake2b, not Python's salted hash()), so the split is the same
on every machine and for every run, and near-repeats that share a start share a part: `train` may
feed training as real bases, `measure` is only measured.
"""

from __future__ import annotations

import csv
import functools
import hashlib
from pathlib import Path

REAL_DIR = Path(__file__).with_name("data") / "real"
CORPORA = ("cpca", "geocoding")
PARTS = ("train", "measure")
# One address in this many goes to the measurement part.
MEASURE_EVERY = 2
# Characters of an address (spaces removed) its part is drawn by.
SPLIT_KEY_CHARS = 12


def part_of(address: str) -> str:
    """The part an address belongs to, by a stable hash of its first characters: an address and a
    longer one that starts with it (上海市浦东新区长柳路58号, …58号XX大厦) fall in one part."""
    key = "".join(address.split())[:SPLIT_KEY_CHARS]
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return "measure" if int.from_bytes(digest, "big") % MEASURE_EVERY == 0 else "train"


@functools.cache
def _all(corpus: str) -> tuple[str, ...]:
    if corpus == "cpca":
        with open(REAL_DIR / "cpca" / "addr.csv", encoding="utf-8", newline="") as f:
            rows = [row[0] for row in csv.reader(f)][1:]   # header: 原始地址,规模
    elif corpus == "geocoding":
        rows = (REAL_DIR / "geocoding" / "address.txt").read_text(encoding="utf-8").splitlines()
    else:
        raise ValueError(f"unknown corpus {corpus!r}; one of {', '.join(CORPORA)}")
    # Blank lines and repeats carry nothing; a repeat would also count twice in a measurement.
    return tuple(dict.fromkeys(a.strip() for a in rows if a.strip()))


@functools.cache
def real_addresses(corpus: str, part: str) -> tuple[str, ...]:
    """The distinct, non-blank addresses of `corpus` in `part`, in file order."""
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; one of {', '.join(PARTS)}")
    return tuple(a for a in _all(corpus) if part_of(a) == part)
