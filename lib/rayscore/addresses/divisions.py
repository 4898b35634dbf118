"""China's administrative divisions down to towns and streets, as addresses are written.

    table = load_divisions()
    table.places["110105"]                  # Place(code, name="朝阳区", level=3, parent="11")
    table.lookup("朝阳区")                   # every place of that name (Beijing's and Liaoning's)
    table.chain("110105")                   # (北京市, 朝阳区): the places an address writes
    table.towns("110105")                   # 望京街道, 酒仙桥街道, ... (level 4)
    table.divisions                         # every county-level unit to address (the generator's)

The table is data/divisions.csv: the National Bureau of Statistics' 2023 division codes, taken
from modood/Administrative-divisions-of-China (WTFPL, data/LICENSE.divisions): 31 provinces,
342 cities, 2,978 counties and districts, 41,352 towns and streets. A code's length is its level:
2 province, 4 city (prefecture), 6 county or district, 9 town or street.

Written form differs from the table in three ways, all resolved here: municipalities write the
province as their city (北京市朝阳区, not 北京市市辖区朝阳区); county-level units under a
"省直辖县级行政区划" placeholder hang directly under the province (河南省济源市); and cities
without districts (东莞市, 儋州市) write towns right after the city (广东省东莞市虎门镇).

Addresses also write names no longer in the table (杭州市江干区, 山东省莱芜市): load_history()
gives the provinces, cities and counties named since 2010 (and a few renamed before) that the 2023
table does not, from data/divisions_history.csv.

    load_history()["330104"]                # FormerPlace(name="江干区", parent="3301", ..., successor="330102")
"""

from __future__ import annotations

import csv
import functools
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

DATA_FILE = Path(__file__).with_name("data") / "divisions.csv"
HISTORY_FILE = DATA_FILE.with_name("divisions_history.csv")
MUNICIPALITY_CODES = frozenset({"11", "12", "31", "50"})
# City-level rows that only group counties; never written in an address.
PLACEHOLDER_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
PROVINCE, CITY, COUNTY, TOWN = 1, 2, 3, 4
LEVEL_OF_CODE_LENGTH = {2: PROVINCE, 4: CITY, 6: COUNTY, 9: TOWN}
# Longest first: the short form of 广西壮族自治区 is 广西, not 广西壮族.
PROVINCE_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")


@dataclass(frozen=True)
class Place:
    """One division as it is written: its parent is the place written before it (placeholders skipped)."""

    code: str
    name: str
    level: int
    parent: str | None

    @property
    def province_code(self) -> str:
        return self.code[:2]


@dataclass(frozen=True)
class Division:
    """A county-level unit to address, with the names written before it."""

    province: str
    city: str        # the province again for 北京/上海/天津/重庆
    district: str    # "" for cities without districts (东莞市) and 省直辖县级 units (济源市)
    code: str        # code of the most specific level (4 digits for a city without districts)

    @property
    def is_municipality(self) -> bool:
        return self.code[:2] in MUNICIPALITY_CODES


@dataclass(frozen=True)
class DivisionTable:
    places: dict[str, Place]
    children: dict[str, tuple[str, ...]]     # code -> codes of the places written after it
    by_name: dict[str, tuple[str, ...]]      # full name or short form -> codes
    divisions: tuple[Division, ...]

    def lookup(self, name: str) -> tuple[Place, ...]:
        return tuple(self.places[c] for c in self.by_name.get(name, ()))

    def chain(self, code: str) -> tuple[Place, ...]:
        """The place and its written ancestors, outermost first."""
        out = []
        place: Place | None = self.places[code]
        while place is not None:
            out.append(place)
            place = self.places[place.parent] if place.parent else None
        return tuple(reversed(out))

    def towns(self, code: str) -> tuple[str, ...]:
        """Names of the towns and streets under a county-level unit (or a city without districts)."""
        return tuple(self.places[c].name for c in self.children.get(code, ()) if self.places[c].level == TOWN)

    def is_ancestor(self, ancestor: str, code: str) -> bool:
        place = self.places[code]
        while place.parent:
            if place.parent == ancestor:
                return True
            place = self.places[place.parent]
        return False

    def names(self) -> set[str]:
        return {p.name for p in self.places.values()}


