"""Periodic work (`manage.py sweep_disputes`, every minute): escalate overdue orders and re-run
the time-based risk rules.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q

from pingan.core import clock

from ..assessment import compiled_rules
from ..models import OPEN_STATUSES, Dispute
from ..stats import tracked
from .orders import escalate_overdue
from .risk_review import reassess


def reassess_due(now=None, limit: int = 200) -> int:
    """Re-run the rules on open disputes not evaluated for an hour (the "no progress" rule
    depends on time passing, and administrators may have tuned the rules).

    At most `limit` per call, one by one (a few ms each): the sweeper calls this every minute
    beside the dispatch sweep, so 200 keeps it to about a second and covers 12,000 open
    disputes an hour. Larger installations run `reassess_disputes` (bulk.py) on a schedule."""
    now = now or clock.now()
    rules = compiled_rules()
    stale_before = now - timedelta(hours=1)
    codes = list(
        Dispute.objects.filter(status__in=OPEN_STATUSES)
        .filter(Q(risk_evaluated_at__lt=stale_before) | Q(risk_evaluated_at__isnull=True))
        .order_by("risk_evaluated_at")
        .values_list("code", flat=True)[:limit]
    )
    changed = 0
    for code in codes:
        with transaction.atomic():
            dispute = (
                Dispute.objects.select_for_update(of=("self",))
                .select_related("grid", "org")
                .get(code=code)
            )
            with tracked(dispute):
                changed += reassess(dispute, now, rules=rules)
                dispute.save(
                    update_fields=["risk", "risk_computed", "risk_reasons", "risk_evaluated_at"]
                )
    return changed


def sweep(now=None) -> dict:
    now = now or clock.now()
    return {"escalated": escalate_overdue(now), "reassessed": reassess_due(now)}
