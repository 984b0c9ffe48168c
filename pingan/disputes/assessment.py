"""Gathering the facts the risk rules look at, from the database."""

from datetime import timedelta

from . import risk as rules_engine
from .models import OPEN_STATUSES, Dispute, Party, RiskRule


def compiled_rules():
    return rules_engine.compile_rules(RiskRule.objects.filter(active=True))


def facts_for(dispute: Dispute, now) -> rules_engine.Facts:
    parties = list(dispute.parties.all())
    keys = {p.key for p in parties if p.key}
    gaps = ()
    if keys:
        window = max(
            [r.params.get("days", 0) for r in RiskRule.objects.filter(kind="repeat", active=True)]
            or [0]
        )
        if window:
            # "The same parties": every party of this dispute, or at least two of them.
            needed = min(2, len(keys))
            span = timedelta(days=window)
            candidates = (
                Party.objects.filter(
                    key__in=keys,
                    dispute__reported_at__gte=dispute.reported_at - span,
                    dispute__reported_at__lte=dispute.reported_at + span,
                )
                .exclude(dispute_id=dispute.pk)
                .values_list("dispute_id", "key", "dispute__reported_at")
            )
            shared: dict[int, set] = {}
            when = {}
            for other_id, key, reported_at in candidates:
                shared.setdefault(other_id, set()).add(key)
                when[other_id] = reported_at
            gaps = tuple(
                abs((when[i] - dispute.reported_at).total_seconds()) / 86400
                for i, found in shared.items()
                if len(found) >= needed
            )
    return rules_engine.Facts(
        narrative=f"{dispute.title}\n{dispute.narrative}",
        party_count=len(parties),
        vulnerabilities=frozenset(p.vulnerability for p in parties if p.vulnerability),
        repeat_gaps_days=gaps,
        days_without_progress=(now - dispute.last_progress_at).total_seconds() / 86400,
        is_open=dispute.status in OPEN_STATUSES,
        amount_yuan=float(dispute.amount_yuan) if dispute.amount_yuan is not None else None,
        relapse_count=dispute.relapse_count,
    )
