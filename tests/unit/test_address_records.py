"""The digital-twin address generator: determinism, shapes, each corruption, validity, diversity,
the hand-written evaluation set, and (once it exists) agreement with the address check set.

Run as:
  python -m pytest tests/unit/test_address_records.py -q

Validity is checked against data/divisions.csv read here with the csv module, independently of
divisions.py and the generator, so a bug in how either builds the hierarchy cannot also hide in
the check. Shapes are recognised from the text alone, with this file's own patterns.
"""

from __future__ import annotations

import csv
import random
import re
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd
import pytest

from rayscore.addresses.corruptions import CORRUPTIONS, ERROR_TYPES
from rayscore.addresses.detail_corruptions import GARBAGE_SYMBOLS
from rayscore.addresses.numbering import DRAWN_MOBILE_PREFIXES
from rayscore.addresses.records import (
    NO_ERROR,
    build_correct_record,
    generate_records,
    generator_characters,
    write_records,
)
from rayscore.addresses.targets import load_tables

N_ROWS = 20_000
DATA = Path(__file__).parents[2] / "lib" / "rayscore" / "addresses" / "data"
HANDWRITTEN = DATA / "handwritten.csv"
MUNICIPALITY_CODES = {"11", "12", "31", "50"}
PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
# A few real postcode prefixes, written out here rather than imported from the generator.
KNOWN_POSTCODE_PREFIXES = {
    "11": ("10",), "31": ("20",), "12": ("30",), "50": ("40",), "44": ("51", "52"), "33": ("31", "32"),
    "32": ("21", "22"), "51": ("61", "62", "63", "64"), "37": ("25", "26", "27"), "41": ("45", "46", "47"),
    "42": ("43", "44"), "46": ("57",),
}
FIELD_SEP = re.compile(r"[,，]")
POSTCODE = re.compile(r"^(?:邮编|邮政编码)[:：](.*)$")
PHONE = re.compile(r"^(?:联系电话|电话|手机号|手机|座机)[:：](.*)$")
MOBILE = re.compile(r"^(?:\+86 )?(1\d{2})(-?| ?)(\d{4})\2(\d{4})$")
LANDLINE = re.compile(r"^(?:0\d{2,3}-|\(0\d{2,3}\))[2-8]\d{6,7}$")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
NAME_OK = re.compile(r"^[\u4e00-\u9fff]{2,4}$|^[\u4e00-\u9fff]{2,5}·[\u4e00-\u9fff]{2,5}$")
# A named part written twice (人民路人民路, 白沙村-白沙村); 辛集市辛集镇 is how that town is written.
REPEAT = re.compile(r"([\u4e00-\u9fff]{2,}(?:省|市|区|县|旗|州|盟|街道|镇|乡|路|街|大道|巷|弄|胡同|村|社区|小区|"
                    r"花园|家园|公寓|苑|新村|雅居|大厦|华府|公馆|嘉园|国际|府|广场|市场|商场|工业区|工业园|商业街|"
                    r"商贸城|购物中心|科技园|产业园))[ -]?\1(?![\u4e00-\u9fff]*(?:街道|镇|乡))")
ADMIN_SEPARATORS = ("", " ", "-")


# --- an independent view of the division table ----------------------------------------------------

def _read_table() -> dict[str, str]:
    with (DATA / "divisions.csv").open(encoding="utf-8") as f:
        return {row["code"]: row["name"] for row in csv.DictReader(f)}


NAMES = _read_table()
CODES_BY_NAME: dict[str, list[str]] = defaultdict(list)
for _code, _name in NAMES.items():
    CODES_BY_NAME[_name].append(_code)


def short_form(code: str) -> str | None:
    """How people also write a province or a 市 city (this file's own rule)."""
    name = NAMES[code]
    if len(code) == 2:
        for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"):
            if name.endswith(suffix) and len(name) > len(suffix) + 1:
                return name[: -len(suffix)]
    if len(code) == 4 and name.endswith("市") and len(name) >= 3:
        return name[:-1]
    return None


for _code in list(NAMES):
    if (_short := short_form(_code)) is not None:
        CODES_BY_NAME[_short].append(_code)
ALL_NAMES = frozenset(CODES_BY_NAME)
FULL_NAMES = frozenset(NAMES.values())
TOWNS_OF: dict[str, set[str]] = defaultdict(set)     # 6- and 4-digit code -> town names under it
for _code, _name in NAMES.items():
    if len(_code) == 9:
        TOWNS_OF[_code[:6]].add(_name)
        TOWNS_OF[_code[:4]].add(_name)
