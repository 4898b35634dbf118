"""The error kinds of an address's detail part (what follows the administrative names): junk in a
road name or a number, a house number that cannot be one, a road without its 路, another place's
detail pasted on, a contact written into the address, the address cut short or written twice.

    import random
    from rayscore.addresses.detail_corruptions import corrupt_number_junk
    from rayscore.addresses.records import build_correct_record
    from rayscore.addresses.targets import load_tables
    r, tables = random.Random(0).random, load_tables()
    record = build_correct_record(r, tables)
    corrupt_number_junk(r, tables, record)   # True: 5单元904 -> 5单元9^04

Each is honest: a road stripped of its 路 reads as no place, a pasted detail names another city,
and junk never takes the forms real numbers have (3#楼, 3-502, 601~603室). corruptions.py lists
every kind.
"""

from __future__ import annotations

import re

from rayscore.addresses.admin_corruptions import has_city_or_county
from rayscore.addresses.detail import COMMON_ROAD_NAMES, DIRECTIONS
from rayscore.addresses.divisions import CITY, COUNTY, PROVINCE
from rayscore.addresses.draws import Draw, draw_digits, pick, pick_cumulative
from rayscore.addresses.names import make_name
from rayscore.addresses.numbering import DRAWN_MOBILE_PREFIXES
from rayscore.addresses.record_parts import Record, render_phone
from rayscore.addresses.rest_parts import REST_SHAPE_CUMULATIVE, write_rest
from rayscore.addresses.targets import Tables

GARBAGE_SYMBOLS = "#?@!$%&*^~"
# number_junk: a lowercase latin letter goes between two digits of a number with its unit
# (12a3号; 12A号, 2a508 and capitals are real room forms), a symbol anywhere after the first
# digit. Never "#" (3#楼), "-" (3-502) nor "~" (601~603室, a range).
NUMBER_JUNK_LETTERS = "abcdefghjkmnpqrstuvwxyz"
NUMBER_JUNK_SYMBOLS = "@?*$%^="
# A house or room number part (12号, 8号院, 3号楼, 502室, a bare 1203) and a house number proper.
NUMBER_PART = re.compile(r"(\d+)(号院|号楼|号|室|)")
HOUSE_NUMBER_PART = re.compile(r"(\d+)(号院|号)")
# What ends a road name, longest first (大道 before 道): road_no_suffix drops it, with the
# numeral of 一路 (柳宝一173号 would run the numeral into the number).
ROAD_ENDINGS = ("大道", "大街", "胡同", "一路", "二路", "三路", "路", "街", "巷", "弄", "道")
# A road stem ending so reads as a place of its own without the suffix (新城8号, 张庄8号), or
# being one of these words (公园8号): such roads are not stripped.
PLACE_NOUN_ENDINGS = frozenset("城庄营屯集店寨湾岛港桥园村寺阁亭堡围圩坝塘坪岭峪沟口门洲滩场站馆院楼区")
PLACE_NOUN_STEMS = frozenset({"公园", "车站", "机场", "学院", "体育", "中关村", "金融", "科技"})
CONTACT_SUFFIX = "收"    # 张伟收: "for 张伟", how a name is written into an address


# --- what a kind needs of a record ---------------------------------------------------------------


def has_named_part(rec: Record) -> bool:
    """A named road, village, POI or compound in the rest (a real base may have none)."""
    return 0 <= rec.named < len(rec.rest)


def number_slots(rec: Record) -> list[int]:
    """Rest parts holding a house or room number that junk can go inside (a bare single digit
    has no inside and nothing after it)."""
    out = []
    for k, part in enumerate(rec.rest):
        m = NUMBER_PART.fullmatch(part)
        if m and (len(m.group(1)) >= 2 or m.group(2)):
            out.append(k)
    return out


def house_number_slots(rec: Record) -> list[int]:
    return [k for k, part in enumerate(rec.rest) if HOUSE_NUMBER_PART.fullmatch(part)]


def road_without_suffix(part: str) -> str | None:
    """A road part (人民路) without its ending, or None when it is no road or would read as a
    place of its own."""
    for ending in ROAD_ENDINGS:
        if part.endswith(ending) and len(part) - len(ending) >= 2:
            stem = part[: -len(ending)]
            if stem[-1] in PLACE_NOUN_ENDINGS or stem in PLACE_NOUN_STEMS:
                return None
            return stem
    return None


def road_slots(rec: Record, known: frozenset[str] = frozenset()) -> list[int]:
    """Roads with a name every reader knows as a road's (人民路, 解放东路), followed by a house
    number, whose stem is no known place (中山 is): without the suffix, 人民8号 is clearly a road
    cut short, where 金桥8号 could be a building or a village's number."""
    out = []
    for k in range(len(rec.rest) - 1):
        stem = road_without_suffix(rec.rest[k])
        common = stem and stem[:2] in COMMON_ROAD_NAMES and (len(stem) == 2 or stem[2:] in DIRECTIONS)
        if common and stem not in known and HOUSE_NUMBER_PART.fullmatch(rec.rest[k + 1]):
            out.append(k)
    return out


def stops_before_detail(rec: Record) -> bool:
    return bool(rec.admin) and rec.town is not None and bool(rec.rest)


