"""The error kinds: one function per kind, each editing a correct record so exactly one thing is wrong.

    import random
    from rayscore.addresses.corruptions import CORRUPTIONS, ERROR_TYPES, suits
    from rayscore.addresses.records import build_correct_record
    from rayscore.addresses.targets import load_tables
    r, tables = random.Random(0).random, load_tables()
    record = build_correct_record(r, tables)
    if suits("admin_typo", record) and CORRUPTIONS["admin_typo"](r, tables, record):
        record.text()    # '颜毅,云南省红河哈尼族彝族自治州海自市芷村镇...': 蒙自市 -> 海自市

A corruption returns False, leaving the record untouched, when the record lacks the part it
corrupts; SUITS says beforehand which records a kind can apply to, so build_record (records.py)
draws until one suits. Each is honest: a "wrong" city really is not in the province, a typo or a
cut name is no known name, a road stripped of its 路 reads as no place, a wrong postcode or area
code belongs to another province, and nothing else changes with it (the town follows a swapped
county). The kinds work on a real base too (real_bases.py): its detail is split into parts, and
a kind that needs a part the base lacks (a named road, a town) is not drawn for it (SUITS).
"""

from __future__ import annotations

from collections.abc import Callable

import re

from rayscore.addresses.numbering import (
    AREA_CODES,
    DRAWN_MOBILE_PREFIXES,
    POSTCODE_PREFIX_PROVINCES,
    POSTCODE_PREFIXES,
    UNALLOCATED_MOBILE_PREFIXES,
)
from rayscore.addresses.detail import COMMON_ROAD_NAMES, DIRECTIONS
from rayscore.addresses.divisions import CITY, COUNTY, PROVINCE, short_name
from rayscore.addresses.draws import Draw, draw_digits, pick, pick_cumulative
from rayscore.addresses.names import SURNAMES, make_name
from rayscore.addresses.record_parts import JUNK, Record, render_phone
from rayscore.addresses.rest_parts import REST_SHAPE_CUMULATIVE, write_rest
from rayscore.addresses.targets import Tables, Target

# The kinds in the order a wrong row draws them (by index): reordering changes every wrong row.
ERROR_TYPES = (
    "postcode_length",       # 5 or 7-8 digits
    "phone_nondigit",        # letters or symbols in the phone
    "phone_length",          # mobile not 11 digits, landline local number not 7-8
    "digits_in_admin",       # digits between or inside the administrative names: 北京市1234海淀区
    "garbage_road",          # symbols as the road or POI name: #?@!路
    "city_not_in_province",  # a real city of another province
    "district_not_in_city",  # a real county or district of another city
    "missing_field",         # name, postcode or phone dropped
    "truncated_address",     # address stops after the city or county
    "duplicated_segment",    # an admin level (朝阳区朝阳区) or the road written twice
    "bad_name",              # the name is junk: digits, latin letters, symbols, 啊啊啊
    "admin_typo",            # one character of the city or county changed: 海定区
    "admin_conflict",        # another name of the same level beside the city or county: 北京市朝阳区海淀区
    "admin_order",           # two adjacent levels swapped: 西湖区杭州市, 杭州市浙江省西湖区
    "admin_cut",             # an inner character of the city or county dropped: 门头沟区 -> 门头区 (if unknown)
    "number_junk",           # a latin letter or symbol inside a house or room number: 12a3号, 5@02室
    "bad_house_number",      # a house number that cannot be one: 0号, 05号, 123456号
    "pasted_detail",         # another place's city, county and detail pasted after the detail
    "road_no_suffix",        # a road without its 路/街/巷/大道: 人民8号
    "postcode_region",       # a 6-digit postcode of another province
    "area_code_region",      # a landline with another province's area code
    "mobile_prefix",         # a mobile starting with a prefix no operator has: 140, 154, 194
    "stops_at_town",         # the address stops at the town: admin names + town, no detail
    "contact_in_address",    # a phone number or a person's name written inside the address
)

