"""The checks of check set version 2: numbers of another province, unallocated mobile prefixes,
phones, junk and broken house numbers in the address, addresses that stop at the admin names,
two names of one level, another place pasted into the detail; and which flags are certain.

Run as:
  .venv/bin/pytest tests/unit/test_address_checks_new.py -q
"""

from __future__ import annotations

import pytest

from rayscore.addresses.checks import ADDRESS_CHECKS, CERTAIN, FLAGS, certain_flags, inspect
from rayscore.addresses.numbering import (
    MOBILE_PREFIXES,
    area_code_provinces,
    postcode_provinces,
)


def flags_of(address: str, postcode: str = "100102", phone: str = "13812345678") -> tuple[str, ...]:
    return ADDRESS_CHECKS.run([f"张伟,{address},邮编:{postcode},电话:{phone}"])[0].flags


# --- certain flags -------------------------------------------------------------------------------------


def test_certain_flags_are_flags_and_the_uncertain_ones_are_left_to_the_model():
    assert CERTAIN < set(FLAGS)
    assert {"postcode_format", "address_incomplete", "detail_junk"} <= CERTAIN
    assert not {"admin_unknown", "detail_repeated", "area_code_region", "county_not_in_city"} & CERTAIN


def test_certain_flags_keeps_only_the_certain_ones_in_order():
    assert certain_flags(("postcode_format", "admin_unknown", "detail_junk")) == ("postcode_format", "detail_junk")
    assert certain_flags(("admin_unknown",)) == ()


def test_the_version_says_the_rendering_changed():
    assert ADDRESS_CHECKS.version == "6"


# --- postcode_region and area_code_region -----------------------------------------------------------


def test_a_postcode_of_another_province_is_flagged():
    assert flags_of("浙江省杭州市西湖区文三路478号", postcode="310012") == ()
    assert flags_of("浙江省杭州市西湖区文三路478号", postcode="100102") == ("postcode_region",)


@pytest.mark.parametrize("address, postcode", [
    ("文三路478号", "100102"),                         # no province named
    ("朝阳区建国路88号", "130000"),                      # 朝阳区: Beijing or Changchun, undecided
    ("内蒙古兴安盟乌兰浩特市兴安南大街1号", "137400"),   # a league served from Jilin's range
    ("西藏自治区林芝市巴宜区福建路1号", "860000"),
])
def test_postcodes_that_may_belong_to_the_address_pass(address, postcode):
    assert "postcode_region" not in flags_of(address, postcode=postcode)


def test_a_landline_of_another_province_is_flagged():
    assert flags_of("浙江省杭州市西湖区文三路478号", postcode="310012", phone="0571-87654321") == ()
    assert flags_of("浙江省杭州市西湖区文三路478号", postcode="310012", phone="010-87654321") == ("area_code_region",)
    assert flags_of("海南省海口市龙华区滨海大道1号", postcode="570100", phone="0898-6512345") == ()
    assert flags_of("西藏自治区拉萨市城关区北京中路1号", postcode="850000",
                    phone="0898-6512345") == ("area_code_region",)


def test_an_unknown_area_code_is_never_a_mismatch():
    assert area_code_provinces("0260") is None
    assert flags_of("浙江省杭州市西湖区文三路478号", postcode="310012", phone="0260-8765432") == ()


def test_every_postcode_and_area_code_the_generator_writes_lies_in_its_own_province():
    from rayscore.addresses.numbering import AREA_CODES, CITY_AREA_CODES, POSTCODE_PREFIXES
    from rayscore.addresses.targets import load_tables

    for province, prefixes in POSTCODE_PREFIXES.items():
        assert all(province in postcode_provinces(p + "0000") for p in prefixes), province
    for province, code in AREA_CODES.items():
        assert area_code_provinces(code) == {province}, code
    provinces_of_city = {t.division.city: t.province_code for t in load_tables().targets if t.division.city}
    for city, code in CITY_AREA_CODES.items():
        assert provinces_of_city[city] in area_code_provinces(code), city


# --- phone_prefix --------------------------------------------------------------------------------------


def test_every_prefix_the_generator_writes_is_allocated():
    from rayscore.addresses.numbering import DRAWN_MOBILE_PREFIXES as GENERATED

    assert set(GENERATED) <= MOBILE_PREFIXES


@pytest.mark.parametrize("phone", ["14512345678", "16212345678", "19212345678", "17401234567"])
def test_allocated_prefixes_pass(phone):
    assert flags_of("北京市朝阳区建国路88号", phone=phone) == ()


def test_an_unallocated_prefix_is_one_flag_and_a_short_mobile_stays_a_length_fault():
    assert flags_of("北京市朝阳区建国路88号", phone="15412345678") == ("phone_prefix",)
    assert flags_of("北京市朝阳区建国路88号", phone="1541234567") == ("phone_length",)


