"""Console pages (desks): the points ledger in scope, the rewards shops with their items,
clerks and orders, and the volunteer statistics with leaderboards and the Excel export.

Staff see what lies in their org subtree; managing a shop (items, stock, clerks, cancelling an
order) is for officers and commanders over its unit, checked again by the services.
"""

from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from pingan.accounts.models import Role, User
from pingan.accounts.roles import is_manager
from pingan.audit import services as audit
from pingan.audit.models import Action
from pingan.core import clock
from pingan.core.errors import ServiceError
from pingan.core.validation import normalise_phone
from pingan.orgs.services import visible_orgs

from . import export, recognition, services
from . import forms as f
from .models import EntryKind, OrderStatus, RewardItem
from .views import entry_row, page_number, person, require_staff

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LEDGER_PAGE = 100
ORDERS_SHOWN = 100


# --- the ledger ---------------------------------------------------------------------------------


def _people(raw: str):
    """Accounts a typed phone number or user name stands for."""
    if raw.lstrip("+").replace(" ", "").replace("-", "").isdigit():
        phone = normalise_phone(raw, field="person")
        return User.objects.filter(Q(phone=phone) | Q(volunteer_profile__phone=phone))
    return User.objects.filter(username=raw)


def _ledger_filters(form, qs):
    """Apply the valid filters; a bad one becomes a Chinese error next to its field."""
    if not form.is_bound or not form.is_valid():
        return qs
    data = form.cleaned_data
    if data["kind"]:
        qs = qs.filter(kind=data["kind"])
    try:
        month = recognition.parse_month(data["month"])
    except ServiceError as exc:
        form.add_error("month", exc.message)
        month = None
    if month is not None:
        start, end = recognition.month_bounds(month)
        qs = qs.filter(created_at__gte=start, created_at__lt=end)
    if data["person"]:
        try:
            qs = qs.filter(user__in=_people(data["person"]).values("pk"))
        except ServiceError:
            form.add_error("person", "手机号格式不正确，请输入 11 位手机号或用户名")
    return qs


TOTAL_KINDS = (
    ("earned", EntryKind.EARN),
    ("redeemed", EntryKind.REDEEM),
    ("refunded", EntryKind.REFUND),
    ("expired", EntryKind.EXPIRE),
    ("adjusted", EntryKind.ADJUST),
)


@login_required
def ledger(request):
    require_staff(request)
    user = request.user
    params = request.GET.copy()
    params.pop("page", None)
    form = f.LedgerFilterForm(params or None, auto_id="f-%s")
    qs = _ledger_filters(form, services.ledger_for(user))
    sums = {name: Sum("amount", filter=Q(kind=kind)) for name, kind in TOTAL_KINDS}
    totals = qs.order_by().aggregate(entries=Count("pk"), net=Sum("amount"), **sums)
    totals = {k: v or 0 for k, v in totals.items()}
    qs = qs.select_related("user__volunteer_profile", "org", "team")
    page = Paginator(qs, LEDGER_PAGE).get_page(page_number(request))
    return render(
        request,
        "points/console_ledger.html",
        {
            "form": form,
            "totals": totals,
            "page": page,
            "rows": [entry_row(e, with_person=True) for e in page.object_list],
            "query": urlencode([(k, v) for k, v in params.items() if v]),
        },
        status=400 if form.errors else 200,
    )


# --- shops --------------------------------------------------------------------------------------


def _may_create_shop(user) -> bool:
    return is_manager(user)


