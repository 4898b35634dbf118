"""Real addresses as the base of generated records (records.py, `real_share`).

    import random
    from rayscore.addresses.real_bases import draw_real_base, real_target
    from rayscore.addresses.targets import load_tables
    r = random.Random(0).random
    base = draw_real_base(r)          # a RealBase: admin names, town, detail parts, places
    target = real_target(r, load_tables(), base)

The rule, as docs/demo.md states it:

- Candidates are the `train` part of both corpora (real.py), pooled, so each corpus is drawn in
  proportion to its size (cpca about 8,400 addresses, geocoding about 5,000). The `measure` part
  is never read here.
- A candidate is a correct base when, wrapped as a record (a name, the address, a mobile), the
  address checks (checks.py) raise no flag other than the missing postcode, every admin name is
  read as a known name (exact or short form), the names are written back to back or with one
  separator so the parts write back exactly the address, a detail follows them, and it holds
  no field separator, nor a province, city or county name of its own again in the detail.
  Anything else is drawn again (a few times, then a generated base).
- A delivery platform's restated prefix (河南洛阳洛龙区中国河南洛阳洛龙区安乐镇【军民路】, most
  of the e-commerce corpus) is kept as written: the base is the address after it, read as
  above, and every record built on it writes the prefix first, unchanged. Its error kinds edit
  the address after the prefix, as a person typing it would.
- The place it is about: the deepest name the reading resolves (a county gives its Target, a
  city or province a Target under it, a town its county); a name the other names do not
  resolve (朝阳区 alone) one of its places; no name read, the province its province or city
  names anywhere in the text point to (names of two provinces: not a base); no place named
  at all, any Target. The record's name, postcode and phone are drawn for that Target, so
  they never contradict what the address names.

A base is judged the first time it is drawn and remembered for the process: generating a few
thousand rows judges a few thousand candidates (about 0.2 ms each).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace

from rayscore.addresses.checks import AddressReport, flags_of, inspect
from rayscore.addresses.detail_corruptions import HOUSE_NUMBER_PART, ROAD_ENDINGS
from rayscore.addresses.divisions import CITY, PROVINCE, TOWN, short_name
from rayscore.addresses.draws import Draw, pick
from rayscore.addresses.real import CORPORA, real_addresses
from rayscore.addresses.targets import Tables, Target, load_tables

# Drawn again this many times when a candidate is no base, before giving up (rare).
MAX_CANDIDATE_DRAWS = 8
# The wrapped record the checks judge a candidate in; its missing postcode is not held against it.
WRAP = "张伟,{},电话:13812345678"
IGNORED_FLAGS = frozenset({"postcode_missing"})
FIELD_SEPARATORS = re.compile(r"[,，;；]")
ADMIN_SEPARATORS = ("", " ", "-")
# A platform's landmark hint closing the address: (大足汽车站附近), (黄荆乡(古蔺县)附近).
NEAR_HINT = re.compile(r"\s*[(（].*附近[)）]\s*$")
# The detail as parts: a number with its unit (12号, 3号楼, 502室, 1203) or the text between.
DETAIL_PART = re.compile(r"\d+(?:号院|号楼|号|栋|幢|座|单元|室)?|\D+")
# A part before a house number this short and ending as a road is the road alone (东滨路), not
# a compound and a road (the named part a garbage_road or duplicated_segment rewrites).
ROAD_PART_MAX = 6


@dataclass(frozen=True, slots=True)
class RealBase:
    """A real address read into the parts a Record is written from."""

    address: str
    admin: tuple[str, ...]
    levels: tuple[int, ...]
    town: str | None
    sep: str
    rest: tuple[str, ...]
    named: int                  # index of the road in rest, -1 when none is recognised
    named_suffix: str
    places: tuple[str, ...]     # codes of the places it may be about; () when it names none
    prefix: str = ""            # a platform's restated prefix, written before the address (河南洛阳洛龙区中国)


@functools.cache
def candidates() -> tuple[str, ...]:
    return tuple(a for corpus in CORPORA for a in real_addresses(corpus, "train"))


def draw_real_base(r: Draw) -> RealBase | None:
    """A real base drawn from the candidates (None when several draws in a row were none)."""
    pool = candidates()
    for _ in range(MAX_CANDIDATE_DRAWS):
        base = read_base(pool[int(r() * len(pool))])
        if base is not None:
            return base
    return None


@functools.cache
def read_base(address: str) -> RealBase | None:
    """The address as a base, or None when it is not a correct base (see the module docstring)."""
    if FIELD_SEPARATORS.search(address):
        return None
    report = inspect(WRAP.format(address))
    if not is_clean(report, address):
        return None
    restart = report.restart_at
    if restart:   # a platform's prefix, then the address as typed: the base is what follows it
        body = address[restart:]
        base = read_body(body, inspect(WRAP.format(body)))
        return None if base is None else replace(base, address=address, prefix=address[:restart])
    return read_body(address, report)


def is_clean(report: AddressReport, address: str) -> bool:
    """The wrapped address read whole, a detail after its names, and no flag raised."""
    return report.address == address and not set(flags_of(report)) - IGNORED_FLAGS and bool(report.detail)


def read_body(address: str, report: AddressReport) -> RealBase | None:
    """An address with no restated prefix, and its report, as a base (None: not one)."""
    if not is_clean(report, address) or any(not name.known for name in report.admin):
        return None
    detail = NEAR_HINT.sub("", report.detail)   # a landmark hint may name the county: (黄荆乡(古蔺县)附近)
    if any(n.written in detail for n in report.admin if n.level < TOWN):
        return None   # its own region again in the detail: not the shape a record is written in
    admin = tuple(n.written for n in report.admin if n.level < TOWN)
    levels = tuple(n.level for n in report.admin if n.level < TOWN)
    town = next((n.written for n in report.admin if n.level == TOWN), None)
    sep = writing_separator(address, admin, town, report.detail)
    places = base_places(report.admin, address)
    if sep is None or places is None:
        return None
    rest = tuple(DETAIL_PART.findall(report.detail))
    named, suffix = find_road(rest)
    return RealBase(address, admin, levels, town, sep, rest, named, suffix, places)


def writing_separator(address: str, admin: tuple[str, ...], town: str | None, detail: str) -> str | None:
    """The separator that writes the parts back as exactly the address (Record.address), if one does."""
    segments = list(admin) + ([town] if town else [])
    for sep in ADMIN_SEPARATORS:
        head = sep.join(segments)
        if (head + sep + detail if head else detail) == address:
            return sep
    return None


def find_road(rest: tuple[str, ...]) -> tuple[int, str]:
    for k in range(len(rest) - 1):
        part = rest[k]
        ending = next((e for e in ROAD_ENDINGS if part.endswith(e)), None)
        if ending and len(part) <= ROAD_PART_MAX and HOUSE_NUMBER_PART.fullmatch(rest[k + 1]):
            return k, ending
    return -1, ""


def base_places(names, address: str) -> tuple[str, ...] | None:
    """Codes of the places the address may be about; None when it names two provinces."""
    # A town counts only under the deepest name above it: a town the table files elsewhere (a
    # renamed street, 迎新街道 of another province) would give the record another province's postcode.
    admin = [n.code for n in names if n.code is not None and n.level < TOWN]
    deepest = max(admin, key=len, default=None)
    towns = [n.code for n in names if n.code is not None and n.level == TOWN
             and (deepest is None or n.code.startswith(deepest))]
    if towns or deepest:
        return (towns[-1] if towns else deepest,)
    if names:
        table = load_tables().table
        deepest = names[-1]
        return tuple(c for c in table.by_name.get(deepest.written, ()) if table.places[c].level == deepest.level)
    provinces = {code for name, code in region_names().items() if name in address}
    if len(provinces) > 1:
        return None
    return tuple(provinces)


@functools.cache
def region_names() -> dict[str, str]:
    """Every province and city name, full and short, with its province code."""
    out = {}
    for place in load_tables().table.places.values():
        if place.level in (PROVINCE, CITY):
            for name in (place.name, short_name(place)):
                if name:
                    out[name] = place.code[:2]
    return out


def real_target(r: Draw, tables: Tables, base: RealBase) -> Target | None:
    """The Target a real base's record is about: under one of its places, or any when it names none."""
    if not base.places:
        return pick(r, tables.targets)
    under = targets_under(pick(r, base.places))
    return pick(r, under) if under else None


@functools.cache
def targets_under(code: str) -> tuple[Target, ...]:
    """Targets at or under a place (a town: its county's; a skipped county: its city's; a code
    the table no longer has, such as a renamed county's: the place its code lies in)."""
    tables = load_tables()
    places = tables.table.places
    while code:
        if code not in places:
            code = code[:6] if len(code) > 6 else code[:-2]
            continue
        if places[code].level == TOWN:
            code = places[code].parent or ""
            continue
        found = targets_by_prefix().get(code)
        if found:
            return found
        code = places[code].parent or ""
    return ()


@functools.cache
def targets_by_prefix() -> dict[str, tuple[Target, ...]]:
    """Each province, city and county code (and the code a county is written under) -> the
    distinct Targets under it, in table order."""
    out: dict[str, dict[Target, None]] = {}
    for t in dict.fromkeys(load_tables().targets):
        code = t.division.code
        for prefix in (code[:2], code[:4], code[:6], t.city_code):
            out.setdefault(prefix, {})[t] = None
    return {k: tuple(v) for k, v in out.items()}
