"""The address check set: every check on hand-written records (true positives, true negatives,
near misses), real-style correct shapes that must raise nothing, the rendering, and robustness.

Run as:
  .venv/bin/pytest tests/unit/test_address_checks.py -q

The records are written here by hand, never drawn from the generator: the checks must hold for
addresses as people write them, whatever shapes the generator happens to produce.
"""

from __future__ import annotations

import pytest

from rayscore.addresses.checks import ADDRESS_CHECKS, FLAGS, LABELS, inspect
from rayscore.addresses.numbering import POSTCODE_PREFIX_PROVINCES
from rayscore.checks import load_check_set, observe

NAME = "张伟"
POSTCODE = "邮编:100102"
MOBILE = "电话:13812345678"


def record(address: str | None, name: str | None = NAME, postcode: str | None = POSTCODE, phone: str | None = MOBILE,
           sep: str = ",") -> str:
    if postcode == POSTCODE and address:
        postcode = postcode_of(address)
    return sep.join(f for f in (name, address, postcode, phone) if f is not None)


def postcode_of(address: str) -> str:
    """A postcode of the province the address names (100102 when it names none), so that the
    default postcode never disagrees with the address; postcode_region has tests of its own."""
    provinces = inspect(f"{NAME},{address},{POSTCODE},{MOBILE}").provinces
    prefixes = sorted(p for p, where in POSTCODE_PREFIX_PROVINCES.items() if where & provinces)
    return f"邮编:{prefixes[0]}0102" if prefixes else POSTCODE


def flags_of(text: str) -> tuple[str, ...]:
    return ADDRESS_CHECKS.run([text])[0].flags


def admin_flags(address: str) -> tuple[str, ...]:
    """The flags of a record whose only possible problem is its address."""
    return flags_of(record(address))


# --- real-style correct records: nothing may fail --------------------------------------------------

CORRECT_ADDRESSES = [
    # full province + city + county, town, road + number + compound + building/unit/room
    "北京市朝阳区望京街道阜通东大街6号院3号楼2单元502室",
    "江苏省南京市鼓楼区中山路8号",
    # no 号 at all
    "广东省东莞市虎门镇万达广场194栋2064商铺",
    "浙江省金华市义乌市佛堂镇凤凰村下庄",
    "河南省南阳市卧龙区石桥镇张庄村3组",
    "湖北省武汉市洪山区关山街道关东社区5栋2单元301室",
    # POI or shop
    "广东省佛山市南海区狮山镇松岗工业区",
    "江苏省苏州市姑苏区石路步行街华联商场门口",
    "湖南省长沙市岳麓区麓谷小区3#楼2单元",
    "浙江义乌市稠城街道宾王商贸区3F-12",
    # a bare room number after a compound name
    "四川省成都市武侯区玉林花园2806",
    # starts at the city, at the county, at the street; no admin part at all
    "杭州市西湖区文三路478号",
    "西湖区文三路478号",
    "望京街道阜通东大街6号",
    "文三路478号",
    # '-' or spaces between the levels, the same throughout
    "浙江省-杭州市-西湖区-文三路478号",
    "浙江省 杭州市 西湖区 文三路478号",
    "广东省-东莞市-虎门镇-白沙村3组",
    # county-level city straight after the province (skipping 金华市), and under its city
    "浙江省义乌市稠城街道工人北路1号",
    "湖北省天门市竟陵街道钟惺大道1号",
    "新疆维吾尔自治区石河子市北一路1号",
    # cities without counties write the town after the city
    "广东省东莞市虎门镇连升路1号",
    "广东省中山市石岐街道孙文中路1号",
    "海南省儋州市那大镇人民路1号",
    # short forms
    "浙江杭州西湖区文三路478号",
    "广西南宁青秀区民族大道100号",
    "山东青岛市南区香港中路1号",
    "广东东莞云先路61号",
    # municipalities (written once or twice), placeholder rows some systems write
    "北京市朝阳区建国路88号",
    "北京朝阳区建国路88号",
    "上海市浦东新区张江镇碧波路690号",
    "北京市北京市朝阳区建国路88号",
    "北京市市辖区朝阳区建国路88号",
    "重庆市渝中区解放碑步行街1号",
    # development zones: in the table, and ones it does not know
    "河北省石家庄市石家庄高新技术产业开发区天山大街1号",
    "安徽省阜阳市阜阳合肥现代产业园区鼎晖二路380号",
    "陕西省西安市高新区锦业路1号",
    "江苏省苏州市工业园区星湖街328号",
    # roads and POIs named after places, after the county: not a second city
    "广东省广州市越秀区北京路100号",
    "吉林省长春市朝阳区朝阳路1号",
    "天津市和平区南京道1号",
    "辽宁省朝阳市双塔区朝阳大街1号",
    "浙江省杭州市西湖区杭州市第二中学",
    "内蒙古自治区呼和浩特市清水河县城关镇人民路1号",
    # a city and its county of the same name; a county that is an ordinary word
    "甘肃省嘉峪关市嘉峪关市新华中路1号",
    "山西省晋城市城区东街1号",
    "黑龙江省哈尔滨市道里区中央大街1号",
    # autonomous prefectures, leagues and prefectures as people shorten them
    "云南省大理州大理市人民路1号",
    "湖南省湘西州吉首市人民路1号",
    "四川省凉山州西昌市胜利路1号",
    "新疆喀什地区喀什市人民东路1号",
    "内蒙古锡林郭勒盟锡林浩特市1号",
    # a compound named like a place after a city without counties
    "广东中山旗门府2607",
    # 中国 first; a unit's name from before it was renamed (富阳市 -> 富阳区)
    "中国浙江省杭州市西湖区文三路478号",
    "浙江省杭州市富阳市银湖街道1号",
    "吉林吉林市船营区1号",
]


