"""What an incident of the demo says: its description, address, outcome with a note that
fits the category, and the reporter's rating. Shared with the simulator.
"""

from __future__ import annotations

import random

from pingan.incidents.models import (
    Outcome,
)
from pingan.orgs.models import GridKind

from .mix import MIX_BY_CODE

OUTCOMES = {
    "dispute": (
        (Outcome.MEDIATED, 75),
        (Outcome.TRANSFERRED, 12),
        (Outcome.WARNING_GIVEN, 8),
        (Outcome.NO_FINDING, 5),
    ),
    "help": (
        (Outcome.HELP_GIVEN, 85),
        (Outcome.TRANSFERRED, 8),
        (Outcome.NO_FINDING, 5),
        (Outcome.FALSE_REPORT, 2),
    ),
    "traffic": (
        (Outcome.HANDLED_ON_SITE, 60),
        (Outcome.TRANSFERRED, 30),
        (Outcome.MEDIATED, 8),
        (Outcome.NO_FINDING, 2),
    ),
    "theft": (
        (Outcome.CASE_FILED, 65),
        (Outcome.HANDLED_ON_SITE, 15),
        (Outcome.NO_FINDING, 15),
        (Outcome.FALSE_REPORT, 5),
    ),
    "violent": ((Outcome.CASE_FILED, 85), (Outcome.HANDLED_ON_SITE, 10), (Outcome.NO_FINDING, 5)),
    "fraud": ((Outcome.CASE_FILED, 45), (Outcome.HANDLED_ON_SITE, 35), (Outcome.TRANSFERRED, 20)),
    "order": (
        (Outcome.WARNING_GIVEN, 45),
        (Outcome.HANDLED_ON_SITE, 25),
        (Outcome.CASE_FILED, 12),
        (Outcome.MEDIATED, 8),
        (Outcome.NO_FINDING, 10),
    ),
    "tip": (
        (Outcome.TRANSFERRED, 40),
        (Outcome.HANDLED_ON_SITE, 30),
        (Outcome.NO_FINDING, 25),
        (Outcome.FALSE_REPORT, 5),
    ),
    "fire": ((Outcome.TRANSFERRED, 55), (Outcome.HANDLED_ON_SITE, 40), (Outcome.NO_FINDING, 5)),
    "hazard": ((Outcome.HELP_GIVEN, 60), (Outcome.TRANSFERRED, 35), (Outcome.NO_FINDING, 5)),
    "other": (
        (Outcome.HANDLED_ON_SITE, 50),
        (Outcome.NO_FINDING, 30),
        (Outcome.FALSE_REPORT, 10),
        (Outcome.TRANSFERRED, 10),
    ),
}
# Notes any incident may carry with its outcome; GROUP_NOTES narrows them where the wording
# depends on what happened (a scam is "discouraged", a crash is "cleared").
OUTCOME_NOTES = {
    Outcome.MEDIATED: (
        "经民警现场调解，双方达成和解",
        "双方签订调解协议，矛盾已化解",
        "已联合村（居）委会调解完毕",
    ),
    Outcome.TRANSFERRED: ("已移交相关职能部门处理",),
    Outcome.WARNING_GIVEN: ("对当事人进行了批评教育", "已对当事人进行法治宣传和批评教育"),
    Outcome.CASE_FILED: (
        "已受案登记，转办案队侦查",
        "已立案，调取周边监控",
        "已受案，开展走访调查",
    ),
    Outcome.HELP_GIVEN: ("已帮助当事人解决问题", "已协助处理完毕"),
    Outcome.HANDLED_ON_SITE: ("现场处置完毕",),
    Outcome.NO_FINDING: ("民警到场未发现报警所述情况", "到场时当事人已离开，经回访无异常"),
    Outcome.FALSE_REPORT: ("经核实为虚假报警，已对报警人进行教育",),
}
GROUP_NOTES = {
    ("dispute", Outcome.TRANSFERRED): ("已移交司法所跟进调解", "已移交村（居）委会跟进化解"),
    ("traffic", Outcome.HANDLED_ON_SITE): ("现场疏导完毕，交通恢复正常", "双方协商处理完毕"),
    ("traffic", Outcome.TRANSFERRED): ("已移交交警大队处理",),
    ("fraud", Outcome.HANDLED_ON_SITE): ("成功劝阻，未造成损失", "已协助紧急止付"),
    ("fraud", Outcome.TRANSFERRED): ("已移交反诈中心研判",),
    ("fraud", Outcome.CASE_FILED): ("已受案，转反诈中心侦查",),
    ("order", Outcome.HANDLED_ON_SITE): ("现场秩序已恢复", "已劝散聚集人员"),
    ("fire", Outcome.HANDLED_ON_SITE): ("明火已扑灭，无人员伤亡",),
    ("fire", Outcome.TRANSFERRED): ("已移交消防救援大队处置",),
    ("hazard", Outcome.HELP_GIVEN): ("已将被困人员转移至安全地带",),
    ("hazard", Outcome.TRANSFERRED): ("已移交应急管理部门处置",),
}
# Keyed by the category's 4-digit type prefix; {who}/{elder}/{reason}/{place} are filled in.
DESCRIPTIONS = {
    "0601": (
        "{who}与邻居因{reason}发生争吵，请求民警到场调解",
        "两户邻居因{reason}起争执，双方情绪激动",
    ),
    "0602": ("夫妻二人因家庭琐事争吵，一方情绪激动，家属报警", "兄弟之间因赡养老人问题发生争执"),
    "0603": ("一对情侣在路边争吵拉扯，路人报警", "男子因感情纠纷到女方家中吵闹"),
    "0604": ("两户村民因宅基地边界发生争执，有人拿着锄头", "村民因山林田地界址不清发生争吵"),
    "0605": ("十余名工人聚集讨要工资", "务工人员反映被拖欠工资，与老板发生争执"),
    "0606": ("债主上门讨债发生争吵", "{who}因借款纠纷与对方发生争执"),
    "0607": ("顾客与店主因商品退换发生争执", "游客与商户因价格问题发生纠纷"),
    "0699": ("{who}因琐事与他人发生争执", "双方因停车位发生争吵"),
    "0701": ("家中{elder}外出未归，手机联系不上", "一名约六岁儿童与家人走散"),
    "0702": ("一名{elder}在路边徘徊，疑似迷路", "独居{elder}多日未出门，邻居担心"),
    "0703": ("路边有人突然晕倒，请求帮助", "{elder}在家中摔倒无法起身"),
    "0704": ("有人站在桥边情绪低落，疑似轻生", "家属报称亲人留下字条后离家，联系不上"),
    "0705": ("钥匙锁在屋内，家中有小孩", "{who}被锁在门外，请求帮助"),
    "0706": ("在路边捡到一个钱包，里面有身份证", "手机遗落在出租车上，请求帮助寻找"),
    "0799": ("有蛇进入家中，请求帮助", "{place}有一头牛跑到路中间"),
    "0401": ("两车相撞，有人受伤", "小轿车与电动车相撞，双方争执"),
    "0402": ("电动车与行人发生碰撞", "两辆电动车相撞，有人擦伤"),
    "0403": ("车辆撞到护栏后驶离现场", "行人被车辆剐蹭，肇事车逃逸"),
    "0404": ("{place}车辆拥堵严重", "大货车抛锚堵住路口"),
    "0101": ("家中被盗，门锁被撬", "回家发现屋内被翻乱，现金丢失"),
    "0102": ("停在楼下的小轿车被盗", "村民停在院子里的摩托车不见了"),
    "0103": ("停在楼下的电动车被盗", "电动车电瓶被偷"),
    "0104": ("在{place}被扒窃手机", "赶集时钱包被偷"),
    "0105": ("两名男子在{place}殴打一人后逃离",),
    "0109": ("{elder}被人以推销保健品为名骗走钱财", "有人冒充电力公司人员上门收费"),
    "0201": ("{place}有人打架，有人受伤", "几名年轻人酒后在{place}打架"),
    "0202": ("有人在{place}聚众赌博", "举报某民房内有人赌博"),
    "0205": ("几名男子在{place}寻衅滋事", "有人酒后在店内砸东西"),
    "0206": ("{place}有可疑人员挨家挨户敲门", "有陌生人在学校门口徘徊"),
    "0207": ("楼上深夜装修噪声很大", "{place}广场舞音响声音过大"),
    "0208": ("有人在{place}拉横幅聚集", "有人在办事大厅吵闹"),
}
DESCRIPTIONS.update(
    {
        "0800": ("举报{place}有人非法倾倒垃圾",),
        "0801": ("举报有人在{place}销售假冒商品", "举报有人非法捕捞"),
        "0802": ("举报某出租屋疑似有人吸毒", "举报有人在{place}设赌"),
        "0803": ("投诉{place}餐馆油烟扰民", "投诉有人占道经营"),
        "0501": ("民房起火，有浓烟冒出", "厨房油锅起火"),
        "0502": ("路边一辆小车冒烟起火",),
        "0503": ("山上起火，有烟雾", "村民烧田埂引燃山林"),
        "0504": ("楼道内电动车充电时起火", "电动车电池冒烟起火"),
        "0301": ("有人在河边溺水", "两名小孩在水库边玩水，家长找不到人"),
        "0306": ("暴雨导致道路塌方，有车辆被困", "山体滑坡堵住村道"),
        "0901": ("接到自称公安局的电话，说我涉嫌洗钱，要求转账到安全账户",),
        "0902": ("在网上做刷单任务，先返了小钱，后来被骗走数万元",),
        "0903": ("在投资理财群里买了虚拟币，平台无法提现",),
        "0904": ("接到自称快递客服的电话，说快递丢失要理赔，被骗转账",),
        "0905": ("网上申请贷款，被要求先交保证金",),
        "0906": ("有人冒充单位领导加我微信，让我转账",),
        "0907": ("网上认识的网友诱导我在博彩网站充值",),
        "9999": ("{place}有人需要帮助，情况不明", "报警人称有事需要民警到场"),
    }
)
DESCRIPTION_FILL = {
    "who": ("村民", "居民", "租户", "店主", "一名男子", "一名女子", "老人"),
    "elder": ("老人", "八旬老人", "独居老人", "患有阿尔茨海默病的老人"),
    "reason": ("漏水", "排水沟", "堆放杂物", "鸡鸭进入菜地", "狗叫扰民", "修建围墙", "停车"),
    "place": ("集市", "路口", "广场", "村口", "超市门口", "车站", "小区门口", "学校附近"),
}
STREETS = ("人民路", "解放路", "建设路", "文昌路", "新华街", "滨江路", "龙泉大道", "五一路")
SPOTS = {
    GridKind.INDUSTRIAL_PARK: ("电子厂门口", "物流园", "标准厂房", "员工宿舍"),
    GridKind.SCENIC_AREA: ("停车场", "游客中心", "观景台", "登山步道"),
}
RATING_COMMENTS = {
    5: ("民警来得很快，处理得很好", "非常满意，谢谢民警", "态度很好，问题解决了", ""),
    4: ("处理得不错", "来得稍慢，但处理得很好", ""),
    3: ("一般", "问题还没有完全解决"),
    2: ("等了很久才到",),
    1: ("不满意",),
}


