"""What the demo county's volunteers do, in the words people use: the teams, the tasks a station
posts through the year, what volunteers write back, why an officer does not confirm, and the
shops with their goods. Plain data; `pingan.demo.volunteers` plays it out.
"""

from dataclasses import dataclass

from pingan.volunteers.models import Availability, Skill, TaskKind

K = TaskKind
S = Skill
A = Availability


@dataclass(frozen=True)
class TeamSpec:
    """A volunteer team. `org`: "station", "county" or an office name of the town; `grids`:
    which grids it serves ("town", "urban" for the county seat's communities, "office" for the
    grids of its office); `size`: members at the end of the year, leader included."""

    key: str
    town: int
    name: str
    org: str
    grids: str
    size: int
    requires_approval: bool
    description: str
    skills: tuple = (S.PATROL,)
    # Night patrols a week this team turns out for (0.5 = every other week).
    patrols_per_week: float = 1.0


TEAMS = (
    TeamSpec(
        "chengguan",
        0,
        "城关镇红袖标义警队",
        "station",
        "urban",
        115,
        True,
        "城关镇老党员、退休干部和热心居民组成的红袖标队伍，承担街面夜巡、反诈宣传和大型活动"
        "秩序维护。",
        (S.PATROL, S.PUBLICITY, S.MEDIATION, S.TRAFFIC),
        1.0,
    ),
    TeamSpec(
        "wenchang",
        0,
        "文昌社区平安志愿者队",
        "文昌联勤警务站",
        "office",
        50,
        False,
        "文昌商业街商户和社区居民组成，协助联勤警务站维护步行街秩序、寻找走失老人儿童。",
        (S.PATROL, S.FIRST_AID, S.PUBLICITY),
        0.5,
    ),
    TeamSpec(
        "park",
        0,
        "城东工业园护企义警队",
        "工业园警务室",
        "office",
        35,
        True,
        "园区企业保安和职工骨干组成，夜间巡查厂区周边、宿舍区，协助开展防盗防诈宣传。",
        (S.PATROL, S.DRIVING, S.IT),
        0.25,
    ),
    TeamSpec(
        "binjiang",
        0,
        "滨江夜巡队",
        "南门警务室",
        "office",
        40,
        False,
        "滨江路沿线居民自发组成的夜巡队，夏季重点巡查江边防溺水和夜市周边。",
        (S.PATROL, S.WATER_RESCUE, S.FIRST_AID),
        0.5,
    ),
    TeamSpec(
        "quanjiang",
        1,
        "泉江镇平安义警队",
        "station",
        "town",
        55,
        True,
        "泉江镇各村平安志愿者，圩日协助疏导交通，农闲时开展村组夜巡。",
        (S.PATROL, S.TRAFFIC, S.DIALECT),
        0.5,
    ),
    TeamSpec(
        "yutian",
        2,
        "雩田镇红袖标志愿队",
        "station",
        "town",
        42,
        True,
        "雩田镇的红袖标队伍，以村干部、乡贤和返乡青年为主。",
        (S.PATROL, S.MEDIATION, S.DIALECT),
        0.5,
    ),
    TeamSpec(
        "bizhou",
        3,
        "碧洲镇义警队",
        "station",
        "town",
        38,
        False,
        "碧洲镇沿河村庄的义警，夏季巡查河道、水库，协助端午龙舟赛安保。",
        (S.PATROL, S.WATER_RESCUE, S.DRIVING),
        0.5,
    ),
    TeamSpec(
        "caolin",
        4,
        "草林镇平安志愿者队",
        "station",
        "town",
        36,
        True,
        "草林镇平安志愿者，圩日维护集市秩序，节假日协助景区疏导。",
        (S.PATROL, S.TRAFFIC, S.PUBLICITY),
        0.5,
    ),
    TeamSpec(
        "yunling",
        4,
        "云岭景区护游志愿队",
        "云岭景区联勤警务站",
        "office",
        24,
        False,
        "景区周边民宿老板和向导组成，节假日疏导游客车辆、寻找走失游客。",
        (S.TRAFFIC, S.FIRST_AID, S.DRIVING),
        0.25,
    ),
    TeamSpec(
        "duiziqian",
        5,
        "堆子前镇义警队",
        "station",
        "town",
        34,
        True,
        "堆子前镇的义警队伍，以退役军人为骨干。",
        (S.PATROL, S.DRIVING, S.FIRST_AID),
        0.5,
    ),
    TeamSpec(
        "rescue",
        0,
        "平安县蓝天应急救援队",
        "county",
        "town",
        30,
        True,
        "县级应急救援志愿队伍，配备冲锋舟和无人机，承担寻找走失人员、水上救援和重大活动保障。",
        (S.WATER_RESCUE, S.FIRST_AID, S.DRIVING, S.IT),
        0.0,
    ),
)

