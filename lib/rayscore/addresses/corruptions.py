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
draws until one suits. Each is honest: a "wrong" city really is not in the province, a typo is
no known name, and nothing else changes with it (the town follows a swapped county).
"""

from __future__ import annotations

from collections.abc import Callable

from rayscore.addresses.divisions import CITY, COUNTY, PROVINCE
from rayscore.addresses.draws import Draw, draw_digits, pick
from rayscore.addresses.names import SURNAMES
from rayscore.addresses.record_parts import JUNK, Record, render_phone
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
    "duplicated_segment",    # an admin level (朝阳区朝阳区), the town or the road written twice
    "bad_name",              # the name is junk: digits, latin letters, symbols, 啊啊啊
    "admin_typo",            # one character of the city or county changed: 海定区
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
        pos = 1 + int(r() * (len(name) - 1))
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
    if admin and r() < 0.5:
        k = pick(r, admin)
        rec.admin.insert(k + 1, rec.admin[k])
        rec.levels.insert(k + 1, rec.levels[k])
        rec.duplicated = "admin"
    elif rec.town is not None and r() < 0.5:
        # The town written twice: the separator goes between the copies as between levels.
        rec.town = rec.town + rec.sep + rec.town
        rec.duplicated = "town"
    else:
        rec.rest.insert(rec.named + 1, rec.rest[rec.named])
        rec.duplicated = "road"
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


def corrupt_admin_typo(r: Draw, tables: Tables, rec: Record) -> bool:
    slots = typo_slots(rec)
    if not slots:
        return False
    k = pick(r, slots)
    typo = make_typo(r, tables, rec.admin[k])
    if typo is None:
        return False
    rec.admin[k] = typo
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
}
assert tuple(CORRUPTIONS) == ERROR_TYPES
# What a record needs for a kind to apply to it (the other kinds apply to every record).
SUITS: dict[str, Callable[[Record], bool]] = {
    "digits_in_admin": has_two_admin_names,
    "city_not_in_province": has_province_and_city,
    "district_not_in_city": has_city_above_county,
    "truncated_address": has_city_or_county,
    "admin_typo": lambda rec: bool(typo_slots(rec)),
}


def suits(kind: str, rec: Record) -> bool:
    """Whether `kind` can corrupt `rec`: it holds the part that kind needs (SUITS)."""
    needs = SUITS.get(kind)
    return needs is None or needs(rec)