# County names that are also ordinary words (the urban area, the suburbs): 驻马店市城区 reads as
# "downtown 驻马店", so they are never the wrong county of district_not_in_city.
WORD_COUNTIES = frozenset({"城区", "郊区", "矿区", "东区", "西区"})
GARBAGE_SYMBOLS = "#?@!$%&*^~"
# Lookalike letters typed for digits (O for 0, l for 1), then letters and symbols. Never the
# characters a valid phone may hold: digits, "-", "+", " ", "(", ")".
PHONE_LOOKALIKES = {"0": "Oo", "1": "lI", "2": "Z", "5": "S", "6": "b", "8": "B", "9": "g"}
NONDIGIT_CHARS = "abcdefghijkmnopqrstuvwxyzABCDEFXO#*?@!$%"
JUNK_LATIN = ("abc", "xxx", "test", "asdf", "qwe", "null", "aaa", "zzz", "qq", "xyz", "abcd", "admin",
              "user", "NA", "XX", "ceshi", "sdf")
JUNK_SYMBOLS = "#?@!*~%&^"
JUNK_REPEATED = ("啊", "哈", "嗯", "哦", "呵", "x", "a", "1", "0", "某", "无")
# Confusions people really make in place names (same sound or shape); any other character is
# replaced from TYPO_FALLBACK.
TYPO_GROUPS = (
    "州洲舟周", "阳杨扬洋", "淀定靛", "江将姜", "山衫珊", "安按案", "京经晶", "宁凝柠", "城成程",
    "华化花", "庆青清", "武五午", "汉汗", "沙纱砂", "昌常倡", "兴星新", "河和合", "湖胡糊",
    "林琳霖", "海每", "南楠", "东冬", "西溪希", "明名鸣", "平萍坪", "泉全", "源元原园", "德得",
    "丰风峰枫", "台抬苔", "门们", "都督", "阴荫音", "义议益", "吉极即", "福富", "岳越", "余于鱼",
    "兰蓝", "桂贵", "连莲", "珠朱", "庄装", "通同桐", "襄香湘", "潭谈坛", "徐许", "鹤贺", "黄皇",
    "宜怡", "昆坤", "锡息", "鞍案", "莞管", "圳镇", "肥非", "滨宾", "春椿", "营赢", "芜无",
)
TYPO_FALLBACK = "东西南北中新安和平永兴长金龙江海山河城阳华明德福宁泰丰昌庆清源田湾洲港台水石林"
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
# Development and management zones: written beside a county they read as detail, not as a
# second county (商丘市梁园区豫东综合物流产业聚集区), so admin_conflict never borrows one.
ZONE_NAME = re.compile(r"开发区|新区|园区|管理区|示范区|聚集区|试验区|实验区|合作区")
CONTACT_SUFFIX = "收"    # 张伟收: "for 张伟", how a name is written into an address


# --- what a kind needs of a record ---------------------------------------------------------------


def has_two_admin_names(rec: Record) -> bool:
    return len(rec.admin) >= 2


def has_province_and_city(rec: Record) -> bool:
    """A city (or a county-level city straight after the province) to swap for another's."""
    return PROVINCE in rec.levels and not rec.target.division.is_municipality and len(rec.admin) >= 2


def has_city_above_county(rec: Record) -> bool:
    """A city written (北京市 counts), under which a county is or can be written."""
    if rec.shape == "county_city":
        return False
    return CITY in rec.levels or (rec.target.division.is_municipality and PROVINCE in rec.levels)


def has_city_or_county(rec: Record) -> bool:
    return CITY in rec.levels or COUNTY in rec.levels


def typo_slots(rec: Record) -> list[int]:
    """Admin entries a typo may change: a full city or county name, never the only admin name
    (琼每市 alone reads like a name the table lacks, to a check and to a reader)."""
    if len(rec.admin) < 2:
        return []
    d = rec.target.division
    return [k for k, (name, level) in enumerate(zip(rec.admin, rec.levels))
            if level in (CITY, COUNTY) and name in (d.city, d.district) and len(name) >= 3]


def has_named_part(rec: Record) -> bool:
    """A named road, village, POI or compound in the rest (a real base may have none)."""
    return 0 <= rec.named < len(rec.rest)


def names_a_region(rec: Record) -> bool:
    """A province or city is written: a postcode or area code can contradict it."""
    return PROVINCE in rec.levels or CITY in rec.levels


