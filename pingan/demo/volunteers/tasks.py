"""The tasks of the year, planned: night patrols, anti-fraud stands, market days, events and
searches for a missing person, each with who answers when; and the showcase's tasks.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from pingan.accounts.models import User
from pingan.demo.county.geography import TOWNS
from pingan.demo.county.incident_texts import address_for
from pingan.volunteers.models import (
    TaskKind,
)

from . import tales
from .base import RunBase
from .plan import (
    HISTORY_DAYS,
    PARK,
    RURAL,
    URBAN,
    TaskLife,
    TeamLife,
)


class Tasks(RunBase):
    # Tasks --------------------------------------------------------------------------------

    def members_over(self, team_keys, start: datetime, end: datetime) -> list[User]:
        seen, people = set(), []
        for key in team_keys:
            for stint in self.teams[key].stints:
                if stint.user.pk not in seen and stint.active_over(start, end):
                    seen.add(stint.user.pk)
                    people.append(stint.user)
            leader = self.teams[key].leader
            if leader.pk not in seen and self.teams[key].founded_at <= start:
                seen.add(leader.pk)
                people.append(leader)
        return people

    def task(self, **kwargs) -> TaskLife | None:
        life = TaskLife(key=len(self.tasks), **kwargs)
        if life.posted_at > self.limit:
            return None
        self.tasks.append(life)
        return life

    def plan_signups(self, life: TaskLife, rng: random.Random, demand: float) -> None:
        people = self.members_over(life.teams, life.posted_at, life.ends_at)
        forced = [u for u in life.must_show if u in people]
        # volunteer1 answers most call-ups of their team: the demo login has a history.
        if self.volunteer1 in people and self.volunteer1 not in forced and rng.random() < 0.75:
            forced.append(self.volunteer1)
        others = [u for u in people if u not in forced]
        count = max(0, min(len(people), round(life.slots * demand)) - len(forced))
        chosen = forced + self.pick(rng, others, count)
        window = life.starts_at - timedelta(hours=1) - life.posted_at
        times = []
        for index, _user in enumerate(chosen):
            if life.rush:
                offset = timedelta(minutes=rng.expovariate(1 / 3.0) + 0.2 * index)
            else:
                offset = window * (rng.random() ** 1.6)
            times.append(min(life.posted_at + offset, life.starts_at - timedelta(minutes=30)))
        # The showcase's people answer within the first minutes, so they hold a slot.
        for index, user in enumerate(forced):
            if user in life.must_show:
                times[index] = life.posted_at + timedelta(minutes=1 + index)
        life.signups = sorted(zip(times, chosen, strict=True), key=lambda p: (p[0], p[1].pk))
        for at, user in life.signups:
            if user in life.must_show:
                continue
            if rng.random() < (0.16 if life.rush else 0.06):
                span = life.starts_at - timedelta(minutes=40) - at
                if span > timedelta(minutes=10):
                    life.cancels.append((at + span * rng.random(), user))

    def plan_tasks(self) -> None:
        rng = random.Random(self.seed * 7919 + 4)
        last = self.now + timedelta(days=7)
        for life in self.teams.values():
            first = max(life.founded_at + timedelta(days=10), self.start)
            self._patrols(life, rng, first, last)
            self._anti_fraud(life, rng, first, last)
        for town in range(1, len(TOWNS)):
            self._market_days(town, rng, last)
        self._events(rng, last)
        self._missing(rng)
        self._showcase_tasks(rng)

    def _poster(self, life: TeamLife, rng: random.Random) -> User:
        return rng.choice(life.officers) if life.officers else life.founder

    def _patrols(self, life: TeamLife, rng: random.Random, first, last) -> None:
        spec = life.spec
        rate = spec.patrols_per_week * self.scale
        if rate <= 0 or not life.grids:
            return
        day = self.local(first).date()
        while True:
            week_days = [day + timedelta(days=d) for d in range(7)]
            n = int(rate) + (1 if rng.random() < rate - int(rate) else 0)
            for when in sorted(rng.sample(week_days[2:], k=min(n, 5))):
                self._patrol(life, rng, when)
            day += timedelta(days=7)
            if self.at_local(day, 0) > last:
                return

    def _patrol(self, life: TeamLife, rng: random.Random, day) -> None:
        spec = life.spec
        summer = day.month in (6, 7, 8, 9)
        hour, minute = (22, 0) if spec.key == "park" else (20, 30 if summer else 0)
        starts = self.at_local(day, hour, minute)
        ends = starts + timedelta(hours=3)
        if starts <= self.start:
            return
        grid = rng.choice(life.grids)
        meeting = self.spot(grid, rng, 0.2)
        route = [list(meeting)] + [
            list(self.spot(grid, rng, 0.5)) for _ in range(rng.randint(3, 5))
        ]
        style = {"park": "park", "binjiang": "river", "yunling": "scenic"}.get(spec.key)
        style = style or ("urban" if grid.kind == URBAN else "rural")
        title = rng.choice(tales.PATROL_TITLES[style]).format(place=self.short_name(grid))
        posted = self.working(starts - timedelta(days=rng.uniform(1, 4)), rng, 8, 18)
        slots = rng.choice((6, 8, 8, 10)) if spec.key == "chengguan" else rng.choice((4, 5, 6))
        rush = rng.random() < 0.18
        task = self.task(
            kind=TaskKind.NIGHT_PATROL,
            title=title,
            description=rng.choice(tales.PATROL_DESCRIPTIONS),
            poster=self._poster(life, rng),
            posted_at=posted,
            starts_at=starts,
            ends_at=ends,
            address=f"{address_for(grid.name, grid.kind, rng)}（集合）",
            point=meeting,
            route=route,
            slots=slots,
            teams=[spec.key],
            rush=rush,
        )
        if task is None:
            return
        self.plan_signups(task, rng, rng.uniform(1.3, 1.9) if rush else rng.uniform(0.5, 1.1))
        self._fate(task, rng)

    def _fate(self, task: TaskLife, rng: random.Random, cancel_share: float = 0.025) -> None:
        """A few tasks are called off; the rest are reviewed a few hours to a day after."""
        if rng.random() < cancel_share:
            task.cancel_at = task.starts_at - timedelta(hours=rng.uniform(2, 20))
            task.cancel_reason = rng.choice(tales.CANCEL_REASONS)
            task.cancels = [c for c in task.cancels if c[0] < task.cancel_at]
            return
        task.review_at = self.working(task.ends_at + timedelta(hours=rng.uniform(2, 30)), rng)

    def _anti_fraud(self, life: TeamLife, rng: random.Random, first, last) -> None:
        spec = life.spec
        rate = 8 / 52 * self.scale  # about every six weeks at full density
        grids = life.grids or [self.seat(spec.town)]
        day = self.local(first).date() + timedelta(days=(5 - self.local(first).weekday()) % 7)
        while self.at_local(day, 0) <= last:
            if rng.random() < rate:
                when = day + timedelta(days=rng.choice((0, 1)))  # Saturday or Sunday
                starts = self.at_local(when, 9)
                grid = rng.choice(grids)
                place = self.short_name(grid)
                task = self.task(
                    kind=TaskKind.ANTI_FRAUD,
                    title=rng.choice(tales.FRAUD_TITLES).format(place=place),
                    description=tales.FRAUD_DESCRIPTION,
                    poster=self._poster(life, rng),
                    posted_at=self.working(starts - timedelta(days=rng.uniform(2, 6)), rng, 8, 18),
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=2, minutes=30),
                    address=f"{address_for(grid.name, grid.kind, rng)}",
                    point=self.spot(grid, rng, 0.2),
                    route=[],
                    slots=rng.choice((4, 5, 6)),
                    teams=[spec.key],
                )
                if task is not None:
                    self.plan_signups(task, rng, rng.uniform(0.6, 1.1))
                    self._fate(task, rng)
            day += timedelta(days=7)

    def _market_days(self, town: int, rng: random.Random, last) -> None:
        """圩日: the town's market, every fifth day; the station asks for help on some."""
        teams = [k for k, t in self.teams.items() if t.spec.town == town and k != "yunling"]
        if not teams:
            return
        life = self.teams[teams[0]]
        seat = self.seat(town)
        rate = 0.2 * self.scale  # one market day in five
        day = self.local(max(life.founded_at + timedelta(days=10), self.start)).date()
        day += timedelta(days=(town - day.toordinal()) % 5)
        while self.at_local(day, 0) <= last:
            if rng.random() < rate:
                starts = self.at_local(day, 7)
                task = self.task(
                    kind=TaskKind.TRAFFIC,
                    title=rng.choice(tales.TRAFFIC_TITLES).format(place=self.short_name(seat)),
                    description=tales.TRAFFIC_DESCRIPTION,
                    poster=self._poster(life, rng),
                    posted_at=self.working(starts - timedelta(days=rng.uniform(1, 3)), rng, 8, 18),
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=4),
                    address=f"{seat.name}农贸市场路口",
                    point=self.spot(seat, rng, 0.15),
                    route=[],
                    slots=rng.choice((4, 4, 6)),
                    teams=teams,
                )
                if task is not None:
                    self.plan_signups(task, rng, rng.uniform(0.6, 1.1))
                    self._fate(task, rng)
            day += timedelta(days=5)

    def _events(self, rng: random.Random, last) -> None:
        commander = self.users["commander"]
        for month, day_of_month, title, kind, slots, hours, town, hour in tales.EVENTS:
            local_now = self.local(self.now)
            for year in (local_now.year - 1, local_now.year):
                try:
                    starts = self.at_local(datetime(year, month, day_of_month).date(), hour)
                except ValueError:
                    continue
                if not self.start + timedelta(days=10) <= starts <= last:
                    continue
                teams = [k for k, t in self.teams.items() if t.spec.town == town]
                teams = [k for k in teams if self.teams[k].founded_at < starts] + ["rescue"]
                seat = self.seat(town)
                task = self.task(
                    kind=kind,
                    title=title,
                    description=tales.EVENT_DESCRIPTION,
                    poster=commander,
                    posted_at=self.working(starts - timedelta(days=rng.uniform(4, 6)), rng, 9, 17),
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=hours),
                    address=f"{seat.name}{rng.choice(('文化广场', '体育场', '主街'))}",
                    point=self.spot(seat, rng, 0.1),
                    route=[],
                    slots=slots,
                    teams=teams,
                    rush=True,
                )
                if task is not None:
                    self.plan_signups(task, rng, rng.uniform(1.2, 1.6))
                    self._fate(task, rng, cancel_share=0)

    def _missing(self, rng: random.Random) -> None:
        """A few searches for a missing person: posted and answered within the hour."""
        commander = self.users["commander"]
        count = max(2, round(5 * self.scale))
        for n in range(count):
            town = rng.randrange(len(TOWNS))
            grid = rng.choice([g for g in self.grids_by_town[town] if g.kind != PARK])
            posted = self.start + timedelta(
                days=30 + (HISTORY_DAYS - 45) * (n + rng.random()) / count
            )
            posted = self.working(posted, rng, 8, 18)
            starts = posted + timedelta(minutes=30)
            teams = [
                k
                for k, t in self.teams.items()
                if (t.spec.town == town or k == "rescue") and t.founded_at < posted
            ]
            place = self.short_name(grid)
            variant = rng.randrange(len(tales.MISSING_TITLES))
            task = self.task(
                kind=TaskKind.MISSING_PERSON,
                title=tales.MISSING_TITLES[variant].format(place=place),
                description=tales.MISSING_DESCRIPTIONS[variant].format(place=place),
                poster=commander,
                posted_at=posted,
                starts_at=starts,
                ends_at=starts + timedelta(hours=5),
                address=f"{grid.name}村委会门口"
                if grid.kind == RURAL
                else f"{grid.name}警务室门口",
                point=self.spot(grid, rng, 0.2),
                route=[],
                slots=20,
                teams=teams,
                grid_codes=[grid.code],
                rush=True,
            )
            if task is not None:
                task.show = 0.95
                self.plan_signups(task, rng, rng.uniform(1.0, 1.4))
                self._fate(task, rng, cancel_share=0)

    def _showcase_tasks(self, rng: random.Random) -> None:
        """What the demo must show the moment it starts: officer1's patrol of last night
        waiting for confirmation (volunteer1 was on it), an open task volunteer1 has taken, one
        with slots left, and a full one with a waiting list."""
        officer1 = self.users["officer1"]
        home = self.plan.officer_grids["officer1"][0]
        today = self.local(self.now).date()
        yesterday = today - timedelta(days=1)
        meeting = self.spot(home, rng, 0.15)
        base = {
            "poster": officer1,
            "description": tales.PATROL_DESCRIPTIONS[0],
            "teams": ["chengguan"],
        }
        starts = self.at_local(yesterday, 20)
        task = self.task(
            kind=TaskKind.NIGHT_PATROL,
            title=f"{self.short_name(home)}夜间巡逻",
            posted_at=self.at_local(yesterday - timedelta(days=2), 10, 12),
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            address=f"{home.name}人民路口（集合）",
            point=meeting,
            route=[list(meeting)] + [list(self.spot(home, rng, 0.5)) for _ in range(4)],
            slots=8,
            must_show=(self.volunteer1,),
            **base,
        )
        self.plan_signups(task, rng, 0.9)
        task.show = 1.0  # review_at stays None: officer1 has it to confirm
        # Coming up: volunteer1 is on the first; the second has room; the third is full.
        soon = [
            ("东门社区周末夜巡", today + timedelta(days=2), 20, 8, 0.5, (self.volunteer1,)),
            ("文昌步行街反诈宣传", today + timedelta(days=3), 9, 6, 0.3, ()),
            ("滨江夜市安保", today + timedelta(days=4), 19, 10, 1.5, ()),
        ]
        for title, day, hour, slots, demand, forced in soon:
            starts = self.at_local(day, hour)
            kind = TaskKind.ANTI_FRAUD if "反诈" in title else TaskKind.NIGHT_PATROL
            if "安保" in title:
                kind = TaskKind.EVENT_SECURITY
            point = self.spot(home, rng, 0.3)
            task = self.task(
                kind=kind,
                title=title,
                posted_at=self.now - timedelta(hours=rng.uniform(20, 30)),
                starts_at=starts,
                ends_at=starts + timedelta(hours=3),
                address=f"{home.name}{rng.choice(tales.SPOTS)}",
                point=point,
                route=[list(point), list(self.spot(home, rng, 0.5))]
                if kind == "night_patrol"
                else [],
                slots=slots,
                rush=demand > 1,
                must_show=forced,
                **base,
            )
            self.plan_signups(task, rng, demand)
            task.cancels = [c for c in task.cancels if c[1] not in forced]
