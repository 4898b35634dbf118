"""Reading an address's administrative names: the chain of division names it starts with.

    from rayscore.addresses.admin_names import read_admin
    reading = read_admin("北京市海定区阜通东大街6号")
    reading.names[1].written, reading.names[1].nearest, reading.names[1].match  # ('海定区', '海淀区', 'typo')
    reading.detail                                                              # '阜通东大街6号'

The admin part is read as a chain of table names from the start of the address (admin_chain.py:
leftmost-longest, levels 1-3 and towns, looked up in admin_index.py), ambiguous names (朝阳区 in
Beijing and in Changchun) resolved by the other names written. Where reading stops before a
county, it is repaired at most twice (admin_repairs.py): digits or symbols between or inside the
names removed (北京市1234海淀区), or a name one character from a known name under the same parent
read as that name (海定区), or one character short of it (门头区 for 门头沟区: match "cut").
Names no longer in the 2023 table (江干区, 襄樊) are known, with match "former" and the name they
have now. Delivery platforms write the region, then the full address again
(湖南衡阳常宁市湖南省衡阳市常宁市泉峰街道): that is read as one chain (reading.restated), the
detail after the second.
The reading says what it found (names, junk, repeats, order, nesting) and judges nothing:
checks.py decides what fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rayscore.addresses.admin_chain import (
    COUNTRY,
    SEPARATORS,
    Chain,
    Element,
    is_under,
    nesting_checks,
    same_place,
    skip_separators,
)
from rayscore.addresses.admin_index import MAX_KEY_LENGTH, NearMiss, load_admin_index
from rayscore.addresses.admin_repairs import Misses, miss_kind, read_repaired
from rayscore.addresses.divisions import CITY, COUNTY, MUNICIPALITY_CODES, PROVINCE, TOWN

# Skipped before the detail: a ? there may be junk (??南路), judged in the detail (detail.py).
DETAIL_SEPARATORS = SEPARATORS - {"?"}
# A name again right before one of these is an institution's name (清徐县清徐县人民医院,
# 墨玉县公安局), not the name written twice.
INSTITUTION = re.compile(r"人民(?![路街道广])|第[一二三四五六七八九十]|中医|妇幼|医院|卫生|疾控|公安|交警|"
                         r"派出所|看守所|政府|法院|检察|"
                         r"中学|小学|一中|二中|三中|实验|职业|党校|电业|电力|供电|邮政|税务|财政|教育|民政|国土|工商|"
                         r"信用|农商|粮食|烟草|汽车站|火车站|客运|[局委院站]")


@dataclass(frozen=True, slots=True)
class AdminName:
    """One administrative name read from the address."""

    written: str         # as written (a typo as typed; digits inside a name removed)
    level: int           # 1 province, 2 city, 3 county/district, 4 town/street
    code: str | None     # the place it names; None when the other names do not decide (朝阳区 alone)
    match: str           # "exact" | "short" (杭州) | "former" (江干区, 襄樊) | "typo" (海定区)
                         # | "renamed" (富阳市 for 富阳区) | "cut" (门头区 for 门头沟区)
    nearest: str | None  # for a typo, cut or old name: the table's name meant; for a former name: what it is now

    @property
    def known(self) -> bool:
        return self.match in ("exact", "short", "former")


@dataclass(slots=True)
class AdminReading:
    names: tuple[AdminName, ...]
    junk: str | None
    city_in_province: bool | None
    county_in_city: bool | None
    in_order: bool
    repeated: tuple[str, ...]
    detail: str
    restated: bool = False   # the admin part written again after itself (see read_restatement); names lists both
                             # (both are listed too after 中国 when the second names another place: not restated)
    restart_at: int = 0      # where that restatement begins in the address (after 中国, if written); 0 when none


def read_admin(address: str) -> AdminReading:
    chain, junk, misses = read_repaired(address)
    again = read_restatement(chain)
    if again is not None:
        chain, more_junk, more_misses = again
        junk = junk or more_junk
        misses.update(more_misses)
    return describe(chain, junk, misses)


def read_restatement(chain: Chain) -> tuple[Chain, str | None, Misses] | None:
    """The address written again after its admin part, as delivery platforms write it: the region,
    then (after 中国, perhaps) the full address (湖南衡阳常宁市湖南省衡阳市常宁市泉峰街道,
    清徐县中国山西太原清徐县). The second chain restates the first when it ends at the place the
    first ends at and its names lie on that place's line; the two are then one chain, whose
    detail follows the second."""
    first = chain.elements
    if not any(e.level < TOWN for e in first):
        return None
    # The second chain begins at a name shallower than the one before it, else where reading stopped.
    k = next((i for i in range(1, len(first)) if first[i].level < first[i - 1].level), None)
    head = first[:k] if k is not None else first
    if k is None and first[-1].level == TOWN:
        return None   # a town ends the admin part: what follows is the detail
    text = chain.text
    start = first[k].start if k is not None else skip_separators(text, chain.stop)
    typed = text.startswith(COUNTRY, start)
    if typed:
        start = skip_separators(text, start + len(COUNTRY))
    if not begins_admin_name(text, start):
        return None
    again, junk, misses = read_repaired(text[start:])
    same = restates(head, again.elements)
    # The address as typed follows the region even when it names another place: after 中国
    # (河北石家庄桥西区中国河北南京高淳区...), or a province again after a region that began with
    # one (湖南永州宁远县湖南永州鄂伦春自治旗...). Its names are read as a chain of their own, so
    # what the person typed is checked (nesting, a chain with no detail), not left unread.
    typed_again = (typed and k is None) or (head[0].level == PROVINCE and bool(again.elements)
                                            and again.elements[0].level == PROVINCE)
    if not same and not typed_again:
        return None
    for e in again.elements:
        e.start += start
        e.end += start
    joined = Chain(text[:start] + again.text, head + again.elements, again.stop + start, None, again.cut,
                    len(head), differs=not same)
    return joined, junk, {start + k: v for k, v in misses.items()}


def begins_admin_name(text: str, pos: int) -> bool:
    """Whether a province, city or county name (not only a town's) begins at pos."""
    automaton = load_admin_index().automaton
    window = text[pos:pos + MAX_KEY_LENGTH]
    for length in range(automaton.longest_prefix(window), 1, -1):
        entry = automaton.get(window[:length], None)
        if entry is not None and entry.codes:
            return True
    return False


def restates(head: list[Element], again: list[Element]) -> bool:
    first = [e for e in head if e.level < TOWN]
    second = [e for e in again if e.level < TOWN]
    if not second or not same_place(first[-1], second[-1]):
        return False
    end = second[-1]
    return all(same_place(e, end) or any(is_under(c, end.code) for c in e.entry.codes) for e in second)


def written_again_by_rule(previous: Element, e: Element, text: str) -> bool:
    """A name written twice that is not a repeat: a municipality as province and city (北京市北京市),
    a short form then the full name (南昌南昌市, 湖北仙桃仙桃市, 广东东莞东莞市: how platforms
    write the region before the address as typed; 东莞市东莞市 is a repeat), and a name beginning
    an institution's (清徐县清徐县人民医院)."""
    if e.level == PROVINCE and e.code in MUNICIPALITY_CODES:
        return True
    if previous.entry.short and not e.entry.short:
        return True
    return INSTITUTION.match(text, e.end) is not None


def platform_region(elements: list[Element]) -> Element | None:
    """The county ending a region written as delivery platforms write it, province and city in
    short forms (湖北孝感孝南区, 北京北京通州区), when it is the third name: the address as typed
    follows, and may begin with that county again (湖北孝感孝南区孝南区祝站镇), which is no repeat."""
    if len(elements) < 4:
        return None
    province, city, county = elements[:3]
    shaped = (province.level == PROVINCE and province.entry.short and city.entry.short
              and city.level in (CITY, COUNTY) and county.level == COUNTY and not county.entry.short)
    return county if shaped else None


def ends_restatement(e: Element, end: Element | None) -> bool:
    """The place a restatement ends at, by its name or by a former one (郧县 for 郧阳区): the
    address as typed may begin with it once more (十堰郧阳区中国湖北十堰郧县郧县城关镇)."""
    if end is None:
        return False
    return same_place(e, end) or load_admin_index().successor.get(e.code) == end.code


def describe(chain: Chain, junk: str | None, misses: dict[int, tuple[NearMiss, str]]) -> AdminReading:
    names = []
    repeated = []
    in_order = True
    deepest = 0
    previous: Element | None = None
    index = load_admin_index()
    # The place a restatement ends at: the user's own address may begin with it once more
    # (天津天津北辰区中国天津天津北辰区北辰区...), which is no repeat.
    end = next((e for e in reversed(chain.elements[:chain.restart]) if e.level < TOWN), None) if chain.restart else None
    region = platform_region(chain.elements)
    for i, e in enumerate(chain.elements):
        if i == chain.restart:   # the restatement begins a chain of its own
            previous, deepest = None, 0
        written = chain.text[e.start:e.end]
        match, nearest = ("short" if e.entry.short else "exact"), None
        if e.code in e.entry.former and not e.ambiguous:
            match, nearest = "former", index.now_name.get(e.code)
        if e.start in misses:
            miss, written = misses[e.start]
            match, nearest = miss_kind(miss, written), miss.name
        names.append(AdminName(written, e.level, None if e.ambiguous else e.code, match, nearest))
        if previous is not None and e.level < TOWN and same_place(previous, e):
            if not (written_again_by_rule(previous, e, chain.text) or ends_restatement(e, end)
                    or (i == 3 and previous is region)):
                repeated.append(written)
        elif e.level < deepest:
            in_order = False
        deepest = max(deepest, e.level)
        previous = e
    city, county = nesting_checks(chain.elements)
    # The detail keeps the ? reading skipped before it.
    start = chain.stop
    while start > 0 and chain.text[start - 1] == "?":
        start -= 1
    detail = chain.text[skip_separators(chain.text, start, DETAIL_SEPARATORS):]
    restated = chain.restart is not None and not chain.differs
    restart_at = chain.elements[chain.restart].start if restated else 0
    return AdminReading(tuple(names), junk, city, county, in_order, tuple(repeated), detail, restated, restart_at)
