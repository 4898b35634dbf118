"""Number plans of mainland China: postcode prefixes, landline area codes and mobile prefixes, to
write records with (records.py draws correct fields, corruptions.py wrong ones, from the same
tables, so a "wrong" value is never one a correct record could hold) and to read them with
(checks.py: where a number belongs).

    from rayscore.addresses.numbering import area_code_provinces, postcode_provinces, mobile_prefix_allocated
    postcode_provinces("310012")        # frozenset({'33'}): 浙江
    area_code_provinces("0571")         # frozenset({'33'})
    area_code_provinces("0898")         # frozenset({'46'}): 海南, though 089x is otherwise 西藏
    area_code_provinces("0260")         # None: a prefix nobody was given, nothing to compare
    mobile_prefix_allocated("13812345678"), mobile_prefix_allocated("15412345678")   # True, False

Provinces are the two-digit division codes (divisions.py). The tables are as precise as can be
trusted: a postcode by its first two digits, an area code by its first three (four where one
province's code sits in another's range: 0898 海南). A prefix not in a table is unknown, and an
unknown prefix is never a mismatch. checks.py compares them with the province an address names.
"""

from __future__ import annotations

# Postcode leading digits of each province: what a correct record draws.
POSTCODE_PREFIXES = {
    "11": ("10",), "12": ("30",), "13": ("05", "06", "07"), "14": ("03", "04"), "15": ("01", "02"),
    "21": ("11", "12"), "22": ("13",), "23": ("15", "16"), "31": ("20",), "32": ("21", "22"),
    "33": ("31", "32"), "34": ("23", "24"), "35": ("35", "36"), "36": ("33", "34"),
    "37": ("25", "26", "27"), "41": ("45", "46", "47"), "42": ("43", "44"), "43": ("41", "42"),
    "44": ("51", "52"), "45": ("53", "54"), "46": ("57",), "50": ("40",),
    "51": ("61", "62", "63", "64"), "52": ("55", "56"), "53": ("65", "66", "67"), "54": ("85",),
    "61": ("71", "72"), "62": ("73", "74"), "63": ("81",), "64": ("75",), "65": ("83", "84"),
}
# Besides its own range, a province some of whose places are served from a neighbour's: the
# leagues of 内蒙古 (兴安盟 137xxx; 阿拉善盟: 750300 巴彦浩特, 735400 额济纳旗, 737300 阿拉善右旗)
# and 西藏's 林芝 (860xxx).
POSTCODE_BORROWED = {"15": ("13", "73", "75"), "54": ("86",)}
# Postcode first two digits -> provinces.
POSTCODE_PREFIX_PROVINCES: dict[str, frozenset[str]] = {}
for _province in POSTCODE_PREFIXES:
    for _prefix in POSTCODE_PREFIXES[_province] + POSTCODE_BORROWED.get(_province, ()):
        POSTCODE_PREFIX_PROVINCES[_prefix] = POSTCODE_PREFIX_PROVINCES.get(_prefix, frozenset()) | {_province}

# Landline area codes: the three-digit ones whole, the four-digit ones by their first three
# digits (031x is 河北, 057x 浙江), then the few four-digit codes inside another province's range.
AREA_CODE_PROVINCES: dict[str, frozenset[str]] = {
    prefix: frozenset({province}) for province, prefixes in {
        "11": "010", "44": "020 066 075 076", "31": "021", "12": "022", "50": "023", "21": "024 041 042",
        "32": "025 051 052", "42": "027 071 072", "51": "028 081 082 083", "61": "029 091",
        "13": "031 033", "14": "034 035", "41": "037 039", "22": "043", "23": "045 046", "15": "047 048",
        "37": "053 054 063", "34": "055 056", "33": "057 058", "35": "059", "53": "069 087 088",
        "36": "070 079", "43": "073 074", "45": "077", "52": "085", "54": "089", "62": "093 094",
        "64": "095", "63": "097", "65": "090 099",
    }.items() for prefix in prefixes.split()
}
# 0898 is all of 海南 (0899 and 0890 before 2007); 089x otherwise is 西藏.
AREA_CODE_EXCEPTIONS: dict[str, frozenset[str]] = {code: frozenset({"46"}) for code in ("0890", "0898", "0899")}

