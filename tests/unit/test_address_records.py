"""The digital-twin address generator: determinism, balance, each corruption, validity, diversity.

Run as:
  python -m pytest tests/unit/test_addresses.py -q

Validity is checked against cpca's adcodes.csv read here independently of the generator, so a bug
in the generator's hierarchy building cannot also hide in the check.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict

import pandas as pd
import pytest

from rayscore.addresses.records import (
    ERROR_TYPES,
    GARBAGE_SYMBOLS,
    MOBILE_PREFIXES,
    adcodes_path,
    generate_records,
    write_records,
)
from rayscore.data.chinese_chars import common_chinese_chars

N_ROWS = 20_000
MUNICIPALITIES = {"北京市", "上海市", "天津市", "重庆市"}
# A few real postcode prefixes, written out here rather than imported from the generator.
KNOWN_POSTCODE_PREFIXES = {
    "北京市": ("10",), "上海市": ("20",), "天津市": ("30",), "重庆市": ("40",),
    "广东省": ("51", "52"), "浙江省": ("31", "32"), "江苏省": ("21", "22"), "四川省": ("61", "62", "63", "64"),
    "山东省": ("25", "26", "27"), "河南省": ("45", "46", "47"), "湖北省": ("43", "44"), "海南省": ("57",),
}
POSTCODE = re.compile(r"^(?:邮编|邮政编码)[:：](.*)$")
PHONE = re.compile(r"^(?:联系电话|电话|手机号|手机|座机)[:：](.*)$")
MOBILE = re.compile(r"^1\d{10}$")
LANDLINE = re.compile(r"^0\d{2,3}-[2-8]\d{6,7}$")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
REPEAT = re.compile(r"(\D{2,})\1")


# --- an independent view of the administrative table --------------------------------------------

def _load_codes() -> tuple[dict[str, list[str]], dict[str, str]]:
    codes_by_name: dict[str, list[str]] = defaultdict(list)
    province_code: dict[str, str] = {}
    with adcodes_path().open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            codes_by_name[row["name"]].append(row["adcode"])
            if row["adcode"][2:] == "0" * 10:
                province_code[row["name"]] = row["adcode"][:2]
    return codes_by_name, province_code


CODES_BY_NAME, PROVINCE_CODE = _load_codes()


def belongs(province: str, city: str, district: str) -> bool:
    """province/city/district really nest, by adcode prefixes."""
    p = PROVINCE_CODE.get(province)
    if p is None:
        return False
    if city == province:
        city_codes = [p + "0" * 10] if province in MUNICIPALITIES else []
    else:
        city_codes = [c for c in CODES_BY_NAME.get(city, []) if c[:2] == p and c[2:4] != "00"]
    if not city_codes:
        return False
    if not district:
        return True
    width = 2 if city == province else 4
    return any(d[:width] == c[:width] and d != c and d[6:] == "0" * 6
               for d in CODES_BY_NAME.get(district, []) for c in city_codes)


def name_in_province(name: str, province: str) -> bool:
    return any(c[:2] == PROVINCE_CODE[province] for c in CODES_BY_NAME.get(name, []))


def admin_text(province: str, city: str, district: str) -> str:
    return province + ("" if city == province else city) + district


# --- parsing the text back into fields --------------------------------------------------------

def parse(text: str) -> dict[str, str | None]:
    """name / address / postcode / phone of a record text; None (NaN in a frame) if absent."""
    out: dict[str, str | None] = {"name": None, "address": None, "postcode": None, "phone": None}
    unlabelled = []
    for part in re.split(r"[,，]", text):
        if m := POSTCODE.match(part):
            out["postcode"] = m.group(1)
        elif m := PHONE.match(part):
            out["phone"] = m.group(1)
        else:
            unlabelled.append(part)
    if len(unlabelled) == 2:
        out["name"], out["address"] = unlabelled
    elif len(unlabelled) == 1:
        # Alone, it is the name only if name-sized: every full address is longer than 4 chars.
        out["name" if len(unlabelled[0]) <= 4 else "address"] = unlabelled[0]
    return out


def valid_phone(phone: str) -> bool:
    if MOBILE.match(phone):
        return phone[:3] in MOBILE_PREFIXES
    return bool(LANDLINE.match(phone))


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    df = generate_records(N_ROWS, seed=7, error_rate=0.5)
    parsed = pd.DataFrame([parse(t) for t in df["text"]])
    return pd.concat([df, parsed], axis=1)


def rows_of(records: pd.DataFrame, error_type: str) -> list[dict]:
    rows = records[records["error_type"] == error_type].to_dict("records")
    assert len(rows) > 500, f"too few {error_type} rows to test: {len(rows)}"
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
    assert list(generate_records(0).columns) == ["record_id", "text", "label", "error_type",
                                                 "province", "city", "district"]


# --- labels and error types -------------------------------------------------------------------

def test_error_rate_and_types_are_balanced(records):
    wrong = records["label"] == "错误"
    assert set(records["label"]) == {"正确", "错误"}
    assert abs(wrong.mean() - 0.5) < 0.02
    assert (records.loc[~wrong, "error_type"] == "none").all()
    shares = records.loc[wrong, "error_type"].value_counts(normalize=True)
    assert set(shares.index) == set(ERROR_TYPES)
    assert len(ERROR_TYPES) >= 10
    assert shares.between(0.1 - 0.025, 0.1 + 0.025).all(), shares


@pytest.mark.parametrize("error_rate", [0.0, 0.2, 1.0])
def test_error_rate_is_respected(error_rate):
    df = generate_records(5000, seed=1, error_rate=error_rate)
    assert abs((df["label"] == "错误").mean() - error_rate) < 0.025
    assert ((df["label"] == "错误") == (df["error_type"] != "none")).all()


# --- each corruption is really in the text ------------------------------------------------------

def test_postcode_length(records):
    for row in rows_of(records, "postcode_length"):
        assert row["postcode"].isdigit() and len(row["postcode"]) in (5, 7, 8), row["text"]


def test_phone_nondigit(records):
    for row in rows_of(records, "phone_nondigit"):
        assert re.search(r"[^\d-]", row["phone"]), row["text"]


def test_phone_length(records):
    for row in rows_of(records, "phone_length"):
        assert re.fullmatch(r"[\d-]+", row["phone"]) and not valid_phone(row["phone"]), row["text"]


def test_digits_in_admin(records):
    for row in rows_of(records, "digits_in_admin"):
        admin = admin_text(row["province"], row["city"], row["district"])
        m = re.search(r"\d+", row["address"])
        assert m and 0 < m.start() < len(admin), row["text"]
        assert (row["address"][: m.start()] + row["address"][m.end():]).startswith(admin)


def test_garbage_road(records):
    symbols = re.escape(GARBAGE_SYMBOLS)
    for row in rows_of(records, "garbage_road"):
        assert re.search(f"[{symbols}]{{2,}}[\u4e00-\u9fff]+\\d+号", row["address"]), row["text"]


def test_city_not_in_province(records):
    for row in rows_of(records, "city_not_in_province"):
        assert row["address"].startswith(row["province"] + row["city"]), row["text"]
        assert not name_in_province(row["city"], row["province"]), row["text"]
        assert belongs(_province_of(row["city"]), row["city"], row["district"]), row["text"]


def _province_of(city: str) -> str:
    code = next(c for c in CODES_BY_NAME[city] if c[2:4] != "00")
    return next(p for p, pc in PROVINCE_CODE.items() if pc == code[:2])


def test_district_not_in_city(records):
    for row in rows_of(records, "district_not_in_city"):
        assert row["address"].startswith(admin_text(row["province"], row["city"], row["district"]))
        assert belongs(row["province"], row["city"], ""), row["text"]
        assert row["district"] and not belongs(row["province"], row["city"], row["district"]), row["text"]


def test_missing_field(records):
    dropped = defaultdict(int)
    for row in rows_of(records, "missing_field"):
        absent = [k for k in ("name", "postcode", "phone") if pd.isna(row[k])]
        assert len(absent) == 1 and row["address"], row["text"]
        dropped[absent[0]] += 1
    assert set(dropped) == {"name", "postcode", "phone"}


def test_truncated_address(records):
    for row in rows_of(records, "truncated_address"):
        assert row["address"] == admin_text(row["province"], row["city"], row["district"]), row["text"]
        assert "号" not in row["address"]


def test_duplicated_segment(records):
    for row in rows_of(records, "duplicated_segment"):
        assert REPEAT.search(row["address"]), row["text"]


# --- correct rows pass strict checks --------------------------------------------------------------

def test_correct_rows_are_valid(records):
    correct = records[records["label"] == "正确"].to_dict("records")
    assert len(correct) > 5000
    for row in correct:
        text = row["text"]
        assert isinstance(row["name"], str) and all(CJK.match(ch) for ch in row["name"]), text
        assert row["postcode"].isdigit() and len(row["postcode"]) == 6, text
        if row["province"] in KNOWN_POSTCODE_PREFIXES:
            assert row["postcode"][:2] in KNOWN_POSTCODE_PREFIXES[row["province"]], text
        assert valid_phone(row["phone"]), text
        assert belongs(row["province"], row["city"], row["district"]), text
        admin = admin_text(row["province"], row["city"], row["district"])
        assert row["address"].startswith(admin) and "号" in row["address"], text
        assert not re.search(r"\d", admin) and not re.search(f"[{re.escape(GARBAGE_SYMBOLS)}]", text)
        assert not REPEAT.search(row["address"]), text


def test_municipalities_and_county_level_cities_are_written_as_people_write_them(records):
    beijing = records[(records["province"] == "北京市") & (records["label"] == "正确")]
    assert len(beijing) > 0 and (beijing["city"] == "北京市").all()
    assert not beijing["address"].str.startswith("北京市北京市").any()
    no_district = records[(records["district"] == "") & (records["label"] == "正确")]
    assert len(no_district) > 0
    assert all(belongs(p, c, "") for p, c in zip(no_district["province"], no_district["city"]))
    assert "市辖区" not in set(records["city"]) | set(records["district"])


# --- diversity ---------------------------------------------------------------------------------

def test_records_are_diverse(records):
    sample = records.head(10_000)
    assert sample["text"].nunique() >= 0.95 * len(sample)
    assert sample["province"].nunique() >= 30
    assert sample["city"].nunique() >= 300
    assert sample["name"].nunique() >= 5000
    assert sample["name"].dropna().str[0].nunique() >= 100
    roads = sample["address"].str.extract(r"([^区县市镇乡道]{2,3}(?:路|街|大道|巷|胡同|弄))\d+号")[0]
    assert roads.nunique() >= 2000
    text = sample["text"]
    for pattern in (",", "，", "邮编:", "邮编：", "联系电话", "手机", "-", "街道", "镇", "号院",
                    "单元", "室", "小区"):
        share = text.str.contains(pattern, regex=False).mean()
        assert 0.01 < share < 0.99, (pattern, share)   # optional parts come and go
    postcode_first = text.str.contains(r"邮(?:编|政编码)[:：]\d+[,，].*(?:电话|手机|座机)")
    assert 0.2 < postcode_first.mean() < 0.9


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

def test_common_chinese_chars_cover_generated_text(records):
    chars = common_chinese_chars()
    assert chars == sorted(set(chars)) and len(chars) > 3755
    assert all(CJK.match(ch) for ch in chars)
    known = set(chars)
    assert set("市阳望号院楼正确错误") <= known
    assert set("".join(CODES_BY_NAME)) - {" "} <= known
    used = set(CJK.findall("".join(records["text"].head(10_000))))
    assert used - known == set()
