"""Word lists for the demo town: surnames, given-name characters, places, units, catalogues.

Everything here is plain data. The figures are approximate (the surname weights follow the
national ranking with a Hubei tilt: 柯, 石, 余, 程, 汪 and 费 are common around Huangshi); they
only need to look right, not to be statistics.
"""


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Surname → relative weight (per mille of the population, roughly).
SURNAMES: dict[str, float] = {
    s[0]: float(s[1:])
    for s in _words(
        "王70 李70 张64 刘56 陈58 杨31 黄30 赵20 吴22 周20 徐17 孙13 马12 朱12 胡26 郭10 何11 高10 林9 罗11 "
        "郑9 梁7 谢8 宋7 唐7 许6 韩6 冯6 邓7 曹6 彭7 曾6 肖7 田6 董5 袁7 潘4 于4 蒋4 蔡5 余12 杜4 叶5 程10 "
        "苏4 魏4 吕4 丁4 任3 沈4 姚3 卢4 姜3 崔2 钟3 谭4 陆2 汪9 范3 金3 石10 廖3 贾2 夏5 韦1 付3 方5 白2 "
        "邹3 孟2 熊5 秦2 邱2 江4 尹2 薛2 闫1 段2 雷3 侯2 龙1 史2 陶3 黎2 贺2 顾1 毛2 郝1 龚3 邵2 万3 钱2 严2 "
        "柯14 费6 明2 桂2 乐1 聂2 伍2 "
    )
}

# Given-name characters by generation and gender. Names born before 1960 lean on 国/建/秀/英,
# the 1960s–80s on 军/伟/丽/红, and those born after 1985 on 浩/宇/欣/涵.
GIVEN_CHARS: dict[tuple[str, str], str] = {
    ("old", "M"): "国建华明德志文忠平军强春海福林金荣贵祥发生友富昌宝山清永庆才树双全顺炳松",
    ("old", "F"): "秀英兰芳桂珍凤梅玉华丽琴红霞翠娥云莲淑菊香娟花爱春美荷巧月素芬",
    ("mid", "M"): "军伟勇斌涛波辉刚峰杰明超磊鹏亮飞兵俊华东文健平林宏忠海斌力锋永志",
    ("mid", "F"): "丽红燕敏娟静霞艳玲芳萍琴慧莉英梅洁婷晶雪华兰颖琳丹萍菲",
    ("young", "M"): "浩宇轩子睿博涵梓俊杰泽晨一诺铭嘉昊然瑞航旭阳天奕鑫宸景皓",
    ("young", "F"): "欣怡涵萱雨佳琪思梓诗可馨悦婷妍彤梦晨一诺雅若汐瑶语嘉",
}

# Share of single-character given names by generation.
SINGLE_CHAR_SHARE = {"old": 0.35, "mid": 0.3, "young": 0.15}

# Huangshi region codes for ID numbers, with weights: most people were born in the district
# the town belongs to (西塞山区), the rest elsewhere in the prefecture.
ID_REGIONS: dict[str, float] = {
    "420203": 62,  # 西塞山区
    "420202": 8,  # 黄石港区
    "420204": 8,  # 下陆区
    "420205": 5,  # 铁山区
    "420222": 10,  # 阳新县
    "420281": 7,  # 大冶市
}

# Mobile prefixes (1[3-9]x) in use in China.
PHONE_PREFIXES = _words(
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "166 173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 191 198 199"
)

PREFECTURE = "黄石市"
DISTRICT = "西塞山区"
TOWN_NAME = "D镇"
TOWN_CODE = "420203D"
ADDRESS_PREFIX = f"{PREFECTURE}{DISTRICT}{TOWN_NAME}"

# The ten communities of D town (seed 000: 39,500 households, 10 communities, mixed old urban
# estates and villages). Households are weights, summing to 39,500 at scale 1.0. The village
# 费家畈村 is seed 000's "F村", short of volunteers: few units are paired with it.
# (code, name, kind, households, clan surname of a village)
COMMUNITIES = (
    ("D01", "幸福社区", "urban", 5200, ""),
    ("D02", "王家湾村", "rural", 2600, "王"),
    ("D03", "新风社区", "urban", 4800, ""),
    ("D04", "沈家营社区", "urban", 5600, ""),
    ("D05", "胜利社区", "urban", 4300, ""),
    ("D06", "柯家岭村", "rural", 2300, "柯"),
    ("D07", "桂花社区", "urban", 4700, ""),
    ("D08", "石家垴村", "rural", 2100, "石"),
    ("D09", "黄思湾社区", "urban", 5600, ""),
    ("D10", "费家畈村", "rural", 2300, "费"),
)

