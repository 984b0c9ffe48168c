"""The rewards shops: shops and their items, redemption, cancellation, verification (核销) and
the expiry of orders nobody collected.

Locks are always taken in one order, account → order → item, so a cancellation, a
verification that finds the order expired, and the expiry sweep cannot deadlock each other.
Redemption is the hot path (a thousand residents pressing at once for a hundred items): the
checks that usually fail are read first without locks, the per-day order number is drawn in
its own short transaction, and the item row is locked last, by the conditional stock UPDATE, so
it is held only for the order insert and the commit.
"""

import re
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from pingan.accounts.models import Role, User
from pingan.accounts.roles import MANAGER_ROLES, is_clerk, is_resident
from pingan.core import clock, qr
from pingan.core.errors import Conflict, Forbidden, NotFound, ServiceError
from pingan.core.sequences import next_code
from pingan.core.validation import has_forbidden_characters, normalise_phone
from pingan.live.groups import user_group
from pingan.orgs.models import OrgUnit
from pingan.orgs.scoping import in_scope
from pingan.volunteers import push

from . import ledger
from .access import can_manage_shop, get_order_for
from .models import (
    EntryKind,
    LimitPeriod,
    OrderStatus,
    RedemptionOrder,
    RewardItem,
    Shop,
    ShopKind,
)

# No 0/O, 1/I/L: a code read aloud or typed from a phone screen is not misread.
REDEEM_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REDEEM_CODE_LENGTH = 10
REDEEM_CODE_RE = re.compile(rf"^[{REDEEM_ALPHABET}]{{{REDEEM_CODE_LENGTH}}}$")
MAX_QUANTITY = 20
MAX_PRICE = 1_000_000
MAX_STOCK = 1_000_000
MAX_ID = 2**31 - 1


# --- small validators ---------------------------------------------------------------------------


def _whole(value, code: str, message: str, *, low: int, high: int) -> int:
    """An integer in [low, high]; booleans and floats with a fraction are refused."""
    if isinstance(value, bool):
        raise ServiceError(code, message)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,12}\s*", value):
        value = int(value)
    if not isinstance(value, int) or not low <= value <= high:
        raise ServiceError(code, message)
    return value


def _text(value, *, field: str, label: str, max_len: int, required: bool = False) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else None
    if value is None or has_forbidden_characters(value):
        raise ServiceError("bad_input", f"{label}无效", details={"field": field})
    if required and not value:
        raise ServiceError(f"{field}_required", f"请填写{label}", details={"field": field})
    if len(value) > max_len:
        raise ServiceError(
            f"{field}_too_long", f"{label}不能超过 {max_len} 字", details={"field": field}
        )
    return value


def normalise_redeem_code(raw) -> str | None:
    """What a clerk typed or a scanner read → the stored form, or None if it cannot be one."""
    if not isinstance(raw, str):
        return None
    code = re.sub(r"[\s-]", "", raw).upper()
    return code if REDEEM_CODE_RE.match(code) else None


def new_redeem_code() -> str:
    return "".join(secrets.choice(REDEEM_ALPHABET) for _ in range(REDEEM_CODE_LENGTH))


def _status_conflict(status: str) -> Conflict:
    if status == OrderStatus.VERIFIED:
        return Conflict("already_verified", "该订单已核销，不能重复核销或取消")
    if status == OrderStatus.CANCELLED:
        return Conflict("order_cancelled", "该订单已取消")
    if status == OrderStatus.EXPIRED:
        return Conflict("order_expired", "该订单已过期，积分已退还")
    return Conflict("order_not_pending", "该订单当前不能办理")


# --- pushes after commit ------------------------------------------------------------------------


def _push_user(user_id: int, message: dict) -> None:
    """Tell one person's open pages, once the change is committed; never fail the caller."""
    push.after_commit([user_group(user_id)], message)


def _order_message(order: RedemptionOrder, event: str) -> dict:
    # The socket consumer forwards "push.task" messages to the volunteer pages.
    return {
        "type": "push.task",
        "event": event,
        "order": {
            "code": order.code,
            "status": order.status,
            "status_label": order.get_status_display(),
            "item": order.item.name,
            "quantity": order.quantity,
            "points": order.points,
        },
    }


# --- shops and items ----------------------------------------------------------------------------


def _require_manager(actor: User, org_path: str) -> None:
    if not actor.is_authenticated:
        raise Forbidden("请先登录")
    if actor.is_superuser:
        return
    if actor.role not in MANAGER_ROLES:
        raise Forbidden("只有民警和指挥员可以管理兑换点")
    if not in_scope(actor, org_path):
        raise Forbidden("只能管理本辖区的兑换点")


