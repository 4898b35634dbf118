"""The address check set: what a rule can tell for certain about one address record.

    from rayscore.addresses.checks import ADDRESS_CHECKS, inspect
    ADDRESS_CHECKS.run(["张伟,北京市海定区阜通东大街6号,邮编:10010,电话:13812345678"])[0]
    # CheckResult(flags=('postcode_format', 'admin_unknown'), observation='检查:邮编位数,地名错字')
    report = inspect("张伟,北京市海定区阜通东大街6号,邮编:10010,电话:13812345678")
    report.admin[1].written, report.admin[1].nearest        # ('海定区', '海淀区')
    report.postcode_digits, report.phone.kind, report.detail  # (5, 'mobile', '阜通东大街6号')

`inspect` observes one record (AddressReport: the fields found, the postcode's digits, the phone's
kind and digit counts, the administrative names read from the start of the address, how they
fit together, and the detail part after them). `ADDRESS_CHECKS.run` turns reports into flags,
in the order of FLAGS, and renders them compactly (the model reads them: "检查:无" or
"检查:邮编位数,市不属省").

Only what is certain fails. The admin part is read as a chain of table names from the start of
the address (leftmost-longest, levels 1-3 and towns from divisions.py), ambiguous names (朝阳区 in
Beijing and in Changchun) resolved by the other names written. A failure is: two names that
cannot belong together, the same name written twice in a row, a name one character away from a
known name under the same parent (海定区), digits or symbols between or inside the names, or
levels out of order. A name nobody knows with no near miss (a development zone missing from the
table, 工业区 in the detail part) is not a failure, and towns are never one: the 2023 table does
not know every renamed street.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass

import ahocorasick

from rayscore.addresses.divisions import (
    CITY,
    COUNTY,
    MUNICIPALITY_CODES,
    PROVINCE,
    TOWN,
    DivisionTable,
    Place,
    load_divisions,
    short_name,
)
from rayscore.checks import CheckResult

logger = logging.getLogger(__name__)

# Every flag, in the order observations list them; the label is what the model reads.
LABELS = {
    "name_missing": "缺姓名",
    "address_missing": "缺地址",
    "postcode_missing": "缺邮编",
    "postcode_format": "邮编位数",
    "phone_missing": "缺电话",
    "phone_format": "电话格式",
    "phone_length": "电话位数",
    "admin_digits": "地名夹数",
    "admin_unknown": "地名错字",
    "admin_repeated": "地名重复",
    "admin_order": "地名倒序",
    "detail_repeated": "详址重复",
    "city_not_in_province": "市不属省",
    "county_not_in_city": "区不属市",
}
FLAGS = tuple(LABELS)
NOTHING_FAILED = "检查:无"

# --- fields --------------------------------------------------------------------------------------

FIELD_SEPARATOR = re.compile(r"[,，;；]")
# Longest label first where one starts another (手机号码 before 手机).
LABELLED_FIELD = re.compile(
    r"\s*(邮政编码|邮编|联系电话|联系方式|手机号码|手机号|手机|电话|座机|固话|收件人|收货人|联系人|姓名|"
    r"详细地址|收货地址|地址)\s*[:：]?\s*(.*)", re.S)
LABEL_KIND = {"邮政编码": "postcode", "邮编": "postcode", "收件人": "name", "收货人": "name", "联系人": "name",
              "姓名": "name", "详细地址": "address", "收货地址": "address", "地址": "address"}  # others: phone
# An unlabelled field of digits and phone punctuation only: a postcode or a phone without its label.
NUMERIC_FIELD = re.compile(r"[\d\s\-+()（）]*\d[\d\s\-+()（）]*")
# What only an address holds (a name has none of these, nor digits).
ADDRESS_HINT = re.compile(r"[省市区县旗州盟镇乡村路街道巷弄号楼栋幢座室组院苑园庄屯\d]|单元|小区|社区|大厦|广场|市场|中心|门口")
DIGIT = re.compile(r"[0-9]")

# --- phones --------------------------------------------------------------------------------------

PHONE_PUNCTUATION = re.compile(r"[\s\-－—()（）]")
DIGITS = re.compile(r"[0-9]+")
MOBILE_SECOND_DIGITS = frozenset("3456789")
# Mainland area codes: 010 and 020-029 have 3 digits, every other one 4.
THREE_DIGIT_AREA_SECOND = frozenset("12")

# --- administrative names ------------------------------------------------------------------------

# Written between levels (浙江省-杭州市 / 浙江省 杭州市) and skipped like nothing.
SEPARATORS = frozenset(" \u3000\t-－—–")
# Digits, latin letters and symbols: never part of a division name.
JUNK = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff \u3000\t\-－—–]+")
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
# Rows that only group counties; some systems write them (北京市市辖区朝阳区).
PLACEHOLDERS = ("市辖区", "省直辖县级行政区划", "自治区直辖县级行政区划")
COUNTRY = "中国"
# The peoples named in autonomous prefectures: what comes before them is the place (大理白族自治州).
ETHNIC_PREFECTURE = re.compile(r"(?:土家族|布依族|朝鲜族|哈尼族|景颇族|傈僳族|蒙古族|柯尔克孜|哈萨克|蒙古|白族|苗族|藏族|羌族|"
                               r"彝族|侗族|壮族|傣族|回族)+自治州$")
# Town-level names read as towns; other rows at that level (农场, 开发区) are left to the detail.
TOWN_NAME = re.compile(r"(?:街道|镇|乡|苏木|地区|办事处)$")
# The admin part is at the start: names are looked for in this many characters of the address.
ADMIN_WINDOW = 96
MAX_KEY_LENGTH = 24   # the longest name in the table (内蒙古赤峰高新技术产业开发区管理委员会红山产业园: 24)
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
    match: str           # "exact" | "short" (杭州) | "typo" (海定区) | "renamed" (富阳市 for 富阳区)
    nearest: str | None  # for a typo or an old name: the table's name it is one character from

    @property
    def known(self) -> bool:
        return self.match in ("exact", "short")


@dataclass(frozen=True, slots=True)
class Phone:
    written: str
    number: str                # without spaces, dashes, parentheses and +86
    kind: str                  # "mobile" (1...), "landline" (0...) or "unknown"
    digits: int
    area_code: str | None      # landlines: 0 + 2-3 digits
    local_digits: int | None   # landlines: digits after the area code
    nondigit: bool             # anything but digits left in `number`


@dataclass(frozen=True, slots=True)
class AddressReport:
    """What inspect() observed in one record; run() maps it to flags."""

    name: str | None
    address: str | None
    postcode: str | None
    postcode_digits: int
    postcode_length: int
    phone: Phone | None
    admin: tuple[AdminName, ...]     # in the order written: levels 1-3, then the town if one is known
    admin_junk: str | None           # digits or symbols found between or inside the admin names
    city_in_province: bool | None    # None: not both written
    county_in_city: bool | None      # the county under the city (or province) written before it
    in_order: bool
    repeated: tuple[str, ...]        # names written twice in a row (北京市北京市 is how it is written)
    detail: str                      # the address after the admin names


# --- the division index (built once per process) -------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    """One automaton key: a full name or short form and every place it can name."""

    length: int
    codes: tuple[str, ...]     # levels 1-3 (empty for a town-only name or a placeholder)
    towns: tuple[str, ...]     # level 4, only when the name is no level 1-3 name
    short: bool                # a short form (杭州), never a full name
    placeholder: bool          # 市辖区: skipped


@dataclass(frozen=True, slots=True)
class _Miss:
    """A name as written in the table, found by the near-miss lookup (keyed by the name with one
    character masked)."""

    name: str
    code: str
    full: bool


class _Index:
    """What reading an admin part needs from the division table, built once per process (~0.3 s)."""

    def __init__(self) -> None:
        table = load_divisions()
        self.level = {p.code: p.level for p in table.places.values()}
        self.name = {p.code: p.name for p in table.places.values()}
        self.parent = {p.code: p.parent or "" for p in table.places.values()}
        self.automaton = self.build_automaton(table)
        # parent code (None: nothing written before) -> {length: {name with one character masked: [_Miss]}}
        self.misses = self.build_near_misses(table)
        self.miss_lengths = {p: sorted(v, reverse=True) for p, v in self.misses.items()}
        logger.debug("address checks: %d keys, %d near-miss pools", len(self.automaton), len(self.misses))

    def build_automaton(self, table: DivisionTable) -> ahocorasick.Automaton:
        automaton = ahocorasick.Automaton()
        for key, codes in written_names(table).items():
            admin = tuple(c for c in codes if self.level[c] < TOWN)
            if not admin and not TOWN_NAME.search(key):
                continue   # 经济技术开发区, XX农场: town-level rows that read like the detail part
            short = all(self.name[c] != key for c in codes)
            automaton.add_word(key, _Entry(len(key), admin, () if admin else codes, short, False))
        for key in PLACEHOLDERS:
            automaton.add_word(key, _Entry(len(key), (), (), False, True))
        automaton.make_automaton()
        return automaton

    def build_near_misses(self, table: DivisionTable) -> dict[str | None, dict[int, dict[str, list[_Miss]]]]:
        misses: dict[str | None, dict[int, dict[str, list[_Miss]]]] = {}
        for place in table.places.values():
            if place.level == TOWN:
                continue
            written = [(place.name, True)] + [(s, False) for s in (short_name(place),) if s]
            for parent in [None] + near_miss_parents(place):
                by_length = misses.setdefault(parent, {})
                for text, full in written:
                    masks = by_length.setdefault(len(text), {})
                    for i in range(len(text)):
                        masks.setdefault(text[:i] + "\0" + text[i + 1:], []).append(_Miss(text, place.code, full))
        return misses


def near_miss_parents(place: Place) -> list[str]:
    """Whose near-miss pool a place is in, besides the pool of nothing written before it.

    A city's: its counties. A province's: its cities, and the county-level units written
    straight after it (浙江省义乌市, 河南省济源市); a municipality's: its districts."""
    if place.level == CITY:
        return [place.code[:2]]
    if place.level != COUNTY:
        return []
    under_province = place.parent == place.code[:2]
    parents = [] if under_province else [place.code[:4]]
    if under_province or place.name.endswith("市"):
        parents.append(place.code[:2])
    return parents


