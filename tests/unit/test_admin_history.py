"""Former division names, addresses written twice by delivery platforms, and names cut short."""

from __future__ import annotations

import pytest

from rayscore.addresses.admin_names import read_admin
from rayscore.addresses.checks import ADDRESS_CHECKS
from rayscore.addresses.divisions import load_divisions, load_history

ADMIN_FLAGS = ("admin_unknown", "admin_repeated", "admin_order", "detail_repeated", "city_not_in_province",
               "county_not_in_city")


def admin_flags(address: str) -> tuple[str, ...]:
    flags = ADDRESS_CHECKS.check(f"张伟,{address},邮编:100102,电话:13812345678").flags
    return tuple(f for f in flags if f in ADMIN_FLAGS)


def names(address: str) -> list[tuple[str, str, str | None]]:
    return [(n.written, n.match, n.nearest) for n in read_admin(address).names]


# --- the history table ----------------------------------------------------------------------------


def test_history_holds_only_names_the_current_table_lacks():
    current = {(p.code, p.name) for p in load_divisions().places.values()}
    history = load_history()
    assert history and not current & set(history)
    assert ("330104", "江干区") in history and ("4206", "襄樊市") in history
    assert ("370284", "胶南市") in history and ("512081", "简阳市") in history   # gone before 2016


def test_the_history_has_the_2016_to_2022_and_the_2010_to_2015_names():
    history = load_history()
    assert len(history) == 436
    assert sum(p.first_year is not None and p.first_year < 2016 for p in history.values()) == 244


def test_a_former_place_records_its_years_and_successor():
    jianggan = load_history()["330104", "江干区"]
    assert (jianggan.parent, jianggan.first_year, jianggan.last_year,
            jianggan.successor) == ("3301", 2016, 2020, "330102")
    gaoyao = load_history()["441283", "高要市"]
    assert (gaoyao.parent, gaoyao.first_year, gaoyao.last_year, gaoyao.successor) == ("4412", 2010, 2015, "441204")


@pytest.mark.parametrize("code, name, parent, successor", [
    ("512081", "简阳市", "5120", "510185"),   # 资阳's until 2016, 成都's now
    ("341521", "寿县", "3415", "340422"),     # 六安's until 2015, 淮南's now
])
def test_a_place_that_moved_keeps_its_former_code_and_parent(code, name, parent, successor):
    moved = load_history()[code, name]
    assert (moved.parent, moved.successor) == (parent, successor)
    assert load_divisions().places[successor].name == name


def test_a_municipality_county_hangs_under_the_province():
    assert load_history()["110228", "密云县"].parent == "11"
    assert load_history()["110228", "密云县"].successor == "110118"


# --- former names are known ------------------------------------------------------------------------


@pytest.mark.parametrize("address, written, nearest", [
    ("浙江省杭州市江干区九堡镇", "江干区", "上城区"),
    ("浙江省杭州市下城区武林路1号", "下城区", "拱墅区"),
    ("浙江省宁波市江东区百丈路1号", "江东区", "鄞州区"),
    ("河北省邢台市桥西区中兴路1号", "桥西区", "信都区"),
    ("湖北省襄樊市樊城区人民路1号", "襄樊市", "襄阳市"),
    ("陕西省安康市旬阳县城关镇", "旬阳县", "旬阳市"),
    ("广西百色市田阳县那坡镇", "田阳县", "田阳区"),
    ("江苏省南通市海门市人民路1号", "海门市", "海门区"),
])
def test_former_names_read_as_former_with_their_current_name(address, written, nearest):
    assert (written, "former", nearest) in names(address)
    assert admin_flags(address) == ()


