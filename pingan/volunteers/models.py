"""Volunteer teams (义警 / 红袖标), their members, and the tasks they sign up for.

Slots are the contended resource: `Task.taken` counts the accepted sign-ups and changes only
while the task row is locked (services.sign_up / cancel_signup), and the database refuses a
`taken` above `slots`. The waiting list is the task's WAITING sign-ups in id order, which is
the order their transactions took the lock.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from pingan.core.fields import BlindIndexField, EncryptedTextField
from pingan.orgs.scoping import JurisdictionQuerySet


class Skill(models.TextChoices):
    PATROL = "patrol", "巡逻防控"
    FIRST_AID = "first_aid", "急救"
    DRIVING = "driving", "驾驶"
    MEDIATION = "mediation", "矛盾调解"
    PUBLICITY = "publicity", "宣传"
    TRAFFIC = "traffic", "交通疏导"
    WATER_RESCUE = "water_rescue", "水上救援"
    LEGAL = "legal", "法律"
    IT = "it", "网络信息"
    DIALECT = "dialect", "方言翻译"


class Availability(models.TextChoices):
    WEEKDAY_DAY = "weekday_day", "工作日白天"
    WEEKDAY_EVENING = "weekday_evening", "工作日晚上"
    WEEKEND = "weekend", "周末"
    NIGHT = "night", "夜间"
    ON_CALL = "on_call", "随叫随到"


class VolunteerProfile(models.Model):
    """Who a volunteer is. Required before joining a team: the team leader and the station
    must know a real name and a phone to reach."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="volunteer_profile"
    )
    real_name = models.CharField("真实姓名", max_length=32)
    phone = EncryptedTextField("手机号", max_length=20, help_text="E.164")  # SM4 at rest
    phone_hash = BlindIndexField(source="phone", purpose="phone")
    skills = models.JSONField("特长", default=list, blank=True)
    availability = models.JSONField("可服务时间", default=list, blank=True)
    home_grid = models.ForeignKey(
        "orgs.Grid",
        verbose_name="居住网格",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = "志愿者档案"
        verbose_name_plural = "志愿者档案"

    def __str__(self):
        return self.real_name


class Team(models.Model):
    code = models.CharField("队伍编号", max_length=24, unique=True)
    name = models.CharField("队伍名称", max_length=64)
    org = models.ForeignKey(
        "orgs.OrgUnit", verbose_name="所属单位", on_delete=models.PROTECT, related_name="teams"
    )
    org_path = models.CharField(max_length=255, db_index=True)
    grids = models.ManyToManyField(
        "orgs.Grid", verbose_name="服务网格", blank=True, related_name="volunteer_teams"
    )
    description = models.CharField("简介", max_length=500, blank=True)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="队长",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_teams",
    )
    requires_approval = models.BooleanField("入队需队长审核", default=True)
    # The secret in the invite link and QR code; resetting it retires every printed code.
    invite_token = models.CharField(max_length=32, unique=True)
    active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = JurisdictionQuerySet.as_manager()

    class Meta:
        verbose_name = "志愿者队伍"
        verbose_name_plural = "志愿者队伍"
        ordering = ["org_path", "name"]

    def __str__(self):
        return self.name


class MembershipStatus(models.TextChoices):
    PENDING = "pending", "待审核"
    ACTIVE = "active", "在队"
    REJECTED = "rejected", "未通过"
    LEFT = "left", "已退出"
    REMOVED = "removed", "已移出"


LIVE_MEMBERSHIP = (MembershipStatus.PENDING, MembershipStatus.ACTIVE)


