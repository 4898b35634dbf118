"""Person names as records write them: Han names, a surname and an honorific, Uyghur and Kazakh names.

    import random
    from rayscore.addresses.names import make_name
    [make_name(random.Random(seed).random) for seed in range(3)]   # ['易婷德', '景雨生', '迟先生']

The tables are public so generator_characters (records.py) can list every character a record
may hold, and so a junk name (corruptions.py) can start with a real surname.
"""

from __future__ import annotations

from rayscore.addresses.draws import Draw, pick

SURNAMES = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严"
    "覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚"
    "符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆"
    "农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋"
    "商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
) + ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "令狐", "慕容", "夏侯", "司徒", "长孙", "尉迟")
GIVEN_NAME_CHARS = tuple(dict.fromkeys(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红娥玲芬燕飞鹏辉鑫波斌宇浩凯健俊帆帅旭"
    "宁龙林欣佳怡思雨婷雪梦晨颖琳倩晶莉慧蕾璐瑶嘉子涵轩博文昊然泽睿宸航逸一诺梓萱妍可馨雅琪悦彤心"
    "晓东海峰建国志永春庆福贵生荣成德山金立新宏光祥安清云喜胜松柏桐亮坤铭彬豪毅晖锋琦洁丹薇菲露媛"
    "婉妮茜蓉岚月星阳天宝家振兴利民义仁礼智信忠孝学武兵卫艺舒楠芸蓓秋冬夏岩鸿淑贞惠珍爱霖琛瑜璇瑾"
    "珊珂菁昕昱曦乐辰皓骏哲翔煜钰敬勤朗峻毓彦凡奕娴婧蔚颂韬"
))
HONORIFICS = ("先生", "先生", "女士")
# Uyghur / Kazakh given names, written in pairs with "·" as on ID cards.
MINORITY_NAME_PARTS = (
    "阿卜杜", "热合曼", "买买提", "艾力", "阿不都", "吐尔逊", "古丽", "努尔", "阿依古丽", "迪丽拜尔",
    "帕提曼", "艾合买提", "热依拉", "依明", "托合提", "阿迪力", "玉苏甫", "麦麦提", "阿布都", "克里木",
    "沙吾提", "再努尔", "米吉提", "吾斯曼", "艾尔肯", "巴哈古丽", "加娜尔", "努尔兰", "叶尔兰", "哈力克",
    "阿力木", "塔依尔", "吾买尔", "伊力亚",
)
NAME_DOT = "·"


def make_name(r: Draw) -> str:
    x = r()
    if x < 0.88:
        given = 1 if r() < 0.3 else 2
        return pick(r, SURNAMES) + "".join(pick(r, GIVEN_NAME_CHARS) for _ in range(given))
    if x < 0.965:
        return pick(r, SURNAMES) + pick(r, HONORIFICS)
    first = pick(r, MINORITY_NAME_PARTS)
    second = pick(r, MINORITY_NAME_PARTS)
    if second == first:
        second = MINORITY_NAME_PARTS[(MINORITY_NAME_PARTS.index(first) + 1) % len(MINORITY_NAME_PARTS)]
    return first + NAME_DOT + second