@pytest.mark.parametrize("address", CORRECT_ADDRESSES)
def test_real_style_correct_addresses_raise_nothing(address):
    assert admin_flags(address) == ()


@pytest.mark.parametrize("text", [
    "张伟,北京市朝阳区望京街道阜通东大街6号院3号楼2单元502室,邮编:100102,联系电话:13812345678",
    "李女士，浙江义乌市稠城街道宾王商贸区3F-12，手机：+86 139 5790 1234，邮政编码：322000",
    "阿卜杜·热合曼,广东省-东莞市-虎门镇-白沙村3组,电话:(0769)85123456,邮编:523900",
    "王先生,浙江省杭州市西湖区文三路478号,座机:0571-87654321,邮编:310012",
    "赵敏;江苏省苏州市姑苏区平江路1号;手机号:138-1234-5678;邮政编码:215000",
    "孙磊,四川省成都市武侯区玉林花园2806,手机:138 1234 5678,邮编:610041",
    "周杰,广东省广州市天河区体育西路103号,电话:(020)38881234,邮编:510620",
    "吴刚,河南省郑州市金水区花园路1号,电话:0371-6512345,邮编:450000",
])
def test_real_style_correct_records_raise_nothing(text):
    assert flags_of(text) == ()


# --- fields ------------------------------------------------------------------------------------------


def test_each_missing_field_is_flagged_alone():
    address = "北京市朝阳区建国路88号"
    assert flags_of(record(address, name=None)) == ("name_missing",)
    assert flags_of(record(address, postcode=None)) == ("postcode_missing",)
    assert flags_of(record(address, phone=None)) == ("phone_missing",)
    assert flags_of(record(None)) == ("address_missing",)


def test_fields_come_in_any_order_with_either_separator_and_colon():
    assert flags_of("张伟，北京市朝阳区建国路88号，联系电话：13812345678，邮政编码：100102") == ()
    assert flags_of("张伟,北京市朝阳区建国路88号,手机号13812345678,邮编100102") == ()
    assert flags_of("邮编:100102,张伟,北京市朝阳区建国路88号,电话:13812345678") == ()