class Membership(models.Model):
    """One application to a team and what became of it. A person may rejoin later: ended
    memberships stay as history, and only one pending-or-active row per team and person."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )
    status = models.CharField("状态", max_length=10, choices=MembershipStatus.choices)
    applied_at = models.DateTimeField("申请时间")
    joined_at = models.DateTimeField("入队时间", null=True, blank=True)
    ended_at = models.DateTimeField("离队时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "队员"
        verbose_name_plural = "队员"
        constraints = [
            models.UniqueConstraint(
                fields=["team", "user"],
                condition=Q(status__in=["pending", "active"]),
                name="one_live_membership_per_team",
            )
        ]
        indexes = [models.Index(fields=["user", "status"]), models.Index(fields=["team", "status"])]

    def __str__(self):
        return f"{self.user} @ {self.team}"


class TaskKind(models.TextChoices):
    NIGHT_PATROL = "night_patrol", "夜间巡逻"
    TRAFFIC = "traffic", "交通疏导"
    ANTI_FRAUD = "anti_fraud", "反诈宣传"
    EVENT_SECURITY = "event_security", "活动安保"
    MISSING_PERSON = "missing_person", "寻找走失人员"
    OTHER = "other", "其他"


class TaskStatus(models.TextChoices):
    PUBLISHED = "published", "已发布"
    CANCELLED = "cancelled", "已取消"
    CLOSED = "closed", "已结束"


class Task(models.Model):
    code = models.CharField("任务编号", max_length=20, unique=True)
    kind = models.CharField("类型", max_length=20, choices=TaskKind.choices)
    title = models.CharField("标题", max_length=100)
    description = models.TextField("任务说明", max_length=2000, blank=True)
    org = models.ForeignKey(
        "orgs.OrgUnit", verbose_name="发布单位", on_delete=models.PROTECT, related_name="tasks"
    )
    org_path = models.CharField(max_length=255, db_index=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发布民警",
        null=True,
        on_delete=models.SET_NULL,
        related_name="posted_tasks",
    )
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    meeting_address = models.CharField("集合地点", max_length=200)
    meeting_lng = models.FloatField("集合点经度（WGS-84）")
    meeting_lat = models.FloatField("集合点纬度（WGS-84）")
    # A patrol route as [[lng, lat], ...] in WGS-84; empty for a task at one place.
    route = models.JSONField("路线", default=list, blank=True)
    checkin_radius_m = models.PositiveIntegerField("签到半径（米）", default=300)
    slots = models.PositiveIntegerField("名额")
    taken = models.PositiveIntegerField("已报名", default=0)
    teams = models.ManyToManyField(Team, verbose_name="面向队伍", blank=True, related_name="tasks")
    grids = models.ManyToManyField(
        "orgs.Grid", verbose_name="面向网格", blank=True, related_name="volunteer_tasks"
    )
    # The secret printed in the on-site QR code; scanning it checks a volunteer in or out.
    qr_token = models.CharField(max_length=32, unique=True)
    status = models.CharField(
        "状态", max_length=10, choices=TaskStatus.choices, default=TaskStatus.PUBLISHED
    )
    published_at = models.DateTimeField("发布时间")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField("取消原因", max_length=200, blank=True)

    objects = JurisdictionQuerySet.as_manager()

    class Meta:
        verbose_name = "任务"
        verbose_name_plural = "任务"
        ordering = ["-starts_at", "-pk"]
        indexes = [
            models.Index(fields=["org_path", "starts_at"]),
            models.Index(fields=["status", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(slots__gte=1), name="task_has_slots"),
            models.CheckConstraint(condition=Q(taken__lte=F("slots")), name="task_not_overbooked"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="task_window"),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"


class SignupStatus(models.TextChoices):
    ACCEPTED = "accepted", "已报名"
    WAITING = "waiting", "候补中"
    CANCELLED = "cancelled", "已取消"
    # The task itself was cancelled by the station.
    VOIDED = "voided", "任务取消"


LIVE_SIGNUP = (SignupStatus.ACCEPTED, SignupStatus.WAITING)


class CheckMethod(models.TextChoices):
    GPS = "gps", "定位"
    QR = "qr", "扫码"


class Review(models.TextChoices):
    CONFIRMED = "confirmed", "已确认"
    REJECTED = "rejected", "不予确认"


class Signup(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="signups")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="task_signups"
    )
    # The team the volunteer answered through (the first of their teams the task was offered
    # to), so hours and points roll up to teams.
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="signups"
    )
    status = models.CharField("状态", max_length=10, choices=SignupStatus.choices)
    created_at = models.DateTimeField("报名时间")
    accepted_at = models.DateTimeField("获得名额时间", null=True, blank=True)
    promoted = models.BooleanField("候补递补", default=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    checked_in_at = models.DateTimeField("签到时间", null=True, blank=True)
    checkin_method = models.CharField(max_length=4, choices=CheckMethod.choices, blank=True)
    checkin_lng = models.FloatField(null=True, blank=True)
    checkin_lat = models.FloatField(null=True, blank=True)
    checkin_distance_m = models.FloatField(null=True, blank=True)
    checked_out_at = models.DateTimeField("签退时间", null=True, blank=True)
    checkout_method = models.CharField(max_length=4, choices=CheckMethod.choices, blank=True)
    checkout_lng = models.FloatField(null=True, blank=True)
    checkout_lat = models.FloatField(null=True, blank=True)

    report_text = models.TextField("任务反馈", max_length=2000, blank=True)
    reported_at = models.DateTimeField("反馈时间", null=True, blank=True)

    review = models.CharField("确认", max_length=10, choices=Review.choices, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_reason = models.CharField("不予确认原因", max_length=200, blank=True)
    # Credited service hours (check-in to check-out, clipped to the task window), set on
    # confirmation; points_awarded is what the ledger got for it, kept for the history page.
    hours = models.DecimalField("服务时长（小时）", max_digits=6, decimal_places=2, default=0)
    points_awarded = models.IntegerField("获得积分", default=0)

    org_path_lookup = "task__org_path"  # where it lies in the org tree
    objects = JurisdictionQuerySet.as_manager()

    class Meta:
        verbose_name = "报名"
        verbose_name_plural = "报名"
        constraints = [
            models.UniqueConstraint(
                fields=["task", "user"],
                condition=Q(status__in=["accepted", "waiting"]),
                name="one_live_signup_per_task",
            )
        ]
        indexes = [
            models.Index(fields=["task", "status", "id"]),
            models.Index(fields=["user", "created_at"]),
            models.Index(fields=["team", "created_at"]),
        ]

    def __str__(self):
        return f"{self.user} → {self.task.code}"


class ReportPhoto(models.Model):
    signup = models.ForeignKey(Signup, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(upload_to="volunteers/%Y/%m/")
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField()

    class Meta:
        verbose_name = "反馈照片"
        verbose_name_plural = "反馈照片"

    def __str__(self):
        return self.image.name