# Towns as addresses write them (the table also has 农场, 开发区 and bare names like 永兴).
ALL_TOWNS = frozenset(n for c, names in TOWNS_OF.items() if len(c) == 6 for n in names
                      if re.search(r"(?:街道|镇|乡|苏木|地区)$", n))


def written_city(county: str) -> str | None:
    """4-digit code of the city a county is written under; None under a placeholder or municipality."""
    if county[:2] in MUNICIPALITY_CODES or NAMES.get(county[:4]) in PLACEHOLDERS:
        return None
    return county[:4]


def is_province_name(name: str, p2: str) -> bool:
    return name in (NAMES[p2], short_form(p2))


def is_city_name(name: str, c4: str) -> bool:
    return name in (NAMES[c4], short_form(c4))


def resolve(province: str, city: str, district: str) -> str | None:
    """The code of the most specific place named, if the names nest as written; None otherwise."""
    codes = resolve_all(province, city, district)
    return codes[0] if codes else None


def resolve_all(province: str, city: str, district: str) -> list[str]:
    """Every place the names can mean, nesting as written (市中区 alone: four of them)."""
    return list(_nesting_codes(province, city, district))


def _nesting_codes(province: str, city: str, district: str):
    if district:
        for c6 in (c for c in CODES_BY_NAME.get(district, []) if len(c) == 6):
            c4 = written_city(c6)
            if province and not is_province_name(province, c6[:2]):
                continue
            if city:
                municipal = c6[:2] in MUNICIPALITY_CODES and is_province_name(city, c6[:2])
                if not (municipal or (c4 and is_city_name(city, c4))):
                    continue
            yield c6
        return
    if city:
        for code in CODES_BY_NAME.get(city, []):
            direct = len(code) == 6 and written_city(code) is None and code[:2] not in MUNICIPALITY_CODES
            if (len(code) == 4 or direct) and (not province or is_province_name(province, code[:2])):
                yield code


def towns_under(code: str) -> set[str]:
    return TOWNS_OF.get(code, set())


def name_in_province(name: str, p2: str) -> bool:
    return any(c[:2] == p2 for c in CODES_BY_NAME.get(name, []))


# --- reading a record back from its text ---------------------------------------------------------

def parse(text: str) -> dict[str, str | None]:
    """name / address / postcode / phone of a record text; None (NaN in a frame) if absent."""
    out: dict[str, str | None] = {"name": None, "address": None, "postcode": None, "phone": None}
    unlabelled = []
    for part in FIELD_SEP.split(text):
        if m := POSTCODE.match(part):
            out["postcode"] = m.group(1)
        elif m := PHONE.match(part):
            out["phone"] = m.group(1)
        else:
            unlabelled.append(part)
    if len(unlabelled) == 2:
        out["name"], out["address"] = unlabelled
    elif len(unlabelled) == 1:
        out["address"] = unlabelled[0]     # the generator never drops the address, only the name
    return out


def admin_prefix(row: dict) -> tuple[str, str] | None:
    """(the admin part as written, its separator) when the address starts with the columns."""
    written = [row["province"]] if row["province"] else []
    if row["city"] and row["city"] != row["province"]:
        written.append(row["city"])
    if row["district"]:
        written.append(row["district"])
    if not written:
        return "", ""
    for sep in ADMIN_SEPARATORS:
        head = sep.join(written)
        if row["address"].startswith(head):
            return head, sep
    return None


def after_admin(row: dict) -> str:
    head, sep = admin_prefix(row)
    rest = row["address"][len(head):]
    return rest[len(sep):] if head and sep and rest.startswith(sep) else rest


def leading_town(rest: str) -> str | None:
    for k in range(min(len(rest), 14), 1, -1):
        if rest[:k] in ALL_TOWNS:
            return rest[:k]
    return None


def good_name(name: str) -> bool:
    """Chinese characters only (a "·" between two minority names), no character three times."""
    return bool(NAME_OK.match(name)) and not re.search(r"(.)\1\1", name)


def valid_phone(phone: str) -> bool:
    if m := MOBILE.match(phone):
        return m.group(1) in DRAWN_MOBILE_PREFIXES
    return bool(LANDLINE.match(phone))


def phone_digits(phone: str) -> str:
    return re.sub(r"^\+86 ", "", phone)


# --- shapes, recognised from the text -----------------------------------------------------------

