"""A part of an address below its administrative names written twice in a row (人民路人民路).

    from rayscore.addresses.admin_names import read_admin
    from rayscore.addresses.detail_repeats import detail_repeated
    reading = read_admin("北京市朝阳区人民路人民路8号")
    detail_repeated(reading.names, reading.detail)   # True
    reading = read_admin("广东省广州市天河区天河路8号")
    detail_repeated(reading.names, reading.detail)   # False: 天河 then 天河路, a name built on it

Copying is what a reward model is weak at and a regular expression is not. Repeats the words
only seem to make (开发区东区东众路), names built on the name before them (南桥南桥镇), a region
restated (重庆开县重庆开县) and a platform's town field joined to the address typed
(泉峰街道泉峰街道) are not repeats; checks.py raises detail_repeated.
"""

from __future__ import annotations

import re

from rayscore.addresses.admin_index import load_admin_index
from rayscore.addresses.admin_names import AdminName
from rayscore.addresses.divisions import TOWN
from rayscore.addresses.fields import HANZI

# Two or more hanzi written twice in a row (人民路人民路, 虎门镇虎门镇): copying is what a reward
# model is weak at and a regular expression is not; a single repeated hanzi (冬冬) is a name.
REPEATED_SPAN = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff]{2,24})\1")  # longer units are no one word


def detail_repeated(admin: tuple[AdminName, ...], detail: str) -> bool:
    """A part of the address below the administrative names written twice in a row (人民路人民路),
    the last name read included, but not a repeat inside that known name (萨克萨克街道 is a real
    town), and not a town written again right after itself (泉峰街道泉峰街道): that is how
    delivery platforms join their town field to the address a customer typed, which starts with
    the town again, and the address is deliverable."""
    last = admin[-1] if admin else None
    written = last.written if last else ""
    text, pos = written + detail, 0
    if last is not None and last.level == TOWN and detail.startswith(written):
        text = text[len(written):]
    while (match := REPEATED_SPAN.search(text, pos)) is not None:
        unit = match.group(1)
        if (match.end() > len(written) and not ADMIN_ENDING.search(unit) and not is_division_name(unit)
                and not across_words(text, match)):
            return True
        pos = match.start() + 1
    return False


def across_words(text: str, match: re.Match) -> bool:
    """A repeat the words only seem to make: it begins with the ending of the word before
    (开发区东区东众路: 区东区东), or a name is followed by a longer name built on it (天河天河路,
    南桥南桥镇, 西直门西直门外大街, 航空港空港四路). A whole word repeated (人民路人民路, 税务楼税务楼)
    is a repeat whatever follows."""
    unit = match.group(1)
    if unit[0] in ENDING_ONLY:
        return True
    follows = text[match.end():match.end() + 1]
    return bool(HANZI.match(follows)) and not WORD_ENDING.search(unit)


# Characters that end a word and seldom begin one (区, 路, 号; not 湾 or 城, which begin names).
ENDING_ONLY = "省市区县旗盟镇乡路号栋幢楼室座层巷弄"
# How the words of an address end (roads, numbers, buildings, villages, offices).
WORD_ENDING_CHARACTERS = ("省市区县旗州盟镇乡村组路街道巷弄号栋幢楼室座层苑园城厦场店院处局站所部"
                          "司馆庄屯湾里坊寓府居庭阁轩")
WORD_ENDING = re.compile(rf"(?:[{WORD_ENDING_CHARACTERS}]|中心|广场|花园|小区|公寓|市场|基地|集团|公司)$")


def is_division_name(text: str) -> bool:
    """A division's name or short form (重庆, 遵义): written twice, it is a region restated."""
    entry = load_admin_index().automaton.get(text, None)
    return entry is not None and bool(entry.codes)


# A span ending like a division's name (重庆开县重庆开县, 仙桃市仙桃市; not 兴锦社区, 马李工业区) repeats the region: a
# platform's restatement of names the table may not know (renamed in 2016), read as admin names,
# not as the detail written twice.
ADMIN_ENDING = re.compile(r"(?:[省市县旗盟州镇乡]|(?<![社小业园发校景厂营商宅展矿林农场])区|街道|地区)$")