def test_labelled_name_and_address_fields():
    assert flags_of("收件人:张伟,地址:北京市朝阳区建国路88号,邮编:100102,电话:13812345678") == ()


def test_unlabelled_postcode_and_phone_after_the_address_are_found():
    report = inspect("张伟,北京市朝阳区建国路88号,100102,13812345678")
    assert (report.postcode, report.phone.number) == ("100102", "13812345678")
    assert flags_of("张伟,北京市朝阳区建国路88号,100102,13812345678") == ()


def test_an_address_without_address_words_after_a_junk_name_is_the_address():
    text = "519，吾悦购物中心门口，联系电话:0871-84685918，邮编:650966"
    assert flags_of(text) == ("name_junk",)    # digits are no name: the junk name is still the name
    assert (inspect(text).name, inspect(text).address) == ("519", "吾悦购物中心门口")


def test_names_of_every_shape_are_names():
    for name in ("王先生", "李女士", "阿卜杜·热合曼", "欧阳娜娜", "李"):
        assert flags_of(record("北京市朝阳区建国路88号", name=name)) == (), name


def test_a_junk_name_is_still_a_name():
    # bad_name has no rule: the field is there, the model judges what is in it.
    for name in ("12345", "abc", "#?@!", "啊啊啊"):
        report = inspect(record("北京市朝阳区建国路88号", name=name))
        assert report.name == name
        assert "name_missing" not in flags_of(record("北京市朝阳区建国路88号", name=name))


def test_an_empty_labelled_value_is_missing():
    assert flags_of("张伟,北京市朝阳区建国路88号,邮编:,电话:") == ("postcode_missing", "phone_missing")


# --- postcode ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["10010", "1001021", "10010212", "10010a", "１００１０２", "100 102"])
def test_postcode_not_six_ascii_digits_is_flagged(value):
    assert flags_of(record("北京市朝阳区建国路88号", postcode=f"邮编:{value}")) == ("postcode_format",)


@pytest.mark.parametrize("value", ["100102", "000000", " 100102 "])
def test_postcode_of_six_digits_passes(value):
    assert flags_of(record("北京市朝阳区建国路88号", postcode=f"邮编:{value}")) == ()


def test_postcode_report_counts_digits_and_characters():
    report = inspect(record("北京市朝阳区建国路88号", postcode="邮编:1001a"))
    assert (report.postcode, report.postcode_digits, report.postcode_length) == ("1001a", 4, 5)


# --- phone -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("phone", [
    "13812345678", "+86 13812345678", "+8613812345678", "+86 138 1234 5678", "138-1234-5678",
    "138 1234 5678", "19912345678", "0571-87654321", "0571-8765432", "(0571)87654321", "（0571）87654321",
    "010-12345678", "057187654321", "01012345678", "87654321",
])
def test_valid_phones_pass(phone):
    # An address naming no province: a landline of any area code fits it.
    assert flags_of(record("建国路88号", phone=f"电话:{phone}")) == ()


@pytest.mark.parametrize("phone", ["1381234567", "138123456789", "138123", "0571-87654", "0571-876543210",
                                  "010-123456", "123456", "4008123456"])
def test_phones_of_the_wrong_length_are_flagged(phone):
    assert flags_of(record("建国路88号", phone=f"电话:{phone}")) == ("phone_length",)


@pytest.mark.parametrize("phone", ["138l2345678", "1381234567O", "138#234*678", "abc", "0571-8765432x",
                                  "138-1234-5678转2"])
def test_phones_with_non_digits_are_flagged(phone):
    assert flags_of(record("北京市朝阳区建国路88号", phone=f"电话:{phone}")) == ("phone_format",)


@pytest.mark.parametrize("phone", ["12012345678", "10012345678", "15412345678", "14012345678", "16812345678"])
def test_mobiles_without_an_allocated_prefix_are_flagged(phone):
    assert flags_of(record("北京市朝阳区建国路88号", phone=f"电话:{phone}")) == ("phone_prefix",)


