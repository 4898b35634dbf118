"""The Chinese characters a tokenizer must know for the address records.

    chars = common_chinese_chars()     # sorted, unique, CJK ideographs only

The set is: every character in the administrative table's names (cpca adcodes.csv), every
character the record generator can write (its tables in rayscore.addresses.records, 正确/错误 included),
and the 3755 level-1 common hanzi of GB2312, so ordinary text outside the generator is covered too.
"""

from __future__ import annotations

import functools

from rayscore.addresses.records import generator_characters, load_admin_table

# (first, last) code points of the CJK ideograph blocks: unified, extension A, compatibility,
# and extensions B..H in the supplementary planes.
CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0xF900, 0xFAFF), (0x20000, 0x323AF))


def is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in CJK_RANGES)


def gb2312_level1_chars() -> list[str]:
    """GB2312 level-1 hanzi: rows 0xB0..0xD7 x columns 0xA1..0xFE, minus the 5 unassigned cells."""
    chars = []
    for row in range(0xB0, 0xD8):
        for col in range(0xA1, 0xFF):
            try:
                chars.append(bytes((row, col)).decode("gb2312"))
            except UnicodeDecodeError:
                continue   # 0xD7FA..0xD7FE are empty in the standard
    return chars


@functools.cache
def common_chinese_chars() -> list[str]:
    """Sorted, de-duplicated CJK characters: admin names + generator output + GB2312 level 1."""
    chars = set(gb2312_level1_chars()) | generator_characters()
    chars.update(ch for name in load_admin_table().names for ch in name)
    return sorted(ch for ch in chars if is_cjk(ch))