# Of the rescue team's members this many also serve in their town's team.
RESCUE_FROM_TOWN_TEAMS = 8

AVAILABILITY_BY_AGE = (
    (A.WEEKDAY_DAY, A.WEEKEND, A.ON_CALL),  # retired
    (A.WEEKDAY_EVENING, A.WEEKEND, A.NIGHT),  # working
)

JOIN_REJECT_NOTES = (
    "资料不全，请补充身份证信息后重新申请",
    "暂不符合入队条件（需本镇常住居民）",
    "队伍满员，已推荐加入本村平安志愿队",
)
REMOVE_REASONS = (
    "连续三次报名后无故缺席，经队委会研究移出",
    "多次未按要求签到签退，经提醒未改正",
)

# --- tasks --------------------------------------------------------------------------------------

PATROL_TITLES = {
    "urban": ("{place}夜间巡逻", "{place}街面夜巡", "{place}治安巡逻（夜）"),
    "park": ("{place}厂区周边夜巡", "{place}宿舍区夜间巡查"),
    "river": ("{place}沿江夜巡（防溺水）", "{place}夜市及江边巡逻"),
    "rural": ("{place}村组夜间巡逻", "{place}平安夜巡", "{place}防火防盗夜巡"),
    "scenic": ("{place}夜间安全巡查",),
}
PATROL_DESCRIPTIONS = (
    "按路线巡逻，重点查看沿街商铺门窗、电动车集中停放点和背街小巷，发现可疑情况及时报告，不"
    "要单独处置。统一穿红马甲、戴袖标，带手电筒。",
    "两人一组沿路线巡查，提醒未关门窗的商户和住户，劝离深夜聚集饮酒人员，遇紧急情况拨打"
    " 110 并通过“平安”报告。",
    "重点巡查独居老人住户周边、村口和水塘边，顺带宣传防火防盗。",
)
TRAFFIC_TITLES = ("{place}圩日交通疏导", "{place}赶集日秩序维护", "{place}集市路口交通劝导")
TRAFFIC_DESCRIPTION = (
    "圩日上午人车混行，请在主要路口劝导摩托车、电动车有序停放，劝离占道摆摊，提醒老人小孩注"
    "意安全。听从现场民警指挥。"
)
FRAUD_TITLES = (
    "{place}反诈宣传进社区",
    "{place}防范电信网络诈骗宣传",
    "{place}“反诈”进集市宣传",
    "{place}银行网点反诈劝阻值守",
)
FRAUD_DESCRIPTION = (
    "发放反诈宣传单，帮助群众下载安装国家反诈中心 App，讲解刷单返利、冒充客服、虚假投资等常"
    "见骗局，提醒牢记 96110 预警劝阻专线。"
)
MISSING_TITLES = (
    "紧急：寻找走失老人（{place}）",
    "紧急：寻找走失儿童（{place}）",
    "紧急：寻找外出未归村民（{place}）",
)
MISSING_DESCRIPTIONS = (
    "{place}一名七十八岁老人（患阿尔茨海默病）今日上午外出未归，身高约1.60米，穿蓝色外套、黑"
    "色布鞋。请分组沿道路、田间、水塘边搜寻，发现线索立即报告，不要移动老人。",
    "一名约七岁男孩在{place}与家人走散，穿红色上衣、背黄色书包。请在周边街巷、商店、河边分组"
    "寻找，发现后原地看护并报告。",
    "{place}一名村民上山砍柴未归，家属联系不上。请携带手电、哨子，按网格分片搜山，注意自身安全。",
)

