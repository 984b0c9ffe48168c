"""The dispute statistics page (化解率, median days, relapse rate, breakdowns) and its export."""

from datetime import date
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from pingan.audit import services as audit
from pingan.audit.models import Action
from pingan.core import clock
from pingan.core.errors import ServiceError
from pingan.orgs.services import visible_orgs

from . import export, queries

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEFAULT_MONTHS = 12


def _require_viewer(user) -> None:
    if not queries.may_view_stats(user):
        raise PermissionDenied("只有指挥员可以查看矛盾纠纷统计")


def _default_period() -> tuple[str, str]:
    """The last twelve months up to the current local month."""
    today = timezone.localdate(clock.now())
    year, month = today.year, today.month - (DEFAULT_MONTHS - 1)
    while month < 1:
        year, month = year - 1, month + 12
    return queries.month_key(date(year, month, 1)), queries.month_key(today)


def _filters(params) -> dict:
    """The raw filter values as the form shows them. A first visit (neither month in the query)
    gets the last twelve months; a submitted empty month means open-ended."""
    if "from" not in params and "to" not in params:
        start, end = _default_period()
    else:
        start, end = params.get("from", ""), params.get("to", "")
    return {
        "from": start.strip()[:20],
        "to": end.strip()[:20],
        "org": params.get("org", "").strip()[:40],
    }


def _summary(user, raw: dict) -> dict:
    return queries.summary(
        user,
        month_from=queries.parse_month(raw["from"], field="from", label="起始月份"),
        month_to=queries.parse_month(raw["to"], field="to", label="截止月份"),
        org_code=raw["org"] or None,
    )


def _org_choices(user) -> list[tuple[str, str]]:
    orgs = visible_orgs(user).order_by("path").only("code", "name", "path")
    return [(o.code, "　" * max(o.depth - 1, 0) + o.name) for o in orgs[:3000]]


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


TABLES = (
    ("by_channel", "按排查渠道", "排查渠道"),
    ("by_route", "按化解途径", "化解途径"),
    ("by_risk", "按风险等级", "风险等级"),
    ("by_status", "按状态", "状态"),
    ("by_type", "按纠纷类型", "纠纷类型"),
)


def _tables(data: dict) -> list[dict]:
    return [
        {
            "key": key,
            "title": title,
            "heading": heading,
            "rows": [
                {**row, "rate": percent(row["settled"] / row["total"] if row["total"] else None)}
                for row in data[key]
            ],
        }
        for key, title, heading in TABLES
    ]


def _page(request, raw: dict, data: dict | None, error: str = "", status: int = 200):
    context = {
        "filters": raw,
        "data": data,
        "error": error,
        "orgs": _org_choices(request.user),
        "export_query": urlencode(raw),
    }
    if data is not None:
        context["figures"] = {
            "resolution_rate": percent(data["resolution_rate"]),
            "relapse_rate": percent(data["relapse_rate"]),
            "median_days": "—" if data["median_days"] is None else f"{data['median_days']:g}",
        }
        context["tables"] = _tables(data)
        context["chart"] = {
            "months": [row["month"] for row in data["by_month"]],
            "month_total": [row["total"] for row in data["by_month"]],
            "month_settled": [row["settled"] for row in data["by_month"]],
            "types": [row["label"] for row in data["by_type"]],
            "type_total": [row["total"] for row in data["by_type"]],
            "type_settled": [row["settled"] for row in data["by_type"]],
        }
    return render(request, "disputes/stats.html", context, status=status)


@login_required
def stats_page(request):
    _require_viewer(request.user)
    raw = _filters(request.GET)
    try:
        data = _summary(request.user, raw)
    except ServiceError as exc:
        return _page(request, raw, None, exc.message, exc.status)
    return _page(request, raw, data)


@login_required
def stats_export(request):
    _require_viewer(request.user)
    raw = _filters(request.GET)
    try:
        data = _summary(request.user, raw)
    except ServiceError as exc:
        return _page(request, raw, None, exc.message, exc.status)
    response = HttpResponse(export.workbook_bytes(data), content_type=XLSX)
    audit.record(request.user, Action.EXPORT, "dispute_stats", "xlsx", detail=raw, request=request)
    response["Content-Disposition"] = export.content_disposition(data)
    response["Cache-Control"] = "no-store"
    return response