def test_a_landline_extension_is_part_of_the_number():
    assert flags_of("北京市朝阳区建国路88号", phone="010-87654321转8001") == ()


# --- address_phone ---------------------------------------------------------------------------------


@pytest.mark.parametrize("address", [
    "北京市朝阳区建国路88号13812345678", "北京市朝阳区建国路88号 138-1234-5678",
    "北京市朝阳区建国路88号（010-87654321）", "北京市朝阳区建国路88号(0571)8765432",
])
def test_a_phone_inside_the_address_is_flagged(address):
    assert flags_of(address) == ("address_phone",)


@pytest.mark.parametrize("address", ["北京市朝阳区建国路88号院010502", "北京市朝阳区建国路10086号",
                                     "北京市朝阳区建国路88号1-1-303"])
def test_numbers_that_are_not_phones_pass(address):
    assert flags_of(address) == ()


# --- house_number and detail_junk --------------------------------------------------------------------


@pytest.mark.parametrize("address", [
    "北京市朝阳区建国路0号", "北京市朝阳区建国路000号", "北京市朝阳区建国路698623号", "北京市朝阳区建国路8号3O1室",
    "北京市朝阳区建国路12a3号", "北京市朝阳区建国路8号5@02室", "北京市朝阳区建国路8号3?号楼", "北京市朝阳区建国路8~号",
])
def test_numbers_that_cannot_be_one_are_flagged(address):
    assert flags_of(address) == ("house_number",)


@pytest.mark.parametrize("address", [
    "北京市朝阳区建国路88号B座1728", "北京市朝阳区建国路88号C6-408/411", "北京市朝阳区宾王商贸区3F-12",
    "北京市朝阳区建国路88号502A", "北京市朝阳区建国路88号1-1-303", "北京市朝阳区建国路88号18-3-502",
    "北京市朝阳区建国路10-20-1", "北京市朝阳区建国路88号院1号楼2单元502室", "北京市西城区甲1号院",
    "北京市朝阳区建国路88号院010502", "北京市朝阳区第一办公区", "北京市朝阳区建国路88号13A03室",
    "北京市朝阳区深南大道10168号", "北京市朝阳区高新南四道018号", "北京市朝阳区建国路88号601~603室",
    "北京市朝阳区建国路88号16层&22层", "北京市朝阳区建国路88号A&B栋", "北京市朝阳区建国路88号3#楼",
    "北京市朝阳区建国路88号【望京SOHO】（东门）", "北京市朝阳区建国路88号1&6号楼", "北京市朝阳区建国路88号12b栋",
])
def test_real_number_shapes_pass(address):
    assert flags_of(address, postcode="100102") == ()


@pytest.mark.parametrize("address", [
    "北京市朝阳区#?@!路8号", "北京市朝阳区#&路8号", "北京市朝阳区~~路8号", "北京市朝阳区建国路8号$%",
    "北京市朝阳区建国路8号复旦软件园??1号楼", "北京市朝阳区建国路8号复旦软件园？1号楼",
    "北京市朝阳区??南路8号", "北京市朝阳区 ?!弄8号", "北京市朝阳区?#村7组",   # right after the names
])
def test_symbols_no_address_holds_are_flagged(address):
    assert flags_of(address) == ("detail_junk",)


@pytest.mark.parametrize("address", [
    "北京市朝阳区建国路8号复旦软件园?1号楼", "广州市荔湾区芳村大道下市直街 信义?国际会馆（一号楼）",
    "中国?北京市?海淀区?王庄路1号?清华同方科技大厦B座27层",
])
def test_one_question_mark_between_words_is_a_lost_separator(address):
    assert "detail_junk" not in flags_of(address) and "admin_digits" not in flags_of(address)


@pytest.mark.parametrize("address, postcode", [
    ("河南.郑州.金水区.花园路12号", "450000"), ("四川/成都市/新都区新繁镇繁江路1号", "610500"),
    ("广州市，天河区，天河路490号", "510000"), ("云南, 德宏傣族景颇族自治州, 芒市, 丙午路3号", "678400"),
    ("深圳市宝安13区宝民一路宝通大厦1807", "518000"), ("重庆市渝北区佳园路2号康田·凯旋国际", "401120"),
])
def test_real_separators_numbered_areas_and_dotted_buildings_pass(address, postcode):
    assert flags_of(address, postcode=postcode) == ()


def test_digits_inside_a_name_are_still_junk():
    assert flags_of("北京市朝12阳区望京街道12号") == ("admin_digits",)
    assert flags_of("北京市1234海淀区中关村大街1号") == ("admin_digits",)



# --- address_incomplete ------------------------------------------------------------------------------


