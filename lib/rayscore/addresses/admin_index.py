"""The division names an address can write, indexed once per process for reading addresses.

    from rayscore.addresses.admin_index import load_admin_index
    index = load_admin_index()                  # cached; ~0.3 s to build from divisions.py
    index.automaton.get("朝阳区").codes          # ('110105', '220104'): every place the name can be
    index.automaton.get("杭州").short            # True: a short form, never written as a full name
    index.automaton.get("江干区").former         # ('330104',): a former name (divisions.load_history)
    index.now_name["330104"]                     # '上城区': what a former name is called now

Two lookups: an Aho-Corasick automaton (pyahocorasick) of every full name and short form, and,
for near misses (海定区 for 海淀区), each name with one character masked, pooled by the name
written before it. admin_chain.py and admin_repairs.py read an address with them.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick

from rayscore.addresses.divisions import (
    CITY,
    COUNTY,
    TOWN,
    DivisionTable,
    FormerPlace,
    Place,
    load_divisions,
    load_history,
    short_name,
)

logger = logging.getLogger(__name__)

# Rows that only group counties; some systems write them (北京市市辖区朝阳区).
PLACEHOLDERS = ("市辖区", "省直辖县级行政区划", "自治区直辖县级行政区划")
# The peoples named in autonomous prefectures, counties and banners: what comes before them is the
# place (大理白族自治州; 酉阳土家族苗族自治县, written day to day as 酉阳县).
PEOPLES = ("各族|土家族|布依族|朝鲜族|哈尼族|景颇族|傈僳族|仫佬族|毛南族|仡佬族|拉祜族|达斡尔族|鄂温克族|纳西族|普米族|"
           "独龙族|裕固族|保安族|撒拉族|东乡族|蒙古族|布朗族|哈萨克族|满族|回族|畲族|瑶族|黎族|苗族|侗族|壮族|羌族|彝族|"
           "藏族|傣族|佤族|白族|水族|土族|怒族|柯尔克孜|哈萨克|塔吉克|锡伯|蒙古")
ETHNIC_PREFECTURE = re.compile(rf"(?:{PEOPLES})+自治州$")
ETHNIC_COUNTY = re.compile(rf"(?:{PEOPLES})+自治([县旗])$")
# Town-level names read as towns; other rows at that level (农场, 开发区) are left to the detail.
TOWN_NAME = re.compile(r"(?:街道|镇|乡|苏木|地区|办事处)$")
# Short forms in common use that no suffix rule gives: 内蒙古自治区 shortens to 内蒙古, and to 内蒙;
# the districts everyone calls by a shorter name (包头's 昆区, 南京's 雨花区, 大连's 甘井区,
# 上海's 浦东区). A name cut the same way elsewhere is still a cut name.
COLLOQUIAL_SHORT = {"内蒙": "15", "昆区": "150203", "雨花区": "320114", "甘井区": "210211", "浦东区": "310115"}
MAX_KEY_LENGTH = 24   # the longest name in the table (内蒙古赤峰高新技术产业开发区管理委员会红山产业园: 24)


@dataclass(frozen=True, slots=True)
class Entry:
    """One automaton key: a full name or short form and every place it can name."""

    length: int
    codes: tuple[str, ...]     # levels 1-3 (empty for a town-only name or a placeholder), current places first
    towns: tuple[str, ...]     # level 4, only when the name is no level 1-3 name
    short: bool                # a short form (杭州), never a full name
    placeholder: bool          # 市辖区: skipped
    former: tuple[str, ...] = ()   # the codes it names by a name they no longer have (江干区, 襄樊)


@dataclass(frozen=True, slots=True)
class NearMiss:
    """A name as written in the table, found by the near-miss lookup (keyed by the name with one
    character masked)."""

    name: str
    code: str
    full: bool
    cut: bool = False   # found with one character deleted (门头区 for 门头沟区), not changed


class AdminIndex:
    """What reading an admin part needs from the division table, built once per process (~0.3 s)."""

    def __init__(self) -> None:
        table = load_divisions()
        history = load_history()
        # A former place renamed in place keeps the current place's entries; an abolished one has its own.
        gone = [p for p in history.values() if p.code not in table.places]
        places = [*table.places.values(), *gone]
        self.level = {p.code: p.level for p in places}
        self.name = {p.code: p.name for p in places}
        self.parent = {p.code: p.parent or "" for p in places}
        self.former_codes = frozenset(p.code for p in gone)
        # What a former name is called now: the same code's current name, or its successor's.
        self.now_name = {p.code: table.places[p.successor].name for p in gone if p.successor in table.places}
        self.now_name.update((p.code, self.name[p.code]) for p in history.values() if p.code in table.places)
        self.automaton = self.build_automaton(table, history)
        # parent code (None: nothing written before) -> {length: {name with one character masked: [NearMiss]}}
        self.misses = self.build_near_misses(table)
        self.miss_lengths = {p: sorted(v, reverse=True) for p, v in self.misses.items()}
        # parent code -> {length written: {name with one character deleted: [NearMiss]}}
        self.cuts = self.build_cuts(table)
        self.cut_lengths = {p: sorted(v, reverse=True) for p, v in self.cuts.items()}
        # Cities with no counties (东莞市, 中山市): their towns follow the city.
        self.countyless = frozenset(c for c, lv in self.level.items() if lv == CITY) - {
            self.parent[c] for c, lv in self.level.items() if lv == COUNTY}
        # (countyless city, the stem of a town's name) -> the town (东莞 东城 -> 东城街道)
        self.town_stems = {(p.parent, TOWN_NAME.sub("", p.name)): p.code for p in table.places.values()
                           if p.level == TOWN and p.parent in self.countyless}
        # A former place -> the 2023 place it became (its towns are there).
        self.successor = {p.code: p.successor for p in gone if p.successor}
        logger.debug("address checks: %d keys, %d near-miss pools", len(self.automaton), len(self.misses))

    def build_automaton(self, table: DivisionTable,
                        history: dict[tuple[str, str], FormerPlace]) -> ahocorasick.Automaton:
        automaton = ahocorasick.Automaton()
        current = written_names(table.places.values(), table.by_name)
        for key, code in COLLOQUIAL_SHORT.items():   # beside what it names already (长沙's 雨花区)
            add_name(current, key, code)
        former = written_names(history.values(), names_of(history.values()))
        full = {p.name for p in table.places.values()} | {p.name for p in history.values()}
        for key in current.keys() | former.keys():
            now = current.get(key, ())
            old = tuple(c for c in former.get(key, ()) if c not in now)
            codes = now + old
            admin = tuple(c for c in codes if self.level[c] < TOWN)
            if not admin and not TOWN_NAME.search(key):
                continue   # 经济技术开发区, XX农场: town-level rows that read like the detail part
            entry = Entry(len(key), admin, () if admin else codes, key not in full, False, old)
            automaton.add_word(key, entry)
        for key in PLACEHOLDERS:
            automaton.add_word(key, Entry(len(key), (), (), False, True))
        automaton.make_automaton()
        return automaton

    def build_near_misses(self, table: DivisionTable) -> dict[str | None, dict[int, dict[str, list[NearMiss]]]]:
        misses: dict[str | None, dict[int, dict[str, list[NearMiss]]]] = {}
        for place in table.places.values():
            if place.level == TOWN:
                continue
            written = [(place.name, True)] + [(s, False) for s in (short_name(place),) if s]
            for parent in [None] + near_miss_parents(place):
                by_length = misses.setdefault(parent, {})
                for text, full in written:
                    masks = by_length.setdefault(len(text), {})
                    for i in range(len(text)):
                        masks.setdefault(text[:i] + "\0" + text[i + 1:], []).append(NearMiss(text, place.code, full))
        return misses


    def build_cuts(self, table: DivisionTable) -> dict[str | None, dict[int, dict[str, list[NearMiss]]]]:
        """Full names with one character deleted, the suffix kept (门头区, 杭市, 浙省), pooled as near misses."""
        cuts: dict[str | None, dict[int, dict[str, list[NearMiss]]]] = {}
        for place in table.places.values():
            if place.level == TOWN or len(place.name) < 3:
                continue
            forms = {place.name[:i] + place.name[i + 1:] for i in range(len(place.name) - 1)}
            for parent in [None] + near_miss_parents(place):
                masks = cuts.setdefault(parent, {}).setdefault(len(place.name) - 1, {})
                for form in forms:
                    masks.setdefault(form, []).append(NearMiss(place.name, place.code, True, True))
        return cuts


def near_miss_parents(place: Place) -> list[str]:
    """Whose near-miss pool a place is in, besides the pool of nothing written before it.

    A city's: its counties. A province's: its cities, and the county-level units written
    straight after it (浙江省义乌市, 河南省济源市); a municipality's: its districts."""
    if place.level == CITY:
        return [place.code[:2]]
    if place.level != COUNTY:
        return []
    under_province = place.parent == place.code[:2]
    parents = [] if under_province else [place.code[:4]]
    if under_province or place.name.endswith("市"):
        parents.append(place.code[:2])
    return parents