def conflict_slot(rec: Record) -> int | None:
    """The last city or county entry that names the record's own place (its code is known)."""
    d = rec.target.division
    for k in range(len(rec.admin) - 1, -1, -1):
        name, level = rec.admin[k], rec.levels[k]
        if name in WORD_COUNTIES or ZONE_NAME.search(name):
            # 米易县东区, 淮阴区淮安经济技术开发区: after another county these read as a part of it.
            return None
        if (level == COUNTY and name == d.district) or (
                level == CITY and not d.is_municipality and name in (d.city, rec.target.city_short)):
            return k
    return None


def order_slots(rec: Record) -> list[int]:
    """The first entry when the next is a deeper level: swapping the two puts them out of order
    (杭州市浙江省, 西湖区杭州市). Only at the start: 浙江省西湖区杭州市 reads as a province, its
    county and a detail starting 杭州市, which no rule can tell from a correct one."""
    # The name moved behind must be written in full (浙江省, 北京市): a short form there reads as
    # the start of a POI's name (朝阳区北京中海广场, 昆山市江苏苏宁购物中心), which is correct.
    full = len(rec.admin) > 1 and rec.admin[0][-1:] in "省市区县旗州盟"
    return [0] if full and 0 < rec.levels[0] < rec.levels[1] else []


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


# --- the corruptions, in the order of ERROR_TYPES ------------------------------------------------


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


def corrupt_digits_in_admin(r: Draw, tables: Tables, rec: Record) -> bool:
    # Always after the whole first name and before the last one begins, so a check sees known
    # names on both sides and the digits can never read as a house number.
    if not has_two_admin_names(rec):
        return False
    names = len(rec.admin)
    digits = draw_digits(r, 1 + int(r() * 4))
    inner = [k for k in range(1, names - 1) if len(rec.admin[k]) >= 2]
    if inner and r() < 0.35:
        k = pick(r, inner)
        name = rec.admin[k]
        # Never right before a final 区: 宝安45区 is how a numbered part of 宝安区 is written.
        room = len(name) - 1 - (name.endswith("区") and len(name) > 2)
        pos = 1 + int(r() * room)
        rec.admin[k] = name[:pos] + digits + name[pos:]
    else:
        k = 1 + int(r() * (names - 1))
        rec.admin.insert(k, digits)
        rec.levels.insert(k, JUNK)
    return True


def corrupt_garbage_road(r: Draw, tables: Tables, rec: Record) -> bool:
    garbage = "".join(pick(r, GARBAGE_SYMBOLS) for _ in range(2 + int(r() * 4)))
    if garbage.count("#") == len(garbage):
        garbage = "?" + garbage[1:]   # "##" next to a number could pass for 3#楼
    rec.rest[rec.named] = garbage + rec.named_suffix
    return True


def _exists_in_province(tables: Tables, name: str, province_code: str) -> bool:
    return any(p.code[:2] == province_code for p in tables.table.lookup(name))


def _exists_under(tables: Tables, name: str, code: str) -> bool:
    table = tables.table
    return any(p.code == code or table.is_ancestor(code, p.code) for p in table.lookup(name))


def _replace_town(r: Draw, rec: Record, other: Target) -> None:
    """The town must follow the new county, or the record would carry a second error."""
    if rec.town is not None:
        rec.town = pick(r, other.towns) if other.towns else None


def corrupt_city_not_in_province(r: Draw, tables: Tables, rec: Record) -> bool:
    if not has_province_and_city(rec):
        return False
    province_code = rec.target.province_code
    if rec.shape == "county_city":
        # 浙江省义乌市 -> 浙江省昆山市: the written city is a county-level city; swap it for one.
        k = rec.levels.index(COUNTY)
        for _ in range(100):
            other = pick(r, tables.county_cities)
            name = other.division.district
            if other.province_code != province_code and not _exists_in_province(tables, name, province_code):
                rec.admin[k] = name
                _replace_town(r, rec, other)
                return True
        return False
    k = rec.levels.index(CITY)
    short = rec.admin[k] != rec.target.division.city
    for _ in range(100):
        other = pick(r, tables.outside_municipalities)
        city = other.city_short if short and other.city_short else other.division.city
        if other.province_code == province_code or _exists_in_province(tables, city, province_code):
            continue
        # Keep the county in step with the new city: only the province is then inconsistent.
        names = [city] + ([other.division.district] if other.division.district else [])
        del rec.admin[k:], rec.levels[k:]
        rec.admin += names
        rec.levels += [CITY, COUNTY][: len(names)]
        _replace_town(r, rec, other)
        return True
    return False


