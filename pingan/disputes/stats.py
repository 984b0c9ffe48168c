"""Keep `StatCell` in step with the disputes, and rebuild it from scratch.

Every service that changes a dispute's status, risk, route, type or relapse count wraps the
change in `tracked(dispute)`: the dispute's cells before and after are compared and only the
difference is written, with conditional increments so concurrent changes add up.
"""

from collections import Counter
from contextlib import contextmanager
from datetime import date
from types import SimpleNamespace

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .models import SETTLED_STATUSES, Dispute, StatCell

# Days to resolve above this are counted in one "long" bucket.
MAX_DAYS_BUCKET = 365


def month_of(moment) -> date:
    local = timezone.localtime(moment)
    return date(local.year, local.month, 1)


def resolve_days(dispute) -> int | None:
    if dispute.resolved_at is None or dispute.status not in SETTLED_STATUSES:
        return None
    days = (dispute.resolved_at - dispute.reported_at).total_seconds() / 86400
    return min(max(int(days), 0), MAX_DAYS_BUCKET)


def contributions(dispute) -> Counter:
    """{(org_id, org_path, month, dimension, value, field): +1} for one dispute."""
    if dispute.pk is None:
        return Counter()
    base = (dispute.org_id, dispute.org_path, month_of(dispute.reported_at))
    settled = dispute.status in SETTLED_STATUSES
    relapsed = dispute.relapse_count > 0
    counts = Counter()
    cells = [
        ("all", ""),
        ("type", dispute.type),
        ("channel", dispute.channel),
        ("route", dispute.route or "none"),
        ("risk", dispute.risk),
        ("status", dispute.status),
    ]
    days = resolve_days(dispute)
    if days is not None:
        cells.append(("days", str(days)))
    for dimension, value in cells:
        key = (*base, dimension, value)
        counts[(*key, "total")] += 1
        if settled:
            counts[(*key, "settled")] += 1
        if relapsed:
            counts[(*key, "relapsed")] += 1
    return counts


def apply_delta(before: Counter, after: Counter) -> None:
    delta = Counter(after)
    delta.subtract(before)
    by_cell: dict[tuple, dict[str, int]] = {}
    for (org_id, org_path, month, dimension, value, fld), n in delta.items():
        if n:
            by_cell.setdefault((org_id, org_path, month, dimension, value), {})[fld] = n
    for (org_id, org_path, month, dimension, value), changes in sorted(by_cell.items()):
        _bump(org_id, org_path, month, dimension, value, changes)


def _bump(org_id, org_path, month, dimension, value, changes: dict[str, int]) -> None:
    cell = StatCell.objects.filter(org_id=org_id, month=month, dimension=dimension, value=value)
    updates = {fld: F(fld) + n for fld, n in changes.items()}
    if cell.update(**updates):
        return
    try:
        with transaction.atomic():  # a savepoint: a racing insert must not poison the caller
            StatCell.objects.create(
                org_id=org_id,
                org_path=org_path,
                month=month,
                dimension=dimension,
                value=value,
                **changes,
            )
    except IntegrityError:
        cell.update(**updates)


@contextmanager
def tracked(dispute):
    """Wrap a change to a saved (or about-to-be-created) dispute; update the cells after it."""
    before = contributions(dispute)
    yield
    apply_delta(before, contributions(dispute))


STAT_FIELDS = (
    "pk",
    "org_id",
    "org_path",
    "reported_at",
    "resolved_at",
    "status",
    "risk",
    "route",
    "type",
    "channel",
    "relapse_count",
)


@transaction.atomic
def rebuild_stats(batch: int = 5000) -> int:
    """Recompute every cell from the disputes (after bulk loads or bulk re-evaluation)."""
    totals = Counter()
    # Plain rows: a model instance per dispute costs more than the counting.
    qs = Dispute.objects.values(*STAT_FIELDS).order_by()
    for row in qs.iterator(chunk_size=batch):
        totals.update(contributions(SimpleNamespace(**row)))
    cells: dict[tuple, dict[str, int]] = {}
    for (org_id, org_path, month, dimension, value, fld), n in totals.items():
        cells.setdefault((org_id, org_path, month, dimension, value), {})[fld] = n
    StatCell.objects.all().delete()
    StatCell.objects.bulk_create(
        (
            StatCell(
                org_id=org_id,
                org_path=org_path,
                month=month,
                dimension=dimension,
                value=value,
                **fields,
            )
            for (org_id, org_path, month, dimension, value), fields in cells.items()
        ),
        batch_size=2000,
    )
    return len(cells)
