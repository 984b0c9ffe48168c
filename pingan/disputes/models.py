"""Disputes (矛盾纠纷) screened and resolved by the 431 method.

"4" screening channels (`Channel`), "3" resolution routes (`Route`), "1" tracked order for hard
cases (`CaseOrder`); red/yellow/green risk computed from `RiskRule` rows an administrator tunes.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from pingan.core.fields import BlindIndexField, EncryptedTextField
from pingan.orgs.scoping import JurisdictionQuerySet


class DisputeType(models.TextChoices):
    MARRIAGE_FAMILY = "marriage_family", "婚姻家庭"
    NEIGHBOUR = "neighbour", "邻里纠纷"
    LAND_HOUSING = "land_housing", "土地房屋"
    LABOUR_WAGES = "labour_wages", "劳资欠薪"
    DEBT = "debt", "债务纠纷"
    CONTRACT_CONSUMER = "contract_consumer", "合同消费"
    ENTERPRISE = "enterprise", "涉企纠纷"
    OTHER = "other", "其他"


class Channel(models.TextChoices):
    """The four screening channels, plus a resident asking for mediation."""

    CADRE_GRID = "cadre_grid", "村居干部、网格员排查"
    COMMUNITY_WORK = "community_work", "日常社区工作排查"
    ONLINE = "online", "网络舆情排查"
    CASE = "case", "执法办案排查"
    CITIZEN_REQUEST = "citizen_request", "群众申请调解"


class Route(models.TextChoices):
    """The three resolution routes."""

    GRASSROOTS = "grassroots", "基层组织化解"
    JUDICIAL = "judicial", "司法调解化解"
    DEPARTMENTAL = "departmental", "部门联动化解"


class RouteBody(models.TextChoices):
    """The kind of body a dispute is handed to; each belongs to one route."""

    VILLAGE_COMMITTEE = "village_committee", "村（居）委会"
    GRID_STATION = "grid_station", "警务室 / 联勤警务站"
    MEDIATION_COMMITTEE = "mediation_committee", "人民调解委员会"
    SHARED_COURT = "shared_court", "共享法庭"
    JUDICIAL_OFFICE = "judicial_office", "司法所"
    LABOUR = "labour", "人社（劳动监察）"
    MARKET = "market", "市场监管"
    HOUSING = "housing", "住建 / 自然资源"
    OTHER_DEPARTMENT = "other_department", "其他部门"


ROUTE_BODIES = {
    Route.GRASSROOTS: {RouteBody.VILLAGE_COMMITTEE, RouteBody.GRID_STATION},
    Route.JUDICIAL: {
        RouteBody.MEDIATION_COMMITTEE,
        RouteBody.SHARED_COURT,
        RouteBody.JUDICIAL_OFFICE,
    },
    Route.DEPARTMENTAL: {
        RouteBody.LABOUR,
        RouteBody.MARKET,
        RouteBody.HOUSING,
        RouteBody.OTHER_DEPARTMENT,
    },
}


class Status(models.TextChoices):
    PENDING = "pending", "待受理"
    OPEN = "open", "化解中"
    RESOLVED = "resolved", "已化解（回访中）"
    CLOSED = "closed", "已稳定结案"
    DECLINED = "declined", "不予受理"


OPEN_STATUSES = (Status.PENDING, Status.OPEN)
SETTLED_STATUSES = (Status.RESOLVED, Status.CLOSED)


class Risk(models.TextChoices):
    RED = "red", "红色"
    YELLOW = "yellow", "黄色"
    GREEN = "green", "绿色"


RISK_RANK = {Risk.GREEN: 0, Risk.YELLOW: 1, Risk.RED: 2}


class Dispute(models.Model):
    code = models.CharField("纠纷编号", max_length=20, unique=True)
    type = models.CharField("纠纷类型", max_length=20, choices=DisputeType.choices)
    channel = models.CharField("排查渠道", max_length=20, choices=Channel.choices)
    # Where an online-sentiment item came from (a post's address, a group name) or other source.
    source_note = models.CharField("来源说明", max_length=300, blank=True)
    incident = models.OneToOneField(
        "incidents.Incident",
        verbose_name="关联警情",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dispute",
    )
    title = models.CharField("事由", max_length=80)
    narrative = models.TextField("情况描述", max_length=5000)
    amount_yuan = models.DecimalField(
        "涉及金额（元）", max_digits=14, decimal_places=2, null=True, blank=True
    )
    grid = models.ForeignKey(
        "orgs.Grid", verbose_name="网格", on_delete=models.PROTECT, related_name="disputes"
    )
    org = models.ForeignKey(
        "orgs.OrgUnit", verbose_name="责任单位", on_delete=models.PROTECT, related_name="disputes"
    )
    org_path = models.CharField(max_length=255, db_index=True)
    address = models.CharField("地点", max_length=200, blank=True)
    status = models.CharField(
        "状态", max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    # Risk: `risk` is what everyone sees (the override when set, else the computed colour).
    risk = models.CharField("风险等级", max_length=6, choices=Risk.choices, default=Risk.GREEN)
    risk_computed = models.CharField(
        "规则评估等级", max_length=6, choices=Risk.choices, default=Risk.GREEN
    )
    risk_reasons = models.JSONField("预警依据", default=list, blank=True)
    risk_override = models.CharField("人工调整等级", max_length=6, choices=Risk.choices, blank=True)
    risk_override_reason = models.CharField("调整理由", max_length=500, blank=True)
    risk_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    risk_override_at = models.DateTimeField(null=True, blank=True)
    risk_evaluated_at = models.DateTimeField(null=True, blank=True, db_index=True)
    route = models.CharField("化解途径", max_length=14, choices=Route.choices, blank=True)
    route_body = models.CharField(
        "承办机构类别", max_length=20, choices=RouteBody.choices, blank=True
    )
    handoff_body = models.CharField("承办机构", max_length=100, blank=True)
    handoff_contact = models.CharField("承办联系人", max_length=50, blank=True)
    handoff_phone = EncryptedTextField("联系电话", max_length=20, blank=True)  # SM4 at rest
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="责任人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_disputes",
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="filed_disputes",
    )
    # A resident's own mediation request: they follow its status from the citizen end.
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="申请人账号",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requested_disputes",
    )
    reported_at = models.DateTimeField("登记时间", db_index=True)
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    last_progress_at = models.DateTimeField("最近进展", db_index=True)
    resolved_at = models.DateTimeField("化解时间", null=True, blank=True)
    closed_at = models.DateTimeField("结案时间", null=True, blank=True)
    resolution_note = models.TextField("化解情况", blank=True)
    relapse_count = models.PositiveSmallIntegerField("反复次数", default=0)

    objects = JurisdictionQuerySet.as_manager()

    class Meta:
        verbose_name = "矛盾纠纷"
        verbose_name_plural = "矛盾纠纷"
        ordering = ["-reported_at"]
        indexes = [
            models.Index(fields=["status", "risk"]),
            models.Index(fields=["org_path", "reported_at"]),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class PartyKind(models.TextChoices):
    PERSON = "person", "自然人"
    ORGANISATION = "organisation", "单位 / 组织"


class PartyRole(models.TextChoices):
    APPLICANT = "applicant", "申请方"
    RESPONDENT = "respondent", "被申请方"
    OTHER = "other", "其他当事人"


class Vulnerability(models.TextChoices):
    NONE = "", "无"
    ELDERLY = "elderly", "老年人（独居 / 高龄）"
    MINOR = "minor", "未成年人"
    DISABLED = "disabled", "残疾人"
    MENTAL = "mental", "精神障碍患者"
    PREGNANT = "pregnant", "孕产妇"


def party_identity(kind: str, name: str, id_number: str, phone: str) -> str:
    """Who a party is across disputes, before hashing: the ID number when known, else name and
    phone; organisations by name; "" for a person known by name only (not matched safely)."""
    if id_number:
        return f"id:{id_number}"
    if phone:
        return f"np:{name}|{phone}"
    return f"org:{name}" if kind == PartyKind.ORGANISATION else ""


def party_identity_of(party: "Party") -> str:
    return party_identity(party.kind, party.name, party.id_number, party.phone)


class Party(models.Model):
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="parties")
    kind = models.CharField("类别", max_length=12, choices=PartyKind.choices)
    role = models.CharField("身份", max_length=12, choices=PartyRole.choices)
    name = models.CharField("姓名 / 名称", max_length=100)
    # ID number and phone are encrypted at rest (SM4) and found by exact value through their
    # blind indexes (pingan/core/fields.py).
    id_number = EncryptedTextField("证件号码", max_length=18, blank=True)
    id_number_hash = BlindIndexField(source="id_number", purpose="id_number")
    phone = EncryptedTextField("手机号", max_length=20, blank=True, help_text="E.164")
    phone_hash = BlindIndexField(source="phone", purpose="phone")
    address = models.CharField("住址", max_length=200, blank=True)
    vulnerability = models.CharField(
        "特殊群体", max_length=10, choices=Vulnerability.choices, blank=True
    )
    notify = models.BooleanField("接收进展短信", default=False)
    # Who this is across disputes (party_identity), as a keyed hash: repeats between the same
    # parties are found by this key, and it gives away no ID number or phone.
    key = BlindIndexField(
        source=party_identity_of,
        purpose="party",
        depends=("kind", "name", "id_number", "phone"),
        blank=False,
    )

    class Meta:
        verbose_name = "当事人"
        verbose_name_plural = "当事人"
        ordering = ["pk"]

    def __str__(self):
        return self.name


class EventKind(models.TextChoices):
    FILED = "filed", "登记"
    REQUESTED = "requested", "群众申请调解"
    ACCEPTED = "accepted", "受理"
    DECLINED = "declined", "不予受理"
    CONVERTED = "converted", "由警情转入"
    RISK_CHANGED = "risk_changed", "风险等级变化"
    RISK_OVERRIDDEN = "risk_overridden", "人工调整风险等级"
    REVIEWED = "reviewed", "每日研判"
    ROUTED = "routed", "确定化解途径"
    REROUTED = "rerouted", "变更化解途径"
    OWNER_CHANGED = "owner_changed", "变更责任人"
    PARTY_ADDED = "party_added", "增加当事人"
    ORDER_OPENED = "order_opened", "列入订单管理"
    ORDER_ESCALATED = "order_escalated", "订单逾期上报"
    ORDER_CLOSED = "order_closed", "订单办结"
    SESSION = "session", "调解"
    AGREEMENT = "agreement", "达成调解协议"
    SIGNED = "signed", "协议签字"
    RESOLVED = "resolved", "化解"
    VISITED = "visited", "回访"
    RELAPSED = "relapsed", "纠纷反复，重新化解"
    CLOSED = "closed", "稳定结案"
    NOTE = "note", "工作记录"


class DisputeEvent(models.Model):
    """Append-only timeline. The id doubles as the live-push sequence number."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    # Shown on the resident's status page (step names, not staff notes or risk details).
    public = models.BooleanField(default=False)

    class Meta:
        verbose_name = "纠纷时间线"
        verbose_name_plural = "纠纷时间线"
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.dispute_id} {self.kind}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("timeline events are append-only")
        super().save(*args, **kwargs)


