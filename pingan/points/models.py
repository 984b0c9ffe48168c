"""Points: an append-only ledger, earning rules as data, and the rewards shops.

A balance is the sum of a person's ledger entries, never a stored number. Every entry that
spends points is written while the person's account row is locked (ledger.post), so two
redemptions racing for the same balance are serialised and neither can take it below zero.
Stock is decremented with a conditional UPDATE, which cannot oversell.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from pingan.orgs.scoping import JurisdictionQuerySet


class RuleCode(models.TextChoices):
    TASK_CONFIRMED = "task_confirmed", "完成任务（每次）"
    PATROL_HOUR = "patrol_hour", "巡逻在岗（每小时）"
    TIP_CONFIRMED = "tip_confirmed", "线索经核实（每条）"
    TIP_ARREST = "tip_arrest", "线索协助抓获（每条）"
    MEDIATION_HELP = "mediation_help", "协助调解（每次）"


class PointRule(models.Model):
    """How many points an act earns. Edited in the admin; a change applies to what is earned
    afterwards, never to entries already written."""

    code = models.CharField("规则", max_length=24, choices=RuleCode.choices, unique=True)
    points = models.PositiveIntegerField("积分")
    active = models.BooleanField("启用", default=True)
    # For the per-task and per-hour rules: the task kinds they apply to; empty means all.
    task_kinds = models.JSONField("适用任务类型", default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "积分规则"
        verbose_name_plural = "积分规则"
        ordering = ["code"]

    def __str__(self):
        return f"{self.get_code_display()}：{self.points} 分"


class PointAccount(models.Model):
    """The row a person's point-changing transactions lock. It holds no balance."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="point_account"
    )
    opened_at = models.DateTimeField()

    class Meta:
        verbose_name = "积分账户"
        verbose_name_plural = "积分账户"

    def __str__(self):
        return str(self.user)


class EntryKind(models.TextChoices):
    EARN = "earn", "获得"
    REDEEM = "redeem", "兑换"
    REFUND = "refund", "退还"
    EXPIRE = "expire", "过期"
    ADJUST = "adjust", "调整"


class LedgerQuerySet(JurisdictionQuerySet):
    """Bulk changes skip Model.save/delete, so the queryset refuses them as well."""

    def update(self, **kwargs):
        raise ValueError("the points ledger is append-only")

    def delete(self):
        raise ValueError("the points ledger is append-only")


class PointEntry(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="持有人",
        on_delete=models.PROTECT,
        related_name="point_entries",
    )
    amount = models.IntegerField("积分")
    kind = models.CharField("类型", max_length=8, choices=EntryKind.choices)
    rule = models.CharField("规则", max_length=24, choices=RuleCode.choices, blank=True)
    reason = models.CharField("事由", max_length=200)
    # What the entry came from, as a readable reference: ("task", "RW20261123-000001"),
    # ("incident", "JQ…"), ("mediation", "JF…#12"), ("order", "DH…"), ("expiry", "2025").
    source_type = models.CharField("来源类型", max_length=16)
    source_ref = models.CharField("来源", max_length=40)
    # Where the points were earned or spent, for statistics by org unit and team.
    org = models.ForeignKey(
        "orgs.OrgUnit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    org_path = models.CharField(max_length=255, blank=True, db_index=True)
    team = models.ForeignKey(
        "volunteers.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Makes an award idempotent: the same act can never be credited twice.
    dedupe_key = models.CharField(max_length=100, unique=True, null=True, blank=True)
    created_at = models.DateTimeField("时间")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = LedgerQuerySet.as_manager()

    class Meta:
        verbose_name = "积分流水"
        verbose_name_plural = "积分流水"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "created_at"]),
            models.Index(fields=["org_path", "created_at"]),
            models.Index(fields=["team", "created_at"]),
            models.Index(fields=["kind", "created_at"]),
        ]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="entry_not_zero")]

    def __str__(self):
        return f"{self.user} {self.amount:+d} {self.reason}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("the points ledger is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("the points ledger is append-only")


