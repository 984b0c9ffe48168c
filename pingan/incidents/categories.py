"""The default incident category tree, in the shape of 110 systems' codes.

Codes are hierarchical and 6 digits: 类别 XX0000 → 类型 XXYY00 → 细类 XXYYZZ; 99 marks "other".
Priorities: 1 urgent (life in danger now), 2 high, 3 normal, 4 low. Administrators edit them in
the admin afterwards; `ensure_default_categories` only adds what is missing.
"""

# (code, name, default priority)
DEFAULT_CATEGORIES = [
    ("010000", "刑事", 2),
    ("010100", "盗窃", 3),
    ("010101", "入室盗窃", 2),
    ("010102", "盗窃机动车", 3),
    ("010103", "盗窃电动车", 3),
    ("010104", "扒窃", 3),
    ("010200", "抢劫", 1),
    ("010300", "抢夺", 1),
    ("010400", "故意伤害", 1),
    ("010500", "杀人", 1),
    ("010600", "强奸猥亵", 1),
    ("010700", "绑架拐卖", 1),
    ("010800", "毒品犯罪", 2),
    ("010900", "诈骗（非电信）", 3),
    ("019900", "其他刑事", 3),
    ("020000", "治安", 3),
    ("020100", "打架斗殴", 1),
    ("020200", "赌博", 3),
    ("020300", "吸毒", 2),
    ("020400", "卖淫嫖娼", 3),
    ("020500", "寻衅滋事", 2),
    ("020600", "可疑人员", 3),
    ("020700", "噪声扰民", 4),
    ("020800", "扰乱公共秩序", 3),
    ("029900", "其他治安", 3),
    ("030000", "治安灾害事故", 2),
    ("030100", "溺水及水上险情", 1),
    ("030200", "坠楼坠落", 1),
    ("030300", "触电", 1),
    ("030400", "中毒", 1),
    ("030500", "爆炸", 1),
    ("030600", "自然灾害", 2),
    ("039900", "其他灾害事故", 2),
    ("040000", "交通事故", 2),
    ("040100", "机动车事故", 2),
    ("040101", "有人员伤亡", 1),
    ("040102", "仅财产损失", 3),
    ("040200", "非机动车事故", 3),
    ("040300", "肇事逃逸", 2),
    ("040400", "交通堵塞", 4),
    ("049900", "其他交通事故", 3),
    ("050000", "火警", 1),
    ("050100", "建筑火灾", 1),
    ("050200", "车辆火灾", 1),
    ("050300", "山林火灾", 1),
    ("050400", "电动车充电起火", 1),
    ("059900", "其他火警", 1),
    ("060000", "纠纷", 3),
    ("060100", "邻里纠纷", 3),
    ("060200", "家庭纠纷", 3),
    ("060300", "婚恋纠纷", 3),
    ("060400", "土地宅基地纠纷", 3),
    ("060500", "劳资纠纷", 3),
    ("060600", "经济债务纠纷", 3),
    ("060700", "消费纠纷", 4),
    ("069900", "其他纠纷", 3),
    ("070000", "群众求助", 3),
    ("070100", "人员走失", 2),
    ("070200", "老人儿童求助", 2),
    ("070300", "疾病求助", 2),
    ("070400", "自杀自残", 1),
    ("070500", "开锁求助", 4),
    ("070600", "物品遗失", 4),
    ("079900", "其他求助", 3),
    ("080000", "举报投诉", 4),
    ("080100", "违法犯罪线索", 3),
    ("080200", "黄赌毒线索", 3),
    ("080300", "投诉", 4),
    ("089900", "其他举报", 4),
    ("090000", "电信诈骗", 2),
    ("090100", "冒充公检法", 2),
    ("090200", "刷单返利", 2),
    ("090300", "虚假投资理财", 2),
    ("090400", "冒充电商物流客服", 2),
    ("090500", "虚假网络贷款", 2),
    ("090600", "冒充领导熟人", 2),
    ("090700", "网络交友诱导", 2),
    ("099900", "其他电信诈骗", 2),
    ("990000", "其他", 4),
    ("999900", "其他警情", 4),
]


def parent_code(code: str) -> str | None:
    if code.endswith("0000"):
        return None
    if code.endswith("00"):
        return code[:2] + "0000"
    return code[:4] + "00"


def level_of(code: str) -> int:
    return 1 if code.endswith("0000") else 2 if code.endswith("00") else 3


def ensure_default_categories(category_model) -> int:
    """Create missing default categories (parents first); never overwrite admin edits."""
    existing = set(category_model.objects.values_list("code", flat=True))
    by_code = {c.code: c for c in category_model.objects.all()}
    created = 0
    for code, name, priority in DEFAULT_CATEGORIES:
        if code in existing:
            continue
        parent = by_code.get(parent_code(code)) if parent_code(code) else None
        by_code[code] = category_model.objects.create(
            code=code, name=name, parent=parent, level=level_of(code), default_priority=priority
        )
        created += 1
    return created