def corrupt_district_not_in_city(r: Draw, tables: Tables, rec: Record) -> bool:
    target = rec.target
    municipality = target.division.is_municipality
    if not has_city_above_county(rec):
        return False
    # Half the time a county of another city in the same province: the harder case. A
    # municipality has no other city, so it always borrows from anywhere.
    same_province = r() < 0.5 and not municipality
    pool = tables.by_province[target.province_code] if same_province else tables.with_district
    for _ in range(100):
        other = pick(r, pool)
        name = other.division.district
        if (not name or name in WORD_COUNTIES or other.city_code == target.city_code
                or _exists_under(tables, name, target.city_code)):
            continue
        city_at = rec.levels.index(PROVINCE if municipality else CITY)
        del rec.admin[city_at + 1:], rec.levels[city_at + 1:]
        rec.admin.append(name)
        rec.levels.append(COUNTY)
        _replace_town(r, rec, other)
        return True
    return False


def corrupt_missing_field(r: Draw, tables: Tables, rec: Record) -> bool:
    dropped = int(r() * 3)
    if dropped == 0:
        rec.name = None
    elif dropped == 1:
        rec.postcode = None
    else:
        rec.phone = None
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


def _typo_candidates(ch: str) -> str:
    for group in TYPO_GROUPS:
        if ch in group:
            return group.replace(ch, "")
    return TYPO_FALLBACK.replace(ch, "")


def make_typo(r: Draw, tables: Tables, name: str) -> str | None:
    """`name` with one of its first characters changed into an unknown near miss, or None."""
    known = tables.known_names
    for _ in range(30):
        pos = int(r() * min(len(name) - 1, 3))
        pool = _typo_candidates(name[pos]) if r() < 0.8 else TYPO_FALLBACK.replace(name[pos], "")
        typo = name[:pos] + pick(r, pool) + name[pos + 1:]
        # Not a known name, nor holding one across the changed character (航州 inside 航州市).
        if not any(typo[a:b] in known for a in range(pos + 1) for b in range(pos + 1, len(typo) + 1)
                   if b - a >= 2):
            return typo
    return None


def edit_admin_name(r: Draw, tables: Tables, rec: Record, edit: Callable[[Draw, Tables, str], str | None]) -> bool:
    """One full city or county name (typo_slots) replaced by what `edit` makes of it."""
    slots = typo_slots(rec)
    if not slots:
        return False
    k = pick(r, slots)
    edited = edit(r, tables, rec.admin[k])
    if edited is None:
        return False
    rec.admin[k] = edited
    return True


def corrupt_admin_typo(r: Draw, tables: Tables, rec: Record) -> bool:
    return edit_admin_name(r, tables, rec, make_typo)


def corrupt_admin_conflict(r: Draw, tables: Tables, rec: Record) -> bool:
    # Before the true name, so what follows it (the next level, the town) still fits it.
    k = conflict_slot(rec)
    if k is None:
        return False
    other = sibling_name(r, tables, rec, k)
    if other is None:
        return False
    rec.admin.insert(k, other)
    rec.levels.insert(k, rec.levels[k])
    return True


def sibling_name(r: Draw, tables: Tables, rec: Record, k: int) -> str | None:
    """Another name of the same level under the same parent (宁波市 beside 杭州市), written
    short when the name it stands beside is (宁波 beside 杭州)."""
    table = tables.table
    own = rec.target.division.code if rec.levels[k] == COUNTY else rec.target.city_code
    place = table.places[own]
    siblings = [table.places[c] for c in table.children.get(place.parent or "", ())
                if c != own and table.places[c].level == place.level]
    siblings = [p for p in siblings if p.name not in WORD_COUNTIES and p.name not in rec.admin
                and not rec.admin[k].startswith(p.name[:2]) and not ZONE_NAME.search(p.name)]
    if not siblings:
        return None
    other = pick(r, siblings)
    short = rec.admin[k] != place.name and short_name(other)
    return short or other.name


def corrupt_admin_order(r: Draw, tables: Tables, rec: Record) -> bool:
    slots = order_slots(rec)
    if not slots:
        return False
    k = slots[0]
    rec.admin[k], rec.admin[k + 1] = rec.admin[k + 1], rec.admin[k]
    rec.levels[k], rec.levels[k + 1] = rec.levels[k + 1], rec.levels[k]
    return True