def test_phone_report_kind_digits_and_area_code():
    mobile = inspect(record("北京市朝阳区建国路88号", phone="手机:+86 138 1234 5678")).phone
    assert (mobile.kind, mobile.number, mobile.digits, mobile.area_code) == ("mobile", "13812345678", 11, None)
    landline = inspect(record("北京市朝阳区建国路88号", phone="座机:(0571)8765432")).phone
    assert (landline.kind, landline.area_code, landline.local_digits) == ("landline", "0571", 7)
    run_together = inspect(record("北京市朝阳区建国路88号", phone="电话:02012345678")).phone
    assert (run_together.area_code, run_together.local_digits) == ("020", 8)
    local = inspect(record("北京市朝阳区建国路88号", phone="电话:87654321")).phone
    assert (local.kind, local.digits) == ("unknown", 8)
    junk = inspect(record("北京市朝阳区建国路88号", phone="电话:138a")).phone
    assert junk.nondigit and junk.kind == "mobile"


# --- admin_digits ------------------------------------------------------------------------------------


@pytest.mark.parametrize("address", [
    "北京市1234海淀区中关村大街1号",        # between two names
    "浙江省杭12州市西湖区文三路478号",      # inside a name
    "浙1江省杭州市西湖区文三路478号",       # inside the first name
    "江苏省南京1市鼓楼区中山北路200号",     # inside a name whose short form was read
    "浙江12杭州西湖区文三路478号",         # after a short form
    "四川成56都武侯区人民南路四段12号",      # inside a short form
    "内蒙古自治区巴彦淖尔63市五原县世纪街19号",
    "浙江省-12-杭州市-西湖区-文三路478号",   # with separators around
    "广东省广州市#@天河区体育西路103号",     # symbols, not digits
])
def test_digits_or_symbols_between_or_inside_admin_names_are_flagged(address):
    assert admin_flags(address) == ("admin_digits",)


@pytest.mark.parametrize("address", [
    "北京市朝阳区1号院", "广东省东莞市2806", "广东省东莞市虎门镇194栋2064商铺", "湖南省长沙市岳麓区3#楼",
    "浙江义乌市稠城街道宾王商贸区3F-12", "江苏省南京市123", "北京市朝阳区东1区3号",
])
def test_digits_after_the_admin_names_are_the_detail(address):
    assert admin_flags(address) == ()


def test_the_report_names_the_junk_and_reads_the_names_around_it():
    report = inspect(record("北京市1234海淀区中关村大街1号"))
    assert report.admin_junk == "1234"
    assert [(a.written, a.level, a.code) for a in report.admin] == [("北京市", 1, "11"), ("海淀区", 3, "110108")]
    assert report.detail == "中关村大街1号"


# --- admin_unknown -----------------------------------------------------------------------------------


@pytest.mark.parametrize("address, nearest", [
    ("北京市海定区阜通东大街6号", "海淀区"),       # a county under a municipality
    ("浙江省杭州市西胡区文三路478号", "西湖区"),    # a county under its city
    ("浙江省杭洲市西湖区文三路478号", "杭州市"),    # a city under its province
    ("浙江杭洲西湖区文三路478号", "杭州"),         # a short form, confirmed by its county after it
    ("杭洲市西湖区文三路478号", "杭州市"),          # nothing before it, confirmed by its county
    ("河南省楠阳市新野县前高庙乡1号", "南阳市"),    # of several near names, the one holding 新野县
    ("广东省广州市天和区体育西路103号", "天河区"),
    ("浙江省胡州市南浔区石淙镇1号", "湖州市"),      # 胡 is no 胡同; of 杭州/台州/温州/湖州, 南浔区's
    ("四川省甘孜海族自治州甘孜县1号", "甘孜藏族自治州"),   # its short form 甘孜 was read first
])
def test_one_character_from_a_known_name_under_the_same_parent_is_flagged(address, nearest):
    assert admin_flags(address) == ("admin_unknown",)
    typo = next(a for a in inspect(record(address)).admin if a.match == "typo")
    assert typo.nearest == nearest and not typo.known


