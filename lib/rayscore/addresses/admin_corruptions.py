"""The error kinds of an address's administrative names: digits among them, a city or county of
another place, a typo, a name cut short, a stray name of the same level, two levels swapped.

    import random
    from rayscore.addresses.admin_corruptions import corrupt_admin_typo
    from rayscore.addresses.records import build_correct_record
    from rayscore.addresses.targets import load_tables
    r, tables = random.Random(0).random, load_tables()
    record = build_correct_record(r, tables)
    corrupt_admin_typo(r, tables, record)   # True: 蒙自市 -> 海自市

Each is honest: a "wrong" city really is not in the province, a typo or a cut name is no known
name, a stray name is a real sibling of the one beside it, and the town follows a swapped county.
corruptions.py lists every kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rayscore.addresses.divisions import CITY, COUNTY, PROVINCE, short_name
from rayscore.addresses.draws import Draw, draw_digits, pick
from rayscore.addresses.record_parts import JUNK, Record
from rayscore.addresses.targets import Tables, Target

# County names that are also ordinary words (the urban area, the suburbs): 驻马店市城区 reads as
# "downtown 驻马店", so they are never the wrong county of district_not_in_city.
WORD_COUNTIES = frozenset({"城区", "郊区", "矿区", "东区", "西区"})
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
# Development and management zones: written beside a county they read as detail, not as a
# second county (商丘市梁园区豫东综合物流产业聚集区), so admin_conflict never borrows one.
ZONE_NAME = re.compile(r"开发区|新区|园区|管理区|示范区|聚集区|试验区|实验区|合作区")


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


# --- the corruptions ----------------------------------------------------------------------------


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