# Mobile prefixes allocated to operators for numbers people call: China Mobile, Unicom, Telecom,
# Broadnet, the virtual operators (162, 165, 167, 170, 171), the data-card prefixes 145/147/149
# and 174 (satellite phones, 1740/1749). 140-144, 146 and 148 are machine (IoT) numbers of 13
# digits, and 154, 160, 161, 163, 164, 168, 169, 179 and 194 are not allocated.
MOBILE_PREFIXES = frozenset(str(p) for p in (
    *range(130, 140), 145, 147, 149, 150, 151, 152, 153, *range(155, 160), 162, 165, 166, 167,
    170, 171, 172, 173, 174, 175, 176, 177, 178, *range(180, 190), 190, 191, 192, 193,
    *range(195, 200),
))


# What correct records draw: every allocated prefix but the satellite phones' 174.
DRAWN_MOBILE_PREFIXES = tuple(sorted(MOBILE_PREFIXES - {"174"}))
# Prefixes 13x-19x no ordinary mobile has: unallocated, or 13-digit machine (IoT) numbers.
UNALLOCATED_MOBILE_PREFIXES = tuple(str(p) for p in range(130, 200) if str(p) not in MOBILE_PREFIXES)

# Area code of each province's capital: the fallback for a city not in CITY_AREA_CODES.
AREA_CODES = {
    "11": "010", "12": "022", "13": "0311", "14": "0351", "15": "0471", "21": "024", "22": "0431",
    "23": "0451", "31": "021", "32": "025", "33": "0571", "34": "0551", "35": "0591", "36": "0791",
    "37": "0531", "41": "0371", "42": "027", "43": "0731", "44": "020", "45": "0771", "46": "0898",
    "50": "023", "51": "028", "52": "0851", "53": "0871", "54": "0891", "61": "029", "62": "0931",
    "63": "0971", "64": "0951", "65": "0991",
}
CITY_AREA_CODES = {
    "深圳市": "0755", "东莞市": "0769", "佛山市": "0757", "中山市": "0760", "珠海市": "0756",
    "汕头市": "0754", "惠州市": "0752", "江门市": "0750", "湛江市": "0759", "苏州市": "0512",
    "无锡市": "0510", "常州市": "0519", "南通市": "0513", "徐州市": "0516", "扬州市": "0514",
    "宁波市": "0574", "温州市": "0577", "金华市": "0579", "绍兴市": "0575", "嘉兴市": "0573",
    "台州市": "0576", "湖州市": "0572", "芜湖市": "0553", "厦门市": "0592", "泉州市": "0595",
    "漳州市": "0596", "赣州市": "0797", "青岛市": "0532", "烟台市": "0535", "潍坊市": "0536",
    "临沂市": "0539", "洛阳市": "0379", "宜昌市": "0717", "绵阳市": "0816", "桂林市": "0773",
    "柳州市": "0772", "唐山市": "0315", "保定市": "0312", "大同市": "0352", "包头市": "0472",
    "大连市": "0411", "吉林市": "0432", "大庆市": "0459",
}


def postcode_provinces(postcode: str) -> frozenset[str] | None:
    """The provinces a 6-digit postcode can belong to; None when its prefix is not in the table."""
    return POSTCODE_PREFIX_PROVINCES.get(postcode[:2])


def area_code_provinces(area_code: str) -> frozenset[str] | None:
    """The provinces an area code (0 + 2-3 digits) can belong to; None when unknown."""
    return AREA_CODE_EXCEPTIONS.get(area_code) or AREA_CODE_PROVINCES.get(area_code[:3])


def mobile_prefix_allocated(number: str) -> bool:
    return number[:3] in MOBILE_PREFIXES