ROOM_COMPOUND = "小区|花园|家园|公寓|苑|新村|雅居|大厦|名苑|华府|公馆|嘉园|国际|府|中心|广场"
REST_PATTERNS = {
    "road_number": r"(?:路|街|大道|巷|胡同|弄|道)\d+号(?!院)",
    "yard": r"\d+号院",
    "village": r"村(?:\d+组|\d+号|[\u4e00-\u9fff]{2}(?:\d+号)?$)",
    "village_group": r"村\d+组",
    "community": r"社区\d+(?:栋|号楼|幢|座)",
    "compound_building": r"小区\d+(?:栋|号楼|幢|座)",
    "poi": r"(?:工业区|工业园|商场|市场|广场|购物中心|商业街|商贸城|科技园|产业园)"
           r"(?:门口|\d+号铺|\d+栋\d+商铺|\d+F-\d+)",
    "shop_door": r"门口$",
    "shop_number": r"\d+号铺$",
    "shop_unit": r"\d+栋\d+商铺$",
    "shop_floor": r"\d+F-\d+$",
    "hash_building": r"\d+#楼",
    "bare_room": rf"(?:{ROOM_COMPOUND})\d{{3,4}}$",
    "building_unit_room": r"\d+(?:号楼|栋|幢|座)\d+单元\d+室?$",
}
DEV_ZONE = re.compile(r"开发区|新区|园区|管理区|示范区|新城")


def admin_shapes(row: dict) -> set[str]:
    province, city, district = row["province"], row["city"], row["district"]
    tags = set()
    municipal = bool(province) and any(is_province_name(province, m) for m in MUNICIPALITY_CODES)
    if province and city and (district or not municipal):
        tags.add("full")
    if not province and city:
        tags.add("no_province")
    if province and not city and district:
        tags.add("county_city")
    if municipal:
        tags.add("municipality")
    if (province and province not in FULL_NAMES) or (city and city not in FULL_NAMES):
        tags.add("short")
    if city in ("东莞市", "中山市", "儋州市", "东莞", "中山", "儋州") and not district:
        tags.add("city_without_counties")
    if not province and not city and district:
        tags.add("from_county")
    if not (province or city or district):
        tags.add("from_town" if leading_town(row["address"]) else "no_admin")
    if district and DEV_ZONE.search(district):
        tags.add("dev_zone")
    head, sep = admin_prefix(row)
    town = leading_town(row["address"])
    if sep == " " or (not head and town and row["address"][len(town):].startswith(" ")):
        tags.add("sep_space")
    if sep == "-":
        tags.add("sep_dash")
    if head and leading_town(after_admin(row)):
        tags.add("town")
    return tags


def record_shapes(row: dict) -> set[str]:
    tags = admin_shapes(row)
    tags |= {name for name, pattern in REST_PATTERNS.items() if re.search(pattern, row["address"])}
    name = row["name"]
    tags.add("honorific" if re.search(r"(?:先生|女士)$", name) else "minority" if "·" in name else "plain_name")
    phone = row["phone"]
    if phone.startswith("+86 "):
        tags.add("phone_plus86")
    if re.fullmatch(r"1\d{2}-\d{4}-\d{4}", phone):
        tags.add("phone_dashed")
    if re.fullmatch(r"1\d{2} \d{4} \d{4}", phone):
        tags.add("phone_spaced")
    if re.fullmatch(r"0\d{2,3}-\d+", phone):
        tags.add("landline")
    if phone.startswith("("):
        tags.add("landline_parens")
    return tags


# --- fixtures ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    df = generate_records(N_ROWS, seed=7, error_rate=0.5)
    parsed = pd.DataFrame([parse(t) for t in df["text"]])
    return pd.concat([df, parsed], axis=1)


@pytest.fixture(scope="module")
def correct(records) -> list[dict]:
    rows = records[records["label"] == "正确"].to_dict("records")
    for row in rows:
        row["shapes"] = record_shapes(row)
    return rows


def rows_of(records: pd.DataFrame, error_type: str) -> list[dict]:
    rows = records[records["error_type"] == error_type].to_dict("records")
    assert len(rows) > 300, f"too few {error_type} rows to test: {len(rows)}"
    return rows


# --- determinism --------------------------------------------------------------------------------

def test_same_seed_gives_identical_frames():
    pd.testing.assert_frame_equal(generate_records(2000, seed=3), generate_records(2000, seed=3))


def test_different_seeds_give_different_rows():
    a, b = generate_records(2000, seed=3), generate_records(2000, seed=4)
    assert (a["text"] != b["text"]).mean() > 0.99
    assert a["record_id"].iloc[0] != b["record_id"].iloc[0]


