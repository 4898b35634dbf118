"""The records the audit-loop benchmark audits and measures on: real addresses, wrapped as records,
with kinds the generator never makes.

    pool = audit_records("train", 3000, seed=1)      # the rows a person may be asked about
    held = audit_records("measure", 2000, seed=2)    # never audited: F1 and correct kept
    pool[["record_id", "text", "truth", "kind"]]

Each row starts from a real address of one part of the shipped real addresses (real.py: `train`
for the pool, `measure` for the measurement set, so no address is in both), wrapped as the
demo's records are (real_measure.wrap). Then, by share:

  real               the address as it is: 正确
  company_after      a company written after the address (…88号杭州启明科技有限公司): 正确, a
                     real shape the generator never writes
  vague_location     the detail cut before its number and ended by 附近, 对面, 旁边…: 错误, a
                     kind the generator never makes and no check names
  number_unknown     the number replaced by a placeholder (门牌不详, 号码待补, 见备注…): 错误,
                     likewise
  generated          a record of the generator's own error kinds, built on a real base: 错误

`truth` is what a person who reads the address would answer; the simulated person answers it.
"""

from __future__ import annotations

import random
import re

import pandas as pd

from rayscore.addresses.real import real_addresses
from rayscore.addresses.real_measure import wrap
from rayscore.addresses.records import generate_records
from rayscore.data.pairs import CORRECT, WRONG

SHARES = {"real": 0.55, "company_after": 0.15, "vague_location": 0.1, "number_unknown": 0.1, "generated": 0.1}
TRUTH = {"real": CORRECT, "company_after": CORRECT, "vague_location": WRONG, "number_unknown": WRONG,
         "generated": WRONG}
UNSEEN_KINDS = ("company_after", "vague_location", "number_unknown")

VAGUE = ("附近", "对面", "旁边", "周边", "一带", "那边", "后面")
PLACEHOLDERS = ("门牌不详", "号码待补", "具体见备注", "地址同上", "门牌号未知", "号待定", "详址后补")
COMPANY_PLACES = ("启明", "华信", "恒达", "宏远", "金桥", "鼎盛", "万通", "瑞丰", "中联", "天成", "嘉禾", "汇丰")
COMPANY_KINDS = ("科技有限公司", "贸易有限公司", "物流有限公司", "电子商务有限公司", "建材商行", "餐饮管理有限公司")
# The detail before its first number: at least two characters of road or place after the admin names.
BEFORE_NUMBER = re.compile(r"^(.*?[路街道巷弄里村镇区]\w{0,12}?)[0-9０-９]")


def vague_location(address: str, r: random.Random) -> str | None:
    m = BEFORE_NUMBER.match(address)
    return m.group(1) + r.choice(VAGUE) if m else None


def number_unknown(address: str, r: random.Random) -> str | None:
    m = BEFORE_NUMBER.match(address)
    return m.group(1) + r.choice(PLACEHOLDERS) if m else None


def company_after(address: str, r: random.Random) -> str | None:
    if not re.search(r"[0-9]号$", address):
        return None
    return address + r.choice(COMPANY_PLACES) + r.choice(COMPANY_KINDS)


EDITS = {"real": lambda a, r: a, "company_after": company_after, "vague_location": vague_location,
         "number_unknown": number_unknown}


def audit_records(part: str, n: int, seed: int) -> pd.DataFrame:
    """`n` rows (record_id, text, truth, kind, address) of the mix above, from one part's addresses."""
    r = random.Random(f"audit-{part}-{seed}")
    addresses = [a for corpus in ("cpca", "geocoding") for a in real_addresses(corpus, part)]
    r.shuffle(addresses)
    counts = {kind: round(n * share) for kind, share in SHARES.items()}
    counts["real"] += n - sum(counts.values())
    rows, pool = [], iter(addresses)
    for kind, count in counts.items():
        if kind == "generated":
            continue
        made = 0
        while made < count:
            address = EDITS[kind](next(pool), r)
            if address is not None:
                rows.append((wrap(address, r), TRUTH[kind], kind, address))
                made += 1
    generated = generate_records(counts["generated"], seed=1000 + seed, error_rate=1.0, real_share=1.0)
    rows += [(t, WRONG, "generated", "") for t in generated["text"]]
    frame = pd.DataFrame(rows, columns=["text", "truth", "kind", "address"]).sample(frac=1.0, random_state=seed)
    frame.insert(0, "record_id", [f"{part}-{seed}-{i:05d}" for i in range(len(frame))])
    return frame.reset_index(drop=True)
