"""Synthetic "digital-twin" Chinese address records, correct or carrying exactly one known error.

    df = generate_records(20_000, seed=0, error_rate=0.5)        # text, label 正确/错误, error_type ...
    more = generate_records(20_000, seed=0, start=20_000)        # the next rows, same as one call
    paths = write_records("data/addresses", n=5_000_000, seed=0, error_rate=0.5,
                          rows_per_file=500_000)                 # part-00000.parquet, ...

A correct record reads `张三,北京市朝阳区望京街道阜通东大街123号院5号楼,邮编:100102,联系电话:13812345678`.
Provinces, cities and districts come from the real administrative table shipped with the `cpca`
package, so they always belong together; everything else (names, streets, roads, buildings,
phones, postcodes, separators, field order) is drawn from varied tables, because a reward model
trained on a few repeated templates does not learn (MISSION section 5).

A corrupted record (label 错误) is a correct record with exactly one of ERROR_TYPES applied. Each
row is a pure function of (seed, global row index), so chunks generated separately or in parallel
concatenate to exactly the rows of one call.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
import logging
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rayscore.data.pairs import CORRECT, WRONG

logger = logging.getLogger(__name__)

ERROR_TYPES = (
    "postcode_length",       # 5 or 7-8 digits
    "phone_nondigit",        # letters or symbols in the phone
    "phone_length",          # too few or too many digits
    "digits_in_admin",       # digits inside province/city/district: 北京市1234海淀区
    "garbage_road",          # symbols as the road name: #?@!路
    "city_not_in_province",  # a real city of another province
    "district_not_in_city",  # a real district of another city
    "missing_field",         # name, postcode or phone dropped
    "truncated_address",     # address stops after the city or district
    "duplicated_segment",    # 朝阳区朝阳区
)
NO_ERROR = "none"
# A row's random() callable: every choice for one row is drawn from it, in a fixed order.
Draw = Callable[[], float]
T = TypeVar("T")
COLUMNS = ("record_id", "text", "label", "error_type", "province", "city", "district")

# ---------------------------------------------------------------------------------------------
# Administrative divisions (cpca's adcodes.csv: 12-digit adcode, name, longitude, latitude)
# ---------------------------------------------------------------------------------------------

MUNICIPALITY_CODES = frozenset({"11", "12", "31", "50"})
# City-level rows that only group districts or county-level units; never written as a city.
PLACEHOLDER_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})


@dataclass(frozen=True)
class Division:
    """One place a record can be addressed to, as written: province + city + district."""

    province: str
    city: str        # the province name again for 北京/上海/天津/重庆
    district: str    # "" for cities without districts (东莞市) and 省直辖县级 cities (济源市)
    adcode: str      # 6-digit code of the most specific level

    @property
    def is_municipality(self) -> bool:
        return self.adcode[:2] in MUNICIPALITY_CODES

    def admin_segments(self) -> list[str]:
        """The segments as written: 北京市朝阳区 (no repeated city), 广东省广州市天河区."""
        parts = [self.province] if self.is_municipality else [self.province, self.city]
        return parts + [self.district] if self.district else parts


@dataclass(frozen=True)
class AdminTable:
    """Divisions plus the lookups the corruptions need to pick names from elsewhere."""

    divisions: tuple[Division, ...]
    names: tuple[str, ...]                                # every name in the csv, placeholders too
    names_in: dict[str, frozenset[str]]                   # province -> every name under it
    districts_of: dict[tuple[str, str], frozenset[str]]   # (province, city) -> district names
    by_province: dict[str, tuple[Division, ...]]
    prefecture_divisions: tuple[Division, ...]            # outside the four municipalities


def adcodes_path() -> Path:
    """cpca's adcodes.csv, found without importing cpca (its __init__ needs pkg_resources)."""
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("package cpca is not installed; it ships resources/adcodes.csv")
    return Path(spec.submodule_search_locations[0]) / "resources" / "adcodes.csv"


