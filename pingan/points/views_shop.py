"""Rewards-shop pages for phones: the shop and its redeem form, my orders and one order (code,
QR, cancel) for residents; the verification (核销) pages for clerks.

A clerk only ever reaches orders of their own shops: a code of another shop is the same
"未找到该核销码" as a code that does not exist, with the same status, so nothing leaks.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from pingan.core import clock
from pingan.core.errors import NotFound, ServiceError

from . import forms as f
from . import services
from .models import OrderStatus, RewardItem
from .views import person, require_clerk, require_holder

NOT_FOUND_CODE = "未找到该核销码，请核对后重新输入"
SHOP_LIST_LIMIT = 100


def group_code(code: str, size: int = 5) -> str:
    """ABCDE23456 -> "ABCDE 23456": read aloud and typed in two short halves."""
    return " ".join(code[i : i + size] for i in range(0, len(code), size))


# --- the shop -----------------------------------------------------------------------------------


def _shop_context(request, *, chosen: str = "", failed: int | None = None, form=None) -> dict:
    user = request.user
    shops = list(services.shops_for(user).order_by("org_path", "name")[:SHOP_LIST_LIMIT])
    shop = next((s for s in shops if s.code == chosen), None)
    if shop is None and len(shops) == 1:
        shop = shops[0]
    items = []
    if shop is not None:
        for item in services.items_for(user, shop).order_by("points_price", "pk"):
            bound = form if failed == item.pk else None
            items.append(
                {
                    "item": item,
                    "form": bound
                    or f.RedeemForm(initial={"item": item.pk, "quantity": 1}, auto_id=False),
                    "error": bound is not None,
                }
            )
    return {
        "shops": shops,
        "shop": shop,
        "items": items,
        "balance": services.balance(user),
        "max_quantity": services.MAX_QUANTITY,
    }


@login_required
def shop_home(request):
    """GET: the shops, and one shop's items (?shop=<code>). POST: redeem an item."""
    require_holder(request)
    if request.method != "POST":
        chosen = (request.GET.get("shop") or "").strip()[:24]
        return render(request, "points/shop.html", _shop_context(request, chosen=chosen))
    form = f.RedeemForm(request.POST, auto_id=False)
    item = None
    if form.is_valid():
        item = RewardItem.objects.filter(pk=form.cleaned_data["item"]).select_related("shop")
        item = item.first()
        try:
            order = services.redeem(
                request.user, form.cleaned_data["item"], form.cleaned_data["quantity"]
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
            status = exc.status
        else:
            messages.success(request, f"兑换成功！请凭核销码到{order.shop.name}领取")
            return redirect("shop-order", code=order.code)
    else:
        raw = form.data.get("item", "")
        if raw.isascii() and raw.isdigit() and len(raw) < 10:
            item = RewardItem.objects.filter(pk=int(raw)).select_related("shop").first()
        status = 400
    # Show the form again next to its item, if the resident may see that item at all.
    visible = item is not None and services.shops_for(request.user).filter(pk=item.shop_id).exists()
    context = _shop_context(
        request,
        chosen=item.shop.code if visible else "",
        failed=item.pk if visible else None,
        form=form,
    )
    if not any(row["error"] for row in context["items"]):
        # The item is not on a shelf this resident can see: the message goes on top.
        context["errors"] = form.chinese_errors() or ["未找到该商品"]
    return render(request, "points/shop.html", context, status=status)


# --- my orders ----------------------------------------------------------------------------------


@login_required
def orders(request):
    require_holder(request)
    mine = services.orders_for(request.user).order_by("-created_at", "-pk")[:200]
    return render(request, "points/orders.html", {"orders": mine, "now": clock.now()})


def _my_order_or_404(request, code):
    require_holder(request)
    try:
        return services.get_order_for(request.user, (code or "")[:24])
    except ServiceError as exc:
        raise Http404(exc.message) from exc


def _order_context(request, order, *, form=None) -> dict:
    now = clock.now()
    pending = order.status == OrderStatus.PENDING
    return {
        "order": order,
        "code_groups": group_code(order.redeem_code),
        "qr_svg": services.order_qr_svg(order, request) if pending else "",
        "overdue": pending and order.expires_at <= now,
        "can_cancel": pending,
        "form": form or f.CancelForm(auto_id="cancel-%s"),
    }


@login_required
def order(request, code):
    found = _my_order_or_404(request, code)
    response = render(request, "points/order.html", _order_context(request, found))
    # The page carries a one-time code: keep it out of shared caches.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def order_cancel(request, code):
    found = _my_order_or_404(request, code)
    form = f.CancelForm(request.POST, auto_id="cancel-%s")
    status = 400
    if form.is_valid():
        try:
            services.cancel_order(request.user, found.code, reason=form.cleaned_data["reason"])
        except ServiceError as exc:
            form.add_error(None, exc.message)
            status = exc.status
        else:
            messages.success(request, f"订单已取消，{found.points} 积分已退还")
            return redirect("shop-order", code=found.code)
    found = services.get_order_for(request.user, found.code)
    context = _order_context(request, found, form=form)
    return render(request, "points/order.html", context, status=status)


# --- clerks -------------------------------------------------------------------------------------


def _today_verified(clerk):
    now = clock.now()
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = (
        services.orders_for(clerk)
        .filter(status=OrderStatus.VERIFIED, verified_at__gte=start)
        .select_related("user__volunteer_profile", "verified_by")
        .order_by("-verified_at", "-pk")[:200]
    )
    return [{"o": o, "holder": person(o.user)} for o in rows]


def _verify_page(request, *, form=None, error: str = "", status: int = 200):
    clerk = request.user
    context = {
        "form": form or f.VerifyForm(auto_id="verify-%s"),
        "error": error,
        "shops": list(services.shops_for(clerk)),
        "today": _today_verified(clerk),
    }
    return render(request, "points/verify.html", context, status=status)


@login_required
def verify(request):
    """Type (or paste) a code → its order page. `?code=` so a plain GET form works anywhere."""
    require_clerk(request)
    if "code" not in request.GET:
        return _verify_page(request)
    form = f.VerifyForm(request.GET, auto_id="verify-%s")
    if not form.is_valid():
        return _verify_page(request, form=form, status=400)
    code = services.normalise_redeem_code(form.cleaned_data["code"])
    if code is None:
        return _verify_page(request, form=form, error=NOT_FOUND_CODE, status=404)
    return redirect("shop-verify-code", redeem_code=code)


def _holder(order) -> dict:
    return person(order.user)


def _code_page(request, order, *, error: str = "", status: int = 200):
    now = clock.now()
    context = {
        "order": order,
        "holder": _holder(order),
        "code_groups": group_code(order.redeem_code),
        "error": error,
        "overdue": order.status == OrderStatus.PENDING and order.expires_at <= now,
        "just_verified": request.GET.get("done") == "1" and order.status == OrderStatus.VERIFIED,
    }
    response = render(request, "points/verify_code.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _clerk_order(request, redeem_code):
    """The clerk's order for this code, or the verify page with "not found" (404)."""
    try:
        return services.find_order_for_clerk(request.user, redeem_code), None
    except NotFound:
        form = f.VerifyForm(initial={"code": (redeem_code or "")[:40]}, auto_id="verify-%s")
        return None, _verify_page(request, form=form, error=NOT_FOUND_CODE, status=404)


@login_required
def verify_code(request, redeem_code):
    require_clerk(request)
    if request.method == "POST":
        return _verify_post(request, redeem_code)
    found, missing = _clerk_order(request, redeem_code)
    if missing is not None:
        return missing
    return _code_page(request, found)


def _verify_post(request, redeem_code):
    found, missing = _clerk_order(request, redeem_code)
    if missing is not None:
        return missing
    try:
        done = services.verify_order(request.user, found.redeem_code)
    except ServiceError as exc:
        found = services.find_order_for_clerk(request.user, found.redeem_code)
        return _code_page(request, found, error=exc.message, status=exc.status)
    # The code page itself says so, in large type (?done=1): no second message on top.
    url = reverse("shop-verify-code", kwargs={"redeem_code": done.redeem_code})
    return redirect(f"{url}?done=1")
