"""The error kinds of a record's fields: the name, the postcode and the phone.

    import random
    from rayscore.addresses.field_corruptions import corrupt_postcode_region
    from rayscore.addresses.records import build_correct_record
    from rayscore.addresses.targets import load_tables
    r, tables = random.Random(0).random, load_tables()
    record = build_correct_record(r, tables)
    corrupt_postcode_region(r, tables, record)   # True: record.postcode is another province's

Each edits one field so that exactly one thing is wrong with it: a postcode of 5 or 7-8 digits or
of another province, a phone with letters, of the wrong length, with another province's area code
or a prefix no operator has, a field dropped, a name nobody has. corruptions.py lists every kind.
"""

from __future__ import annotations

from collections.abc import Callable

from rayscore.addresses.divisions import CITY, PROVINCE
from rayscore.addresses.draws import Draw, draw_digits, pick
from rayscore.addresses.names import SURNAMES
from rayscore.addresses.numbering import (
    AREA_CODES,
    POSTCODE_PREFIX_PROVINCES,
    POSTCODE_PREFIXES,
    UNALLOCATED_MOBILE_PREFIXES,
)
from rayscore.addresses.record_parts import Record, render_phone
from rayscore.addresses.targets import Tables

# Lookalike letters typed for digits (O for 0, l for 1), then letters and symbols. Never the
# characters a valid phone may hold: digits, "-", "+", " ", "(", ")".
PHONE_LOOKALIKES = {"0": "Oo", "1": "lI", "2": "Z", "5": "S", "6": "b", "8": "B", "9": "g"}
NONDIGIT_CHARS = "abcdefghijkmnopqrstuvwxyzABCDEFXO#*?@!$%"
JUNK_LATIN = ("abc", "xxx", "test", "asdf", "qwe", "null", "aaa", "zzz", "qq", "xyz", "abcd", "admin",
              "user", "NA", "XX", "ceshi", "sdf")
JUNK_SYMBOLS = "#?@!*~%&^"
JUNK_REPEATED = ("啊", "哈", "嗯", "哦", "呵", "x", "a", "1", "0", "某", "无")


# --- what a kind needs of a record ---------------------------------------------------------------


def names_a_region(rec: Record) -> bool:
    """A province or city is written: a postcode or area code can contradict it."""
    return PROVINCE in rec.levels or CITY in rec.levels


# --- the corruptions ----------------------------------------------------------------------------


def corrupt_postcode_length(r: Draw, tables: Tables, rec: Record) -> bool:
    if r() < 0.4:
        rec.postcode = rec.postcode[:5]
    else:
        rec.postcode += draw_digits(r, 1 + int(r() * 2))
    return True


def corrupt_phone_nondigit(r: Draw, tables: Tables, rec: Record) -> bool:
    x = r()
    if x < 0.12:
        rec.phone = "".join(pick(r, NONDIGIT_CHARS) for _ in range(3 + int(r() * 6)))
        return True
    chars = list(rec.phone_number)
    positions = [k for k, c in enumerate(chars) if c in PHONE_LOOKALIKES and k > 0]
    if x < 0.6 and positions:
        # Lookalike letters for digits (O for 0): the typing slip of a copied number.
        for _ in range(1 + int(r() * 2)):
            k = pick(r, positions)
            chars[k] = pick(r, PHONE_LOOKALIKES[rec.phone_number[k]])
    else:
        for _ in range(1 + int(r() * 2)):
            chars.insert(1 + int(r() * (len(chars) - 1)), pick(r, NONDIGIT_CHARS))
    rec.phone = render_phone(rec.phone_kind, rec.phone_format, rec.phone_area, "".join(chars))
    return True


def corrupt_phone_length(r: Draw, tables: Tables, rec: Record) -> bool:
    number = rec.phone_number
    if rec.phone_kind == "mobile":
        valid = {11}
    else:
        valid = {7, 8}
    while True:
        if r() < 0.5:
            changed = number[: len(number) - 1 - int(r() * 3)]
        else:
            changed = number + draw_digits(r, 1 + int(r() * 2))
        if len(changed) not in valid:
            break
    rec.phone = render_phone(rec.phone_kind, rec.phone_format, rec.phone_area, changed)
    return True


def corrupt_missing_field(r: Draw, tables: Tables, rec: Record) -> bool:
    dropped = int(r() * 3)
    if dropped == 0:
        rec.name = None
    elif dropped == 1:
        rec.postcode = None
    else:
        rec.phone = None
    return True


def make_junk_name(r: Draw) -> str:
    x = r()
    if x < 0.2:
        return draw_digits(r, 3 + int(r() * 6))
    if x < 0.4:
        return pick(r, JUNK_LATIN) + (draw_digits(r, 1 + int(r() * 3)) if r() < 0.3 else "")
    if x < 0.6:
        return "".join(pick(r, JUNK_SYMBOLS) for _ in range(2 + int(r() * 3)))
    if x < 0.8:
        return pick(r, JUNK_REPEATED) * (3 + int(r() * 3))
    # A surname and junk after it: 张123, 李abc.
    tail = draw_digits(r, 1 + int(r() * 3)) if r() < 0.5 else pick(r, JUNK_LATIN)
    return pick(r, SURNAMES) + tail


def corrupt_bad_name(r: Draw, tables: Tables, rec: Record) -> bool:
    rec.name = make_junk_name(r)
    return True


def other_province(r: Draw, own: str, fits: Callable[[str], bool] = lambda p: True) -> str:
    provinces = [p for p in AREA_CODES if p != own and fits(p)]
    return pick(r, provinces)


def corrupt_postcode_region(r: Draw, tables: Tables, rec: Record) -> bool:
    if rec.postcode is None or not names_a_region(rec):
        return False
    own = rec.target.province_code
    # Not a range the record's own province also uses (内蒙古's 兴安盟 writes 吉林's 13xxxx).
    province = other_province(r, own, lambda p: all(own not in POSTCODE_PREFIX_PROVINCES[x]
                                                    for x in POSTCODE_PREFIXES[p]))
    rec.postcode = pick(r, POSTCODE_PREFIXES[province]) + draw_digits(r, 4)
    return True


def corrupt_area_code_region(r: Draw, tables: Tables, rec: Record) -> bool:
    if rec.phone_kind != "landline" or rec.phone is None or not names_a_region(rec):
        return False
    # A 3-digit area code (a big city) has 8-digit local numbers only: keep the number valid.
    short_ok = len(rec.phone_number) == 8
    province = other_province(r, rec.target.province_code, lambda p: short_ok or len(AREA_CODES[p]) == 4)
    rec.phone_area = AREA_CODES[province]
    rec.phone = render_phone(rec.phone_kind, rec.phone_format, rec.phone_area, rec.phone_number)
    return True


def corrupt_mobile_prefix(r: Draw, tables: Tables, rec: Record) -> bool:
    if rec.phone_kind != "mobile" or rec.phone is None:
        return False
    rec.phone_number = pick(r, UNALLOCATED_MOBILE_PREFIXES) + rec.phone_number[3:]
    rec.phone = render_phone(rec.phone_kind, rec.phone_format, rec.phone_area, rec.phone_number)
    return True