@functools.cache
def load_admin_table() -> AdminTable:
    """Province -> city -> district hierarchies that really belong together, read once."""
    with adcodes_path().open(encoding="utf-8") as f:
        names = {row["adcode"]: row["name"] for row in csv.DictReader(f)}
    divisions = build_divisions(names)
    districts_of: dict[tuple[str, str], set[str]] = defaultdict(set)
    by_province: dict[str, list[Division]] = defaultdict(list)
    for d in divisions:
        districts_of[(d.province, d.city)].add(d.district)
        by_province[d.province].append(d)
    logger.debug("loaded %d divisions in %d provinces", len(divisions), len(by_province))
    return AdminTable(
        divisions=tuple(divisions),
        names=tuple(sorted(set(names.values()))),
        names_in=names_under_provinces(names),
        districts_of={k: frozenset(v - {""}) for k, v in districts_of.items()},
        by_province={p: tuple(ds) for p, ds in by_province.items()},
        prefecture_divisions=tuple(d for d in divisions if not d.is_municipality),
    )


def names_under_provinces(names: dict[str, str]) -> dict[str, frozenset[str]]:
    """Province name -> the names of every city, county and district under it."""
    province_of = {a[:2]: n for a, n in names.items() if a[2:] == "0" * 10}
    under: dict[str, set[str]] = defaultdict(set)
    for a, n in names.items():
        if a[:2] in province_of:
            under[province_of[a[:2]]].add(n)
    return {p: frozenset(ns) for p, ns in under.items()}


def build_divisions(names: dict[str, str]) -> list[Division]:
    """Leaf divisions from {12-digit adcode: name}.

    Municipalities write the province as the city (北京市朝阳区). Cities with no district rows
    (东莞市) and the county-level units under a 省直辖县级行政区划 placeholder (济源市, 石河子市)
    become cities without a district, as people write them (河南省济源市...). Provinces with no
    city rows at all (台湾, 香港, 澳门 in this table) have nothing to address and are skipped.
    """
    provinces = {a[:2]: n for a, n in names.items() if a[2:] == "0" * 10}
    cities = {a[:4]: n for a, n in names.items() if a[4:] == "0" * 8 and a[2:4] != "00"}
    districts: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for a, n in names.items():
        # 市辖区 under a city is a grouping row; the 三沙 island rows are not addresses.
        if a[6:] == "0" * 6 and a[4:6] != "00" and n != "市辖区" and "群岛" not in n:
            districts[a[:4]].append((a[:6], n))
    out = []
    for code4, city in sorted(cities.items()):
        province = provinces.get(code4[:2])
        if province is None:
            continue
        members = sorted(districts.get(code4, []))
        if code4[:2] in MUNICIPALITY_CODES:
            out += [Division(province, province, d, a) for a, d in members]
        elif city in PLACEHOLDER_NAMES:
            out += [Division(province, d, "", a) for a, d in members]
        elif members:
            out += [Division(province, city, d, a) for a, d in members]
        else:
            out.append(Division(province, city, "", code4 + "00"))
    return out


# ---------------------------------------------------------------------------------------------
# Character tables (exposed so chinese_chars can collect every character the generator emits)
# ---------------------------------------------------------------------------------------------

SURNAMES = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严"
    "覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚"
    "符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆"
    "农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋"
    "商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
) + ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "令狐", "慕容", "夏侯", "司徒", "长孙", "尉迟")
GIVEN_NAME_CHARS = tuple(dict.fromkeys(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红娥玲芬燕飞鹏辉鑫波斌宇浩凯健俊帆帅旭"
    "宁龙林欣佳怡思雨婷雪梦晨颖琳倩晶莉慧蕾璐瑶嘉子涵轩博文昊然泽睿宸航逸一诺梓萱妍可馨雅琪悦彤心"
    "晓东海峰建国志永春庆福贵生荣成德山金立新宏光祥安清云喜胜松柏桐亮坤铭彬豪毅晖锋琦洁丹薇菲露媛"
    "婉妮茜蓉岚月星阳天宝家振兴利民义仁礼智信忠孝学武兵卫艺舒楠芸蓓秋冬夏岩鸿淑贞惠珍爱霖琛瑜璇瑾"
    "珊珂菁昕昱曦乐辰皓骏哲翔煜钰敬勤朗峻毓彦凡奕娴婧蔚颂韬"
))
PLACE_CHARS = tuple(dict.fromkeys(
    "东西南北中新安和平永兴长金龙凤花园桥湖山河江海城关台坪坝塘庄营屯集店铺沟岭峪口门阳泉水石林松"
    "柏梅竹桃李杨柳青红白黄绿华光明德仁义福寿康宁泰丰盛昌隆顺吉祥瑞庆乐清溪源田湾滩洲岛浦港渡埠亭"
    "阁寺堡寨围圩望京朝晖文武建设胜利友谊团结前进旗先锋五里十八三六九马牛鹿鹤燕莲荷兰桂菊枫槐榆杏"
    "梨枣高峰云霞虹彩锦绣春秋翠碧玉珠宝鼎鸿泽汇通达远景观庭苑府"
))
TOWN_SUFFIXES = ("街道", "街道", "街道", "镇", "镇", "乡")
ROAD_WORDS = (
    "人民", "解放", "中山", "建设", "和平", "胜利", "友谊", "长江", "黄河", "文化", "学院", "工业",
    "商业", "新华", "光明", "幸福", "团结", "青年", "东风", "红旗", "朝阳", "南京", "北京", "上海",
    "延安", "江南", "滨江", "湖滨", "环城", "体育", "公园", "车站", "机场", "科技", "创业", "富强",
    "民主", "迎宾", "世纪", "振兴", "复兴", "金融", "望京", "阜通", "中关村", "学府", "府前", "金桥",
)
ROAD_SUFFIXES = ("路", "路", "路", "街", "大街", "大道", "巷", "胡同", "东路", "西路", "南路", "北路",
                 "中路", "一路", "二路", "三路", "弄", "道")
