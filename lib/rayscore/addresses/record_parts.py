"""One record as parts before it is written out: what records.py draws and corruptions.py edits.

    import random
    from rayscore.addresses.record_parts import render_phone
    from rayscore.addresses.records import build_correct_record
    from rayscore.addresses.targets import load_tables
    record = build_correct_record(random.Random(0).random, load_tables())
    record.admin, record.levels    # (['云南省', '红河哈尼族彝族自治州', '蒙自市'], [1, 2, 3])
    record.text()
    # '颜毅,云南省红河哈尼族彝族自治州蒙自市芷村镇清围社区28栋5单元904,座机：(0871)4729831,邮编：679666'
    render_phone("landline", 1, "0571", "87654321")   # '(0571)87654321'

A corruption changes a part (a name, an admin entry, the phone's number) and the text is written
from the parts afterwards, so nothing else of the record changes with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rayscore.addresses.divisions import CITY, COUNTY, PROVINCE
from rayscore.addresses.targets import Target

JUNK = 0   # level of an admin entry that is not a name (digits_in_admin)


@dataclass
class Record:
    """A record's parts before it is written out; corruptions edit these in place."""

    target: Target
    name: str | None
    admin: list[str]              # administrative names as written (full or short)
    levels: list[int]             # PROVINCE, CITY, COUNTY (or JUNK) for each admin entry
    town: str | None
    sep: str                      # between admin levels and before the rest: "", " " or "-"
    rest: list[str]               # road, number, compound, building, ... concatenated
    named: int                    # index in rest of the named part (road, village, POI, compound)
    named_suffix: str             # that part's suffix, kept by garbage_road: 路, 村, 广场
    postcode: str | None
    phone: str | None
    phone_kind: str               # "mobile" or "landline"
    phone_format: int
    phone_area: str               # landlines only
    phone_number: str             # 11 digits (mobile) or the local number (landline)
    postcode_label: str
    phone_label: str
    field_sep: str
    postcode_first: bool
    shape: str = ""               # the admin shape it was drawn with (ADMIN_SHAPES)
    rest_shape: str = ""          # the rest shape it was drawn with (REST_SHAPES)
    duplicated: str = ""          # duplicated_segment only: what was written twice (admin, road)
    base: str = "generated"       # "real": the admin names, town and rest are a real address's
    prefix: str = ""              # a platform's restated prefix, written first and never edited (real bases)

    def copy(self) -> Record:
        out = Record(**{**self.__dict__})
        out.admin, out.levels, out.rest = list(self.admin), list(self.levels), list(self.rest)
        return out

    def address(self) -> str:
        segments = self.admin + [self.town] if self.town else self.admin
        head = self.sep.join(segments)
        tail = "".join(self.rest)
        return self.prefix + (head + self.sep + tail if head and tail else head + tail)

    def text(self) -> str:
        postcode = None if self.postcode is None else self.postcode_label + self.postcode
        phone = None if self.phone is None else self.phone_label + self.phone
        fields = [self.name, self.address()]
        fields += [postcode, phone] if self.postcode_first else [phone, postcode]
        return self.field_sep.join(f for f in fields if f is not None)

    def columns(self) -> tuple[str, str, str]:
        """province, city, district as written ("" when not written; 北京市 is both)."""
        found = {PROVINCE: "", CITY: "", COUNTY: ""}
        for name, level in zip(self.admin, self.levels):
            if level != JUNK and not found[level]:
                found[level] = name
        province, city, district = found[PROVINCE], found[CITY], found[COUNTY]
        if province and not city and self.target.division.is_municipality:
            city = province
        return province, city, district


def render_phone(kind: str, fmt: int, area: str, number: str) -> str:
    if kind == "landline":
        return f"{area}-{number}" if fmt == 0 else f"({area}){number}"
    if fmt == 1:
        return "+86 " + number
    if fmt == 2:
        return f"{number[:3]}-{number[3:7]}-{number[7:]}"
    if fmt == 3:
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    return number
