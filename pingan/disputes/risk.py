"""The red/yellow/green rules engine: plain Python, no database.

Rules are data (`RiskRule` rows). `compile_rules` turns them into checkers once; `evaluate`
runs them over the facts of one dispute and returns the colour with every reason that fired,
so the page can show why a dispute is red. The worst level fired wins; nothing fired is green.
"""

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

RED, YELLOW, GREEN = "red", "yellow", "green"
LEVELS = (RED, YELLOW)
RANK = {GREEN: 0, YELLOW: 1, RED: 2}
RULE_KINDS = ("keywords", "repeat", "vulnerable", "party_count", "stale", "amount", "relapse")
VULNERABILITY_LABELS = {
    "elderly": "老年人",
    "minor": "未成年人",
    "disabled": "残疾人",
    "mental": "精神障碍患者",
    "pregnant": "孕产妇",
}


class RuleError(ValueError):
    """A rule's parameters do not make sense; the message is shown to the administrator."""


@dataclass(frozen=True)
class Facts:
    """What the rules look at, gathered from one dispute."""

    narrative: str
    party_count: int = 0
    vulnerabilities: frozenset[str] = frozenset()
    # Days between this dispute and each earlier or later dispute between the same parties.
    repeat_gaps_days: tuple[float, ...] = ()
    days_without_progress: float = 0.0
    is_open: bool = True
    amount_yuan: float | None = None
    relapse_count: int = 0


@dataclass(frozen=True)
class Reason:
    rule: str
    name: str
    level: str
    detail: str

    def as_dict(self) -> dict:
        return {"rule": self.rule, "name": self.name, "level": self.level, "detail": self.detail}


@dataclass(frozen=True)
class Assessment:
    level: str
    reasons: tuple[Reason, ...] = field(default=())

    def reasons_as_dicts(self) -> list[dict]:
        return [reason.as_dict() for reason in self.reasons]


@dataclass(frozen=True)
class CompiledRule:
    code: str
    name: str
    kind: str
    level: str
    check: object  # Callable[[Facts], str | None]: the detail when the rule fires

    def apply(self, facts: Facts) -> Reason | None:
        detail = self.check(facts)
        if detail is None:
            return None
        return Reason(self.code, self.name, self.level, detail)


def _number(params: dict, key: str, *, minimum: float, integer: bool = True) -> float:
    value = params.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RuleError(f"参数 {key} 必须是数字")
    # JSON from the admin may carry NaN or Infinity, which no threshold can mean.
    if not math.isfinite(value):
        raise RuleError(f"参数 {key} 必须是有限的数字")
    if integer and int(value) != value:
        raise RuleError(f"参数 {key} 必须是整数")
    if value < minimum:
        raise RuleError(f"参数 {key} 不能小于 {minimum:g}")
    return value


def _keywords_check(params: dict):
    words = params.get("keywords")
    if not isinstance(words, list) or not words:
        raise RuleError("关键词规则需要非空的 keywords 列表")
    cleaned = sorted({str(w).strip() for w in words if str(w).strip()}, key=len, reverse=True)
    if not cleaned:
        raise RuleError("关键词不能全部为空")
    pattern = re.compile("|".join(re.escape(w) for w in cleaned))

    def check(facts: Facts):
        found = pattern.search(facts.narrative)
        return f"描述中出现“{found.group(0)}”" if found else None

    return check


def _repeat_check(params: dict):
    days = _number(params, "days", minimum=1)

    def check(facts: Facts):
        hits = [gap for gap in facts.repeat_gaps_days if gap <= days]
        if not hits:
            return None
        return f"相同当事人 {days:g} 天内另有 {len(hits)} 起纠纷"

    return check


def _vulnerable_check(params: dict):
    kinds = params.get("kinds", [])
    if not isinstance(kinds, list) or any(k not in VULNERABILITY_LABELS for k in kinds):
        raise RuleError(f"kinds 只能取 {', '.join(VULNERABILITY_LABELS)}")
    wanted = frozenset(kinds) or frozenset(VULNERABILITY_LABELS)

    def check(facts: Facts):
        hit = sorted(facts.vulnerabilities & wanted)
        if not hit:
            return None
        return "涉及" + "、".join(VULNERABILITY_LABELS[k] for k in hit)

    return check


def _party_count_check(params: dict):
    minimum = _number(params, "min", minimum=2)

    def check(facts: Facts):
        if facts.party_count < minimum:
            return None
        return f"当事人 {facts.party_count} 方（≥ {minimum:g}）"

    return check


def _stale_check(params: dict):
    days = _number(params, "days", minimum=1)

    def check(facts: Facts):
        waited = facts.days_without_progress
        # Written as "not >=" so a NaN wait never fires; an infinite one cannot be int()-ed.
        if not facts.is_open or not waited >= days:
            return None
        shown = int(waited) if math.isfinite(waited) else "∞"
        return f"已 {shown} 天无进展（≥ {days:g} 天）"

    return check