COMPOUND_SUFFIXES = ("小区", "小区", "花园", "家园", "公寓", "苑", "新村", "雅居", "大厦", "广场",
                     "名苑", "华府", "公馆", "嘉园")
BUILDING_SUFFIXES = ("号楼", "号楼", "栋", "幢", "座")
SEPARATORS = (",", ",", "，")
COLONS = (":", ":", "：")
POSTCODE_LABELS = ("邮编", "邮编", "邮政编码")
MOBILE_LABELS = ("联系电话", "电话", "手机", "手机号")
LANDLINE_LABELS = ("联系电话", "电话", "座机")
# Fixed words the text can contain besides the tables above (kept here for chinese_chars).
FIXED_WORDS = ("号", "号院", "单元", "室", CORRECT, WRONG)

# Real mobile number prefixes (China Mobile / Unicom / Telecom / virtual operators).
MOBILE_PREFIXES = tuple(str(p) for p in (
    *range(130, 140), 145, 147, 149, 150, 151, 152, 153, 155, 156, 157, 158, 159, 162, 165, 166,
    167, 170, 171, 172, 173, 175, 176, 177, 178, *range(180, 190), 190, 191, 192, 193, 195, 196,
    197, 198, 199,
))
# Real postcode leading digits by province adcode prefix; a province not listed gets any 6 digits.
POSTCODE_PREFIXES = {
    "11": ("10",), "12": ("30",), "13": ("05", "06", "07"), "14": ("03", "04"), "15": ("01", "02"),
    "21": ("11", "12"), "22": ("13",), "23": ("15", "16"), "31": ("20",), "32": ("21", "22"),
    "33": ("31", "32"), "34": ("23", "24"), "35": ("35", "36"), "36": ("33", "34"),
    "37": ("25", "26", "27"), "41": ("45", "46", "47"), "42": ("43", "44"), "43": ("41", "42"),
    "44": ("51", "52"), "45": ("53", "54"), "46": ("57",), "50": ("40",),
    "51": ("61", "62", "63", "64"), "52": ("55", "56"), "53": ("65", "66", "67"), "54": ("85",),
    "61": ("71", "72"), "62": ("73", "74"), "63": ("81",), "64": ("75",), "65": ("83", "84"),
}
# Area code of each province's capital: plausible for any city there, not checked city by city.
AREA_CODES = {
    "11": "010", "12": "022", "13": "0311", "14": "0351", "15": "0471", "21": "024", "22": "0431",
    "23": "0451", "31": "021", "32": "025", "33": "0571", "34": "0551", "35": "0591", "36": "0791",
    "37": "0531", "41": "0371", "42": "027", "43": "0731", "44": "020", "45": "0771", "46": "0898",
    "50": "023", "51": "028", "52": "0851", "53": "0871", "54": "0891", "61": "029", "62": "0931",
    "63": "0971", "64": "0951", "65": "0991",
}
GARBAGE_SYMBOLS = "#?@!$%&*^~"
NONDIGIT_CHARS = "abcdefghijkmnopqrstuvwxyzABCDEFXO#*?@!$%"


