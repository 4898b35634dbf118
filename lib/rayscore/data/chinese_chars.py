"""The Chinese characters a tokenizer is given on top of its vocabulary.

    chars = common_chinese_chars()     # GB2312's 3755 level-1 hanzi, sorted
    is_cjk("市")                        # True
    data_cjk_chars(texts)              # the CJK characters of some texts, sorted

English-centred vocabularies (MiniLM's) map most hanzi to [UNK]. A training run adds these
common characters and then every CJK character of its own training data (data_cjk_chars), so
the tokenizer reads the data whatever its domain; the saved tokenizer keeps them.
"""

from __future__ import annotations

import functools

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
    """GB2312 level-1 hanzi, sorted: the characters of ordinary modern Chinese text."""
    return sorted(gb2312_level1_chars())


def data_cjk_chars(texts) -> list[str]:
    """The CJK characters of `texts`, sorted: what a tokenizer must know to read that data."""
    return sorted({ch for text in texts for ch in (text or "") if is_cjk(ch)})
