"""Incidents (警情), their timeline, units and assignments."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from pingan.core.fields import EncryptedTextField
from pingan.orgs.scoping import JurisdictionQuerySet


class Priority(models.IntegerChoices):
    URGENT = 1, "一级（紧急）"
    HIGH = 2, "二级"
    NORMAL = 3, "三级"
    LOW = 4, "四级"


class Category(models.Model):
    """The 110 category tree: 类别 → 类型 → 细类 as hierarchical 6-digit codes (99… = other)."""

    code = models.CharField("代码", max_length=6, unique=True)
    name = models.CharField("名称", max_length=50)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    level = models.PositiveSmallIntegerField(default=1)
    default_priority = models.PositiveSmallIntegerField(
        "默认等级", choices=Priority.choices, default=Priority.NORMAL
    )
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "警情类别"
        verbose_name_plural = "警情类别"
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class Source(models.TextChoices):
    CITIZEN_APP = "citizen_app", "群众端"
    PHONE_TRANSFER = "phone_transfer", "110转警"
    PATROL = "patrol", "巡逻发现"
    VOLUNTEER = "volunteer", "义警上报"
    SENSOR = "sensor", "感知设备"


class Status(models.TextChoices):
    PENDING = "pending", "待派警"
    DISPATCHED = "dispatched", "已派警"
    ACCEPTED = "accepted", "已接警"
    ON_SCENE = "on_scene", "已到场"
    RESOLVED = "resolved", "已处置"
    CLOSED = "closed", "已结案"
    MERGED = "merged", "已合并"


OPEN_STATUSES = (Status.PENDING, Status.DISPATCHED, Status.ACCEPTED, Status.ON_SCENE)


class Outcome(models.TextChoices):
    HANDLED_ON_SITE = "handled_on_site", "现场处置"
    MEDIATED = "mediated", "调解化解"
    CASE_FILED = "case_filed", "立案侦查"
    # The report led to catching a suspect; a tipster's "helped make an arrest" points key on it.
    ARREST = "arrest", "抓获嫌疑人"
    TRANSFERRED = "transferred", "移交相关部门"
    HELP_GIVEN = "help_given", "救助完成"
    WARNING_GIVEN = "warning_given", "批评教育"
    NO_FINDING = "no_finding", "现场无警情"
    FALSE_REPORT = "false_report", "虚假报警"
    DUPLICATE = "duplicate", "重复报警"


class Incident(models.Model):
    code = models.CharField("警情编号", max_length=20, unique=True)
    # No single-column indexes on category, status and org_path: the composite indexes below
    # start with them and serve the same lookups; every index is paid on every report's INSERT.
    category = models.ForeignKey(
        Category, verbose_name="类别", on_delete=models.PROTECT, db_index=False
    )
    priority = models.PositiveSmallIntegerField("等级", choices=Priority.choices)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.PENDING)
    source = models.CharField("来源", max_length=16, choices=Source.choices)
    description = models.TextField("描述", max_length=2000)
    address = models.CharField("地址", max_length=200, blank=True)
    lng = models.FloatField("经度（WGS-84）")
    lat = models.FloatField("纬度（WGS-84）")
    grid = models.ForeignKey(
        "orgs.Grid",
        verbose_name="网格",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incidents",
    )
    # The owning unit is denormalised from the grid so scoping is one indexed prefix query.
    org = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name="责任单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
    )
    org_path = models.CharField(max_length=255, blank=True)
    outside_grids = models.BooleanField("不在任何网格内", default=False)
    distance_to_grid_m = models.FloatField(default=0)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="报警人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_incidents",
    )
    anonymous = models.BooleanField("匿名", default=False)
    reporter_phone = EncryptedTextField("报警电话", max_length=20, blank=True)  # SM4 at rest
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name="疑似重复于",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duplicates",
    )
    valid = models.BooleanField("有效警情", null=True)
    outcome = models.CharField("处置结果", max_length=20, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField("处置说明", blank=True)
    # Response targets copied at report time: later policy edits don't rewrite history.
    target_accept_s = models.PositiveIntegerField(default=60)
    target_arrive_s = models.PositiveIntegerField(default=180)
    target_reinforce_s = models.PositiveIntegerField(default=300)
    reported_at = models.DateTimeField("报警时间", db_index=True)
    accepted_at = models.DateTimeField("接警时间", null=True, blank=True)
    arrived_at = models.DateTimeField("首警到场", null=True, blank=True)
    reinforce_requested_at = models.DateTimeField("请求增援", null=True, blank=True)
    reinforce_arrived_at = models.DateTimeField("增援到场", null=True, blank=True)
    resolved_at = models.DateTimeField("处置完成", null=True, blank=True)
    # Elapsed seconds from the report to each milestone, written once with the milestone so
    # compliance over years of history is a plain indexed aggregate on any database.
    accept_s = models.FloatField(null=True, blank=True)
    arrive_s = models.FloatField(null=True, blank=True)
    reinforce_s = models.FloatField(null=True, blank=True)
    closed_at = models.DateTimeField("结案", null=True, blank=True)
    rating = models.PositiveSmallIntegerField("满意度", null=True, blank=True)
    rating_comment = models.CharField("评价", max_length=500, blank=True)

    objects = JurisdictionQuerySet.as_manager()

    class Meta:
        verbose_name = "警情"
        verbose_name_plural = "警情"
        ordering = ["-reported_at"]
        indexes = [
            models.Index(fields=["org_path", "reported_at"]),
            models.Index(fields=["category", "reported_at"]),
            models.Index(fields=["status", "reported_at"]),
            # The duplicate check on every report: same category, a 200 m latitude band.
            models.Index(fields=["category", "lat"], name="incident_category_lat"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="incident_rating_1_5",
            ),
        ]

    def __str__(self):
        return self.code

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class IncidentPhoto(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(upload_to="incidents/%Y/%m/")
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.incident_id} 照片 {self.pk}"


class EventKind(models.TextChoices):
    REPORTED = "reported", "报警"
    LINKED_DUPLICATE = "linked_duplicate", "关联为疑似重复"
    DUPLICATE_REPORTED = "duplicate_reported", "收到重复报警"
    MERGED = "merged", "合并"
    SPLIT = "split", "拆分"
    OFFERED = "offered", "派警"
    NO_UNIT = "no_unit", "暂无可派警力"
    # No unit near had a fresh position: the grid's own staff or the station's quick-response
    # team was offered instead, and the commander is told (boards show this row).
    POSITION_FALLBACK = "position_fallback", "警力位置过期，兜底派警"
    OFFER_EXPIRED = "offer_expired", "派警超时"
    DECLINED = "declined", "拒绝"
    REDISPATCHED = "redispatched", "改派"
    ACCEPTED = "accepted", "接警"
    ARRIVED = "arrived", "到场"
    REINFORCE_REQUESTED = "reinforce_requested", "请求增援"
    REINFORCE_ARRIVED = "reinforce_arrived", "增援到场"
    RESOLVED = "resolved", "处置完成"
    CLOSED = "closed", "结案"
    RATED = "rated", "群众评价"
    NOTE = "note", "备注"


class IncidentEvent(models.Model):
    """Append-only timeline. Its id is also the live-push sequence number clients catch up from."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=24, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    unit = models.ForeignKey(
        "Unit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "警情时间线"
        verbose_name_plural = "警情时间线"

    def __str__(self):
        return f"{self.get_kind_display()} {self.message}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("incident timeline events are append-only")
        super().save(*args, **kwargs)