def generator_characters() -> set[str]:
    """Every character generate_records can write, apart from the administrative names."""
    tables = (SURNAMES, GIVEN_NAME_CHARS, PLACE_CHARS, TOWN_SUFFIXES, ROAD_WORDS, ROAD_SUFFIXES,
              COMPOUND_SUFFIXES, BUILDING_SUFFIXES, SEPARATORS, COLONS, POSTCODE_LABELS,
              MOBILE_LABELS, LANDLINE_LABELS, FIXED_WORDS)
    return {ch for table in tables for word in table for ch in word}


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


@dataclass
class _Record:
    """A record's parts before it is written out; corruptions edit these."""

    name: str | None
    division: Division
    admin: list[str]              # segments as written; a corruption may replace them
    tail: list[str]               # town, road, number, compound, building, unit, room
    road_index: int               # position of the road in tail
    road_suffix: str
    postcode: str | None
    phone: str | None
    phone_label: str
    postcode_label: str
    separator: str
    postcode_first: bool
    columns: list[str]            # province, city, district as written

    def text(self) -> str:
        fields = [self.name, "".join(self.admin) + "".join(self.tail)]
        postcode = None if self.postcode is None else self.postcode_label + self.postcode
        phone = None if self.phone is None else self.phone_label + self.phone
        fields += [postcode, phone] if self.postcode_first else [phone, postcode]
        return self.separator.join(f for f in fields if f is not None)


def generate_records(n: int, seed: int = 0, error_rate: float = 0.5, start: int = 0) -> pd.DataFrame:
    """Rows [start, start+n) of the record stream for `seed`; see the module docstring.

    Columns: record_id, text, label (正确/错误), error_type (one of ERROR_TYPES or "none"),
    province, city, district (the administrative names as written in the text; "" when absent).
    """
    if n < 0 or start < 0:
        raise ValueError(f"n={n}, start={start}: both must be >= 0")
    if not 0.0 <= error_rate <= 1.0:
        raise ValueError(f"error_rate={error_rate}: must be within [0, 1]")
    table = load_admin_table()
    rng = random.Random()
    rows = [_generate_row(rng, table, seed, i, error_rate) for i in range(start, start + n)]
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype(str)


def _generate_row(rng: random.Random, table: AdminTable, seed: int, i: int,
                  error_rate: float) -> tuple[str, ...]:
    # Re-seeding from (seed, index) makes every row independent of how the range is chunked;
    # an int key (unique per pair for |seed| < 2**63) seeds ~25% faster than a string.
    rng.seed((seed % 2**64) << 64 | i)
    r = rng.random
    record = build_correct_record(r, table)
    error_type = NO_ERROR
    if r() < error_rate:
        error_type = ERROR_TYPES[int(r() * len(ERROR_TYPES))]
        CORRUPTIONS[error_type](r, table, record)
    label = CORRECT if error_type == NO_ERROR else WRONG
    province, city, district = record.columns
    return (f"addr-{seed}-{i:09d}", record.text(), label, error_type, province, city, district)


def _pick(r: Draw, seq: Sequence[T]) -> T:
    return seq[int(r() * len(seq))]


def _digits(r: Draw, k: int) -> str:
    # One draw for all k digits: a double carries 53 random bits, plenty for k <= 8.
    return f"{int(r() * 10 ** k):0{k}d}"


def build_correct_record(r: Draw, table: AdminTable) -> _Record:
    """A fully valid record; `r` is a random() callable seeded for this row."""
    division = _pick(r, table.divisions)
    tail, road_index, road_suffix = make_street_address(r)
    phone, phone_label = make_phone(r, division)
    colon = _pick(r, COLONS)
    return _Record(
        name=make_name(r),
        division=division,
        admin=division.admin_segments(),
        tail=tail,
        road_index=road_index,
        road_suffix=road_suffix,
        postcode=make_postcode(r, division),
        phone=phone,
        phone_label=phone_label + colon,
        postcode_label=_pick(r, POSTCODE_LABELS) + colon,
        separator=_pick(r, SEPARATORS),
        postcode_first=r() < 0.7,
        columns=[division.province, division.city, division.district],
    )


def make_name(r: Draw) -> str:
    given = 1 if r() < 0.3 else 2
    return _pick(r, SURNAMES) + "".join(_pick(r, GIVEN_NAME_CHARS) for _ in range(given))


def _place_word(r: Draw, chars=PLACE_CHARS, n=len(PLACE_CHARS)) -> str:
    # Inlined picks: this runs about twice per row and dominates the per-row cost.
    return chars[int(r() * n)] + chars[int(r() * n)]


