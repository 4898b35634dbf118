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
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass

from rayscore.addresses.admin_names import AdminName, read_admin
from rayscore.addresses.fields import DIGIT, Phone, read_phone, split_fields
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


# A mobile's second digit: mainland mobile numbers begin 13-19.
MOBILE_SECOND_DIGITS = frozenset("3456789")


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