def written_names(table: DivisionTable) -> dict[str, tuple[str, ...]]:
    """Every name as written -> the places it names: the table's names and short forms, and the
    short forms people use for autonomous prefectures, leagues and prefectures (大理州 and 大理 for
    大理白族自治州, 锡林郭勒 for 锡林郭勒盟, 喀什 for 喀什地区)."""
    names = dict(table.by_name)
    for place in table.places.values():
        if place.level != CITY:
            continue
        ethnic = ETHNIC_PREFECTURE.search(place.name)
        if ethnic:
            forms = [place.name[: ethnic.start()] + "州", place.name[: ethnic.start()]]
        elif place.name.endswith(("地区", "盟")):
            forms = [place.name.removesuffix("地区").removesuffix("盟")]
        else:
            continue
        for form in forms:
            names[form] = tuple(sorted(set(names.get(form, ()) + (place.code,))))
    return names


@functools.cache
def _index() -> _Index:
    return _Index()


# --- reading the admin part ----------------------------------------------------------------------


@dataclass(slots=True)
class _Element:
    start: int
    end: int
    entry: _Entry
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


def skip_separators(text: str, pos: int) -> int:
    n = len(text)
    while pos < n and text[pos] in SEPARATORS:
        pos += 1
    return pos


class _Keys:
    """The keys starting at each position of a window, looked up when first asked (the chain
    asks for a few positions only), longest first."""

    __slots__ = ("window", "found")

    def __init__(self, window: str) -> None:
        self.window = window
        self.found: dict[int, list[_Entry]] = {}

    def at(self, pos: int) -> list[_Entry]:
        entries = self.found.get(pos)
        if entries is None:
            automaton = _index().automaton
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


