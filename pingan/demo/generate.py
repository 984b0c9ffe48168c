"""A deterministic demo county: 平安县, a fictional county in the hills of southern Jiangxi.

`generate_demo_county()` builds the org tree, ~100 grids, staff, citizens, dispatchable units and
two years of incident history (`demo.county`), then disputes (`demo.disputes`) and volunteer
teams, tasks, points and rewards shops (`demo.volunteers`), so every page of the platform has
something real-looking to show the moment the demo starts.

Determinism: the *structure* (orgs, grids, users, units, positions) depends only on `seed`; the
history depends on `seed` and `now` (it is laid out backwards from `now`). All randomness comes
from generator instances seeded here, never from the global RNG.

State changes go through the services where they exist (org tree, grids, staff, units, duty,
positions, the live open incidents). Years of closed history are written with bulk_create: the
services would take minutes, and their only extra work (pushes, expiry tasks) means nothing for
incidents that ended long ago.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from pingan.accounts.models import Role, User
from pingan.core import clock
from pingan.demo.county.history import History
from pingan.demo.county.open_incidents import open_incidents
from pingan.demo.county.plan import RESERVED_UNIT_USERS, plan_county
from pingan.demo.county.structure import set_duty_and_position, write_structure
from pingan.demo.disputes.run import generate_disputes
from pingan.demo.progress import say
from pingan.demo.volunteers.run import generate_volunteers
from pingan.incidents import services as incidents
from pingan.incidents.categories import ensure_default_categories
from pingan.incidents.models import (
    Category,
    Incident,
    Unit,
)
from pingan.orgs.models import Grid, GridKind, OrgKind, OrgUnit

DEFAULT_SEED = 20261123
DEFAULT_HISTORY_PER_DAY = 14.0


class DemoDataExists(RuntimeError):
    """The database already holds an org tree; the demo only fills an empty one."""


@dataclass
class DemoSummary:
    seed: int
    years: int
    orgs: int = 0
    stations: int = 0
    offices: int = 0
    grids: int = 0
    users: int = 0
    units: int = 0
    units_on_duty: int = 0
    incidents: int = 0
    events: int = 0
    assignments: int = 0
    ratings: int = 0
    open_incidents: int = 0
    seconds: float = 0.0
    grid_kinds: dict = field(default_factory=dict)
    roles: dict = field(default_factory=dict)

    def lines(self) -> list[str]:
        kinds = "，".join(f"{GridKind(k).label} {n}" for k, n in sorted(self.grid_kinds.items()))
        roles = "，".join(f"{Role(k).label} {n}" for k, n in sorted(self.roles.items()))
        return [
            f"单位 {self.orgs}（派出所 {self.stations}，警务室/警务站 {self.offices}）",
            f"网格 {self.grids}（{kinds}）",
            f"用户 {self.users}（{roles}）",
            f"警力单元 {self.units}（在岗 {self.units_on_duty}）",
            f"历史警情 {self.incidents}，时间线 {self.events}，派警 {self.assignments}，"
            f"评价 {self.ratings}；当前未结警情 {self.open_incidents}",
            f"用时 {self.seconds:.1f} 秒（seed={self.seed}, years={self.years}）",
        ]


# --- entry point --------------------------------------------------------------------------------


def generate_demo_county(
    *,
    seed: int = DEFAULT_SEED,
    years: int = 2,
    now=None,
    history_per_day: float | None = None,
    stdout=None,
) -> DemoSummary:
    """Fill an empty database with the demo county. Same seed → same county."""
    started = time.monotonic()
    now = now or clock.now()
    per_day = DEFAULT_HISTORY_PER_DAY if history_per_day is None else history_per_day
    if OrgUnit.objects.exists():
        raise DemoDataExists("数据库中已有单位数据，演示数据只写入空数据库")
    say(stdout, f"生成演示县：平安县（seed={seed}）")
    plan = plan_county(seed)
    history = {"incidents": 0, "assignments": 0, "events": 0, "ratings": 0}
    # One transaction: a failure half-way must not leave a county that `--if-empty` would then
    # mistake for a finished one.
    with transaction.atomic():
        ensure_default_categories(Category)
        structure = write_structure(plan, now, stdout)
        if per_day > 0 and years > 0:
            history = History(structure, seed, years, per_day, now).build(stdout)
        open_incidents(structure, now)
        generate_disputes(
            structure, seed=seed, now=now, years=years, history_per_day=per_day, stdout=stdout
        )
        generate_volunteers(
            structure, seed=seed, now=now, years=years, history_per_day=per_day, stdout=stdout
        )
    summary = _summarise(seed, years, history, time.monotonic() - started)
    for line in summary.lines():
        say(stdout, f"  {line}")
    return summary


def _summarise(seed: int, years: int, history: dict, seconds: float) -> DemoSummary:
    from pingan.incidents.models import OPEN_STATUSES

    kinds = Counter(Grid.objects.values_list("kind", flat=True))
    roles = Counter(User.objects.values_list("role", flat=True))
    return DemoSummary(
        seed=seed,
        years=years,
        orgs=OrgUnit.objects.count(),
        stations=OrgUnit.objects.filter(kind=OrgKind.STATION).count(),
        offices=OrgUnit.objects.filter(
            kind__in=(OrgKind.POLICE_OFFICE, OrgKind.JOINT_STATION)
        ).count(),
        grids=sum(kinds.values()),
        users=sum(roles.values()),
        units=Unit.objects.count(),
        units_on_duty=Unit.objects.filter(on_duty=True).count(),
        incidents=history["incidents"],
        events=history["events"],
        assignments=history["assignments"],
        ratings=history["ratings"],
        open_incidents=Incident.objects.filter(status__in=OPEN_STATUSES).count(),
        seconds=round(seconds, 2),
        grid_kinds=dict(kinds),
        roles=dict(roles),
    )


def ready_demo_units(now=None) -> int:
    """Put the units of the human demo logins (officer1, aux1) on duty inside their own grid.

    Dispatch ignores positions older than POSITION_STALE_MINUTES; after a restart of the demo
    those two would otherwise stop receiving reports from their grid until a phone posts a
    position, and a browser's real position lies outside the fictional county.
    """
    now = now or timezone.now()
    readied = 0
    for username in RESERVED_UNIT_USERS:
        user = User.objects.filter(username=username).first()
        grid = (
            Grid.objects.filter(Q(officer=user) | Q(auxiliaries=user)).order_by("code").first()
            if user
            else None
        )
        if grid is None or incidents.unit_for_user(user) is None:
            continue
        point = grid.geometry.representative_point()
        set_duty_and_position(user, (point.x, point.y), True, now)
        readied += 1
    return readied