@login_required
def shops(request):
    require_staff(request)
    user = request.user
    may_create = _may_create_shop(user)
    form = f.ShopForm(request.POST or None, user=user, auto_id="shop-%s")
    status = 200
    if request.method == "POST":
        if not may_create:
            raise PermissionDenied("只有民警和指挥员可以开设兑换点")
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            org = visible_orgs(user).filter(code=data["org"]).first()
            try:
                if org is None:
                    raise ServiceError("bad_org", "所属单位不在您的辖区内")
                shop = services.create_shop(
                    user,
                    name=data["name"],
                    kind=data["kind"],
                    org=org,
                    address=data["address"],
                    phone=data["phone"],
                    opening_hours=data["opening_hours"],
                )
            except ServiceError as exc:
                form.service_error(exc)
                status = exc.status
            else:
                messages.success(request, f"已开设兑换点 {shop.name}（{shop.code}）")
                return redirect("console-shop", code=shop.code)
    rows = (
        services.shops_for(user)
        .annotate(
            n_items=Count("items", filter=Q(items__active=True), distinct=True),
            n_pending=Count("orders", filter=Q(orders__status=OrderStatus.PENDING), distinct=True),
        )
        .order_by("org_path", "name")[:500]
    )
    return render(
        request,
        "points/console_shops.html",
        {"shops": rows, "form": form, "may_create": may_create},
        status=status,
    )


def _shop_or_404(request, code):
    require_staff(request)
    try:
        return services.get_shop_for(request.user, (code or "")[:24])
    except ServiceError as exc:
        raise Http404(exc.message) from exc


def _item_initial(item) -> dict:
    return {
        "item": item.pk,
        "name": item.name,
        "description": item.description,
        "points_price": item.points_price,
        "stock": item.stock,
        "expected_stock": item.stock,
        "limit_per_person": item.limit_per_person,
        "limit_period": item.limit_period,
        "active": item.active,
    }


