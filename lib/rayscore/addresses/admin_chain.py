"""The chain of division names an address starts with: the names written one after another
from the start, each name's place chosen so that the names nest, and where the chain stops.

    from rayscore.addresses.admin_chain import read_chain
    chain = read_chain("吉林朝阳区人民大街8号")
    [(e.code, e.level) for e in chain.elements], chain.text[chain.stop:]
    # ([('22', 1), ('220104', 3)], '人民大街8号'): 朝阳区 after 吉林 is Changchun's

Names are read leftmost-longest (levels 1-3, then at most one town; keys from admin_index.py);
a short form needs a name after it, and a name followed by 路 or 街 is a road's. A name that
does not continue the chain (another of the same level, a shallower one after a descent) stops
it, and the detail starts there. admin_repairs.py reads a chain that stops too early again;
admin_names.py turns a chain into the reading checks.py judges.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from rayscore.addresses.admin_index import MAX_KEY_LENGTH, Entry, load_admin_index
from rayscore.addresses.divisions import CITY, COUNTY, MUNICIPALITY_CODES, PROVINCE, TOWN

# Written between levels (浙江省-杭州市, 河南.郑州.郑东新区, 四川/成都市, 云南, 德宏州, 芒市) or before
# them (:北京市西城区, what a label leaves), and skipped like nothing; a ? is a separator an
# encoding lost (中国?北京市?海淀区). Not 、 and ；, which list addresses (北京通州区、北京怀柔区).
SEPARATORS = frozenset(" \u3000\t-－—–.．/／·•,，?:：")
# A name of a few characters followed by one of these is a road or a market (北京路, 朝阳市场,
# 矿区路), not a division, unless another division name follows.
ROAD_AFTER = ("路", "街", "巷", "弄", "胡同", "大道", "场")
ROAD_NAME_MAX = 4   # a longer name (吉林白城经济开发区路营村) is never a road's
# County names that are also ordinary words (the urban area, the suburbs, the east part): one
# that does not belong where it is written is read as detail, not as a wrong county.
WORD_COUNTIES = frozenset({"城区", "郊区", "矿区", "东区", "西区", "老城区", "新城区", "城东区", "城西区", "城北区",
                           "城中区"})
COUNTRY = "中国"
# The admin part is at the start: names are looked for in this many characters of the address.
ADMIN_WINDOW = 96
# Ambiguous chains with more readings than this are resolved greedily (4 names of 4 places each).
MAX_COMBINATIONS = 256


@dataclass(slots=True)
class Element:
    """One name of the chain: where it is written, its index entry and the place chosen for it."""

    start: int
    end: int
    entry: Entry
    code: str = ""       # resolved (a best guess when ambiguous)
    level: int = 0
    ambiguous: bool = False


@dataclass(slots=True)
class Chain:
    """The names read from the start of an address and where reading stopped."""

    text: str                         # the address, repairs applied
    elements: list[Element]           # names kept (levels 1-3, then at most one town)
    stop: int                         # where reading stopped (the detail starts here)
    pending: Element | None           # a short form cut off by what follows (浙江 in 浙江12杭州...)
    cut: bool                         # reading ended on a name that does not continue the chain
    restart: int | None = None        # where a restatement of the chain begins (an index of elements)
    differs: bool = False             # that restatement names another place than the region before it


def skip_separators(text: str, pos: int, separators: frozenset[str] = SEPARATORS) -> int:
    n = len(text)
    while pos < n and text[pos] in separators:
        pos += 1
    return pos


class _Keys:
    """The keys starting at each position of a window, looked up when first asked (the chain
    asks for a few positions only), longest first."""

    __slots__ = ("window", "found")

    def __init__(self, window: str) -> None:
        self.window = window
        self.found: dict[int, list[Entry]] = {}

    def at(self, pos: int) -> list[Entry]:
        entries = self.found.get(pos)
        if entries is None:
            automaton = load_admin_index().automaton
            # The trie says how long a key starting here could be; only those lengths are tried.
            longest = automaton.longest_prefix(self.window[pos:pos + MAX_KEY_LENGTH])
            entries = []
            for length in range(longest, 0, -1):
                entry = automaton.get(self.window[pos:pos + length], None)
                if entry is not None:
                    entries.append(entry)
            self.found[pos] = entries
        return entries


def scan(text: str) -> tuple[list[Element], int, Element | None]:
    """The names written one after another from the start (leftmost-longest that fits)."""
    window = text[:ADMIN_WINDOW]
    keys = _Keys(window)
    pos = skip_separators(window, 0)
    if window.startswith(COUNTRY, pos):
        pos = skip_separators(window, pos + len(COUNTRY))
    elements: list[Element] = []
    while True:
        pending = None
        chosen = None
        previous = elements[-1] if elements else None
        entries = keys.at(pos)
        if len(entries) > 1 and not keys.at(skip_separators(window, pos + entries[0].length)):
            # The longest is not followed by a name: a shorter one may be (青岛 + 市南区).
            entries = sorted(entries, key=lambda e: reach(e, window, pos, keys), reverse=True)
        for entry in entries:
            if fits(entry, window, pos + entry.length, keys, previous):
                chosen = entry
                break
            if entry.short and pending is None:
                pending = Element(pos, pos + entry.length, entry)
        if chosen is None:
            return elements, pos, pending
        if not chosen.placeholder:
            elements.append(Element(pos, pos + chosen.length, chosen))
        pos = skip_separators(window, pos + chosen.length)
        if chosen.towns:
            return elements, pos, None


def reach(entry: Entry, window: str, pos: int, keys: _Keys) -> tuple[int, int]:
    """How far this key and the longest name right after it get, then its own length: the
    reading that covers more wins (青岛 + 市南区 over 青岛市 + 南区; 阜阳合肥现代产业园区 over
    阜阳 + 合肥)."""
    after = skip_separators(window, pos + entry.length)
    following = keys.at(after)
    return (after + following[0].length if following else pos + entry.length), entry.length


def fits(entry: Entry, window: str, end: int, keys: _Keys, previous: Element | None) -> bool:
    """Whether a key found at a position is a name written there, judged by what follows it."""
    after = skip_separators(window, end)
    if after >= len(window) or keys.at(after):
        return True
    if entry.length <= ROAD_NAME_MAX and window.startswith(ROAD_AFTER, end):
        return False
    if entry.short:
        # 北京 in 北京路, 中山 in 中山公园: a short form needs a name after it, or to lie in the
        # name before it (广东东莞云先路).
        return previous is not None and any(is_under(p, c) for p in previous.entry.codes for c in entry.codes)
    return True


def is_under(ancestor: str, code: str) -> bool:
    return code != ancestor and code.startswith(ancestor)


def resolve(elements: list[Element]) -> None:
    """Pick each name's place so that as many pairs as possible nest (朝阳区 after 吉林 is 220104)."""
    admin = [e for e in elements if e.entry.codes]
    combinations = 1
    for e in admin:
        combinations *= len(e.entry.codes)
    if combinations == 1:
        best = [tuple(e.entry.codes[0] for e in admin)]
    elif combinations <= MAX_COMBINATIONS:
        scored = [(nesting(c), c) for c in itertools.product(*(e.entry.codes for e in admin))]
        top = max(s for s, _ in scored)
        best = [c for s, c in scored if s == top]
        if len(best) > 1 and any(e.entry.former for e in admin):
            best = fewest_former(best)
    else:
        best = [greedy_codes(admin)]
    index = load_admin_index()
    for k, e in enumerate(admin):
        e.code = best[0][k]
        e.level = index.level[e.code]
        e.ambiguous = any(b[k] != e.code for b in best)
    for e in elements:
        if e.entry.towns:
            resolve_town(e, admin)