@pytest.mark.parametrize("address, postcode", [
    ("深圳", "518000"), ("北京市朝阳区", "100102"), ("山东威海环翠区羊亭镇", "264200"), ("北京市朝阳区。", "100102"),
])
def test_an_address_that_stops_at_the_admin_names_is_flagged(address, postcode):
    assert flags_of(address, postcode=postcode) == ("address_incomplete",)


def test_an_address_with_anything_after_its_names_is_complete():
    assert flags_of("北京市朝阳区望京", postcode="100102") == ()
    assert flags_of("广东省东莞市虎门镇万达广场", postcode="523900") == ()


# --- admin_conflict ----------------------------------------------------------------------------------


@pytest.mark.parametrize("address, postcode", [
    ("浙江省杭州市宁波市海曙区1号", "310012"), ("北京市海淀区朝阳区建国路1号", "100102"),
    ("浙江省杭州市西湖区余杭区1号", "310012"), ("云南省临沧市云县双江拉祜族佤族布朗族傣族自治县大文乡1号", "677000"),
])
def test_two_names_of_one_level_under_one_parent_are_flagged(address, postcode):
    assert flags_of(address, postcode=postcode) == ("admin_conflict",)


@pytest.mark.parametrize("address, postcode", [
    ("北京市海淀区朝阳公园1号", "100102"),            # a park named after a place
    ("浙江省杭州市西湖区东城区1号", "310012"),         # 东城区 is no county of 杭州: a part of town
    ("安徽省亳州市谯城区城区槐江路291号", "236800"),  # a word that is also a county name
    ("吉林省吉林市昌邑区吉林高新技术产业开发区1号", "132000"),   # a zone overlaps the districts
    ("浙江省杭州市宁波路1号", "310012"),
])
def test_words_parks_and_zones_after_a_name_pass(address, postcode):
    assert "admin_conflict" not in flags_of(address, postcode=postcode)


# --- detail_other_place ------------------------------------------------------------------------------


@pytest.mark.parametrize("address", [
    "北京市朝阳区建国路1号上海市浦东新区张江镇1号",
    "北京市朝阳区天畅园1号楼 无锡滨湖区530大厦1号楼",
    "北京市朝阳区建国路1号/浙江省杭州市西湖区文三路1号",
])
def test_another_place_pasted_into_the_detail_is_flagged(address):
    assert flags_of(address) == ("detail_other_place",)


@pytest.mark.parametrize("address, postcode", [
    ("湖北省嘉鱼县陆溪镇湖北省嘉鱼县陆溪镇1号", "437200"),   # the same place again
    ("北京市朝阳区北京路1号", "100102"),                    # a street named after a city
    ("上海市黄浦区南京东路1号", "200001"),
    ("广东省广州市天河区上海大厦", "510620"),
    ("浙江省杭州市西湖区浙江大学", "310012"),              # one name alone is a building's
    ("浙江省宁波市慈溪市杭州湾新区1号", "315300"),
])
def test_the_same_place_and_names_of_streets_pass(address, postcode):
    assert flags_of(address, postcode=postcode) == ()


def test_the_report_names_what_it_found():
    report = inspect("张伟,北京市海淀区朝阳区建国路1号上海市浦东新区1号 5@02室,邮编:100102,电话:13812345678")
    assert report.conflict == "朝阳区"
    assert report.other_place == "上海市浦东新区"
    assert report.house_numbers == ("5@02室",)


# --- generated correct records -------------------------------------------------------------------------


def test_generated_correct_records_raise_no_flag():
    from rayscore.addresses.records import generate_records

    frame = generate_records(3000, seed=5, error_rate=0.0)
    flagged = [(t, r.flags) for t, r in zip(frame["text"], ADDRESS_CHECKS.run(frame["text"].tolist())) if r.flags]
    assert flagged == []


@pytest.mark.parametrize("address", [
    "江苏南通海门市江苏南通市南通经济技术开发区长川路1号",   # a zone overlaps the county written
    "河南开封龙亭区河南开封市金明区东京新城C栋804",           # a former name of the same place
    "广东省中山市横栏镇贴边村西路四巷184号（销售部在广州番禺区）",   # a remark in parentheses
])
def test_zones_and_former_names_in_the_detail_are_no_other_place(address):
    assert "detail_other_place" not in flags_of(address)


def test_a_region_written_with_commas_is_one_address():
    # 保山 alone has no address word; it is still a division's name, so the fields join.
    assert flags_of("云南保山昌宁县云南, 保山, 昌宁县, 昌宁县柯街镇供电所", postcode="678100") == ()
    assert flags_of(":泉州市鲤城区江南火炬工业区常兴路429号", postcode="362000") == ()


def test_a_former_name_then_its_successor_is_no_conflict():
    assert flags_of("绍兴县柯桥区福全工业区", postcode="312000") == ()
    assert flags_of("北京市朝阳区海淀区中关村1号") == ("admin_conflict",)