def names_of(places: Iterable[Place]) -> dict[str, tuple[str, ...]]:
    """Full name or short form -> codes, as DivisionTable.by_name."""
    names: dict[str, set[str]] = {}
    for place in places:
        for key in (place.name, short_name(place)):
            if key:
                names.setdefault(key, set()).add(place.code)
    return {k: tuple(sorted(v)) for k, v in names.items()}


def written_names(places: Iterable[Place], by_name: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Every name as written -> the places it names: the names and short forms of by_name, and the
    short forms people use for autonomous prefectures, leagues and prefectures (大理州 and 大理 for
    大理白族自治州, 锡林郭勒 for 锡林郭勒盟, 喀什 for 喀什地区) and autonomous counties (酉阳县)."""
    names = dict(by_name)
    for place in places:
        county = ETHNIC_COUNTY.search(place.name) if place.level == COUNTY else None
        if county and county.start() >= 2:
            add_name(names, place.name[: county.start()] + county.group(1), place.code)
        if place.level != CITY:
            continue
        ethnic = ETHNIC_PREFECTURE.search(place.name)
        if ethnic:
            forms = [place.name[: ethnic.start()] + "州", place.name[: ethnic.start()]]
        elif place.name.endswith(("地区", "盟")):
            forms = [place.name.removesuffix("地区").removesuffix("盟")]
        else:
            continue
        for form in forms:
            add_name(names, form, place.code)
    return names


def add_name(names: dict[str, tuple[str, ...]], name: str, code: str) -> None:
    """`name` names `code` too, beside the places it named already."""
    names[name] = tuple(sorted(set(names.get(name, ())) | {code}))


@functools.cache
def load_admin_index() -> AdminIndex:
    return AdminIndex()