def _amount_check(params: dict):
    yuan = _number(params, "yuan", minimum=1, integer=False)

    def check(facts: Facts):
        if facts.amount_yuan is None or not facts.amount_yuan >= yuan:  # NaN never fires
            return None
        return f"涉及金额 {facts.amount_yuan:,.0f} 元（≥ {yuan:,.0f} 元）"

    return check


def _relapse_check(params: dict):
    minimum = _number(params, "min", minimum=1)

    def check(facts: Facts):
        if facts.relapse_count < minimum:
            return None
        return f"化解后反复 {facts.relapse_count} 次"

    return check


_BUILDERS = {
    "keywords": _keywords_check,
    "repeat": _repeat_check,
    "vulnerable": _vulnerable_check,
    "party_count": _party_count_check,
    "stale": _stale_check,
    "amount": _amount_check,
    "relapse": _relapse_check,
}


def compile_rule(code: str, name: str, kind: str, params, level: str) -> CompiledRule:
    if kind not in _BUILDERS:
        raise RuleError(f"未知的规则类型：{kind}")
    if level not in LEVELS:
        raise RuleError("命中后等级只能是红色或黄色")
    if not isinstance(params, dict):
        raise RuleError("参数必须是 JSON 对象")
    return CompiledRule(code, name, kind, level, _BUILDERS[kind](params))


def compile_rules(rows: Iterable) -> list[CompiledRule]:
    """From RiskRule rows (or anything with the same attributes), active ones only."""
    return [
        compile_rule(r.code, r.name, r.kind, r.params, r.level)
        for r in rows
        if getattr(r, "active", True)
    ]


def evaluate(facts: Facts, rules: list[CompiledRule]) -> Assessment:
    reasons = []
    level = GREEN
    for rule in rules:
        reason = rule.apply(facts)
        if reason is not None:
            reasons.append(reason)
            if RANK[reason.level] > RANK[level]:
                level = reason.level
    # Red reasons first: they are what the reader needs to see.
    reasons.sort(key=lambda r: -RANK[r.level])
    return Assessment(level, tuple(reasons))


# The rules a new installation starts with (loaded by a data migration, tunable in the admin).
DEFAULT_RULES = [
    {
        "code": "threat-violence",
        "name": "扬言暴力",
        "kind": "keywords",
        "level": RED,
        "params": {
            "keywords": [
                "砍死",
                "砍人",
                "弄死",
                "打死",
                "杀了",
                "杀人",
                "同归于尽",
                "报复",
                "放火",
                "烧房子",
                "拼命",
                "要他的命",
                "灭门",
                "血债血偿",
            ]
        },
        "description": "叙述中出现扬言伤害他人的说法",
    },
    {
        "code": "self-harm",
        "name": "扬言自伤自杀",
        "kind": "keywords",
        "level": RED,
        "params": {
            "keywords": [
                "自杀",
                "跳楼",
                "跳河",
                "喝农药",
                "上吊",
                "不想活",
                "寻死",
                "割腕",
                "轻生",
                "死给你看",
            ]
        },
        "description": "叙述中出现自伤、自杀的说法",
    },
    {
        "code": "weapon",
        "name": "提及凶器",
        "kind": "keywords",
        "level": RED,
        "params": {
            "keywords": [
                "持刀",
                "菜刀",
                "砍刀",
                "尖刀",
                "匕首",
                "斧头",
                "镰刀",
                "铁锹",
                "猎枪",
                "土枪",
                "汽油",
                "硫酸",
                "炸药",
            ]
        },
        "description": "叙述中提到刀具、枪支、汽油等",
    },
    {
        "code": "repeat-90d",
        "name": "相同当事人反复纠纷",
        "kind": "repeat",
        "level": YELLOW,
        "params": {"days": 90},
        "description": "相同当事人 90 天内再次发生纠纷",
    },
    {
        "code": "vulnerable-party",
        "name": "涉及特殊群体",
        "kind": "vulnerable",
        "level": YELLOW,
        "params": {"kinds": []},
        "description": "当事人中有老年人、未成年人、残疾人、精神障碍患者或孕产妇",
    },
    {
        "code": "many-parties",
        "name": "群体性纠纷",
        "kind": "party_count",
        "level": YELLOW,
        "params": {"min": 5},
        "description": "当事人达到 5 方及以上",
    },
    {
        "code": "stale-15d",
        "name": "长期无进展",
        "kind": "stale",
        "level": YELLOW,
        "params": {"days": 15},
        "description": "未化解的纠纷 15 天没有任何进展",
    },
    {
        "code": "large-amount",
        "name": "涉及金额较大",
        "kind": "amount",
        "level": YELLOW,
        "params": {"yuan": 100000},
        "description": "涉及金额 10 万元及以上",
    },
    {
        "code": "relapse",
        "name": "化解后反复",
        "kind": "relapse",
        "level": YELLOW,
        "params": {"min": 1},
        "description": "已化解的纠纷在回访中发现反复",
    },
]


def ensure_default_rules(rule_model) -> int:
    """Create the default rules that are missing; never overwrite an administrator's edits."""
    existing = set(rule_model.objects.values_list("code", flat=True))
    created = 0
    for rule in DEFAULT_RULES:
        if rule["code"] not in existing:
            rule_model.objects.create(**rule)
            created += 1
    return created
