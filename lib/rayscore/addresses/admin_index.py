"""The division names an address can write, indexed once per process for reading addresses.

    from rayscore.addresses.admin_index import load_admin_index
    index = load_admin_index()                  # cached; ~0.3 s to build from divisions.py
    index.automaton.get("朝阳区").codes          # ('110105', '220104'): every place the name can be
    index.automaton.get("杭州").short            # True: a short form, never written as a full name

Two lookups: an Aho-Corasick automaton (pyahocorasick) of every full name and short form, and,
for near misses (海定区 for 海淀区), each name with one character masked, pooled by the name
written before it. admin_names.py reads an address with them.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass

import ahocorasick

from rayscore.addresses.divisions import CITY, COUNTY, TOWN, DivisionTable, Place, load_divisions, short_name

logger = logging.getLogger(__name__)

# Rows that only group counties; some systems write them (北京市市辖区朝阳区).
PLACEHOLDERS = ("市辖区", "省直辖县级行政区划", "自治区直辖县级行政区划")
# The peoples named in autonomous prefectures: what comes before them is the place (大理白族自治州).
ETHNIC_PREFECTURE = re.compile(r"(?:土家族|布依族|朝鲜族|哈尼族|景颇族|傈僳族|蒙古族|柯尔克孜|哈萨克|蒙古|白族|苗族|藏族|羌族|"
                               r"彝族|侗族|壮族|傣族|回族)+自治州$")
# Town-level names read as towns; other rows at that level (农场, 开发区) are left to the detail.
TOWN_NAME = re.compile(r"(?:街道|镇|乡|苏木|地区|办事处)$")
MAX_KEY_LENGTH = 24   # the longest name in the table (内蒙古赤峰高新技术产业开发区管理委员会红山产业园: 24)


@dataclass(frozen=True, slots=True)
class Entry:
    """One automaton key: a full name or short form and every place it can name."""

    length: int
    codes: tuple[str, ...]     # levels 1-3 (empty for a town-only name or a placeholder)
    towns: tuple[str, ...]     # level 4, only when the name is no level 1-3 name
    short: bool                # a short form (杭州), never a full name
    placeholder: bool          # 市辖区: skipped


@dataclass(frozen=True, slots=True)
class NearMiss:
    """A name as written in the table, found by the near-miss lookup (keyed by the name with one
    character masked)."""

    name: str
    code: str
    full: bool


class AdminIndex:
    """What reading an admin part needs from the division table, built once per process (~0.3 s)."""

    def __init__(self) -> None:
        table = load_divisions()
        self.level = {p.code: p.level for p in table.places.values()}
        self.name = {p.code: p.name for p in table.places.values()}
        self.parent = {p.code: p.parent or "" for p in table.places.values()}
        self.automaton = self.build_automaton(table)
        # parent code (None: nothing written before) -> {length: {name with one character masked: [NearMiss]}}
        self.misses = self.build_near_misses(table)
        self.miss_lengths = {p: sorted(v, reverse=True) for p, v in self.misses.items()}
        logger.debug("address checks: %d keys, %d near-miss pools", len(self.automaton), len(self.misses))

    def build_automaton(self, table: DivisionTable) -> ahocorasick.Automaton:
        automaton = ahocorasick.Automaton()
        for key, codes in written_names(table).items():
            admin = tuple(c for c in codes if self.level[c] < TOWN)
            if not admin and not TOWN_NAME.search(key):
                continue   # 经济技术开发区, XX农场: town-level rows that read like the detail part
            short = all(self.name[c] != key for c in codes)
            automaton.add_word(key, Entry(len(key), admin, () if admin else codes, short, False))
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


def written_names(table: DivisionTable) -> dict[str, tuple[str, ...]]:
    """Every name as written -> the places it names: the table's names and short forms, and the
    short forms people use for autonomous prefectures, leagues and prefectures (大理州 and 大理 for
    大理白族自治州, 锡林郭勒 for 锡林郭勒盟, 喀什 for 喀什地区)."""
    names = dict(table.by_name)
    for place in table.places.values():
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
            names[form] = tuple(sorted(set(names.get(form, ()) + (place.code,))))
    return names


@functools.cache
def load_admin_index() -> AdminIndex:
    return AdminIndex()
