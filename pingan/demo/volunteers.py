"""Demo volunteers (义警), points and the rewards shops for the demo county: eleven teams of
about five hundred volunteers, a year of tasks, a shop in every town, and ledgers that add up.

The recent weeks and everything that touches points go through the services
(`pingan.volunteers.services`, `pingan.points.services`) on a simulated clock: teams are
founded, residents fill in a profile and join by the invite link (the leader approves where
the team asks for it), officers post tasks, volunteers sign up (a rush fills the slots in
minutes and leaves a waiting list; a cancellation moves the first in line up), check in by
position or by the on-site QR code, check out, write back, and the officer confirms or, now
and then, does not. Tips from the incident history and help in mediations earn residents
points; residents redeem them at the shops, and the clerks verify.

Written, not played: the teams' first members (who joined before the year began) and the
tasks posted before the last SERVICE_WINDOW. Call by call, a year of sign-ups, check-ins and
reviews takes minutes (each call is ten-odd queries); those rows are written as the services
would have left them, by the same rules (first come first served, promotion of the first in
line, check-in within the radius, hours clipped to the window), and their points are still
credited one entry at a time through `ledger.post`, at the moment of the review, with the
amounts, reasons and dedupe keys `confirm_work` uses. So every balance is the sum of entries
written by the ledger, never negative at any moment, and stock and slots are what the locked
paths produced.

The steps of all the lives run in one clock order (a heap, since a redemption plans its own
verification), each with `pingan.core.clock.now` moved to its moment, so the services date
what they write (messages, items) as they would have had people done it on those days.

Determinism: the plan depends on the seed and `now`; decisions taken while running draw from
generators seeded by the seed and names (never row ids), and the state they read (balances,
accepted sign-ups) is itself the product of the same ordered steps. Only the random tokens
(invite, QR and redeem codes) differ between runs.

Cost: the task history's size follows the incident history's density (capped at the
default, floored at MIN_SCALE); the teams, the shops and the showcase are the same at any
density.
"""

from __future__ import annotations

import heapq
import math
import random
import secrets
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dtime

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from pingan.accounts.models import Role, User
from pingan.core import clock, sequences
from pingan.core.errors import ServiceError
from pingan.disputes.models import MediationSession
from pingan.geo.crs import from_wgs84
from pingan.geo.distance import haversine_m
from pingan.incidents import services as incidents
from pingan.incidents.models import Incident, Outcome, Source
from pingan.incidents.models import Status as IncidentStatus
from pingan.notify.models import MessageStatus, OutboundMessage
from pingan.orgs import services as orgs
from pingan.orgs.models import GridKind, OrgKind
from pingan.points import ledger
from pingan.points import services as points
from pingan.points.models import (
    EntryKind,
    PointEntry,
    RedemptionOrder,
    RewardItem,
    RuleCode,
    Shop,
)
from pingan.volunteers import services as vol
from pingan.volunteers.models import (
    Availability,
    CheckMethod,
    Membership,
    MembershipStatus,
    Review,
    Signup,
    SignupStatus,
    Skill,
    Task,
    TaskKind,
    TaskStatus,
    Team,
    VolunteerProfile,
)

from . import volunteer_tales as tales

DEFAULT_DENSITY = 14.0
# At a thin incident history the task history thins too, but never below this share.
MIN_SCALE = 0.2
HISTORY_DAYS = 365
# Tasks posted in this last stretch are played step by step through the services; older ones
# are written as the services would have left them (see `Run._write_past`), since a year of
# sign-ups, check-ins and reviews call by call would take minutes.
SERVICE_WINDOW = timedelta(days=14)
# Steps are never planned closer to `now` than this.
SAFETY = timedelta(minutes=2)
# Volunteers planned by the county (volunteer1 … volunteerN) and one leader per team.
VOLUNTEERS = 520
URBAN, RURAL, PARK, SCENIC = (
    GridKind.URBAN_COMMUNITY,
    GridKind.RURAL_VILLAGE,
    GridKind.INDUSTRIAL_PARK,
    GridKind.SCENIC_AREA,
)
M_PER_DEG = 111_320.0


def _demo():
    """The demo generator (its plan, towns and helpers). Imported late: it imports us."""
    from pingan.demo import generate

    return generate


def leader_usernames() -> list[str]:
    return [f"leader{n}" for n in range(1, len(tales.TEAMS) + 1)]


def clerk_usernames() -> list[str]:
    return [f"clerk{n}" for n in range(1, len(tales.SHOPS) + 1)]


@contextmanager
def _clock_at(moment: datetime):
    """Services read the time from `clock.now`; during a step it is the step's moment."""
    real = clock.now
    clock.now = lambda: moment
    try:
        yield
    finally:
        clock.now = real


# --- the plan's pieces --------------------------------------------------------------------------


@dataclass
class Stint:
    """One person's application to one team and what becomes of it."""

    user: User
    team: str  # TeamSpec.key
    applied_at: datetime
    fate: str  # active / left / removed / rejected / pending
    decided_at: datetime | None = None  # approval (or rejection) time, approval teams only
    ended_at: datetime | None = None  # left or removed
    by_chief: bool = False  # decided by the station chief rather than the leader
    membership_id: int | None = None

    @property
    def active_from(self) -> datetime | None:
        if self.fate in ("rejected", "pending"):
            return None
        return self.decided_at or self.applied_at

    def active_over(self, start: datetime, end: datetime) -> bool:
        begun = self.active_from
        return (
            begun is not None and begun <= start and (self.ended_at is None or self.ended_at > end)
        )


@dataclass
class TeamLife:
    spec: tales.TeamSpec
    leader: User
    founder: User  # the chief or commander who sets it up
    org: object
    grids: list  # GridPlan
    founded_at: datetime
    stints: list[Stint] = field(default_factory=list)
    team: Team | None = None
    officers: list[User] = field(default_factory=list)