class RuleKind(models.TextChoices):
    KEYWORDS = "keywords", "描述中出现关键词"
    REPEAT = "repeat", "相同当事人近期反复"
    VULNERABLE = "vulnerable", "涉及特殊群体"
    PARTY_COUNT = "party_count", "当事人众多"
    STALE = "stale", "长期无进展"
    AMOUNT = "amount", "涉及金额较大"
    RELAPSE = "relapse", "化解后反复"


class RiskRule(models.Model):
    """One explainable risk rule. `params` depends on the kind:

    keywords: {"keywords": ["砍死", ...]}; repeat: {"days": 90}; vulnerable: {"kinds": [...]}
    (empty = any); party_count: {"min": 5}; stale: {"days": 15}; amount: {"yuan": 100000};
    relapse: {"min": 1}.
    """

    code = models.SlugField("规则编码", max_length=40, unique=True)
    name = models.CharField("规则名称", max_length=60)
    kind = models.CharField("规则类型", max_length=12, choices=RuleKind.choices)
    params = models.JSONField("参数", default=dict, blank=True)
    level = models.CharField(
        "命中后等级",
        max_length=6,
        choices=[(Risk.RED, "红色"), (Risk.YELLOW, "黄色")],
    )
    active = models.BooleanField("启用", default=True)
    description = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "风险预警规则"
        verbose_name_plural = "风险预警规则"
        ordering = ["code"]

    def __str__(self):
        return f"{self.name}（{self.get_level_display()}）"

    def clean(self):
        from .risk import RuleError, compile_rule

        try:
            compile_rule(self.code, self.name, self.kind, self.params, self.level)
        except RuleError as exc:
            raise ValidationError({"params": str(exc)}) from exc


