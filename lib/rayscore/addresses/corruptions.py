"""The error kinds: one function per kind, each editing a correct record so exactly one thing is wrong.

    import random
    from rayscore.addresses.corruptions import CORRUPTIONS, ERROR_TYPES, suits
    from rayscore.addresses.records import build_correct_record
    from rayscore.addresses.targets import load_tables
    r, tables = random.Random(0).random, load_tables()
    record = build_correct_record(r, tables)
    if suits("admin_typo", record) and CORRUPTIONS["admin_typo"](r, tables, record):
        record.text()    # '颜毅,云南省红河哈尼族彝族自治州海自市芷村镇...': 蒙自市 -> 海自市

A corruption returns False, leaving the record untouched, when the record lacks the part it
corrupts; SUITS says beforehand which records a kind can apply to, so build_record (records.py)
draws until one suits. Each is honest: a "wrong" city really is not in the province, a typo or a
cut name is no known name, a road stripped of its 路 reads as no place, a wrong postcode or area
code belongs to another province, and nothing else changes with it (the town follows a swapped
county). The kinds work on a real base too (real_bases.py): its detail is split into parts, and
a kind that needs a part the base lacks (a named road, a town) is not drawn for it (SUITS).

The kinds are written beside the others of the part they corrupt: field_corruptions.py (name,
postcode, phone), admin_corruptions.py (the administrative names) and detail_corruptions.py (the
detail part). This module puts them in the order rows draw them and says which records each suits.
"""

from __future__ import annotations

from collections.abc import Callable

from rayscore.addresses.admin_corruptions import (
    conflict_slot,
    corrupt_admin_conflict,
    corrupt_admin_cut,
    corrupt_admin_order,
    corrupt_admin_typo,
    corrupt_city_not_in_province,
    corrupt_digits_in_admin,
    corrupt_district_not_in_city,
    has_city_above_county,
    has_city_or_county,
    has_province_and_city,
    has_two_admin_names,
    order_slots,
    typo_slots,
)
from rayscore.addresses.detail_corruptions import (
    corrupt_bad_house_number,
    corrupt_contact_in_address,
    corrupt_duplicated_segment,
    corrupt_garbage_road,
    corrupt_number_junk,
    corrupt_pasted_detail,
    corrupt_road_no_suffix,
    corrupt_stops_at_town,
    corrupt_truncated_address,
    has_named_part,
    house_number_slots,
    number_slots,
    road_slots,
    stops_before_detail,
)
from rayscore.addresses.draws import Draw
from rayscore.addresses.field_corruptions import (
    corrupt_area_code_region,
    corrupt_bad_name,
    corrupt_missing_field,
    corrupt_mobile_prefix,
    corrupt_phone_length,
    corrupt_phone_nondigit,
    corrupt_postcode_length,
    corrupt_postcode_region,
    names_a_region,
)
from rayscore.addresses.record_parts import Record
from rayscore.addresses.targets import Tables

# The kinds in the order a wrong row draws them (by index): reordering changes every wrong row.
ERROR_TYPES = (
    "postcode_length",       # 5 or 7-8 digits
    "phone_nondigit",        # letters or symbols in the phone
    "phone_length",          # mobile not 11 digits, landline local number not 7-8
    "digits_in_admin",       # digits between or inside the administrative names: 北京市1234海淀区
    "garbage_road",          # symbols as the road or POI name: #?@!路
    "city_not_in_province",  # a real city of another province
    "district_not_in_city",  # a real county or district of another city
    "missing_field",         # name, postcode or phone dropped
    "truncated_address",     # address stops after the city or county
    "duplicated_segment",    # an admin level (朝阳区朝阳区) or the road written twice
    "bad_name",              # the name is junk: digits, latin letters, symbols, 啊啊啊
    "admin_typo",            # one character of the city or county changed: 海定区
    "admin_conflict",        # another name of the same level beside the city or county: 北京市朝阳区海淀区
    "admin_order",           # two adjacent levels swapped: 西湖区杭州市, 杭州市浙江省西湖区
    "admin_cut",             # an inner character of the city or county dropped: 门头沟区 -> 门头区 (if unknown)
    "number_junk",           # a latin letter or symbol inside a house or room number: 12a3号, 5@02室
    "bad_house_number",      # a house number that cannot be one: 0号, 05号, 123456号
    "pasted_detail",         # another place's city, county and detail pasted after the detail
    "road_no_suffix",        # a road without its 路/街/巷/大道: 人民8号
    "postcode_region",       # a 6-digit postcode of another province
    "area_code_region",      # a landline with another province's area code
    "mobile_prefix",         # a mobile starting with a prefix no operator has: 140, 154, 194
    "stops_at_town",         # the address stops at the town: admin names + town, no detail
    "contact_in_address",    # a phone number or a person's name written inside the address
)