@pytest.mark.parametrize("address, written, nearest", [
    ("山东省青岛市胶南市珠山路88号", "胶南市", None),          # 黄岛区 since 2012
    ("山东省济宁市兖州市建设路88号", "兖州市", "兖州区"),
    ("广东省茂名市茂港区站前路88号", "茂港区", None),          # merged 2014
    ("广东省肇庆市高要市南岸街道88号", "高要市", "高要区"),
    ("江苏省淮安市清河区淮海路88号", "清河区", None),          # 清江浦区 since 2016
    ("山东省济宁市市中区太白路88号", "市中区", None),          # merged 2013
    ("四川省资阳市简阳市人民路88号", "简阳市", "简阳市"),      # 成都's since 2016
    ("安徽省六安市寿县寿春镇88号", "寿县", "寿县"),            # 淮南's since 2015
    ("广东省揭阳市揭东县曲溪镇", "揭东县", "揭东区"),
    ("江苏省苏州市吴江市松陵镇1号", "吴江市", "吴江区"),
    ("贵州省毕节地区大方县1号", "毕节地区", "毕节市"),
])
def test_names_gone_before_2016_read_as_former(address, written, nearest):
    assert (written, "former", nearest) in names(address)
    assert not {"admin_unknown", "county_not_in_city", "city_not_in_province"} & set(admin_flags(address))


def test_a_moved_place_under_its_new_city_is_the_current_place():
    assert names("四川省成都市简阳市人民路88号")[2] == ("简阳市", "exact", None)
    assert read_admin("四川省成都市简阳市人民路88号").names[2].code == "510185"
    assert read_admin("四川省资阳市简阳市人民路88号").names[2].code == "512081"
    assert admin_flags("安徽省淮南市寿县寿春镇88号") == ()


def test_a_town_after_a_moved_place_is_its_successors_town():
    assert read_admin("安徽省六安市寿县寿春镇88号").names[3].code == "340422100"


def test_a_name_gone_before_2016_under_another_city_still_fails():
    assert admin_flags("广东省广州市茂港区站前路88号") == ("county_not_in_city",)
    assert admin_flags("山东省烟台市胶南市珠山路88号") == ("county_not_in_city",)


@pytest.mark.parametrize("address, written, nearest", [
    ("山东省青岛市胶洲市福州路88号", "胶洲市", "胶州市"),
    ("山东省青岛市胶男市珠山路88号", "胶男市", "胶州市"),     # nor is a typo of 胶南市 read as former
    ("江苏省淮安市清江蒲区淮海路88号", "清江蒲区", "清江浦区"),
    ("山东省济宁市任成区太白路88号", "任成区", "任城区"),
    ("广东省肇庆市高耍区南岸街道88号", "高耍区", "高要区"),
    ("四川省成都市简杨市人民路88号", "简杨市", "简阳市"),
    ("广东省茂名市茂男区站前路88号", "茂男区", "茂南区"),
])
def test_a_typo_of_a_current_name_near_a_former_one_is_still_a_typo(address, written, nearest):
    assert (written, "typo", nearest) in names(address)
    assert admin_flags(address) == ("admin_unknown",)


def test_a_former_city_and_its_former_district_nest():
    reading = read_admin("山东省莱芜市莱城区凤城街道1号")
    assert [(n.written, n.match) for n in reading.names[:3]] == [("山东省", "exact"), ("莱芜市", "former"),
                                                                 ("莱城区", "former")]
    assert reading.names[2].nearest == "莱芜区"
    assert (reading.city_in_province, reading.county_in_city) == (True, True)


def test_former_short_forms_work_as_short_forms():
    assert names("山东莱芜莱城区凤城街道")[1] == ("莱芜", "former", "济南市")
    assert names("湖北襄樊樊城区人民路1号")[1] == ("襄樊", "former", "襄阳市")
    assert read_admin("莱芜路1号").names == ()   # a short form alone, before a road, is the road's


def test_a_former_name_under_another_city_still_fails():
    assert admin_flags("浙江省宁波市江干区九堡镇") == ("county_not_in_city",)


def test_a_name_that_is_current_and_former_reads_as_the_current_place():
    reading = read_admin("吉林省公主岭市岭东街道")   # 四平's until 2020, 长春's now
    assert (reading.names[1].match, reading.names[1].code) == ("exact", "220184")


def test_a_former_name_one_character_from_a_current_one_is_no_typo():
    assert names("浙江杭州下城区武林路1号")[2] == ("下城区", "former", "拱墅区")


def test_a_typo_of_a_current_name_is_still_a_typo():
    assert names("浙江省杭州市西胡区文三路1号")[2] == ("西胡区", "typo", "西湖区")
    assert admin_flags("浙江省杭州市西胡区文三路1号") == ("admin_unknown",)


