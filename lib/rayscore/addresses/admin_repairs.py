"""Repairs of a chain that stops before a county: junk removed from between or inside the
names, a near miss or a cut name read as the name it stands for.

    from rayscore.addresses.admin_repairs import read_repaired
    chain, junk, misses = read_repaired("北京市1234海淀区阜通东大街6号")
    junk, chain.text[chain.stop:]   # ('1234', '阜通东大街6号')

At most MAX_REPAIRS repairs: digits or symbols between or inside the names removed
(北京市1234海淀区), a name one character from a known name under the same parent read as that
name (海定区: match "typo"; 富阳市 for 富阳区: "renamed"), or one character short of it (门头区 for
门头沟区, 赤峰市元宝区 for 元宝山区: "cut"). A repair is kept only when the names then nest and,
where it is not sure by itself, the next name confirms it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rayscore.addresses.admin_chain import (
    SEPARATORS,
    Chain,
    Element,
    admin_count,
    inconsistent,
    is_under,
    read_chain,
    skip_separators,
)
from rayscore.addresses.admin_index import MAX_KEY_LENGTH, NearMiss, load_admin_index
from rayscore.addresses.divisions import COUNTY, TOWN

# A numbered part of a district (深圳市宝安45区: 宝安区's 45区), not digits inside its name.
NUMBERED_AREA = re.compile(r"[0-9]{1,3}区")
# Digits, latin letters and symbols: never part of a division name.
JUNK = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff" + re.escape("".join(sorted(SEPARATORS))) + "]+")
SUFFIXES = frozenset("省市区县旗州盟")
# Units renamed between these suffixes (富阳市 -> 富阳区, 宝安县 -> 宝安区): an old name, not a typo.
RENAMED_SUFFIXES = frozenset("区县市")
# Words for parts of a city, written where a county goes: one character from a county name
# (老城区 / 东城区, 高新区 / 高明区) they are a typo only if the name after them confirms it.
AREA_WORDS = frozenset({"高新区", "经开区", "开发区", "保税区", "工业区", "商业区", "度假区", "中心区", "商务区",
                        "核心区", "自贸区", "老城区", "新城区", "主城区", "旧城区", "城东区", "城西区", "城南区",
                        "城北区", "城中区"})
# How far after where reading stopped digits are looked for, to find them inside a name.
NAME_SPAN = MAX_KEY_LENGTH
MAX_REPAIRS = 2


def can_repair(chain: Chain) -> bool:
    """A repair is tried where reading stopped before a county (or a town) was reached."""
    if chain.cut or chain.stop >= len(chain.text):
        return False
    if not chain.elements:
        return True
    last = chain.elements[-1]
    return not last.entry.towns and min(load_admin_index().level[c] for c in last.entry.codes) < COUNTY


def repair_points(chain: Chain) -> list[tuple[int, Element | None]]:
    """(where a name may start, the name written before it): where reading stopped; after a short
    form cut off there (浙江 in 浙江杭洲西湖区, 四川 in 四川成56都); and at a short form read last,
    which may begin a longer name (甘孜 of 甘孜海族自治州)."""
    last = chain.elements[-1] if chain.elements else None
    points = [(chain.stop, last)]
    pending = chain.pending
    if pending and (last is None or min(load_admin_index().level[c] for c in pending.entry.codes) > last.level):
        points.insert(0, (skip_separators(chain.text, pending.end), pending))
    if last is not None and last.entry.short:
        points.append((last.start, chain.elements[-2] if len(chain.elements) > 1 else None))
    return points


def repair_junk(chain: Chain) -> tuple[Chain, str] | None:
    """The chain read again without digits or symbols that split or interrupt the names.

    Accepted only when it then reads more names, they nest, and the junk lay between or inside
    them (北京市1234海淀区, 浙江省杭12州市): digits after the last name are a house number."""
    text = chain.text
    junk = JUNK.search(text, chain.stop, chain.stop + NAME_SPAN)
    if junk is None or NUMBERED_AREA.match(text, junk.start()):
        return None
    a, b = junk.span()
    automaton = load_admin_index().automaton
    starts = [start for start, _ in repair_points(chain)]
    if chain.elements:   # the junk may split the last name read (巴彦淖尔63市: 巴彦淖尔 was read)
        starts.append(chain.elements[-1].start)
    starts = list(dict.fromkeys(starts))
    for start in starts:
        if start > a:
            continue
        # What stands before the junk must begin a name (南京 of 南京1市), or be nothing and a
        # name follow it (北京市1234海淀区).
        stem = text[start:a].rstrip("".join(SEPARATORS))
        if stem and (any(ch in SEPARATORS for ch in stem) or not automaton.match(stem)):
            continue
        if not stem:
            after = skip_separators(text, b)
            if after + 2 > len(text) or not automaton.match(text[after:after + 2]):
                continue
        again = read_chain(text[:a] + text[b:])
        named = [e for e in again.elements if e.level < TOWN]
        if admin_count(again) > admin_count(chain) and named and named[-1].end > a and not inconsistent(again):
            return again, junk.group()
    return None


def repair_near_miss(chain: Chain) -> tuple[Chain, Element, NearMiss, str] | None:
    """The chain read again with a near miss written as the name it is one character from.

    Under a known parent a near miss ending in a level suffix (海定区) is certain enough; any
    other (a short form, a changed last character, nothing written before) must be confirmed
    by the next name lying under the one it is near (杭洲西湖区)."""
    index = load_admin_index()
    text = chain.text
    for pos, parent_element in repair_points(chain):
        parents: tuple[str | None, ...] = parent_element.entry.codes if parent_element else (None,)
        for parent in parents:
            for length, candidates in candidate_misses(index, parent, text, pos):
                written = text[pos:pos + length]
                # Of several near names (楠阳市: 南阳市, 洛阳市, 信阳市 ...) the one the next name
                # lies in is meant; without such a name, the first sure one.
                fallback = None
                for miss in candidates:
                    again = read_chain(text[:pos] + miss.name + text[pos + length:])
                    end = pos + len(miss.name)
                    fixed = next((e for e in again.elements if e.start == pos and e.end == end), None)
                    if fixed is None or miss.code not in fixed.entry.codes:
                        continue
                    fixed.code, fixed.level = miss.code, index.level[miss.code]
                    if confirmed(again, fixed):
                        return again, fixed, miss, written
                    sure = parent is not None and miss.full and is_sure_near_miss(written, miss.name)
                    if fallback is None and sure:
                        fallback = again, fixed, miss, written
                if fallback:
                    return fallback
    return None


def repair_misplaced_cut(chain: Chain) -> tuple[Chain, Element, NearMiss, str] | None:
    """A county not in the city written before it, one character short of one that is, is that
    county cut short (赤峰市元宝区: 元宝区 is 丹东's, 赤峰's is 元宝山区), when sure or confirmed
    as a near miss is."""
    index = load_admin_index()
    text = chain.text
    for parent, e in zip(chain.elements, chain.elements[1:]):
        if e.level != COUNTY or parent.level >= COUNTY or any(is_under(p, c) for p in parent.entry.codes
                                                                  for c in e.entry.codes):
            continue
        written = text[e.start:e.end]
        for code in parent.entry.codes:
            for miss in index.cuts.get(code, {}).get(len(written), {}).get(written, ()):
                again = read_chain(text[:e.start] + miss.name + text[e.end:])
                end = e.start + len(miss.name)
                fixed = next((x for x in again.elements if x.start == e.start and x.end == end), None)
                if fixed is None or miss.code not in fixed.entry.codes:
                    continue
                fixed.code, fixed.level = miss.code, index.level[miss.code]
                if confirmed(again, fixed) or is_sure_near_miss(written, miss.name):
                    return again, fixed, miss, written
    return None


def candidate_misses(index, parent: str | None, text: str, pos: int) -> Iterator[tuple[int, list[NearMiss]]]:
    """(length written, the names it may stand for) at a position, longest first: a name with a
    character left out (杭市 for 杭州市, before 杭州 with its last character changed), then a
    name with one character changed."""
    pools = ((index.cut_lengths, index.cuts, cut_misses), (index.miss_lengths, index.misses, near_misses))
    for lengths, misses, find in pools:
        for length in lengths.get(parent, ()):
            written = text[pos:pos + length]
            if len(written) < length or JUNK.search(written) or any(ch in SEPARATORS for ch in written):
                continue
            found = find(misses[parent][length], written)
            if found:
                yield length, found


def is_sure_near_miss(written: str, name: str) -> bool:
    """Whether a name one character from a known one under the same parent is a typo even with
    nothing after it to confirm it: it ends in the level suffix of that name (or an old one:
    富阳市 for 富阳区) and is not an area word (老城区 is one character from 东城区, 高新区 from
    高明区). A changed suffix is not sure: 中山旗门府 is 中山 and a compound, not 中山市."""
    if len(written) < 3 or written[-1] not in SUFFIXES or written in AREA_WORDS:
        return False
    return written[-1] == name[-1] or is_renamed(written, name)


def is_renamed(written: str, name: str) -> bool:
    """An old suffix of a renamed unit (富阳市 -> 富阳区, 宝安县 -> 宝安区)."""
    return written[:-1] == name[:-1] and written[-1] in RENAMED_SUFFIXES and name[-1] in RENAMED_SUFFIXES


def near_misses(masks: dict[str, list[NearMiss]], written: str) -> list[NearMiss]:
    """The names one character from the written one; an old suffix first (揭东县 is 揭东区 renamed,
    not a typo of 揭西县)."""
    out = []
    for i in range(len(written)):
        for miss in masks.get(written[:i] + "\0" + written[i + 1:], ()):
            if miss.name != written:
                out.append(miss)
    return sorted(out, key=lambda m: not is_renamed(written, m.name)) if len(out) > 1 else out


def cut_misses(cuts: dict[str, list[NearMiss]], written: str) -> list[NearMiss]:
    return cuts.get(written, [])


def confirmed(chain: Chain, fixed: Element) -> bool:
    """Whether the name read right after a corrected one lies in it (杭州 then 西湖区)."""
    after = [e for e in chain.elements if e.start > fixed.start]
    if not after:
        return False
    nxt = after[0]
    return any(is_under(fixed.code, c) for c in (nxt.entry.codes or nxt.entry.towns))


Misses = dict[int, tuple[NearMiss, str]]   # start -> (the name it is near, as written)


def read_repaired(text: str) -> tuple[Chain, str | None, Misses]:
    """The chain with at most MAX_REPAIRS repairs: junk removed, near misses and cut names read
    as the names they stand for."""
    chain = read_chain(text)
    junk: str | None = None
    misses: Misses = {}
    for _ in range(MAX_REPAIRS):
        if not can_repair(chain):
            break
        # Junk first: removing it shifts positions, which a near miss found before would not follow.
        fixed_junk = repair_junk(chain) if junk is None and not misses else None
        if fixed_junk:
            chain, junk = fixed_junk
            continue
        fixed_miss = repair_near_miss(chain)
        if not fixed_miss:
            break
        chain, element, miss, written = fixed_miss
        misses[element.start] = (miss, written)
    if len(misses) < MAX_REPAIRS and (fixed_cut := repair_misplaced_cut(chain)):
        chain, element, miss, written = fixed_cut
        misses[element.start] = (miss, written)
    return chain, junk, misses


def miss_kind(miss: NearMiss, written: str) -> str:
    if miss.cut:
        return "cut"
    return "renamed" if is_renamed(written, miss.name) else "typo"