# Estates (小区) of the urban communities. "宿舍" and "新村" are old work-unit estates, often
# without a property company (老旧小区, 单位自管).
ESTATE_NAMES = _words(
    "锦绣花园 幸福家园 磁湖花园 阳光小区 桂花苑 钢城小区 华新宿舍 铁山宿舍 丽景苑 翠竹园 南湖新村 金桥小区 "
    "凤凰城 沿湖小区 新街小区 工人新村 东方山庄 滨江花园 书香门第 明珠花园 中央公园 湖景名苑 龙港小区 "
    "和谐家园 电厂宿舍 矿务局宿舍 胜阳港小区 团城山小区 花湖小区 青山湖小区 西塞山庄 道士洑小区 "
    "港湖小区 澄月苑 揽月湾 水岸星城 悦府 御景湾 天悦府 时代广场 黄荆山小区 发电厂宿舍 棉纺厂宿舍"
)
OLD_ESTATE_MARKERS = ("宿舍", "新村")

# Streets for buildings outside any estate (沿街楼).
STREET_NAMES = _words("沿江路 工人路 新街 胜利路 人民路 黄石大道 颐阳路 湖滨大道 广州路 杭州路 苏州路")

PROPERTY_COMPANIES = (
    "黄石市安居物业服务有限公司",
    "湖北磁湖物业管理有限公司",
    "黄石华新物业服务有限公司",
    "黄石城发物业服务有限公司",
    "黄石市鑫城物业管理有限公司",
    "湖北楚天物业服务有限公司",
    "黄石金山物业管理有限公司",
    "黄石市红房子物业服务有限公司",
    "湖北东楚物业服务有限公司",
    "黄石市港湖物业服务有限公司",
)

# Skills (资源清单: 专业技能) with a popularity weight: general skills are common, professional
# ones rare — the shortage seed 000 describes (托育、矛盾调解 … 专业志愿者缺口较大).
# (code, name, weight, service type)
SKILLS = (
    ("cleanup", "环境整治", 22, "environment"),
    ("policy", "政策宣传", 20, "community"),
    ("eldercare", "助老陪护", 12, "elderly_disabled"),
    ("driving", "驾驶", 10, "elderly_disabled"),
    ("tutoring", "教育辅导", 8, "education"),
    ("computer", "电脑网络", 7, "education"),
    ("performance", "文艺表演", 6, "culture"),
    ("mediation", "矛盾调解", 5, "community"),
    ("photography", "摄影宣传", 5, "culture"),
    ("electrical", "水电维修", 5, "community"),
    ("medical", "医疗护理", 4, "health"),
    ("appliance", "家电维修", 3, "community"),
    ("rescue", "应急救援", 3, "emergency"),
    ("legal", "法律咨询", 2, "legal"),
    ("counseling", "心理疏导", 2, "health"),
)

# Units (报到单位/包保单位): (name, kind, relative size, skills their staff often have).
UNITS = (
    ("黄石市财政局", "organ", 3, ("policy", "computer")),
    ("黄石市人力资源和社会保障局", "organ", 3, ("policy",)),
    ("黄石市自然资源和规划局", "organ", 2, ("policy", "photography")),
    ("黄石市住房和城市更新局", "organ", 3, ("electrical", "policy")),
    ("黄石市教育局", "organ", 3, ("tutoring", "performance")),
    ("国家税务总局黄石市税务局", "organ", 3, ("policy", "computer")),
    ("黄石市司法局", "organ", 2, ("legal", "mediation")),
    ("黄石市生态环境局", "organ", 2, ("cleanup", "policy")),
    ("黄石市交通运输局", "organ", 2, ("driving",)),
    ("黄石市文化和旅游局", "organ", 2, ("performance", "photography")),
    ("黄石市退役军人事务局", "organ", 2, ("rescue", "driving")),
    ("黄石市医疗保障局", "organ", 2, ("policy", "medical")),
    ("黄石市公安局西塞山区分局", "organ", 4, ("mediation", "rescue")),
    ("西塞山区财政局", "organ", 2, ("policy",)),
    ("西塞山区民政局", "organ", 2, ("eldercare", "policy")),
    ("西塞山区人民法院", "organ", 2, ("legal", "mediation")),
    ("西塞山区人民检察院", "organ", 2, ("legal",)),
    ("黄石市中心医院", "institution", 5, ("medical", "counseling")),
    ("下陆区人民医院", "institution", 4, ("medical", "eldercare")),
    ("西塞山区人民医院", "institution", 3, ("medical",)),
    ("黄石市妇幼保健院", "institution", 2, ("medical", "tutoring")),
    ("黄石市疾病预防控制中心", "institution", 2, ("medical", "policy")),
    ("湖北师范大学", "institution", 4, ("tutoring", "counseling", "computer")),
    ("黄石职业技术学院", "institution", 3, ("tutoring", "electrical", "computer")),
    ("黄石市第一中学", "institution", 2, ("tutoring",)),
    ("黄石日报社", "institution", 2, ("photography", "policy")),
    ("国网黄石供电公司", "enterprise", 4, ("electrical", "rescue")),
    ("黄石市水务集团有限公司", "enterprise", 3, ("electrical",)),
    ("中国移动黄石分公司", "enterprise", 2, ("computer", "appliance")),
    ("湖北黄石农村商业银行", "enterprise", 2, ("policy", "computer")),
    ("华新水泥股份有限公司", "enterprise", 3, ("electrical", "rescue")),
    ("大冶有色金属集团", "enterprise", 3, ("electrical", "driving")),
    ("黄石市城市发展投资集团", "enterprise", 2, ("cleanup", "driving")),
    ("中国邮政黄石市分公司", "enterprise", 2, ("driving",)),
    ("黄石市律师协会", "social", 1, ("legal", "mediation")),
    ("黄石市慈善总会", "social", 1, ("eldercare", "policy")),
)

