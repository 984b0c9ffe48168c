"""REST endpoints for points and the rewards shops (积分 · 爱心超市), mounted at /api/points.

* Residents (citizens, volunteers) see their own balance, ledger and orders, the open shops,
  and redeem. Staff see the ledger, shops and orders of their scope. Clerks see their shops'
  orders and verify (核销) codes at their shops only.
* An order's one-time `redeem_code` is shown to its owner only: staff and clerks see the order,
  not the code that would let someone collect it.
* A record that does not exist and one the caller may not see are both 404. Errors are
  `{"error": {"code", "message", "details"?}}` like the rest of the API.

Every state change goes through `pingan.points.services`; this module only validates the shape
of the input, resolves usernames and turns rows into JSON; the schemas are in `schemas.py`. The
leaderboard and statistics endpoints live in `api_recognition.py`.
"""

from django.http import HttpResponse
from ninja import Query, Router

from pingan.accounts.models import User
from pingan.accounts.roles import is_clerk, is_resident
from pingan.core.api_auth import REQUIRED
from pingan.core.errors import Forbidden, NotFound, ServiceError
from pingan.core.masking import mask_name
from pingan.core.pagination import Listing, paginated
from pingan.core.schemas import OrderCode, RedeemCodeText, ShopCode
from pingan.core.timefmt import iso
from pingan.disputes.access import get_dispute_for

from . import ledger, services
from .models import PointEntry, PointRule, RedemptionOrder, Shop
from .schemas import (
    AdjustIn,
    BalanceOut,
    CancelIn,
    EntryWithBalanceOut,
    LedgerFilterIn,
    LedgerOut,
    MediationHelpIn,
    OrderFilterIn,
    OrderListOut,
    OrderOut,
    PointRuleOut,
    RedeemIn,
    ShopDetailOut,
    ShopListOut,
    ShopOut,
    VerifyIn,
)

router = Router(tags=["points"], auth=REQUIRED)


# --- serialisers --------------------------------------------------------------------------------


def entry_out(entry: PointEntry) -> dict:
    return {
        "id": entry.pk,
        "user": entry.user.username,
        "amount": entry.amount,
        "kind": entry.kind,
        "kind_label": entry.get_kind_display(),
        "rule": entry.rule,
        "reason": entry.reason,
        "source_type": entry.source_type,
        "source_ref": entry.source_ref,
        "org": entry.org.name if entry.org_id else None,
        "team": entry.team.name if entry.team_id else None,
        "created_at": iso(entry.created_at),
    }


def item_out(item) -> dict:
    return {
        "id": item.pk,
        "name": item.name,
        "description": item.description,
        "points_price": item.points_price,
        "stock": item.stock,
        "limit_per_person": item.limit_per_person,
        "limit_period": item.limit_period,
        "active": item.active,
    }


def shop_out(shop: Shop) -> dict:
    return {
        "code": shop.code,
        "name": shop.name,
        "kind": shop.kind,
        "kind_label": shop.get_kind_display(),
        "org": shop.org.name,
        "address": shop.address,
        "phone": shop.phone,
        "opening_hours": shop.opening_hours,
        "lng": shop.lng,
        "lat": shop.lat,
        "active": shop.active,
    }


def order_out(order: RedemptionOrder, viewer: User) -> dict:
    mine = order.user_id == viewer.pk
    return {
        "code": order.code,
        "status": order.status,
        "status_label": order.get_status_display(),
        "item": item_out(order.item),
        "shop": shop_out(order.shop),
        "quantity": order.quantity,
        "points": order.points,
        "user": order.user.label if mine else mask_name(order.user.label),
        "redeem_code": order.redeem_code if mine else None,
        "verify_url": services.verify_url(order) if mine else None,
        "created_at": iso(order.created_at),
        "expires_at": iso(order.expires_at),
        "verified_at": iso(order.verified_at),
        "cancelled_at": iso(order.cancelled_at),
        "cancel_reason": order.cancel_reason,
    }


def _user_named(username: str, field: str) -> User:
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ServiceError(
            "unknown_user", f"用户 {username} 不存在或已停用", details={"field": field}
        )
    return user


# --- balance, ledger, rules ---------------------------------------------------------------------


@router.get("/balance", response=BalanceOut, summary="我的积分余额 · My balance")
def my_balance(request):
    user = request.auth
    return {"user": user.username, "balance": ledger.balance(user)}


@router.get(
    "/ledger",
    response=LedgerOut,
    summary="积分流水 · Ledger entries I may see",
    description=(
        "Residents: their own entries (user= someone else is a 404). Staff: entries written for "
        "org units in their scope, optionally of one user. Newest first."
    ),
)
@paginated()
def list_ledger(request, filters: Query[LedgerFilterIn]):
    viewer = request.auth
    person = None
    if filters.user:
        person = User.objects.filter(username=filters.user).first()
        if person is None:
            raise NotFound("未找到该积分账户，或您无权查看")
    qs = services.ledger_for(viewer, user=person)
    # Staff may name only someone with entries in their scope: another station's staff learn
    # neither the balance nor whether the account exists (404 as for an unknown name).
    named_other = person is not None and person.pk != viewer.pk and not viewer.is_superuser
    if named_other and not qs.exists():
        raise NotFound("未找到该积分账户，或您无权查看")
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    own = person or (viewer if is_resident(viewer) else None)
    return Listing(
        qs.order_by("-created_at", "-pk"),
        render=lambda rows: [entry_out(e) for e in rows],
        extra=lambda page: {"balance": ledger.balance(own) if own is not None else None},
    )


