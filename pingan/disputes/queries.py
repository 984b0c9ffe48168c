"""Dispute statistics for the page and the Excel export, read only from `StatCell`.

Every figure is a sum over the pre-aggregated cells of the units and months asked for (see
`stats.py`), so the cost depends on the number of units x months x values, not on the number
of disputes. The cells count each dispute once per dimension by its unit and by the local
month it was registered in: a period selects disputes registered in it.
"""

from datetime import date

from django.db.models import Case, DateField, F, Sum, Value, When

from pingan.accounts.models import Role, User
from pingan.core.errors import Forbidden, NotFound, ServiceError
from pingan.orgs.models import OrgUnit
from pingan.orgs.services import scope_org

from .models import OPEN_STATUSES, Channel, DisputeType, Risk, Route, StatCell, Status

EARLIEST_MONTH = date(2000, 1, 1)
LATEST_MONTH = date(2099, 12, 1)
MAX_SPAN_MONTHS = 120
NO_ROUTE = ("none", "未确定途径")

# key in the summary -> (StatCell dimension, the values in display order with their labels)
BREAKDOWNS = {
    "by_type": ("type", list(DisputeType.choices)),
    "by_channel": ("channel", list(Channel.choices)),
    "by_route": ("route", [*Route.choices, NO_ROUTE]),
    "by_risk": ("risk", list(Risk.choices)),
    "by_status": ("status", list(Status.choices)),
}


# --- input --------------------------------------------------------------------------------------


def month_key(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def parse_month(raw, *, field: str, label: str) -> date | None:
    """ "2026-11" -> date(2026, 11, 1); "" -> None. Bad input raises a ServiceError in Chinese."""
    text = (raw or "").strip() if isinstance(raw, str) or raw is None else None
    if text is None:
        raise ServiceError("bad_month", f"{label}必须是文字", details={"field": field})
    if not text:
        return None
    parts = text.split("-")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() for p in parts) or len(parts[0]) != 4:
        raise ServiceError(
            "bad_month",
            f"{label}格式应为 年-月，例如 2026-11（{text[:20]}）",
            details={"field": field},
        )
    year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12:
        raise ServiceError("bad_month", f"{label}的月份应在 1 到 12 之间", details={"field": field})
    return date(year, month, 1)


