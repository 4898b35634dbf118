"""Reading the detail part of an address (what follows the administrative names): house numbers
that cannot be one, symbols that never belong in an address, and phone numbers pasted into it.

    from rayscore.addresses.detail import bad_house_numbers, junk_symbols, phone_in
    bad_house_numbers("人民路0号"), bad_house_numbers("3O1室")   # ('0号',), ('3O1室',)
    junk_symbols("#?@!路8号"), junk_symbols("601~603室")        # '?@!', ''
    phone_in("人民路8号13812345678")                            # '13812345678'

Only shapes no real address has are read as faults. Real addresses have leading zeros
(高新南四道018号), five-digit numbers (深南大道10168号) and letters in room numbers (13A03室,
3F-12, 502A, C6-408/411), so those are not faults; `#` (3#楼), `-`, `/` and brackets are
ordinary, and so are `~` and `&` before a number or letter (601~603室, 16层&22层, A&B栋).
"""

from __future__ import annotations

import re

# Symbols no address holds. `!`, `~` and `&` also end a note (丹竹大队！), span a range (601~603室)
# or join two parts (16层&22层, A&B栋), so alone they are text: junk only next to another symbol
# (#&路, ~~路). `|`, `\\` and `<>` are written as separators and brackets (9A\\B\\C, ＜世纪花园＞).
HARD_JUNK = "?？@＠$＄%％^＾*＊=＝\ufffd"
SOFT_JUNK = "!！~～&＆"
JUNK = HARD_JUNK + SOFT_JUNK
JUNK_CHARS = re.compile(f"[{re.escape(JUNK)}]")
SYMBOL_NEIGHBOURS = frozenset(JUNK + "#＃")

# A number's unit: what makes digits a house, building or room number (a zero floor, 0层, may be
# the ground floor, so ZERO_NUMBER leaves floors out).
UNIT = r"(?:号|室|栋|幢|座|单元|楼|层)"
# Zero as the whole number (0号, 000号): no house is numbered 0.
ZERO_NUMBER = re.compile(r"(?<![0-9A-Za-z\-－/.])0+(?:号|室|栋|幢|座|单元)")
# Letters inside a number: O and I between digits (3O1室, 9一3O2), as they are typed for 0 and 1
# and never name a room; a lowercase letter between digits before a unit (12a3号). Capitals are
# room letters (13A03室, 19F02号), and so is a lowercase one ending a number (12b栋, 2a508).
LETTER_IN_NUMBER = re.compile(rf"[0-9]+(?:[OI]+[0-9]+|[a-z]+[0-9]+{UNIT})")
# A symbol inside a number or between it and its unit (5@02室, 3?号楼, 8~号); not a range or a
# list (601~603室, 1&6号楼).
SYMBOL_IN_NUMBER = re.compile(rf"[0-9](?:[{re.escape(HARD_JUNK)}]+(?:[0-9]+{UNIT}?|{UNIT})"
                              rf"|[{re.escape(SOFT_JUNK)}]+{UNIT})")
# Six digits or more before 号 (698623号): the longest roads are numbered in the tens of thousands
# (深南大道10168号, 经十东路30766号); a leading zero (018号) is how some cities write them.
LONG_NUMBER = re.compile(r"(?<![0-9A-Za-z\-－/.#])[0-9]{6,}号(?![楼室房铺库位])")

# A mainland mobile (138 1234 5678 as people group it) or a landline with its area code, not
# inside a longer run of digits.
PHONE = re.compile(r"(?<![0-9])(?:1[3-9][0-9](?:[ \-]?[0-9]{4}){2}|(?:0[0-9]{2,3}-?|[(（]0[0-9]{2,3}[)）])[0-9]{7,8})"
                   r"(?![0-9])")


def bad_house_numbers(detail: str) -> tuple[str, ...]:
    """The house, building or room numbers that cannot be one, as written."""
    found = [m.group() for m in ZERO_NUMBER.finditer(detail)]
    found += [m.group() for m in LONG_NUMBER.finditer(detail)]
    found += [m.group() for m in LETTER_IN_NUMBER.finditer(detail)]
    found += [m.group() for m in SYMBOL_IN_NUMBER.finditer(detail)]
    return tuple(found)