def reach(entry: _Entry, window: str, pos: int, keys: _Keys) -> tuple[int, int]:
    """How far this key and the longest name right after it get, then its own length: the
    reading that covers more wins (青岛 + 市南区 over 青岛市 + 南区; 阜阳合肥现代产业园区 over
    阜阳 + 合肥)."""
    after = skip_separators(window, pos + entry.length)
    following = keys.at(after)
    return (after + following[0].length if following else pos + entry.length), entry.length


def fits(entry: _Entry, window: str, end: int, keys: _Keys, previous: _Element | None) -> bool:
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
    else:
        best = [greedy_codes(admin)]
    index = _index()
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


def greedy_codes(admin: list[_Element]) -> tuple[str, ...]:
    chosen: list[str] = []
    for e in admin:
        chosen.append(max(e.entry.codes, key=lambda c: sum(is_under(a, c) for a in chosen)))
    return tuple(chosen)


def resolve_town(town: _Element, admin: list[_Element]) -> None:
    town.level = TOWN
    parents = [e.code for e in admin if e.level in (CITY, COUNTY)]
    under = [c for c in town.entry.towns if parents and is_under(parents[-1], c)]
    town.code = under[0] if under else town.entry.towns[0]
    town.ambiguous = not under and len(town.entry.towns) > 1