def nesting(codes: tuple[str, ...]) -> int:
    """Pairs that nest in the order written count twice, the other way round once: 嘉峪关市嘉峪关市
    is the city then its county, and 朝阳区北京市 (out of order) still names Beijing's 朝阳区."""
    score = 0
    for i, a in enumerate(codes):
        for b in codes[i + 1:]:
            score += 2 if is_under(a, b) else 1 if is_under(b, a) else 0
    return score


def fewest_former(readings: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Of readings that nest as well, those naming places that still exist (吉林省公主岭市 is
    长春's, not 四平's former one)."""
    former = load_admin_index().former_codes
    counts = [sum(c in former for c in r) for r in readings]
    least = min(counts)
    return [r for r, n in zip(readings, counts) if n == least]


def greedy_codes(admin: list[Element]) -> tuple[str, ...]:
    chosen: list[str] = []
    for e in admin:
        chosen.append(max(e.entry.codes, key=lambda c: sum(is_under(a, c) for a in chosen)))
    return tuple(chosen)


def resolve_town(town: Element, admin: list[Element]) -> None:
    town.level = TOWN
    successor = load_admin_index().successor   # a former county's towns are its successor's
    parents = [successor.get(e.code, e.code) for e in admin if e.level in (CITY, COUNTY)]
    under = [c for c in town.entry.towns if parents and is_under(parents[-1], c)]
    town.code = under[0] if under else town.entry.towns[0]
    town.ambiguous = not under and len(town.entry.towns) > 1


def same_place(a: Element, b: Element) -> bool:
    """The same place twice; 嘉峪关市嘉峪关市 is a city and its county, one name undecided is the same."""
    return a.code == b.code or (a.entry is b.entry and (a.ambiguous or b.ambiguous))


def stands_for_city(e: Element) -> bool:
    """A county-level unit right under its province (天门市, 五家渠市, 临高县; not 北京's districts):
    it is written where a city goes and holds no counties of its own."""
    return e.level == COUNTY and len(load_admin_index().parent[e.code]) == 2 and e.code[:2] not in MUNICIPALITY_CODES


def parents(elements: list[Element]) -> Iterator[tuple[Element, Element | None, str]]:
    """Each city and county with the name written before it that it must lie under, and the flag
    raised if it does not.

    A city lies in the last province. A county lies in the last city (or a unit standing for one,
    湖北省天门市孝昌县), else in the last province: in a municipality that is its city
    (北京市浦东新区: county_not_in_city); elsewhere it stands where the city goes (山东省茫崖市:
    city_not_in_province)."""
    province: Element | None = None
    city: Element | None = None
    for e in elements:
        if e.level == CITY:
            yield e, province, "city_not_in_province"
        elif e.level == COUNTY:
            if city is not None:
                yield e, city, "county_not_in_city"
            elif province is not None and province.code in MUNICIPALITY_CODES:
                yield e, province, "county_not_in_city"
            else:
                yield e, province, "city_not_in_province"
        if e.level == PROVINCE:
            province = e
        elif e.level == CITY or stands_for_city(e):
            city = e


def keep_chain(elements: list[Element]) -> list[Element]:
    """The names that continue the chain; reading stops at the first that does not.

    Deeper levels continue it, and so does the same name again (朝阳区朝阳区: repeated). A
    shallower level continues it only before any descent (朝阳区北京市: order); after one it
    is the detail (杭州市西湖区杭州市第二中学). Another name of the same level is detail too,
    except a county after a unit standing for a city (湖北省天门市孝昌县: not in it).
    """
    kept: list[Element] = []
    descended = False
    for e in elements:
        if e.level == TOWN or not kept:
            kept.append(e)
            if e.level == TOWN:
                break
            continue
        last = kept[-1]
        if same_place(last, e):
            kept.append(e)
        elif (e.level > last.level or stands_for_city(last)) and not word_county_misplaced(e, kept):
            kept.append(e)
            descended = True
        elif e.level < last.level and not descended:
            kept.append(e)
        else:
            break
    return kept


def word_county_misplaced(e: Element, kept: list[Element]) -> bool:
    if e.level != COUNTY or e.entry.short or load_admin_index().name[e.code] not in WORD_COUNTIES:
        return False
    *_, (_, parent, _) = parents(kept + [e])
    return parent is not None and not any(is_under(parent.code, c) for c in e.entry.codes)


def read_chain(text: str) -> Chain:
    elements, stop, pending = scan(text)
    resolve(elements)
    kept = keep_chain(elements)
    if len(kept) < len(elements):
        resolve(kept)
        chain = Chain(text, kept, kept[-1].end if kept else 0, None, True)
    else:
        chain = Chain(text, kept, stop, pending, False)
    town_written_as_district(chain.elements)
    return chain


def town_written_as_district(elements: list[Element]) -> None:
    """A county name right after a city without counties, not in it, is the city's town of that
    stem written as a district (东莞市东城区: 东城街道; 中山市石岐区: 石岐街道)."""
    if len(elements) < 2:
        return
    city, e = elements[-2], elements[-1]
    index = load_admin_index()
    if e.level != COUNTY or city.level != CITY or city.code not in index.countyless:
        return
    if any(is_under(city.code, c) for c in e.entry.codes):
        return
    town = index.town_stems.get((city.code, index.name[e.code][:-1]))
    if town is not None:
        e.code, e.level, e.ambiguous = town, TOWN, False


def admin_count(chain: Chain) -> int:
    return sum(1 for e in chain.elements if e.level < TOWN)


def inconsistent(chain: Chain) -> bool:
    city, county = nesting_checks(chain.elements)
    return city is False or county is False


def nesting_checks(elements: list[Element]) -> tuple[bool | None, bool | None]:
    """(city in province, county in city): None when no such pair is written."""
    ok: dict[str, bool] = {}
    successor = load_admin_index().successor
    for e, parent, flag in parents(elements):
        if parent is None or same_place(parent, e):
            continue
        if flag == "county_not_in_city" and stands_for_city(e) and parent.code[:2] == e.code[:2]:
            # A unit its province governs directly has no city; systems file it under one of the
            # province's cities (海南海口琼海市, 河南焦作济源市), and the address is clear.
            continue
        # Any reading of the two names that nests will do (both may be ambiguous); a former city
        # holds what its successor holds (贵州毕节地区七星关区: 毕节地区 is 毕节市 since 2011).
        nests = any(is_under(p, c) or is_under(successor.get(p, p), c)
                    for p in parent.entry.codes or (parent.code,) for c in e.entry.codes or (e.code,))
        ok[flag] = ok.get(flag, True) and nests
    return ok.get("city_not_in_province"), ok.get("county_not_in_city")