def test_chunked_generation_equals_one_call():
    whole = generate_records(3000, seed=5, error_rate=0.4, start=100)
    parts = [generate_records(n, seed=5, error_rate=0.4, start=s)
             for s, n in ((100, 1000), (1100, 700), (1800, 1300))]
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)
    assert whole["record_id"].is_unique
    assert whole["record_id"].iloc[0] == "addr-5-000000100"


def test_bad_arguments_fail_at_once():
    with pytest.raises(ValueError, match="error_rate"):
        generate_records(10, error_rate=1.5)
    with pytest.raises(ValueError, match="n=-1"):
        generate_records(-1)
    with pytest.raises(ValueError, match="real_share"):
        generate_records(10, real_share=-0.1)
    assert list(generate_records(0).columns) == ["record_id", "text", "label", "error_type",
                                                 "province", "city", "district", "base"]


# --- labels and error types -------------------------------------------------------------------

def test_error_rate_and_types_are_balanced(records):
    wrong = records["label"] == "错误"
    assert set(records["label"]) == {"正确", "错误"}
    assert abs(wrong.mean() - 0.5) < 0.02
    assert (records.loc[~wrong, "error_type"] == NO_ERROR).all()
    shares = records.loc[wrong, "error_type"].value_counts(normalize=True)
    assert set(shares.index) == set(ERROR_TYPES) and len(ERROR_TYPES) == 24
    expected = 1 / len(ERROR_TYPES)
    assert shares.between(expected - 0.02, expected + 0.02).all(), shares


@pytest.mark.parametrize("error_rate", [0.0, 0.2, 1.0])
def test_error_rate_is_respected(error_rate):
    df = generate_records(3000, seed=1, error_rate=error_rate)
    assert abs((df["label"] == "错误").mean() - error_rate) < 0.025
    assert ((df["label"] == "错误") == (df["error_type"] != NO_ERROR)).all()


# --- correct rows are really correct --------------------------------------------------------------

def test_correct_rows_are_valid(correct):
    assert len(correct) > 9000
    for row in correct:
        text = row["text"]
        assert isinstance(row["name"], str) and good_name(row["name"]), text
        assert row["postcode"].isdigit() and len(row["postcode"]) == 6, text
        assert valid_phone(row["phone"]), text
        assert admin_prefix(row) is not None, text          # the columns are what the text says
        codes = resolve_all(row["province"], row["city"], row["district"])
        if row["province"] or row["city"] or row["district"]:
            assert codes, text                             # and they nest
            if codes[0][:2] in KNOWN_POSTCODE_PREFIXES and row["province"]:
                assert row["postcode"][:2] in KNOWN_POSTCODE_PREFIXES[codes[0][:2]], text
            town = leading_town(after_admin(row))
            if town:                                       # a real town of that county
                assert any(town in towns_under(code) for code in codes), text
        assert not re.search(r"\d", admin_prefix(row)[0]), text
        assert not re.search(f"[{re.escape(GARBAGE_SYMBOLS.replace('#', ''))}]", text), text
        assert not REPEAT.search(row["address"]), text


def test_municipalities_and_county_level_cities_are_written_as_people_write_them(correct):
    beijing = [r for r in correct if r["province"] == "北京市"]
    assert beijing and all(r["city"] == "北京市" for r in beijing)
    assert not any(r["address"].startswith("北京市北京市") for r in correct)
    skipped = [r for r in correct if r["province"] and not r["city"] and r["district"]]
    assert skipped and all(r["district"].endswith("市") for r in skipped)          # 浙江省义乌市
    assert "市辖区" not in {r["city"] for r in correct} | {r["district"] for r in correct}


# --- shapes ------------------------------------------------------------------------------------------

# Every shape real records have, with the least share it must have among correct records.
SHAPE_FLOORS = {
    "full": 0.40, "no_province": 0.03, "county_city": 0.03, "short": 0.03, "municipality": 0.03,
    "city_without_counties": 0.02, "from_county": 0.02, "from_town": 0.02, "no_admin": 0.02,
    "dev_zone": 0.02, "sep_space": 0.05, "sep_dash": 0.05, "town": 0.3,
    "road_number": 0.45, "yard": 0.04, "village": 0.04, "village_group": 0.02, "community": 0.03,
    "compound_building": 0.02, "poi": 0.05, "shop_door": 0.01, "shop_number": 0.01, "shop_unit": 0.01,
    "shop_floor": 0.01, "hash_building": 0.03, "bare_room": 0.03, "building_unit_room": 0.1,
    "honorific": 0.04, "minority": 0.02, "plain_name": 0.8,
    "phone_plus86": 0.03, "phone_dashed": 0.03, "phone_spaced": 0.03, "landline": 0.1,
    "landline_parens": 0.03,
}