def test_an_old_suffix_is_renamed_before_a_typo_of_a_neighbour():
    # 呼兰县 (呼兰区 since 2004, before any table here) is one character from 依兰县 and 木兰县 too.
    assert names("黑龙江省哈尔滨市呼兰县利民街道1号")[2] == ("呼兰县", "renamed", "呼兰区")


# --- the address written again after its region ---------------------------------------------------


@pytest.mark.parametrize("address, detail", [
    ("天津天津河西区中国天津天津河西区黑牛城道【新世纪城18-3-502】", "黑牛城道【新世纪城18-3-502】"),
    ("湖南衡阳常宁市湖南省衡阳市常宁市泉峰街道建设路8号", "建设路8号"),
    ("广东中山中山市广东中山中山市横栏镇永兴路1号", "永兴路1号"),
    ("清徐县中国山西太原清徐县清徐县人民医院附近", "人民医院附近"),
    ("海淀区北京市海淀区翠微路普惠南里7号楼", "翠微路普惠南里7号楼"),
    ("天津天津北辰区中国天津天津北辰区北辰区青光村", "青光村"),
])
def test_a_restated_region_is_one_chain(address, detail):
    reading = read_admin(address)
    assert reading.restated and reading.detail == detail
    assert (reading.repeated, reading.in_order) == ((), True)
    assert admin_flags(address) == ()


def test_a_chain_written_once_is_not_restated():
    reading = read_admin("湖南省衡阳市常宁市泉峰街道建设路8号")
    assert not reading.restated and reading.detail == "建设路8号"


def test_a_second_chain_ending_elsewhere_is_no_restatement():
    assert admin_flags("朝阳区北京市建国路88号") == ("admin_order",)
    assert not read_admin("杭州市西湖区杭州市第二中学").restated


def test_a_town_twice_inside_a_restatement_is_how_platforms_join_it():
    assert "detail_repeated" not in admin_flags("湖南衡阳常宁市湖南省衡阳市常宁市泉峰街道泉峰街道建设路8号")
    assert "detail_repeated" in admin_flags("湖南衡阳常宁市湖南省衡阳市常宁市泉峰街道建设路建设路8号")


def test_a_level_written_twice_in_one_chain_is_still_a_repeat():
    assert admin_flags("北京市昌平区昌平区吉晟别墅1807") == ("admin_repeated",)
    assert admin_flags("广东省东莞市东莞市虎门镇连升路1号") == ("admin_repeated",)


@pytest.mark.parametrize("address", ["山西省太原市清徐县清徐县人民医院", "新疆和田地区墨玉县墨玉县公安局",
                                     "广西玉林市博白县博白县人民政府"])
def test_a_county_beginning_an_institution_name_is_not_written_twice(address):
    assert admin_flags(address) == ()


def test_a_countyless_city_short_then_full_is_the_platform_region():
    assert admin_flags("广东中山中山市石岐街道孙文中路1号") == ()


@pytest.mark.parametrize("address", [
    "江西南昌西湖区中国江西南昌南昌市西湖区桃花路12号",   # the platform's 南昌, the person's 南昌市
    "湖北仙桃仙桃市中国湖北仙桃仙桃市西流河镇中心村3组",    # a county-level city under its province
    "湖北孝感孝南区孝南区祝站镇沿河街22号",                # the platform's region, then the county typed again
    "简阳市中国四川资阳简阳市简阳市简城镇花园街180号",      # the county again, by its former filing
])
def test_the_platform_join_is_no_repeat(address):
    assert admin_flags(address) == ()


@pytest.mark.parametrize("address", ["北京市朝阳区朝阳区望京街道12号", "天津市西青区西青区人民路1号",
                                     "广东省东莞市东莞市樟木头镇裕丰路1号"])
def test_a_name_typed_twice_is_a_repeat(address):
    assert "admin_repeated" in admin_flags(address)


@pytest.mark.parametrize("address, written, code", [
    ("包头市昆区钢铁大街94号", "昆区", "150203"), ("南京市雨花区宁双路18号", "雨花区", "320114"),
    ("重庆市酉阳县钟多街道桃花源大道1号", "酉阳县", "500242"), ("廊坊市大厂县工业二路8号", "大厂县", "131028"),
    ("贵州毕节地区七星关区鸭池镇头部桥1号", "七星关区", "520502"),
])
def test_names_in_everyday_use_read_as_their_place(address, written, code):
    assert written in [n.written for n in read_admin(address).names if n.code == code]
    assert admin_flags(address) == ()


