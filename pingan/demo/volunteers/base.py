"""The state a volunteers' run shares between its parts (`teams`, `tasks`, `signups`,
`points`): the clock order of its steps, time and places, and refusals counted, never hidden.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from datetime import time as dtime

from django.utils import timezone

from pingan.accounts.models import User
from pingan.core.errors import ServiceError
from pingan.demo.county.geography import SEAT, TOWNS, URBAN_CENTRE, point_near_seed

from .plan import (
    HISTORY_DAYS,
    M_PER_DEG,
    RURAL,
    SAFETY,
    SERVICE_WINDOW,
    URBAN,
    ShopLife,
    TaskLife,
    TeamLife,
)


class RunBase:
    """What every part of the run reads: the county, the plan so far, the step heap."""

    def __init__(self, structure, seed: int, now, scale: float):
        self.s = structure
        self.seed = seed
        self.now = now
        self.limit = now - SAFETY
        self.scale = scale
        self.rng = random.Random(seed * 7919 + 3)
        self.tz = timezone.get_default_timezone()
        self.start = now - timedelta(days=HISTORY_DAYS)
        self.cutoff = now - SERVICE_WINDOW
        self.rules: dict = {}
        self.heap: list = []
        self.seq = 0
        self.errors: Counter = Counter()
        self.counts: Counter = Counter()
        self.users = structure.users
        self.plan = structure.plan
        self.grids_by_town = defaultdict(list)
        for g in self.plan.grids:
            self.grids_by_town[g.town].append(g)
        self.weight: dict[int, float] = {}
        self.town_of: dict[int, int] = {}
        self.teams: dict[str, TeamLife] = {}
        self.tasks: list[TaskLife] = []
        self.shops: list[ShopLife] = []
        self.volunteer1 = self.users["volunteer1"]
        # citizen1 spends their tip points in the demo; volunteer1's orders are the showcase's.
        self.keep_points = [self.volunteer1, self.users["citizen1"]]

    # Time ----------------------------------------------------------------------------------

    def local(self, moment: datetime) -> datetime:
        return timezone.localtime(moment, self.tz)

    def at_local(self, day, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, dtime(hour, minute), tzinfo=self.tz)

    def working(self, moment: datetime, rng: random.Random, start=8, end=21) -> datetime:
        """Move a moment into waking hours, the way people act on things."""
        local = self.local(moment)
        if local.hour < start:
            return local.replace(hour=start, minute=rng.randrange(60))
        if local.hour >= end:
            day = local.date() + timedelta(days=1)
            return self.at_local(day, start, rng.randrange(60))
        return local

    def add(self, at: datetime, action, prio: int = 5) -> bool:
        """Plan a step; steps at or after the safety limit never happen (they are the future)."""
        if at > self.limit:
            return False
        self.seq += 1
        heapq.heappush(self.heap, (at, prio, self.seq, action))
        return True

    def call(self, what: str, func, *args, **kwargs):
        """A service call that may be refused for a reason the plan cannot see (an item sold
        out, a limit reached): the refusal is counted, never hidden."""
        try:
            return func(*args, **kwargs)
        except ServiceError as exc:
            self.errors[f"{what}:{exc.code}"] += 1
            return None

    # Places -------------------------------------------------------------------------------

    def short_name(self, grid) -> str:
        town = TOWNS[grid.town]
        if grid.kind == RURAL:
            return f"{grid.short}村"
        if grid.kind == URBAN:
            return f"{town.short}圩镇" if grid.short == "圩镇" else f"{grid.short}社区"
        return grid.short

    def spot(self, grid, rng: random.Random, spread_km: float = 0.3) -> tuple[float, float]:
        return point_near_seed(rng, grid, spread_km)

    def seat(self, town: int):
        """The grid a town's life centres on: the county seat's centre, a town's 圩镇."""
        if town == SEAT:
            return next(g for g in self.grids_by_town[town] if g.short == URBAN_CENTRE)
        return next(g for g in self.grids_by_town[town] if g.short == "圩镇")

    @staticmethod
    def near(point, rng: random.Random, low_m: float, high_m: float) -> tuple[float, float]:
        distance = rng.uniform(low_m, high_m)
        angle = rng.uniform(0, 2 * math.pi)
        lng, lat = point
        dlat = distance * math.sin(angle) / M_PER_DEG
        dlng = distance * math.cos(angle) / (M_PER_DEG * math.cos(math.radians(lat)))
        return lng + dlng, lat + dlat

    def pick(self, rng: random.Random, people: list[User], count: int) -> list[User]:
        """Weighted sample without replacement: the keen ones answer more often."""
        keyed = sorted(people, key=lambda u: -(rng.random() ** (1.0 / self.weight.get(u.pk, 1.0))))
        return keyed[:count]
