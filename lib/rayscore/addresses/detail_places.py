"""Places named at the start of or inside an address's detail part, where no place should be.

    from rayscore.addresses.admin_names import read_admin
    from rayscore.addresses.detail_places import conflicting_name, other_place, short_cut_county
    reading = read_admin("北京市海淀区朝阳区建国路88号")
    conflicting_name(reading.names, reading.detail)   # '朝阳区': another county of Beijing
    reading = read_admin("北京市海淀区中关村大街1号上海市浦东新区世纪大道8号")
    other_place(reading.names, reading.detail)        # '上海市浦东新区'
    reading = read_admin("重庆市万区人民路8号")
    short_cut_county(reading.names, reading.detail)   # '万区': 万州区 cut short

Reading the admin names stops where a name does not continue the chain, so such a name starts
the detail: a name of the same level and parent as the last one read (admin_conflict), a county
cut to one character and its suffix (admin_unknown), or a whole chain of another place pasted
into the detail (detail_other_place). Words that are also county names, development zones,
former names and remarks in parentheses are not such places. checks.py raises the flags.
"""

from __future__ import annotations

import functools
import re

from rayscore.addresses.admin_chain import WORD_COUNTIES, is_under, skip_separators
from rayscore.addresses.admin_index import MAX_KEY_LENGTH, Entry, load_admin_index
from rayscore.addresses.admin_names import AdminName, read_admin
from rayscore.addresses.admin_repairs import AREA_WORDS
from rayscore.addresses.divisions import CITY, COUNTY, TOWN, load_divisions


def conflicting_name(admin: tuple[AdminName, ...], detail: str) -> str | None:
    """A name of the same level and parent as the last admin name, written right after it
    (杭州市宁波市, 海淀区朝阳区): reading stops there, so it starts the detail. Words that are
    also county names (城区, 高新区) and development zones (their codes run x7x) are not names here,
    and neither is a name of another parent (东城区 after 西湖区 is a part of town), nor a former
    name: the place written the old way (延庆区延庆县), a county merged into it (曹妃甸区唐海县), or
    a unit filed where platforms filed it before it became a city (海南海口儋州市)."""
    last = admin[-1] if admin else None
    if last is None or last.level >= TOWN or last.code is None or not detail or last.match == "former":
        return None   # after a former name, its successor may follow under any name (绍兴县柯桥区)
    index = load_admin_index()
    parent = index.parent[last.code]
    for written, codes, former in names_at_start(detail):
        if written in WORD_COUNTIES or written in AREA_WORDS or last.code in codes:
            continue
        if any(is_under(parent, c) for c in former):
            continue   # once a place under the same parent: the old way of writing it
        if any(index.level[c] == last.level and is_under(parent, c) and not is_zone(c) for c in codes):
            return written
    return None


def names_at_start(detail: str) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """The full names (not short forms) the detail starts with, longest first, with their places
    and the places among them the name no longer names (former names)."""
    return [(detail[:length], entry.codes, entry.former) for length, entry in entries_at_start(detail)
            if entry.codes and not entry.short]


def entries_at_start(detail: str) -> list[tuple[int, Entry]]:
    """The index's entries for the names the detail starts with, longest first, with their lengths."""
    automaton = load_admin_index().automaton
    found = []
    for length in range(automaton.longest_prefix(detail[:MAX_KEY_LENGTH]), 1, -1):
        entry = automaton.get(detail[:length], None)
        if entry is not None:
            found.append((length, entry))
    return found


def is_zone(code: str) -> bool:
    """Development zones are numbered 71-79 under their city (130171 石家庄高新技术产业开发区)."""
    return len(code) == 6 and code[4] == "7"


def other_place(admin: tuple[AdminName, ...], detail: str, skip: int = 0) -> str | None:
    """An admin chain of another place written in the detail (上海市浦东新区 in a Beijing address):
    a province or city with a county under it, or a full province name with a city under it.
    The same place again (a restated prefix) is not another place, and one name alone
    (北京路, 上海大厦) is a street or a building named after a place. Chains starting in the
    first `skip` characters are not read."""
    known = max((a.code for a in admin if a.code and a.level < TOWN), key=len, default=None)
    if known is None or not detail:
        return None
    # A remark in parentheses names other places freely: （销售部在广州番禺区）, (城东乡(扬州市广陵区)附近).
    detail = REMARK.sub(lambda m: " " * len(m.group()), detail)
    index = load_admin_index()
    found = [(end - entry.length + 1, end + 1, entry) for end, entry in index.automaton.iter(detail)]
    name_starts = {start for start, _, _ in found}
    # A chain needs a second name right after the first: only such starts are read (one read each).
    starts = sorted({start for start, end, entry in found
                     if entry.codes and min(index.level[c] for c in entry.codes) <= CITY
                     and skip_separators(detail, end) in name_starts})
    done = skip
    for start in starts:
        if start < done:
            continue
        chain = [a for a in read_admin(detail[start:]).names if a.level < TOWN]
        deepest = nested_deepest(chain)
        # Another place: neither the address's deepest place nor one above or below it.
        if deepest is not None and not (deepest.startswith(known) or known.startswith(deepest)):
            return "".join(a.written for a in chain)
        done = start + sum(len(a.written) for a in chain)
    return None