# Order categories per town: (code, name, group, is_property).
CATEGORIES = (
    ("repair", "水电维修", "生活服务", False),
    ("sanitation", "环境卫生", "环境治理", False),
    ("greening", "绿化养护", "环境治理", False),
    ("road", "道路设施", "市政设施", False),
    ("illegal_build", "违章搭建", "城市管理", False),
    ("noise", "噪音扰民", "城市管理", False),
    ("dispute", "邻里纠纷", "矛盾纠纷", False),
    ("elderly", "养老服务", "民生服务", False),
    ("assistance", "困难救助", "民生服务", False),
    ("health", "医疗健康", "民生服务", False),
    ("employment", "就业帮扶", "民生服务", False),
    ("policy", "政策咨询", "民生服务", False),
    ("property", "物业管理", "物业服务", True),
    ("elevator", "电梯维修", "物业服务", True),
    ("safety", "安全隐患", "公共安全", False),
    ("security", "治安防范", "公共安全", False),
    ("wish", "微心愿", "微心愿", False),
)

# 职能部门 and the categories escalated to them (吹哨报到).
DEPARTMENTS = (
    ("城管局", ("sanitation", "greening", "road", "illegal_build", "noise")),
    ("住建局", ("property", "elevator", "safety")),
    ("民政局", ("elderly", "assistance")),
    ("D镇派出所", ("security", "dispute", "noise")),
    ("市场监管局", ("safety",)),
    ("卫健委", ("health",)),
    ("司法所", ("dispute",)),
    ("人社局", ("employment", "policy")),
    ("应急管理局", ("safety",)),
)

# 资源清单: what members bring, by MemberResource.Kind.
RESOURCES = {
    "vehicle": ("私家车一辆，可接送老人就医", "小型货车，可帮忙搬运", "电动车，可跑腿代购"),
    "legal": ("可提供免费法律咨询", "可代写法律文书"),
    "medical": ("可上门测量血压血糖", "可提供健康咨询"),
    "venue": ("单位会议室可借用", "活动场地可借用"),
    "funds": ("可联系单位捐赠慰问物资", "可资助困难学生"),
    "tech": ("可协助维护电脑和网络", "可制作宣传视频"),
    "other": ("可提供理发服务", "可组织文艺演出"),
}

# Where members who do not live in the town live (居住区域).
OUTSIDE_AREAS = (
    "黄石市黄石港区花湖街道",
    "黄石市黄石港区沈家矶街道",
    "黄石市黄石港区胜阳港街道",
    "黄石市下陆区团城山街道",
    "黄石市下陆区东方山街道",
    "黄石市下陆区新下陆街道",
    "黄石市铁山区铁山街道",
    "黄石市西塞山区八泉街道",
    "黄石市西塞山区澄月街道",
    "黄石市西塞山区临江街道",
)

DECLINE_REASONS = ("未提供单位证明", "所填单位与包保关系不符", "联系方式无法接通，请核实后重新报到")

CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1 → 一, 12 → 十二, 20 → 二十, 35 → 三十五 (for 1 ≤ n ≤ 99)."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")
