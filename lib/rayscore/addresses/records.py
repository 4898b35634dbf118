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
trained on a few repeated templates does not learn (MISSION section 5).

A corrupted record (label 错误) is a correct record with exactly one of ERROR_TYPES applied; each
corruption is honest (a "wrong" city really is not in the province, a typo is not a known name).
Each row is a pure function of (seed, global row index), so chunks generated separately or in
parallel concatenate to exactly the rows of one call.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import logging
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rayscore.addresses.divisions import (
    CITY,
    COUNTY,
    PROVINCE,
    Division,
    DivisionTable,
    load_divisions,
    short_name,
)
from rayscore.data.pairs import CORRECT, WRONG

logger = logging.getLogger(__name__)

ERROR_TYPES = (
    "postcode_length",       # 5 or 7-8 digits
    "phone_nondigit",        # letters or symbols in the phone
    "phone_length",          # mobile not 11 digits, landline local number not 7-8
    "digits_in_admin",       # digits between or inside the administrative names: 北京市1234海淀区
    "garbage_road",          # symbols as the road or POI name: #?@!路
    "city_not_in_province",  # a real city of another province
    "district_not_in_city",  # a real county or district of another city
    "missing_field",         # name, postcode or phone dropped
    "truncated_address",     # address stops after the city or county
    "duplicated_segment",    # an admin level (朝阳区朝阳区), the town or the road written twice
    "bad_name",              # the name is junk: digits, latin letters, symbols, 啊啊啊
    "admin_typo",            # one character of the city or county changed: 海定区
)
NO_ERROR = "none"
COLUMNS = ("record_id", "text", "label", "error_type", "province", "city", "district")
# A row's random() callable: every choice for one row is drawn from it, in a fixed order.
Draw = Callable[[], float]
T = TypeVar("T")

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

# Divisions drawn more often than one in 2,978: big places have more addresses, and these are
# shapes of their own (municipalities; cities without counties write towns after the city).
DIVISION_WEIGHTS = {"东莞市": 70, "中山市": 45, "儋州市": 10}
MUNICIPALITY_WEIGHT = 2
# Not addressable: sea areas of 三沙, and 金门县 (no towns in the table).
SKIPPED_DISTRICT = re.compile(r"群岛|海域|^金门县$")
# Towns kept: ordinary names ending as towns do (drops 农场, 监狱, 开发区, names in brackets).
TOWN_NAME = re.compile(r"^(?!.*(?:开发区|园区|直属|乡镇))[\u4e00-\u9fff]{1,8}(?:街道|镇|乡|苏木|地区)$")

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
HONORIFICS = ("先生", "先生", "女士")
# Uyghur / Kazakh given names, written in pairs with "·" as on ID cards.
MINORITY_NAME_PARTS = (
    "阿卜杜", "热合曼", "买买提", "艾力", "阿不都", "吐尔逊", "古丽", "努尔", "阿依古丽", "迪丽拜尔",
    "帕提曼", "艾合买提", "热依拉", "依明", "托合提", "阿迪力", "玉苏甫", "麦麦提", "阿布都", "克里木",
    "沙吾提", "再努尔", "米吉提", "吾斯曼", "艾尔肯", "巴哈古丽", "加娜尔", "努尔兰", "叶尔兰", "哈力克",
    "阿力木", "塔依尔", "吾买尔", "伊力亚",
)
NAME_DOT = "·"
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
# County names that are also ordinary words (the urban area, the suburbs): 驻马店市城区 reads as
# "downtown 驻马店", so they are never the wrong county of district_not_in_city.
WORD_COUNTIES = frozenset({"城区", "郊区", "矿区", "东区", "西区"})
GARBAGE_SYMBOLS = "#?@!$%&*^~"
# Lookalike letters typed for digits (O for 0, l for 1), then letters and symbols. Never the
# characters a valid phone may hold: digits, "-", "+", " ", "(", ")".
PHONE_LOOKALIKES = {"0": "Oo", "1": "lI", "2": "Z", "5": "S", "6": "b", "8": "B", "9": "g"}
NONDIGIT_CHARS = "abcdefghijkmnopqrstuvwxyzABCDEFXO#*?@!$%"
JUNK_LATIN = ("abc", "xxx", "test", "asdf", "qwe", "null", "aaa", "zzz", "qq", "xyz", "abcd", "admin",
              "user", "NA", "XX", "ceshi", "sdf")