REMARK = re.compile(r"[(（][^()（）]*[)）]")


def nested_deepest(chain: list[AdminName]) -> str | None:
    """The deepest place of a chain that names a place for certain: a county under the name before
    it, or a city under a full province name (浙江省杭州); None otherwise."""
    # A former name (金明区, now in 龙亭区) names no other place. A zone overlaps the districts of its
    # city (昌邑区吉林高新技术产业开发区), so it names only its city: 沧州市沧州高新区 in a 太原
    # address is another place, 吉林高新区 in a 吉林 one is not.
    if len(chain) < 2 or any(a.code is None or a.match not in ("exact", "short") for a in chain):
        return None
    for upper, lower in zip(chain, chain[1:]):
        if not is_under(upper.code, lower.code):
            return None
    last, before = chain[-1], chain[-2]
    if last.level > CITY or (before.match == "exact" and before.level < CITY):
        return last.code[:4] if is_zone(last.code) else last.code
    return None


# Words for a part of a city that look like a cut county (无锡市新区 was the name of a zone).
AREA_WORD_PAIRS = frozenset({"新区", "城区", "郊区", "矿区", "市区", "东区", "西区", "南区", "北区", "中区", "老区",
                             "园区", "景区", "校区", "社区", "小区", "厂区", "营区"})
# One hanzi and a county suffix (扬市, 万区, 松县): what is left of a county name cut short.
ONE_CHARACTER_COUNTY = re.compile(r"([\u4e00-\u9fff])([县区市旗])")


def short_cut_county(admin: tuple[AdminName, ...], detail: str) -> str | None:
    """A city or county name cut to its first character and its suffix, right after the province
    or city it lies in (浙江省兰市 for 兰溪市): 镇江市扬市 for 扬中市, 重庆市万区 for 万州区, 成都市青区 for 青羊区 or
    青白江区. The reading stops there, so it starts the detail; no place is named so, and a county
    of that city starts with that character and ends with that suffix."""
    last = admin[-1] if admin else None
    if last is None:   # a short form cut off by the cut name after it reads as no name (北京朝区)
        return short_cut_after_short_form(detail)
    m = ONE_CHARACTER_COUNTY.match(detail)
    if last.code is None or m is None or last.level >= TOWN:
        return None
    return cut_county(last.code, m)


def short_cut_after_short_form(detail: str) -> str | None:
    """北京朝区, 广州天区, 湖南宁市: a province or city's short form, then a name of it cut to one
    character and its suffix (朝阳区, 天河区, 宁乡市)."""
    for length, entry in entries_at_start(detail):
        if len(entry.codes) != 1 or not entry.short:
            continue
        m = ONE_CHARACTER_COUNTY.match(detail, length)
        if m is not None and load_admin_index().level[entry.codes[0]] <= CITY:
            return cut_county(entry.codes[0], m)
    return None


def cut_county(code: str, m: re.Match) -> str | None:
    """The one character and suffix matched, when no place is named so and a name under `code`
    starts with that character and ends with that suffix."""
    written = m.group()
    if written in AREA_WORD_PAIRS or load_admin_index().automaton.get(written, None) is not None:
        return None
    return written if cut_names_under(code, m.group(1), m.group(2)) else None


@functools.cache
def cut_names_under(code: str, first: str, suffix: str) -> tuple[str, ...]:
    """Names of the cities and counties under a place (a province's, a city's) that start with
    `first`, end with `suffix` and are longer than the two characters written (扬 市: 扬中市)."""
    table = load_divisions()
    return tuple(p.name for p in table.places.values()
                 if p.level in (CITY, COUNTY) and p.code != code and p.code.startswith(code)
                 and len(p.name) > 2 and p.name.startswith(first) and p.name.endswith(suffix))
