"""Planning the disputes' lives: places and time, building a life from a tale, the usual
course of a dispute, the seeded history, and the incidents a case could turn into a dispute.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from datetime import time as dtime

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from pingan.accounts.models import User
from pingan.demo.county.incident_texts import address_for
from pingan.demo.county.names import Names
from pingan.disputes.models import (
    RiskRule,
)
from pingan.incidents.models import Incident
from pingan.incidents.models import Status as IncidentStatus

from .life import Life, _Missing
from .people import Bodies, Cast, Place
from .tales import (
    CADRE_NOTES,
    CASE_OUTCOMES,
    CASE_TYPES,
    COMMUNITY_NOTES,
    DECLINE_REASONS,
    GREEN_TALES,
    GRID_WORKER_NOTES,
    ONLINE_SOURCES,
    PARK,
    RED_TALES,
    REROUTES,
    ROUTE_MIX,
    RURAL,
    SCENIC,
    URBAN,
    YELLOW_TALES,
    Tale,
    money,
)

# Steps are never planned closer to `now` than this.
SAFETY = timedelta(minutes=2)
N, Y, R = "green", "yellow", "red"

# --- planning -------------------------------------------------------------------------------------

CHANNEL_MIX = (
    ("cadre_grid", 36),
    ("community_work", 22),
    ("case", 16),
    ("online", 8),
    ("citizen_request", 18),
)
FLAVOUR_MIX = ((N, 74), (Y, 18), (R, 8))
PLACE_WEIGHT = {URBAN: 1.3, RURAL: 1.0, PARK: 1.6, SCENIC: 0.5}
# A resident's request names the other side; these casts have exactly one applicant.
REQUEST_CASTS = ("pair", "couple", "shop", "firm")


class Planner:
    """Plans every life (`showcase` adds the fixed ones, `run` performs them)."""

    def __init__(self, structure, seed: int, now):
        self.structure = structure
        self.rng = random.Random(seed * 7919 + 2)
        self.now = now
        self.limit = now - SAFETY
        self.tz = timezone.get_default_timezone()
        names = Names(self.rng)
        names.phones.update(person.phone for person in structure.plan.people)
        self.names = names
        self.cast = Cast(self.rng, names, timezone.localtime(now).date())
        self.bodies = Bodies(self.rng, names)
        self.places = self._places()
        self.lives: list[Life] = []
        self.sweeps: set = set()
        self.reassess_at: set = set()
        stale_days = [
            r.params.get("days")
            for r in RiskRule.objects.filter(kind="stale", active=True)
            if isinstance(r.params.get("days"), int | float)
        ]
        self.stale = timedelta(days=min(stale_days)) if stale_days else None
        self.escalation = timedelta(hours=settings.DISPUTE_ORDER_ESCALATION_HOURS)
        self.citizens = [u for u in structure.users.values() if u.role == "citizen"]
        # Fixed places of the showcase: officer1's grids (grid1 works in `home`), a park.
        self.ordered = sorted(self.places.values(), key=lambda p: p.grid.code)
        mine = [self.places[g.code] for g in structure.plan.officer_grids["officer1"]]
        self.home = next((p for p in mine if structure.users["grid1"] in p.workers), mine[0])
        self.near = [p for p in mine if p is not self.home] or [self.home]
        self.park = next(p for p in self.ordered if p.kind == PARK)

    def _places(self) -> dict:
        s = self.structure
        plan = s.plan
        officer_of = {g.code: u for u, chunk in plan.officer_grids.items() for g in chunk}
        return {
            g.code: Place(
                grid=s.grids[g.code],
                plan=g,
                officer=s.users[officer_of[g.code]],
                aux=s.users[plan.grid_aux[g.code]],
                workers=[s.users[u] for u in plan.grid_workers.get(g.code, [])],
                chief=s.users[f"chief{g.town + 1}"],
            )
            for g in plan.grids
        }

    # Time ----------------------------------------------------------------------------------------

    def working(self, moment: datetime) -> datetime:
        """Move a step into office hours (8:00-19:00) when it would fall at night."""
        local = timezone.localtime(moment, self.tz)
        if local.hour < 8:
            return local.replace(hour=8, minute=self.rng.randrange(60))
        if local.hour >= 19:
            day = local.date() + timedelta(days=1)
            return datetime.combine(day, dtime(8, self.rng.randrange(60)), tzinfo=self.tz)
        return local

    def village(self, town: int, n: int = 0) -> Place:
        return self.where(town, RURAL, n)

    def community(self, town: int, n: int = 0) -> Place:
        return self.where(town, URBAN, n)

    def ago(self, days: float = 0, hours: float = 0) -> datetime:
        return (self.now - timedelta(days=days, hours=hours)).replace(second=0, microsecond=0)

    # Building lives --------------------------------------------------------------------------

    def life(
        self,
        place: Place,
        tale: Tale,
        channel: str,
        *,
        filer: User | None = None,
        requester: User | None = None,
        incident: str = "",
        parties: tuple | None = None,
        narrative: str = "",
    ) -> Life:
        """A dispute told by `tale` in `place`, found through `channel`. `parties` reuses the
        people of an earlier dispute (a repeat between the same parties)."""
        rng = self.rng
        party_list, words = parties or self.cast.build(tale, place)
        amount = None
        if tale.amount:
            step = 1000 if tale.amount[0] >= 50000 else 100
            amount = round(rng.uniform(*tale.amount) / step) * step
        words = {**words, "money": money(amount) if amount else ""}
        if requester is not None:
            # The resident is the applicant: the service adds them from their account.
            words["a"] = requester.display_name
            party_list = party_list[1:]
        text = narrative or tale.text.format_map(_Missing(words))
        source = ""
        if channel == "cadre_grid":
            if filer is None:
                filer = place.workers[0] if place.workers else place.aux
            source = (
                rng.choice(GRID_WORKER_NOTES)
                if filer.role == "grid_worker"
                else rng.choice(CADRE_NOTES).format(name=self.names.person())
            )
        elif channel == "community_work":
            filer = filer or (place.officer if rng.random() < 0.6 else place.aux)
            source = rng.choice(COMMUNITY_NOTES)
        elif channel == "online":
            filer = filer or place.officer
            source = rng.choice(ONLINE_SOURCES).format(short=place.town.short)
            if not text.startswith("网民"):
                text = f"{source}反映：{text}"
        life = Life(
            run=self,
            key=len(self.lives),
            place=place,
            type=tale.type,
            title=f"{place.short_name}{tale.title}"[:80],
            narrative=text,
            parties=list(party_list),
            words=words,
            channel=channel,
            terms=tale.terms,
            amount=amount,
            source_note=source,
            address=address_for(place.grid.name, place.kind, rng),
            filer=filer,
            requester=requester,
            incident=incident,
        )
        self.lives.append(life)
        return life

    def route_choice(self, type_: str, place: Place, *, exclude: str = "") -> tuple[str, str]:
        options = [(r, k, w) for r, k, w in ROUTE_MIX[type_] if r != exclude]
        if not options:
            options = [("judicial", "mediation_committee", 1)]
        route, kind, _ = self.rng.choices(options, [w for _, _, w in options])[0]
        if kind == "village_committee" and place.kind not in (RURAL, URBAN):
            kind = "grid_station"  # parks and scenic areas have no residents' committee
        return route, kind

    def settle(self, life: Life, flavour: str) -> None:
        """The usual course: accepted, routed (sometimes rerouted), mediated, perhaps a written
        agreement, resolved, visited; hard cases tracked as orders; a few relapse."""
        rng = self.rng
        if life.channel == "citizen_request":
            if rng.random() < 0.07:
                life.decline(life.later(4, 30), rng.choice(DECLINE_REASONS))
                return
            if not life.accept(life.later(2, 20)):
                return
        place = life.place
        route, kind = self.route_choice(life.type, place)
        if rng.random() < 0.08:
            first = "village_committee" if place.kind in (RURAL, URBAN) else "grid_station"
            life.route(life.later(1, 30), "grassroots", first)
            life.session(life.later(20, 120), "failed")
            route, kind = self.route_choice(life.type, place, exclude="grassroots")
            reason = REROUTES.get(kind) or REROUTES[route]
            life.route(life.later(1, 24), route, kind, reason)
        else:
            life.route(life.later(1, 30), route, kind)
        order_p = {R: 0.85, Y: 0.3, N: 0.02}[flavour]
        late = False
        if rng.random() < order_p:
            life.order(life.later(1, 24))
            late = rng.random() < 0.12
        self._mediate(life, flavour, route, late)
        relapse = rng.random() < 0.07
        life.visits(holds=(not relapse,))
        if relapse and life.state == "open":
            life.session(life.later(48, 150), "agreed")
            life.resolve(life.later(1, 30))
            life.visits()

    def _mediate(self, life: Life, flavour: str, route: str, late: bool) -> None:
        rng = self.rng
        hours = (48, 200) if route == "judicial" else (20, 150)
        if route != "grassroots" or flavour != N or rng.random() < 0.4:
            if rng.random() < 0.15:
                life.session(life.later(*hours), "adjourned")
            life.session(life.later(*hours), "agreed")
            written = rng.random() < (0.45 if life.amount or route == "judicial" else 0.1)
            if written:
                life.agreement(life.later(0.3, 1, working=False))
                life.sign(life.later(0.1, 0.3, working=False))
                life.resolve(life.later(0.5, 6), late=late)
            else:
                life.resolve(life.later(0.5, 30), late=late)
        else:
            life.resolve(life.later(24, 120), late=late)

    def pick_tale(self, place: Place, flavour: str, casts: tuple = ()) -> Tale:
        pools = {N: GREEN_TALES, Y: YELLOW_TALES, R: RED_TALES}
        for pool in (pools[flavour], GREEN_TALES):
            fitting = [
                t
                for t in pool
                if (not t.kinds or place.kind in t.kinds) and (not casts or t.cast in casts)
            ]
            if fitting:
                return self.rng.choice(fitting)
        raise LookupError(f"no tale fits {place.grid.code}")

    def case_pool(self) -> list[dict]:
        """Handled dispute incidents that a law-enforcement case could turn into a dispute,
        with the moment of their last timeline entry (the conversion comes after it)."""
        rows = (
            Incident.objects.filter(
                category__code__startswith="06",
                grid__isnull=False,
                status__in=(IncidentStatus.RESOLVED, IncidentStatus.CLOSED),
                outcome__in=CASE_OUTCOMES,
            )
            .annotate(last=Max("events__at"))
            .order_by("code")
            .values("code", "category__code", "grid__code", "description", "outcome_note", "last")
        )
        return [r for r in rows if r["last"] is not None and r["grid__code"] in self.places]

    def case_life(self, row: dict, when: datetime, narrative: str = "") -> Life:
        type_, label, issue, cast = CASE_TYPES[row["category__code"][:4]]
        place = self.places[row["grid__code"]]
        tale = Tale(type_, label, "", cast=cast)
        text = narrative or (
            f"{row['description']}。民警到场处置，{row['outcome_note']}，但双方对{issue}仍有"
            "较大分歧，转为矛盾纠纷跟踪化解。"
        )
        life = self.life(place, tale, "case", incident=row["code"], narrative=text)
        life.start(when)
        return life

    def history(self, count: int, years: int, pool: list) -> None:
        """`count` lives reported over the last `years`, each settled the usual way; the case
        channel converts incidents from `pool`."""
        rng = self.rng
        codes = sorted(self.places)
        weights = [PLACE_WEIGHT[self.places[c].kind] for c in codes]
        span = timedelta(days=365 * years)
        citizens = [u for u in self.citizens if u.username != "citizen1"]
        pool = list(pool)
        rng.shuffle(pool)
        for _ in range(count):
            channel = rng.choices(*zip(*CHANNEL_MIX, strict=True))[0]
            flavour = rng.choices(*zip(*FLAVOUR_MIX, strict=True))[0]
            if channel == "case":
                row = pool.pop() if pool else None
                if row is not None:
                    when = self.working(row["last"] + timedelta(hours=rng.uniform(2, 30)))
                    life = self.case_life(row, when)
                    if life.steps:
                        self.settle(life, N if len(life.parties) < 5 else Y)
                    continue
                channel = "community_work"
            place = self.places[rng.choices(codes, weights)[0]]
            when = self.working(
                self.now - span + timedelta(seconds=rng.uniform(0, span.total_seconds()))
            )
            requester = rng.choice(citizens) if channel == "citizen_request" else None
            tale = self.pick_tale(place, flavour, REQUEST_CASTS if requester else ())
            life = self.life(place, tale, channel, requester=requester)
            if life.start(when):
                self.settle(life, flavour)

    # Moments and places the showcase picks --------------------------------------------------------

    def today(self) -> datetime:
        """A moment earlier today (local), for the reviews already done today."""
        local = timezone.localtime(self.now, self.tz)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return self.now - min(timedelta(minutes=90), (self.now - midnight) / 2)

    def where(self, town: int, kind: str, n: int = 0) -> Place:
        """The n-th grid of a kind in a town (by code), so the showcase spreads over the county."""
        found = sorted(
            (p for p in self.places.values() if p.plan.town == town and p.kind == kind),
            key=lambda p: p.grid.code,
        )
        return found[n % len(found)]
