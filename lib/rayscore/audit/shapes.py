"""Near-duplicate keys: records that differ only in a name, a number or spacing share one "shape",
so an audit budget buys different kinds of records rather than one kind many times.

    address_shape("张伟,北京市朝阳区阜通东大街6号,邮编:100102,电话:13812345678")
    # '北京市朝阳区阜通东大街0号|000000|00000000000'   (王芳 at number 8 has the same shape)
    text_shape("Room 12B, 3F")   # 'aaaa00a,0a'

Simple and explainable on purpose: a person reading two records of one shape sees why they
collapsed. A digit count still tells shapes apart (a 5-digit postcode is another shape than a
6-digit one), so a record that breaks a check by its length is never hidden behind a good one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from rayscore.addresses.fields import split_fields

_DIGIT = re.compile(r"\d")
_LATIN = re.compile(r"[A-Za-z]")
_SPACE = re.compile(r"\s+")


def text_shape(text: str) -> str:
    """The text with full-width forms folded (NFKC), digits as 0, Latin letters as a, no spaces."""
    text = unicodedata.normalize("NFKC", text)
    return _SPACE.sub("", _LATIN.sub("a", _DIGIT.sub("0", text)))


def address_shape(text: str) -> str:
    """An address record's shape: the name dropped (another person at the same kind of address is
    the same case), then address, postcode and phone each as text_shape. A text whose address is
    not found falls back to its text_shape."""
    _, address, postcode, phone = split_fields(text)
    if address is None:
        return text_shape(text)
    return "|".join(text_shape(part or "") for part in (address, postcode, phone))


def shape_key(dedupe: str) -> Callable[[str, str], str]:
    """(record id, text) -> the key near-duplicates share; `none` keys every row by its id."""
    if dedupe == "address_shape":
        return lambda _id, text: address_shape(text)
    if dedupe == "text_shape":
        return lambda _id, text: text_shape(text)
    if dedupe == "none":
        return lambda record_id, _text: record_id
    raise ValueError(f"pick.dedupe: unknown {dedupe!r} (address_shape, text_shape, none)")