class Handoff(models.Model):
    """A route decision: which route, which body took it over, whom to call, and why."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="handoffs")
    at = models.DateTimeField()
    route = models.CharField("化解途径", max_length=14, choices=Route.choices)
    body_kind = models.CharField("承办机构类别", max_length=20, choices=RouteBody.choices)
    body_name = models.CharField("承办机构", max_length=100)
    contact_name = models.CharField("联系人", max_length=50)
    contact_phone = EncryptedTextField("联系电话", max_length=20, blank=True)  # SM4 at rest
    reason = models.CharField("理由", max_length=500, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "化解途径 / 移交"
        verbose_name_plural = "化解途径 / 移交"
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.get_route_display()} → {self.body_name}"


class OrderStatus(models.TextChoices):
    ACTIVE = "active", "跟踪中"
    DONE = "done", "已办结"


class CaseOrder(models.Model):
    """The "1": a hard case tracked like an order, escalating up the org tree when overdue."""

    dispute = models.OneToOneField(Dispute, on_delete=models.CASCADE, related_name="order")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="承办人",
        on_delete=models.PROTECT,
        related_name="dispute_orders",
    )
    deadline = models.DateTimeField("办结时限", db_index=True)
    plan = models.TextField("跟踪计划", max_length=2000)
    status = models.CharField(
        "状态", max_length=8, choices=OrderStatus.choices, default=OrderStatus.ACTIVE
    )
    # The level now supervising it: starts at the dispute's unit and climbs when overdue.
    supervising_org = models.ForeignKey(
        "orgs.OrgUnit", verbose_name="督办单位", on_delete=models.PROTECT, related_name="+"
    )
    escalation_level = models.PositiveSmallIntegerField("上报级数", default=0)
    # When an overdue order next climbs a level if still unresolved.
    next_escalation_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "重点纠纷订单"
        verbose_name_plural = "重点纠纷订单"

    def __str__(self):
        return f"订单 {self.dispute_id}（{self.get_status_display()}）"


class VisitStatus(models.TextChoices):
    DUE = "due", "待回访"
    DONE = "done", "已回访"
    CANCELLED = "cancelled", "已取消"


class ReturnVisit(models.Model):
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="visits")
    due_at = models.DateTimeField("应回访时间", db_index=True)
    after_days = models.PositiveSmallIntegerField("化解后天数")
    status = models.CharField(
        "状态", max_length=10, choices=VisitStatus.choices, default=VisitStatus.DUE
    )
    visited_at = models.DateTimeField("回访时间", null=True, blank=True)
    visited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    holds = models.BooleanField("协议履行、未反复", null=True)
    note = models.CharField("回访情况", max_length=500, blank=True)

    class Meta:
        verbose_name = "回访"
        verbose_name_plural = "回访"
        ordering = ["due_at", "pk"]

    def __str__(self):
        return f"{self.after_days} 天回访（{self.get_status_display()}）"


class SessionOutcome(models.TextChoices):
    AGREED = "agreed", "达成协议"
    PARTIAL = "partial", "部分达成"
    ADJOURNED = "adjourned", "择期再调"
    FAILED = "failed", "调解不成"


class MediationSession(models.Model):
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="sessions")
    held_at = models.DateTimeField("调解时间")
    place = models.CharField("调解地点", max_length=100)
    participants = models.CharField("参加人员", max_length=500)
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="主持人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    outcome = models.CharField("结果", max_length=10, choices=SessionOutcome.choices)
    notes = models.TextField("调解经过", max_length=5000, blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name = "调解记录"
        verbose_name_plural = "调解记录"
        ordering = ["held_at", "pk"]

    def __str__(self):
        return f"{self.held_at:%Y-%m-%d} {self.place}"


class Agreement(models.Model):
    """调解协议书. `number` is printed on it; the text is frozen once anyone has signed."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="agreements")
    session = models.ForeignKey(
        MediationSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    number = models.CharField("协议编号", max_length=24, unique=True)
    facts = models.TextField("纠纷主要事实", max_length=5000)
    terms = models.TextField("协议内容", max_length=5000)
    performance = models.CharField("履行方式与期限", max_length=500, blank=True)
    mediator_body = models.CharField("调解组织", max_length=100)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "调解协议书"
        verbose_name_plural = "调解协议书"
        ordering = ["created_at", "pk"]

    def __str__(self):
        return self.number


class SignerRole(models.TextChoices):
    PARTY = "party", "当事人"
    MEDIATOR = "mediator", "调解员"
    RECORDER = "recorder", "记录人"
    WITNESS = "witness", "见证人"


class Signature(models.Model):
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="signatures")
    role = models.CharField("身份", max_length=10, choices=SignerRole.choices)
    party = models.ForeignKey(
        Party, null=True, blank=True, on_delete=models.PROTECT, related_name="signatures"
    )
    name = models.CharField("签字人", max_length=100)
    signed_at = models.DateTimeField("签字时间")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "签字"
        verbose_name_plural = "签字"
        ordering = ["signed_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "party"],
                condition=models.Q(party__isnull=False),
                name="one_signature_per_party",
            )
        ]

    def __str__(self):
        return f"{self.name}（{self.get_role_display()}）"


