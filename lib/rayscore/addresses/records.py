"""Synthetic "digital-twin" Chinese address records, correct or carrying exactly one known error.

    df = generate_records(20_000, seed=0, error_rate=0.5)        # text, label 正确/错误, error_type ...
    more = generate_records(20_000, seed=0, start=20_000)        # the next rows, same as one call
    paths = write_records("data/addresses", n=5_000_000, seed=0, error_rate=0.5,
                          rows_per_file=500_000)                 # part-00000.parquet, ...

Records are written the way real ones are, in every shape the check set (checks.py) must read:

    张伟,北京市朝阳区望京街道阜通东大街6号院3号楼2单元502室,邮编:100102,联系电话:13812345678
    李女士，浙江义乌市稠城街道宾王商贸城3F-12，手机：+86 13957901234，邮政编码：322000
    阿卜杜·热合曼,广东省-东莞市-虎门镇-白沙村3组,电话:(0769)85123456,邮编:523900

Fields are a name, the address, then a postcode and a phone field in either order. The address
has an administrative part in one of the shapes people write (full, no province, a county-level
city right after its province, short forms, municipalities, a city without counties, starting at
the county or the town, none at all), levels joined by nothing, a space or "-"; a real town or
street of that county from the division table (divisions.py) or none; then one of the shapes of
the rest (road + 号, N号院, village + 组, 社区/小区, a shop in a POI, 3#楼, a bare room number).
Everything that is not a division name is drawn from varied tables, because a reward model
trained on a few repeated templates does not learn.

A record is drawn as parts (a Record, record_parts.py) about a county-level unit (a Target,
targets.py). A corrupted record (label 错误) is a correct record with exactly one of ERROR_TYPES
applied (corruptions.py); each corruption is honest (a "wrong" city really is not in the
province, a typo is not a known name). Each row is a pure function of (seed, global row index),
so chunks generated separately or in parallel concatenate to exactly the rows of one call.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import random
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rayscore.addresses.corruptions import (
    CORRUPTIONS,
    ERROR_TYPES,
    GARBAGE_SYMBOLS,
    JUNK_LATIN,
    JUNK_REPEATED,
    JUNK_SYMBOLS,
    NONDIGIT_CHARS,
    PHONE_LOOKALIKES,
    TYPO_FALLBACK,
    TYPO_GROUPS,
    suits,
)
from rayscore.addresses.divisions import CITY, COUNTY, PROVINCE
from rayscore.addresses.draws import Draw, draw_digits, pick, pick_cumulative
from rayscore.addresses.names import GIVEN_NAME_CHARS, HONORIFICS, MINORITY_NAME_PARTS, NAME_DOT, SURNAMES, make_name
from rayscore.addresses.record_parts import Record, render_phone
from rayscore.addresses.targets import Tables, Target, load_tables
from rayscore.data.pairs import CORRECT, WRONG
from rayscore.logs import Progress

logger = logging.getLogger(__name__)

NO_ERROR = "none"
COLUMNS = ("record_id", "text", "label", "error_type", "province", "city", "district")

# ---------------------------------------------------------------------------------------------
# Shapes (names used by the tests and in the docs; the generator draws them with these shares)
# ---------------------------------------------------------------------------------------------

ADMIN_SHAPES = ("full", "no_province", "short", "county_city", "from_county", "from_town", "none")
# Drawn for every record whose county is not a county-level city (those take "county_city" with
# COUNTY_CITY_SHARE first). A municipality's "no_province" is its full form (北京市朝阳区). The
# shapes with few admin names are drawn more often than they end up: build_record keeps a record
# only if it suits a drawn error kind, and fewer kinds suit them.
ADMIN_SHAPE_CUMULATIVE = (
    ("full", 0.58), ("no_province", 0.71), ("short", 0.84), ("from_county", 0.90),
    ("from_town", 0.955), ("none", 1.0),
)
COUNTY_CITY_SHARE = 0.45
ADMIN_SEPARATORS_CUMULATIVE = (("", 0.8), (" ", 0.9), ("-", 1.0))
REST_SHAPES = ("road", "yard", "village", "community", "poi", "hash_building", "bare_room")
REST_SHAPE_CUMULATIVE = (
    ("road", 0.50), ("yard", 0.58), ("village", 0.67), ("community", 0.79), ("poi", 0.89),
    ("hash_building", 0.945), ("bare_room", 1.0),
)
TOWN_SHARE = 0.6                  # a town or street is written
TOWN_SHARE_CITY_WITHOUT_COUNTIES = 0.92   # 东莞市虎门镇: the town is what locates the address

# ---------------------------------------------------------------------------------------------
# Character tables (exposed so chinese_chars can collect every character the generator emits)
# ---------------------------------------------------------------------------------------------

# Without 花园苑府庭: a word from these chars must never repeat the suffix after it (花园花园).
PLACE_CHARS = tuple(dict.fromkeys(
    "东西南北中新安和平永兴长金龙凤桥湖山河江海城关台坪坝塘庄营屯集店铺沟岭峪口门阳泉水石林松"
    "柏梅竹桃李杨柳青红白黄绿华光明德仁义福寿康宁泰丰盛昌隆顺吉祥瑞庆乐清溪源田湾滩洲岛浦港渡埠亭"
    "阁寺堡寨围圩望京朝晖文武建设胜利友谊团结前进旗先锋五里十八三六九马牛鹿鹤燕莲荷兰桂菊枫槐榆杏"
    "梨枣高峰云霞虹彩锦绣春秋翠碧玉珠宝鼎鸿泽汇通达远景观"
))
ROAD_WORDS = (
    "人民", "解放", "中山", "建设", "和平", "胜利", "友谊", "长江", "黄河", "文化", "学院", "工业",
    "商业", "新华", "光明", "幸福", "团结", "青年", "东风", "红旗", "朝阳", "南京", "北京", "上海",
    "延安", "江南", "滨江", "湖滨", "环城", "体育", "公园", "车站", "机场", "科技", "创业", "富强",
    "民主", "迎宾", "世纪", "振兴", "复兴", "金融", "望京", "阜通", "中关村", "学府", "府前", "金桥",
)
ROAD_SUFFIXES = ("路", "路", "路", "街", "大街", "大道", "巷", "胡同", "东路", "西路", "南路", "北路",
                 "中路", "一路", "二路", "三路", "弄", "道")
COMPOUND_SUFFIXES = ("小区", "小区", "花园", "家园", "公寓", "苑", "新村", "雅居", "大厦", "名苑",
                     "华府", "公馆", "嘉园", "国际", "府")
BUILDING_SUFFIXES = ("号楼", "号楼", "栋", "幢", "座")
VILLAGE_STEM_ENDINGS = ("家", "庄", "营", "寨", "湾", "集", "屯", "店")
# Villages are named after common clans (张家庄, 李营), not after rare or compound surnames.
VILLAGE_SURNAMES = SURNAMES[:200]
# Natural villages (自然村) written after the administrative village: 白沙村下庄.
NATURAL_VILLAGES = ("下庄", "上庄", "东庄", "西庄", "前庄", "后庄", "大湾", "小湾", "东头", "西头",
                    "上屋", "下屋", "新屋", "老屋", "村口", "岭下", "塘边", "坑口")
COMMUNITY_SUFFIXES = ("社区", "社区", "小区")
POI_TYPES = ("工业区", "工业园", "商场", "市场", "广场", "批发市场", "购物中心", "商业街", "商贸城",
             "农贸市场", "科技园", "产业园")
# Brand-like names of malls and markets, as often as invented ones.
POI_BRANDS = ("万达", "吾悦", "宝龙", "银泰", "万象", "天虹", "华润", "龙湖", "凯德", "永旺", "国贸",
              "百联", "大润发", "苏宁", "国美", "步步高")
SHOP_WORDS = ("门口", "号铺", "栋", "商铺", "F-")
SEPARATORS = (",", ",", "，")
COLONS = (":", ":", "：")
POSTCODE_LABELS = ("邮编", "邮编", "邮政编码")
MOBILE_LABELS = ("联系电话", "电话", "手机", "手机号")
LANDLINE_LABELS = ("联系电话", "电话", "座机")
# Fixed words the text can contain besides the tables above (kept here for chinese_chars).
FIXED_WORDS = ("号", "号院", "单元", "室", "村", "组", "#楼", "+86 ", "()", CORRECT, WRONG)

# Real mobile number prefixes (China Mobile / Unicom / Telecom / virtual operators).
MOBILE_PREFIXES = tuple(str(p) for p in (
    *range(130, 140), 145, 147, 149, 150, 151, 152, 153, 155, 156, 157, 158, 159, 162, 165, 166,
    167, 170, 171, 172, 173, 175, 176, 177, 178, *range(180, 190), 190, 191, 192, 193, 195, 196,
    197, 198, 199,
))
# Real postcode leading digits by province code.
POSTCODE_PREFIXES = {
    "11": ("10",), "12": ("30",), "13": ("05", "06", "07"), "14": ("03", "04"), "15": ("01", "02"),
    "21": ("11", "12"), "22": ("13",), "23": ("15", "16"), "31": ("20",), "32": ("21", "22"),
    "33": ("31", "32"), "34": ("23", "24"), "35": ("35", "36"), "36": ("33", "34"),
    "37": ("25", "26", "27"), "41": ("45", "46", "47"), "42": ("43", "44"), "43": ("41", "42"),
    "44": ("51", "52"), "45": ("53", "54"), "46": ("57",), "50": ("40",),
    "51": ("61", "62", "63", "64"), "52": ("55", "56"), "53": ("65", "66", "67"), "54": ("85",),
    "61": ("71", "72"), "62": ("73", "74"), "63": ("81",), "64": ("75",), "65": ("83", "84"),
}
# Area code of each province's capital: the fallback for a city not in CITY_AREA_CODES.
AREA_CODES = {
    "11": "010", "12": "022", "13": "0311", "14": "0351", "15": "0471", "21": "024", "22": "0431",
    "23": "0451", "31": "021", "32": "025", "33": "0571", "34": "0551", "35": "0591", "36": "0791",
    "37": "0531", "41": "0371", "42": "027", "43": "0731", "44": "020", "45": "0771", "46": "0898",
    "50": "023", "51": "028", "52": "0851", "53": "0871", "54": "0891", "61": "029", "62": "0931",
    "63": "0971", "64": "0951", "65": "0991",
}
CITY_AREA_CODES = {
    "深圳市": "0755", "东莞市": "0769", "佛山市": "0757", "中山市": "0760", "珠海市": "0756",
    "汕头市": "0754", "惠州市": "0752", "江门市": "0750", "湛江市": "0759", "苏州市": "0512",
    "无锡市": "0510", "常州市": "0519", "南通市": "0513", "徐州市": "0516", "扬州市": "0514",
    "宁波市": "0574", "温州市": "0577", "金华市": "0579", "绍兴市": "0575", "嘉兴市": "0573",
    "台州市": "0576", "湖州市": "0572", "芜湖市": "0553", "厦门市": "0592", "泉州市": "0595",
    "漳州市": "0596", "赣州市": "0797", "青岛市": "0532", "烟台市": "0535", "潍坊市": "0536",
    "临沂市": "0539", "洛阳市": "0379", "宜昌市": "0717", "绵阳市": "0816", "桂林市": "0773",
    "柳州市": "0772", "唐山市": "0315", "保定市": "0312", "大同市": "0352", "包头市": "0472",
    "大连市": "0411", "吉林市": "0432", "大庆市": "0459",
}


def generator_characters() -> set[str]:
    """Every character generate_records can write, apart from the division (and town) names."""
    tables = (SURNAMES, GIVEN_NAME_CHARS, HONORIFICS, MINORITY_NAME_PARTS, (NAME_DOT,), PLACE_CHARS,
              ROAD_WORDS, ROAD_SUFFIXES, COMPOUND_SUFFIXES, BUILDING_SUFFIXES, VILLAGE_STEM_ENDINGS,
              NATURAL_VILLAGES, COMMUNITY_SUFFIXES, POI_TYPES, POI_BRANDS, SHOP_WORDS, SEPARATORS,
              COLONS, POSTCODE_LABELS, MOBILE_LABELS, LANDLINE_LABELS, FIXED_WORDS, JUNK_LATIN,
              JUNK_REPEATED, TYPO_GROUPS, (TYPO_FALLBACK, GARBAGE_SYMBOLS, NONDIGIT_CHARS,
                                           JUNK_SYMBOLS, "0123456789- "),
              tuple(PHONE_LOOKALIKES.values()))
    return {ch for table in tables for word in table for ch in word}


# ---------------------------------------------------------------------------------------------
# The record stream
# ---------------------------------------------------------------------------------------------


def generate_records(n: int, seed: int = 0, error_rate: float = 0.5, start: int = 0,
                     kind_weights: dict[str, float] | None = None) -> pd.DataFrame:
    """Rows [start, start+n) of the record stream for `seed`; see the module docstring.

    kind_weights: relative frequency of each error kind among the wrong records (a kind not
    named weighs 1; None: all kinds equally often, the stream's default).

    Columns: record_id, text, label (正确/错误), error_type (one of ERROR_TYPES or "none"),
    province, city, district: the administrative names as the text writes them, short forms
    included ("" when not written; a municipality fills both province and city; 浙江省义乌市
    has city "" and district 义乌市).
    """
    if n < 0 or start < 0:
        raise ValueError(f"n={n}, start={start}: both must be >= 0")
    if not 0.0 <= error_rate <= 1.0:
        raise ValueError(f"error_rate={error_rate}: must be within [0, 1]")
    tables = load_tables()
    rng = random.Random()
    cumulative = kind_cumulative(kind_weights)
    rows = [generate_row(rng, tables, seed, i, error_rate, cumulative) for i in range(start, start + n)]
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype(str)


def kind_cumulative(kind_weights: dict[str, float] | None) -> list[float] | None:
    """Cumulative shares of the error kinds, in ERROR_TYPES order (None: uniform)."""
    if not kind_weights:
        return None
    unknown = set(kind_weights) - set(ERROR_TYPES)
    if unknown or any(w < 0 for w in kind_weights.values()):
        raise ValueError(f"kind_weights: unknown kinds {sorted(unknown)} or negative weights; kinds are {ERROR_TYPES}")
    weights = [kind_weights.get(k, 1.0) for k in ERROR_TYPES]
    if not sum(weights):
        raise ValueError("kind_weights: at least one kind must weigh more than 0")
    return list(itertools.accumulate(w / sum(weights) for w in weights))


def generate_row(rng: random.Random, tables: Tables, seed: int, i: int,
                 error_rate: float, cumulative: list[float] | None = None) -> tuple[str, ...]:
    # Re-seeding from (seed, index) makes every row independent of how the range is chunked;
    # an int key (unique per pair for |seed| < 2**63) seeds ~25% faster than a string.
    rng.seed((seed % 2**64) << 64 | i)
    r = rng.random
    error_type = NO_ERROR
    if r() < error_rate:
        u = r()
        error_type = (ERROR_TYPES[int(u * len(ERROR_TYPES))] if cumulative is None
                      else ERROR_TYPES[min(bisect.bisect_right(cumulative, u), len(ERROR_TYPES) - 1)])
    record = build_record(r, tables, error_type)
    label = CORRECT if error_type == NO_ERROR else WRONG
    return (f"addr-{seed}-{i:09d}", record.text(), label, error_type, *record.columns())


def build_record(r: Draw, tables: Tables, error_type: str) -> Record:
    """A correct record with `error_type` applied (none: as drawn).

    Some corruptions need a part the drawn record lacks (a city to replace, two admin names to
    put digits between); then another correct record is drawn, from the same row's stream. A
    correct record is drawn the same way for a kind it is not given, so correct and wrong records
    have the same mix of shapes: no shape (an address without admin part) gives the label away.
    """
    kind = error_type if error_type != NO_ERROR else ERROR_TYPES[int(r() * len(ERROR_TYPES))]
    for _ in range(200):
        record = build_correct_record(r, tables)
        if suits(kind, record) and (error_type == NO_ERROR or CORRUPTIONS[error_type](r, tables, record)):
            return record
    raise RuntimeError(f"{kind}: no suitable record in 200 draws")   # never in practice


# ---------------------------------------------------------------------------------------------
# Correct records
# ---------------------------------------------------------------------------------------------


def _number(r: Draw, top: int) -> int:
    """1..top, small numbers far more common than large ones (as house numbers are)."""
    return int(r() ** 2 * top) + 1


def _place_word(r: Draw, chars: tuple[str, ...] = PLACE_CHARS, n: int = len(PLACE_CHARS)) -> str:
    # Inlined picks: this runs a few times per row and dominates the per-row cost.
    first = chars[int(r() * n)]
    second = chars[int(r() * n)]
    return first + (second if second != first else chars[(chars.index(first) + 1) % n])


def build_correct_record(r: Draw, tables: Tables) -> Record:
    """A fully valid record; `r` is a random() callable seeded for this row."""
    target = pick(r, tables.targets)
    shape = draw_admin_shape(r, target)
    admin, levels = write_admin(r, target, shape)
    town = draw_town(r, target, shape)
    sep = pick_cumulative(r, ADMIN_SEPARATORS_CUMULATIVE) if admin or town else ""
    rest_shape = pick_cumulative(r, REST_SHAPE_CUMULATIVE)
    rest, named, suffix = write_rest(r, rest_shape)
    phone_kind, phone_format, area, number = draw_phone(r, target)
    colon = pick(r, COLONS)
    record = Record(
        target=target, name=make_name(r), admin=admin, levels=levels, town=town, sep=sep,
        rest=rest, named=named, named_suffix=suffix, postcode=make_postcode(r, target),
        phone=render_phone(phone_kind, phone_format, area, number), phone_kind=phone_kind,
        phone_format=phone_format, phone_area=area, phone_number=number,
        postcode_label=pick(r, POSTCODE_LABELS) + colon,
        phone_label=pick(r, MOBILE_LABELS if phone_kind == "mobile" else LANDLINE_LABELS) + colon,
        field_sep=pick(r, SEPARATORS), postcode_first=r() < 0.6, shape=shape, rest_shape=rest_shape,
    )
    return record


def draw_admin_shape(r: Draw, target: Target) -> str:
    if target.county_city and r() < COUNTY_CITY_SHARE:
        return "county_city"
    shape = pick_cumulative(r, ADMIN_SHAPE_CUMULATIVE)
    d = target.division
    if shape == "no_province" and d.is_municipality:
        return "full"                  # 北京市朝阳区 is both
    if shape == "from_county" and not d.district:
        return "from_town"             # 东莞市 has no county to start at
    if shape == "from_town" and not target.towns:
        return "from_county" if d.district else "full"
    return shape


def write_admin(r: Draw, target: Target, shape: str) -> tuple[list[str], list[int]]:
    """The administrative names written for `shape`, and the level of each."""
    d = target.division
    if shape in ("from_town", "none"):
        return [], []
    if shape == "from_county":
        return [d.district], [COUNTY]
    if shape == "county_city":
        province = target.province_short if r() < 0.25 else d.province
        return [province, d.district], [PROVINCE, COUNTY]
    if d.is_municipality:
        province = target.province_short if shape == "short" else d.province
        return [province, d.district], [PROVINCE, COUNTY]
    province, city = d.province, d.city
    if shape == "short":
        x = r()
        if target.city_short is None or x < 0.3:
            province = target.province_short
        elif x < 0.75:
            province, city = target.province_short, target.city_short
        else:
            city = target.city_short
    names, levels = ([city], [CITY]) if shape == "no_province" else ([province, city], [PROVINCE, CITY])
    if d.district:
        names.append(d.district)
        levels.append(COUNTY)
    return names, levels


def draw_town(r: Draw, target: Target, shape: str) -> str | None:
    if not target.towns or shape == "none":
        return None
    share = TOWN_SHARE_CITY_WITHOUT_COUNTIES if target.without_counties else TOWN_SHARE
    if shape == "from_town" or r() < share:
        return pick(r, target.towns)
    return None


def write_rest(r: Draw, shape: str) -> tuple[list[str], int, str]:
    """(the parts after the town, index of the named part, its suffix) for a rest shape."""
    return REST_WRITERS[shape](r)


def _road(r: Draw) -> tuple[str, str]:
    stem = pick(r, ROAD_WORDS) if r() < 0.4 else _place_word(r)
    suffix = pick(r, ROAD_SUFFIXES)
    return stem + suffix, suffix


def _compound(r: Draw) -> tuple[str, str]:
    suffix = pick(r, COMPOUND_SUFFIXES)
    return _place_word(r) + suffix, suffix


def _room(r: Draw) -> str:
    return f"{int(r() * 32) + 1}{int(r() * 4) + 1:02d}"


def _building_unit_room(r: Draw, always_building: bool = False) -> list[str]:
    parts = []
    if always_building or r() < 0.6:
        parts.append(f"{int(r() * 30) + 1}{pick(r, BUILDING_SUFFIXES)}")
        if r() < 0.6:
            parts.append(f"{int(r() * 6) + 1}单元")
        if r() < 0.75:
            parts.append(_room(r) + ("室" if r() < 0.7 else ""))
    return parts


def _road_before(r: Draw, share: float) -> list[str]:
    """A road and house number written before a POI or compound, `share` of the time (else none)."""
    return [_road(r)[0], f"{_number(r, 998)}号"] if r() < share else []


def write_road(r: Draw) -> tuple[list[str], int, str]:
    road, suffix = _road(r)
    parts = [road, f"{_number(r, 998)}号"]
    if r() < 0.35:
        parts.append(_compound(r)[0])
    return parts + _building_unit_room(r), 0, suffix


def write_yard(r: Draw) -> tuple[list[str], int, str]:
    road, suffix = _road(r)
    return [road, f"{_number(r, 300)}号院"] + _building_unit_room(r), 0, suffix


def write_village(r: Draw) -> tuple[list[str], int, str]:
    x = r()
    if x < 0.4:
        stem = _place_word(r)
    elif x < 0.75:
        stem = pick(r, VILLAGE_SURNAMES) + pick(r, VILLAGE_STEM_ENDINGS)
    else:
        stem = pick(r, VILLAGE_SURNAMES) + "家" + pick(r, ("湾", "庄", "坪", "沟", "岭", "坝"))
    parts = [stem + "村"]
    y = r()
    if y < 0.5:
        parts.append(f"{int(r() * 15) + 1}组")
        if r() < 0.3:
            parts.append(f"{_number(r, 120)}号")
    elif y < 0.75:
        parts.append(pick(r, NATURAL_VILLAGES))
        if r() < 0.3:
            parts.append(f"{_number(r, 80)}号")
    else:
        parts.append(f"{_number(r, 200)}号")
    return parts, 0, "村"


def write_community(r: Draw) -> tuple[list[str], int, str]:
    suffix = pick(r, COMMUNITY_SUFFIXES)
    return [_place_word(r) + suffix] + _building_unit_room(r, always_building=True), 0, suffix


def write_poi(r: Draw) -> tuple[list[str], int, str]:
    parts = _road_before(r, 0.35)
    stem = pick(r, POI_BRANDS) if r() < 0.4 else _place_word(r)
    suffix = pick(r, POI_TYPES)
    named = len(parts)
    parts.append(stem + suffix)
    x = r()
    if x < 0.2:
        parts.append("门口")
    elif x < 0.5:
        parts.append(f"{_number(r, 300)}号铺")
    elif x < 0.7:
        parts.append(f"{int(r() * 300) + 1}栋{int(r() * 4000) + 1001}商铺")
    else:
        parts.append(f"{int(r() * 6) + 1}F-{int(r() * 60) + 1:02d}")
    return parts, named, suffix


def write_hash_building(r: Draw) -> tuple[list[str], int, str]:
    parts = _road_before(r, 0.4)
    named = len(parts)
    compound, suffix = _compound(r)
    parts += [compound, f"{int(r() * 30) + 1}#楼"]
    if r() < 0.6:
        parts.append(f"{int(r() * 6) + 1}单元")
    if r() < 0.8:
        parts.append(_room(r) + ("室" if r() < 0.5 else ""))
    return parts, named, suffix


def write_bare_room(r: Draw) -> tuple[list[str], int, str]:
    parts = _road_before(r, 0.4)
    named = len(parts)
    compound, suffix = _compound(r)
    floor = int(r() * 33) + 1
    return parts + [compound, f"{floor}{int(r() * 8) + 1:02d}"], named, suffix


REST_WRITERS: dict[str, Callable[[Draw], tuple[list[str], int, str]]] = {
    "road": write_road, "yard": write_yard, "village": write_village, "community": write_community,
    "poi": write_poi, "hash_building": write_hash_building, "bare_room": write_bare_room,
}
assert tuple(REST_WRITERS) == REST_SHAPES


def make_postcode(r: Draw, target: Target) -> str:
    return pick(r, POSTCODE_PREFIXES[target.province_code]) + draw_digits(r, 4)


def area_code(target: Target) -> str:
    d = target.division
    return CITY_AREA_CODES.get(d.city) or AREA_CODES[target.province_code]


# Mobile formats: plain, "+86 " first, 138-1234-5678, 138 1234 5678 (render_phone).
MOBILE_FORMATS_CUMULATIVE = (("0", 0.76), ("1", 0.84), ("2", 0.92), ("3", 1.0))


def draw_phone(r: Draw, target: Target) -> tuple[str, int, str, str]:
    """(kind, format, area code, number): mostly mobiles, sometimes a landline of the city."""
    if r() < 0.75:
        fmt = int(pick_cumulative(r, MOBILE_FORMATS_CUMULATIVE))
        return "mobile", fmt, "", pick(r, MOBILE_PREFIXES) + draw_digits(r, 8)
    area = area_code(target)
    # Three-digit area codes are the big cities, whose local numbers all have 8 digits.
    length = 8 if len(area) == 3 or r() < 0.7 else 7
    local = "2345678"[int(r() * 7)] + draw_digits(r, length - 1)
    return "landline", 0 if r() < 0.75 else 1, area, local


# ---------------------------------------------------------------------------------------------
# Parquet output
# ---------------------------------------------------------------------------------------------

SCHEMA = pa.schema([(name, pa.string()) for name in COLUMNS])


def write_records(path: str, n: int, seed: int, error_rate: float, rows_per_file: int,
                  kind_weights: dict[str, float] | None = None, progress_every_s: float = 30.0) -> list[str]:
    """Write rows [0, n) as part-00000.parquet, ... under `path`, rows_per_file rows per file,
    logging progress (records/s, ETA) every progress_every_s seconds.

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
    progress = Progress(n, unit="records", every_s=progress_every_s, what=f"{out.name}:", log=logger)
    for k, file in enumerate(paths):
        start = k * rows_per_file
        frame = generate_records(min(rows_per_file, n - start), seed, error_rate, start, kind_weights)
        pq.write_table(pa.Table.from_pandas(frame, schema=SCHEMA, preserve_index=False), file)
        logger.debug("wrote %s (%d rows)", file, len(frame))
        progress.advance(len(frame))
    return [str(p) for p in paths]
