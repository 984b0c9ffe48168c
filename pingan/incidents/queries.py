"""Read-side helpers: filtered lists and 1-3-5 compliance aggregates (no state changes)."""

from django.db.models import Avg, Count, F, Q

from .models import OPEN_STATUSES


def category_prefix(code: str) -> str:
    """010000 → 01, 010200 → 0102: the hierarchical code's prefix covering its subtree."""
    code = str(code)
    while code.endswith("00") and len(code) > 2:
        code = code[:-2]
    return code


def _rate(ok, n):
    return round(ok / n, 4) if n else None


def compliance(incidents, group_by: str = "grid") -> list[dict]:
    """Per area, the share of decided milestones that met their 1-3-5 target."""
    key = {"grid": ("grid__code", "grid__name"), "org": ("org__code", "org__name")}[group_by]
    rows = (
        incidents.exclude(**{f"{key[0]}__isnull": True})
        .values(*key)
        .annotate(
            total=Count("pk"),
            accept_n=Count("pk", filter=Q(accept_s__isnull=False)),
            accept_ok=Count("pk", filter=Q(accept_s__lte=F("target_accept_s"))),
            arrive_n=Count("pk", filter=Q(arrive_s__isnull=False)),
            arrive_ok=Count("pk", filter=Q(arrive_s__lte=F("target_arrive_s"))),
            reinforce_n=Count("pk", filter=Q(reinforce_s__isnull=False)),
            reinforce_ok=Count("pk", filter=Q(reinforce_s__lte=F("target_reinforce_s"))),
            avg_accept_s=Avg("accept_s"),
            avg_arrive_s=Avg("arrive_s"),
        )
        .order_by(key[0])
    )
    return [
        {
            "code": row[key[0]],
            "name": row[key[1]],
            "total": row["total"],
            "accept_rate": _rate(row["accept_ok"], row["accept_n"]),
            "arrive_rate": _rate(row["arrive_ok"], row["arrive_n"]),
            "reinforce_rate": _rate(row["reinforce_ok"], row["reinforce_n"]),
            "accepted": row["accept_n"],
            "arrived": row["arrive_n"],
            "reinforced": row["reinforce_n"],
            "avg_accept_s": round(row["avg_accept_s"], 1) if row["avg_accept_s"] else None,
            "avg_arrive_s": round(row["avg_arrive_s"], 1) if row["avg_arrive_s"] else None,
        }
        for row in rows
    ]


def filter_incidents(
    qs,
    *,
    status=None,
    category=None,
    grid=None,
    org=None,
    since=None,
    until=None,
    open_only=False,
    q=None,
):
    if status:
        qs = qs.filter(status=status)
    if open_only:
        qs = qs.filter(status__in=OPEN_STATUSES)
    if category:
        qs = qs.filter(category__code__startswith=category_prefix(category))
    if grid:
        qs = qs.filter(grid__code=grid)
    if org:
        qs = (
            qs.filter(org_path__contains=f"/{org.pk}/")
            if hasattr(org, "pk")
            else qs.filter(org__code=org)
        )
    if since:
        qs = qs.filter(reported_at__gte=since)
    if until:
        qs = qs.filter(reported_at__lt=until)
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(description__icontains=q) | Q(address__icontains=q))
    return qs