class DailyReview(models.Model):
    """A yellow dispute looked at on the daily review (每日研判) list."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="reviews")
    day = models.DateField("研判日期")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    note = models.CharField("研判意见", max_length=500, blank=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = "每日研判"
        verbose_name_plural = "每日研判"
        constraints = [
            models.UniqueConstraint(fields=["dispute", "day"], name="one_review_per_day")
        ]

    def __str__(self):
        return f"{self.day} 研判"


class StatCell(models.Model):
    """Pre-aggregated counts for the statistics page, kept in step by every state change.

    One dispute counts in one cell per dimension ("all", "type", "channel", "route", "risk",
    and "days" — whole days to resolve, for the median) of its unit and reporting month, so
    the page sums a few thousand rows instead of scanning every dispute. `rebuild_stats`
    recomputes the table from the disputes and must always agree with it.
    """

    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.CASCADE, related_name="+")
    org_path = models.CharField(max_length=255)
    month = models.DateField()  # first day of the local reporting month
    dimension = models.CharField(max_length=8)
    value = models.CharField(max_length=20)
    total = models.IntegerField(default=0)
    settled = models.IntegerField(default=0)
    relapsed = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["org", "month", "dimension", "value"], name="one_stat_cell"
            )
        ]
        indexes = [models.Index(fields=["org_path", "month"])]

    def __str__(self):
        return f"{self.month} {self.dimension}={self.value}: {self.total}"