def months_between(first: date, last: date) -> int:
    """How many months the closed range first..last covers (1 when equal)."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def validate_period(month_from: date | None, month_to: date | None) -> tuple:
    """Both ends optional (open-ended); each normalised to the first of its month."""
    cleaned = []
    for value, field, label in ((month_from, "from", "起始月份"), (month_to, "to", "截止月份")):
        if value is None:
            cleaned.append(None)
            continue
        if not isinstance(value, date):
            raise ServiceError("bad_month", f"{label}无效", details={"field": field})
        value = date(value.year, value.month, 1)
        if not EARLIEST_MONTH <= value <= LATEST_MONTH:
            raise ServiceError(
                "bad_month",
                f"{label}应在 {month_key(EARLIEST_MONTH)} 到 {month_key(LATEST_MONTH)} 之间",
                details={"field": field},
            )
        cleaned.append(value)
    first, last = cleaned
    if first and last:
        if first > last:
            raise ServiceError("bad_period", "起始月份不能晚于截止月份", details={"field": "from"})
        if months_between(first, last) > MAX_SPAN_MONTHS:
            raise ServiceError(
                "bad_period",
                f"统计区间最长 {MAX_SPAN_MONTHS // 12} 年（{MAX_SPAN_MONTHS} 个月）",
                details={"field": "from"},
            )
    return first, last


# --- scope --------------------------------------------------------------------------------------


def may_view_stats(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role == Role.COMMANDER)


def stat_scope(user: User, org_code: str | None = None) -> OrgUnit | None:
    """The unit whose subtree the figures cover; None means every unit (superusers only).

    Commanders see their own unit's tree (as on the dispute board); a unit asked for must lie
    inside what the user may see."""
    if not may_view_stats(user):
        raise Forbidden("只有指挥员可以查看矛盾纠纷统计")
    if user.is_superuser:
        root = None
    else:
        root = scope_org(user)
        if root is None:
            raise Forbidden("您的账号未关联单位，无法查看统计")
    code = (org_code or "").strip()
    if not code:
        return root
    if len(code) > 32:
        raise ServiceError("bad_org", "单位编码无效", details={"field": "org"})
    org = OrgUnit.objects.filter(code=code).first()
    if org is None:
        raise NotFound(f"单位 {code} 不存在")
    if root is not None and not org.path.startswith(root.path):
        raise Forbidden("只能查看本单位及下级单位的统计")
    return org


# --- figures ------------------------------------------------------------------------------------


def median_from_histogram(counts: dict[int, int]) -> float | None:
    """Median of the values a histogram {value: how many} describes; the mean of the two
    middle values when the count is even."""
    n = sum(counts.values())
    if n == 0:
        return None
    low_rank, high_rank = (n - 1) // 2, n // 2
    low = high = None
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if low is None and seen > low_rank:
            low = value
        if seen > high_rank:
            high = value
            break
    return (low + high) / 2


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _breakdown(sums: dict, dimension: str, choices: list) -> list[dict]:
    rows = []
    for value, label in choices:
        total, settled, _ = sums.get((dimension, value), (0, 0, 0))
        rows.append({"value": value, "label": str(label), "total": total, "settled": settled})
    # Values no longer among the choices (a type retired since) still add up to the total.
    known = {value for value, _ in choices}
    for (dim, value), (total, settled, _) in sorted(sums.items()):
        if dim == dimension and value not in known and total:
            rows.append({"value": value, "label": value, "total": total, "settled": settled})
    return rows


def _months(first: date, last: date):
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        yield date(year, month, 1)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def summary(
    user: User,
    *,
    month_from: date | None = None,
    month_to: date | None = None,
    org_code: str | None = None,
) -> dict:
    """The statistics of the disputes registered in the period, within what `user` may see.

    - `resolution_rate` (化解率) = settled / total, where settled means resolved or closed as
      stable now, and total counts every dispute including pending and declined requests.
    - `median_days`: median whole days from registration to resolution over the settled
      disputes (days above 365 count as 365); None when nothing is settled.
    - `relapse_rate` (反复率) = relapsed / disputes resolved at least once, where relapsed
      means a return visit found the settlement broken at least once (`relapse_count` > 0).
      The denominator is the settled disputes plus those reopened by a relapse and still being
      worked on: every relapsed dispute was resolved before, so the rate stays within 0..1 and
      does not fall merely because relapsed disputes are open again.
    """
    month_from, month_to = validate_period(month_from, month_to)
    root = stat_scope(user, org_code)
    cells = StatCell.objects.all()
    if root is not None:
        # By unit id rather than a LIKE on the path: the unique (org, month, dimension, value)
        # index serves it on every database, and SQLite's LIKE cannot use an index at all.
        cells = cells.filter(
            org__in=OrgUnit.objects.filter(path__startswith=root.path).values("pk")
        )
    if month_from is not None:
        cells = cells.filter(month__gte=month_from)
    if month_to is not None:
        cells = cells.filter(month__lte=month_to)
    # One query: the month is only needed for the "all" dimension, so every other dimension
    # groups on a constant and comes back once per value rather than once per month.
    rows = (
        cells.annotate(
            by_month=Case(
                When(dimension="all", then=F("month")),
                default=Value(None),
                output_field=DateField(),
            )
        )
        .values_list("dimension", "value", "by_month")
        .annotate(n_total=Sum("total"), n_settled=Sum("settled"), n_relapsed=Sum("relapsed"))
    )
    sums: dict[tuple, tuple] = {}
    month_sums: dict[date, tuple] = {}
    for dimension, value, month, total, settled, relapsed in rows.order_by():
        key = (dimension, value)
        t, s, r = sums.get(key, (0, 0, 0))
        sums[key] = (t + total, s + settled, r + relapsed)
        if dimension == "all":
            month_sums[month] = (total, settled)
    total, settled, relapsed = sums.get(("all", ""), (0, 0, 0))
    days = {
        int(value): n for (dimension, value), (n, _, _) in sums.items() if dimension == "days" and n
    }
    reopened = sum(sums.get(("status", s), (0, 0, 0))[2] for s in OPEN_STATUSES)
    ever_settled = settled + reopened
    result = {
        "scope": {"code": root.code, "name": root.name} if root else {"code": "", "name": "全部"},
        "period": {
            "from": month_key(month_from) if month_from else None,
            "to": month_key(month_to) if month_to else None,
        },
        "total": total,
        "settled": settled,
        "resolution_rate": _ratio(settled, total),
        "median_days": median_from_histogram(days),
        "relapsed": relapsed,
        "ever_settled": ever_settled,
        "relapse_rate": _ratio(relapsed, ever_settled),
    }
    for key, (dimension, choices) in BREAKDOWNS.items():
        result[key] = _breakdown(sums, dimension, choices)
    first = month_from or min(month_sums, default=None)
    last = month_to or max(month_sums, default=None)
    result["by_month"] = []
    if first and last:
        for m in _months(first, last):
            n_total, n_settled = month_sums.get(m, (0, 0))
            result["by_month"].append(
                {"month": month_key(m), "total": n_total, "settled": n_settled}
            )
    return result