def describe(code: str, rng: random.Random) -> str:
    templates = (
        DESCRIPTIONS.get(code[:4]) or DESCRIPTIONS.get(code[:2] + "00") or DESCRIPTIONS["9999"]
    )
    text = rng.choice(templates)
    return text.format(**{key: rng.choice(values) for key, values in DESCRIPTION_FILL.items()})


def address_for(grid_name: str, kind: str, rng: random.Random) -> str:
    if kind == GridKind.URBAN_COMMUNITY:
        return f"{grid_name}{rng.choice(STREETS)}{rng.randint(1, 199)}号"
    if kind in SPOTS:
        return f"{grid_name}{rng.choice(SPOTS[kind])}"
    return f"{grid_name}{rng.randint(1, 12)}组"  # villages are addressed by 村民小组


def pick_outcome(code: str, rng: random.Random) -> tuple[str, str, bool]:
    """(outcome, note, valid) plausible for the category."""
    group = MIX_BY_CODE[code].group if code in MIX_BY_CODE else "other"
    outcomes, weights = zip(*OUTCOMES[group], strict=True)
    outcome = rng.choices(outcomes, weights)[0]
    note = rng.choice(GROUP_NOTES.get((group, outcome)) or OUTCOME_NOTES[outcome])
    valid = outcome != Outcome.FALSE_REPORT and not (
        outcome == Outcome.NO_FINDING and rng.random() < 0.6
    )
    return outcome, note, valid


def pick_rating(rng: random.Random) -> tuple[int, str]:
    rating = rng.choices((5, 4, 3, 2, 1), (70, 18, 7, 3, 2))[0]
    return rating, rng.choice(RATING_COMMENTS[rating])