def _require_shop_manager(actor: User, shop: Shop) -> None:
    _require_manager(actor, shop.org_path)


def _location(lng, lat) -> tuple[float | None, float | None]:
    if lng is None and lat is None:
        return None, None
    try:
        lng, lat = float(lng), float(lat)
    except (TypeError, ValueError) as exc:
        raise ServiceError("bad_location", "经纬度无效") from exc
    if not (-180 <= lng <= 180 and -90 <= lat <= 90):
        raise ServiceError("bad_location", "经纬度超出范围")
    return lng, lat


@transaction.atomic
def create_shop(
    actor: User,
    *,
    name,
    kind,
    org: OrgUnit,
    address="",
    phone="",
    opening_hours="",
    lng=None,
    lat=None,
    now=None,
) -> Shop:
    now = now or clock.now()
    if not isinstance(org, OrgUnit):
        raise ServiceError("bad_org", "所属单位无效")
    _require_manager(actor, org.path)
    name = _text(name, field="name", label="兑换点名称", max_len=64, required=True)
    if kind not in ShopKind.values:
        raise ServiceError("bad_kind", "兑换点类型无效", details={"field": "kind"})
    address = _text(address, field="address", label="地址", max_len=200)
    opening_hours = _text(opening_hours, field="opening_hours", label="营业时间", max_len=64)
    phone = normalise_phone(_text(phone, field="phone", label="电话", max_len=30))
    lng, lat = _location(lng, lat)
    return Shop.objects.create(
        code=next_code("SP", now),
        name=name,
        kind=kind,
        org=org,
        org_path=org.path,
        address=address,
        phone=phone,
        opening_hours=opening_hours,
        lng=lng,
        lat=lat,
        created_at=now,
    )


@transaction.atomic
def update_shop(actor: User, shop: Shop, **fields) -> Shop:
    """Name, address, phone, opening hours, open or closed. The org is fixed: moving a shop
    to another station is a new shop."""
    _require_shop_manager(actor, shop)
    shop = Shop.objects.select_for_update().get(pk=shop.pk)
    if "name" in fields:
        shop.name = _text(
            fields["name"], field="name", label="兑换点名称", max_len=64, required=True
        )
    if "address" in fields:
        shop.address = _text(fields["address"], field="address", label="地址", max_len=200)
    if "opening_hours" in fields:
        shop.opening_hours = _text(
            fields["opening_hours"], field="opening_hours", label="营业时间", max_len=64
        )
    if "phone" in fields:
        shop.phone = normalise_phone(
            _text(fields["phone"], field="phone", label="电话", max_len=30)
        )
    if "active" in fields:
        shop.active = bool(fields["active"])
    unknown = set(fields) - {"name", "address", "opening_hours", "phone", "active"}
    if unknown:
        raise ServiceError("bad_field", f"不能修改：{'、'.join(sorted(unknown))}")
    shop.save()
    return shop


@transaction.atomic
def set_clerks(actor: User, shop: Shop, users) -> Shop:
    _require_shop_manager(actor, shop)
    users = list(users)
    for user in users:
        if not isinstance(user, User) or user.role != Role.CLERK or not user.is_active:
            raise ServiceError("bad_clerk", f"{user} 不是在用的店员账号，只能指定店员角色的用户")
    shop.clerks.set(users)
    return shop