def same_place(a: _Element, b: _Element) -> bool:
    """The same place twice; 嘉峪关市嘉峪关市 is a city and its county, one name undecided is the same."""
    return a.code == b.code or (a.entry is b.entry and (a.ambiguous or b.ambiguous))


def stands_for_city(e: _Element) -> bool:
    """A county-level unit right under its province (天门市, 五家渠市, 临高县; not 北京's districts):
    it is written where a city goes and holds no counties of its own."""
    return e.level == COUNTY and len(_index().parent[e.code]) == 2 and e.code[:2] not in MUNICIPALITY_CODES


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
    if e.level != COUNTY or e.entry.short or _index().name[e.code] not in WORD_COUNTIES:
        return False
    *_, (_, parent, _) = parents(kept + [e])
    return parent is not None and not any(is_under(parent.code, c) for c in e.entry.codes)


def read_chain(text: str) -> _Chain:
    elements, stop, pending = scan(text)
    resolve(elements)
    kept = keep_chain(elements)
    if len(kept) < len(elements):
        resolve(kept)
        return _Chain(text, kept, kept[-1].end if kept else 0, None, True)
    return _Chain(text, kept, stop, pending, False)


def admin_count(chain: _Chain) -> int:
    return sum(1 for e in chain.elements if e.level < TOWN)


def inconsistent(chain: _Chain) -> bool:
    city, county = nesting_checks(chain.elements)
    return city is False or county is False


def nesting_checks(elements: list[_Element]) -> tuple[bool | None, bool | None]:
    """(city in province, county in city): None when no such pair is written."""
    ok: dict[str, bool] = {}
    for e, parent, flag in parents(elements):
        if parent is None or same_place(parent, e):
            continue
        # Any reading of the two names that nests will do (both may be ambiguous).
        nests = any(is_under(p, c) for p in parent.entry.codes or (parent.code,) for c in e.entry.codes or (e.code,))
        ok[flag] = ok.get(flag, True) and nests
    return ok.get("city_not_in_province"), ok.get("county_not_in_city")


def can_repair(chain: _Chain) -> bool:
    """A repair is tried where reading stopped before a county (or a town) was reached."""
    if chain.cut or chain.stop >= len(chain.text):
        return False
    if not chain.elements:
        return True
    last = chain.elements[-1]
    return not last.entry.towns and min(_index().level[c] for c in last.entry.codes) < COUNTY


def repair_points(chain: _Chain) -> list[tuple[int, _Element | None]]:
    """(where a name may start, the name written before it): where reading stopped; after a short
    form cut off there (浙江 in 浙江杭洲西湖区, 四川 in 四川成56都); and at a short form read last,
    which may begin a longer name (甘孜 of 甘孜海族自治州)."""
    last = chain.elements[-1] if chain.elements else None
    points = [(chain.stop, last)]
    pending = chain.pending
    if pending and (last is None or min(_index().level[c] for c in pending.entry.codes) > last.level):
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
    if junk is None:
        return None
    a, b = junk.span()
    automaton = _index().automaton
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


