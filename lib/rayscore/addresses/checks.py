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
not know every renamed street. detail.py, detail_places.py and detail_repeats.py read the detail
part after the names.

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

from rayscore.addresses.admin_names import AdminName, read_admin
from rayscore.addresses.detail import bad_house_numbers, junk_symbols, name_at_end, phone_in, road_name_cut_short
from rayscore.addresses.detail_places import conflicting_name, other_place, short_cut_county
from rayscore.addresses.detail_repeats import detail_repeated
from rayscore.addresses.divisions import TOWN
from rayscore.addresses.fields import DIGIT, HANZI, Phone, read_phone, split_fields
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
    if any(a.match in ("typo", "cut") for a in report.admin) or short_cut_county(report.admin, report.detail):
        failed.append("admin_unknown")
    if report.repeated:
        failed.append("admin_repeated")
    if not report.in_order:
        failed.append("admin_order")
    if report.conflict:
        failed.append("admin_conflict")
    if detail_repeated(report.admin, report.detail):
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