def make_street_address(r: Draw) -> tuple[list[str], int, str]:
    """(tail segments after the district, index of the road segment, the road's suffix)."""
    tail = []
    if r() < 0.75:
        tail.append(_place_word(r) + _pick(r, TOWN_SUFFIXES))
    stem = _pick(r, ROAD_WORDS) if r() < 0.35 else _place_word(r)
    suffix = _pick(r, ROAD_SUFFIXES)
    road_index = len(tail)
    tail.append(stem + suffix)
    # Small house numbers are far more common than large ones.
    tail.append(f"{int(r() ** 2 * 998) + 1}号")
    if r() < 0.25:
        tail[-1] += "院"
    elif r() < 0.45:
        tail.append(_place_word(r) + _pick(r, COMPOUND_SUFFIXES))
    if r() < 0.6:
        tail.append(f"{int(r() * 30) + 1}{_pick(r, BUILDING_SUFFIXES)}")
        if r() < 0.6:
            tail.append(f"{int(r() * 6) + 1}单元")
        if r() < 0.7:
            tail.append(f"{int(r() * 32) + 1}{int(r() * 4) + 1:02d}室")
    return tail, road_index, suffix


def make_postcode(r: Draw, division: Division) -> str:
    prefixes = POSTCODE_PREFIXES.get(division.adcode[:2])
    if prefixes is None:
        return _digits(r, 6)
    return _pick(r, prefixes) + _digits(r, 4)


def make_phone(r: Draw, division: Division) -> tuple[str, str]:
    """(phone, label): mostly mobiles, sometimes a landline with the province's area code."""
    area = AREA_CODES.get(division.adcode[:2])
    if area is None or r() < 0.8:
        return _pick(r, MOBILE_PREFIXES) + _digits(r, 8), _pick(r, MOBILE_LABELS)
    # Three-digit area codes are the big cities, whose local numbers all have 8 digits.
    length = 8 if len(area) == 3 or r() < 0.6 else 7
    local = "2345678"[int(r() * 7)] + _digits(r, length - 1)
    return f"{area}-{local}", _pick(r, LANDLINE_LABELS)


# ---------------------------------------------------------------------------------------------
# Corruptions: each edits a correct record in place so that exactly one thing is wrong
# ---------------------------------------------------------------------------------------------


def corrupt_postcode_length(r: Draw, table: AdminTable, rec: _Record) -> None:
    if r() < 0.4:
        rec.postcode = rec.postcode[:5]
    else:
        rec.postcode += _digits(r, 1 + int(r() * 2))


def corrupt_phone_nondigit(r: Draw, table: AdminTable, rec: _Record) -> None:
    if r() < 0.25:
        rec.phone = "".join(_pick(r, NONDIGIT_CHARS) for _ in range(1 + int(r() * 3)))
        return
    chars = list(rec.phone)
    digit_positions = [k for k, c in enumerate(chars) if c.isdigit()]
    for _ in range(1 + int(r() * 3)):
        chars[_pick(r, digit_positions)] = _pick(r, NONDIGIT_CHARS)
    rec.phone = "".join(chars)


def corrupt_phone_length(r: Draw, table: AdminTable, rec: _Record) -> None:
    area, dash, local = rec.phone.rpartition("-")
    if r() < 0.5:
        local = local[: len(local) - 1 - int(r() * 3)]
    else:
        local += _digits(r, 1 + int(r() * 2))
    if dash and not 7 <= len(local) <= 8:
        rec.phone = f"{area}-{local}"
    elif dash:  # 8-digit local cut to 7 is still valid; make it clearly short
        rec.phone = f"{area}-{local[:5]}"
    else:
        rec.phone = local


def corrupt_digits_in_admin(r: Draw, table: AdminTable, rec: _Record) -> None:
    admin = "".join(rec.admin)
    # Strictly inside, so the digits can never read as the start of a house number.
    pos = 1 + int(r() * (len(admin) - 1))
    rec.admin = [admin[:pos] + _digits(r, 1 + int(r() * 4)) + admin[pos:]]


def corrupt_garbage_road(r: Draw, table: AdminTable, rec: _Record) -> None:
    garbage = "".join(_pick(r, GARBAGE_SYMBOLS) for _ in range(2 + int(r() * 4)))
    rec.tail[rec.road_index] = garbage + rec.road_suffix