@pytest.mark.parametrize("address", [
    "海定区阜通东大街6号",                 # nothing around it to tell a typo from a name the table lacks
    "陕西省西安市高新区锦业路1号",           # an area word one character from 高陵区
    "北京市主城区建国路1号",                 # an area word one character from 东城区 and 西城区
    "北京市老城区建国路1号",                 # the old town (also 洛阳's 老城区): a word, read as detail
    "北京市朝阳路1号",                      # a road, not a county
    "浙江省杭州市钱塘新区1号",               # a zone the 2023 table does not know, no near miss
    "浙江省宁波市镇海县招宝山街道1号",        # an old suffix: renamed, noted, not a typo
])
def test_near_misses_that_are_not_certain_typos_raise_nothing(address):
    assert admin_flags(address) == ()


def test_prefecture_short_forms_are_read_as_the_prefecture():
    report = inspect(record("云南省大理州大理市人民路1号"))
    assert [(a.written, a.level, a.code, a.match) for a in report.admin] == [
        ("云南省", 1, "53", "exact"), ("大理州", 2, "5329", "short"), ("大理市", 3, "532901", "exact")]


def test_an_old_suffix_is_noted_as_renamed():
    renamed = inspect(record("浙江省宁波市镇海县招宝山街道1号")).admin[2]   # 镇海区 since 1985
    assert (renamed.written, renamed.match, renamed.nearest, renamed.code) == ("镇海县", "renamed", "镇海区", "330211")


# --- admin_repeated and admin_order ------------------------------------------------------------------


@pytest.mark.parametrize("address", [
    "北京市朝阳区朝阳区建国路88号", "浙江省杭州市杭州市西湖区文三路1号", "浙江省浙江省杭州市西湖区文三路1号",
    "广东省东莞市东莞市虎门镇连升路1号", "浙江省-杭州市-西湖区-西湖区-文三路1号", "浙江杭州杭州西湖区文三路1号",
])
def test_a_level_written_twice_is_flagged(address):
    assert admin_flags(address) == ("admin_repeated",)


@pytest.mark.parametrize("address", [
    "北京市北京市朝阳区建国路88号",           # how some systems write a municipality
    "甘肃省嘉峪关市嘉峪关市新华中路1号",       # a city and its county of the same name
])
def test_repeats_that_are_not_an_admin_level_twice_raise_nothing(address):
    assert admin_flags(address) == ()


@pytest.mark.parametrize("address", [
    "北京市朝阳区建国路建国路88号",           # a road twice
    "浙江省杭州市西湖区文三路90号华星花园华星花园3栋",
])
def test_a_part_below_the_admin_names_written_twice_is_flagged(address):
    assert admin_flags(address) == ("detail_repeated",)


@pytest.mark.parametrize("address", [
    "新疆维吾尔自治区阿克苏地区库车市萨克萨克街道洲桃社区28栋",   # a real town with a repeated syllable
    "浙江省杭州市西湖区冬冬小区3栋",                              # one hanzi twice is a name
    "北京市朝阳区建国路88号88号楼",                               # digits are not hanzi
    "北京市朝阳区建国路88号建国门外大街",                           # not in a row
    "成都市双流区西南航空港空港四路观山路138号",                     # 航空港, then 空港四路
    "广州市黄埔区经济技术开发区东区东众路42号",                       # 东区, then 东众路: 区东区东 is no word
    "北京市西城区西直门西直门外大街112号",                           # a place, then the street named after it
])
def test_repeats_that_are_not_a_part_written_twice_raise_nothing(address):
    assert admin_flags(address) == ()