def test_every_shape_appears_at_a_few_percent(correct):
    counts = Counter(tag for row in correct for tag in row["shapes"])
    shares = {tag: counts[tag] / len(correct) for tag in SHAPE_FLOORS}
    low = {tag: round(share, 4) for tag, share in shares.items() if share < SHAPE_FLOORS[tag]}
    assert not low, f"shapes below their floor: {low}"
    full_with_road = sum(1 for row in correct if {"full", "road_number"} <= row["shapes"]) / len(correct)
    assert full_with_road > 0.25    # the most common shape by far, as in real data


def test_label_does_not_follow_the_shape(records):
    """Kinds that need admin names must not make admin-less shapes mostly correct."""
    def admin_less(frame: pd.DataFrame) -> float:
        return ((frame["province"] == "") & (frame["city"] == "")).mean()
    correct, wrong = records[records["label"] == "正确"], records[records["label"] == "错误"]
    assert abs(admin_less(correct) - admin_less(wrong)) < 0.01
    kept = wrong[wrong["error_type"] != "truncated_address"]    # truncation drops the town itself
    no_town = ~records["address"].str.contains(r"街道|镇|乡")
    assert abs(no_town[correct.index].mean() - no_town[kept.index].mean()) < 0.02


def test_field_formats_vary(records):
    text = records["text"].head(10_000)
    for pattern in (",", "，", "邮编:", "邮编：", "邮政编码", "联系电话", "手机", "座机", "街道", "镇", "号院",
                    "单元", "室", "小区", "社区", "村", "#楼", "门口", "商铺", "·", "先生", "女士", "+86 ", "("):
        share = text.str.contains(pattern, regex=False).mean()
        assert 0.005 < share < 0.99, (pattern, share)   # optional parts come and go
    postcode_first = text.str.contains(r"邮(?:编|政编码)[:：]\d+[,，].*(?:电话|手机|座机)")
    assert 0.2 < postcode_first.mean() < 0.9


# --- each corruption is really in the generated text ---------------------------------------------

def test_postcode_length(records):
    for row in rows_of(records, "postcode_length"):
        assert row["postcode"].isdigit() and len(row["postcode"]) in (5, 7, 8), row["text"]


def test_phone_nondigit(records):
    for row in rows_of(records, "phone_nondigit"):
        assert re.search(r"[^\d\-+() ]", row["phone"]), row["text"]


def test_phone_length(records):
    for row in rows_of(records, "phone_length"):
        phone = row["phone"]
        assert re.fullmatch(r"[\d\-+() ]+", phone) and not valid_phone(phone), row["text"]
        digits = re.sub(r"\D", "", phone_digits(phone))
        if phone_digits(phone).startswith("1"):
            assert len(digits) != 11, row["text"]
        else:
            local = re.split(r"[-)]", phone)[-1]
            assert not 7 <= len(local) <= 8, row["text"]


def test_digits_in_admin(records):
    for row in rows_of(records, "digits_in_admin"):
        digits = re.search(r"\d+", row["address"])
        assert digits, row["text"]
        before, after = row["address"][: digits.start()], row["address"][digits.end():]
        # Known names on both sides: a full name before, and the county (or city) after.
        last = row["district"] or row["city"]
        assert before and last and (last in after or last.replace(digits.group(), "") in after), row["text"]


def test_garbage_road(records):
    symbols = re.escape(GARBAGE_SYMBOLS)
    for row in rows_of(records, "garbage_road"):
        assert re.search(f"[{symbols}]{{2,}}[\u4e00-\u9fff]+", row["address"]), row["text"]


def test_city_not_in_province(records):
    for row in rows_of(records, "city_not_in_province"):
        assert admin_prefix(row) is not None, row["text"]
        p2 = next(c for c in CODES_BY_NAME[row["province"]] if len(c) == 2)
        written = row["city"] or row["district"]        # 浙江省昆山市: the county-level city
        assert not name_in_province(written, p2), row["text"]
        assert resolve("", row["city"], row["district"]) is not None, row["text"]  # real elsewhere


def test_district_not_in_city(records):
    for row in rows_of(records, "district_not_in_city"):
        assert admin_prefix(row) is not None and row["district"], row["text"]
        assert resolve(row["province"], row["city"], "") is not None or row["city"] == row["province"], row["text"]
        assert resolve(row["province"], row["city"], row["district"]) is None, row["text"]
        assert resolve("", "", row["district"]) is not None, row["text"]         # a real county


