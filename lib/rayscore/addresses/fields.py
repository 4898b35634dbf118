"""A record's fields as written: name, address, postcode and phone, and what a phone number holds.

    from rayscore.addresses.fields import read_phone, split_fields
    split_fields("李女士，浙江义乌市稠城街道宾王商贸区3F-12，手机：+86 139 5790 1234，邮政编码：322000")
    # ('李女士', '浙江义乌市稠城街道宾王商贸区3F-12', '322000', '+86 139 5790 1234')
    phone = read_phone("(0571)8765432")
    phone.kind, phone.area_code, phone.local_digits     # ('landline', '0571', 7)

Fields are found by their labels (邮编:, 电话:, 收件人: ...) or, unlabelled, by what they hold:
the address is the longest field with address content, numbers after it are the postcode (6
digits) and the phone, and the name is the field before the address. Nothing here judges a
field; checks.py does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rayscore.addresses.admin_index import load_admin_index

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
ADDRESS_HINT = re.compile(r"[省市区县旗州盟镇乡村路街道巷弄号楼栋幢座室组院苑园庄屯\d]"
                          r"|单元|小区|社区|大厦|广场|市场|中心|门口")
DIGIT = re.compile(r"[0-9]")
HANZI = re.compile(r"[\u3400-\u9fff]")


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
    span = address_span(plain) if "address" not in labelled else None
    address_at = span[0] if span else None
    used = set(span or ())
    if span:
        labelled["address"] = "，".join(plain[j] for j in span)
    # Unlabelled numbers after the address (or after the first field, the name): a postcode
    # has 6 digits, the phone is the other.
    for j in range(1 if span is None else span[-1] + 1, len(plain)):
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


def address_span(plain: list[str]) -> range | None:
    """The unlabelled fields that hold the address: the one pick_address chooses, with the fields
    of address content next to it (an address written with commas: 西小口路66号，东升科技园B座),
    but never the first field, which is the name's."""
    at = pick_address(plain)
    if at is None:
        return None
    start = end = at
    while start > 1 and has_address_content(plain[start - 1]):
        start -= 1
    while end + 1 < len(plain) and has_address_content(plain[end + 1]):
        end += 1
    return range(start, end + 1)


def has_address_content(field: str) -> bool:
    """Address words, or a division's name alone (保山 in 云南, 保山, 昌宁县, 柯街镇供电所)."""
    if NUMERIC_FIELD.fullmatch(field):
        return False
    return bool(ADDRESS_HINT.search(field)) or names_a_division(field)


def names_a_division(field: str) -> bool:
    entry = load_admin_index().automaton.get(field.strip(), None)
    return entry is not None and bool(entry.codes)


def pick_address(plain: list[str]) -> int | None:
    """Which unlabelled field holds the address: the longest with address content."""
    hinted = [j for j, f in enumerate(plain) if has_address_content(f)]
    if hinted:
        return max(hinted, key=lambda j: len(plain[j]))
    # No address content anywhere: the longest field of words after the first field (the name).
    words = [j for j, f in enumerate(plain) if j > 0 and not NUMERIC_FIELD.fullmatch(f)]
    return max(words, key=lambda j: len(plain[j])) if words else None


# --- phones --------------------------------------------------------------------------------------

PHONE_PUNCTUATION = re.compile(r"[\s\-－—()（）]")
# A landline's extension after its number (0571-87654321转8001): an office switchboard, still the number.
EXTENSION = re.compile(r"\s*(?:转|分机|ext\.?)\s*[0-9]{1,6}\s*$", re.I)
DIGITS = re.compile(r"[0-9]+")
# Mainland area codes: 010 and 020-029 have 3 digits, every other one 4.
THREE_DIGIT_AREA_SECOND = frozenset("12")


@dataclass(frozen=True, slots=True)
class Phone:
    """A phone field as read: its number and how it splits (checks.py judges it)."""

    written: str
    number: str                # without spaces, dashes, parentheses and +86
    kind: str                  # "mobile" (1...), "landline" (0...) or "unknown"
    digits: int
    area_code: str | None      # landlines: 0 + 2-3 digits
    local_digits: int | None   # landlines: digits after the area code
    nondigit: bool             # anything but digits left in `number`


def read_phone(written: str) -> Phone:
    line = EXTENSION.sub("", written) if written.lstrip("(（ ").startswith("0") else written
    number = PHONE_PUNCTUATION.sub("", line)
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
        area, local = split_area_code(line, number)
    return Phone(written, number, kind, digits, area, local, nondigit)


def split_area_code(written: str, number: str) -> tuple[str, int]:
    """(area code, local digits): as the writer split them (0571-8765..., (0571)8765...), else by the rule."""
    runs = DIGITS.findall(written.replace("+86", ""))
    if len(runs) >= 2 and runs[0].startswith("0") and 3 <= len(runs[0]) <= 4:
        return runs[0], len(number) - len(runs[0])
    size = 3 if number[1:2] in THREE_DIGIT_AREA_SECOND else 4
    return number[:size], len(number) - size