# (month, day, title, kind, slots, hours, town or None for the county seat, start hour)
EVENTS = (
    (1, 1, "元旦跨年夜广场安保", K.EVENT_SECURITY, 30, 4, 0, 21),
    (2, 9, "春节庙会秩序维护", K.EVENT_SECURITY, 24, 5, 0, 9),
    (2, 23, "元宵灯会安保", K.EVENT_SECURITY, 30, 4, 0, 18),
    (4, 4, "清明祭扫交通疏导及防火巡查", K.TRAFFIC, 16, 6, 2, 7),
    (5, 1, "五一景区游客疏导", K.TRAFFIC, 16, 6, 4, 8),
    (6, 7, "高考考点周边交通保障", K.TRAFFIC, 20, 5, 0, 7),
    (6, 10, "端午龙舟赛安保", K.EVENT_SECURITY, 24, 6, 3, 8),
    (9, 16, "中秋文艺晚会安保", K.EVENT_SECURITY, 20, 4, 0, 18),
    (10, 1, "国庆景区游客疏导", K.TRAFFIC, 16, 6, 4, 8),
    (11, 15, "平安县半程马拉松赛道保障", K.EVENT_SECURITY, 40, 5, 0, 6),
    (11, 29, "赣南脐橙采摘节交通疏导", K.TRAFFIC, 16, 6, 2, 8),
    (12, 20, "县城冬季长跑活动安保", K.EVENT_SECURITY, 20, 3, 0, 7),
)
EVENT_DESCRIPTION = (
    "活动现场人员密集，请按分组在出入口、通道和重点点位值守，疏导人流，发现拥挤、斗殴、走失等"
    "情况立即报告。统一着装，服从现场民警指挥。"
)

REPORTS = {
    K.NIGHT_PATROL: (
        "按路线巡逻一遍，沿街商铺门窗均已关好，未发现异常。",
        "巡逻中发现{n}家商铺卷帘门未锁，已电话通知店主。其余正常。",
        "在{spot}劝离深夜聚集饮酒人员{n}名，无其他情况。",
        "发现{spot}路灯损坏{n}处，已拍照，请转告社区。",
        "提醒{n}户人家关好门窗，电动车集中停放点充电正常。",
        "{spot}有一名老人徘徊，询问后护送回家，已告知家属。",
        "巡逻正常，发现{spot}有电动车飞线充电{n}处，已劝导拆除。",
    ),
    K.TRAFFIC: (
        "上午疏导路口车辆，劝导乱停摩托车{n}辆，集市秩序良好。",
        "协助民警疏导车流，劝离占道摆摊{n}处，未发生事故。",
        "路口高峰时段拥堵约二十分钟，经疏导恢复通行。",
    ),
    K.ANTI_FRAUD: (
        "发放宣传单{n}份，帮助{n2}名群众安装国家反诈中心 App。",
        "在{spot}讲解刷单返利骗局，群众反响好，发放宣传品{n}份。",
        "一名阿姨反映接到“冒充客服”电话，已现场讲解并提醒拨打 96110 咨询。",
    ),
    K.EVENT_SECURITY: (
        "负责{spot}出入口值守，人流高峰时段劝导有序进出，无异常。",
        "协助寻找走散儿童一名，十分钟后交还家长。其余正常。",
        "值守期间劝阻{n}名群众翻越护栏，活动结束后协助疏散。",
    ),
    K.MISSING_PERSON: (
        "在{spot}附近分片搜寻，未发现线索，按通知撤回。",
        "我组在{spot}找到走失人员，已原地看护并报告民警，人员身体无碍。",
        "沿河道搜寻约三公里，询问沿线住户{n}户，提供线索一条。",
    ),
}
SPOTS = ("路口", "夜市", "广场", "村口", "车站", "超市门口", "学校门口", "江边步道", "小区门口")