@dataclass
class TaskLife:
    key: int
    kind: str
    title: str
    description: str
    poster: User
    posted_at: datetime
    starts_at: datetime
    ends_at: datetime
    address: str
    point: tuple[float, float]
    route: list
    slots: int
    teams: list[str]
    grid_codes: list[str] = field(default_factory=list)
    rush: bool = False
    signups: list[tuple[datetime, User]] = field(default_factory=list)
    cancels: list[tuple[datetime, User]] = field(default_factory=list)
    cancel_at: datetime | None = None
    cancel_reason: str = ""
    review_at: datetime | None = None  # None: nobody has reviewed it yet
    show: float = 0.92  # share of accepted volunteers who turn up
    must_show: tuple = ()  # users who always turn up and report
    code: str = ""
    qr_token: str = ""
    on_site: list = field(default_factory=list)  # (user, signup id)
    task: Task | None = None  # the older history's task row
    confirmed: list = field(default_factory=list)  # its confirmed sign-ups


@dataclass
class ShopLife:
    town: int
    name: str
    kind: str
    specs: tuple
    clerk: User
    shop: Shop | None = None
    items: list = field(default_factory=list)  # (RewardItem, ItemSpec)


# --- the run ------------------------------------------------------------------------------------


class Run:
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

    # People --------------------------------------------------------------------------------

    def plan_teams(self) -> None:
        rng = self.rng
        leaders = leader_usernames()
        pool = [f"volunteer{n}" for n in range(2, VOLUNTEERS + 1) if f"volunteer{n}" in self.users]
        rng.shuffle(pool)
        offices_by_name = {(o.town, o.name): o for o in self.plan.offices}
        for index, spec in enumerate(tales.TEAMS):
            if spec.org == "county":
                org, founder = self.s.county, self.users["commander"]
            elif spec.org == "station":
                org, founder = self.s.stations[spec.town], self.users[f"chief{spec.town + 1}"]
            else:
                office = offices_by_name[(spec.town, spec.org)]
                org, founder = self.s.offices[office.code], self.users[f"chief{spec.town + 1}"]
            if spec.grids == "urban":
                grids = [g for g in self.grids_by_town[spec.town] if g.kind == URBAN]
            elif spec.grids == "office":
                grids = list(offices_by_name[(spec.town, spec.org)].grids)
            elif spec.org == "county":
                grids = []
            else:
                grids = list(self.grids_by_town[spec.town])
            # Most teams date from before the year; two were founded during it.
            if spec.key in ("park", "yunling"):
                founded = self.now - timedelta(days=rng.uniform(150, 250))
            else:
                founded = self.start - timedelta(days=rng.uniform(10, 40))
            founded = self.working(founded, rng, 9, 17)
            life = TeamLife(
                spec, self.users[leaders[index]], founder, org, grids, founded, officers=[]
            )
            station = orgs.station_of(org)
            life.officers = sorted(
                (
                    u
                    for u in self.users.values()
                    if u.role == Role.OFFICER
                    and u.org_id is not None
                    and not u.username.startswith("team")
                    and orgs.station_of(u.org).pk == station.pk
                ),
                key=lambda u: int(u.username[7:]),
            )
            if org.kind in (OrgKind.POLICE_OFFICE, OrgKind.JOINT_STATION):
                own = [u for u in life.officers if u.org_id == org.pk]
                life.officers = own or life.officers
            self.teams[spec.key] = life
            self.town_of[life.leader.pk] = spec.town
            self.weight[life.leader.pk] = 2.5
        town_members: dict[int, list[User]] = defaultdict(list)
        for spec in tales.TEAMS:
            if spec.key == "rescue":
                continue
            life = self.teams[spec.key]
            wanted = spec.size - 1
            if spec.key == "chengguan":
                self._stint(life, self.volunteer1, founding=True, fate="active")
                wanted -= 1
            for _ in range(wanted):
                if not pool:
                    break
                user = self.users[pool.pop()]
                self._stint(life, user, founding=rng.random() < 0.62, fate="active")
            extras = {"left": 0.03, "removed": 0.012}
            if spec.requires_approval:
                extras["rejected"] = 0.035
            for fate, share in extras.items():
                for _ in range(max(1, round(share * spec.size))):
                    if pool:
                        self._stint(life, self.users[pool.pop()], founding=False, fate=fate)
            pending = 3 if spec.key == "chengguan" else int(spec.requires_approval)
            for _ in range(pending):
                if pool:
                    self._stint(life, self.users[pool.pop()], founding=False, fate="pending")
            town_members[spec.town] += [s.user for s in life.stints if s.fate == "active"]
        # The rescue team: a few from the town teams, the rest new to volunteering.
        rescue = self.teams["rescue"]
        veterans = sorted(
            (u for members in town_members.values() for u in members if u != self.volunteer1),
            key=lambda u: u.pk,
        )
        for user in rng.sample(veterans, tales.RESCUE_FROM_TOWN_TEAMS):
            self._stint(rescue, user, founding=rng.random() < 0.5, fate="active")
        for _ in range(rescue.spec.size - 1 - tales.RESCUE_FROM_TOWN_TEAMS):
            if pool:
                self._stint(rescue, self.users[pool.pop()], founding=True, fate="active")
        if pool:
            self._stint(rescue, self.users[pool.pop()], founding=False, fate="pending")
        self.weight[self.volunteer1.pk] = 6.0

    def _stint(self, life: TeamLife, user: User, *, founding: bool, fate: str) -> None:
        rng = self.rng
        spec = life.spec
        if fate == "pending":
            applied = self.now - timedelta(hours=rng.uniform(2, 60))
        elif founding:
            applied = life.founded_at + timedelta(days=rng.uniform(0.05, 14))
        else:
            first = life.founded_at + timedelta(days=14)
            applied = first + (self.now - timedelta(days=20) - first) * rng.random()
        applied = self.working(applied, rng, 7, 22)
        stint = Stint(user, spec.key, applied, fate)
        if spec.requires_approval and fate != "pending":
            stint.decided_at = self.working(applied + timedelta(hours=rng.uniform(0.3, 40)), rng)
            stint.by_chief = rng.random() < 0.1
        begun = stint.decided_at or applied
        if fate in ("left", "removed"):
            ended = begun + timedelta(days=rng.uniform(40, 260))
            # Within the year, so leaving and removal are played through the services.
            ended = max(ended, self.start + timedelta(days=rng.uniform(5, 60)))
            stint.ended_at = self.working(min(ended, self.now - timedelta(days=2)), rng)
        life.stints.append(stint)
        if user.pk not in self.town_of:
            self.town_of[user.pk] = spec.town
            self.weight[user.pk] = rng.lognormvariate(0, 0.8)

    def profile_values(self, life: TeamLife, user: User) -> dict:
        """What a person writes in their profile, with skills that suit the team they first
        meet (the arguments of `save_profile`)."""
        rng = random.Random(f"{self.seed}:profile:{user.username}")
        spec = life.spec
        skills = rng.sample(list(spec.skills), k=min(len(spec.skills), rng.choice((1, 1, 2, 3))))
        if rng.random() < 0.15:
            skills.append(rng.choice(Skill.values))
        availability = list(rng.choice(tales.AVAILABILITY_BY_AGE))
        availability = rng.sample(availability, k=rng.choice((1, 2, 2)))
        if spec.key == "rescue":
            availability.append(Availability.ON_CALL)
        if user == self.volunteer1:
            home = self.plan.officer_grids["officer1"][0]
        elif life.grids:
            home = rng.choice(life.grids)
        else:
            home = rng.choice(self.grids_by_town[rng.randrange(len(_demo().TOWNS))])
        return {
            "real_name": user.display_name,
            "phone": user.phone,
            "skills": list(dict.fromkeys(skills)),
            "availability": list(dict.fromkeys(availability)),
            "home_grid_code": home.code,
        }

    def is_old(self, stint: Stint) -> bool:
        """Applied and decided before the year began: part of the written history."""
        return stint.fate != "pending" and (stint.decided_at or stint.applied_at) < self.start

    def schedule_teams(self) -> None:
        first: dict[int, tuple] = {}
        for life in self.teams.values():
            first[life.leader.pk] = (life.founded_at - timedelta(hours=2), life, life.leader, False)
            for stint in life.stints:
                at = stint.applied_at - timedelta(minutes=5)
                if stint.user.pk not in first or at < first[stint.user.pk][0]:
                    first[stint.user.pk] = (at, life, stint.user, self.is_old(stint))
        old_profiles = []
        for user_id in sorted(first):
            at, life, user, old = first[user_id]
            values = self.profile_values(life, user)
            if old:
                old_profiles.append((at, user, values))
            else:
                self.add(
                    at,
                    lambda now, u=user, v=values: self.call(
                        "profile", vol.save_profile, u, **v, now=now
                    ),
                    prio=0,
                )
        for life in self.teams.values():

            def found(now, life=life):
                life.team = vol.create_team(
                    life.founder,
                    name=life.spec.name,
                    org=life.org,
                    description=life.spec.description,
                    requires_approval=life.spec.requires_approval,
                    leader=life.leader,
                    grid_codes=[g.code for g in life.grids],
                    now=now,
                )
                self.counts["teams"] += 1

            self.add(life.founded_at, found, prio=1)
            for stint in life.stints:
                if not self.is_old(stint):
                    self.add(
                        stint.applied_at, lambda now, st=stint, lf=life: self._join(lf, st, now)
                    )
                    if stint.decided_at:
                        self.add(
                            stint.decided_at,
                            lambda now, st=stint, lf=life: self._decide(lf, st, now),
                        )
                if stint.ended_at:
                    self.add(stint.ended_at, lambda now, st=stint, lf=life: self._end(lf, st, now))
        self.add(self.start - timedelta(seconds=1), lambda now: self._write_old(old_profiles), 0)

    def _write_old(self, profiles: list) -> None:
        """The teams' first members, who joined before the year began, as `save_profile`,
        `join_team` and `decide_membership` left them (module notes: written, not played)."""
        VolunteerProfile.objects.bulk_create(
            [
                VolunteerProfile(
                    user=user,
                    real_name=values["real_name"],
                    phone=values["phone"],
                    skills=values["skills"],
                    availability=values["availability"],
                    home_grid=self.s.grids[values["home_grid_code"]],
                    created_at=at,
                    updated_at=at,
                )
                for at, user, values in profiles
            ]
        )
        rows = []
        for life in self.teams.values():
            for stint in life.stints:
                if not self.is_old(stint):
                    continue
                decider = life.founder if stint.by_chief else life.leader
                row = Membership(
                    team=life.team,
                    user=stint.user,
                    status=MembershipStatus.ACTIVE,
                    applied_at=stint.applied_at,
                    joined_at=stint.active_from,
                    decided_by=decider if stint.decided_at else None,
                )
                if stint.fate == "rejected":
                    rng = random.Random(f"{self.seed}:decide:{stint.user.username}:{life.spec.key}")
                    row.status, row.joined_at = MembershipStatus.REJECTED, None
                    row.ended_at, row.note = stint.decided_at, rng.choice(tales.JOIN_REJECT_NOTES)
                rows.append((stint, row))
        Membership.objects.bulk_create([row for _, row in rows])
        for stint, row in rows:
            stint.membership_id = row.pk
        self.counts["members_written"] += len(rows)

    def _join(self, life: TeamLife, stint: Stint, now) -> None:
        membership = self.call("join", vol.join_team, stint.user, life.team.invite_token, now=now)
        if membership is not None:
            stint.membership_id = membership.pk

    def _decide(self, life: TeamLife, stint: Stint, now) -> None:
        if stint.membership_id is None:
            return
        approve = stint.fate != "rejected"
        rng = random.Random(f"{self.seed}:decide:{stint.user.username}:{life.spec.key}")
        note = "" if approve else rng.choice(tales.JOIN_REJECT_NOTES)
        actor = life.founder if stint.by_chief else life.leader
        self.call(
            "decide",
            vol.decide_membership,
            actor,
            stint.membership_id,
            approve=approve,
            note=note,
            now=now,
        )

    def _end(self, life: TeamLife, stint: Stint, now) -> None:
        if stint.fate == "left":
            self.call("leave", vol.leave_team, stint.user, life.team.code, now=now)
        elif stint.membership_id is not None:
            rng = random.Random(f"{self.seed}:remove:{stint.user.username}:{life.spec.key}")
            self.call(
                "remove",
                vol.remove_member,
                life.leader,
                stint.membership_id,
                reason=rng.choice(tales.REMOVE_REASONS),
                now=now,
            )

    # Places -------------------------------------------------------------------------------

    def short_name(self, grid) -> str:
        town = _demo().TOWNS[grid.town]
        if grid.kind == RURAL:
            return f"{grid.short}村"
        if grid.kind == URBAN:
            return f"{town.short}圩镇" if grid.short == "圩镇" else f"{grid.short}社区"
        return grid.short

    def spot(self, grid, rng: random.Random, spread_km: float = 0.3) -> tuple[float, float]:
        return _demo()._point_near_seed(rng, grid, spread_km)

    def seat(self, town: int):
        """The grid a town's life centres on: the county seat's centre, a town's 圩镇."""
        generate = _demo()
        if town == generate.SEAT:
            return next(g for g in self.grids_by_town[town] if g.short == generate.URBAN_CENTRE)
        return next(g for g in self.grids_by_town[town] if g.short == "圩镇")

    @staticmethod
    def near(point, rng: random.Random, low_m: float, high_m: float) -> tuple[float, float]:
        distance = rng.uniform(low_m, high_m)
        angle = rng.uniform(0, 2 * math.pi)
        lng, lat = point
        dlat = distance * math.sin(angle) / M_PER_DEG
        dlng = distance * math.cos(angle) / (M_PER_DEG * math.cos(math.radians(lat)))
        return lng + dlng, lat + dlat

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

    def pick(self, rng: random.Random, people: list[User], count: int) -> list[User]:
        """Weighted sample without replacement: the keen ones answer more often."""
        keyed = sorted(people, key=lambda u: -(rng.random() ** (1.0 / self.weight.get(u.pk, 1.0))))
        return keyed[:count]

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
        for town in range(1, len(_demo().TOWNS)):
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
            address=f"{_demo().address_for(grid.name, grid.kind, rng)}（集合）",
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
                    address=f"{_demo().address_for(grid.name, grid.kind, rng)}",
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
            town = rng.randrange(len(_demo().TOWNS))
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

    def schedule_tasks(self) -> None:
        for life in self.tasks:
            if life.posted_at < self.cutoff and not life.must_show:
                # Older history: written as the services would have left it (module notes).
                self.add(life.posted_at, lambda now, t=life: self._write_past(t, now), prio=2)
                if life.review_at and not life.cancel_at:
                    self.add(life.review_at, lambda now, t=life: self._award_past(t, now), prio=4)
                continue
            self.add(life.posted_at, lambda now, t=life: self._post(t, now), prio=2)
            for at, user in life.signups:
                self.add(at, lambda now, t=life, u=user: self._sign_up(t, u, now), prio=3)
            for at, user in life.cancels:
                self.add(at, lambda now, t=life, u=user: self._cancel_signup(t, u, now), prio=3)
            if life.cancel_at:
                self.add(life.cancel_at, lambda now, t=life: self._cancel_task(t, now), prio=3)
                continue
            opens = life.starts_at - timedelta(minutes=settings.VOLUNTEER_CHECKIN_EARLY_MINUTES - 5)
            self.add(opens, lambda now, t=life: self._turn_up(t, now), prio=4)
            self.add(life.ends_at + timedelta(minutes=30), lambda now, t=life: self._leave(t), 4)
            if life.review_at:
                self.add(life.review_at, lambda now, t=life: self._review(t, now), prio=4)

    # The older history, in bulk ----------------------------------------------------------

    def team_for(self, user: User, keys, at: datetime) -> Team | None:
        """The team a sign-up counts for: the first (by id) of the offered teams the person
        is an active member of, as `sign_up` picks it."""
        teams = []
        for key in keys:
            life = self.teams[key]
            if life.team is None:
                continue
            if life.leader == user or any(
                st.user == user and st.active_over(at, at) for st in life.stints
            ):
                teams.append(life.team)
        return min(teams, key=lambda t: t.pk) if teams else None

    def _write_past(self, life: TaskLife, now) -> None:
        """One task of the older history with its sign-ups, exactly as the services would
        have left it: first come first served, cancellations that promote the first in line,
        check-ins within the radius, reviews. Its points are credited at the review moment
        through the ledger (`_award_past`)."""
        rng = random.Random(f"{self.seed}:past:{life.key}")
        poster = life.poster
        task = Task.objects.create(
            code=sequences.next_code("RW", now),
            kind=life.kind,
            title=life.title,
            description=life.description,
            org=poster.org,
            org_path=poster.org.path,
            posted_by=poster,
            starts_at=life.starts_at,
            ends_at=life.ends_at,
            meeting_address=life.address,
            meeting_lng=life.point[0],
            meeting_lat=life.point[1],
            route=[[round(lng, 7), round(lat, 7)] for lng, lat in life.route],
            checkin_radius_m=settings.VOLUNTEER_CHECKIN_RADIUS_M,
            slots=life.slots,
            taken=0,
            qr_token=secrets.token_urlsafe(16),
            published_at=now,
        )
        task.teams.set([self.teams[k].team for k in life.teams if self.teams[k].team])
        if life.grid_codes:
            task.grids.set([self.s.grids[c] for c in life.grid_codes])
        life.code, life.qr_token, life.task = task.code, task.qr_token, task
        rows, taken = self._signups_past(life, task, rng)
        Signup.objects.bulk_create(rows)
        fields = {"taken": taken}
        if life.cancel_at:
            fields.update(
                status=TaskStatus.CANCELLED,
                cancelled_at=life.cancel_at,
                cancel_reason=life.cancel_reason,
            )
        Task.objects.filter(pk=task.pk).update(**fields)
        life.confirmed = [s for s in rows if s.review == Review.CONFIRMED]
        self.counts["tasks"] += 1
        self.counts["signups"] += len(rows)

    def _signups_past(self, life: TaskLife, task: Task, rng: random.Random):
        """Play the sign-up rules over the planned answers and what happened on the day."""
        events = [(at, 0, user) for at, user in life.signups]
        events += [(at, 1, user) for at, user in life.cancels]
        events.sort(key=lambda e: (e[0], e[1], e[2].pk))
        rows: dict[int, Signup] = {}
        order: list[Signup] = []
        accepted: list[int] = []
        waiting: list[int] = []
        closed = life.cancel_at or life.ends_at
        for at, kind, user in events:
            if at >= closed:
                continue
            if kind == 0:
                signup = Signup(
                    task=task,
                    user=user,
                    team=self.team_for(user, life.teams, at),
                    status=SignupStatus.WAITING,
                    created_at=at,
                )
                if len(accepted) < life.slots:
                    signup.status, signup.accepted_at = SignupStatus.ACCEPTED, at
                    accepted.append(user.pk)
                else:
                    waiting.append(user.pk)
                rows[user.pk] = signup
                order.append(signup)
                continue
            signup = rows.get(user.pk)
            if signup is None or signup.status not in (SignupStatus.ACCEPTED, SignupStatus.WAITING):
                continue
            held = signup.status == SignupStatus.ACCEPTED
            signup.status, signup.cancelled_at = SignupStatus.CANCELLED, at
            if not held:
                waiting.remove(user.pk)
                continue
            accepted.remove(user.pk)
            if waiting:
                first = rows[waiting.pop(0)]
                first.status, first.accepted_at, first.promoted = SignupStatus.ACCEPTED, at, True
                accepted.append(first.user_id)
        if life.cancel_at:
            for signup in order:
                if signup.status in (SignupStatus.ACCEPTED, SignupStatus.WAITING):
                    signup.status, signup.cancelled_at = SignupStatus.VOIDED, life.cancel_at
            return order, 0
        for signup in order:
            if signup.status == SignupStatus.ACCEPTED:
                self._on_the_day(life, task, signup, rng)
        return order, len(accepted)

    def _on_the_day(self, life: TaskLife, task: Task, signup: Signup, rng: random.Random) -> None:
        if rng.random() > life.show:
            return
        minutes = min(max(rng.gauss(-8, 9), -50), 35)
        signup.checked_in_at = life.starts_at + timedelta(minutes=minutes)
        self._position(signup, "checkin", life.point, rng)
        r = rng.random()
        if r >= 0.07:
            minutes = rng.uniform(-100, -50) if r < 0.11 else rng.gauss(3, 5)
            signup.checked_out_at = life.ends_at + timedelta(minutes=min(max(minutes, -110), 60))
            end = life.route[-1] if life.route else life.point
            self._position(signup, "checkout", end, rng)
            if rng.random() < 0.72:
                signup.report_text = self._report_text(life, rng)
                signup.reported_at = signup.checked_out_at + timedelta(minutes=rng.uniform(1, 40))
        if life.review_at is None:
            return
        signup.reviewed_at, signup.reviewed_by = life.review_at, life.poster
        if rng.random() < 0.035:
            signup.review = Review.REJECTED
            signup.review_reason = rng.choice(tales.REJECT_REASONS)
            self.counts["rejected"] += 1
            return
        signup.review = Review.CONFIRMED
        signup.hours = vol.service_hours(signup)
        signup.points_awarded = self.rule_points(RuleCode.TASK_CONFIRMED, life.kind) + int(
            self.rule_points(RuleCode.PATROL_HOUR, life.kind) * float(signup.hours)
        )

    def _position(self, signup: Signup, which: str, point, rng: random.Random) -> None:
        """By QR code, or by a position near the point (what check_in would have stored)."""
        if rng.random() < 0.25:
            setattr(signup, f"{which}_method", CheckMethod.QR)
            return
        lng, lat = self.near(point, rng, 3, 0.6 * settings.VOLUNTEER_CHECKIN_RADIUS_M)
        setattr(signup, f"{which}_method", CheckMethod.GPS)
        setattr(signup, f"{which}_lng", lng)
        setattr(signup, f"{which}_lat", lat)
        if which == "checkin":
            signup.checkin_distance_m = round(haversine_m(lng, lat, point[0], point[1]), 1)

    def rule_points(self, code: str, kind: str) -> int:
        key = (code, kind)
        if key not in self.rules:
            self.rules[key] = ledger.rule_points(code, task_kind=kind)
        return self.rules[key]

    def _award_past(self, life: TaskLife, now) -> None:
        """What `confirm_work` credits, entry for entry (same rules, amounts, reasons and
        dedupe keys), through `ledger.post`; the rule's points are read once per run rather
        than once per entry, which is all `ledger.award` adds."""
        task = life.task
        for signup in life.confirmed:
            credits = (
                (RuleCode.TASK_CONFIRMED, 1.0, f"完成任务：{task.title}", "done"),
                (
                    RuleCode.PATROL_HOUR,
                    float(signup.hours),
                    f"在岗 {signup.hours} 小时：{task.title}",
                    "hours",
                ),
            )
            total = 0
            for rule, units, reason, suffix in credits:
                amount = int(self.rule_points(rule, task.kind) * units)
                if amount <= 0:
                    continue
                entry = ledger.post(
                    signup.user,
                    amount,
                    EntryKind.EARN,
                    reason,
                    source_type="task",
                    source_ref=task.code,
                    rule=rule,
                    org=task.org,
                    team=signup.team,
                    dedupe_key=f"task:{task.code}:{signup.user_id}:{suffix}",
                    actor=life.poster,
                    now=now,
                )
                total += entry.amount if entry is not None else 0
            if total != signup.points_awarded:  # only if the rules changed mid-run
                Signup.objects.filter(pk=signup.pk).update(points_awarded=total)
            self.counts["confirmed"] += 1

    def _report_text(self, life: TaskLife, rng: random.Random) -> str:
        text = rng.choice(tales.REPORTS.get(life.kind, tales.REPORTS[TaskKind.NIGHT_PATROL]))
        return text.format(n=rng.randint(2, 6), n2=rng.randint(3, 15), spot=rng.choice(tales.SPOTS))

    def _post(self, life: TaskLife, now) -> None:
        task = self.call(
            "post",
            vol.post_task,
            life.poster,
            kind=life.kind,
            title=life.title,
            description=life.description,
            starts_at=life.starts_at,
            ends_at=life.ends_at,
            meeting_address=life.address,
            lng=life.point[0],
            lat=life.point[1],
            route=life.route,
            slots=life.slots,
            team_codes=[self.teams[k].team.code for k in life.teams if self.teams[k].team],
            grid_codes=life.grid_codes,
            now=now,
        )
        if task is not None:
            life.code, life.qr_token = task.code, task.qr_token
            self.counts["tasks"] += 1

    def _sign_up(self, life: TaskLife, user: User, now) -> None:
        if life.code and self.call("signup", vol.sign_up, user, life.code, now=now):
            self.counts["signups"] += 1

    def _cancel_signup(self, life: TaskLife, user: User, now) -> None:
        if life.code:
            self.call("cancel_signup", vol.cancel_signup, user, life.code, now=now)

    def _cancel_task(self, life: TaskLife, now) -> None:
        if life.code:
            reason = life.cancel_reason
            self.call(
                "cancel_task", vol.cancel_task, life.poster, life.code, reason=reason, now=now
            )

    def _turn_up(self, life: TaskLife, now) -> None:
        """Check-ins, from a few minutes before the start: by position near the meeting point
        (some phones send GCJ-02, as WeChat and AMap do) or by scanning the on-site code."""
        if not life.code:
            return
        rng = random.Random(f"{self.seed}:turn-up:{life.key}")
        accepted = list(
            Signup.objects.filter(task__code=life.code, status=SignupStatus.ACCEPTED)
            .select_related("user")
            .order_by("pk")
        )
        for signup in accepted:
            user = signup.user
            if user not in life.must_show and rng.random() > life.show:
                continue
            minutes = min(max(rng.gauss(-8, 9), -50), 35)
            at = max(life.starts_at + timedelta(minutes=minutes), now)
            if at > self.limit:
                continue
            with _clock_at(at):
                done = self._check(vol.check_in, life, user, life.point, rng, at)
            if done is not None:
                life.on_site.append((user, signup.pk))
                self.counts["checkins"] += 1

    def _check(self, action, life: TaskLife, user: User, point, rng: random.Random, at):
        if rng.random() < 0.25:
            return self.call("check", action, user, life.code, qr_token=life.qr_token, now=at)
        lng, lat = self.near(point, rng, 3, 0.6 * settings.VOLUNTEER_CHECKIN_RADIUS_M)
        crs = "wgs84"
        if rng.random() < 0.3:
            crs = "gcj02"
            lng, lat = from_wgs84(lng, lat, crs)
        return self.call("check", action, user, life.code, lng=lng, lat=lat, crs=crs, now=at)

    def _leave(self, life: TaskLife) -> None:
        """Check-outs at the end (a few leave early, a few forget) and the reports back."""
        rng = random.Random(f"{self.seed}:leave:{life.key}")
        end = life.route[-1] if life.route else life.point
        for user, _signup_id in life.on_site:
            r = rng.random()
            forced = user in life.must_show
            if r < 0.07 and not forced:
                continue  # forgot to check out: the task's end counts
            minutes = rng.uniform(-100, -50) if r < 0.11 and not forced else rng.gauss(3, 5)
            at = life.ends_at + timedelta(minutes=min(max(minutes, -110), 60))
            if at > self.limit:
                continue
            with _clock_at(at):
                self._check(vol.check_out, life, user, end, rng, at)
            if forced or rng.random() < 0.72:
                text = self._report_text(life, rng)
                at = at + timedelta(minutes=rng.uniform(1, 40))
                if at <= self.limit:
                    with _clock_at(at):
                        self.call("report", vol.submit_report, user, life.code, text=text, now=at)
                    self.counts["reports"] += 1

    def _review(self, life: TaskLife, now) -> None:
        rng = random.Random(f"{self.seed}:review:{life.key}")
        for user, signup_id in life.on_site:
            if rng.random() < 0.035 and user not in life.must_show:
                reason = rng.choice(tales.REJECT_REASONS)
                self.call("reject", vol.reject_work, life.poster, signup_id, reason=reason, now=now)
                self.counts["rejected"] += 1
            elif self.call("confirm", vol.confirm_work, life.poster, signup_id, now=now):
                self.counts["confirmed"] += 1

    # Shops --------------------------------------------------------------------------------

    def plan_shops(self) -> None:
        clerks = clerk_usernames()
        for index, (town, name, kind, specs) in enumerate(tales.SHOPS):
            self.shops.append(ShopLife(town, name, kind, specs, self.users[clerks[index]]))
        opened = self.start - timedelta(days=5)
        for life in self.shops:
            self.add(
                self.working(opened, self.rng, 9, 16), lambda now, s=life: self._open(s, now), 1
            )
        # Every week: the stations restock what runs low, and residents with points shop.
        day = self.local(self.start + timedelta(days=20)).date()
        while self.at_local(day, 18) <= self.limit:
            self.add(self.at_local(day, 18), self._week, prio=6)
            day += timedelta(days=7)

    def _open(self, life: ShopLife, now) -> None:
        generate = _demo()
        rng = random.Random(f"{self.seed}:shop:{life.name}")
        seat = self.seat(life.town)
        chief = self.users[f"chief{life.town + 1}"]
        lng, lat = self.spot(seat, rng, 0.25)
        names = generate._Names(rng)
        life.shop = points.create_shop(
            chief,
            name=life.name,
            kind=life.kind,
            org=self.s.stations[life.town],
            address=generate.address_for(seat.name, seat.kind, rng),
            phone=names.phone().replace("+86", ""),
            opening_hours=tales.SHOP_HOURS[life.kind],
            lng=lng,
            lat=lat,
            now=now,
        )
        points.set_clerks(chief, life.shop, [life.clerk])
        for spec in life.specs:
            item = points.save_item(
                chief,
                life.shop,
                name=spec.name,
                description=spec.description,
                points_price=spec.price,
                stock=spec.stock,
                limit_per_person=spec.limit,
                limit_period=spec.period,
                now=now,
            )
            life.items.append((item, spec))

    def _week(self, now) -> None:
        rng = random.Random(f"{self.seed}:week:{now.isoformat()}")
        chiefs = {life.town: self.users[f"chief{life.town + 1}"] for life in self.shops}
        low = {
            item.pk: item
            for item in RewardItem.objects.filter(shop__in=[s.shop for s in self.shops if s.shop])
            .select_related("shop")
            .order_by("pk")
        }
        for life in self.shops:
            for item, spec in life.items:
                current = low.get(item.pk)
                if current is not None and current.stock < spec.stock // 4:
                    points.restock(chiefs[life.town], current, spec.stock)
        balances = dict(
            PointEntry.objects.values_list("user_id").annotate(total=Sum("amount")).order_by()
        )
        holders = {
            u.pk: u for u in User.objects.filter(pk__in=[k for k, v in balances.items() if v >= 80])
        }
        for user_id in sorted(holders):
            user = holders[user_id]
            if user.role not in (Role.VOLUNTEER, Role.CITIZEN) or rng.random() > 0.07:
                continue
            if user in self.keep_points:
                continue
            at = self.working(now + timedelta(hours=rng.uniform(14, 150)), rng, 9, 17)
            self.add(at, lambda when, u=user: self._shop(u, when), prio=6)

    def _town(self, user: User) -> int:
        if user.pk in self.town_of:
            return self.town_of[user.pk]
        digits = "".join(ch for ch in user.username if ch.isdigit()) or "0"
        return int(digits) % len(_demo().TOWNS)

    def _shop(self, user: User, now, *, want: tuple = (), fate: str = "") -> None:
        """A resident redeems something they can afford at a shop of their town (`want`: the
        item names they look for first, at the county seat's supermarket)."""
        rng = random.Random(f"{self.seed}:shop:{user.username}:{now.isoformat()}")
        town = self._town(user)
        shops = [s for s in self.shops if s.town == town and s.shop] or [self.shops[0]]
        life = self.shops[0] if want else shops[0] if rng.random() < 0.75 else rng.choice(shops)
        balance = points.balance(user)
        choices = [(i, s) for i, s in life.items if s.price <= balance]
        if not choices:
            return
        wanted = [i for name in want for i, s in choices if s.name.startswith(name)]
        if wanted:
            item = wanted[0]
        elif want:
            item = min(choices, key=lambda pair: pair[1].price)[0]
        else:
            weights = [3 if s.price >= 150 else 1 for _, s in choices]
            item = rng.choices([i for i, _ in choices], weights)[0]
        order = self.call("redeem", points.redeem, user, item.pk, 1, now=now)
        if order is None:
            return
        self.counts["orders"] += 1
        fate = fate or rng.choices(("verify", "cancel", "expire"), (86, 6, 8))[0]
        if fate == "verify":
            at = self.working(now + timedelta(hours=rng.uniform(2, 96)), rng, 9, 17)
            self.add(at, lambda when, o=order, c=life.clerk: self._verify(o, c, when), prio=6)
        elif fate == "cancel":
            at = now + timedelta(hours=rng.uniform(1, 30))
            reason = rng.choice(tales.ORDER_CANCEL_REASONS)
            self.add(
                at,
                lambda when, o=order, u=user: self.call(
                    "cancel_order", points.cancel_order, u, o.code, reason=reason, now=when
                ),
                prio=6,
            )
        elif fate == "expire":
            self.add(order.expires_at + timedelta(minutes=10), self._expire, prio=6)

    def _verify(self, order: RedemptionOrder, clerk: User, now) -> None:
        if self.call("verify", points.verify_order, clerk, order.redeem_code, now=now):
            self.counts["verified"] += 1

    def _expire(self, now) -> None:
        self.counts["expired"] += points.expire_orders(now)

    # Tips and mediation help ---------------------------------------------------------------

    def plan_tips(self) -> None:
        """The tip sweep, played per incident: each valid report by a known resident is
        credited a few minutes after it was handled, as a running sweeper would."""
        rows = (
            Incident.objects.filter(
                status__in=(IncidentStatus.RESOLVED, IncidentStatus.CLOSED),
                valid=True,
                anonymous=False,
                reporter__role__in=(Role.CITIZEN, Role.VOLUNTEER),
                resolved_at__gte=self.start,
                resolved_at__lte=self.limit,
            )
            .select_related("reporter", "org")
            .order_by("resolved_at", "pk")
        )
        for incident in rows:
            at = incident.resolved_at + timedelta(minutes=10)
            self.add(at, lambda now, i=incident: self._tip(i, now), prio=5)

    def _tip(self, incident: Incident, now) -> None:
        self.counts["tips"] += len(points.award_tip(incident, now=now))

    def _citizen1(self) -> None:
        """citizen1's two tips this month, in a village far from officer1's grids: one that
        led to an arrest, one settled on the spot. The dispatched unit accepts, arrives and
        resolves each; the tip sweep then credits citizen1."""
        generate = _demo()
        citizen1 = self.users["citizen1"]
        grid = next(g for g in self.grids_by_town[1] if g.kind == RURAL)
        rng = random.Random(f"{self.seed}:citizen1")
        tips = (
            (20, "080200", tales.CITIZEN1_TIPS[0], Outcome.ARREST, "现场抓获参赌人员 4 名"),
            (9, "080300", tales.CITIZEN1_TIPS[1], Outcome.HANDLED_ON_SITE, "已劝导摊主撤离"),
        )
        for days, category, text, outcome, note in tips:
            reported = self.working(self.now - timedelta(days=days), rng, 9, 17)
            point = self.spot(grid, rng, 0.4)
            address = generate.address_for(grid.name, grid.kind, rng)

            def act(
                now,
                category=category,
                text=text,
                outcome=outcome,
                note=note,
                point=point,
                address=address,
            ):
                result = incidents.report(
                    category_code=category,
                    description=text,
                    lng=point[0],
                    lat=point[1],
                    address=address,
                    reporter=citizen1,
                    source=Source.CITIZEN_APP,
                    now=now,
                )
                unit = result.assignment.unit if result.assignment else None
                actor = generate.actor_for(unit) if unit else None
                if actor is None or actor.username in generate.RESERVED_UNIT_USERS:
                    self.errors["citizen1_tip:no_unit"] += 1
                    return
                code = result.incident.code
                steps = (
                    (timedelta(seconds=rng.uniform(10, 40)), incidents.accept, {}),
                    (timedelta(minutes=rng.uniform(6, 15)), incidents.arrive, {}),
                    (
                        timedelta(hours=rng.uniform(1, 3)),
                        incidents.resolve,
                        {"outcome": outcome, "note": note, "valid": True},
                    ),
                )
                for delay, action, extra in steps:
                    with _clock_at(now + delay):
                        incident = action(code, actor, now=now + delay, **extra)
                self.add(
                    now + delay + timedelta(minutes=10),
                    lambda when, i=incident: self._tip(i, when),
                )

            self.add(reported, act, prio=5)

    def plan_mediation_help(self) -> None:
        rng = random.Random(self.seed * 7919 + 5)
        sessions = list(
            MediationSession.objects.filter(held_at__gte=self.start, held_at__lte=self.limit)
            .select_related("dispute__org")
            .order_by("held_at", "pk")
        )
        wanted = max(3, round(len(sessions) * 0.25))
        for session in sorted(rng.sample(sessions, min(wanted, len(sessions))), key=lambda s: s.pk):
            station = orgs.station_of(session.dispute.org)
            town = next(i for i, s in enumerate(self.s.stations) if s.pk == station.pk)
            at = session.held_at + timedelta(hours=rng.uniform(1, 20))
            helpers = [
                st.user
                for life in self.teams.values()
                if life.spec.town == town
                for st in life.stints
                if st.active_over(session.held_at, at) and Skill.MEDIATION in life.spec.skills
            ]
            if not helpers:
                continue
            helper = self.pick(rng, sorted(helpers, key=lambda u: u.pk), 1)[0]
            chief = self.users[f"chief{town + 1}"]
            self.add(
                at,
                lambda now, s=session, h=helper, c=chief: self._mediation(s, h, c, now),
                prio=5,
            )

    def _mediation(self, session, helper: User, chief: User, now) -> None:
        entry = self.call(
            "mediation",
            points.award_mediation_help,
            chief,
            session.dispute.code,
            session_id=session.pk,
            helper=helper,
            now=now,
        )
        if entry is not None:
            self.counts["mediation_helps"] += 1

    def _showcase_orders(self) -> None:
        """Orders in every state whatever the density: volunteer1 collected washing powder a
        while ago and has a towel to fetch now; the keenest earners have one that lapsed, one
        they called off, and a few waiting at the counter."""
        rng = self.rng
        past = self.working(self.now - timedelta(days=60), rng, 10, 16)
        self.add(
            past, lambda now: self._shop(self.volunteer1, now, want=("洗衣粉",), fate="verify")
        )
        recent = min(self.working(self.now - timedelta(days=2), rng, 10, 16), self.limit)
        self.add(recent, lambda now: self._shop(self.volunteer1, now, want=("毛巾",), fate="keep"))
        for days, fate, count in ((45, "expire", 2), (20, "cancel", 2), (3, "keep", 3)):
            at = self.working(self.now - timedelta(days=days), rng, 10, 16)
            self.add(at, lambda now, f=fate, n=count: self._richest_shop(now, f, n), prio=6)

    def _richest_shop(self, now, fate: str, count: int) -> None:
        balances = (
            PointEntry.objects.exclude(user__in=self.keep_points)
            .values("user_id")
            .annotate(total=Sum("amount"))
            .order_by("-total", "user_id")[:count]
        )
        people = User.objects.in_bulk([row["user_id"] for row in balances])
        for row in balances:
            self._shop(people[row["user_id"]], now + timedelta(minutes=5), fate=fate)

    # Running ------------------------------------------------------------------------------

    def perform(self) -> None:
        while self.heap:
            at, _, _, action = heapq.heappop(self.heap)
            with _clock_at(at):
                action(at)
        with _clock_at(self.now):
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
        _demo()._say(stdout, f"  义警队伍 {len(run.teams)} 支，任务 {len(run.tasks)} 个，办理中…")
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
    _demo()._say(
        stdout,
        f"  义警队伍 {summary['teams']}（在队 {members['active']}，待审核 {members['pending']}）；"
        f"任务 {summary['tasks']}，报名 {signups['accepted']}（候补 {signups['waiting']}）；"
        f"积分流水 {summary['entries']}（发放 {earned}，兑换净额 {-spent}）；"
        f"兑换点 {summary['shops']}，订单 {sum(orders.values())}（待核销 {orders['pending']}）",
    )
    if run is not None and run.errors:
        _demo()._say(stdout, f"  （按规则被拒的操作：{dict(sorted(run.errors.items()))}）")
    return summary