def junk_symbols(detail: str) -> str:
    """The symbols that never belong in an address, outside a broken number (bad_house_numbers
    names that one), in order."""
    if not JUNK_CHARS.search(detail):
        return ""     # the common case, at the cost of one scan
    text = SYMBOL_IN_NUMBER.sub("", detail)
    return "".join(m.group() for m in JUNK_CHARS.finditer(text) if is_junk(text, m.start()))


def is_junk(text: str, pos: int) -> bool:
    if text[pos] == "?" and pos < len(text) - 1 and text[pos + 1].isalnum() and (pos == 0 or text[pos - 1].isalnum()):
        return False   # one ? before a word is a separator an encoding lost (复旦软件园?1号楼, 海淀区?王庄路)
    if text[pos] in HARD_JUNK:
        return True
    return any(0 <= k < len(text) and text[k] in SYMBOL_NEIGHBOURS for k in (pos - 1, pos + 1))


def phone_in(address: str) -> str | None:
    """A phone number written inside the address, or None."""
    m = PHONE.search(address)
    return m.group() if m else None


# A road's name runs straight into its house number (人民8号 for 人民路8号). Only names every
# reader knows as roads count (人民, 解放, 建设, with 东/西/南/北/中): a place name before a number
# is a real shape (上梅林16号, 山后赵57号, 大柳树17号, a village's house numbers).
COMMON_ROAD_NAMES = frozenset({
    "人民", "解放", "建设", "和平", "胜利", "友谊", "文化", "新华", "光明", "幸福", "团结", "青年", "东风", "红旗",
    "延安", "迎宾", "振兴", "复兴", "工业", "商业", "学府", "府前", "世纪", "富强", "民主", "环城", "滨江", "湖滨",
    "长江", "黄河", "朝阳", "江南", "金融", "创业",
})
DIRECTIONS = "东西南北中"
ROAD_NAME_BEFORE_NUMBER = re.compile(rf"([\u4e00-\u9fff]{{2}}[{DIRECTIONS}]?)[0-9]+号(?![楼铺])")


def road_name_cut_short(detail: str) -> str | None:
    """A common road name written straight before a house number at the start of the detail."""
    m = ROAD_NAME_BEFORE_NUMBER.match(detail)
    if m is None:
        return None
    stem = m.group(1)
    return stem if (stem[:2] in COMMON_ROAD_NAMES and (len(stem) == 2 or stem[2] in DIRECTIONS)) else None


# A person's name at the end of the address, after a number, a room, a shop or a building
# (…502室张伟, …3楼李总收, …2单元汪梓, …大厦钱杰丹): a surname (诸葛 too), then given-name
# characters or 先生/女士, maybe 收; or a minority name with its dot (迪丽拜尔·再努尔).
AFTER_A_UNIT = "0-9室号楼层栋幢座户元铺组厦店院村园"
NAME_AT_END = re.compile(rf"(?<=[{AFTER_A_UNIT}])\s?((?![{AFTER_A_UNIT}])[\u4e00-\u9fff]{{2,4}}?)(收)?$")
DOTTED_NAME_AT_END = re.compile(rf"(?<=[{AFTER_A_UNIT}])\s?[\u4e00-\u9fff]{{1,6}}·[\u4e00-\u9fff]{{1,6}}(收)?$")
HONORIFICS = ("先生", "女士")


# What a building or an estate is called, never a person (康田·凯旋国际, 科技·创意产业园).
PLACE_WORD = re.compile(r"国际|广场|大厦|花园|中心|公馆|家园|小区|公寓|[城苑府园湾居庭轩阁楼院里寓坊]")


def name_at_end(address: str, surnames: frozenset[str], given: frozenset[str]) -> str | None:
    """A name written at the end of the address, or None."""
    if (m := DOTTED_NAME_AT_END.search(address)) and not PLACE_WORD.search(m.group()):
        return m.group()
    m = NAME_AT_END.search(address)
    if m is None:
        return None
    name = m.group(1)
    for surname in (name[:2], name[:1]):
        rest = name[len(surname):]
        if surname in surnames and 1 <= len(rest) <= 2 and (rest in HONORIFICS or all(c in given for c in rest)):
            return m.group()
    return None