class UnitKind(models.TextChoices):
    OFFICER = "officer", "民警"
    AUXILIARY = "auxiliary", "辅警"
    RESPONSE_TEAM = "response_team", "快反队"


class Unit(models.Model):
    """A dispatchable unit: one officer or auxiliary, or a quick-response team."""

    name = models.CharField("名称", max_length=64)
    kind = models.CharField("类型", max_length=16, choices=UnitKind.choices)
    org = models.ForeignKey(
        "orgs.OrgUnit", verbose_name="所属单位", on_delete=models.PROTECT, related_name="units"
    )
    org_path = models.CharField(max_length=255, db_index=True)
    # A person unit has its user; a team lists its members (the leader answers its offers).
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="unit",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="team_units"
    )
    on_duty = models.BooleanField("在岗", default=False)
    lng = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    position_at = models.DateTimeField(null=True, blank=True)
    # The one assignment this unit is busy with. Taken by a conditional UPDATE so two
    # simultaneous incidents can never both take the last free unit.
    current_assignment = models.OneToOneField(
        "Assignment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = JurisdictionQuerySet.as_manager()

    class Meta:
        verbose_name = "警力单元"
        verbose_name_plural = "警力单元"
        # Dispatch searches free on-duty units in a latitude band around the incident.
        indexes = [models.Index(fields=["on_duty", "lat"])]

    def __str__(self):
        return self.name


class AssignmentRole(models.TextChoices):
    PRIMARY = "primary", "首警"
    REINFORCEMENT = "reinforcement", "增援"


class AssignmentStatus(models.TextChoices):
    OFFERED = "offered", "待接警"
    ACCEPTED = "accepted", "已接警"
    ARRIVED = "arrived", "已到场"
    DONE = "done", "已完成"
    DECLINED = "declined", "已拒绝"
    EXPIRED = "expired", "超时未接"
    CANCELLED = "cancelled", "已撤回"


ACTIVE_ASSIGNMENT = (AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED, AssignmentStatus.ARRIVED)


class Assignment(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(
        max_length=16, choices=AssignmentRole.choices, default=AssignmentRole.PRIMARY
    )
    status = models.CharField(
        max_length=12,
        choices=AssignmentStatus.choices,
        default=AssignmentStatus.OFFERED,
        db_index=True,
    )
    offered_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    distance_m = models.FloatField(null=True, blank=True)
    eta_seconds = models.PositiveIntegerField(null=True, blank=True)
    # When an offer still unanswered after DISPATCH_SMS_AFTER_SECONDS was also sent as a text.
    alerted_at = models.DateTimeField("短信提醒时间", null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-offered_at"]
        verbose_name = "派警"
        verbose_name_plural = "派警"

    def __str__(self):
        return f"{self.unit} · {self.get_status_display()}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_ASSIGNMENT


class DailySequence(models.Model):
    """Per-day counter behind readable incident codes (JQ20261123-000123)."""

    prefix = models.CharField(max_length=8)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "day"], name="daily_seq_unique")]

    def __str__(self):
        return f"{self.prefix}{self.day:%Y%m%d} → {self.last}"


class ReportThrottle(models.Model):
    """Anonymous reports counted per client key and hour; works across processes and restarts."""

    key = models.CharField(max_length=64)
    hour = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "hour"], name="throttle_unique")]

    def __str__(self):
        return f"{self.key[:8]} {self.hour:%Y-%m-%d %H}h: {self.count}"