def test_levels_out_of_order_are_flagged():
    assert admin_flags("朝阳区北京市建国路88号") == ("admin_order",)
    assert admin_flags("杭州市浙江省西湖区文三路1号") == ("admin_order",)
    report = inspect(record("朝阳区北京市建国路88号"))
    assert not report.in_order and report.admin[0].code == "110105"   # resolved by 北京市 after it


def test_a_place_name_after_a_full_chain_is_the_detail_not_an_order_error():
    assert admin_flags("浙江省杭州市西湖区杭州市第二中学") == ()
    assert inspect(record("浙江省杭州市西湖区杭州市第二中学")).detail == "杭州市第二中学"


# --- city_not_in_province and county_not_in_city -------------------------------------------------------


@pytest.mark.parametrize("address, expected", [
    ("广东省南京市鼓楼区中山路8号", ("city_not_in_province",)),      # 鼓楼区 is in 南京: only the city is wrong
    ("浙江省南宁市青秀区1号", ("city_not_in_province",)),
    ("山东省茫崖市花土沟镇1号", ("city_not_in_province",)),          # a county-level city where the city goes
    ("浙江省杭州市海淀区文三路1号", ("county_not_in_city",)),
    ("浙江省杭州市义乌市稠城街道1号", ("county_not_in_city",)),       # same province, another city
    ("北京市浦东新区张江镇1号", ("county_not_in_city",)),            # a municipality is its own city
    ("湖北省天门市孝昌县周巷镇1号", ("county_not_in_city",)),        # 天门市 stands for a city
    ("海南省临高县利川市汪营镇1号", ("county_not_in_city",)),
    ("广东省南京市天河区体育西路1号", ("city_not_in_province", "county_not_in_city")),
])
def test_names_that_cannot_belong_together_are_flagged(address, expected):
    assert admin_flags(address) == expected


@pytest.mark.parametrize("address", [
    "吉林省长春市朝阳区人民大街1号",   # 朝阳区 is also Beijing's: resolved by the city
    "辽宁省沈阳市和平区1号",           # 和平区 is also Tianjin's
    "江苏省鼓楼区中山路1号",           # no city written: 鼓楼区 of 南京 or 徐州, both in 江苏
    "浙江省西湖区文三路1号",
    "安徽省亳州市郊区槐江路291号",      # 郊区 (the suburbs) not in 亳州: a word, read as detail
])
def test_names_that_can_belong_together_pass(address):
    assert admin_flags(address) == ()


def test_ambiguous_names_are_resolved_by_the_others():
    codes = lambda address: [a.code for a in inspect(record(address)).admin if a.level < 4]  # noqa: E731
    assert codes("北京市朝阳区建国路88号") == ["11", "110105"]
    assert codes("吉林省长春市朝阳区人民大街1号") == ["22", "2201", "220104"]
    assert codes("吉林长春朝阳区人民大街1号") == ["22", "2201", "220104"]
    assert codes("朝阳区建国路88号") == [None]    # nothing decides between Beijing and Changchun


def test_consistency_fields_of_the_report():
    good = inspect(record("浙江省杭州市西湖区文三路1号"))
    assert (good.city_in_province, good.county_in_city) == (True, True)
    bad = inspect(record("广东省南京市鼓楼区中山路8号"))
    assert (bad.city_in_province, bad.county_in_city) == (False, True)
    alone = inspect(record("西湖区文三路1号"))
    assert (alone.city_in_province, alone.county_in_city) == (None, None)


# --- the report --------------------------------------------------------------------------------------