def repair_near_miss(chain: _Chain) -> tuple[_Chain, _Element, _Miss, str] | None:
    """The chain read again with a near miss written as the name it is one character from.

    Under a known parent a near miss ending in a level suffix (海定区) is certain enough; any
    other (a short form, a changed last character, nothing written before) must be confirmed
    by the next name lying under the one it is near (杭洲西湖区)."""
    index = _index()
    text = chain.text
    for pos, parent_element in repair_points(chain):
        parents: tuple[str | None, ...] = parent_element.entry.codes if parent_element else (None,)
        for parent in parents:
            for length in index.miss_lengths.get(parent, ()):
                written = text[pos:pos + length]
                if len(written) < length or JUNK.search(written) or any(ch in SEPARATORS for ch in written):
                    continue
                # Of several near names (楠阳市: 南阳市, 洛阳市, 信阳市 ...) the one the next name
                # lies in is meant; without such a name, the first sure one.
                fallback = None
                for miss in near_misses(index.misses[parent][length], written):
                    again = read_chain(text[:pos] + miss.name + text[pos + length:])
                    fixed = next((e for e in again.elements if e.start == pos and e.end == pos + length), None)
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


def near_misses(masks: dict[str, list[_Miss]], written: str) -> list[_Miss]:
    out = []
    for i in range(len(written)):
        for miss in masks.get(written[:i] + "\0" + written[i + 1:], ()):
            if miss.name != written:
                out.append(miss)
    return out


def confirmed(chain: _Chain, fixed: _Element) -> bool:
    """Whether the name read right after a corrected one lies in it (杭州 then 西湖区)."""
    after = [e for e in chain.elements if e.start > fixed.start]
    if not after:
        return False
    nxt = after[0]
    return any(is_under(fixed.code, c) for c in (nxt.entry.codes or nxt.entry.towns))


@dataclass(slots=True)
class _AdminReading:
    names: tuple[AdminName, ...]
    junk: str | None
    city_in_province: bool | None
    county_in_city: bool | None
    in_order: bool
    repeated: tuple[str, ...]
    detail: str


def read_admin(address: str) -> _AdminReading:
    chain = read_chain(address)
    junk: str | None = None
    misses: dict[int, tuple[_Miss, str]] = {}   # start -> (the name it is near, as written)
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
    return describe(chain, junk, misses)


def describe(chain: _Chain, junk: str | None, misses: dict[int, tuple[_Miss, str]]) -> _AdminReading:
    names = []
    repeated = []
    in_order = True
    deepest = 0
    previous: _Element | None = None
    for e in chain.elements:
        written = chain.text[e.start:e.end]
        match, nearest = ("short" if e.entry.short else "exact"), None
        if e.start in misses:
            miss, written = misses[e.start]
            match, nearest = ("renamed" if is_renamed(written, miss.name) else "typo"), miss.name
        names.append(AdminName(written, e.level, None if e.ambiguous else e.code, match, nearest))
        if previous is not None and e.level < TOWN and same_place(previous, e):
            if not (e.level == PROVINCE and e.code in MUNICIPALITY_CODES):
                repeated.append(written)
        elif e.level < deepest:
            in_order = False
        deepest = max(deepest, e.level)
        previous = e
    city, county = nesting_checks(chain.elements)
    detail = chain.text[skip_separators(chain.text, chain.stop):]
    return _AdminReading(tuple(names), junk, city, county, in_order, tuple(repeated), detail)


# --- fields, postcode, phone ---------------------------------------------------------------------