class ShopKind(models.TextChoices):
    LOVE_SUPERMARKET = "love_supermarket", "爱心超市"
    PARTNER_STORE = "partner_store", "合作商户"


class Shop(models.Model):
    code = models.CharField("编号", max_length=24, unique=True)
    name = models.CharField("名称", max_length=64)
    kind = models.CharField("类型", max_length=20, choices=ShopKind.choices)
    org = models.ForeignKey(
        "orgs.OrgUnit", verbose_name="所属单位", on_delete=models.PROTECT, related_name="shops"
    )
    org_path = models.CharField(max_length=255, db_index=True)
    address = models.CharField("地址", max_length=200, blank=True)
    phone = models.CharField("电话", max_length=20, blank=True)
    opening_hours = models.CharField("营业时间", max_length=64, blank=True)
    lng = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    clerks = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name="店员", blank=True, related_name="shops"
    )
    active = models.BooleanField("营业中", default=True)
    created_at = models.DateTimeField()

    objects = JurisdictionQuerySet.as_manager()

    class Meta:
        verbose_name = "兑换点"
        verbose_name_plural = "兑换点"
        ordering = ["org_path", "name"]

    def __str__(self):
        return self.name


class LimitPeriod(models.TextChoices):
    TOTAL = "total", "累计"
    MONTH = "month", "每月"


class RewardItem(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="items")
    name = models.CharField("商品", max_length=64)
    description = models.CharField("说明", max_length=300, blank=True)
    points_price = models.PositiveIntegerField("所需积分")
    stock = models.PositiveIntegerField("库存")
    limit_per_person = models.PositiveIntegerField("每人限兑", null=True, blank=True)
    limit_period = models.CharField(
        "限兑周期", max_length=8, choices=LimitPeriod.choices, default=LimitPeriod.TOTAL
    )
    active = models.BooleanField("上架", default=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "兑换商品"
        verbose_name_plural = "兑换商品"
        ordering = ["shop", "points_price", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(points_price__gt=0), name="item_price_positive"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="item_stock_not_negative"),
            models.CheckConstraint(
                condition=Q(limit_per_person__isnull=True) | Q(limit_per_person__gt=0),
                name="item_limit_positive",
            ),
        ]

    def __str__(self):
        return f"{self.name}（{self.points_price} 分）"


class OrderStatus(models.TextChoices):
    PENDING = "pending", "待核销"
    VERIFIED = "verified", "已核销"
    CANCELLED = "cancelled", "已取消"
    EXPIRED = "expired", "已过期"


class RedemptionOrder(models.Model):
    code = models.CharField("订单号", max_length=20, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="redemption_orders"
    )
    item = models.ForeignKey(RewardItem, on_delete=models.PROTECT, related_name="orders")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="orders")
    quantity = models.PositiveSmallIntegerField("数量", default=1)
    points = models.PositiveIntegerField("积分")
    status = models.CharField(
        "状态", max_length=10, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    # The one-time code the clerk verifies (shown with a QR code); unique for ever, so a used
    # or cancelled code can never match a newer order.
    redeem_code = models.CharField("核销码", max_length=12, unique=True)
    created_at = models.DateTimeField("兑换时间")
    expires_at = models.DateTimeField("有效期至")
    verified_at = models.DateTimeField("核销时间", null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancel_reason = models.CharField("取消原因", max_length=200, blank=True)

    org_path_lookup = "shop__org_path"  # where it lies in the org tree
    objects = JurisdictionQuerySet.as_manager()

    class Meta:
        verbose_name = "兑换订单"
        verbose_name_plural = "兑换订单"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "created_at"]),
            models.Index(fields=["shop", "status", "created_at"]),
            models.Index(fields=["item", "user", "status"]),
            models.Index(fields=["status", "expires_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_quantity_positive")
        ]

    def __str__(self):
        return f"{self.code} {self.item.name} ×{self.quantity}"