JUNK_SYMBOLS = "#?@!*~%&^"
JUNK_REPEATED = ("啊", "哈", "嗯", "哦", "呵", "x", "a", "1", "0", "某", "无")
# Confusions people really make in place names (same sound or shape); any other character is
# replaced from TYPO_FALLBACK.
TYPO_GROUPS = (
    "州洲舟周", "阳杨扬洋", "淀定靛", "江将姜", "山衫珊", "安按案", "京经晶", "宁凝柠", "城成程",
    "华化花", "庆青清", "武五午", "汉汗", "沙纱砂", "昌常倡", "兴星新", "河和合", "湖胡糊",
    "林琳霖", "海每", "南楠", "东冬", "西溪希", "明名鸣", "平萍坪", "泉全", "源元原园", "德得",
    "丰风峰枫", "台抬苔", "门们", "都督", "阴荫音", "义议益", "吉极即", "福富", "岳越", "余于鱼",
    "兰蓝", "桂贵", "连莲", "珠朱", "庄装", "通同桐", "襄香湘", "潭谈坛", "徐许", "鹤贺", "黄皇",
    "宜怡", "昆坤", "锡息", "鞍案", "莞管", "圳镇", "肥非", "滨宾", "春椿", "营赢", "芜无",
)
TYPO_FALLBACK = "东西南北中新安和平永兴长金龙江海山河城阳华明德福宁泰丰昌庆清源田湾洲港台水石林"


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
# The division table, prepared once for drawing
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A county-level unit to address, with everything a record about it needs precomputed."""

    division: Division
    province_short: str
    city_short: str | None        # None: no safe short form (自治州, 地区, 盟, municipalities)
    towns: tuple[str, ...]
    city_code: str                # the place the county is written under (province for 北京市)
    county_city: bool             # a county-level city under a prefecture: 浙江省义乌市 is written
    without_counties: bool        # 东莞市, 中山市, 儋州市, 嘉峪关市: towns follow the city

    @property
    def province_code(self) -> str:
        return self.division.code[:2]


@dataclass(frozen=True)
class Tables:
    table: DivisionTable
    targets: tuple[Target, ...]               # weighted: a target appears once per unit of weight
    by_province: dict[str, tuple[Target, ...]]
    with_district: tuple[Target, ...]
    outside_municipalities: tuple[Target, ...]
    county_cities: tuple[Target, ...]
    known_names: frozenset[str]               # every full name and short form in the table


@functools.cache
def load_tables() -> Tables:
    """The division table as the generator draws from it, built once per process."""
    table = load_divisions()
    targets = [t for d in table.divisions if (t := make_target(table, d)) is not None]
    weighted = [t for t in targets for _ in range(division_weight(t))]
    by_province: dict[str, list[Target]] = {}
    for t in targets:
        by_province.setdefault(t.province_code, []).append(t)
    logger.debug("%d targets (%d weighted) in %d provinces", len(targets), len(weighted), len(by_province))
    return Tables(
        table=table,
        targets=tuple(weighted),
        by_province={p: tuple(ts) for p, ts in by_province.items()},
        with_district=tuple(t for t in targets if t.division.district),
        outside_municipalities=tuple(t for t in targets if not t.division.is_municipality),
        county_cities=tuple(t for t in targets if t.county_city),
        known_names=frozenset(table.by_name),
    )


def make_target(table: DivisionTable, d: Division) -> Target | None:
    """The Target for a division, or None when it is not addressed (see SKIPPED_DISTRICT)."""
    if SKIPPED_DISTRICT.search(d.district):
        return None
    if d.district and d.city != d.province and d.district.startswith(d.city):
        # 唐山市汉沽管理区 after 唐山市 would read 唐山市唐山市...: a repeat in a correct record.
        return None
    place = table.places[d.code]
    if d.district == d.city:
        # 嘉峪关市 嘉峪关市: the county only echoes its city; written as a city without counties.
        d = Division(d.province, d.city, "", d.code)
    city_code = d.code if not d.district else place.parent or d.code[:2]
    city_place = table.places[city_code]
    province_short = short_name(table.places[d.code[:2]]) or d.province
    city_short = short_name(city_place) if city_place.level == CITY else None
    if city_short and d.district.startswith(city_short):
        city_short = None   # 长沙长沙县 reads as 长沙 written twice: the city goes in full
    if d.district.startswith(province_short):
        province_short = d.province   # 安徽安徽安庆经济开发区, likewise
    if city_short == province_short:
        # 吉林吉林市 reads as one name written twice: this province and city are written in full.
        province_short, city_short = d.province, None
    return Target(
        division=d,
        province_short=province_short,
        city_short=None if d.is_municipality else city_short,
        towns=tuple(n for n in table.towns(d.code) if TOWN_NAME.match(n) and not written_before(n, d)),
        city_code=city_code,
        county_city=bool(d.district.endswith("市") and city_place.level == CITY),
        without_counties=not d.district and city_place.level == CITY,
    )


def written_before(town: str, d: Division) -> bool:
    """端州区城西街道 (a few towns carry their county's name): written after 端州区 it repeats it."""
    return any(name and town.startswith(name) for name in (d.province, d.city, d.district))


def division_weight(t: Target) -> int:
    d = t.division
    if d.is_municipality:
        return MUNICIPALITY_WEIGHT
    return DIVISION_WEIGHTS.get(d.city, 1) if not d.district else 1


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------

JUNK = 0   # level of an admin entry that is not a name (digits_in_admin)


@dataclass
class Record:
    """A record's parts before it is written out; corruptions edit these in place."""

    target: Target
    name: str | None
    admin: list[str]              # administrative names as written (full or short)
    levels: list[int]             # PROVINCE, CITY, COUNTY (or JUNK) for each admin entry
    town: str | None
    sep: str                      # between admin levels and before the rest: "", " " or "-"
    rest: list[str]               # road, number, compound, building, ... concatenated
    named: int                    # index in rest of the named part (road, village, POI, compound)
    named_suffix: str             # that part's suffix, kept by garbage_road: 路, 村, 广场
    postcode: str | None
    phone: str | None
    phone_kind: str               # "mobile" or "landline"
    phone_format: int
    phone_area: str               # landlines only
    phone_number: str             # 11 digits (mobile) or the local number (landline)
    postcode_label: str
    phone_label: str
    field_sep: str
    postcode_first: bool
    shape: str = ""               # the admin shape it was drawn with (ADMIN_SHAPES)
    rest_shape: str = ""          # the rest shape it was drawn with (REST_SHAPES)
    duplicated: str = ""          # duplicated_segment only: what was written twice (admin, town, road)

    def copy(self) -> Record:
        out = Record(**{**self.__dict__})
        out.admin, out.levels, out.rest = list(self.admin), list(self.levels), list(self.rest)
        return out

    def address(self) -> str:
        segments = self.admin + [self.town] if self.town else self.admin
        head = self.sep.join(segments)
        tail = "".join(self.rest)
        return head + self.sep + tail if head and tail else head + tail

    def text(self) -> str:
        postcode = None if self.postcode is None else self.postcode_label + self.postcode
        phone = None if self.phone is None else self.phone_label + self.phone
        fields = [self.name, self.address()]
        fields += [postcode, phone] if self.postcode_first else [phone, postcode]
        return self.field_sep.join(f for f in fields if f is not None)

    def columns(self) -> tuple[str, str, str]:
        """province, city, district as written ("" when not written; 北京市 is both)."""
        found = {PROVINCE: "", CITY: "", COUNTY: ""}
        for name, level in zip(self.admin, self.levels):
            if level != JUNK and not found[level]:
                found[level] = name
        province, city, district = found[PROVINCE], found[CITY], found[COUNTY]
        if province and not city and self.target.division.is_municipality:
            city = province
        return province, city, district


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
    suits = SUITS.get(kind, _always)
    for _ in range(200):
        record = build_correct_record(r, tables)
        if suits(record) and (error_type == NO_ERROR or CORRUPTIONS[error_type](r, tables, record)):
            return record
    raise RuntimeError(f"{kind}: no suitable record in 200 draws")   # never in practice


def _pick(r: Draw, seq: Sequence[T]) -> T:
    return seq[int(r() * len(seq))]


def _pick_cumulative(r: Draw, table: Sequence[tuple[str, float]]) -> str:
    x = r()
    for name, upto in table:
        if x < upto:
            return name
    return table[-1][0]


def _digits(r: Draw, k: int) -> str:
    # One draw for all k digits: a double carries 53 random bits, plenty for k <= 8.
    return f"{int(r() * 10 ** k):0{k}d}"


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
    target = _pick(r, tables.targets)
    shape = draw_admin_shape(r, target)
    admin, levels = write_admin(r, target, shape)
    town = draw_town(r, target, shape)
    sep = _pick_cumulative(r, ADMIN_SEPARATORS_CUMULATIVE) if admin or town else ""
    rest_shape = _pick_cumulative(r, REST_SHAPE_CUMULATIVE)
    rest, named, suffix = write_rest(r, rest_shape)
    phone_kind, phone_format, area, number = draw_phone(r, target)
    colon = _pick(r, COLONS)
    record = Record(
        target=target, name=make_name(r), admin=admin, levels=levels, town=town, sep=sep,
        rest=rest, named=named, named_suffix=suffix, postcode=make_postcode(r, target),
        phone=render_phone(phone_kind, phone_format, area, number), phone_kind=phone_kind,
        phone_format=phone_format, phone_area=area, phone_number=number,
        postcode_label=_pick(r, POSTCODE_LABELS) + colon,
        phone_label=_pick(r, MOBILE_LABELS if phone_kind == "mobile" else LANDLINE_LABELS) + colon,
        field_sep=_pick(r, SEPARATORS), postcode_first=r() < 0.6, shape=shape, rest_shape=rest_shape,
    )
    return record


def draw_admin_shape(r: Draw, target: Target) -> str:
    if target.county_city and r() < COUNTY_CITY_SHARE:
        return "county_city"
    shape = _pick_cumulative(r, ADMIN_SHAPE_CUMULATIVE)
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
        return _pick(r, target.towns)
    return None


def write_rest(r: Draw, shape: str) -> tuple[list[str], int, str]:
    """(the parts after the town, index of the named part, its suffix) for a rest shape."""
    return REST_WRITERS[shape](r)


def _road(r: Draw) -> tuple[str, str]:
    stem = _pick(r, ROAD_WORDS) if r() < 0.4 else _place_word(r)
    suffix = _pick(r, ROAD_SUFFIXES)
    return stem + suffix, suffix


def _compound(r: Draw) -> tuple[str, str]:
    suffix = _pick(r, COMPOUND_SUFFIXES)
    return _place_word(r) + suffix, suffix


def _room(r: Draw) -> str:
    return f"{int(r() * 32) + 1}{int(r() * 4) + 1:02d}"


def _building_unit_room(r: Draw, always_building: bool = False) -> list[str]:
    parts = []
    if always_building or r() < 0.6:
        parts.append(f"{int(r() * 30) + 1}{_pick(r, BUILDING_SUFFIXES)}")
        if r() < 0.6:
            parts.append(f"{int(r() * 6) + 1}单元")
        if r() < 0.75:
            parts.append(_room(r) + ("室" if r() < 0.7 else ""))
    return parts


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
        stem = _pick(r, VILLAGE_SURNAMES) + _pick(r, VILLAGE_STEM_ENDINGS)
    else:
        stem = _pick(r, VILLAGE_SURNAMES) + "家" + _pick(r, ("湾", "庄", "坪", "沟", "岭", "坝"))
    parts = [stem + "村"]
    y = r()
    if y < 0.5:
        parts.append(f"{int(r() * 15) + 1}组")
        if r() < 0.3:
            parts.append(f"{_number(r, 120)}号")
    elif y < 0.75:
        parts.append(_pick(r, NATURAL_VILLAGES))
        if r() < 0.3:
            parts.append(f"{_number(r, 80)}号")
    else:
        parts.append(f"{_number(r, 200)}号")
    return parts, 0, "村"


def write_community(r: Draw) -> tuple[list[str], int, str]:
    suffix = _pick(r, COMMUNITY_SUFFIXES)
    return [_place_word(r) + suffix] + _building_unit_room(r, always_building=True), 0, suffix


def write_poi(r: Draw) -> tuple[list[str], int, str]:
    parts = []
    if r() < 0.35:
        parts += [_road(r)[0], f"{_number(r, 998)}号"]
    stem = _pick(r, POI_BRANDS) if r() < 0.4 else _place_word(r)
    suffix = _pick(r, POI_TYPES)
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
    parts = []
    if r() < 0.4:
        parts += [_road(r)[0], f"{_number(r, 998)}号"]
    named = len(parts)
    compound, suffix = _compound(r)
    parts += [compound, f"{int(r() * 30) + 1}#楼"]
    if r() < 0.6:
        parts.append(f"{int(r() * 6) + 1}单元")
    if r() < 0.8:
        parts.append(_room(r) + ("室" if r() < 0.5 else ""))
    return parts, named, suffix


def write_bare_room(r: Draw) -> tuple[list[str], int, str]:
    parts = []
    if r() < 0.4:
        parts += [_road(r)[0], f"{_number(r, 998)}号"]
    named = len(parts)
    compound, suffix = _compound(r)
    floor = int(r() * 33) + 1
    return parts + [compound, f"{floor}{int(r() * 8) + 1:02d}"], named, suffix


REST_WRITERS: dict[str, Callable[[Draw], tuple[list[str], int, str]]] = {
    "road": write_road, "yard": write_yard, "village": write_village, "community": write_community,
    "poi": write_poi, "hash_building": write_hash_building, "bare_room": write_bare_room,
}
assert tuple(REST_WRITERS) == REST_SHAPES


def make_name(r: Draw) -> str:
    x = r()
    if x < 0.88:
        given = 1 if r() < 0.3 else 2
        return _pick(r, SURNAMES) + "".join(_pick(r, GIVEN_NAME_CHARS) for _ in range(given))
    if x < 0.965:
        return _pick(r, SURNAMES) + _pick(r, HONORIFICS)
    first = _pick(r, MINORITY_NAME_PARTS)
    second = _pick(r, MINORITY_NAME_PARTS)
    if second == first:
        second = MINORITY_NAME_PARTS[(MINORITY_NAME_PARTS.index(first) + 1) % len(MINORITY_NAME_PARTS)]
    return first + NAME_DOT + second


def make_postcode(r: Draw, target: Target) -> str:
    return _pick(r, POSTCODE_PREFIXES[target.province_code]) + _digits(r, 4)


def area_code(target: Target) -> str:
    d = target.division
    return CITY_AREA_CODES.get(d.city) or AREA_CODES[target.province_code]


# Mobile formats: plain, "+86 " first, 138-1234-5678, 138 1234 5678 (render_phone).
MOBILE_FORMATS_CUMULATIVE = (("0", 0.76), ("1", 0.84), ("2", 0.92), ("3", 1.0))


def draw_phone(r: Draw, target: Target) -> tuple[str, int, str, str]:
    """(kind, format, area code, number): mostly mobiles, sometimes a landline of the city."""
    if r() < 0.75:
        fmt = int(_pick_cumulative(r, MOBILE_FORMATS_CUMULATIVE))
        return "mobile", fmt, "", _pick(r, MOBILE_PREFIXES) + _digits(r, 8)
    area = area_code(target)
    # Three-digit area codes are the big cities, whose local numbers all have 8 digits.
    length = 8 if len(area) == 3 or r() < 0.7 else 7
    local = "2345678"[int(r() * 7)] + _digits(r, length - 1)
    return "landline", 0 if r() < 0.75 else 1, area, local


def render_phone(kind: str, fmt: int, area: str, number: str) -> str:
    if kind == "landline":
        return f"{area}-{number}" if fmt == 0 else f"({area}){number}"
    if fmt == 1:
        return "+86 " + number
    if fmt == 2:
        return f"{number[:3]}-{number[3:7]}-{number[7:]}"
    if fmt == 3:
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    return number


# ---------------------------------------------------------------------------------------------
# Corruptions: each edits a correct record in place so that exactly one thing is wrong, and
# returns False (leaving the record untouched) when the record lacks the part it corrupts.
# ---------------------------------------------------------------------------------------------


def _always(rec: Record) -> bool:
    return True


def has_two_admin_names(rec: Record) -> bool:
    return len(rec.admin) >= 2


def has_province_and_city(rec: Record) -> bool:
    """A city (or a county-level city straight after the province) to swap for another's."""
    return PROVINCE in rec.levels and not rec.target.division.is_municipality and len(rec.admin) >= 2


def has_city_above_county(rec: Record) -> bool:
    """A city written (北京市 counts), under which a county is or can be written."""
    if rec.shape == "county_city":
        return False
    return CITY in rec.levels or (rec.target.division.is_municipality and PROVINCE in rec.levels)


def has_city_or_county(rec: Record) -> bool:
    return CITY in rec.levels or COUNTY in rec.levels


def typo_slots(rec: Record) -> list[int]:
    """Admin entries a typo may change: a full city or county name, never the only admin name
    (琼每市 alone reads like a name the table lacks, to a check and to a reader)."""
    if len(rec.admin) < 2:
        return []
    d = rec.target.division
    return [k for k, (name, level) in enumerate(zip(rec.admin, rec.levels))
            if level in (CITY, COUNTY) and name in (d.city, d.district) and len(name) >= 3]


def corrupt_postcode_length(r: Draw, tables: Tables, rec: Record) -> bool:
    if r() < 0.4:
        rec.postcode = rec.postcode[:5]
    else:
        rec.postcode += _digits(r, 1 + int(r() * 2))
    return True


def corrupt_phone_nondigit(r: Draw, tables: Tables, rec: Record) -> bool:
    x = r()
    if x < 0.12:
        rec.phone = "".join(_pick(r, NONDIGIT_CHARS) for _ in range(3 + int(r() * 6)))
        return True
    chars = list(rec.phone_number)
    positions = [k for k, c in enumerate(chars) if c in PHONE_LOOKALIKES and k > 0]
    if x < 0.6 and positions:
        # Lookalike letters for digits (O for 0): the typing slip of a copied number.
        for _ in range(1 + int(r() * 2)):
            k = _pick(r, positions)
            chars[k] = _pick(r, PHONE_LOOKALIKES[rec.phone_number[k]])
    else:
        for _ in range(1 + int(r() * 2)):
            chars.insert(1 + int(r() * (len(chars) - 1)), _pick(r, NONDIGIT_CHARS))
    rec.phone = render_phone(rec.phone_kind, rec.phone_format, rec.phone_area, "".join(chars))
    return True


def corrupt_phone_length(r: Draw, tables: Tables, rec: Record) -> bool:
    number = rec.phone_number
    if rec.phone_kind == "mobile":
        valid = {11}
    else:
        valid = {7, 8}
    while True:
        if r() < 0.5:
            changed = number[: len(number) - 1 - int(r() * 3)]
        else:
            changed = number + _digits(r, 1 + int(r() * 2))
        if len(changed) not in valid:
            break
    rec.phone = render_phone(rec.phone_kind, rec.phone_format, rec.phone_area, changed)
    return True


def corrupt_digits_in_admin(r: Draw, tables: Tables, rec: Record) -> bool:
    # Always after the whole first name and before the last one begins, so a check sees known
    # names on both sides and the digits can never read as a house number.
    if not has_two_admin_names(rec):
        return False
    names = len(rec.admin)
    digits = _digits(r, 1 + int(r() * 4))
    inner = [k for k in range(1, names - 1) if len(rec.admin[k]) >= 2]
    if inner and r() < 0.35:
        k = _pick(r, inner)
        name = rec.admin[k]
        pos = 1 + int(r() * (len(name) - 1))
        rec.admin[k] = name[:pos] + digits + name[pos:]
    else:
        k = 1 + int(r() * (names - 1))
        rec.admin.insert(k, digits)
        rec.levels.insert(k, JUNK)
    return True


def corrupt_garbage_road(r: Draw, tables: Tables, rec: Record) -> bool:
    garbage = "".join(_pick(r, GARBAGE_SYMBOLS) for _ in range(2 + int(r() * 4)))
    if garbage.count("#") == len(garbage):
        garbage = "?" + garbage[1:]   # "##" next to a number could pass for 3#楼
    rec.rest[rec.named] = garbage + rec.named_suffix
    return True


def _exists_in_province(tables: Tables, name: str, province_code: str) -> bool:
    return any(p.code[:2] == province_code for p in tables.table.lookup(name))


def _exists_under(tables: Tables, name: str, code: str) -> bool:
    table = tables.table
    return any(p.code == code or table.is_ancestor(code, p.code) for p in table.lookup(name))


def _replace_town(r: Draw, rec: Record, other: Target) -> None:
    """The town must follow the new county, or the record would carry a second error."""
    if rec.town is not None:
        rec.town = _pick(r, other.towns) if other.towns else None


def corrupt_city_not_in_province(r: Draw, tables: Tables, rec: Record) -> bool:
    if not has_province_and_city(rec):
        return False
    province_code = rec.target.province_code
    if rec.shape == "county_city":
        # 浙江省义乌市 -> 浙江省昆山市: the written city is a county-level city; swap it for one.
        k = rec.levels.index(COUNTY)
        for _ in range(100):
            other = _pick(r, tables.county_cities)
            name = other.division.district
            if other.province_code != province_code and not _exists_in_province(tables, name, province_code):
                rec.admin[k] = name
                _replace_town(r, rec, other)
                return True
        return False
    k = rec.levels.index(CITY)
    short = rec.admin[k] != rec.target.division.city
    for _ in range(100):
        other = _pick(r, tables.outside_municipalities)
        city = other.city_short if short and other.city_short else other.division.city
        if other.province_code == province_code or _exists_in_province(tables, city, province_code):
            continue
        # Keep the county in step with the new city: only the province is then inconsistent.
        names = [city] + ([other.division.district] if other.division.district else [])
        del rec.admin[k:], rec.levels[k:]
        rec.admin += names
        rec.levels += [CITY, COUNTY][: len(names)]
        _replace_town(r, rec, other)
        return True
    return False


def corrupt_district_not_in_city(r: Draw, tables: Tables, rec: Record) -> bool:
    target = rec.target
    municipality = target.division.is_municipality
    if not has_city_above_county(rec):
        return False
    # Half the time a county of another city in the same province: the harder case. A
    # municipality has no other city, so it always borrows from anywhere.
    same_province = r() < 0.5 and not municipality
    pool = tables.by_province[target.province_code] if same_province else tables.with_district
    for _ in range(100):
        other = _pick(r, pool)
        name = other.division.district
        if (not name or name in WORD_COUNTIES or other.city_code == target.city_code
                or _exists_under(tables, name, target.city_code)):
            continue
        city_at = rec.levels.index(PROVINCE if municipality else CITY)
        del rec.admin[city_at + 1:], rec.levels[city_at + 1:]
        rec.admin.append(name)
        rec.levels.append(COUNTY)
        _replace_town(r, rec, other)
        return True
    return False


def corrupt_missing_field(r: Draw, tables: Tables, rec: Record) -> bool:
    dropped = int(r() * 3)
    if dropped == 0:
        rec.name = None
    elif dropped == 1:
        rec.postcode = None
    else:
        rec.phone = None
    return True


def corrupt_truncated_address(r: Draw, tables: Tables, rec: Record) -> bool:
    if not has_city_or_county(rec):
        return False
    rec.town = None
    rec.rest = []
    if COUNTY in rec.levels and CITY in rec.levels and r() < 0.3:
        k = rec.levels.index(COUNTY)
        del rec.admin[k:], rec.levels[k:]
    return True


def corrupt_duplicated_segment(r: Draw, tables: Tables, rec: Record) -> bool:
    # Never the municipality itself: 北京市北京市 is how some systems legitimately write it.
    admin = [k for k, level in enumerate(rec.levels)
             if not (level == PROVINCE and rec.target.division.is_municipality)]
    if admin and r() < 0.5:
        k = _pick(r, admin)
        rec.admin.insert(k + 1, rec.admin[k])
        rec.levels.insert(k + 1, rec.levels[k])
        rec.duplicated = "admin"
    elif rec.town is not None and r() < 0.5:
        # The town written twice: the separator goes between the copies as between levels.
        rec.town = rec.town + rec.sep + rec.town
        rec.duplicated = "town"
    else:
        rec.rest.insert(rec.named + 1, rec.rest[rec.named])
        rec.duplicated = "road"
    return True


def make_junk_name(r: Draw) -> str:
    x = r()
    if x < 0.2:
        return _digits(r, 3 + int(r() * 6))
    if x < 0.4:
        return _pick(r, JUNK_LATIN) + (_digits(r, 1 + int(r() * 3)) if r() < 0.3 else "")
    if x < 0.6:
        return "".join(_pick(r, JUNK_SYMBOLS) for _ in range(2 + int(r() * 3)))
    if x < 0.8:
        return _pick(r, JUNK_REPEATED) * (3 + int(r() * 3))
    # A surname and junk after it: 张123, 李abc.
    tail = _digits(r, 1 + int(r() * 3)) if r() < 0.5 else _pick(r, JUNK_LATIN)
    return _pick(r, SURNAMES) + tail


def corrupt_bad_name(r: Draw, tables: Tables, rec: Record) -> bool:
    rec.name = make_junk_name(r)
    return True


def _typo_candidates(ch: str) -> str:
    for group in TYPO_GROUPS:
        if ch in group:
            return group.replace(ch, "")
    return TYPO_FALLBACK.replace(ch, "")


def make_typo(r: Draw, tables: Tables, name: str) -> str | None:
    """`name` with one of its first characters changed into an unknown near miss, or None."""
    known = tables.known_names
    for _ in range(30):
        pos = int(r() * min(len(name) - 1, 3))
        pool = _typo_candidates(name[pos]) if r() < 0.8 else TYPO_FALLBACK.replace(name[pos], "")
        typo = name[:pos] + _pick(r, pool) + name[pos + 1:]
        # Not a known name, nor holding one across the changed character (航州 inside 航州市).
        if not any(typo[a:b] in known for a in range(pos + 1) for b in range(pos + 1, len(typo) + 1)
                   if b - a >= 2):
            return typo
    return None


def corrupt_admin_typo(r: Draw, tables: Tables, rec: Record) -> bool:
    slots = typo_slots(rec)
    if not slots:
        return False
    k = _pick(r, slots)
    typo = make_typo(r, tables, rec.admin[k])
    if typo is None:
        return False
    rec.admin[k] = typo
    return True


CORRUPTIONS: dict[str, Callable[[Draw, Tables, Record], bool]] = {
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
    "bad_name": corrupt_bad_name,
    "admin_typo": corrupt_admin_typo,
}
assert tuple(CORRUPTIONS) == ERROR_TYPES
# What a record needs for a kind to apply to it (the other kinds apply to every record).
SUITS: dict[str, Callable[[Record], bool]] = {
    "digits_in_admin": has_two_admin_names,
    "city_not_in_province": has_province_and_city,
    "district_not_in_city": has_city_above_county,
    "truncated_address": has_city_or_county,
    "admin_typo": lambda rec: bool(typo_slots(rec)),
}


# ---------------------------------------------------------------------------------------------
# Parquet output
# ---------------------------------------------------------------------------------------------

SCHEMA = pa.schema([(name, pa.string()) for name in COLUMNS])


def write_records(path: str, n: int, seed: int, error_rate: float, rows_per_file: int,
                  kind_weights: dict[str, float] | None = None) -> list[str]:
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
        frame = generate_records(min(rows_per_file, n - start), seed, error_rate, start, kind_weights)
        pq.write_table(pa.Table.from_pandas(frame, schema=SCHEMA, preserve_index=False), file)
        logger.info("wrote %s (%d rows)", file, len(frame))
    return [str(p) for p in paths]
