"""The disputes' run: every step of every life in one clock order, and the entry point."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime

from django.db import transaction
from django.db.models.signals import post_save

from pingan.demo.progress import say
from pingan.disputes import services
from pingan.disputes.models import (
    OPEN_STATUSES,
    Dispute,
    RiskRule,
)
from pingan.disputes.risk import ensure_default_rules
from pingan.notify.models import MessageStatus, OutboundMessage

from .showcase import Showcase

# History lives per year at the default incident density (14 a day); scaled with the density.
HISTORY_PER_YEAR = 130
DEFAULT_DENSITY = 14.0
DISPATCH_UID = "pingan.demo.disputes.date-messages"


class Run(Showcase):
    """Plans every life, then performs all their steps in one clock order."""

    # Running ---------------------------------------------------------------------------------

    def perform(self) -> None:
        """Every step of every life, the planned sweeps in between, all in clock order. The
        messages a step queues are dated to its moment and recorded as sent (package notes)."""
        for life in self.lives:
            life.finish()
        steps = [
            (at, 0, life.key, index, action)
            for life in self.lives
            for index, (at, action) in enumerate(life.steps)
        ]
        steps += [(at, 1, 0, 0, services.escalate_overdue) for at in self.sweeps]
        steps += [(at, 2, 0, 0, services.reassess_due) for at in self.reassess_at]
        steps.append((self.now, 3, 0, 0, services.sweep))
        steps.sort(key=lambda step: step[:4])
        moments: dict[int, datetime] = {}
        clock = [self.now]
        me = threading.get_ident()

        def dated(sender, instance, created, **kwargs):
            if created and threading.get_ident() == me:
                moments[instance.pk] = clock[0]

        post_save.connect(dated, sender=OutboundMessage, weak=False, dispatch_uid=DISPATCH_UID)
        try:
            for at, _, _, _, action in steps:
                clock[0] = at
                action(at)
        finally:
            post_save.disconnect(sender=OutboundMessage, dispatch_uid=DISPATCH_UID)
        by_moment: dict[datetime, list[int]] = {}
        for pk, at in moments.items():
            by_moment.setdefault(at, []).append(pk)
        for at, pks in sorted(by_moment.items()):
            OutboundMessage.objects.filter(pk__in=pks, status=MessageStatus.QUEUED).update(
                status=MessageStatus.SENT,
                created_at=at,
                next_attempt_at=at,
                sent_at=at,
                backend="demo",
            )


# --- entry point -----------------------------------------------------------------------------


def generate_disputes(
    structure, *, seed: int, now, years: int, history_per_day: float, stdout=None
) -> dict:
    """The demo county's disputes, in the caller's transaction; nothing without a history."""
    if years <= 0 or history_per_day <= 0:
        return {}
    ensure_default_rules(RiskRule)
    connection = transaction.get_connection()
    with transaction.atomic():
        mark = len(connection.run_on_commit)
        run = Run(structure, seed, now)
        pool = run.case_pool()
        run.showcase(pool)
        count = round(HISTORY_PER_YEAR * years * history_per_day / DEFAULT_DENSITY)
        run.history(count, years, pool)
        say(stdout, f"  矛盾纠纷 {len(run.lives)} 件，办理中…")
        run.perform()
        # The simulated past had no audience: drop the live pushes and message deliveries its
        # steps registered for after commit (the messages are recorded as sent at their moment).
        del connection.run_on_commit[mark:]
    return summarise(stdout)


def summarise(stdout=None) -> dict:
    statuses = Counter(Dispute.objects.values_list("status", flat=True))
    colours = Counter(
        Dispute.objects.filter(status__in=OPEN_STATUSES).values_list("risk", flat=True)
    )
    summary = {"total": sum(statuses.values()), "statuses": dict(statuses), "open": dict(colours)}
    say(
        stdout,
        f"  矛盾纠纷 {summary['total']}（化解中 {sum(colours.values())}：红 {colours['red']}、"
        f"黄 {colours['yellow']}、绿 {colours['green']}；已化解 {statuses['resolved']}，"
        f"已结案 {statuses['closed']}）",
    )
    return summary