@transaction.atomic
def save_item(
    actor: User,
    shop: Shop,
    *,
    item: RewardItem | None = None,
    name,
    description="",
    points_price,
    stock=None,
    expected_stock=None,
    limit_per_person=None,
    limit_period=LimitPeriod.TOTAL,
    active=True,
    now=None,
) -> RewardItem:
    """Add an item to a shop (`stock` is its opening stock), or edit one (`item`).

    Redemptions decrement the stock meanwhile, so an edit never writes back a figure the editor
    read earlier: `stock=None`, or a `stock` equal to `expected_stock` (what the editor saw),
    leaves it alone; a new figure is a compare-and-set against `expected_stock` and is refused
    with `stock_changed` (409, nothing saved) if the stock moved since. To add goods while
    residents are redeeming, use `restock`."""
    _require_shop_manager(actor, shop)
    name = _text(name, field="name", label="商品名称", max_len=64, required=True)
    description = _text(description, field="description", label="说明", max_len=300)
    points_price = _whole(
        points_price,
        "bad_price",
        f"所需积分必须是 1 到 {MAX_PRICE} 之间的整数",
        low=1,
        high=MAX_PRICE,
    )
    if stock is not None or item is None:
        stock = _whole(
            stock, "bad_stock", f"库存必须是 0 到 {MAX_STOCK} 之间的整数", low=0, high=MAX_STOCK
        )
    if item is not None and stock is not None:
        if expected_stock is None:
            raise ServiceError(
                "expected_stock_required",
                "修改库存时须注明修改前看到的库存；增加库存请用“补货”",
                details={"field": "stock"},
            )
        expected_stock = _whole(
            expected_stock, "bad_stock", "原库存无效", low=0, high=MAX_STOCK * 11
        )
    if limit_per_person in ("", 0):
        limit_per_person = None
    if limit_per_person is not None:
        limit_per_person = _whole(
            limit_per_person, "bad_limit", "每人限兑必须是 1 到 999 的整数", low=1, high=999
        )
    if limit_period not in LimitPeriod.values:
        raise ServiceError("bad_limit_period", "限兑周期只能是累计或每月")
    values = {
        "name": name,
        "description": description,
        "points_price": points_price,
        "limit_per_person": limit_per_person,
        "limit_period": limit_period,
        "active": bool(active),
    }
    if item is None:
        return RewardItem.objects.create(
            shop=shop, stock=stock, created_at=now or clock.now(), **values
        )
    locked = RewardItem.objects.select_for_update().filter(pk=item.pk, shop=shop).first()
    if locked is None:
        raise NotFound("未找到该商品")
    if stock is not None and stock != expected_stock:
        # Compare-and-set: only over the figure the editor saw (the row is locked, and the
        # conditional UPDATE says the same on databases that do not lock rows).
        if not RewardItem.objects.filter(pk=locked.pk, stock=expected_stock).update(stock=stock):
            raise _stock_changed(expected_stock, locked.stock)
        locked.stock = stock
    for field, value in values.items():
        setattr(locked, field, value)
    locked.save(update_fields=list(values))
    return locked


def _stock_changed(seen: int, current: int) -> Conflict:
    return Conflict(
        "stock_changed",
        f"库存已被兑换或补货改变（您看到的是 {seen} 件，现在是 {current} 件），本次修改未保存。"
        "请刷新页面后重新填写，增加库存请用“补货”",
        details={"field": "stock", "seen": seen, "current": current},
    )


def adjust_stock(actor: User, item: RewardItem, delta) -> RewardItem:
    """Add (`delta` > 0) or write off (`delta` < 0) goods as an increment, never as an absolute
    figure, so no redemption that happens meanwhile is lost; stock never goes below zero."""
    _require_shop_manager(actor, item.shop)
    delta = _whole(
        delta,
        "bad_quantity",
        f"库存增减必须是 -{MAX_STOCK} 到 {MAX_STOCK} 之间的整数",
        low=-MAX_STOCK,
        high=MAX_STOCK,
    )
    if delta > 0:
        return restock(actor, item, delta)
    if delta < 0:
        taken = RewardItem.objects.filter(pk=item.pk, stock__gte=-delta).update(
            stock=F("stock") + delta
        )
        if not taken:
            item.refresh_from_db(fields=["stock"])
            raise Conflict("out_of_stock", f"库存不足：现有 {item.stock} 件，无法减少 {-delta} 件")
    item.refresh_from_db(fields=["stock"])
    return item


def restock(actor: User, item: RewardItem, quantity) -> RewardItem:
    """Add goods: an increment, so it never loses a redemption that happens meanwhile."""
    _require_shop_manager(actor, item.shop)
    quantity = _whole(
        quantity, "bad_quantity", f"补货数量必须是 1 到 {MAX_STOCK} 的整数", low=1, high=MAX_STOCK
    )
    updated = RewardItem.objects.filter(pk=item.pk, stock__lte=MAX_STOCK * 10).update(
        stock=F("stock") + quantity
    )
    if not updated:
        raise ServiceError("bad_quantity", "库存过大，无法继续补货")
    item.refresh_from_db(fields=["stock"])
    return item


# --- redemption ---------------------------------------------------------------------------------