# --- names cut short ------------------------------------------------------------------------------


@pytest.mark.parametrize("address, written, nearest", [
    ("北京市门头区石龙南路1号", "门头区", "门头沟区"),
    ("浙江杭市西湖区文三路1号", "杭市", "杭州市"),
    ("浙省杭州市西湖区文三路1号", "浙省", "浙江省"),
])
def test_a_name_missing_a_character_reads_as_cut(address, written, nearest):
    assert (written, "cut", nearest) in names(address)
    assert "county_not_in_city" not in admin_flags(address)


def test_a_cut_name_needs_confirmation_or_its_parent():
    assert all(n.match != "cut" for n in read_admin("杭市文三路1号").names)   # nothing confirms 杭州市
    assert names("湖南省长沙市雨花区劳动路1号")[2] == ("雨花区", "exact", None)   # 长沙's own 雨花区


# --- a town written as a district -----------------------------------------------------------------


def test_a_town_of_a_countyless_city_written_as_a_district():
    reading = read_admin("东莞市东城区东城路御景大厦")
    assert (reading.names[1].written, reading.names[1].level, reading.names[1].code) == ("东城区", 4, "441900003")
    assert admin_flags("东莞市东城区东城路御景大厦") == ()
    assert admin_flags("北京市东城区东直门南大街1号") == ()


@pytest.mark.parametrize("address, flag", [
    ("河北石家庄桥西区中国河北南京高淳区中苑居委会【恒大城6-2-3203】", "city_not_in_province"),
    ("湖北襄阳枣阳市中国湖北襄阳嘉鱼县东园居委会【民营区】", "county_not_in_city"),
])
def test_the_address_typed_after_a_region_is_checked_as_written(address, flag):
    # A region, then 中国, then the address as typed naming another place: what the person typed
    # is read as its own chain and checked, not left in the detail unread.
    reading = read_admin(address)
    assert not reading.restated and reading.restart_at == 0
    assert flag in admin_flags(address)


def test_the_address_typed_after_a_region_may_name_another_district_of_its_city():
    # 江苏扬州广陵区中国江苏扬州邗江区...: the region and the address disagree within one city; the
    # address is clear, and no check decides which district is meant.
    assert admin_flags("江苏扬州广陵区中国江苏扬州邗江区方巷镇【联合村】") == ()


def test_a_restatement_says_where_it_begins():
    address = "天津天津河西区中国天津天津河西区黑牛城道【新世纪城18-3-502】"
    assert address[:read_admin(address).restart_at] == "天津天津河西区中国"


@pytest.mark.parametrize("address", [
    "北京北京延庆区延庆县文委4号",            # the former name of the same county
    "河北唐山曹妃甸区唐海县龙凤园205-2-1801",  # a county merged into it
    "海南海口儋州市那大镇农垦医院",            # filed where platforms filed it before 2015
])
def test_a_former_name_after_the_county_is_no_conflict(address):
    assert "admin_conflict" not in ADDRESS_CHECKS.check(f"张伟,{address},电话:13812345678").flags


def test_two_current_districts_in_a_row_still_conflict():
    assert "admin_conflict" in ADDRESS_CHECKS.check("张伟,山东烟台芝罘区福山区星河城8-3-902,电话:13812345678").flags


@pytest.mark.parametrize("address", ["北京朝区建国路88号", "广州天区棠东横岭三路3号", "湖南宁市菊枫村24号"])
def test_a_county_cut_to_one_character_after_a_short_form_is_read(address):
    # The short form is cut off by what follows, so no name is read at all: the cut is still seen.
    assert "admin_unknown" in ADDRESS_CHECKS.check(f"张伟,{address},电话:13812345678").flags


def test_a_short_form_before_a_real_area_word_is_no_cut():
    assert "admin_unknown" not in ADDRESS_CHECKS.check("张伟,上海东区水务所3号,电话:13812345678").flags
