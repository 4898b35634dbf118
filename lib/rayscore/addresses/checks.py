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

Only what is certain fails. fields.py finds the fields and reads the phone; admin_names.py
reads the admin part as a chain of table names from the start of the address (levels 1-3 and
towns, ambiguous names resolved by the other names written). A failure is: two names that
cannot belong together, the same name written twice in a row, a name one character away from a
known name under the same parent (海定区), digits or symbols between or inside the names, or
levels out of order. A name nobody knows with no near miss (a development zone missing from the
table, 工业区 in the detail part) is not a failure, and towns are never one: the 2023 table does
not know every renamed street.

Version 2 adds numbers of another province (postcode, area code; numbering.py), unallocated
mobile prefixes, a phone, junk or a broken house number in the address (detail.py), an address
that stops at its admin names, two names of one level in a row, and another place's names in
the detail. CERTAIN names the flags that decide a record is wrong on their own; docs/checks.md
gives the reason for each flag.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass

from rayscore.addresses.admin_index import MAX_KEY_LENGTH, Entry, load_admin_index
from rayscore.addresses.admin_names import AREA_WORDS, WORD_COUNTIES, AdminName, is_under, read_admin, skip_separators
from rayscore.addresses.detail import bad_house_numbers, junk_symbols, name_at_end, phone_in, road_name_cut_short
from rayscore.addresses.divisions import CITY, COUNTY, TOWN, load_divisions
from rayscore.addresses.fields import DIGIT, Phone, read_phone, split_fields
from rayscore.addresses.names import GIVEN_NAME_CHARS, SURNAMES
from rayscore.addresses.numbering import area_code_provinces, mobile_prefix_allocated, postcode_provinces
from rayscore.checks import CheckResult

logger = logging.getLogger(__name__)

# Every flag, in the order observations list them; the label is what the model reads.
LABELS = {
    "name_missing": "缺姓名",
    "name_junk": "姓名乱码",
    "address_missing": "缺地址",
    "postcode_missing": "缺邮编",
    "postcode_format": "邮编位数",
    "postcode_region": "邮编异省",
    "phone_missing": "缺电话",
    "phone_format": "电话格式",
    "phone_length": "电话位数",
    "phone_prefix": "号段无效",
    "area_code_region": "区号异省",
    "address_phone": "地址夹号",
    "address_incomplete": "地址不全",
    "admin_digits": "地名夹数",
    "admin_unknown": "地名错字",
    "admin_repeated": "地名重复",
    "admin_order": "地名倒序",
    "admin_conflict": "地名冲突",
    "detail_repeated": "详址重复",
    "road_suffix": "路名缺字",
    "address_name": "地址夹名",
    "detail_junk": "详址乱码",
    "detail_other_place": "详址异地",
    "house_number": "门牌无效",
    "city_not_in_province": "市不属省",
    "county_not_in_city": "区不属市",
}
FLAGS = tuple(LABELS)
NOTHING_FAILED = "检查:无"

# The flags no correct, deliverable record raises: a record failing one is wrong whatever a model
# says. The others are evidence a model weighs: the table does not know every name (admin_unknown),
# systems restate or reorder levels (admin_repeated, admin_order), counties moved between cities
# (资阳市简阳市 until 2016), real names repeat syllables (detail_repeated), and a landline is the
# person's, not the address's (area_code_region). docs/checks.md gives the reason for each.
CERTAIN = frozenset({
    "name_missing", "name_junk", "address_missing", "postcode_missing", "postcode_format", "postcode_region",
    "phone_missing", "phone_format", "phone_length", "phone_prefix", "address_phone",
    "address_incomplete", "admin_conflict", "detail_junk", "detail_other_place", "house_number",
    "city_not_in_province",
})


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
    conflict: str | None             # a name of the last name's level and parent right after it
    other_place: str | None          # names of another place written in the detail (上海市浦东新区)
    house_numbers: tuple[str, ...]   # numbers that cannot be one (0号, 3O1室, 5@02室)
    junk: str                        # symbols no address holds, found in the detail
    address_phone: str | None        # a phone number written inside the address
    restart_at: int = 0              # where a platform's restatement of the address begins (0: none)

    @property
    def provinces(self) -> frozenset[str]:
        """The provinces the resolved admin names lie in (empty: none known)."""
        return frozenset(a.code[:2] for a in self.admin if a.code and a.level < TOWN)


# --- the report and its flags --------------------------------------------------------------------