@dataclass(frozen=True)
class FormerPlace(Place):
    """A name the 2023 table no longer has. Its code is the code it had: a place renamed in place
    (襄樊市 -> 襄阳市, both 4206) shares the current place's code, an abolished one (江干区 330104)
    keeps its own, so its former counties still lie in it by code."""

    first_year: int | None   # the earliest table naming it (2010: 2010 or before; None: an earlier renaming)
    last_year: int           # the last table naming it (or the year it was renamed)
    successor: str | None    # the 2023 place it became or mostly went to


def short_name(place: Place) -> str | None:
    """How people also write a province or city: 广西, 北京, 杭州. None when there is no safe short form."""
    if place.level == PROVINCE:
        for suffix in PROVINCE_SUFFIXES:
            if place.name.endswith(suffix) and len(place.name) - len(suffix) >= 2:
                return place.name[: -len(suffix)]
    if place.level == CITY and place.name.endswith("市") and len(place.name) >= 3:
        return place.name[:-1]
    # A county-level city right under its province (仙桃市, 石河子市: codes xx90xx) stands where a
    # city goes, and platforms shorten it as one (湖北仙桃仙桃市).
    if place.level == COUNTY and place.code[2:4] == "90" and place.name.endswith("市") and len(place.name) >= 3:
        return place.name[:-1]
    return None


def read_rows(path: Path = DATA_FILE) -> dict[str, str]:
    with path.open(encoding="utf-8") as f:
        return {row["code"]: row["name"] for row in csv.DictReader(f)}


@functools.cache
def load_divisions() -> DivisionTable:
    """The table, read once per process (about 0.2 s)."""
    return build_table(read_rows())


@functools.cache
def load_history(path: Path = HISTORY_FILE) -> dict[tuple[str, str], FormerPlace]:
    """The former names by (code, name): a code may have had two (平顶山市新城区, then another)."""
    out = {}
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            code, name = row["code"], row["name"]
            out[code, name] = FormerPlace(
                code, name, LEVEL_OF_CODE_LENGTH[len(code)], row["parent"] or None,
                int(row["first_year"]) if row["first_year"] else None, int(row["last_year"]), row["successor"] or None)
    return out


def build_table(rows: dict[str, str]) -> DivisionTable:
    places: dict[str, Place] = {}
    for code, name in rows.items():
        level = LEVEL_OF_CODE_LENGTH[len(code)]
        if (level == CITY and name in PLACEHOLDER_NAMES) or is_city_echo(code, rows):
            continue
        places[code] = Place(code, name, level, written_parent(code, level, rows))
    children: dict[str, list[str]] = defaultdict(list)
    by_name: dict[str, list[str]] = defaultdict(list)
    for place in places.values():
        if place.parent:
            children[place.parent].append(place.code)
        by_name[place.name].append(place.code)
        short = short_name(place)
        if short:
            by_name[short].append(place.code)
    return DivisionTable(
        places=places,
        children={k: tuple(sorted(v)) for k, v in children.items()},
        by_name={k: tuple(sorted(set(v))) for k, v in by_name.items()},
        divisions=tuple(build_divisions(places)),
    )


def written_parent(code: str, level: int, rows: dict[str, str]) -> str | None:
    """The code of the place written just before this one (see the module docstring)."""
    if level == PROVINCE:
        return None
    if level == CITY:
        return code[:2]
    if level == COUNTY:
        city = code[:4]
        if rows.get(city) in PLACEHOLDER_NAMES:
            return code[:2]
        return city
    return code[:4] if is_city_echo(code[:6], rows) else code[:6]


def is_city_echo(code: str, rows: dict[str, str]) -> bool:
    """441900 东莞市 only repeats its city 4419 东莞市: its towns hang under the city itself."""
    return len(code) == 6 and code.endswith("00") and rows.get(code[:4]) == rows.get(code)


def build_divisions(places: dict[str, Place]) -> list[Division]:
    """Every county-level unit (and every city without one) as a Division to address."""
    out = []
    with_counties = {p.parent for p in places.values() if p.level == COUNTY}
    for place in sorted(places.values(), key=lambda p: p.code):
        province = places[place.province_code].name
        if place.level == COUNTY and place.parent:
            parent = places[place.parent]
            if parent.level == PROVINCE:
                city, district = (province, place.name) if place.code[:2] in MUNICIPALITY_CODES else (place.name, "")
            else:
                city, district = parent.name, place.name
            out.append(Division(province, city, district, place.code))
        elif place.level == CITY and place.code not in with_counties:
            out.append(Division(province, place.name, "", place.code))
    return out