# --- the corruptions ----------------------------------------------------------------------------


def corrupt_garbage_road(r: Draw, tables: Tables, rec: Record) -> bool:
    garbage = "".join(pick(r, GARBAGE_SYMBOLS) for _ in range(2 + int(r() * 4)))
    if garbage.count("#") == len(garbage):
        garbage = "?" + garbage[1:]   # "##" next to a number could pass for 3#楼
    rec.rest[rec.named] = garbage + rec.named_suffix
    return True


def corrupt_truncated_address(r: Draw, tables: Tables, rec: Record) -> bool:
    if not has_city_or_county(rec):
        return False
    rec.town = None
    rec.rest = []
    if COUNTY in rec.levels and CITY in rec.levels and r() < 0.3:
        k = rec.levels.index(COUNTY)
        del rec.admin[k:], rec.levels[k:]
    return True


def corrupt_duplicated_segment(r: Draw, tables: Tables, rec: Record) -> bool:
    # Never the municipality itself: 北京市北京市 is how some systems legitimately write it.
    admin = [k for k, level in enumerate(rec.levels)
             if not (level == PROVINCE and rec.target.division.is_municipality)]
    if rec.prefix and admin:
        admin = admin[:-1]   # after a platform's prefix the person may write the county again (费县费县)
    # Not the town: platforms write it twice when they join their town field to the address typed
    # (泉峰街道泉峰街道), and the address is deliverable. A real base may have no named road: then
    # an admin name is what repeats.
    road = has_named_part(rec)
    if admin and (r() < 0.5 or not road):
        k = pick(r, admin)
        rec.admin.insert(k + 1, rec.admin[k])
        rec.levels.insert(k + 1, rec.levels[k])
        rec.duplicated = "admin"
    elif road:
        rec.rest.insert(rec.named + 1, rec.rest[rec.named])
        rec.duplicated = "road"
    else:
        return False
    return True


def corrupt_number_junk(r: Draw, tables: Tables, rec: Record) -> bool:
    slots = number_slots(rec)
    if not slots:
        return False
    k = pick(r, slots)
    digits, suffix = NUMBER_PART.fullmatch(rec.rest[k]).groups()
    if len(digits) >= 2 and (not suffix or r() < 0.7):
        pos = 1 + int(r() * (len(digits) - 1))
        junk = pick(r, NUMBER_JUNK_LETTERS) if suffix and r() < 0.5 else pick(r, NUMBER_JUNK_SYMBOLS)
        rec.rest[k] = digits[:pos] + junk + digits[pos:] + suffix
    else:
        rec.rest[k] = digits + pick(r, NUMBER_JUNK_SYMBOLS) + suffix   # 3?号楼
    return True


def corrupt_bad_house_number(r: Draw, tables: Tables, rec: Record) -> bool:
    slots = house_number_slots(rec)
    if not slots:
        return False
    k = pick(r, slots)
    digits, suffix = HOUSE_NUMBER_PART.fullmatch(rec.rest[k]).groups()
    # 0号, or six or seven digits. Not a leading zero: real addresses write 高新南四道018号.
    if r() < 0.4:
        digits = "0"
    else:
        digits = str(1 + int(r() * 9)) + draw_digits(r, 5 + int(r() * 2))
    rec.rest[k] = digits + suffix
    return True


def corrupt_pasted_detail(r: Draw, tables: Tables, rec: Record) -> bool:
    if not (has_city_or_county(rec) and rec.rest):
        return False
    address = rec.address()
    for _ in range(30):
        other = pick(r, tables.with_district)
        d = other.division
        city = d.province if d.is_municipality else d.city
        if other.city_code == rec.target.city_code or city in address or d.district in address:
            continue
        detail, _, _ = write_rest(r, pick_cumulative(r, REST_SHAPE_CUMULATIVE))
        joiner = " " if r() < 0.25 else ""
        rec.rest += [joiner + city + d.district] + detail
        return True
    return False


def corrupt_road_no_suffix(r: Draw, tables: Tables, rec: Record) -> bool:
    slots = road_slots(rec, tables.known_names)
    if not slots:
        return False
    k = pick(r, slots)
    rec.rest[k] = road_without_suffix(rec.rest[k])
    return True


def corrupt_stops_at_town(r: Draw, tables: Tables, rec: Record) -> bool:
    if not stops_before_detail(rec):
        return False
    rec.rest = []
    return True


def corrupt_contact_in_address(r: Draw, tables: Tables, rec: Record) -> bool:
    if not rec.rest:
        return False
    if r() < 0.5:
        number = pick(r, DRAWN_MOBILE_PREFIXES) + draw_digits(r, 8)
        contact = render_phone("mobile", pick(r, (0, 0, 2, 3)), "", number)
        # After a digit a number would run into it (1203 13812345678): a space keeps it apart.
        joiner = " " if rec.rest[-1][-1:].isdigit() or r() < 0.3 else ""
    else:
        contact = (rec.name if rec.name and r() < 0.5 else make_name(r)) + (CONTACT_SUFFIX if r() < 0.3 else "")
        joiner = " " if r() < 0.2 else ""
    rec.rest.append(joiner + contact)
    return True
