"""Points pages: the resident's own balance and ledger, and what every points page shares —
who may open it, how a person is shown (masked), how a ledger entry's source reads.

The shop pages are in `views_shop` (residents and clerks) and the console's in
`views_console`. Every change goes through `services`; a ServiceError becomes a Chinese
message on the page that caused it.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from pingan.accounts.roles import is_clerk, is_resident
from pingan.core.masking import mask_name, mask_phone

from . import services
from .models import EntryKind

PAGE_SIZE = 50

SOURCE_LABELS = {
    "task": "义警任务",
    "incident": "线索举报",
    "mediation": "协助调解",
    "order": "兑换订单",
    "expiry": "积分过期",
    "adjust": "人工调整",
    "test": "测试",
}


# --- guards -------------------------------------------------------------------------------------


def require_holder(request) -> None:
    if not is_resident(request.user):
        raise PermissionDenied("积分和兑换页面只对群众和义警开放")


def require_clerk(request) -> None:
    if not is_clerk(request.user):
        raise PermissionDenied("只有兑换点店员可以核销订单")


def require_staff(request) -> None:
    user = request.user
    if not (user.is_superuser or user.is_staff_role):
        raise PermissionDenied("只有民警、辅警和指挥员可以使用管理台")


def page_number(request) -> int:
    raw = (request.GET.get("page") or "1").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 6 else 1


# --- people and sources -------------------------------------------------------------------------


def person(user) -> dict:
    """A resident as lists show them: surname and a masked phone, from the volunteer profile
    when there is one."""
    profile = getattr(user, "volunteer_profile", None)
    name = (profile.real_name if profile else "") or user.display_name or user.username
    phone = (profile.phone if profile else "") or user.phone
    return {"id": user.pk, "name": mask_name(name), "phone": mask_phone(phone)}


def source_label(entry) -> str:
    return SOURCE_LABELS.get(entry.source_type, entry.source_type)


def source_link(entry, *, owner: bool) -> str:
    """Where the entry came from, when the viewer has a page for it."""
    try:
        if entry.source_type == "order" and owner:
            return reverse("shop-order", kwargs={"code": entry.source_ref})
        if entry.source_type == "task" and owner:
            return reverse("volunteer-task", kwargs={"code": entry.source_ref})
    except NoReverseMatch:
        return ""
    return ""


def entry_row(entry, *, owner: bool = False, with_person: bool = False) -> dict:
    row = {
        "e": entry,
        "source": source_label(entry),
        "link": source_link(entry, owner=owner),
        "credit": entry.amount > 0,
    }
    if with_person:
        row["person"] = person(entry.user)
    return row


# --- my points ----------------------------------------------------------------------------------


@login_required
def mine(request):
    require_holder(request)
    user = request.user
    kind = (request.GET.get("kind") or "").strip()
    entries = services.ledger_for(user).select_related(None).select_related("team")
    if kind in EntryKind.values:
        entries = entries.filter(kind=kind)
    else:
        kind = ""
    page = Paginator(entries, PAGE_SIZE).get_page(page_number(request))
    return render(
        request,
        "points/mine.html",
        {
            "balance": services.balance(user),
            "page": page,
            "rows": [entry_row(e, owner=True) for e in page.object_list],
            "kind": kind,
            "kinds": EntryKind.choices,
            "pending_orders": services.orders_for(user).filter(status="pending").count(),
        },
    )
