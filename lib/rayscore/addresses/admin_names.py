"""Reading an address's administrative names: the chain of division names it starts with.

    from rayscore.addresses.admin_names import read_admin
    reading = read_admin("北京市海定区阜通东大街6号")
    reading.names[1].written, reading.names[1].nearest, reading.names[1].match  # ('海定区', '海淀区', 'typo')
    reading.detail                                                              # '阜通东大街6号'

The admin part is read as a chain of table names from the start of the address (leftmost-longest,
levels 1-3 and towns, looked up in admin_index.py), ambiguous names (朝阳区 in Beijing and in
Changchun) resolved by the other names written. Where reading stops before a county, it is
repaired at most twice: digits or symbols between or inside the names removed (北京市1234海淀区),
or a name one character from a known name under the same parent read as that name (海定区), or
one character short of it (门头区 for 门头沟区: match "cut"). Names no longer in the 2023 table
(江干区, 襄樊) are known, with match "former" and the name they have now. Delivery platforms
write the region, then the full address again (湖南衡阳常宁市湖南省衡阳市常宁市泉峰街道): that is
read as one chain (reading.restated), the detail after the second.
The reading says what it found (names, junk, repeats, order, nesting) and judges nothing:
checks.py decides what fails.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from rayscore.addresses.admin_index import MAX_KEY_LENGTH, Entry, NearMiss, load_admin_index
from rayscore.addresses.divisions import CITY, COUNTY, MUNICIPALITY_CODES, PROVINCE, TOWN

# Written between levels (浙江省-杭州市, 河南.郑州.郑东新区, 四川/成都市, 云南, 德宏州, 芒市) or before
# them (:北京市西城区, what a label leaves), and skipped like nothing; a ? is a separator an
# encoding lost (中国?北京市?海淀区). Not 、 and ；, which list addresses (北京通州区、北京怀柔区).
SEPARATORS = frozenset(" \u3000\t-－—–.．/／·•,，?:：")
# Skipped before the detail: a ? there may be junk (??南路), judged in the detail (detail.py).
DETAIL_SEPARATORS = SEPARATORS - {"?"}
# A numbered part of a district (深圳市宝安45区: 宝安区's 45区), not digits inside its name.
NUMBERED_AREA = re.compile(r"[0-9]{1,3}区")
# Digits, latin letters and symbols: never part of a division name.
JUNK = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff" + re.escape("".join(sorted(SEPARATORS))) + "]+")
# A name of a few characters followed by one of these is a road or a market (北京路, 朝阳市场,
# 矿区路), not a division, unless another division name follows.
ROAD_AFTER = ("路", "街", "巷", "弄", "胡同", "大道", "场")
ROAD_NAME_MAX = 4   # a longer name (吉林白城经济开发区路营村) is never a road's
SUFFIXES = frozenset("省市区县旗州盟")
# Units renamed between these suffixes (富阳市 -> 富阳区, 宝安县 -> 宝安区): an old name, not a typo.
RENAMED_SUFFIXES = frozenset("区县市")
# County names that are also ordinary words (the urban area, the suburbs, the east part): one
# that does not belong where it is written is read as detail, not as a wrong county.
WORD_COUNTIES = frozenset({"城区", "郊区", "矿区", "东区", "西区", "老城区", "新城区", "城东区", "城西区", "城北区",
                           "城中区"})
# Words for parts of a city, written where a county goes: one character from a county name
# (老城区 / 东城区, 高新区 / 高明区) they are a typo only if the name after them confirms it.
AREA_WORDS = frozenset({"高新区", "经开区", "开发区", "保税区", "工业区", "商业区", "度假区", "中心区", "商务区",
                        "核心区", "自贸区", "老城区", "新城区", "主城区", "旧城区", "城东区", "城西区", "城南区",
                        "城北区", "城中区"})
COUNTRY = "中国"
# A name again right before one of these is an institution's name (清徐县清徐县人民医院,
# 墨玉县公安局), not the name written twice.
INSTITUTION = re.compile(r"人民(?![路街道广])|第[一二三四五六七八九十]|中医|妇幼|医院|卫生|疾控|公安|交警|派出所|看守所|政府|法院|检察|"
                         r"中学|小学|一中|二中|三中|实验|职业|党校|电业|电力|供电|邮政|税务|财政|教育|民政|国土|工商|"
                         r"信用|农商|粮食|烟草|汽车站|火车站|客运|[局委院站]")
# The admin part is at the start: names are looked for in this many characters of the address.
ADMIN_WINDOW = 96
# How far after where reading stopped digits are looked for, to find them inside a name.
NAME_SPAN = MAX_KEY_LENGTH
MAX_REPAIRS = 2
# Ambiguous chains with more readings than this are resolved greedily (4 names of 4 places each).
MAX_COMBINATIONS = 256


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


# --- reading the chain of names ------------------------------------------------------------------


@dataclass(slots=True)
class _Element:
    start: int
    end: int
    entry: Entry
    code: str = ""       # resolved (a best guess when ambiguous)
    level: int = 0
    ambiguous: bool = False


@dataclass(slots=True)
class _Chain:
    text: str                         # the address, repairs applied
    elements: list[_Element]          # names kept (levels 1-3, then at most one town)
    stop: int                         # where reading stopped (the detail starts here)
    pending: _Element | None          # a short form cut off by what follows (浙江 in 浙江12杭州...)
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


def scan(text: str) -> tuple[list[_Element], int, _Element | None]:
    """The names written one after another from the start (leftmost-longest that fits)."""
    window = text[:ADMIN_WINDOW]
    keys = _Keys(window)
    pos = skip_separators(window, 0)
    if window.startswith(COUNTRY, pos):
        pos = skip_separators(window, pos + len(COUNTRY))
    elements: list[_Element] = []
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
                pending = _Element(pos, pos + entry.length, entry)
        if chosen is None:
            return elements, pos, pending
        if not chosen.placeholder:
            elements.append(_Element(pos, pos + chosen.length, chosen))
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


def fits(entry: Entry, window: str, end: int, keys: _Keys, previous: _Element | None) -> bool:
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


def resolve(elements: list[_Element]) -> None:
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


def greedy_codes(admin: list[_Element]) -> tuple[str, ...]:
    chosen: list[str] = []
    for e in admin:
        chosen.append(max(e.entry.codes, key=lambda c: sum(is_under(a, c) for a in chosen)))
    return tuple(chosen)


def resolve_town(town: _Element, admin: list[_Element]) -> None:
    town.level = TOWN
    successor = load_admin_index().successor   # a former county's towns are its successor's
    parents = [successor.get(e.code, e.code) for e in admin if e.level in (CITY, COUNTY)]
    under = [c for c in town.entry.towns if parents and is_under(parents[-1], c)]
    town.code = under[0] if under else town.entry.towns[0]
    town.ambiguous = not under and len(town.entry.towns) > 1


def same_place(a: _Element, b: _Element) -> bool:
    """The same place twice; 嘉峪关市嘉峪关市 is a city and its county, one name undecided is the same."""
    return a.code == b.code or (a.entry is b.entry and (a.ambiguous or b.ambiguous))


def stands_for_city(e: _Element) -> bool:
    """A county-level unit right under its province (天门市, 五家渠市, 临高县; not 北京's districts):
    it is written where a city goes and holds no counties of its own."""
    return e.level == COUNTY and len(load_admin_index().parent[e.code]) == 2 and e.code[:2] not in MUNICIPALITY_CODES


def parents(elements: list[_Element]) -> Iterator[tuple[_Element, _Element | None, str]]:
    """Each city and county with the name written before it that it must lie under, and the flag
    raised if it does not.

    A city lies in the last province. A county lies in the last city (or a unit standing for one,
    湖北省天门市孝昌县), else in the last province: in a municipality that is its city
    (北京市浦东新区: county_not_in_city); elsewhere it stands where the city goes (山东省茫崖市:
    city_not_in_province)."""
    province: _Element | None = None
    city: _Element | None = None
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


def keep_chain(elements: list[_Element]) -> list[_Element]:
    """The names that continue the chain; reading stops at the first that does not.

    Deeper levels continue it, and so does the same name again (朝阳区朝阳区: repeated). A
    shallower level continues it only before any descent (朝阳区北京市: order); after one it
    is the detail (杭州市西湖区杭州市第二中学). Another name of the same level is detail too,
    except a county after a unit standing for a city (湖北省天门市孝昌县: not in it).
    """
    kept: list[_Element] = []
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


def word_county_misplaced(e: _Element, kept: list[_Element]) -> bool:
    if e.level != COUNTY or e.entry.short or load_admin_index().name[e.code] not in WORD_COUNTIES:
        return False
    *_, (_, parent, _) = parents(kept + [e])
    return parent is not None and not any(is_under(parent.code, c) for c in e.entry.codes)


def read_chain(text: str) -> _Chain:
    elements, stop, pending = scan(text)
    resolve(elements)
    kept = keep_chain(elements)
    if len(kept) < len(elements):
        resolve(kept)
        chain = _Chain(text, kept, kept[-1].end if kept else 0, None, True)
    else:
        chain = _Chain(text, kept, stop, pending, False)
    town_written_as_district(chain.elements)
    return chain


def town_written_as_district(elements: list[_Element]) -> None:
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


def admin_count(chain: _Chain) -> int:
    return sum(1 for e in chain.elements if e.level < TOWN)


def inconsistent(chain: _Chain) -> bool:
    city, county = nesting_checks(chain.elements)
    return city is False or county is False


def nesting_checks(elements: list[_Element]) -> tuple[bool | None, bool | None]:
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


# --- repairs: junk between names, near misses ----------------------------------------------------


def can_repair(chain: _Chain) -> bool:
    """A repair is tried where reading stopped before a county (or a town) was reached."""
    if chain.cut or chain.stop >= len(chain.text):
        return False
    if not chain.elements:
        return True
    last = chain.elements[-1]
    return not last.entry.towns and min(load_admin_index().level[c] for c in last.entry.codes) < COUNTY


def repair_points(chain: _Chain) -> list[tuple[int, _Element | None]]:
    """(where a name may start, the name written before it): where reading stopped; after a short
    form cut off there (浙江 in 浙江杭洲西湖区, 四川 in 四川成56都); and at a short form read last,
    which may begin a longer name (甘孜 of 甘孜海族自治州)."""
    last = chain.elements[-1] if chain.elements else None
    points = [(chain.stop, last)]
    pending = chain.pending
    if pending and (last is None or min(load_admin_index().level[c] for c in pending.entry.codes) > last.level):
        points.insert(0, (skip_separators(chain.text, pending.end), pending))
    if last is not None and last.entry.short:
        points.append((last.start, chain.elements[-2] if len(chain.elements) > 1 else None))
    return points


def repair_junk(chain: _Chain) -> tuple[_Chain, str] | None:
    """The chain read again without digits or symbols that split or interrupt the names.

    Accepted only when it then reads more names, they nest, and the junk lay between or inside
    them (北京市1234海淀区, 浙江省杭12州市): digits after the last name are a house number."""
    text = chain.text
    junk = JUNK.search(text, chain.stop, chain.stop + NAME_SPAN)
    if junk is None or NUMBERED_AREA.match(text, junk.start()):
        return None
    a, b = junk.span()
    automaton = load_admin_index().automaton
    starts = [start for start, _ in repair_points(chain)]
    if chain.elements:   # the junk may split the last name read (巴彦淖尔63市: 巴彦淖尔 was read)
        starts.append(chain.elements[-1].start)
    starts = list(dict.fromkeys(starts))
    for start in starts:
        if start > a:
            continue
        # What stands before the junk must begin a name (南京 of 南京1市), or be nothing and a
        # name follow it (北京市1234海淀区).
        stem = text[start:a].rstrip("".join(SEPARATORS))
        if stem and (any(ch in SEPARATORS for ch in stem) or not automaton.match(stem)):
            continue
        if not stem:
            after = skip_separators(text, b)
            if after + 2 > len(text) or not automaton.match(text[after:after + 2]):
                continue
        again = read_chain(text[:a] + text[b:])
        named = [e for e in again.elements if e.level < TOWN]
        if admin_count(again) > admin_count(chain) and named and named[-1].end > a and not inconsistent(again):
            return again, junk.group()
    return None


def repair_near_miss(chain: _Chain) -> tuple[_Chain, _Element, NearMiss, str] | None:
    """The chain read again with a near miss written as the name it is one character from.

    Under a known parent a near miss ending in a level suffix (海定区) is certain enough; any
    other (a short form, a changed last character, nothing written before) must be confirmed
    by the next name lying under the one it is near (杭洲西湖区)."""
    index = load_admin_index()
    text = chain.text
    for pos, parent_element in repair_points(chain):
        parents: tuple[str | None, ...] = parent_element.entry.codes if parent_element else (None,)
        for parent in parents:
            for length, candidates in candidate_misses(index, parent, text, pos):
                written = text[pos:pos + length]
                # Of several near names (楠阳市: 南阳市, 洛阳市, 信阳市 ...) the one the next name
                # lies in is meant; without such a name, the first sure one.
                fallback = None
                for miss in candidates:
                    again = read_chain(text[:pos] + miss.name + text[pos + length:])
                    end = pos + len(miss.name)
                    fixed = next((e for e in again.elements if e.start == pos and e.end == end), None)
                    if fixed is None or miss.code not in fixed.entry.codes:
                        continue
                    fixed.code, fixed.level = miss.code, index.level[miss.code]
                    if confirmed(again, fixed):
                        return again, fixed, miss, written
                    sure = parent is not None and miss.full and is_sure_near_miss(written, miss.name)
                    if fallback is None and sure:
                        fallback = again, fixed, miss, written
                if fallback:
                    return fallback
    return None


def repair_misplaced_cut(chain: _Chain) -> tuple[_Chain, _Element, NearMiss, str] | None:
    """A county not in the city written before it, one character short of one that is, is that
    county cut short (赤峰市元宝区: 元宝区 is 丹东's, 赤峰's is 元宝山区), when sure or confirmed
    as a near miss is."""
    index = load_admin_index()
    text = chain.text
    for parent, e in zip(chain.elements, chain.elements[1:]):
        if e.level != COUNTY or parent.level >= COUNTY or any(is_under(p, c) for p in parent.entry.codes
                                                                  for c in e.entry.codes):
            continue
        written = text[e.start:e.end]
        for code in parent.entry.codes:
            for miss in index.cuts.get(code, {}).get(len(written), {}).get(written, ()):
                again = read_chain(text[:e.start] + miss.name + text[e.end:])
                end = e.start + len(miss.name)
                fixed = next((x for x in again.elements if x.start == e.start and x.end == end), None)
                if fixed is None or miss.code not in fixed.entry.codes:
                    continue
                fixed.code, fixed.level = miss.code, index.level[miss.code]
                if confirmed(again, fixed) or is_sure_near_miss(written, miss.name):
                    return again, fixed, miss, written
    return None


def candidate_misses(index, parent: str | None, text: str, pos: int) -> Iterator[tuple[int, list[NearMiss]]]:
    """(length written, the names it may stand for) at a position, longest first: a name with a
    character left out (杭市 for 杭州市, before 杭州 with its last character changed), then a
    name with one character changed."""
    pools = ((index.cut_lengths, index.cuts, cut_misses), (index.miss_lengths, index.misses, near_misses))
    for lengths, misses, find in pools:
        for length in lengths.get(parent, ()):
            written = text[pos:pos + length]
            if len(written) < length or JUNK.search(written) or any(ch in SEPARATORS for ch in written):
                continue
            found = find(misses[parent][length], written)
            if found:
                yield length, found


def is_sure_near_miss(written: str, name: str) -> bool:
    """Whether a name one character from a known one under the same parent is a typo even with
    nothing after it to confirm it: it ends in the level suffix of that name (or an old one:
    富阳市 for 富阳区) and is not an area word (老城区 is one character from 东城区, 高新区 from
    高明区). A changed suffix is not sure: 中山旗门府 is 中山 and a compound, not 中山市."""
    if len(written) < 3 or written[-1] not in SUFFIXES or written in AREA_WORDS:
        return False
    return written[-1] == name[-1] or is_renamed(written, name)


def is_renamed(written: str, name: str) -> bool:
    """An old suffix of a renamed unit (富阳市 -> 富阳区, 宝安县 -> 宝安区)."""
    return written[:-1] == name[:-1] and written[-1] in RENAMED_SUFFIXES and name[-1] in RENAMED_SUFFIXES


def near_misses(masks: dict[str, list[NearMiss]], written: str) -> list[NearMiss]:
    """The names one character from the written one; an old suffix first (揭东县 is 揭东区 renamed,
    not a typo of 揭西县)."""
    out = []
    for i in range(len(written)):
        for miss in masks.get(written[:i] + "\0" + written[i + 1:], ()):
            if miss.name != written:
                out.append(miss)
    return sorted(out, key=lambda m: not is_renamed(written, m.name)) if len(out) > 1 else out


def cut_misses(cuts: dict[str, list[NearMiss]], written: str) -> list[NearMiss]:
    return cuts.get(written, [])


def confirmed(chain: _Chain, fixed: _Element) -> bool:
    """Whether the name read right after a corrected one lies in it (杭州 then 西湖区)."""
    after = [e for e in chain.elements if e.start > fixed.start]
    if not after:
        return False
    nxt = after[0]
    return any(is_under(fixed.code, c) for c in (nxt.entry.codes or nxt.entry.towns))


# --- the reading ---------------------------------------------------------------------------------


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


Misses = dict[int, tuple[NearMiss, str]]   # start -> (the name it is near, as written)


def read_admin(address: str) -> AdminReading:
    chain, junk, misses = read_repaired(address)
    again = read_restatement(chain)
    if again is not None:
        chain, more_junk, more_misses = again
        junk = junk or more_junk
        misses.update(more_misses)
    return describe(chain, junk, misses)


def read_repaired(text: str) -> tuple[_Chain, str | None, Misses]:
    """The chain with at most MAX_REPAIRS repairs: junk removed, near misses and cut names read
    as the names they stand for."""
    chain = read_chain(text)
    junk: str | None = None
    misses: Misses = {}
    for _ in range(MAX_REPAIRS):
        if not can_repair(chain):
            break
        # Junk first: removing it shifts positions, which a near miss found before would not follow.
        fixed_junk = repair_junk(chain) if junk is None and not misses else None
        if fixed_junk:
            chain, junk = fixed_junk
            continue
        fixed_miss = repair_near_miss(chain)
        if not fixed_miss:
            break
        chain, element, miss, written = fixed_miss
        misses[element.start] = (miss, written)
    if len(misses) < MAX_REPAIRS and (fixed_cut := repair_misplaced_cut(chain)):
        chain, element, miss, written = fixed_cut
        misses[element.start] = (miss, written)
    return chain, junk, misses


def read_restatement(chain: _Chain) -> tuple[_Chain, str | None, Misses] | None:
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
    joined = _Chain(text[:start] + again.text, head + again.elements, again.stop + start, None, again.cut,
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


def restates(head: list[_Element], again: list[_Element]) -> bool:
    first = [e for e in head if e.level < TOWN]
    second = [e for e in again if e.level < TOWN]
    if not second or not same_place(first[-1], second[-1]):
        return False
    end = second[-1]
    return all(same_place(e, end) or any(is_under(c, end.code) for c in e.entry.codes) for e in second)


def miss_kind(miss: NearMiss, written: str) -> str:
    if miss.cut:
        return "cut"
    return "renamed" if is_renamed(written, miss.name) else "typo"


def written_again_by_rule(previous: _Element, e: _Element, text: str) -> bool:
    """A name written twice that is not a repeat: a municipality as province and city (北京市北京市),
    a short form then the full name (南昌南昌市, 湖北仙桃仙桃市, 广东东莞东莞市: how platforms
    write the region before the address as typed; 东莞市东莞市 is a repeat), and a name beginning
    an institution's (清徐县清徐县人民医院)."""
    if e.level == PROVINCE and e.code in MUNICIPALITY_CODES:
        return True
    if previous.entry.short and not e.entry.short:
        return True
    return INSTITUTION.match(text, e.end) is not None


def platform_region(elements: list[_Element]) -> _Element | None:
    """The county ending a region written as delivery platforms write it, province and city in
    short forms (湖北孝感孝南区, 北京北京通州区), when it is the third name: the address as typed
    follows, and may begin with that county again (湖北孝感孝南区孝南区祝站镇), which is no repeat."""
    if len(elements) < 4:
        return None
    province, city, county = elements[:3]
    shaped = (province.level == PROVINCE and province.entry.short and city.entry.short
              and city.level in (CITY, COUNTY) and county.level == COUNTY and not county.entry.short)
    return county if shaped else None


def ends_restatement(e: _Element, end: _Element | None) -> bool:
    """The place a restatement ends at, by its name or by a former one (郧县 for 郧阳区): the
    address as typed may begin with it once more (十堰郧阳区中国湖北十堰郧县郧县城关镇)."""
    if end is None:
        return False
    return same_place(e, end) or load_admin_index().successor.get(e.code) == end.code


def describe(chain: _Chain, junk: str | None, misses: dict[int, tuple[NearMiss, str]]) -> AdminReading:
    names = []
    repeated = []
    in_order = True
    deepest = 0
    previous: _Element | None = None
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