def test_missing_field(records):
    dropped = Counter()
    for row in rows_of(records, "missing_field"):
        absent = [k for k in ("name", "postcode", "phone") if pd.isna(row[k])]
        assert len(absent) == 1 and row["address"], row["text"]
        dropped[absent[0]] += 1
    assert set(dropped) == {"name", "postcode", "phone"}


def test_truncated_address(records):
    for row in rows_of(records, "truncated_address"):
        head, _ = admin_prefix(row)
        assert head and row["address"] == head, row["text"]
        assert row["address"].endswith(row["district"] or row["city"]), row["text"]


def _duplicated_admin(row: dict) -> bool:
    return any(name and any(name + sep + name in row["address"] for sep in ADMIN_SEPARATORS)
               for name in (row["province"], row["city"], row["district"]) if name != row["province"] or
               row["province"] != row["city"])


def test_duplicated_segment(records):
    kinds = Counter()
    for row in rows_of(records, "duplicated_segment"):
        assert re.search(r"(\D{2,})[ -]?\1", row["address"]), row["text"]
        kinds["admin" if _duplicated_admin(row) else "other"] += 1
    assert 0.35 < kinds["admin"] / sum(kinds.values()) < 0.65, kinds


def test_bad_name(records):
    for row in rows_of(records, "bad_name"):
        name = row["name"]
        assert not good_name(name), row["text"]
        assert re.search(r"[0-9A-Za-z]|[^\u4e00-\u9fff·]|(.)\1\1", name), row["text"]


def test_admin_typo(records):
    for row in rows_of(records, "admin_typo"):
        assert admin_prefix(row) is not None, row["text"]
        unknown = [n for n in (row["city"], row["district"]) if n and n not in ALL_NAMES]
        assert len(unknown) == 1, row["text"]


# --- a wrong record differs from its correct one exactly as its kind says ----------------------

def _fields(text: str) -> dict:
    return parse(text)


def _only_changed(before: dict, after: dict) -> set[str]:
    return {k for k in ("name", "address", "postcode", "phone") if before[k] != after[k]}


def _one_span_changed(a: str, b: str) -> tuple[str, str]:
    """(the differing middle of a, of b) after stripping their common prefix and suffix."""
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    j = 0
    while j < min(len(a), len(b)) - i and a[len(a) - 1 - j] == b[len(b) - 1 - j]:
        j += 1
    return a[i: len(a) - j], b[i: len(b) - j]


def check_difference(kind: str, before: dict, after: dict) -> None:
    changed = _only_changed(before, after)
    if kind in ("postcode_length", "phone_nondigit", "phone_length", "bad_name"):
        field = {"postcode_length": "postcode", "bad_name": "name"}.get(kind, "phone")
        assert changed == {field}
    elif kind == "missing_field":
        assert len(changed) == 1 and after[changed.pop()] is None
        return
    else:
        assert changed == {"address"}
    old, new = _one_span_changed(before["address"], after["address"])
    if kind == "postcode_length":
        assert after["postcode"].isdigit() and len(after["postcode"]) in (5, 7, 8)
    elif kind == "phone_nondigit":
        assert re.search(r"[^\d\-+() ]", after["phone"])
    elif kind == "phone_length":
        assert re.fullmatch(r"[\d\-+() ]+", after["phone"]) and not valid_phone(after["phone"])
    elif kind == "bad_name":
        assert not good_name(after["name"])
    elif kind == "digits_in_admin":
        assert old == "" and re.fullmatch(r"[ -]?\d{1,4}[ -]?", new)
    elif kind == "garbage_road":
        assert re.fullmatch(f"[{re.escape(GARBAGE_SYMBOLS)}]{{2,5}}", new) and CJK.match(old[0])
    elif kind == "truncated_address":
        assert before["address"].startswith(after["address"]) and len(after["address"]) < len(before["address"])
    elif kind == "duplicated_segment":
        assert re.search(r"(\D{2,})[ -]?\1", after["address"])   # recovery: the test below
    elif kind == "admin_typo":
        assert len(old) == len(new) == 1 and CJK.match(new)
    elif kind in ("city_not_in_province", "district_not_in_city"):
        assert old != new and new.strip(" -")   # the names changed; what follows is checked below