def test_report_of_a_full_record():
    report = inspect("阿卜杜·热合曼,广东省-东莞市-虎门镇-白沙村3组,电话:(0769)85123456,邮编:523900")
    assert report.name == "阿卜杜·热合曼"
    assert report.address == "广东省-东莞市-虎门镇-白沙村3组"
    assert (report.postcode, report.postcode_digits, report.postcode_length) == ("523900", 6, 6)
    assert (report.phone.kind, report.phone.area_code, report.phone.local_digits) == ("landline", "0769", 8)
    assert [(a.written, a.level, a.code, a.match) for a in report.admin] == [
        ("广东省", 1, "44", "exact"), ("东莞市", 2, "4419", "exact"), ("虎门镇", 4, "441900121", "exact")]
    assert all(a.known for a in report.admin)
    assert (report.admin_junk, report.in_order, report.repeated) == (None, True, ())
    assert report.detail == "白沙村3组"


def test_report_of_short_forms_and_towns():
    report = inspect(record("浙江义乌市稠城街道宾王商贸区3F-12"))
    assert [(a.written, a.level, a.match) for a in report.admin] == [
        ("浙江", 1, "short"), ("义乌市", 3, "exact"), ("稠城街道", 4, "exact")]
    assert report.detail == "宾王商贸区3F-12"


def test_report_of_repeats():
    report = inspect(record("北京市朝阳区朝阳区建国路88号"))
    assert report.repeated == ("朝阳区",)


def test_report_of_a_record_without_address():
    report = inspect("张伟,邮编:100102,电话:13812345678")
    assert (report.address, report.admin, report.detail) == (None, (), "")


# --- rendering and the check set ---------------------------------------------------------------------


def test_rendering_exact_text():
    run = lambda text: ADDRESS_CHECKS.run([text])[0].observation  # noqa: E731
    assert run("张伟,北京市朝阳区建国路88号,邮编:100102,电话:13812345678") == "检查:无"
    assert run("张伟,北京市朝阳区建国路88号,邮编:10010,电话:13812345678") == "检查:邮编位数"
    assert run("张伟,广东省南京市鼓楼区中山路8号,邮编:10010,电话:1381234567") == "检查:邮编位数,电话位数,市不属省"
    assert run("北京市海定区阜通东大街6号,邮编:100102") == "检查:缺姓名,缺电话,地名错字"
    assert run("张伟,浙江省杭州市海淀区1号,邮编:310012,电话:138a") == "检查:电话格式,区不属市"
    assert run("张伟,北京市1234海淀区朝阳区人民路人民路1号") == "检查:缺邮编,缺电话,地名夹数,地名冲突,详址重复"
    assert run("") == "检查:缺姓名,缺地址,缺邮编,缺电话"


def test_every_flag_has_a_short_chinese_label():
    assert FLAGS == tuple(LABELS) == ADDRESS_CHECKS.flags
    for label in LABELS.values():
        assert 2 <= len(label) <= 4 and all("\u4e00" <= ch <= "\u9fff" for ch in label), label


FLAG_MIX = [
    "北京市海定区阜通东大街6号,邮编:10010",
    "广东省南京市天河区1号院,邮编:1,电话:1",
    ",北京市1234海淀区,电话:abc",
    "张伟,朝阳区北京市朝阳区1号,邮编:100102,电话:13812345678",
    "张伟,浙江省浙江省杭州市海淀区,邮编:3100122,电话:0571-123",
    "",
    "邮编:12",
]


@pytest.mark.parametrize("text", FLAG_MIX)
def test_flags_come_in_the_order_of_flags(text):
    flags = flags_of(text)
    assert list(flags) == sorted(flags, key=FLAGS.index) and len(set(flags)) == len(flags)
    assert ADDRESS_CHECKS.run([text])[0].observation == (
        "检查:" + ",".join(LABELS[f] for f in flags) if flags else "检查:无")


def test_the_check_set_loads_by_reference_and_observes():
    checks = load_check_set("rayscore.addresses.checks:ADDRESS_CHECKS")
    assert checks is ADDRESS_CHECKS and (checks.name, checks.version) == ("addresses", "6")
    texts, flags = observe(checks, ["张伟,北京市朝阳区建国路88号,邮编:10010,电话:13812345678"])
    assert texts == ["张伟,北京市朝阳区建国路88号,邮编:10010,电话:13812345678 检查:邮编位数"]
    assert flags == [("postcode_format",)]


