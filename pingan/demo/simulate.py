"""Synthetic live activity for the demo county: reports come in, units move, answer and finish.

Every state change goes through the services (`report`, `accept`, `arrive`,
`request_reinforcement`, `resolve`, `rate`, `update_position`, `sweep`), exactly as the phone
ends would call them, so the demo exercises the real paths: dispatch, offer expiry, re-dispatch,
duplicates, live pushes.

The simulator keeps almost no state of its own: what a unit does next is read from the
database each tick and decided by a random stream keyed by the assignment's id, so a restarted
simulator carries on where the last one stopped. It never acts for `officer1` and `aux1`: a
person drives those units in the demo.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass, field, fields
from datetime import timedelta

import numpy as np
import shapely
from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Q

from pingan.accounts.models import Role, User
from pingan.core import clock
from pingan.core.errors import ServiceError
from pingan.incidents import services as incidents
from pingan.incidents.models import (
    ACTIVE_ASSIGNMENT,
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Incident,
    Source,
    Status,
    Unit,
)
from pingan.orgs.models import Grid

from .county.incident_texts import address_for, describe, pick_outcome, pick_rating
from .county.mix import KIND_WEIGHT, active_mix
from .county.names import MOBILE_PREFIXES
from .county.plan import HUMAN_LOGINS, RESERVED_UNIT_USERS

log = logging.getLogger(__name__)

SOURCES = ((Source.CITIZEN_APP, 50), (Source.PHONE_TRANSFER, 35), (Source.PATROL, 15))
WORLD_TTL_S = 300  # re-read grids, citizens and units this often (an admin may add some)
MOVE_EVERY_S = 20  # a unit reports its position about this often, like the phone end does
MOVES_PER_STEP = 60  # at most this many position updates per tick, to bound the writes
MAX_ELAPSED_S = 60  # after a pause, do not burst a backlog of reports
METRES_PER_DEG = 111_320


@dataclass
class StepReport:
    """What one tick (or a whole run) did."""

    reported: int = 0
    accepted: int = 0
    arrived: int = 0
    reinforcements: int = 0
    resolved: int = 0
    rated: int = 0
    moved: int = 0
    errors: int = 0
    expired: int = 0

    def add(self, other: StepReport) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def line(self) -> str:
        return (
            f"报警 {self.reported}，接警 {self.accepted}，到场 {self.arrived}，"
            f"增援 {self.reinforcements}，处置 {self.resolved}，评价 {self.rated}，"
            f"超时改派 {self.expired}，位置更新 {self.moved}，冲突跳过 {self.errors}"
        )


@dataclass(frozen=True)
class _Plan:
    """How a simulated unit handles one assignment, fixed by the assignment id."""

    ignore: bool  # let the offer time out, so expiry and re-dispatch are seen
    accept_after: float
    travel_factor: float
    reinforce: bool
    reinforce_after: float
    resolve_after: float


@dataclass
class _GridInfo:
    pk: int
    name: str
    kind: str
    geometry: object
    weight: float


@dataclass
class _World:
    grids: list[_GridInfo]
    mix: list  # [(MixItem, Category)]
    citizens: list[User]
    patrol_users: list[User]
    actors: dict  # unit pk → the user who answers for it
    homes: dict  # unit pk → (area geometry or None, (lng, lat) home point or None)
    reserved_unit_ids: set
    loaded_at: object
    category_weights: dict = field(default_factory=dict)  # category code → grid weights


class Simulator:
    """Streams activity into the demo county: `step()` is one tick, `run()` loops.

    `rate_per_min` is the average number of new reports per minute (Poisson arrivals).
    `reserved` names users whose units are left to a person (never answered, never moved).
    """

    def __init__(
        self,
        seed: int | None = None,
        rate_per_min: float = 6.0,
        *,
        reserved: tuple[str, ...] = RESERVED_UNIT_USERS,
        moves_per_step: int = MOVES_PER_STEP,
    ):
        # A fresh seed when none is given: its own generator, never the global one.
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
        self.rng = random.Random(self.seed)
        self.np = np.random.default_rng(self.seed)
        self.rate_per_min = rate_per_min
        self.reserved = tuple(reserved)
        self.moves_per_step = moves_per_step
        self.totals = StepReport()
        self.interval_s = 2.0
        self.speed_ms = settings.UNIT_SPEED_KMH * 1000 / 3600
        self._last_now = None
        self._world: _World | None = None

    # --- the loop -------------------------------------------------------------------------

    def run(self, stop_event, interval_s: float = 2.0) -> None:
        """Tick every `interval_s` until `stop_event` is set (a thread or a command)."""
        self.interval_s = interval_s
        try:
            while not stop_event.is_set():
                close_old_connections()
                try:
                    self.step()
                except Exception:  # one bad tick must not end the demo's activity
                    log.exception("demo simulation step failed")
                stop_event.wait(interval_s)
        finally:
            connection.close()

    def step(self, now=None) -> StepReport:
        now = now or clock.now()
        elapsed = self.interval_s
        if self._last_now is not None:
            elapsed = min(max((now - self._last_now).total_seconds(), 0.0), MAX_ELAPSED_S)
        self._last_now = now
        report = StepReport()
        world = self._load_world(now)
        if world.grids:
            for _ in range(int(self.np.poisson(self.rate_per_min * elapsed / 60))):
                self._file_report(world, now, report)
            self._progress(world, now, report)
            self._rate(world, now, report)
            self._move(world, now, report)
        report.expired += incidents.sweep(now=now)["expired"]
        self.totals.add(report)
        return report

    # --- the world ------------------------------------------------------------------------

    def _load_world(self, now) -> _World:
        world = self._world
        # An empty world (demo data not there yet) is re-read every tick, a filled one rarely.
        fresh = world is not None and abs((now - world.loaded_at).total_seconds()) < WORLD_TTL_S
        if fresh and world.grids:
            return world
        grids = [
            _GridInfo(g.pk, g.name, g.kind, g.geometry, KIND_WEIGHT.get(g.kind, 1.0))
            for g in Grid.objects.only("pk", "name", "kind", "boundary").order_by("pk")
        ]
        units = list(Unit.objects.select_related("user").order_by("pk"))
        actors = self._actors(units)
        reserved_ids = {
            u.pk for u in units if actors.get(u.pk) and actors[u.pk].username in self.reserved
        }
        patrol = [
            actors[u.pk] for u in units if u.user_id and u.on_duty and u.pk not in reserved_ids
        ]
        citizens = list(
            User.objects.filter(role=Role.CITIZEN, is_active=True)
            .exclude(username__in=HUMAN_LOGINS)
            .order_by("pk")
        )
        self._world = _World(
            grids=grids,
            mix=active_mix(),
            citizens=citizens,
            patrol_users=patrol,
            actors=actors,
            homes=self._homes(units, {g.pk: g for g in grids}),
            reserved_unit_ids=reserved_ids,
            loaded_at=now,
        )
        return self._world

    @staticmethod
    def _actors(units: list[Unit]) -> dict:
        """A person unit is answered by its person, a team by its first member (the leader)."""
        actors = {u.pk: u.user for u in units if u.user_id}
        team_ids = [u.pk for u in units if not u.user_id]
        through = Unit.members.through.objects.filter(unit_id__in=team_ids).order_by("user_id")
        leaders = {}
        for unit_id, user_id in through.values_list("unit_id", "user_id"):
            leaders.setdefault(unit_id, user_id)
        users = User.objects.in_bulk(list(leaders.values()))
        actors.update({unit_id: users[user_id] for unit_id, user_id in leaders.items()})
        return actors

    @staticmethod
    def _homes(units: list[Unit], grids: dict) -> dict:
        """Where each unit patrols: its own grids (a team: its station's grids)."""
        by_user: dict[int, list[int]] = {}
        for grid_id, officer_id in Grid.objects.values_list("pk", "officer_id"):
            if officer_id:
                by_user.setdefault(officer_id, []).append(grid_id)
        for grid_id, user_id in Grid.auxiliaries.through.objects.values_list("grid_id", "user_id"):
            by_user.setdefault(user_id, []).append(grid_id)
        homes = {}
        for unit in units:
            if unit.user_id:
                grid_ids = by_user.get(unit.user_id, [])
            else:
                grid_ids = list(
                    Grid.objects.filter(org__path__startswith=unit.org_path).values_list(
                        "pk", flat=True
                    )
                )
            shapes = [grids[pk].geometry for pk in grid_ids if pk in grids]
            if shapes:
                area = shapely.union_all(shapes)
                shapely.prepare(area)
                point = shapes[0].representative_point()
                homes[unit.pk] = (area, (point.x, point.y))
            else:
                homes[unit.pk] = (None, None)
        return homes

    # --- reports --------------------------------------------------------------------------

    def _grid_weights(self, world: _World, item) -> np.ndarray:
        weights = world.category_weights.get(item.code)
        if weights is None:
            factors = dict(item.affinity)
            weights = np.array([g.weight * factors.get(g.kind, 1.0) for g in world.grids])
            weights = weights / weights.sum()
            world.category_weights[item.code] = weights
        return weights

    def _point_in(self, grid: _GridInfo) -> tuple[float, float]:
        minx, miny, maxx, maxy = grid.geometry.bounds
        for _ in range(200):
            lng, lat = self.rng.uniform(minx, maxx), self.rng.uniform(miny, maxy)
            if shapely.contains_xy(grid.geometry, lng, lat):
                return lng, lat
        point = grid.geometry.representative_point()
        return point.x, point.y

    def _file_report(self, world: _World, now, report: StepReport) -> None:
        if not world.mix:
            return
        rng = self.rng
        item, category = rng.choices(world.mix, [m.weight for m, _ in world.mix])[0]
        index = int(self.np.choice(len(world.grids), p=self._grid_weights(world, item)))
        grid = world.grids[index]
        lng, lat = self._point_in(grid)
        source = rng.choices(*zip(*SOURCES, strict=True))[0]
        caller = {"reporter": None, "client_key": "", "reporter_phone": ""}
        if source == Source.PATROL and world.patrol_users:
            caller["reporter"] = rng.choice(world.patrol_users)
        elif source == Source.CITIZEN_APP and world.citizens and rng.random() < 0.75:
            caller["reporter"] = rng.choice(world.citizens)
        elif source == Source.CITIZEN_APP:
            caller["client_key"] = f"sim-device-{rng.randrange(10**6)}"  # an anonymous phone
        else:
            source = Source.PHONE_TRANSFER
            phone = "+86" + rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
            caller.update(client_key=phone, reporter_phone=phone)
        try:
            incidents.report(
                category_code=category.code,
                description=describe(item.code, rng),
                lng=lng,
                lat=lat,
                address=address_for(grid.name, grid.kind, rng),
                source=source,
                now=now,
                **caller,
            )
            report.reported += 1
        except ServiceError as exc:  # e.g. the anonymous quota: a real client would back off
            log.info("simulated report refused: %s", exc.message)
            report.errors += 1

    # --- units answering ------------------------------------------------------------------

    def _plan(self, assignment: Assignment) -> _Plan:
        r = random.Random(self.seed * 1_000_003 + assignment.pk)
        urgent = assignment.incident.priority == 1
        return _Plan(
            ignore=r.random() < 0.06,
            accept_after=r.uniform(10, 40),
            travel_factor=r.uniform(0.8, 1.3),
            reinforce=r.random() < (0.25 if urgent else 0.08),
            reinforce_after=r.uniform(20, 90),
            resolve_after=r.uniform(120, 480),
        )

    def _progress(self, world: _World, now, report: StepReport) -> None:
        active = (
            Assignment.objects.filter(status__in=ACTIVE_ASSIGNMENT)
            .exclude(unit_id__in=world.reserved_unit_ids)
            .select_related("incident", "incident__category", "unit")
            .order_by("pk")
        )
        for assignment in active:
            actor = world.actors.get(assignment.unit_id)
            if actor is None or actor.username in self.reserved:
                continue
            try:
                self._advance(assignment, actor, self._plan(assignment), now, report)
            except ServiceError as exc:  # a race with the sweeper, a commander or a person
                log.info("simulated %s skipped: %s", assignment.incident.code, exc.message)
                report.errors += 1

    def _advance(
        self, assignment: Assignment, actor: User, plan: _Plan, now, report: StepReport
    ) -> None:
        code = assignment.incident.code
        status = assignment.status
        if status == AssignmentStatus.OFFERED:
            due = assignment.offered_at + timedelta(seconds=plan.accept_after)
            live = assignment.expires_at is None or now < assignment.expires_at
            if not plan.ignore and live and now >= due:
                incidents.accept(code, actor, now=now)
                report.accepted += 1
        elif status == AssignmentStatus.ACCEPTED:
            travel = max(20.0, (assignment.eta_seconds or 120) * plan.travel_factor)
            if now >= assignment.accepted_at + timedelta(seconds=travel):
                incidents.arrive(code, actor, now=now)
                report.arrived += 1
        elif assignment.role == AssignmentRole.PRIMARY:  # on scene: only the first unit closes
            self._on_scene(assignment, actor, plan, now, report)

    def _on_scene(
        self, assignment: Assignment, actor: User, plan: _Plan, now, report: StepReport
    ) -> None:
        incident = assignment.incident
        on_scene_s = (now - assignment.arrived_at).total_seconds()
        if plan.reinforce and incident.reinforce_requested_at is None:
            if on_scene_s >= plan.reinforce_after:
                incidents.request_reinforcement(incident.code, actor, note="现场需要支援", now=now)
                report.reinforcements += 1
            return
        waiting = (
            incident.reinforce_requested_at is not None
            and incident.reinforce_arrived_at is None
            and on_scene_s < plan.resolve_after + 300
        )  # wait a while for the help
        if on_scene_s >= plan.resolve_after and not waiting:
            outcome, note, valid = pick_outcome(
                incident.category.code, random.Random(self.seed + incident.pk)
            )
            incidents.resolve(
                incident.code, actor, outcome=outcome, note=note, valid=valid, now=now
            )
            report.resolved += 1

    def _rate(self, world: _World, now, report: StepReport) -> None:
        """Some citizens rate a few minutes after their report was handled."""
        recent = (
            Incident.objects.filter(
                status=Status.RESOLVED,
                rating__isnull=True,
                reporter__role=Role.CITIZEN,
                resolved_at__gte=now - timedelta(hours=2),
                resolved_at__lte=now,
            )
            .exclude(reporter__username__in=HUMAN_LOGINS)
            .select_related("reporter")
        )
        for incident in recent:
            r = random.Random(self.seed * 7 + incident.pk)
            wants = r.random() < 0.4
            due = incident.resolved_at + timedelta(seconds=r.uniform(60, 600))
            if not wants or now < due:
                continue
            rating, comment = pick_rating(r)
            try:
                incidents.rate(incident.code, incident.reporter, rating, comment, now=now)
                report.rated += 1
            except ServiceError:
                report.errors += 1

    # --- movement -------------------------------------------------------------------------

    def _move(self, world: _World, now, report: StepReport) -> None:
        stale = now - timedelta(seconds=MOVE_EVERY_S)
        units = (
            Unit.objects.filter(on_duty=True)
            .filter(Q(position_at__isnull=True) | Q(position_at__lte=stale))
            .exclude(pk__in=world.reserved_unit_ids)
            .select_related("current_assignment__incident")
            .order_by("position_at", "pk")[: self.moves_per_step]
        )
        for unit in units:
            actor = world.actors.get(unit.pk)
            if actor is None:
                continue
            position = self._next_position(world, unit, now)
            if position is None:
                continue
            try:
                incidents.update_position(actor, *position, now=now)
                report.moved += 1
            except ServiceError:
                report.errors += 1

    def _next_position(self, world: _World, unit: Unit, now) -> tuple[float, float] | None:
        area, home = world.homes.get(unit.pk, (None, None))
        if unit.lng is None or unit.lat is None:
            return home  # never placed yet: start at home, or stay unplaced without one
        current = unit.current_assignment
        if current is not None and current.status == AssignmentStatus.ARRIVED:
            return self._jitter(current.incident.lng, current.incident.lat, 15)
        if current is not None and current.status == AssignmentStatus.ACCEPTED:
            since = (now - unit.position_at).total_seconds() if unit.position_at else 20
            return self._towards(
                unit.lng,
                unit.lat,
                current.incident.lng,
                current.incident.lat,
                self.speed_ms * min(max(since, 0), 120),
            )
        lng, lat = self._jitter(unit.lng, unit.lat, self.rng.uniform(20, 80))
        if area is not None and not shapely.contains_xy(area, lng, lat):
            # Wandered out of its grids: drift back towards home instead.
            lng, lat = self._towards(unit.lng, unit.lat, *home, self.rng.uniform(50, 150))
        return lng, lat

    def _jitter(self, lng: float, lat: float, metres: float) -> tuple[float, float]:
        bearing = self.rng.uniform(0, 2 * math.pi)
        return (
            lng + metres * math.sin(bearing) / (METRES_PER_DEG * math.cos(math.radians(lat))),
            lat + metres * math.cos(bearing) / METRES_PER_DEG,
        )

    @staticmethod
    def _towards(
        lng: float, lat: float, to_lng: float, to_lat: float, metres: float
    ) -> tuple[float, float]:
        dx = (to_lng - lng) * METRES_PER_DEG * math.cos(math.radians(lat))
        dy = (to_lat - lat) * METRES_PER_DEG
        distance = math.hypot(dx, dy)
        if distance <= metres or distance == 0:
            return to_lng, to_lat
        share = metres / distance
        return lng + (to_lng - lng) * share, lat + (to_lat - lat) * share