def check_admin_swap(kind: str, base, wrong) -> None:
    """The admin names changed as the kind says and everything after the town is untouched."""
    assert wrong.address().endswith("".join(base.rest))
    province, city, district = wrong.columns()
    p2 = base.target.division.code[:2]
    if kind == "city_not_in_province":
        assert is_province_name(province, p2) and province == base.columns()[0]
        written = city or district
        assert written and not name_in_province(written, p2)
        assert resolve("", city, district) is not None            # a real city (and county) elsewhere
    else:
        assert district and district != base.columns()[2]
        assert (province, city) == base.columns()[:2]
        assert resolve(province, city, "") is not None or city == province
        assert resolve(province, city, district) is None and resolve("", "", district) is not None


def test_wrong_records_differ_from_their_correct_record_exactly_as_their_kind_says():
    tables = load_tables()
    applied = Counter()
    for kind in ERROR_TYPES[:12]:          # the later kinds: test_address_kinds.py
        rng = random.Random(ERROR_TYPES.index(kind))
        for _ in range(300):
            base = build_correct_record(rng.random, tables)
            wrong = base.copy()
            before_text = base.text()
            if not CORRUPTIONS[kind](rng.random, tables, wrong):
                assert wrong.text() == before_text, kind          # untouched when not applicable
                continue
            assert base.text() == before_text                      # the copy was independent
            applied[kind] += 1
            try:
                check_difference(kind, _fields(before_text), _fields(wrong.text()))
                if kind in ("city_not_in_province", "district_not_in_city"):
                    check_admin_swap(kind, base, wrong)
            except AssertionError:
                pytest.fail(f"{kind}: {before_text} -> {wrong.text()}")
    assert all(applied[k] >= 100 for k in ERROR_TYPES[:12]), applied