def _period_start(period: str, now: datetime) -> datetime | None:
    if period != LimitPeriod.MONTH:
        return None
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _check_limit(user: User, item: RewardItem, quantity: int, now) -> None:
    """Runs with the account locked, so two redemptions by one person are counted in turn."""
    qs = RedemptionOrder.objects.filter(
        item=item, user=user, status__in=(OrderStatus.PENDING, OrderStatus.VERIFIED)
    )
    start = _period_start(item.limit_period, now)
    if start is not None:
        qs = qs.filter(created_at__gte=start)
    taken = qs.aggregate(n=Sum("quantity"))["n"] or 0
    if taken + quantity > item.limit_per_person:
        period = "每月" if start is not None else ""
        raise Conflict(
            "limit_reached",
            f"该商品每人{period}限兑 {item.limit_per_person} 件，您已兑换 {taken} 件",
        )


def _unavailable(item: RewardItem) -> Conflict | None:
    if not item.shop.active:
        return Conflict("shop_closed", "该兑换点已停止营业")
    if not item.active:
        return Conflict("item_unavailable", "该商品已下架")
    return None


def redeem(user: User, item_id, quantity=1, now=None) -> RedemptionOrder:
    """Spend points on an item: one order with a one-time code, or a clear refusal."""
    now = now or clock.now()
    if not is_resident(user):
        raise Forbidden("只有群众和义警可以兑换积分商品")
    quantity = _whole(
        quantity,
        "bad_quantity",
        f"兑换数量必须是 1 到 {MAX_QUANTITY} 的整数",
        low=1,
        high=MAX_QUANTITY,
    )
    if isinstance(item_id, bool) or not isinstance(item_id, int) or not 1 <= item_id <= MAX_ID:
        raise NotFound("未找到该商品")
    item = RewardItem.objects.select_related("shop__org").filter(pk=item_id).first()
    if item is None:
        raise NotFound("未找到该商品")
    refusal = _unavailable(item)
    if refusal is not None:
        raise refusal
    points = item.points_price * quantity
    # Unlocked reads of the usual refusals: a sold-out rush ends here, without drawing an order
    # number or locking anything. The locked checks below are the ones that count.
    if item.stock < quantity:
        raise Conflict("out_of_stock", f"库存不足：剩余 {item.stock} 件")
    current = ledger.balance(user)
    if current < points:
        raise Conflict("insufficient_points", f"积分不足：需要 {points} 分，当前余额 {current} 分")
    code = next_code("DH", now)
    with transaction.atomic():
        if item.limit_per_person:
            ledger.lock_account(user, now)
            _check_limit(user, item, quantity, now)
        ledger.post(
            user,
            -points,
            EntryKind.REDEEM,
            f"兑换 {item.name} ×{quantity}（{item.shop.name}）",
            source_type="order",
            source_ref=code,
            org=item.shop.org,
            dedupe_key=f"order:{code}:redeem",
            actor=user,
            now=now,
        )
        # Last, so the item row stays locked only for the insert and the commit.
        taken = RewardItem.objects.filter(pk=item.pk, active=True, stock__gte=quantity).update(
            stock=F("stock") - quantity
        )
        if not taken:
            raise Conflict("out_of_stock", "库存不足，该商品已兑完")
        return RedemptionOrder.objects.create(
            code=code,
            user=user,
            item=item,
            shop=item.shop,
            quantity=quantity,
            points=points,
            redeem_code=new_redeem_code(),
            created_at=now,
            expires_at=now + timedelta(days=settings.POINTS_ORDER_VALID_DAYS),
        )


def verify_url(order: RedemptionOrder) -> str:
    return f"/shop/verify/{order.redeem_code}/"


def order_qr_svg(order: RedemptionOrder, request=None) -> str:
    """An SVG QR code of the absolute verification URL, for the clerk's phone to open."""
    return qr.svg(qr.absolute_url(verify_url(order), request))


def _give_back(order: RedemptionOrder, now, *, reason: str, actor=None) -> None:
    """Stock back and exactly the order's points back, once (the refund's dedupe key)."""
    RewardItem.objects.filter(pk=order.item_id).update(stock=F("stock") + order.quantity)
    ledger.post(
        order.user,
        order.points,
        EntryKind.REFUND,
        reason,
        source_type="order",
        source_ref=order.code,
        org=order.shop.org,
        dedupe_key=f"order:{order.code}:refund",
        actor=actor,
        now=now,
    )