def corrupt_city_not_in_province(r: Draw, table: AdminTable, rec: _Record) -> None:
    province = rec.division.province
    # Not just the province's cities: a county-level city of the same name (吉林省 has both a
    # 吉林市 and counties) would make the "wrong" record a right one.
    own_names = table.names_in[province]
    while True:
        other = _pick(r, table.prefecture_divisions)
        if other.province != province and other.city not in own_names:
            break
    rec.admin = [province, other.city] + ([other.district] if other.district else [])
    rec.columns = [province, other.city, other.district]


def corrupt_district_not_in_city(r: Draw, table: AdminTable, rec: _Record) -> None:
    d = rec.division
    own = table.districts_of[(d.province, d.city)]
    # Half the time a district of a neighbouring city in the same province: the harder case.
    # A municipality has no neighbouring city, so it always borrows from anywhere.
    same_province = r() < 0.5 and not d.is_municipality
    pool = table.by_province[d.province] if same_province else table.divisions
    while True:
        other = _pick(r, pool)
        if other.district and other.district not in own and other.city != d.city:
            break
    rec.admin = d.admin_segments()[: 1 if d.is_municipality else 2] + [other.district]
    rec.columns = [d.province, d.city, other.district]


def corrupt_missing_field(r: Draw, table: AdminTable, rec: _Record) -> None:
    dropped = int(r() * 3)
    if dropped == 0:
        rec.name = None
    elif dropped == 1:
        rec.postcode = None
    else:
        rec.phone = None


def corrupt_truncated_address(r: Draw, table: AdminTable, rec: _Record) -> None:
    d = rec.division
    rec.tail = []
    if d.district and r() < 0.3:
        rec.admin = rec.admin[:-1]
        rec.columns = [d.province, d.city, ""]


def corrupt_duplicated_segment(r: Draw, table: AdminTable, rec: _Record) -> None:
    # Never the municipality itself: 北京市北京市 is how some systems legitimately write it.
    admin_choices = list(range(1 if rec.division.is_municipality else 0, len(rec.admin)))
    tail_choices = list(range(rec.road_index + 1))   # the town and the road
    k = int(r() * (len(admin_choices) + len(tail_choices)))
    if k < len(admin_choices):
        j = admin_choices[k]
        rec.admin.insert(j, rec.admin[j])
    else:
        j = tail_choices[k - len(admin_choices)]
        rec.tail.insert(j, rec.tail[j])


CORRUPTIONS = {
    "postcode_length": corrupt_postcode_length,
    "phone_nondigit": corrupt_phone_nondigit,
    "phone_length": corrupt_phone_length,
    "digits_in_admin": corrupt_digits_in_admin,
    "garbage_road": corrupt_garbage_road,
    "city_not_in_province": corrupt_city_not_in_province,
    "district_not_in_city": corrupt_district_not_in_city,
    "missing_field": corrupt_missing_field,
    "truncated_address": corrupt_truncated_address,
    "duplicated_segment": corrupt_duplicated_segment,
}
assert tuple(CORRUPTIONS) == ERROR_TYPES


# ---------------------------------------------------------------------------------------------
# Parquet output
# ---------------------------------------------------------------------------------------------

SCHEMA = pa.schema([(name, pa.string()) for name in COLUMNS])


def write_records(path: str, n: int, seed: int, error_rate: float, rows_per_file: int) -> list[str]:
    """Write rows [0, n) as part-00000.parquet, ... under `path`, rows_per_file rows per file.

    Only one file's rows are in memory at a time. Returns the file paths in row order.
    """
    if rows_per_file <= 0:
        raise ValueError(f"rows_per_file={rows_per_file}: must be > 0")
    if n < 0:
        raise ValueError(f"n={n}: must be >= 0")
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    n_files = -(-n // rows_per_file)
    paths = [out / f"part-{k:05d}.parquet" for k in range(n_files)]
    # A part left over from a larger earlier run would be read back as if it belonged to this one.
    stale = sorted(set(out.glob("part-*.parquet")) - set(paths))
    if stale:
        raise ValueError(f"{out}: holds {len(stale)} part files this run would not overwrite "
                         f"(first: {stale[0].name}); write to an empty directory")
    for k, file in enumerate(paths):
        start = k * rows_per_file
        frame = generate_records(min(rows_per_file, n - start), seed, error_rate, start)
        pq.write_table(pa.Table.from_pandas(frame, schema=SCHEMA, preserve_index=False), file)
        logger.info("wrote %s (%d rows)", file, len(frame))
    return [str(p) for p in paths]