def split_fields(text: str) -> tuple[str | None, str | None, str | None, str | None]:
    """(name, address, postcode, phone) as written; None for a field not found."""
    labelled: dict[str, str] = {}
    plain: list[str] = []     # unlabelled fields, in order
    for field in FIELD_SEPARATOR.split(text):
        field = field.strip()
        if not field:
            continue
        m = LABELLED_FIELD.match(field)
        if m:
            labelled.setdefault(LABEL_KIND.get(m.group(1), "phone"), m.group(2).strip())
        else:
            plain.append(field)
    address_at = pick_address(plain) if "address" not in labelled else None
    used = {address_at}
    if address_at is not None:
        labelled["address"] = plain[address_at]
    # Unlabelled numbers after the address (or after the first field, the name): a postcode
    # has 6 digits, the phone is the other.
    for j in range(1 if address_at is None else address_at + 1, len(plain)):
        field = plain[j]
        if not NUMERIC_FIELD.fullmatch(field):
            continue
        if "postcode" not in labelled and len(DIGIT.findall(field)) == 6:
            labelled["postcode"] = field
        elif "phone" not in labelled:
            labelled["phone"] = field
        elif "postcode" not in labelled:
            labelled["postcode"] = field
        else:
            continue
        used.add(j)
    if "name" not in labelled:
        # The field just before the address, whatever it holds (a junk name is still the name).
        free = [j for j in range(len(plain)) if j not in used]
        before = [j for j in free if address_at is not None and j < address_at]
        chosen = before[-1] if before else (free[0] if free else None)
        if chosen is not None:
            labelled["name"] = plain[chosen]
    return (labelled.get("name") or None, labelled.get("address") or None,
            labelled.get("postcode") or None, labelled.get("phone") or None)


def pick_address(plain: list[str]) -> int | None:
    """Which unlabelled field holds the address: the longest with address content."""
    hinted = [j for j, f in enumerate(plain) if not NUMERIC_FIELD.fullmatch(f) and ADDRESS_HINT.search(f)]
    if hinted:
        return max(hinted, key=lambda j: len(plain[j]))
    # No address content anywhere: the longest field of words after the first field (the name).
    words = [j for j, f in enumerate(plain) if j > 0 and not NUMERIC_FIELD.fullmatch(f)]
    return max(words, key=lambda j: len(plain[j])) if words else None


def read_phone(written: str) -> Phone:
    number = PHONE_PUNCTUATION.sub("", written)
    if number.startswith("+86"):
        number = number[3:]
    elif number.startswith("0086"):
        number = number[4:]
    elif number.startswith("86") and len(number) == 13 and number[2] == "1":
        number = number[2:]
    nondigit = DIGITS.fullmatch(number) is None
    digits = len(DIGIT.findall(number))
    kind = "mobile" if number[:1] == "1" else "landline" if number[:1] == "0" else "unknown"
    area = local = None
    if kind == "landline" and not nondigit:
        area, local = split_area_code(written, number)
    return Phone(written, number, kind, digits, area, local, nondigit)


def split_area_code(written: str, number: str) -> tuple[str, int]:
    """(area code, local digits): as the writer split them (0571-8765..., (0571)8765...), else by the rule."""
    runs = DIGITS.findall(written.replace("+86", ""))
    if len(runs) >= 2 and runs[0].startswith("0") and 3 <= len(runs[0]) <= 4:
        return runs[0], len(number) - len(runs[0])
    size = 3 if number[1:2] in THREE_DIGIT_AREA_SECOND else 4
    return number[:size], len(number) - size


# --- the report and its flags --------------------------------------------------------------------


def inspect(text: str) -> AddressReport:
    """Observe one record (any string: a field not found is None, nothing raises)."""
    name, address, postcode, phone = split_fields(text)
    admin = read_admin(address) if address else None
    return AddressReport(
        name=name,
        address=address,
        postcode=postcode,
        postcode_digits=len(DIGIT.findall(postcode)) if postcode else 0,
        postcode_length=len(postcode) if postcode else 0,
        phone=read_phone(phone) if phone else None,
        admin=admin.names if admin else (),
        admin_junk=admin.junk if admin else None,
        city_in_province=admin.city_in_province if admin else None,
        county_in_city=admin.county_in_city if admin else None,
        in_order=admin.in_order if admin else True,
        repeated=admin.repeated if admin else (),
        detail=admin.detail if admin else "",
    )