def test_examples_cover_a_pass_and_several_fails():
    assert 4 <= len(ADDRESS_CHECKS.examples) <= 6
    results = ADDRESS_CHECKS.run(list(ADDRESS_CHECKS.examples))
    assert any(not r.flags for r in results)
    assert len({f for r in results for f in r.flags}) >= 5


def test_run_keeps_order_and_length():
    texts = [record("北京市朝阳区建国路88号"), record("北京市朝阳区建国路88号", name=None), ""] * 3
    results = ADDRESS_CHECKS.run(texts)
    assert [r.flags for r in results] == [flags_of(t) for t in texts]


# --- robustness --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "", " ", ",,,，，;；", "!!!@@@###$$$", "\ud800", "北京\ud800市朝阳区", "nan", "None", "x" * 200_000,
    "北京市" * 10_000, "1" * 5000, "邮编:", "电话:+86", "电话:()", "+86", "中国", "-", "---北京市---",
    "张伟,北京市朝阳区" + "1" * 3000 + "号", "\x00\n\t", "🙂🙂,🙂,邮编:🙂", "市辖区", "省直辖县级行政区划",
])
def test_run_never_raises_on_odd_input(text):
    result = ADDRESS_CHECKS.run([text])[0]
    assert set(result.flags) <= set(FLAGS) and result.observation.startswith("检查:")


@pytest.mark.parametrize("value", [None, float("nan"), 12345, b"bytes"])
def test_run_never_raises_on_non_strings(value):
    result = ADDRESS_CHECKS.run([value])[0]  # type: ignore[list-item]
    assert result.observation.startswith("检查:")


@pytest.mark.parametrize("address", [
    "北京市朝阳区望京街道望京街道1号",
    "广东省东莞市虎门镇虎门镇连升中路66号",     # a town of a city without counties
    "湖南省 长沙市 岳麓区 麓谷街道 麓谷街道 桐梓坡路1号",
])
def test_a_town_written_again_right_after_itself_is_how_platforms_join_it(address):
    assert "detail_repeated" not in flags_of(record(address))


@pytest.mark.parametrize("name, junk", [
    ("张伟", False), ("阿卜杜·热合曼", False), ("Amy", False), ("Tom Lee", False), ("王先生", False),
    ("张abc", True), ("test", True), ("12345", True), ("啊啊啊啊", True), ("#@!", True), ("张123", True),
    ("某某", True),
])
def test_a_junk_name_is_certain(name, junk):
    assert ("name_junk" in flags_of(record("北京市朝阳区建国路88号", name=name))) is junk
    assert "name_junk" in ADDRESS_CHECKS.certain


@pytest.mark.parametrize("address, flag", [
    ("北京市朝阳区解放8号", "road_suffix"), ("北京市朝阳区人民东8号", "road_suffix"),
    ("北京市朝阳区建国路8号院3号楼502室王芳", "address_name"), ("北京市朝阳区建国路8号1单元302张伟收", "address_name"),
])
def test_a_road_cut_short_and_a_name_in_the_address_are_evidence(address, flag):
    assert flag in flags_of(record(address)) and flag not in ADDRESS_CHECKS.certain


@pytest.mark.parametrize("address", [
    "福建省宁德市屏南县卓远3号", "广东省深圳市福田区梅林街道上梅林16号", "浙江省台州市天台县始丰街道山后赵57号",
    "北京市海淀区知春路甲48号盈都大厦D座3层", "北京市东城区青龙胡同1号歌华大厦a座9层",
    "武汉市洪山区雄楚大道699号文豪苑",
    "朝阳区新源南路6号京城大厦2501房间", "广州市天河区珠江东路28号第6层606-619单元",
])
def test_real_places_before_a_number_and_real_endings_are_not_evidence(address):
    assert not {"road_suffix", "address_name"} & set(flags_of(record(address)))