def inspect(text: str) -> AddressReport:
    """Observe one record (any string: a field not found is None, nothing raises)."""
    name, address, postcode, phone = split_fields(text)
    admin = read_admin(address) if address else None
    names = admin.names if admin else ()
    detail = admin.detail if admin else ""
    conflict = conflicting_name(names, detail)
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
        detail=detail,
        conflict=conflict,
        # A conflicting name starts the detail and a chain read from it is the same cause: skipped.
        other_place=other_place(names, detail, len(conflict or "")),
        house_numbers=bad_house_numbers(detail),
        junk=junk_symbols(detail),
        address_phone=phone_in(address) if address else None,
        restart_at=admin.restart_at if admin else 0,
    )


def phone_flag(phone: Phone) -> str | None:
    if phone.nondigit:
        return "phone_format"
    if phone.kind == "mobile":
        if phone.digits != 11:
            return "phone_length"
        return None if mobile_prefix_allocated(phone.number) else "phone_prefix"
    if phone.kind == "landline":
        return None if phone.local_digits is not None and 7 <= phone.local_digits <= 8 else "phone_length"
    # No area code: a local number alone (87654321) is how some write it; any other length is not.
    return None if 7 <= phone.digits <= 8 else "phone_length"


def flags_of(report: AddressReport) -> tuple[str, ...]:
    """The failed checks, in the order of FLAGS."""
    failed = []
    if report.name is None:
        failed.append("name_missing")
    elif name_junk(report.name):
        failed.append("name_junk")
    if report.address is None:
        failed.append("address_missing")
    if report.postcode is None:
        failed.append("postcode_missing")
    elif report.postcode_length != 6 or report.postcode_digits != 6:
        failed.append("postcode_format")
    elif not fits_provinces(postcode_provinces(report.postcode.strip()), report.provinces):
        failed.append("postcode_region")
    if report.phone is None:
        failed.append("phone_missing")
    else:
        failed += phone_flags(report.phone, report.provinces)
    if report.address_phone:
        failed.append("address_phone")
    if report.admin and not ADDRESS_CONTENT.search(report.detail):
        failed.append("address_incomplete")
    if report.admin_junk is not None:
        failed.append("admin_digits")
    if any(a.match in ("typo", "cut") for a in report.admin) or short_cut_county(report):
        failed.append("admin_unknown")
    if report.repeated:
        failed.append("admin_repeated")
    if not report.in_order:
        failed.append("admin_order")
    if report.conflict:
        failed.append("admin_conflict")
    if detail_repeated(report):
        failed.append("detail_repeated")
    if report.detail and road_name_cut_short(report.detail):
        failed.append("road_suffix")
    if report.address and name_at_end(report.address, COMMON_SURNAMES, GIVEN_CHARACTERS):
        failed.append("address_name")
    if report.junk:
        failed.append("detail_junk")
    if report.other_place:
        failed.append("detail_other_place")
    if report.house_numbers:
        failed.append("house_number")
    if report.city_in_province is False:
        failed.append("city_not_in_province")
    if report.county_in_city is False:
        failed.append("county_not_in_city")
    return tuple(failed)


def phone_flags(phone: Phone, provinces: frozenset[str]) -> list[str]:
    """The phone's own fault, then whether its area code lies in the province the address names."""
    flags = [flag] if (flag := phone_flag(phone)) else []
    if phone.area_code and not fits_provinces(area_code_provinces(phone.area_code), provinces):
        flags.append("area_code_region")
    return flags


def fits_provinces(allowed: frozenset[str] | None, provinces: frozenset[str]) -> bool:
    """Whether a number's provinces meet the address's; an unknown prefix or no province fits."""
    return allowed is None or not provinces or not allowed.isdisjoint(provinces)


# Names nobody is called: words typed to test a form, and the placeholders 某某, 无.
JUNK_NAMES = frozenset({"test", "ceshi", "admin", "user", "null", "none", "na", "xx", "abc", "abcd", "asdf", "qwe",
                        "qwer", "sdf", "xyz", "qq", "测试", "某某", "无"})
# What a name never holds: digits, and symbols other than the dot of minority names (阿卜杜·热合曼).
NOT_IN_A_NAME = re.compile(r"[0-9０-９!-/:-@\[-`{-~！-／：-＠]")
SAME_CHARACTER_THRICE = re.compile(r"(.)\1\1")
LATIN = re.compile(r"[A-Za-z]")
HANZI = re.compile(r"[\u3400-\u9fff]")
COMMON_SURNAMES = frozenset(SURNAMES)
GIVEN_CHARACTERS = frozenset(GIVEN_NAME_CHARS)


def name_junk(name: str) -> bool:
    """A name no person has: digits or symbols in it, one character three times (啊啊啊), a
    test word (test, 测试), or hanzi and latin letters mixed (张abc). A latin name alone (Amy) is
    a name."""
    name = name.strip()
    return bool(name.lower() in JUNK_NAMES or NOT_IN_A_NAME.search(name.replace("·", ""))
                or SAME_CHARACTER_THRICE.search(name) or (LATIN.search(name) and HANZI.search(name)))


