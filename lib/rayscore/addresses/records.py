"""Synthetic "digital-twin" Chinese address records, correct or carrying exactly one known error.

    df = generate_records(20_000, seed=0, error_rate=0.5)        # text, label 正确/错误, error_type ...
    more = generate_records(20_000, seed=0, start=20_000)        # the next rows, same as one call
    paths = write_records("data/addresses", n=5_000_000, seed=0, error_rate=0.5,
                          rows_per_file=500_000)                 # part-00000.parquet, ...

Records are written the way real ones are, in every shape the check set (checks.py) must read:

    张伟,北京市朝阳区望京街道阜通东大街6号院3号楼2单元502室,邮编:100102,联系电话:13812345678
    李女士，浙江义乌市稠城街道宾王商贸城3F-12，手机：+86 13957901234，邮政编码：322000
    阿卜杜·热合曼,广东省-东莞市-虎门镇-白沙村3组,电话:(0769)85123456,邮编:523900

Fields are a name, the address, then a postcode and a phone field in either order. The address
has an administrative part in one of the shapes people write (full, no province, a county-level
city right after its province, short forms, municipalities, a city without counties, starting at
the county or the town, none at all), levels joined by nothing, a space or "-"; a real town or
street of that county from the division table (divisions.py) or none; then one of the shapes of
the rest (road + 号, N号院, village + 组, 社区/小区, a shop in a POI, 3#楼, a bare room number).
Everything that is not a division name is drawn from varied tables, because a reward model
trained on a few repeated templates does not learn.

A record is drawn as parts (a Record, record_parts.py) about a county-level unit (a Target,
targets.py). A corrupted record (label 错误) is a correct record with exactly one of ERROR_TYPES
applied (corruptions.py); each corruption is honest (a "wrong" city really is not in the
province, a typo is not a known name). Each row is a pure function of (seed, global row index),
so chunks generated separately or in parallel concatenate to exactly the rows of one call.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import random
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rayscore.addresses.admin_corruptions import TYPO_FALLBACK, TYPO_GROUPS
from rayscore.addresses.corruptions import CORRUPTIONS, ERROR_TYPES, suits
from rayscore.addresses.detail_corruptions import (
    CONTACT_SUFFIX,
    GARBAGE_SYMBOLS,
    NUMBER_JUNK_LETTERS,
    NUMBER_JUNK_SYMBOLS,
)
from rayscore.addresses.divisions import CITY, COUNTY, PROVINCE
from rayscore.addresses.draws import Draw, draw_digits, pick, pick_cumulative
from rayscore.addresses.field_corruptions import (
    JUNK_LATIN,
    JUNK_REPEATED,
    JUNK_SYMBOLS,
    NONDIGIT_CHARS,
    PHONE_LOOKALIKES,
)
from rayscore.addresses.names import GIVEN_NAME_CHARS, HONORIFICS, MINORITY_NAME_PARTS, NAME_DOT, SURNAMES, make_name
from rayscore.addresses.numbering import AREA_CODES, CITY_AREA_CODES, DRAWN_MOBILE_PREFIXES, POSTCODE_PREFIXES
from rayscore.addresses.real_bases import draw_real_base, real_target
from rayscore.addresses.record_parts import Record, render_phone
from rayscore.addresses.rest_parts import (
    BUILDING_SUFFIXES,
    COMMUNITY_SUFFIXES,
    COMPOUND_SUFFIXES,
    NATURAL_VILLAGES,
    PLACE_CHARS,
    POI_BRANDS,
    POI_TYPES,
    REST_SHAPE_CUMULATIVE,
    ROAD_SUFFIXES,
    ROAD_WORDS,
    SHOP_WORDS,
    VILLAGE_STEM_ENDINGS,
    write_rest,
)
from rayscore.addresses.targets import Tables, Target, load_tables
from rayscore.data.pairs import CORRECT, WRONG
from rayscore.logs import Progress

logger = logging.getLogger(__name__)

NO_ERROR = "none"
COLUMNS = ("record_id", "text", "label", "error_type", "province", "city", "district", "base")
BASES = ("generated", "real")   # what a row is built on (the base column)

# ---------------------------------------------------------------------------------------------
# Shapes (names used by the tests and in the docs; the generator draws them with these shares)
# ---------------------------------------------------------------------------------------------

ADMIN_SHAPES = ("full", "no_province", "short", "county_city", "from_county", "from_town", "none")
# Drawn for every record whose county is not a county-level city (those take "county_city" with
# COUNTY_CITY_SHARE first). A municipality's "no_province" is its full form (北京市朝阳区). The
# shapes with few admin names are drawn more often than they end up: build_record keeps a record
# only if it suits a drawn error kind, and fewer kinds suit them.
ADMIN_SHAPE_CUMULATIVE = (
    ("full", 0.58), ("no_province", 0.71), ("short", 0.84), ("from_county", 0.90),
    ("from_town", 0.955), ("none", 1.0),
)
COUNTY_CITY_SHARE = 0.45
ADMIN_SEPARATORS_CUMULATIVE = (("", 0.8), (" ", 0.9), ("-", 1.0))
TOWN_SHARE = 0.6                  # a town or street is written
TOWN_SHARE_CITY_WITHOUT_COUNTIES = 0.92   # 东莞市虎门镇: the town is what locates the address

# ---------------------------------------------------------------------------------------------
# Character tables (exposed so chinese_chars can collect every character the generator emits)
# ---------------------------------------------------------------------------------------------

SEPARATORS = (",", ",", "，")
COLONS = (":", ":", "：")
POSTCODE_LABELS = ("邮编", "邮编", "邮政编码")
MOBILE_LABELS = ("联系电话", "电话", "手机", "手机号")
LANDLINE_LABELS = ("联系电话", "电话", "座机")
# Fixed words the text can contain besides the tables above (kept here for chinese_chars).
FIXED_WORDS = ("号", "号院", "单元", "室", "村", "组", "#楼", "+86 ", "()", CONTACT_SUFFIX, CORRECT, WRONG)

def generator_characters() -> set[str]:
    """Every character generate_records can write, apart from the division (and town) names."""
    tables = (SURNAMES, GIVEN_NAME_CHARS, HONORIFICS, MINORITY_NAME_PARTS, (NAME_DOT,), PLACE_CHARS,
              ROAD_WORDS, ROAD_SUFFIXES, COMPOUND_SUFFIXES, BUILDING_SUFFIXES, VILLAGE_STEM_ENDINGS,
              NATURAL_VILLAGES, COMMUNITY_SUFFIXES, POI_TYPES, POI_BRANDS, SHOP_WORDS, SEPARATORS,
              COLONS, POSTCODE_LABELS, MOBILE_LABELS, LANDLINE_LABELS, FIXED_WORDS, JUNK_LATIN,
              JUNK_REPEATED, TYPO_GROUPS, (TYPO_FALLBACK, GARBAGE_SYMBOLS, NONDIGIT_CHARS,
                                           JUNK_SYMBOLS, NUMBER_JUNK_LETTERS, NUMBER_JUNK_SYMBOLS,
                                           "0123456789- "),
              tuple(PHONE_LOOKALIKES.values()))
    return {ch for table in tables for word in table for ch in word}


# ---------------------------------------------------------------------------------------------
# The record stream
# ---------------------------------------------------------------------------------------------


def generate_records(n: int, seed: int = 0, error_rate: float = 0.5, start: int = 0,
                     kind_weights: dict[str, float] | None = None, real_share: float = 0.0) -> pd.DataFrame:
    """Rows [start, start+n) of the record stream for `seed`; see the module docstring.

    kind_weights: relative frequency of each error kind among the wrong records (a kind not
    named weighs 1; None: all kinds equally often, the stream's default).
    real_share: share of rows built on a real address (real_bases.py) instead of a generated one.

    Columns: record_id, text, label (正确/错误), error_type (one of ERROR_TYPES or "none"),
    province, city, district: the administrative names as the text writes them, short forms
    included ("" when not written; a municipality fills both province and city; 浙江省义乌市
    has city "" and district 义乌市), base (generated or real).
    """
    if n < 0 or start < 0:
        raise ValueError(f"n={n}, start={start}: both must be >= 0")
    for name, share in (("error_rate", error_rate), ("real_share", real_share)):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{name}={share}: must be within [0, 1]")
    tables = load_tables()
    rng = random.Random()
    cumulative = kind_cumulative(kind_weights)
    rows = [generate_row(rng, tables, seed, i, error_rate, cumulative, real_share) for i in range(start, start + n)]
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype(str)


def kind_cumulative(kind_weights: dict[str, float] | None) -> list[float] | None:
    """Cumulative shares of the error kinds, in ERROR_TYPES order (None: uniform)."""
    if not kind_weights:
        return None
    unknown = set(kind_weights) - set(ERROR_TYPES)
    if unknown or any(w < 0 for w in kind_weights.values()):
        raise ValueError(f"kind_weights: unknown kinds {sorted(unknown)} or negative weights; kinds are {ERROR_TYPES}")
    weights = [kind_weights.get(k, 1.0) for k in ERROR_TYPES]
    if not sum(weights):
        raise ValueError("kind_weights: at least one kind must weigh more than 0")
    return list(itertools.accumulate(w / sum(weights) for w in weights))


def generate_row(rng: random.Random, tables: Tables, seed: int, i: int, error_rate: float,
                 cumulative: list[float] | None = None, real_share: float = 0.0) -> tuple[str, ...]:
    # Re-seeding from (seed, index) makes every row independent of how the range is chunked;
    # an int key (unique per pair for |seed| < 2**63) seeds ~25% faster than a string.
    rng.seed((seed % 2**64) << 64 | i)
    r = rng.random
    error_type = NO_ERROR
    if r() < error_rate:
        u = r()
        error_type = (ERROR_TYPES[int(u * len(ERROR_TYPES))] if cumulative is None
                      else ERROR_TYPES[min(bisect.bisect_right(cumulative, u), len(ERROR_TYPES) - 1)])
    record = build_record(r, tables, error_type, real=r() < real_share)
    label = CORRECT if error_type == NO_ERROR else WRONG
    return (f"addr-{seed}-{i:09d}", record.text(), label, error_type, *record.columns(), record.base)


# Real bases tried for a row before it falls back to generated ones (a kind few real
# addresses suit, such as stops_at_town on a landline record, may find none).
REAL_BASE_ATTEMPTS = 40


def build_record(r: Draw, tables: Tables, error_type: str, real: bool = False) -> Record:
    """A correct record with `error_type` applied (none: as drawn), on a real base if `real`.

    Some corruptions need a part the drawn record lacks (a city to replace, two admin names to
    put digits between); then another correct record is drawn, from the same row's stream. A
    correct record is drawn the same way for a kind it is not given, so correct and wrong records
    have the same mix of shapes: no shape (an address without admin part) gives the label away.
    """
    kind = error_type if error_type != NO_ERROR else ERROR_TYPES[int(r() * len(ERROR_TYPES))]
    for attempt in range(200):
        record = None
        if real and attempt < REAL_BASE_ATTEMPTS:
            record = build_real_record(r, tables)
        if record is None:
            record = build_correct_record(r, tables)
        if suits(kind, record) and (error_type == NO_ERROR or CORRUPTIONS[error_type](r, tables, record)):
            return record
    raise RuntimeError(f"{kind}: no suitable record in 200 draws")   # never in practice


# ---------------------------------------------------------------------------------------------
# Correct records
# ---------------------------------------------------------------------------------------------


def build_correct_record(r: Draw, tables: Tables) -> Record:
    """A fully valid record; `r` is a random() callable seeded for this row."""
    target = pick(r, tables.targets)
    shape = draw_admin_shape(r, target)
    admin, levels = write_admin(r, target, shape)
    town = draw_town(r, target, shape)
    sep = pick_cumulative(r, ADMIN_SEPARATORS_CUMULATIVE) if admin or town else ""
    rest_shape = pick_cumulative(r, REST_SHAPE_CUMULATIVE)
    rest, named, suffix = write_rest(r, rest_shape)
    return Record(target=target, admin=admin, levels=levels, town=town, sep=sep, rest=rest, named=named,
                  named_suffix=suffix, shape=shape, rest_shape=rest_shape, **draw_fields(r, target))


def draw_fields(r: Draw, target: Target) -> dict:
    """The name, postcode and phone of a record about `target`, and how they are written."""
    phone_kind, phone_format, area, number = draw_phone(r, target)
    colon = pick(r, COLONS)
    return dict(
        name=make_name(r), postcode=make_postcode(r, target),
        phone=render_phone(phone_kind, phone_format, area, number), phone_kind=phone_kind,
        phone_format=phone_format, phone_area=area, phone_number=number,
        postcode_label=pick(r, POSTCODE_LABELS) + colon,
        phone_label=pick(r, MOBILE_LABELS if phone_kind == "mobile" else LANDLINE_LABELS) + colon,
        field_sep=pick(r, SEPARATORS), postcode_first=r() < 0.6,
    )


def build_real_record(r: Draw, tables: Tables) -> Record | None:
    """A correct record on a real address (real_bases.py), None when no base was found."""
    base = draw_real_base(r)
    target = real_target(r, tables, base) if base is not None else None
    if target is None:
        return None
    # 浙江省义乌市: a county-level unit right after its province, as city_not_in_province expects.
    county_city = base.levels == (PROVINCE, COUNTY) and not target.division.is_municipality
    return Record(target=target, admin=list(base.admin), levels=list(base.levels), town=base.town,
                  sep=base.sep, rest=list(base.rest), named=base.named, named_suffix=base.named_suffix,
                  shape="county_city" if county_city else "real", rest_shape="real", base="real",
                  prefix=base.prefix, **draw_fields(r, target))


def draw_admin_shape(r: Draw, target: Target) -> str:
    if target.county_city and r() < COUNTY_CITY_SHARE:
        return "county_city"
    shape = pick_cumulative(r, ADMIN_SHAPE_CUMULATIVE)
    d = target.division
    if shape == "no_province" and d.is_municipality:
        return "full"                  # 北京市朝阳区 is both
    if shape == "from_county" and not d.district:
        return "from_town"             # 东莞市 has no county to start at
    if shape == "from_town" and not target.towns:
        return "from_county" if d.district else "full"
    return shape


def write_admin(r: Draw, target: Target, shape: str) -> tuple[list[str], list[int]]:
    """The administrative names written for `shape`, and the level of each."""
    d = target.division
    if shape in ("from_town", "none"):
        return [], []
    if shape == "from_county":
        return [d.district], [COUNTY]
    if shape == "county_city":
        province = target.province_short if r() < 0.25 else d.province
        return [province, d.district], [PROVINCE, COUNTY]
    if d.is_municipality:
        province = target.province_short if shape == "short" else d.province
        return [province, d.district], [PROVINCE, COUNTY]
    province, city = d.province, d.city
    if shape == "short":
        x = r()
        if target.city_short is None or x < 0.3:
            province = target.province_short
        elif x < 0.75:
            province, city = target.province_short, target.city_short
        else:
            city = target.city_short
    names, levels = ([city], [CITY]) if shape == "no_province" else ([province, city], [PROVINCE, CITY])
    if d.district:
        names.append(d.district)
        levels.append(COUNTY)
    return names, levels


def draw_town(r: Draw, target: Target, shape: str) -> str | None:
    if not target.towns or shape == "none":
        return None
    share = TOWN_SHARE_CITY_WITHOUT_COUNTIES if target.without_counties else TOWN_SHARE
    if shape == "from_town" or r() < share:
        return pick(r, target.towns)
    return None


def make_postcode(r: Draw, target: Target) -> str:
    return pick(r, POSTCODE_PREFIXES[target.province_code]) + draw_digits(r, 4)


def area_code(target: Target) -> str:
    d = target.division
    return CITY_AREA_CODES.get(d.city) or AREA_CODES[target.province_code]


# Mobile formats: plain, "+86 " first, 138-1234-5678, 138 1234 5678 (render_phone).
MOBILE_FORMATS_CUMULATIVE = (("0", 0.76), ("1", 0.84), ("2", 0.92), ("3", 1.0))


def draw_phone(r: Draw, target: Target) -> tuple[str, int, str, str]:
    """(kind, format, area code, number): mostly mobiles, sometimes a landline of the city."""
    if r() < 0.75:
        fmt = int(pick_cumulative(r, MOBILE_FORMATS_CUMULATIVE))
        return "mobile", fmt, "", pick(r, DRAWN_MOBILE_PREFIXES) + draw_digits(r, 8)
    area = area_code(target)
    # Three-digit area codes are the big cities, whose local numbers all have 8 digits.
    length = 8 if len(area) == 3 or r() < 0.7 else 7
    local = "2345678"[int(r() * 7)] + draw_digits(r, length - 1)
    return "landline", 0 if r() < 0.75 else 1, area, local


# ---------------------------------------------------------------------------------------------
# Parquet output
# ---------------------------------------------------------------------------------------------

SCHEMA = pa.schema([(name, pa.string()) for name in COLUMNS])


def write_records(path: str, n: int, seed: int, error_rate: float, rows_per_file: int,
                  kind_weights: dict[str, float] | None = None, progress_every_s: float = 30.0,
                  real_share: float = 0.0) -> list[str]:
    """Write rows [0, n) as part-00000.parquet, ... under `path`, rows_per_file rows per file,
    logging progress (records/s, ETA) every progress_every_s seconds.

    Only one file's rows are in memory at a time. Returns the file paths in row order.
    """
    if rows_per_file <= 0:
        raise ValueError(f"rows_per_file={rows_per_file}: must be > 0")
    if n < 0:
        raise ValueError(f"n={n}: must be >= 0")
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    n_files = -(-n // rows_per_file)
    paths = [out / f"part-{k:05d}.parquet" for k in range(n_files)]
    # A part left over from a larger earlier run would be read back as if it belonged to this one.
    stale = sorted(set(out.glob("part-*.parquet")) - set(paths))
    if stale:
        raise ValueError(f"{out}: holds {len(stale)} part files this run would not overwrite "
                         f"(first: {stale[0].name}); write to an empty directory")
    progress = Progress(n, unit="records", every_s=progress_every_s, what=f"{out.name}:", log=logger)
    for k, file in enumerate(paths):
        start = k * rows_per_file
        frame = generate_records(min(rows_per_file, n - start), seed, error_rate, start, kind_weights, real_share)
        pq.write_table(pa.Table.from_pandas(frame, schema=SCHEMA, preserve_index=False), file)
        logger.debug("wrote %s (%d rows)", file, len(frame))
        progress.advance(len(frame))
    return [str(p) for p in paths]
