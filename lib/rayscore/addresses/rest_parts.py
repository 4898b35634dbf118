"""The part of an address after its town: road and house number, yard, village and 组, 社区,
a shop in a POI, 3#楼, a bare room number, each drawn from varied tables.

    from rayscore.addresses.rest_parts import write_rest
    parts, named, suffix = write_rest(random.Random(0).random, "road")
    "".join(parts)    # e.g. '金桥东路12号3号楼2单元1502室'; parts[named] is the road, suffix its 东路

Records (records.py) and the corruptions that paste another address's detail (corruptions.py)
both write these; everything that is not a division name is drawn from tables wide enough that
a model trained on the records cannot learn a few templates.
"""

from __future__ import annotations

from collections.abc import Callable

from rayscore.addresses.draws import Draw, pick
from rayscore.addresses.names import SURNAMES

REST_SHAPES = ("road", "yard", "village", "community", "poi", "hash_building", "bare_room")
REST_SHAPE_CUMULATIVE = (
    ("road", 0.50), ("yard", 0.58), ("village", 0.67), ("community", 0.79), ("poi", 0.89),
    ("hash_building", 0.945), ("bare_room", 1.0),
)


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


def _number(r: Draw, top: int) -> int:
    """1..top, small numbers far more common than large ones (as house numbers are)."""
    return int(r() ** 2 * top) + 1


def _place_word(r: Draw, chars: tuple[str, ...] = PLACE_CHARS, n: int = len(PLACE_CHARS)) -> str:
    # Inlined picks: this runs a few times per row and dominates the per-row cost.
    first = chars[int(r() * n)]
    second = chars[int(r() * n)]
    return first + (second if second != first else chars[(chars.index(first) + 1) % n])


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