# What a deliverable address has after its admin names: a road, a village, a number, a POI.
ADDRESS_CONTENT = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


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


def short_cut_county(report: AddressReport) -> str | None:
    """A city or county name cut to its first character and its suffix, right after the province
    or city it lies in (浙江省兰市 for 兰溪市): 镇江市扬市 for 扬中市, 重庆市万区 for 万州区, 成都市青区 for 青羊区 or
    青白江区. The reading stops there, so it starts the detail; no place is named so, and a county
    of that city starts with that character and ends with that suffix."""
    last = report.admin[-1] if report.admin else None
    if last is None:   # a short form cut off by the cut name after it reads as no name (北京朝区)
        return short_cut_after_short_form(report.detail)
    m = ONE_CHARACTER_COUNTY.match(report.detail)
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


# Two or more hanzi written twice in a row (人民路人民路, 虎门镇虎门镇): copying is what a reward
# model is weak at and a regular expression is not; a single repeated hanzi (冬冬) is a name.
REPEATED_SPAN = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff]{2,24})\1")  # longer units are no one word


def detail_repeated(report: AddressReport) -> bool:
    """A part of the address below the administrative names written twice in a row (人民路人民路),
    the last name read included, but not a repeat inside that known name (萨克萨克街道 is a real
    town), and not a town written again right after itself (泉峰街道泉峰街道): that is how
    delivery platforms join their town field to the address a customer typed, which starts with
    the town again, and the address is deliverable."""
    last = report.admin[-1] if report.admin else None
    written = last.written if last else ""
    text, pos = written + report.detail, 0
    if last is not None and last.level == TOWN and report.detail.startswith(written):
        text = text[len(written):]
    while (match := REPEATED_SPAN.search(text, pos)) is not None:
        unit = match.group(1)
        if (match.end() > len(written) and not ADMIN_ENDING.search(unit) and not is_division_name(unit)
                and not across_words(text, match)):
            return True
        pos = match.start() + 1
    return False


def across_words(text: str, match: re.Match) -> bool:
    """A repeat the words only seem to make: it begins with the ending of the word before
    (开发区东区东众路: 区东区东), or a name is followed by a longer name built on it (天河天河路,
    南桥南桥镇, 西直门西直门外大街, 航空港空港四路). A whole word repeated (人民路人民路, 税务楼税务楼)
    is a repeat whatever follows."""
    unit = match.group(1)
    if unit[0] in ENDING_ONLY:
        return True
    follows = text[match.end():match.end() + 1]
    return bool(HANZI.match(follows)) and not WORD_ENDING.search(unit)


# Characters that end a word and seldom begin one (区, 路, 号; not 湾 or 城, which begin names).
ENDING_ONLY = "省市区县旗盟镇乡路号栋幢楼室座层巷弄"
# How the words of an address end (roads, numbers, buildings, villages, offices).
WORD_ENDING_CHARACTERS = "省市区县旗州盟镇乡村组路街道巷弄号栋幢楼室座层苑园城厦场店院处局站所部司馆庄屯湾里坊寓府居庭阁轩"
WORD_ENDING = re.compile(rf"(?:[{WORD_ENDING_CHARACTERS}]|中心|广场|花园|小区|公寓|市场|基地|集团|公司)$")


def is_division_name(text: str) -> bool:
    """A division's name or short form (重庆, 遵义): written twice, it is a region restated."""
    entry = load_admin_index().automaton.get(text, None)
    return entry is not None and bool(entry.codes)


# A span ending like a division's name (重庆开县重庆开县, 仙桃市仙桃市; not 兴锦社区, 马李工业区) repeats the region: a
# platform's restatement of names the table may not know (renamed in 2016), read as admin names,
# not as the detail written twice.
ADMIN_ENDING = re.compile(r"(?:[省市县旗盟州镇乡]|(?<![社小业园发校景厂营商宅展矿林农场])区|街道|地区)$")


@functools.cache
def render(flags: tuple[str, ...]) -> str:
    return "检查:" + ",".join(LABELS[f] for f in flags) if flags else NOTHING_FAILED


class AddressChecks:
    """The check set rayscore.checks loads as rayscore.addresses.checks:ADDRESS_CHECKS."""

    name = "addresses"
    version = "6"
    flags = FLAGS
    certain = CERTAIN
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


def certain_flags(flags: tuple[str, ...]) -> tuple[str, ...]:
    """The flags of a record that decide it is wrong on their own (CERTAIN), in the order given."""
    return tuple(f for f in flags if f in CERTAIN)


def as_text(value: object) -> str:
    """A frame's missing value (None) is an empty record; anything else its str (nan -> "nan")."""
    if isinstance(value, str):
        return value
    return "" if value is None else str(value)


ADDRESS_CHECKS = AddressChecks()
