"""The volunteers' run put together, and its entry point `generate_volunteers`."""

from __future__ import annotations

import heapq
from collections import Counter

from django.db import transaction
from django.db.models import F, Sum

from pingan.demo.progress import say
from pingan.notify.models import MessageStatus, OutboundMessage
from pingan.points import services as points
from pingan.points.models import (
    PointEntry,
    RedemptionOrder,
    Shop,
)
from pingan.volunteers.models import (
    Membership,
    Signup,
    Task,
    Team,
)

from .plan import (
    DEFAULT_DENSITY,
    MIN_SCALE,
    clock_at,
)
from .points import Points
from .signups import Signups
from .tasks import Tasks
from .teams import Teams


class Run(Teams, Tasks, Signups, Points):
    """Plans the teams, tasks, shops and earnings, then performs every step in clock order."""

    # Running ------------------------------------------------------------------------------

    def perform(self) -> None:
        while self.heap:
            at, _, _, action = heapq.heappop(self.heap)
            with clock_at(at):
                action(at)
        with clock_at(self.now):
            points.sweep(self.now)


def generate_volunteers(
    structure, *, seed: int, now, years: int, history_per_day: float, stdout=None
) -> dict:
    """The demo county's volunteers, tasks, points and shops, in the caller's transaction;
    nothing without a history."""
    if years <= 0 or history_per_day <= 0:
        return {}
    scale = max(MIN_SCALE, min(1.0, history_per_day / DEFAULT_DENSITY))
    connection = transaction.get_connection()
    with transaction.atomic():
        mark = len(connection.run_on_commit)
        first_message = (
            OutboundMessage.objects.order_by("-pk").values_list("pk", flat=True).first()
        ) or 0
        run = Run(structure, seed, now, scale)
        run.plan_teams()
        run.schedule_teams()
        run.plan_tasks()
        run.schedule_tasks()
        run.plan_shops()
        run.plan_tips()
        run._citizen1()
        run.plan_mediation_help()
        run._showcase_orders()
        say(stdout, f"  义警队伍 {len(run.teams)} 支，任务 {len(run.tasks)} 个，办理中…")
        run.perform()
        # Nobody watched the simulated past: drop its pushes and deliveries, and record the
        # texts it queued as sent at their moment.
        del connection.run_on_commit[mark:]
        OutboundMessage.objects.filter(pk__gt=first_message, status=MessageStatus.QUEUED).update(
            status=MessageStatus.SENT,
            next_attempt_at=F("created_at"),
            sent_at=F("created_at"),
            backend="demo",
        )
    return summarise(run, stdout)


def summarise(run: Run | None = None, stdout=None) -> dict:
    members = Counter(Membership.objects.values_list("status", flat=True))
    signups = Counter(Signup.objects.values_list("status", flat=True))
    orders = Counter(RedemptionOrder.objects.values_list("status", flat=True))
    earned = PointEntry.objects.filter(amount__gt=0).aggregate(n=Sum("amount"))["n"] or 0
    spent = PointEntry.objects.filter(amount__lt=0).aggregate(n=Sum("amount"))["n"] or 0
    summary = {
        "teams": Team.objects.count(),
        "members": dict(members),
        "tasks": Task.objects.count(),
        "signups": dict(signups),
        "entries": PointEntry.objects.count(),
        "earned": earned,
        "spent": -spent,
        "shops": Shop.objects.count(),
        "orders": dict(orders),
        "refused": dict(run.errors) if run else {},
    }
    say(
        stdout,
        f"  义警队伍 {summary['teams']}（在队 {members['active']}，待审核 {members['pending']}）；"
        f"任务 {summary['tasks']}，报名 {signups['accepted']}（候补 {signups['waiting']}）；"
        f"积分流水 {summary['entries']}（发放 {earned}，兑换净额 {-spent}）；"
        f"兑换点 {summary['shops']}，订单 {sum(orders.values())}（待核销 {orders['pending']}）",
    )
    if run is not None and run.errors:
        say(stdout, f"  （按规则被拒的操作：{dict(sorted(run.errors.items()))}）")
    return summary