def test_duplicated_segment_recovers_the_correct_address():
    tables = load_tables()
    rng = random.Random(11)
    for _ in range(300):
        base = build_correct_record(rng.random, tables)
        wrong = base.copy()
        CORRUPTIONS["duplicated_segment"](rng.random, tables, wrong)
        after, before = wrong.address(), base.address()
        candidates = set()
        # Remove each repeated run once and see whether the correct address comes back.
        for i in range(len(after)):
            for k in range(2, (len(after) - i) // 2 + 1):
                for sep in ("", " ", "-"):
                    seg = after[i:i + k]
                    if after.startswith(seg + sep + seg, i):
                        candidates.add(after[:i] + after[i + k + len(sep):])
        assert before in candidates, (before, after)


# --- diversity ---------------------------------------------------------------------------------

def test_records_are_diverse(records):
    sample = records.head(10_000)
    assert sample["text"].nunique() >= 0.99 * len(sample)
    provinces = {resolve(p, c, d)[:2] for p, c, d in zip(sample["province"], sample["city"], sample["district"])
                 if (p or c or d) and resolve(p, c, d)}
    assert len(provinces) == 31
    assert sample["district"].nunique() >= 1500
    assert sample["name"].nunique() >= 5000
    assert sample["name"].dropna().str[0].nunique() >= 100
    roads = sample["address"].str.extract(r"([^区县市镇乡道\d]{2,3}(?:路|街|大道|巷|胡同|弄))\d+号")[0]
    assert roads.nunique() >= 2000


# --- parquet output ------------------------------------------------------------------------------

def test_write_records_writes_parts_with_every_row(tmp_path):
    paths = write_records(str(tmp_path / "out"), n=2500, seed=2, error_rate=0.3, rows_per_file=1000)
    assert [p.rsplit("/", 1)[1] for p in paths] == [f"part-{k:05d}.parquet" for k in range(3)]
    back = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    assert len(back) == 2500 and back["record_id"].is_unique
    expected = generate_records(2500, seed=2, error_rate=0.3)
    assert back["text"].tolist() == expected["text"].tolist()
    assert back["error_type"].tolist() == expected["error_type"].tolist()


def test_write_records_refuses_stale_parts(tmp_path):
    write_records(str(tmp_path), n=30, seed=0, error_rate=0.5, rows_per_file=10)
    with pytest.raises(ValueError, match="part-00002.parquet"):
        write_records(str(tmp_path), n=20, seed=0, error_rate=0.5, rows_per_file=10)


# --- tokenizer characters ------------------------------------------------------------------------

def test_generator_characters_cover_generated_text(records):
    allowed = generator_characters() | {ch for name in NAMES.values() for ch in name}
    used = set("".join(records["text"]))
    assert used - allowed == set()


def test_a_training_tokenizer_reads_every_generated_character(records):
    """Common hanzi plus the data's own characters (what train_reward adds): no [UNK] left."""
    from rayscore.models import ModelSpec, add_missing_chars, load_tokenizer

    tok = load_tokenizer(ModelSpec())
    texts = records["text"].head(5_000).tolist()
    added = add_missing_chars(tok, sorted(set(CJK.findall("".join(texts)))))
    assert added and add_missing_chars(tok, added) == []   # a second pass finds nothing missing
    ids = tok("".join(texts[:2_000]), add_special_tokens=False)["input_ids"]
    assert tok.unk_token_id not in ids


def test_records_module_no_longer_reads_cpca():
    source = (Path(__file__).parents[2] / "lib" / "rayscore" / "addresses" / "records.py").read_text(encoding="utf-8")
    assert "cpca" not in source


# --- the hand-written evaluation set ---------------------------------------------------------------

@pytest.fixture(scope="module")
def handwritten() -> pd.DataFrame:
    return pd.read_csv(HANDWRITTEN, dtype=str, keep_default_na=False)


def test_handwritten_set_parses_with_every_label_and_kind(handwritten):
    assert list(handwritten.columns) == ["record_id", "text", "label", "error_type", "note"]
    assert len(handwritten) >= 120 and handwritten["record_id"].is_unique
    assert (handwritten["text"].str.len() > 0).all() and (handwritten["note"].str.len() > 0).all()
    assert set(handwritten["label"]) == {"正确", "错误"}
    assert ((handwritten["label"] == "正确") == (handwritten["error_type"] == NO_ERROR)).all()
    kinds = Counter(handwritten.loc[handwritten["label"] == "错误", "error_type"])
    # Written for the first 12 kinds; the later ones are measured on generated records only.
    assert set(ERROR_TYPES[:12]) <= set(kinds) <= set(ERROR_TYPES) and min(kinds.values()) >= 3, kinds
    assert 60 <= (handwritten["label"] == "正确").sum() <= 90
    assert handwritten["text"].is_unique


def test_handwritten_correct_records_are_valid(handwritten):
    for text in handwritten.loc[handwritten["label"] == "正确", "text"]:
        f = parse(text)
        assert f["name"] and f["address"] and f["postcode"] and f["phone"], text
        assert f["postcode"].isdigit() and len(f["postcode"]) == 6, text
        assert valid_phone(f["phone"]), text


def test_handwritten_set_is_not_generator_output(handwritten):
    generated = set(generate_records(50_000, seed=0)["text"]) | set(generate_records(10_000, seed=1)["text"])
    assert not generated & set(handwritten["text"])


# --- agreement with the check set ------------------------------------------------------------------

# The flag that must catch each rule-named kind.
RULE_FLAGS = {
    "postcode_length": {"postcode_format"}, "phone_nondigit": {"phone_format"},
    "phone_length": {"phone_length"}, "digits_in_admin": {"admin_digits"},
    "city_not_in_province": {"city_not_in_province"},
    "district_not_in_city": {"county_not_in_city"},
    "admin_typo": {"admin_unknown"},
}


def _expected_flags(row: dict) -> set[str]:
    """Flags of which one must be raised for a wrong row (empty: no rule catches its kind)."""
    kind = row["error_type"]
    if kind == "missing_field":
        return {next(f"{k}_missing" for k in ("name", "postcode", "phone") if pd.isna(row[k]))}
    if kind == "duplicated_segment":
        return {"admin_repeated"} if _duplicated_admin(row) else {"detail_repeated"}
    return RULE_FLAGS.get(kind, set())


def test_check_set_agrees_with_the_generator(records):
    pytest.importorskip("rayscore.addresses.checks")
    from rayscore.checks import load_check_set

    checks = load_check_set("rayscore.addresses.checks:ADDRESS_CHECKS")
    results = checks.run(records["text"].tolist())
    flags = [r.flags for r in results]
    correct = [(t, f) for t, f, label in zip(records["text"], flags, records["label"]) if label == "正确"]
    false_alarms = [(t, f) for t, f in correct if f]
    assert len(false_alarms) <= 0.001 * len(correct), false_alarms[:10]
    caught, total, missed = Counter(), Counter(), defaultdict(list)
    for row, f in zip(records.to_dict("records"), flags):
        expected = _expected_flags(row) if row["label"] == "错误" else set()
        if not expected:
            continue
        key = row["error_type"] if row["error_type"] != "missing_field" else min(expected)
        total[key] += 1
        if expected & set(f):
            caught[key] += 1
        else:
            missed[key].append((row["text"], f))
    assert len(total) == 11, total     # 8 kinds (duplicated_segment either way), 3 missing fields
    low = {k: round(caught[k] / total[k], 4) for k in total if caught[k] < 0.99 * total[k]}
    assert not low, {k: (v, missed[k][:3]) for k, v in low.items()}