CORRUPTIONS: dict[str, Callable[[Draw, Tables, Record], bool]] = {
    "postcode_length": corrupt_postcode_length,
    "phone_nondigit": corrupt_phone_nondigit,
    "phone_length": corrupt_phone_length,
    "digits_in_admin": corrupt_digits_in_admin,
    "garbage_road": corrupt_garbage_road,
    "city_not_in_province": corrupt_city_not_in_province,
    "district_not_in_city": corrupt_district_not_in_city,
    "missing_field": corrupt_missing_field,
    "truncated_address": corrupt_truncated_address,
    "duplicated_segment": corrupt_duplicated_segment,
    "bad_name": corrupt_bad_name,
    "admin_typo": corrupt_admin_typo,
    "admin_conflict": corrupt_admin_conflict,
    "admin_order": corrupt_admin_order,
    "admin_cut": corrupt_admin_cut,
    "number_junk": corrupt_number_junk,
    "bad_house_number": corrupt_bad_house_number,
    "pasted_detail": corrupt_pasted_detail,
    "road_no_suffix": corrupt_road_no_suffix,
    "postcode_region": corrupt_postcode_region,
    "area_code_region": corrupt_area_code_region,
    "mobile_prefix": corrupt_mobile_prefix,
    "stops_at_town": corrupt_stops_at_town,
    "contact_in_address": corrupt_contact_in_address,
}
assert tuple(CORRUPTIONS) == ERROR_TYPES
# What a record needs for a kind to apply to it (the other kinds apply to every record). After a
# platform's prefix (real bases) the region is already written right: a typo, cut, stray or
# reordered name in what the person typed after it leaves the address clear, so those kinds are
# not errors there and are not drawn for it.
SUITS: dict[str, Callable[[Record], bool]] = {
    "digits_in_admin": has_two_admin_names,
    "city_not_in_province": has_province_and_city,
    "district_not_in_city": has_city_above_county,
    "truncated_address": has_city_or_county,
    "admin_typo": lambda rec: bool(typo_slots(rec)) and not rec.prefix,
    "garbage_road": has_named_part,
    "duplicated_segment": lambda rec: bool(rec.admin) or has_named_part(rec),
    "admin_conflict": lambda rec: conflict_slot(rec) is not None and not rec.prefix,
    "admin_order": lambda rec: bool(order_slots(rec)) and not rec.prefix,
    "admin_cut": lambda rec: bool(typo_slots(rec)) and not rec.prefix,
    "number_junk": lambda rec: bool(number_slots(rec)),
    "bad_house_number": lambda rec: bool(house_number_slots(rec)),
    "pasted_detail": lambda rec: has_city_or_county(rec) and bool(rec.rest),
    "road_no_suffix": lambda rec: bool(road_slots(rec)),
    "postcode_region": lambda rec: rec.postcode is not None and names_a_region(rec),
    "area_code_region": lambda rec: rec.phone_kind == "landline" and names_a_region(rec),
    "mobile_prefix": lambda rec: rec.phone_kind == "mobile",
    "stops_at_town": stops_before_detail,
    "contact_in_address": lambda rec: bool(rec.rest),
}


def suits(kind: str, rec: Record) -> bool:
    """Whether `kind` can corrupt `rec`: it holds the part that kind needs (SUITS)."""
    needs = SUITS.get(kind)
    return needs is None or needs(rec)
