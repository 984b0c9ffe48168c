"""Demo disputes (矛盾纠纷) for the demo county: two years of screening, routing, mediation,
tracked orders and return visits, ending in a board with open cases in every colour.

Everything goes through `pingan.disputes.services` with a planned `now=` for each step, so
timelines, the StatCell statistics, orders, visits and messages are exactly what the services
would have produced had the people done it on those days. Each dispute is a *life*: a list of
timed steps, cut at `now` (a dispute whose next step lies in the future is still open). The
steps of all lives run in one clock order, with the periodic sweeps (overdue orders, the "no
progress" rule) called at the simulated moments a running sweeper would have called them.

Two sets of lives: a fixed *showcase* that guarantees what the demo must show right now (a red
case and a due visit for officer1, an order that has escalated, overrides, reviews, pending
requests ...), and a seeded *history* whose size follows the incident history's density.

Side effects of history: the services push every step after commit and queue step messages.
Nobody watched these steps live, so the pushes and delivery tasks registered during generation
are dropped, and the queued messages are recorded as sent at their simulated moment (backend
"demo"), so neither the task worker nor the message sweeper sends hundreds of them on start.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dtime

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.db.models.signals import post_save
from django.utils import timezone
from stdnum.cn import ric, uscc

from pingan.accounts.models import User
from pingan.disputes import services
from pingan.disputes.models import (
    OPEN_STATUSES,
    ROUTE_BODIES,
    Dispute,
    Party,
    PartyKind,
    PartyRole,
    Risk,
    RiskRule,
    Route,
    RouteBody,
    SessionOutcome,
    SignerRole,
    Vulnerability,
)
from pingan.disputes.risk import ensure_default_rules
from pingan.disputes.services import PartyInput
from pingan.incidents.models import Incident
from pingan.incidents.models import Status as IncidentStatus
from pingan.notify.models import MessageStatus, OutboundMessage
from pingan.orgs.models import Grid

from .dispute_tales import (
    CADRE_NOTES,
    CASE_OUTCOMES,
    CASE_TYPES,
    COMMUNITY_NOTES,
    COMPANY_BRANDS,
    COMPANY_TRADES,
    DECLINE_REASONS,
    GENERIC_TERMS,
    GREEN_TALES,
    GRID_WORKER_NOTES,
    HOLD_NOTES,
    ONLINE_SOURCES,
    ONLINE_THREAT_TALE,
    ORDER_PLANS,
    OTHER_DEPARTMENTS,
    OVERRIDE_DOWN,
    OVERRIDE_UP,
    OVERTIME_TALE,
    PARK,
    RED_TALES,
    RELAPSE_NOTES,
    REPEAT_TALE,
    REROUTES,
    RESOLVE_NOTES,
    REVIEW_NOTES,
    ROUTE_MIX,
    RURAL,
    SCENIC,
    SESSION_NOTES,
    SHOP_TRADES,
    SMOKE_TALE,
    URBAN,
    YELLOW_TALES,
    T,
    Tale,
    green_tale,
    money,
)

# History lives per year at the default incident density (14 a day); scaled with the density.
HISTORY_PER_YEAR = 130
DEFAULT_DENSITY = 14.0
# Steps are never planned closer to `now` than this.
SAFETY = timedelta(minutes=2)
# A running sweeper escalates an order this long after its deadline passes.
SWEEP_DELAY = timedelta(minutes=10)
DISPATCH_UID = "pingan.demo.disputes.date-messages"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
N, Y, R = "green", "yellow", "red"


def _demo():
    """The demo generator (its plan, towns and name stream). Imported late: it imports us."""
    from pingan.demo import generate

    return generate


# --- people, places and receiving bodies ------------------------------------------------------


@dataclass
class Place:
    """A grid and the people who work it."""

    grid: Grid
    plan: object  # generate.GridPlan
    officer: User
    aux: User
    workers: list
    chief: User

    @property
    def town(self):
        return _demo().TOWNS[self.plan.town]

    @property
    def kind(self) -> str:
        return self.plan.kind

    @property
    def short_name(self) -> str:
        """The village or community as people name it: 大坑村, 东门社区, 城东工业园."""
        if self.kind == RURAL:
            return f"{self.plan.short}村"
        if self.kind == URBAN:
            short = f"{self.town.short}圩镇" if self.plan.short == "圩镇" else self.plan.short
            return f"{short}社区"
        return self.plan.short

    @property
    def committee(self) -> str:
        """大坑村村民委员会, 东门社区居民委员会, 城东工业园管理委员会."""
        suffix = {RURAL: "村民委员会", URBAN: "居民委员会"}.get(self.kind, "管理委员会")
        return f"{self.short_name}{suffix}"


class Cast:
    """The parties of a dispute: names from the demo's name stream, valid ID numbers for some,
    unique mobile numbers for most, and a few who asked to receive progress messages."""

    def __init__(self, rng: random.Random, names, today):
        self.rng = rng
        self.names = names
        self.today = today

    def person(
        self,
        place: Place,
        role: str,
        *,
        surname: str = "",
        age: tuple = (25, 64),
        vulnerability: str = "",
        with_id: float = 0.55,
        with_phone: float = 0.85,
        known: bool = False,
    ) -> PartyInput:
        """`known`: always recorded with an ID number, so repeats between them are found."""
        rng = self.rng
        name = self.names.person()
        if surname:
            name = surname + name[1:]
        id_number = self._id_number(rng.randint(*age)) if known or rng.random() < with_id else ""
        phone = self.names.phone() if rng.random() < with_phone else ""
        return PartyInput(
            name=name,
            kind=PartyKind.PERSON,
            role=role,
            id_number=id_number,
            phone=phone,
            address=_demo().address_for(place.grid.name, place.kind, rng),
            vulnerability=vulnerability,
            notify=bool(phone) and rng.random() < 0.06,
        )

    def organisation(self, role: str, name: str) -> PartyInput:
        rng = self.rng
        body = "91360827" + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
        return PartyInput(
            name=name,
            kind=PartyKind.ORGANISATION,
            role=role,
            id_number=body + uscc.calc_check_digit(body) if rng.random() < 0.6 else "",
            phone=self.names.phone() if rng.random() < 0.7 else "",
        )

    def _id_number(self, age: int) -> str:
        rng = self.rng
        born = self.today - timedelta(days=365.25 * age + rng.randint(0, 364))
        # The county's division code changed in 2000; older residents keep the old one.
        region = "360827" if born.year >= 2000 else "362427"
        body = f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"
        return body + ric.calc_check_digit(body + "0")

    def company(self) -> str:
        brand = "".join(self.rng.sample(COMPANY_BRANDS, 2))
        return f"平安县{brand}{self.rng.choice(COMPANY_TRADES)}"

    def shop(self, place: Place) -> str:
        brand = "".join(self.rng.sample(COMPANY_BRANDS, 2))
        return f"{place.short_name}{brand}{self.rng.choice(SHOP_TRADES)}"

    def build(self, tale: Tale, place: Place) -> tuple[list[PartyInput], dict]:
        """The parties a tale needs, and the names its text refers to."""
        rng = self.rng
        A, B, K = PartyRole.APPLICANT, PartyRole.RESPONDENT, PartyRole.OTHER
        cast = tale.cast
        words = {"place": place.short_name}
        parties: list[PartyInput] = []
        if cast in ("pair", "couple", "kin"):
            a = self.person(place, A)
            b = self.person(place, B, surname=a.name[0] if cast == "kin" else "")
            parties = [a, b]
        elif cast in ("elder", "elder_pair"):
            age = rng.randint(72, 88)
            a = self.person(
                place,
                A,
                age=(age, age),
                vulnerability=Vulnerability.ELDERLY,
                with_id=0.8,
                with_phone=0.4,
            )
            words["age"] = str(age)
            if cast == "elder":
                sons = [self.person(place, B, surname=a.name[0], age=(40, 58)) for _ in range(2)]
                parties = [a, *sons]
                words["c"] = sons[1].name
                b = sons[0]
            else:
                b = self.person(place, B)
                parties = [a, b]
        elif cast in ("minor", "minor_firm"):
            a = self.person(place, A, age=(30, 45))
            kage = rng.randint(7, 15)
            k = self.person(
                place,
                K,
                surname=a.name[0],
                age=(kage, kage),
                vulnerability=Vulnerability.MINOR,
                with_id=0.5,
                with_phone=0.0,
            )
            words.update(k=k.name, kage=str(kage))
            if cast == "minor":
                b = self.person(place, B)
                parties = [a, k, b]
            else:
                words["o"] = f"{place.short_name}{''.join(rng.sample(COMPANY_BRANDS, 2))}托管班"
                parties = [a, k, self.organisation(B, words["o"])]
                b = None
        elif cast in ("firm", "shop"):
            a = self.person(place, A)
            words["o"] = self.company() if cast == "firm" else self.shop(place)
            parties = [a, self.organisation(B, words["o"])]
            b = None
        elif cast == "villagers":
            a = self.person(place, A)
            words["o"] = self.company()
            others = [self.person(place, A) for _ in range(2)]
            parties = [a, *others, self.organisation(B, words["o"])]
            b = None
        elif cast == "village_firm":
            words["o"] = self.company()
            committee = self.organisation(A, place.committee)
            a = committee
            parties = [committee, self.organisation(B, words["o"])]
            b = None
        elif cast in ("crew", "crew_village"):
            a = self.person(place, A)
            crew = [self.person(place, A) for _ in range(rng.randint(4, 6))]
            b = self.person(place, B)
            parties = [a, *crew, b]
            if cast == "crew":
                words["o"] = self.company()
                parties.append(self.organisation(B, words["o"]))
            words["n"] = str(len(crew) + 1 + rng.randint(3, 14))
        else:
            raise ValueError(f"unknown cast {cast}")
        words["a"] = a.name
        if b is not None:
            words["b"] = b.name
        return parties, words


class Bodies:
    """Receiving bodies by grid and kind, each with one steady contact person."""

    def __init__(self, rng: random.Random, names):
        self.rng = rng
        self.names = names
        self.contacts: dict[str, tuple[str, str]] = {}

    def name(self, place: Place, kind: str, type_: str) -> str:
        town = place.town
        if kind == RouteBody.VILLAGE_COMMITTEE:
            return place.committee
        if kind == RouteBody.GRID_STATION:
            return place.grid.org.name
        if kind == RouteBody.MEDIATION_COMMITTEE:
            if place.kind == RURAL and self.rng.random() < 0.5:
                return f"{place.short_name}人民调解委员会"
            return f"{town.name}人民调解委员会"
        if kind == RouteBody.SHARED_COURT:
            return f"{town.name}共享法庭"
        if kind == RouteBody.JUDICIAL_OFFICE:
            return f"{town.short}司法所"
        if kind == RouteBody.LABOUR:
            return "县人社局劳动保障监察大队"
        if kind == RouteBody.MARKET:
            return f"县市场监管局{town.short}市场监管所"
        if kind == RouteBody.HOUSING:
            if type_ == T.LAND_HOUSING and place.kind == RURAL:
                return f"县自然资源局{town.short}自然资源所"
            return "县住建局"
        return self.rng.choice(OTHER_DEPARTMENTS.get(type_, ("县信访局",)))

    def contact(self, place: Place, kind: str, body: str) -> tuple[str, str]:
        if kind == RouteBody.GRID_STATION:
            return place.officer.display_name, place.officer.phone
        if body not in self.contacts:
            self.contacts[body] = (self.names.person(), self.names.phone())
        return self.contacts[body]

    @staticmethod
    def room(kind: str, body: str) -> str:
        """Where a mediation session sits."""
        if kind == RouteBody.SHARED_COURT:
            return f"{body}（线上连线法官）"
        if kind in (RouteBody.HOUSING, RouteBody.OTHER_DEPARTMENT, RouteBody.LABOUR):
            return f"{body}会议室"
        return f"{body}调解室"


# --- one dispute's life ------------------------------------------------------------------------


class _Missing(dict):
    """For `str.format_map`: a placeholder the cast did not fill (no {c} in a pair) reads as
    empty instead of failing."""

    def __missing__(self, key):
        return ""


@dataclass
class Life:
    """One dispute's steps, planned in time order and cut where they would pass `now`.

    The step methods take the moment the step happens, record what the dispute will look like
    after it (status, route, order) and append a closure that performs it through the services
    when the run reaches that moment. A step past `now` ends the plan: the dispute stays as the
    last step before it left it.
    """

    run: Run
    key: int
    place: Place
    type: str
    title: str
    narrative: str
    parties: list
    words: dict
    channel: str
    terms: str = ""
    amount: int | None = None
    source_note: str = ""
    address: str = ""
    filer: User | None = None
    requester: User | None = None
    incident: str = ""
    steps: list = field(default_factory=list)
    t: datetime | None = None
    cut: bool = False
    state: str = ""
    last_progress: datetime | None = None
    route_kind: str = ""
    body: str = ""
    contact: tuple = ("", "")
    order_at: datetime | None = None
    # A one-item list the order step reads when it runs: `resolve` may fill it in later.
    order_deadline: list = field(default_factory=lambda: [None])
    order_active: bool = False
    order_windows: list = field(default_factory=list)
    resolved_at: datetime | None = None
    # Filled in while the run performs the steps.
    code: str = ""
    session_id: int | None = None
    agreement_number: str = ""

    @property
    def officer(self) -> User:
        return self.place.officer

    @property
    def is_open(self) -> bool:
        return self.state in ("pending", "open")

    def later(self, low_hours: float, high_hours: float, *, working: bool = True) -> datetime:
        # A life that never started has nothing to follow: anything after it falls past `now`.
        base = self.t or self.run.limit
        moment = base + timedelta(hours=self.run.rng.uniform(low_hours, high_hours))
        return self.run.working(moment) if working else moment

    def _add(self, when: datetime, action, *, progress: bool = True) -> bool:
        if self.cut or when > self.run.limit or (self.t is not None and when <= self.t):
            self.cut = True
            return False
        if progress:
            self._watch_stale(when)
            self.last_progress = when
        self.t = when
        self.steps.append((when, action))
        return True

    def _watch_stale(self, until: datetime) -> None:
        """An open dispute left alone past the "no progress" limit turns yellow when the sweeper
        next runs: plan that sweep at the moment it would have happened."""
        stale = self.run.stale
        if stale is None or not self.is_open or self.last_progress is None:
            return
        due = self.last_progress + stale + timedelta(hours=1)
        if due < until and due <= self.run.limit:
            self.run.reassess_at.add(due)

    # Intake ------------------------------------------------------------------------------------

    def start(self, when: datetime) -> bool:
        def act(at):
            if self.channel == "citizen_request":
                dispute = services.request_mediation(
                    self.requester,
                    type=self.type,
                    title=self.title,
                    narrative=self.narrative,
                    other_parties=self.parties,
                    grid_code=self.place.grid.code,
                    address=self.address,
                    now=at,
                )
            elif self.channel == "case":
                dispute = services.convert_incident(
                    self.officer,
                    self.incident,
                    type=self.type,
                    title=self.title,
                    narrative=self.narrative,
                    parties=self.parties,
                    now=at,
                )
            else:
                dispute = services.file_dispute(
                    self.filer,
                    type=self.type,
                    channel=self.channel,
                    title=self.title,
                    narrative=self.narrative,
                    parties=self.parties,
                    grid_code=self.place.grid.code,
                    amount_yuan=self.amount,
                    address=self.address,
                    source_note=self.source_note,
                    now=at,
                )
            self.code = dispute.code

        if self._add(when, act):
            self.state = "pending" if self.channel == "citizen_request" else "open"
            return True
        return False

    def accept(self, when: datetime) -> bool:
        if self._add(when, lambda at: services.accept_request(self.officer, self.code, now=at)):
            self.state = "open"
            return True
        return False

    def decline(self, when: datetime, reason: str) -> bool:
        def act(at):
            services.decline_request(self.officer, self.code, reason, now=at)

        if self._add(when, act):
            self.state = "declined"
            return True
        return False

    # Routes, orders, notes -----------------------------------------------------------------------

    def route(self, when: datetime, route: str, kind: str, reason: str = "") -> bool:
        body = self.run.bodies.name(self.place, kind, self.type)
        contact = self.run.bodies.contact(self.place, kind, body)
        reason = reason.format(body=body)

        def act(at):
            services.set_route(
                self.officer,
                self.code,
                route=route,
                body_kind=kind,
                body_name=body,
                contact_name=contact[0],
                contact_phone=contact[1],
                reason=reason,
                now=at,
            )

        if self._add(when, act):
            self.route_kind, self.body, self.contact = kind, body, contact
            return True
        return False

    def order(self, when: datetime, deadline: datetime | None = None) -> bool:
        """The station chief makes it a tracked order owned by the grid's officer. Without a
        deadline, `resolve` picks one that the resolution meets (or, for a late one, misses)."""
        plan = self.run.rng.choice(ORDER_PLANS)
        slot = [deadline]

        def act(at):
            services.open_order(
                self.place.chief, self.code, owner=self.officer, deadline=slot[0], plan=plan, now=at
            )

        if self._add(when, act):
            self.order_at, self.order_deadline, self.order_active = when, slot, True
            return True
        return False

    def note(self, when: datetime, message: str) -> bool:
        return self._add(
            when, lambda at: services.add_note(self.officer, self.code, message, now=at)
        )

    def override(self, when: datetime, level: str, reason: str) -> bool:
        return self._add(
            when,
            lambda at: services.override_risk(self.officer, self.code, level, reason, now=at),
        )

    def review(self, when: datetime, note: str) -> bool:
        # Looking at the daily list is not progress on the dispute itself.
        return self._add(
            when,
            lambda at: services.review(self.place.chief, self.code, note, now=at),
            progress=False,
        )

    # Mediation -----------------------------------------------------------------------------------

    def session(self, when: datetime, outcome: str) -> bool:
        rng = self.run.rng
        held = when - timedelta(hours=rng.uniform(0.5, 2.5))
        room = Bodies.room(self.route_kind, self.body) if self.body else "警务室调解室"
        other = self.words.get("b") or self.words.get("o", "")
        mediator = f"{self.body}{self.contact[0]}；" if self.contact[0] else ""
        participants = (
            f"申请人{self.words['a']}、被申请人{other}；{mediator}"
            f"{self.officer.get_role_display()}{self.officer.display_name}"
        )

        def act(at):
            session = services.record_session(
                self.officer,
                self.code,
                held_at=held,
                place=room,
                participants=participants,
                outcome=outcome,
                notes=SESSION_NOTES[outcome],
                now=at,
            )
            self.session_id = session.pk

        return self._add(when, act)

    def agreement(self, when: datetime) -> bool:
        rng = self.run.rng
        terms = (self.terms or GENERIC_TERMS[self.type]).format_map(_Missing(self.words))
        performance = rng.choice(
            ("协议签订之日起十日内履行完毕", "按协议约定分期履行", "当场履行完毕")
        )
        body = self.body or self.place.committee

        def act(at):
            agreement = services.draft_agreement(
                self.officer,
                self.code,
                facts=self.narrative,
                terms=terms,
                mediator_body=body,
                performance=performance,
                session_id=self.session_id,
                now=at,
            )
            self.agreement_number = agreement.number

        return self._add(when, act)

    def sign(self, when: datetime, *, parties: int = 2, mediator: bool = True) -> bool:
        """The first applicant and respondent sign, then the mediator; minutes apart."""
        for index in range(parties):

            def party(at, index=index):
                rows = Party.objects.filter(dispute__code=self.code).values_list("pk", "role")
                first = {}
                for pk, role in rows.order_by("pk"):
                    first.setdefault(role, pk)
                signer = [first.get(PartyRole.APPLICANT), first.get(PartyRole.RESPONDENT)][index]
                if signer is not None:
                    services.sign_agreement(
                        self.officer,
                        self.agreement_number,
                        role=SignerRole.PARTY,
                        party_id=signer,
                        now=at,
                    )

            if not self._add(when, party):
                return False
            when += timedelta(minutes=self.run.rng.uniform(3, 12))
        if mediator and self.contact[0]:
            name = self.contact[0]
            return self._add(
                when,
                lambda at: services.sign_agreement(
                    self.officer, self.agreement_number, role=SignerRole.MEDIATOR, name=name, now=at
                ),
            )
        return True

    # Resolution and return visits -------------------------------------------------------------

    def resolve(self, when: datetime, *, late: bool = False) -> bool:
        rng = self.run.rng
        note = rng.choice(RESOLVE_NOTES).format(body=self.body or self.place.committee)
        done = self._add(when, lambda at: services.resolve(self.officer, self.code, note, now=at))
        if self.order_active:
            if self.order_deadline[0] is None:
                # On time: a deadline a few days after the planned resolution; late: before it.
                shift = timedelta(days=rng.uniform(1, 4))
                deadline = when - shift if late else when + shift
                self.order_deadline[0] = max(deadline, self.order_at + timedelta(days=2)).replace(
                    minute=0, second=0, microsecond=0
                )
            self.order_windows.append((self.order_deadline[0], when if done else None))
            self.order_active = False
        if done:
            self.state, self.resolved_at = "resolved", when
        return done

    def visits(self, holds: tuple = ()) -> bool:
        """The return visits the settings ask for; `holds[i]` False means the i-th visit finds a
        relapse (the dispute reopens and the remaining visits are cancelled)."""
        rng = self.run.rng
        if self.cut or self.state != "resolved":
            return False
        for index, days in enumerate(settings.DISPUTE_RETURN_VISIT_DAYS):
            when = self.run.working(
                self.resolved_at + timedelta(days=days, hours=rng.uniform(2, 48))
            )
            ok = holds[index] if index < len(holds) else True
            note = rng.choice(HOLD_NOTES if ok else RELAPSE_NOTES)
            visitor = self.place.aux if rng.random() < 0.5 else self.officer

            def act(at, ok=ok, note=note, visitor=visitor):
                services.record_visit(visitor, self.code, holds=ok, note=note, now=at)

            if not self._add(when, act):
                return False
            if not ok:
                self.state = "open"
                if self.order_windows:  # the service restarts the order with a short deadline
                    self.order_at, self.order_active = when, True
                    restart = when + timedelta(days=settings.DISPUTE_RELAPSE_ORDER_DAYS)
                    self.order_deadline = [restart]
                return True
        self.state = "closed"
        return True

    def finish(self) -> None:
        """Plan the sweeps a running system would have made for this dispute up to `now`."""
        run = self.run
        if self.is_open:
            self._watch_stale(run.limit)
        if self.order_active:
            if self.order_deadline[0] is None:
                self.order_deadline[0] = self.order_at + timedelta(days=10)
            self.order_windows.append((self.order_deadline[0], None))
            self.order_active = False
        for deadline, end in self.order_windows:
            moment = deadline + SWEEP_DELAY
            while moment <= run.limit and (end is None or moment < end):
                run.sweeps.add(moment)
                moment += run.escalation


# --- planning and running ------------------------------------------------------------------------

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


class Run:
    """Plans every life, then performs all their steps in one clock order."""

    def __init__(self, structure, seed: int, now):
        self.structure = structure
        self.rng = random.Random(seed * 7919 + 2)
        self.now = now
        self.limit = now - SAFETY
        self.tz = timezone.get_default_timezone()
        names = _demo()._Names(self.rng)
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
            address=_demo().address_for(place.grid.name, place.kind, rng),
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

    # Running ---------------------------------------------------------------------------------

    def perform(self) -> None:
        """Every step of every life, the planned sweeps in between, all in clock order. The
        messages a step queues are dated to its moment and recorded as sent (module notes)."""
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

    # The showcase ----------------------------------------------------------------------------

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

    def showcase(self, pool: list) -> None:
        """What the demo must show right now, in fixed places at fixed distances from `now`."""
        self._officer1()
        self._citizen1()
        self._orders_and_overrides()
        self._yellow_for_each_reason()
        self._red_and_case(pool)
        self._requests_and_relapses()
        self._in_progress()

    def _officer1(self) -> None:
        """officer1's own cases: a red one tracked as an order, a yellow one reviewed today,
        ordinary ones in progress, and one whose 7-day return visit is due."""
        users, ago = self.structure.users, self.ago
        grid1 = users["grid1"]
        home, near = self.home, self.near
        life = self.life(home, RED_TALES[0], "cadre_grid", filer=grid1)
        life.start(ago(1, 3))
        life.route(ago(1, 1), Route.GRASSROOTS, RouteBody.GRID_STATION)
        life.order(ago(0, 20), deadline=ago(-5))
        life.session(ago(0, 5), SessionOutcome.ADJOURNED)
        life = self.life(near[0], YELLOW_TALES[0], "community_work", filer=home.officer)
        life.start(ago(6))
        life.route(ago(5, 20), Route.GRASSROOTS, RouteBody.VILLAGE_COMMITTEE)
        life.session(ago(2), SessionOutcome.PARTIAL)
        life.review(self.today(), REVIEW_NOTES[1])
        life = self.life(home, green_tale("楼上漏水纠纷"), "cadre_grid", filer=grid1)
        life.start(ago(3, 2))
        life.route(ago(2, 22), Route.GRASSROOTS, RouteBody.VILLAGE_COMMITTEE)
        life = self.life(near[-1], green_tale("预付卡退费纠纷"), "online", filer=home.officer)
        life.start(ago(2, 5))
        life.route(ago(2, 1), Route.DEPARTMENTAL, RouteBody.MARKET)
        life = self.life(home, green_tale("楼道堆放杂物纠纷"), "cadre_grid", filer=grid1)
        life.start(ago(12))
        life.route(ago(11, 20), Route.GRASSROOTS, RouteBody.VILLAGE_COMMITTEE)
        life.session(ago(10), SessionOutcome.AGREED)
        life.resolve(ago(9, 22))

    def _citizen1(self) -> None:
        """citizen1's requests: one settled months ago, one being mediated, one waiting."""
        citizen1, ago = self.structure.users["citizen1"], self.ago
        life = self.life(
            self.near[0], green_tale("小区停车位纠纷"), "citizen_request", requester=citizen1
        )
        life.start(ago(130))
        life.accept(ago(129, 20))
        life.route(ago(129, 2), Route.GRASSROOTS, RouteBody.VILLAGE_COMMITTEE)
        life.session(ago(126), SessionOutcome.AGREED)
        life.resolve(ago(125, 22))
        life.visits()
        life = self.life(
            self.home, green_tale("树木遮挡采光纠纷"), "citizen_request", requester=citizen1
        )
        life.start(ago(8))
        life.accept(ago(7, 20))
        life.route(ago(7, 2), Route.JUDICIAL, RouteBody.MEDIATION_COMMITTEE)
        life.session(ago(3), SessionOutcome.ADJOURNED)
        self.life(self.home, SMOKE_TALE, "citizen_request", requester=citizen1).start(ago(0, 5))

    def _orders_and_overrides(self) -> None:
        ago, village = self.ago, self.village
        # A work crew's unpaid wages: rerouted to the labour inspectors; the order is overdue
        # and the sweeper has escalated it one level (office → station).
        life = self.life(self.park, YELLOW_TALES[4], "cadre_grid")
        life.start(ago(12))
        life.route(ago(11, 20), Route.GRASSROOTS, RouteBody.GRID_STATION)
        life.session(ago(10), SessionOutcome.FAILED)
        life.route(ago(9, 22), Route.DEPARTMENTAL, RouteBody.LABOUR, REROUTES["labour"])
        life.order(ago(9, 20), deadline=ago(1, 12))
        life.session(ago(4), SessionOutcome.PARTIAL)
        # Months ago: a threat of arson; its order finished late after one escalation.
        life = self.life(village(1), RED_TALES[1], "cadre_grid")
        life.start(ago(75))
        life.route(ago(74, 20), Route.JUDICIAL, RouteBody.JUDICIAL_OFFICE)
        life.order(ago(74), deadline=ago(66))
        life.session(ago(71), SessionOutcome.ADJOURNED)
        life.session(ago(64, 6), SessionOutcome.AGREED)
        life.agreement(ago(64, 5))
        life.sign(ago(64, 4))
        life.resolve(ago(64, 2))
        life.visits()
        # A figure of speech the keyword rule took for a threat, turned down to yellow; a
        # quiet case the grid worker knows is about to blow up, turned up to red.
        place = village(2)
        life = self.life(place, OVERTIME_TALE, "community_work", filer=place.officer)
        life.start(ago(5))
        life.override(ago(4, 20), Risk.YELLOW, OVERRIDE_DOWN)
        life.route(ago(4, 18), Route.DEPARTMENTAL, RouteBody.LABOUR)
        life = self.life(village(3), green_tale("修建围墙占用通道纠纷"), "cadre_grid")
        life.start(ago(4, 6))
        life.route(ago(4), Route.GRASSROOTS, RouteBody.VILLAGE_COMMITTEE)
        life.override(ago(2), Risk.RED, OVERRIDE_UP)

    def _yellow_for_each_reason(self) -> None:
        """Yellow for a repeat, a child, a large amount and weeks without progress (the elderly
        father and the work crew are yellow too)."""
        ago, village, community = self.ago, self.village, self.community
        place = village(4)
        roles = (PartyRole.APPLICANT, PartyRole.RESPONDENT)
        pair = [self.cast.person(place, role, known=True) for role in roles]
        words = {"a": pair[0].name, "b": pair[1].name, "place": place.short_name}
        tale = green_tale("排水沟堵塞引发邻里纠纷")
        life = self.life(place, tale, "cadre_grid", parties=(pair, words))
        life.start(ago(72))
        life.route(ago(71, 20), Route.GRASSROOTS, RouteBody.VILLAGE_COMMITTEE)
        life.session(ago(69), SessionOutcome.AGREED)
        life.resolve(ago(68, 22))
        life.visits()
        life = self.life(place, REPEAT_TALE, "cadre_grid", parties=(pair, words))
        life.start(ago(4))
        life.route(ago(3, 20), Route.GRASSROOTS, RouteBody.VILLAGE_COMMITTEE)
        life = self.life(community(5), YELLOW_TALES[2], "community_work")
        life.start(ago(7))
        life.route(ago(6, 20), Route.JUDICIAL, RouteBody.MEDIATION_COMMITTEE)
        life.session(ago(3), SessionOutcome.ADJOURNED)
        life.review(self.today() - timedelta(minutes=20), REVIEW_NOTES[0])
        life = self.life(village(5), YELLOW_TALES[6], "community_work")
        life.start(ago(18))
        life.route(ago(17, 20), Route.JUDICIAL, RouteBody.SHARED_COURT)
        life.session(ago(12), SessionOutcome.ADJOURNED)
        life.note(ago(6), "已委托第三方鉴定机构对房屋裂缝进行鉴定，等待鉴定结论")
        life = self.life(village(1, 1), green_tale("山林权属纠纷"), "cadre_grid")
        life.start(ago(45))
        life.route(ago(44, 20), Route.DEPARTMENTAL, RouteBody.OTHER_DEPARTMENT)
        life.session(ago(39), SessionOutcome.FAILED)
        life.note(ago(19), "已函请主管部门派员勘界，等待勘界结果")

    def _red_and_case(self, pool: list) -> None:
        """A threat of self-harm (tracked), a threat posted online, and a handled call that
        flared up again: converted from the incident, red."""
        ago = self.ago
        life = self.life(self.village(3, 1), RED_TALES[4], "community_work")
        life.start(ago(3))
        life.route(ago(2, 20), Route.JUDICIAL, RouteBody.JUDICIAL_OFFICE)
        life.order(ago(2, 18), deadline=ago(-10))
        life.session(ago(1), SessionOutcome.ADJOURNED)
        life = self.life(self.community(2), ONLINE_THREAT_TALE, "online")
        life.start(ago(0, 20))
        life.route(ago(0, 17), Route.DEPARTMENTAL, RouteBody.LABOUR)
        handled = [r for r in pool if r["last"] <= self.now - timedelta(days=1)]
        if not handled:
            return  # no incident history to convert
        row = handled[-1]
        pool.remove(row)
        if row["last"] < self.now - timedelta(days=20):
            # A thin history has no call from the last weeks: convert the latest one, settled.
            life = self.case_life(row, self.working(row["last"] + timedelta(hours=3)))
            self.settle(life, N)
            return
        text = (
            f"{row['description']}。民警到场处置，{row['outcome_note']}。事后回访得知，对方仍扬言"
            "要拿菜刀上门算账，矛盾有激化风险。"
        )
        life = self.case_life(row, row["last"] + timedelta(hours=3), narrative=text)
        life.route(life.later(1, 6), Route.GRASSROOTS, RouteBody.GRID_STATION)
        life.session(life.later(24, 72), SessionOutcome.ADJOURNED)

    def _requests_and_relapses(self) -> None:
        """Residents waiting for an answer, two requests declined, a loan repaid in part that
        the 7-day visit found again (reopened), and last year's relapse settled for good."""
        users, ago, village, community = (
            self.structure.users,
            self.ago,
            self.village,
            self.community,
        )
        for n, (place, hours) in enumerate(((village(2, 1), 26), (community(1), 2)), start=2):
            tale = self.pick_tale(place, N, REQUEST_CASTS)
            life = self.life(place, tale, "citizen_request", requester=users[f"citizen{n}"])
            life.start(ago(0, hours))
        for n, (place, days) in enumerate(((village(4, 1), 200), (community(3), 30)), start=4):
            tale = self.pick_tale(place, N, REQUEST_CASTS)
            life = self.life(place, tale, "citizen_request", requester=users[f"citizen{n}"])
            life.start(ago(days))
            life.decline(ago(days - 1), DECLINE_REASONS[n - 4])
        life = self.life(village(5, 1), green_tale("民间借贷纠纷"), "community_work")
        life.start(ago(25))
        life.route(ago(24, 20), Route.JUDICIAL, RouteBody.MEDIATION_COMMITTEE)
        life.session(ago(22), SessionOutcome.AGREED)
        life.agreement(ago(21, 23))
        life.sign(ago(21, 22))
        life.resolve(ago(21, 20))
        life.visits(holds=(False,))
        life.session(ago(2), SessionOutcome.ADJOURNED)
        life = self.life(community(4), green_tale("蔬菜货款拖欠纠纷"), "community_work")
        life.start(ago(300))
        life.route(ago(299, 20), Route.JUDICIAL, RouteBody.MEDIATION_COMMITTEE)
        life.session(ago(296), SessionOutcome.AGREED)
        life.resolve(ago(295, 22))
        life.visits(holds=(False,))
        life.session(life.later(48, 100), SessionOutcome.AGREED)
        life.resolve(life.later(2, 20))
        life.visits()

    def _in_progress(self) -> None:
        """Ordinary disputes across the county, some filed by the grid workers: just filed,
        routed, mediated, an agreement waiting for the other side's signature; and two
        resolved days ago whose return visits are not due yet."""
        ago, village, community = self.ago, self.village, self.community
        for place, title in (
            (village(0), "承包地田埂界址纠纷"),
            (community(0, 1), "犬只吠叫扰民纠纷"),
        ):
            life = self.life(place, green_tale(title), "community_work")
            life.start(ago(14))
            life.route(ago(13, 20), Route.GRASSROOTS, RouteBody.VILLAGE_COMMITTEE)
            life.session(ago(6), SessionOutcome.AGREED)
            life.resolve(ago(5, 22))
        workers = [p for p in self.ordered if p.workers and p is not self.home]
        # Some have dragged on for weeks, mediated every ten days or so (never long enough
        # without progress to turn yellow); the odd ones end with an agreement half signed.
        rows = (
            (workers[0], "装修噪声扰民纠纷", "cadre_grid", RouteBody.VILLAGE_COMMITTEE, 2),
            (workers[1], "房屋租赁押金纠纷", "cadre_grid", RouteBody.MEDIATION_COMMITTEE, 12),
            (village(1, 2), "宅基地界址纠纷", "community_work", RouteBody.HOUSING, 21),
            (village(2, 2), "企业施工扰民纠纷", "cadre_grid", RouteBody.OTHER_DEPARTMENT, 4),
            (village(3, 2), "兄弟分家析产纠纷", "cadre_grid", RouteBody.JUDICIAL_OFFICE, 33),
            (village(4, 2), "家禽毁坏菜地纠纷", "cadre_grid", "", 1),
            (village(5, 2), "装修工钱纠纷", "community_work", RouteBody.SHARED_COURT, 26),
            (community(1, 1), "夫妻家庭矛盾纠纷", "community_work", RouteBody.GRID_STATION, 3),
            (self.park, "离职工资结算纠纷", "cadre_grid", RouteBody.LABOUR, 16),
        )
        for n, (place, title, channel, kind, days) in enumerate(rows):
            life = self.life(place, green_tale(title), channel)
            life.start(ago(days, 3))
            if kind:
                route = next(r for r, kinds in ROUTE_BODIES.items() if kind in kinds)
                life.route(ago(days, 1), route, kind)
            sessions = list(range(days - 3, 1, -10))
            for index, day in enumerate(sessions):
                last = index == len(sessions) - 1
                agreed = last and n % 2 == 1
                life.session(
                    ago(day), SessionOutcome.AGREED if agreed else SessionOutcome.ADJOURNED
                )
                if agreed:
                    life.agreement(life.later(0.3, 1, working=False))
                    life.sign(life.later(0.1, 0.3, working=False), parties=1, mediator=False)


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
        _demo()._say(stdout, f"  矛盾纠纷 {len(run.lives)} 件，办理中…")
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
    _demo()._say(
        stdout,
        f"  矛盾纠纷 {summary['total']}（化解中 {sum(colours.values())}：红 {colours['red']}、"
        f"黄 {colours['yellow']}、绿 {colours['green']}；已化解 {statuses['resolved']}，"
        f"已结案 {statuses['closed']}）",
    )
    return summary
