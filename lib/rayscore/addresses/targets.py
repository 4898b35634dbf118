"""The division table prepared for drawing records: one Target per addressable county-level unit.

    from rayscore.addresses.targets import load_tables
    tables = load_tables()                          # cached: built once per process
    target = tables.by_province["33"][0]
    target.division.district, target.province_short, target.city_short, target.towns[:2]
    # ('上城区', '浙江', '杭州', ('清波街道', '湖滨街道'))

A Target carries what a record about it needs, worked out once: the short forms that are safe
to write (none where one would read as a name written twice), the towns that may follow it, the
place its county is written under. Tables weights the targets for drawing (big places have more
addresses) and pools them for the corruptions (corruptions.py) that borrow another place.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass

from rayscore.addresses.divisions import CITY, Division, DivisionTable, load_divisions, short_name

logger = logging.getLogger(__name__)

# Divisions drawn more often than one in 2,978: big places have more addresses, and these are
# shapes of their own (municipalities; cities without counties write towns after the city).
DIVISION_WEIGHTS = {"东莞市": 70, "中山市": 45, "儋州市": 10}
MUNICIPALITY_WEIGHT = 2
# Not addressable: sea areas of 三沙, and 金门县 (no towns in the table).
SKIPPED_DISTRICT = re.compile(r"群岛|海域|^金门县$")
# Towns kept: ordinary names ending as towns do (drops 农场, 监狱, 开发区, names in brackets).
TOWN_NAME = re.compile(r"^(?!.*(?:开发区|园区|直属|乡镇))[\u4e00-\u9fff]{1,8}(?:街道|镇|乡|苏木|地区)$")


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
    """The targets weighted for drawing, and the pools a corruption borrows another place from."""

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