REJECT_REASONS = (
    "签到后提前离岗一个多小时，未完成巡逻路线",
    "签到位置与任务路线不符，无法确认实际参与",
    "未按要求提交任务反馈，经联系仍未补充",
)
CANCEL_REASONS = (
    "气象台发布暴雨橙色预警，本次任务取消",
    "活动主办方延期，任务取消",
    "台风天气，为安全起见取消本次夜巡",
)

# --- shops --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemSpec:
    name: str
    description: str
    price: int
    stock: int
    limit: int | None = None
    period: str = "total"


LOVE_SUPERMARKET_ITEMS = (
    ItemSpec("大米（5 公斤）", "本地优质籼米", 200, 40, 2, "month"),
    ItemSpec("食用油（1.8 升）", "压榨花生油", 160, 30, 1, "month"),
    ItemSpec("洗衣粉（1 公斤）", "", 50, 60),
    ItemSpec("毛巾（两条装）", "纯棉毛巾", 30, 80),
    ItemSpec("牙膏牙刷套装", "", 25, 80),
    ItemSpec("强光手电筒", "夜巡用，可充电", 80, 25, 1),
    ItemSpec("保温杯", "500 毫升不锈钢", 120, 20, 1),
    ItemSpec("雨伞", "", 60, 30),
)
PHONE_STORE_ITEMS = (
    ItemSpec("话费充值 10 元", "凭核销码到店充值到本人手机号", 100, 200, 2, "month"),
    ItemSpec("话费充值 30 元", "凭核销码到店充值到本人手机号", 280, 100, 1, "month"),
    ItemSpec("流量包 5GB（当月有效）", "", 60, 150, 2, "month"),
)
GROCERY_ITEMS = (
    ItemSpec("鸡蛋（30 枚）", "", 90, 40, 2, "month"),
    ItemSpec("挂面（2.5 公斤）", "", 70, 50),
    ItemSpec("酱油醋组合", "", 45, 40),
)

# (town, name, kind, items) — every town's love supermarket first, then the partner stores.
SHOPS = (
    (0, "城关镇爱心超市", "love_supermarket", LOVE_SUPERMARKET_ITEMS),
    (1, "泉江镇爱心超市", "love_supermarket", LOVE_SUPERMARKET_ITEMS),
    (2, "雩田镇爱心超市", "love_supermarket", LOVE_SUPERMARKET_ITEMS),
    (3, "碧洲镇爱心超市", "love_supermarket", LOVE_SUPERMARKET_ITEMS),
    (4, "草林镇爱心超市", "love_supermarket", LOVE_SUPERMARKET_ITEMS),
    (5, "堆子前镇爱心超市", "love_supermarket", LOVE_SUPERMARKET_ITEMS),
    (0, "中国移动城关营业厅", "partner_store", PHONE_STORE_ITEMS),
    (0, "城关惠民超市", "partner_store", GROCERY_ITEMS),
    (1, "泉江供销社便民店", "partner_store", GROCERY_ITEMS),
)
SHOP_HOURS = {"love_supermarket": "周一至周六 8:30-17:30", "partner_store": "每天 8:00-21:00"}
CITIZEN1_TIPS = (
    "举报村里一间出租屋每天晚上有一伙人聚众赌博，门口停了很多摩托车",
    "投诉村口路边有人长期占道摆摊，早上接送孩子的车辆过不去",
)
ORDER_CANCEL_REASONS = ("不想要了", "换一件别的", "到店时已关门，改天再来")