def phone_flag(phone: Phone) -> str | None:
    if phone.nondigit:
        return "phone_format"
    if phone.kind == "mobile":
        if phone.digits != 11:
            return "phone_length"
        return None if phone.number[1] in MOBILE_SECOND_DIGITS else "phone_format"
    if phone.kind == "landline":
        return None if phone.local_digits is not None and 7 <= phone.local_digits <= 8 else "phone_length"
    # No area code: a local number alone (87654321) is how some write it; any other length is not.
    return None if 7 <= phone.digits <= 8 else "phone_length"


def flags_of(report: AddressReport) -> tuple[str, ...]:
    """The failed checks, in the order of FLAGS."""
    failed = []
    if report.name is None:
        failed.append("name_missing")
    if report.address is None:
        failed.append("address_missing")
    if report.postcode is None:
        failed.append("postcode_missing")
    elif report.postcode_length != 6 or report.postcode_digits != 6:
        failed.append("postcode_format")
    if report.phone is None:
        failed.append("phone_missing")
    else:
        flag = phone_flag(report.phone)
        if flag:
            failed.append(flag)
    if report.admin_junk is not None:
        failed.append("admin_digits")
    if any(a.match == "typo" for a in report.admin):
        failed.append("admin_unknown")
    if report.repeated:
        failed.append("admin_repeated")
    if not report.in_order:
        failed.append("admin_order")
    if detail_repeated(report):
        failed.append("detail_repeated")
    if report.city_in_province is False:
        failed.append("city_not_in_province")
    if report.county_in_city is False:
        failed.append("county_not_in_city")
    return tuple(failed)


# Two or more hanzi written twice in a row (人民路人民路, 虎门镇虎门镇): copying is what a reward
# model is weak at and a regular expression is not; a single repeated hanzi (冬冬) is a name.
REPEATED_SPAN = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff]{2,})\1")


def detail_repeated(report: AddressReport) -> bool:
    """A part of the address below the administrative names written twice in a row, the last
    name read included (so a town written again right after itself counts), but not a repeat
    inside that known name (萨克萨克街道 is a real town)."""
    last = report.admin[-1].written if report.admin else ""
    text, pos = last + report.detail, 0
    while (match := REPEATED_SPAN.search(text, pos)) is not None:
        if match.end() > len(last):
            return True
        pos = match.start() + 1
    return False


@functools.cache
def render(flags: tuple[str, ...]) -> str:
    return "检查:" + ",".join(LABELS[f] for f in flags) if flags else NOTHING_FAILED


class AddressChecks:
    """The check set rayscore.checks loads as rayscore.addresses.checks:ADDRESS_CHECKS."""

    name = "addresses"
    version = "1"
    flags = FLAGS
    examples = (
        "张伟,北京市朝阳区望京街道阜通东大街6号院3号楼2单元502室,邮编:100102,联系电话:13812345678",
        "李女士，浙江义乌市稠城街道宾王商贸区3F-12，手机：+86 139 5790 1234，邮政编码：322000",
        "王芳,浙江省杭州市西胡区文三路478号,邮编:3100121,电话:0571-8765432",
        "赵磊,广东省南京市鼓楼区中山路8号,手机:1381234567,邮编:210008",
        "江苏省南京1市鼓楼区中山北路200号,邮编:210008",
        "陈静,四川省成都市武侯区武侯区人民南路四段12号,邮编:610041,电话:028-8550123a",
    )

    def run(self, texts: list[str]) -> list[CheckResult]:
        return [self.check(text) for text in texts]

    def check(self, text: object) -> CheckResult:
        try:
            flags = flags_of(inspect(as_text(text)))
        except Exception:  # a check must never stop a scoring job; the record is simply not judged
            logger.exception("address checks failed on %r", str(text)[:200])
            flags = ()
        return CheckResult(flags, render(flags))


def as_text(value: object) -> str:
    """A frame's missing value (None) is an empty record; anything else its str (nan -> "nan")."""
    if isinstance(value, str):
        return value
    return "" if value is None else str(value)


ADDRESS_CHECKS = AddressChecks()