@router.get("/rules", response=list[PointRuleOut], summary="积分规则 · Active earning rules")
def list_rules(request):
    return [
        {
            "code": rule.code,
            "label": rule.get_code_display(),
            "points": rule.points,
            "task_kinds": list(rule.task_kinds or []),
        }
        for rule in PointRule.objects.filter(active=True).order_by("code")
    ]


# --- shops --------------------------------------------------------------------------------------


@router.get(
    "/shops",
    response=list[ShopOut] | ShopListOut,
    summary="兑换点 · Shops I may see",
    description="Without paged=true the bare array of the first 500, as before.",
)
@paginated(legacy_array=True, array_limit=500)
def list_shops(request):
    return Listing(
        services.shops_for(request.auth), render=lambda rows: [shop_out(s) for s in rows]
    )


@router.get("/shops/{code}", response=ShopDetailOut, summary="兑换点详情 · A shop and its items")
def shop_detail(request, code: ShopCode):
    user = request.auth
    shop = services.get_shop_for(user, code)
    return {**shop_out(shop), "items": [item_out(i) for i in services.items_for(user, shop)]}


# --- orders -------------------------------------------------------------------------------------


def _order(request, code: str) -> RedemptionOrder:
    return services.get_order_for(request.auth, code)


@router.post(
    "/orders",
    response={201: OrderOut},
    summary="兑换 · Redeem points for an item",
    description=(
        "Citizens and volunteers only. 409 with code out_of_stock, insufficient_points, "
        "limit_reached, item_unavailable or shop_closed when refused."
    ),
)
def create_order(request, payload: RedeemIn):
    order = services.redeem(request.auth, payload.item, payload.quantity)
    return 201, order_out(order, request.auth)


@router.get("/orders", response=OrderListOut, summary="兑换订单 · Orders I may see")
@paginated()
def list_orders(request, filters: Query[OrderFilterIn]):
    qs = services.orders_for(request.auth)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return Listing(
        qs.select_related("shop__org").order_by("-created_at", "-pk"),
        render=lambda rows: [order_out(o, request.auth) for o in rows],
    )


@router.get("/orders/{code}", response=OrderOut, summary="订单详情 · One order")
def order_detail(request, code: OrderCode):
    return order_out(_order(request, code), request.auth)


@router.get(
    "/orders/{code}/qr.svg",
    summary="核销二维码 · The order's QR code (owner only)",
    response={200: None},
    openapi_extra={"responses": {200: {"content": {"image/svg+xml": {}}}}},
)
def order_qr(request, code: OrderCode):
    order = _order(request, code)
    if order.user_id != request.auth.pk:
        raise NotFound("未找到该兑换订单，或您无权查看")
    return HttpResponse(services.order_qr_svg(order, request), content_type="image/svg+xml")


@router.post(
    "/orders/{code}/cancel",
    response=OrderOut,
    summary="取消订单 · Cancel an unverified order; its points come back",
)
def cancel_order(request, code: OrderCode, payload: CancelIn):
    order = services.cancel_order(request.auth, code, reason=(payload.reason or "").strip())
    return order_out(order, request.auth)


# --- verification (clerks) ----------------------------------------------------------------------


def _require_clerk(user) -> None:
    if not is_clerk(user):
        raise Forbidden("只有兑换点店员可以核销订单")


@router.get(
    "/verify/{redeem_code}",
    response=OrderOut,
    summary="查看核销码 · What a code is for, at my shop (clerks)",
)
def verify_preview(request, redeem_code: RedeemCodeText):
    _require_clerk(request.auth)
    return order_out(services.find_order_for_clerk(request.auth, redeem_code), request.auth)


@router.post(
    "/verify",
    response=OrderOut,
    summary="核销 · Verify a code at my shop (clerks)",
    description=(
        "404 for unknown codes and codes of other shops alike. 409 already_verified, "
        "order_cancelled, or order_expired (the order is then expired and its points returned)."
    ),
)
def verify(request, payload: VerifyIn):
    _require_clerk(request.auth)
    return order_out(services.verify_order(request.auth, payload.code), request.auth)


# --- staff actions ------------------------------------------------------------------------------


@router.post(
    "/mediation-help",
    response={201: EntryWithBalanceOut},
    summary="登记协助调解 · Credit a resident who helped in a mediation session",
    description="Staff who can see the dispute; the resident is found by phone. Idempotent.",
)
def mediation_help(request, payload: MediationHelpIn):
    user = request.auth
    if not (user.is_superuser or user.is_staff_role):
        raise Forbidden("只有民警、辅警、网格员和指挥员可以登记协助调解")
    # The dispute first: a phone number is looked up only for someone who may act on it.
    get_dispute_for(user, payload.dispute)
    helper = services.find_resident_by_phone(payload.helper_phone)
    entry = services.award_mediation_help(
        user, payload.dispute, session_id=payload.session, helper=helper
    )
    return 201, {"entry": entry_out(entry), "balance": ledger.balance(helper)}


@router.post(
    "/adjust",
    response={201: EntryWithBalanceOut},
    summary="人工调整积分 · A commander corrects a resident's balance",
)
def adjust(request, payload: AdjustIn):
    if not request.auth.is_commander:
        raise Forbidden("只有指挥员可以调整积分")
    person = _user_named(payload.user, "user")
    entry = services.adjust(request.auth, person, payload.amount, reason=payload.reason)
    return 201, {"entry": entry_out(entry), "balance": ledger.balance(person)}
