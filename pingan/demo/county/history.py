"""Years of closed incident history up to `now`, written in bulk (the services would take
minutes; see `pingan.demo.generate`). Sampled by category, season, weekday, hour and grid;
each incident gets a consistent timeline, assignments and, now and then, a rating.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as dtime

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from pingan.accounts.models import Role, User
from pingan.demo.progress import say
from pingan.incidents.dispatch import ROAD_FACTOR
from pingan.incidents.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Category,
    DailySequence,
    EventKind,
    Incident,
    IncidentEvent,
    Outcome,
    Source,
    Status,
    Unit,
)
from pingan.orgs import services as orgs
from pingan.orgs.models import Grid

from .geography import TOWNS, to_wgs84
from .incident_texts import address_for, describe, pick_outcome, pick_rating
from .mix import (
    HOURS,
    KIND_WEIGHT,
    PARK,
    RURAL,
    SCENIC,
    SOURCES,
    URBAN,
    MixItem,
    active_mix,
    affinity_weights,
    sample_points,
)
from .names import MOBILE_PREFIXES
from .plan import GridPlan
from .structure import Structure

GROUP_MINUTES = {  # median minutes on scene before the handling is finished
    "dispute": 35,
    "help": 25,
    "traffic": 40,
    "theft": 45,
    "violent": 60,
    "fraud": 40,
    "order": 30,
    "tip": 20,
    "fire": 60,
    "hazard": 50,
    "other": 15,
}


@dataclass
class _GridCtx:
    grid: Grid
    plan: GridPlan
    targets: orgs.Targets
    own: list[Unit]  # the grid's officer first, then its auxiliaries
    station: list[Unit]  # every person unit of the grid's station
    team: Unit
    chief: User
    patrol_users: list[User]


def _season(item: MixItem, doy: np.ndarray) -> np.ndarray:
    summer = np.sin(2 * np.pi * (doy - 100) / 365)  # peaks around 10 July
    festival = np.exp(-(((doy - 35) / 12.0) ** 2))  # Spring Festival, roughly early February
    factor = 1 + 0.12 * summer + 0.1 * festival
    if item.season == "summer":
        factor *= np.clip(1 + 0.8 * summer, 0.3, None)
    elif item.season == "spring":
        factor *= 1 + 2.5 * np.exp(-(((doy - 95) / 15.0) ** 2))  # Qingming grave-sweeping fires
    elif item.season == "festival":
        factor *= 1 + 0.5 * festival
    return factor


class History:
    """Closed incidents over `years` up to `now`, written in bulk."""

    def __init__(self, structure: Structure, seed: int, years: int, per_day: float, now):
        self.s = structure
        self.rng = random.Random(seed * 7919 + 1)
        self.np = np.random.default_rng([seed, 1])
        self.years = years
        self.per_day = per_day
        self.now = now
        self.tz = timezone.get_default_timezone()
        self.speed_ms = settings.UNIT_SPEED_KMH * 1000 / 3600
        self.grid_ctx = self._grid_contexts()
        self.own_units = {c.grid.pk: {u.pk for u in c.own} for c in self.grid_ctx}
        self.citizens = [u for n, u in structure.users.items() if u.role == Role.CITIZEN]
        self.volunteers = [u for n, u in structure.users.items() if u.role == Role.VOLUNTEER]
        self.mix = active_mix()

    def _grid_contexts(self) -> list[_GridCtx]:
        s = self.s
        team_of = {s.stations[i].pk: s.units[f"team:{i}"] for i, _ in s.plan.teams}
        chief_of = {s.stations[i].pk: s.users[f"chief{i + 1}"] for i in range(len(TOWNS))}
        person_units = [u for key, u in s.units.items() if not key.startswith("team:")]
        by_station = defaultdict(list)
        for unit in person_units:
            by_station[orgs.station_of(unit.org).pk].append(unit)
        units_by_user = {u.user_id: u for u in person_units}
        contexts = []
        for plan in s.plan.grids:
            grid = s.grids[plan.code]
            station = orgs.station_of(grid.org)
            own_users = [grid.officer_id, *grid.auxiliaries.values_list("pk", flat=True)]
            own = [units_by_user[pk] for pk in own_users if pk in units_by_user]
            contexts.append(
                _GridCtx(
                    grid=grid,
                    plan=plan,
                    targets=orgs.targets_for(grid.org, grid.kind),
                    own=own,
                    station=by_station[station.pk],
                    team=team_of[station.pk],
                    chief=chief_of[station.pk],
                    patrol_users=[u.user for u in own],
                )
            )
        return contexts

    # Sampling ------------------------------------------------------------------------------

    def _day_starts(self) -> list[datetime]:
        today = timezone.localtime(self.now, self.tz).date()
        first = today - timedelta(days=365 * self.years)
        return [
            datetime.combine(first + timedelta(days=d), dtime(), tzinfo=self.tz)
            for d in range((today - first).days + 1)
        ]

    def sample(self) -> list[tuple]:
        """(reported_at, mix item, category, grid index, lng, lat), in time order."""
        days = self._day_starts()
        n_days = len(days)
        doy = np.array([d.timetuple().tm_yday for d in days], dtype=float)
        weekday = np.array([1.08 if d.weekday() >= 5 else 0.97 for d in days])
        years_from_mid = (np.arange(n_days) - n_days / 2) / 365.0
        total_weight = sum(m.weight for m, _ in self.mix)
        kinds = [c.grid.kind for c in self.grid_ctx]
        # Some villages are simply busier than others (a market, a main road).
        base = np.array([KIND_WEIGHT[k] for k in kinds]) * self.np.lognormal(0, 0.35, len(kinds))
        end = self.now - timedelta(hours=6)  # everything sampled has been closed by `now`
        rows = []
        for item, category in self.mix:
            rate = (
                self.per_day
                * item.weight
                / total_weight
                * _season(item, doy)
                * weekday
                * (1 + item.trend) ** years_from_mid
            )
            counts = self.np.poisson(rate)
            n = int(counts.sum())
            if not n:
                continue
            day_index = np.repeat(np.arange(n_days), counts)
            hours = np.asarray(HOURS[item.hours], dtype=float)
            seconds = self.np.choice(24, size=n, p=hours / hours.sum()) * 3600 + self.np.uniform(
                0, 3600, n
            )
            grid_index = self.np.choice(len(kinds), size=n, p=affinity_weights(item, kinds, base))
            for d, sec, g in zip(
                day_index.tolist(), seconds.tolist(), grid_index.tolist(), strict=True
            ):
                at = days[d] + timedelta(seconds=round(sec))
                if at < end:
                    rows.append([at, item, category, g])
        rows.sort(key=lambda r: (r[0], r[1].code, r[3]))
        self.set_duty_and_position(rows)
        return rows

    def set_duty_and_position(self, rows: list) -> None:
        by_grid = defaultdict(list)
        for row in rows:
            by_grid[row[3]].append(row)
        for g, grid_rows in sorted(by_grid.items()):
            plan = self.grid_ctx[g].plan
            points = sample_points(self.np, plan.local, (plan.x, plan.y), len(grid_rows))
            for row, (x, y) in zip(grid_rows, points.tolist(), strict=True):
                row.extend(to_wgs84(x, y))

    # Building ------------------------------------------------------------------------------

    def build(self, stdout) -> dict:
        rows = self.sample()
        say(stdout, f"  历史警情 {len(rows)} 条，写入中…")
        incidents_, assignments, events, sequences = [], [], [], Counter()
        for reported_at, item, category, g, lng, lat in rows:
            day = timezone.localtime(reported_at, self.tz).date()
            sequences[day] += 1
            code = f"JQ{day:%Y%m%d}-{sequences[day]:06d}"
            incident, its_assignments, its_events = self._one(
                code, reported_at, item, category, self.grid_ctx[g], lng, lat
            )
            incidents_.append(incident)
            assignments += its_assignments
            events += its_events
        with transaction.atomic():
            Incident.objects.bulk_create(incidents_, batch_size=500)
            Assignment.objects.bulk_create(assignments, batch_size=500)
            for event, assignment in events:
                if assignment is not None:
                    event.data = {**event.data, "assignment": assignment.pk}
            IncidentEvent.objects.bulk_create([e for e, _ in events], batch_size=500)
            DailySequence.objects.bulk_create(
                [
                    DailySequence(prefix="JQ", day=day, last=last)
                    for day, last in sorted(sequences.items())
                ],
                batch_size=500,
            )
        return {
            "incidents": len(incidents_),
            "assignments": len(assignments),
            "events": len(events),
            "ratings": sum(1 for i in incidents_ if i.rating is not None),
        }

    def _reporter(self, source: str, ctx: _GridCtx):
        """(reporter, anonymous, phone) in the shape `services.report` stores."""
        rng = self.rng
        if source == Source.CITIZEN_APP and rng.random() < 0.75:
            user = rng.choice(self.citizens)
            return user, False, ""
        if source == Source.PATROL and ctx.patrol_users:
            return rng.choice(ctx.patrol_users), False, ""
        if source == Source.VOLUNTEER:
            return rng.choice(self.volunteers), False, ""
        phone = "+86" + rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        return None, True, phone if source == Source.PHONE_TRANSFER else ""

    def _durations(self, item: MixItem, category: Category, ctx: _GridCtx) -> dict:
        rng = self.rng
        kind = ctx.grid.kind
        urgent = category.default_priority == 1
        accept = min(max(rng.lognormvariate(math.log(32), 0.45), 6), 300)
        travel_median = {URBAN: 110, PARK: 160, SCENIC: 380, RURAL: 400}[kind] * (
            0.85 if urgent else 1.0
        )
        travel = min(max(rng.lognormvariate(math.log(travel_median), 0.45), 40), 2400)
        reinforce = rng.random() < (0.3 if urgent or item.group in ("violent", "fire") else 0.08)
        handle = min(
            max(rng.lognormvariate(math.log(GROUP_MINUTES[item.group] * 60), 0.5), 300), 9000
        )
        return {
            "accept": accept,
            "travel": travel,
            "handle": handle,
            "reinforce": reinforce,
            "expired_first": accept > 50 and rng.random() < 0.5,
        }

    def _one(self, code, reported_at, item, category, ctx: _GridCtx, lng, lat):
        rng = self.rng
        source = rng.choices(*zip(*SOURCES, strict=True))[0]
        if item.group == "fraud" and source == Source.PATROL:
            source = Source.PHONE_TRANSFER  # patrols don't stumble on telephone scams
        reporter, anonymous, phone = self._reporter(source, ctx)
        d = self._durations(item, category, ctx)
        t = {"reported": reported_at, "accepted": reported_at + timedelta(seconds=d["accept"])}
        t["arrived"] = t["accepted"] + timedelta(seconds=d["travel"])
        outcome, note, valid = pick_outcome(item.code, rng)
        incident = Incident(
            code=code,
            category=category,
            priority=category.default_priority,
            source=source,
            description=describe(item.code, rng),
            address=address_for(ctx.grid.name, ctx.grid.kind, rng),
            lng=lng,
            lat=lat,
            grid=ctx.grid,
            org=ctx.grid.org,
            org_path=ctx.grid.org.path,
            reporter=reporter,
            anonymous=anonymous,
            reporter_phone=phone,
            valid=valid,
            outcome=outcome,
            outcome_note=note,
            target_accept_s=ctx.targets.accept_seconds,
            target_arrive_s=ctx.targets.arrive_seconds,
            target_reinforce_s=ctx.targets.reinforce_seconds,
            reported_at=reported_at,
            accepted_at=t["accepted"],
            arrived_at=t["arrived"],
        )
        events = [
            self._event(
                incident,
                EventKind.REPORTED,
                reported_at,
                reporter,
                message=f"{Source(source).label}：{category.name}",
            )
        ]
        assignments = []
        primary = self._primary_unit(ctx)
        if d["expired_first"]:
            assignments += self._expired_offer(incident, ctx, primary, events)
        offered_at = reported_at + timedelta(seconds=45 if d["expired_first"] else 1)
        assignments.append(
            self._assignment(
                incident,
                primary,
                AssignmentRole.PRIMARY,
                offered_at,
                t["accepted"],
                t["arrived"],
                d["travel"],
                events,
            )
        )
        finished = t["arrived"] + timedelta(seconds=d["handle"])
        if d["reinforce"]:
            finished = max(
                finished, self._reinforce(incident, ctx, primary, t["arrived"], assignments, events)
            )
        incident.resolved_at = finished
        for assignment in assignments:
            if assignment.status == AssignmentStatus.ACCEPTED:
                assignment.status, assignment.finished_at = AssignmentStatus.DONE, finished
        self._finish(incident, ctx, primary, events)
        return incident, assignments, events

    def _primary_unit(self, ctx: _GridCtx) -> Unit:
        roll = self.rng.random()
        if ctx.own and roll < 0.55:
            return ctx.own[0]
        if len(ctx.own) > 1 and roll < 0.85:
            return self.rng.choice(ctx.own[1:])
        return self.rng.choice(ctx.station or ctx.own)

    def _expired_offer(self, incident, ctx, primary, events) -> list[Assignment]:
        others = [u for u in ctx.station if u.pk != primary.pk] or [ctx.team]
        unit = self.rng.choice(others)
        at = incident.reported_at + timedelta(seconds=1)
        eta = int(self.rng.uniform(60, 600))
        expired = Assignment(
            incident=incident,
            unit=unit,
            role=AssignmentRole.PRIMARY,
            status=AssignmentStatus.EXPIRED,
            offered_at=at,
            expires_at=at + timedelta(seconds=44),
            finished_at=at + timedelta(seconds=44),
            distance_m=round(eta * self.speed_ms / ROAD_FACTOR, 1),
            eta_seconds=eta,
        )
        events.append(self._offer_event(incident, expired, at, own=unit in ctx.own))
        events.append(
            self._event(
                incident,
                EventKind.OFFER_EXPIRED,
                expired.finished_at,
                unit=unit,
                message=f"{unit.name} 超时未接警，自动改派",
            )
        )
        return [expired]

    def _assignment(
        self, incident, unit, role, offered_at, accepted_at, arrived_at, travel_s, events
    ) -> Assignment:
        distance = travel_s * self.speed_ms / ROAD_FACTOR
        assignment = Assignment(
            incident=incident,
            unit=unit,
            role=role,
            status=AssignmentStatus.ACCEPTED,
            offered_at=offered_at,
            expires_at=offered_at + timedelta(seconds=45),
            accepted_at=accepted_at,
            arrived_at=arrived_at,
            distance_m=round(distance, 1),
            eta_seconds=int(travel_s),
        )
        actor = self._actor(unit)
        events.append(
            self._offer_event(
                incident, assignment, offered_at, own=unit.pk in self.own_units[incident.grid.pk]
            )
        )
        events.append(
            self._event(
                incident,
                EventKind.ACCEPTED,
                accepted_at,
                actor,
                unit,
                f"{unit.name} 已接警（{AssignmentRole(role).label}）",
            )
        )
        kind = EventKind.ARRIVED if role == AssignmentRole.PRIMARY else EventKind.REINFORCE_ARRIVED
        events.append(self._event(incident, kind, arrived_at, actor, unit, f"{unit.name} 已到场"))
        return assignment

    def _reinforce(self, incident, ctx, primary, arrived_at, assignments, events):
        rng = self.rng
        requested = arrived_at + timedelta(seconds=rng.uniform(30, 240))
        incident.reinforce_requested_at = requested
        events.append(
            self._event(
                incident,
                EventKind.REINFORCE_REQUESTED,
                requested,
                self._actor(primary),
                primary,
                f"{primary.name} 请求增援：现场需要支援",
            )
        )
        unit = (
            ctx.team
            if rng.random() < 0.6
            else rng.choice([u for u in ctx.station if u.pk != primary.pk] or [ctx.team])
        )
        rural = ctx.grid.kind in (RURAL, SCENIC)
        travel = min(max(rng.lognormvariate(math.log(480 if rural else 200), 0.45), 60), 2400)
        accepted = requested + timedelta(seconds=rng.uniform(8, 40))
        arrived = accepted + timedelta(seconds=travel)
        assignments.append(
            self._assignment(
                incident,
                unit,
                AssignmentRole.REINFORCEMENT,
                requested,
                accepted,
                arrived,
                travel,
                events,
            )
        )
        incident.reinforce_arrived_at = arrived
        return arrived + timedelta(seconds=rng.uniform(300, 1800))

    def _finish(self, incident: Incident, ctx: _GridCtx, primary: Unit, events) -> None:
        rng = self.rng
        incident.accept_s = (incident.accepted_at - incident.reported_at).total_seconds()
        incident.arrive_s = (incident.arrived_at - incident.reported_at).total_seconds()
        if incident.reinforce_arrived_at:
            incident.reinforce_s = (
                incident.reinforce_arrived_at - incident.reported_at
            ).total_seconds()
        message = f"处置完成：{Outcome(incident.outcome).label}。{incident.outcome_note}"
        events.append(
            self._event(
                incident,
                EventKind.RESOLVED,
                incident.resolved_at,
                self._actor(primary),
                primary,
                message,
                {"outcome": incident.outcome, "valid": incident.valid},
            )
        )
        closed = incident.resolved_at + timedelta(hours=rng.uniform(1, 72))
        if closed <= self.now:
            incident.status, incident.closed_at = Status.CLOSED, closed
            events.append(
                self._event(incident, EventKind.CLOSED, closed, ctx.chief, message="审核结案")
            )
        else:
            incident.status = Status.RESOLVED
        reporter = incident.reporter
        if (
            reporter is not None
            and reporter.role == Role.CITIZEN
            and incident.source == Source.CITIZEN_APP
            and rng.random() < 0.45
        ):
            rated = incident.resolved_at + timedelta(hours=rng.uniform(0.2, 30))
            if rated <= self.now:
                incident.rating, incident.rating_comment = pick_rating(rng)
                events.append(
                    self._event(
                        incident,
                        EventKind.RATED,
                        rated,
                        reporter,
                        message=f"评价 {incident.rating} 星 {incident.rating_comment}".strip(),
                    )
                )
        events.sort(key=lambda pair: pair[0].at)  # the timeline is read in id order

    def _offer_event(self, incident, assignment, at, *, own: bool):
        unit = assignment.unit
        why = "本网格警力" if own else "就近警力"
        role = AssignmentRole(assignment.role)
        km = (assignment.distance_m or 0) / 1000
        eta = assignment.eta_seconds or 0
        message = f"派{role.label}：{unit.name}（{why}，约 {km:.1f} 公里，预计 {eta} 秒）"
        event, _ = self._event(
            incident,
            EventKind.OFFERED,
            at,
            unit=unit,
            message=message,
            data={"role": assignment.role},
        )
        return event, assignment

    def _event(self, incident, kind, at, actor=None, unit=None, message="", data=None):
        return IncidentEvent(
            incident=incident,
            kind=kind,
            at=at,
            actor=actor,
            unit=unit,
            message=message[:500],
            data=data or {},
        ), None

    def _actor(self, unit: Unit) -> User | None:
        if unit.user_id:
            return self.s.users_by_pk[unit.user_id]
        return self.s.team_leaders.get(unit.pk)