def make_cut(r: Draw, tables: Tables, name: str) -> str | None:
    """`name` with one inner character dropped (never the first nor the level suffix), when
    that is no known name or short form, nor holds one across the cut (杭市, not 元宝区)."""
    known = tables.known_names
    inner = list(range(1, len(name) - 1))
    for _ in range(len(inner)):
        pos = inner.pop(int(r() * len(inner)))
        cut = name[:pos] + name[pos + 1:]
        if not any(cut[a:b] in known for a in range(pos) for b in range(pos + 1, len(cut) + 1) if b - a >= 2):
            return cut
    return None


def corrupt_admin_cut(r: Draw, tables: Tables, rec: Record) -> bool:
    return edit_admin_name(r, tables, rec, make_cut)


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


CORRUPTIONS: dict[str, Callable[[Draw, Tables, Record], bool]] = {
    "postcode_length": corrupt_postcode_length,
    "phone_nondigit": corrupt_phone_nondigit,
    "phone_length": corrupt_phone_length,
    "digits_in_admin": corrupt_digits_in_admin,
    "garbage_road": corrupt_garbage_road,
    "city_not_in_province": corrupt_city_not_in_province,
    "district_not_in_city": corrupt_district_not_in_city,
    "missing_field": corrupt_missing_field,
    "truncated_address": corrupt_truncated_address,
    "duplicated_segment": corrupt_duplicated_segment,
    "bad_name": corrupt_bad_name,
    "admin_typo": corrupt_admin_typo,
    "admin_conflict": corrupt_admin_conflict,
    "admin_order": corrupt_admin_order,
    "admin_cut": corrupt_admin_cut,
    "number_junk": corrupt_number_junk,
    "bad_house_number": corrupt_bad_house_number,
    "pasted_detail": corrupt_pasted_detail,
    "road_no_suffix": corrupt_road_no_suffix,
    "postcode_region": corrupt_postcode_region,
    "area_code_region": corrupt_area_code_region,
    "mobile_prefix": corrupt_mobile_prefix,
    "stops_at_town": corrupt_stops_at_town,
    "contact_in_address": corrupt_contact_in_address,
}
assert tuple(CORRUPTIONS) == ERROR_TYPES
# What a record needs for a kind to apply to it (the other kinds apply to every record). After a
# platform's prefix (real bases) the region is already written right: a typo, cut, stray or
# reordered name in what the person typed after it leaves the address clear, so those kinds are
# not errors there and are not drawn for it.
SUITS: dict[str, Callable[[Record], bool]] = {
    "digits_in_admin": has_two_admin_names,
    "city_not_in_province": has_province_and_city,
    "district_not_in_city": has_city_above_county,
    "truncated_address": has_city_or_county,
    "admin_typo": lambda rec: bool(typo_slots(rec)) and not rec.prefix,
    "garbage_road": has_named_part,
    "duplicated_segment": lambda rec: bool(rec.admin) or has_named_part(rec),
    "admin_conflict": lambda rec: conflict_slot(rec) is not None and not rec.prefix,
    "admin_order": lambda rec: bool(order_slots(rec)) and not rec.prefix,
    "admin_cut": lambda rec: bool(typo_slots(rec)) and not rec.prefix,
    "number_junk": lambda rec: bool(number_slots(rec)),
    "bad_house_number": lambda rec: bool(house_number_slots(rec)),
    "pasted_detail": lambda rec: has_city_or_county(rec) and bool(rec.rest),
    "road_no_suffix": lambda rec: bool(road_slots(rec)),
    "postcode_region": lambda rec: rec.postcode is not None and names_a_region(rec),
    "area_code_region": lambda rec: rec.phone_kind == "landline" and names_a_region(rec),
    "mobile_prefix": lambda rec: rec.phone_kind == "mobile",
    "stops_at_town": stops_before_detail,
    "contact_in_address": lambda rec: bool(rec.rest),
}


def suits(kind: str, rec: Record) -> bool:
    """Whether `kind` can corrupt `rec`: it holds the part that kind needs (SUITS)."""
    needs = SUITS.get(kind)
    return needs is None or needs(rec)