def cancel_order(actor: User, order_code: str, *, reason="", now=None) -> RedemptionOrder:
    """The owner, a clerk of the shop or a manager in scope cancels an unverified order; its
    points and stock come back. A conditional status change makes it happen once."""
    now = now or clock.now()
    reason = _text(reason, field="reason", label="取消原因", max_len=200)
    order = get_order_for(actor, order_code)
    if not (order.user_id == actor.pk or is_clerk(actor) or can_manage_shop(actor, order.shop)):
        raise Forbidden("只有兑换人、本店店员或辖区民警可以取消订单")
    if order.status != OrderStatus.PENDING:
        raise _status_conflict(order.status)
    with transaction.atomic():
        ledger.lock_account(order.user, now)
        changed = RedemptionOrder.objects.filter(pk=order.pk, status=OrderStatus.PENDING).update(
            status=OrderStatus.CANCELLED,
            cancelled_at=now,
            cancelled_by=actor,
            cancel_reason=reason,
        )
        if not changed:
            status = RedemptionOrder.objects.values_list("status", flat=True).get(pk=order.pk)
            raise _status_conflict(status)
        _give_back(order, now, reason=f"取消兑换 {order.code}，积分退还", actor=actor)
        order.status = OrderStatus.CANCELLED
        order.cancelled_at = now
        order.cancelled_by = actor
        order.cancel_reason = reason
        if order.user_id != actor.pk:
            _push_user(order.user_id, _order_message(order, "order_cancelled"))
    return order


def _expire_order(order: RedemptionOrder, now) -> bool:
    """Expire one uncollected order and give back its points and stock; False if it was no
    longer pending (verified or cancelled meanwhile) or not yet due."""
    with transaction.atomic():
        ledger.lock_account(order.user, now)
        changed = RedemptionOrder.objects.filter(
            pk=order.pk, status=OrderStatus.PENDING, expires_at__lte=now
        ).update(status=OrderStatus.EXPIRED)
        if not changed:
            return False
        _give_back(order, now, reason=f"兑换订单 {order.code} 逾期未核销，积分退还")
        order.status = OrderStatus.EXPIRED
        _push_user(order.user_id, _order_message(order, "order_expired"))
    return True


def expire_orders(now=None, *, batch: int = 500) -> int:
    now = now or clock.now()
    expired = 0
    while True:
        due = list(
            RedemptionOrder.objects.select_related("item", "shop__org", "user")
            .filter(status=OrderStatus.PENDING, expires_at__lte=now)
            .order_by("expires_at", "pk")[:batch]
        )
        for order in due:
            expired += _expire_order(order, now)
        if len(due) < batch:
            return expired


# --- verification (核销) ------------------------------------------------------------------------


def find_order_for_clerk(clerk: User, redeem_code) -> RedemptionOrder:
    """The order behind a code, if it belongs to one of the clerk's shops. A code that does not
    exist and one of another shop are the same 404: a clerk learns nothing about other shops."""
    if not is_clerk(clerk):
        raise Forbidden("只有兑换点店员可以核销订单")
    code = normalise_redeem_code(redeem_code)
    if code is None:
        raise NotFound("核销码无效或不属于本兑换点")
    order = (
        RedemptionOrder.objects.select_related("item", "shop__org", "user")
        .filter(redeem_code=code, shop__clerks=clerk)
        .first()
    )
    if order is None:
        raise NotFound("核销码无效或不属于本兑换点")
    return order


def verify_order(clerk: User, redeem_code, now=None) -> RedemptionOrder:
    """PENDING → VERIFIED in one conditional UPDATE: of two scans at once, one verifies and the
    other is told it was already verified. An expired order is expired and refunded instead."""
    now = now or clock.now()
    order = find_order_for_clerk(clerk, redeem_code)
    if order.status != OrderStatus.PENDING:
        raise _status_conflict(order.status)
    if order.expires_at > now:
        changed = RedemptionOrder.objects.filter(
            pk=order.pk, status=OrderStatus.PENDING, expires_at__gt=now
        ).update(status=OrderStatus.VERIFIED, verified_at=now, verified_by=clerk)
        if changed:
            order.status = OrderStatus.VERIFIED
            order.verified_at = now
            order.verified_by = clerk
            _push_user(order.user_id, _order_message(order, "order_verified"))
            return order
        status = RedemptionOrder.objects.values_list("status", flat=True).get(pk=order.pk)
        if status != OrderStatus.PENDING:
            raise _status_conflict(status)
    # Past its date: the resident gets the points back, the clerk a clear refusal.
    if not _expire_order(order, now):
        status = RedemptionOrder.objects.values_list("status", flat=True).get(pk=order.pk)
        if status != OrderStatus.EXPIRED:
            raise _status_conflict(status)
    raise Conflict("order_expired", "该订单已过期，不能核销；积分已退还兑换人")