def _shop_context(request, shop, *, bound: dict | None = None) -> dict:
    """`bound` holds the submitted form that failed: {"action", "form", "target"}."""
    user = request.user
    bound = bound or {}
    action, target = bound.get("action"), bound.get("target")
    placed = []

    def pick(name, make, key=None):
        if action == name and (key is None or target == key):
            placed.append(name)
            return bound["form"]
        return make()

    items = []
    for item in shop.items.order_by("-active", "points_price", "pk"):
        items.append(
            {
                "item": item,
                "edit": pick(
                    "item",
                    lambda item=item: f.ItemForm(
                        initial=_item_initial(item), auto_id=f"item{item.pk}-%s"
                    ),
                    item.pk,
                ),
                "restock": pick(
                    "restock",
                    lambda item=item: f.RestockForm(
                        initial={"item": item.pk}, auto_id=f"restock{item.pk}-%s"
                    ),
                    item.pk,
                ),
                "open": action in ("item", "restock") and target == item.pk,
            }
        )
    status = (request.GET.get("status") or "").strip()
    if status not in OrderStatus.values:
        status = ""
    orders = services.orders_for(user).filter(shop=shop).select_related("user__volunteer_profile")
    if status:
        orders = orders.filter(status=status)
    orders = orders.order_by("-created_at", "-pk")[:ORDERS_SHOWN]
    counts = dict(
        shop.orders.order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    new_item = pick("item", lambda: f.ItemForm(auto_id="new-%s"), None if target is None else 0)
    if action in ("clerk-remove", "order-cancel"):
        placed.append(action)
    return {
        "shop": shop,
        "items": items,
        # A form about something not on this page (another shop's item) reports on top.
        "top_errors": bound["form"].chinese_errors() if bound and not placed else [],
        "new_item": new_item,
        "new_item_open": action == "item" and target is None,
        "clerks": [
            {"u": c, "p": person(c)} for c in shop.clerks.select_related("volunteer_profile")
        ],
        "clerk_form": pick("clerk-add", lambda: f.ClerkAddForm(auto_id="clerk-%s")),
        "clerk_error": bound["form"] if action == "clerk-remove" else None,
        "edit_form": pick(
            "edit",
            lambda: f.ShopEditForm(
                initial={
                    "name": shop.name,
                    "address": shop.address,
                    "phone": shop.phone,
                    "opening_hours": shop.opening_hours,
                    "active": shop.active,
                },
                auto_id="edit-%s",
            ),
        ),
        "edit_open": action == "edit",
        "orders": [{"o": o, "holder": person(o.user)} for o in orders],
        "order_error": bound if action == "order-cancel" else None,
        "status": status,
        "statuses": [
            (value, label, counts.get(value, 0) if value else sum(counts.values()))
            for value, label in f.ORDER_FILTERS
        ],
        "can_manage": services.can_manage_shop(user, shop),
        "now": clock.now(),
    }


@login_required
def shop(request, code):
    found = _shop_or_404(request, code)
    return render(request, "points/console_shop.html", _shop_context(request, found))


# Each action: (form class, runner(user, shop, data) -> success message). Runners raise
# ServiceError for the page to show.


def _save_item(user, shop, data):
    item = None
    if data.get("item"):
        item = RewardItem.objects.filter(pk=data["item"], shop=shop).first()
        if item is None:
            raise ServiceError("not_found", "未找到该商品")
    saved = services.save_item(
        user,
        shop,
        item=item,
        name=data["name"],
        description=data["description"],
        points_price=data["points_price"],
        stock=data["stock"],
        expected_stock=data.get("expected_stock"),
        limit_per_person=data["limit_per_person"],
        limit_period=data["limit_period"],
        active=data["active"],
    )
    return f"已保存商品 {saved.name}"


def _restock(user, shop, data):
    item = RewardItem.objects.filter(pk=data["item"], shop=shop).first()
    if item is None:
        raise ServiceError("not_found", "未找到该商品")
    item = services.restock(user, item, data["quantity"])
    return f"{item.name} 已补货 {data['quantity']} 件，现有库存 {item.stock} 件"


def _clerk_add(user, shop, data):
    clerk = User.objects.filter(username=data["username"], role=Role.CLERK).first()
    if clerk is None:
        raise ServiceError(
            "unknown_clerk",
            "未找到该店员账号：请先由管理员创建“店员”角色的账号",
            details={"field": "username"},
        )
    services.set_clerks(user, shop, [*shop.clerks.all(), clerk])
    return f"已添加店员 {clerk.label}"


def _clerk_remove(user, shop, data):
    current = list(shop.clerks.all())
    if data["user"] not in {c.pk for c in current}:
        raise ServiceError("not_found", "该用户不是本店店员")
    services.set_clerks(user, shop, [c for c in current if c.pk != data["user"]])
    return "已移除店员"


def _order_cancel(user, shop, data):
    if not shop.orders.filter(code=data["order"]).exists():
        raise ServiceError("not_found", "未找到该订单")
    order = services.cancel_order(user, data["order"], reason=data["reason"])
    return f"订单 {order.code} 已取消，{order.points} 积分已退还兑换人"


def _edit_shop(user, shop, data):
    services.update_shop(user, shop, **data)
    return "兑换点信息已保存"


ACTIONS = {
    "item": (f.ItemForm, _save_item),
    "restock": (f.RestockForm, _restock),
    "clerk-add": (f.ClerkAddForm, _clerk_add),
    "clerk-remove": (f.ClerkRemoveForm, _clerk_remove),
    "order-cancel": (f.OrderCancelForm, _order_cancel),
    "edit": (f.ShopEditForm, _edit_shop),
}


def _target(action, data: dict):
    if action in ("item", "restock"):
        raw = data.get("item") or ""
        return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
    return None


@login_required
@require_POST
def shop_action(request, code, action):
    found = _shop_or_404(request, code)
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404("没有这个操作")
    if not services.can_manage_shop(request.user, found):
        raise PermissionDenied("只有辖区民警和指挥员可以管理兑换点")
    form_class, run = spec
    target = _target(action, request.POST)
    prefix = {"item": f"item{target}-%s" if target else "new-%s", "restock": f"restock{target}-%s"}
    form = form_class(request.POST, auto_id=prefix.get(action, f"{action}-%s"))
    status = 400
    if form.is_valid():
        try:
            message = run(request.user, found, form.cleaned_data)
        except ServiceError as exc:
            form.service_error(exc)
            status = exc.status
        else:
            messages.success(request, message)
            return redirect("console-shop", code=found.code)
    found = services.get_shop_for(request.user, found.code)
    bound = {"action": action, "form": form, "target": target}
    context = _shop_context(request, found, bound=bound)
    return render(request, "points/console_shop.html", context, status=status)


# --- volunteer statistics -----------------------------------------------------------------------


def _require_stats_viewer(request) -> None:
    if not recognition.may_view_stats(request.user):
        raise PermissionDenied("只有民警、辅警和指挥员可以查看义警统计")


def _stats_filters(params) -> dict:
    return {
        key: (params.get(key) or "").strip()[:40] for key in ("month", "from", "to", "org", "team")
    }


def _stats_query(user, raw: dict) -> dict:
    """Everything the page and the workbook need, or a ServiceError in Chinese."""
    today = clock.now().astimezone(recognition.LOCAL_TZ).date()
    month = recognition.parse_month(raw["month"]) or date(today.year, today.month, 1)
    start = recognition.parse_day(raw["from"], field="from", label="起始日期")
    end = recognition.parse_day(raw["to"], field="to", label="截止日期")
    if start is None and end is None:
        start, end = month, recognition.month_end(month)
    else:
        start, end = recognition.default_period(start, end, today)
    recognition.validate_period(start, end)
    root = recognition.org_in_scope(user, raw["org"])
    team = None
    if raw["team"]:
        team = recognition.board_for(user, team_code=raw["team"]).team
    return {"month": month, "start": start, "end": end, "org": root, "team": team}


def _org_choices(user) -> list[tuple[str, str]]:
    orgs = visible_orgs(user).order_by("path").only("code", "name", "path")[:3000]
    return [(o.code, "　" * max(o.depth - 1, 0) + o.name) for o in orgs]


def _team_choices(user) -> list[tuple[str, str]]:
    teams = recognition.teams_in(recognition.stats_root(user)).only("code", "name")[:1000]
    return [(t.code, t.name) for t in teams]


def _stats_page(request, raw, query=None, error: str = "", status: int = 200):
    user = request.user
    shown = dict(raw)
    if query is not None and not shown.get("month"):
        # The month the page shows, so the picker is not blank on the first visit.
        shown["month"] = recognition.month_key(query["month"])
    context = {
        "filters": shown,
        "error": error,
        "orgs": _org_choices(user),
        "teams": _team_choices(user),
        "export_query": urlencode({k: v for k, v in raw.items() if v}),
        "q": query,
    }
    if query is not None:
        rows = recognition.team_stats(org=query["org"], start=query["start"], end=query["end"])
        for row in rows:
            row["rate"] = recognition.percent(row["fill_rate"])
        teams = [row for row in rows if not row["is_total"]]
        context.update(
            month_key=recognition.month_key(query["month"]),
            scope_name=query["org"].name if query["org"] else "全部",
            rows=rows,
            totals=rows[-1],
            board=recognition.leaderboard(month=query["month"], org=query["org"]),
            team_board=(
                recognition.leaderboard(month=query["month"], team=query["team"])
                if query["team"] is not None
                else None
            ),
            chart={
                "teams": [row["team"]["name"] for row in teams],
                "hours": [float(row["hours"]) for row in teams],
                "issued": [row["points_issued"] for row in teams],
                "redeemed": [row["points_redeemed"] for row in teams],
                "fill": [
                    None if row["fill_rate"] is None else round(row["fill_rate"] * 100, 1)
                    for row in teams
                ],
            },
        )
    return render(request, "points/volunteer_stats.html", context, status=status)


@login_required
def volunteer_stats(request):
    _require_stats_viewer(request)
    raw = _stats_filters(request.GET)
    try:
        query = _stats_query(request.user, raw)
    except ServiceError as exc:
        return _stats_page(request, raw, None, exc.message, exc.status)
    return _stats_page(request, raw, query)


@login_required
def volunteer_stats_xlsx(request):
    _require_stats_viewer(request)
    raw = _stats_filters(request.GET)
    try:
        query = _stats_query(request.user, raw)
    except ServiceError as exc:
        return _stats_page(request, raw, None, exc.message, exc.status)
    body = recognition.export_xlsx(
        org=query["org"],
        start=query["start"],
        end=query["end"],
        month=query["month"],
        team=query["team"],
    )
    response = HttpResponse(body, content_type=XLSX)
    audit.record(
        request.user, Action.EXPORT, "volunteer_stats", "xlsx", detail=raw, request=request
    )
    response["Content-Disposition"] = export.content_disposition(
        query["org"], query["start"], query["end"]
    )
    response["Cache-Control"] = "no-store"
    return response
