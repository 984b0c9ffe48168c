"""One dispute's life: its steps, planned in time order and cut where they would pass `now`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings

from pingan.accounts.models import User
from pingan.disputes import services
from pingan.disputes.models import (
    Party,
    PartyRole,
    SignerRole,
)

from .people import Bodies, Place
from .tales import (
    GENERIC_TERMS,
    HOLD_NOTES,
    ORDER_PLANS,
    RELAPSE_NOTES,
    RESOLVE_NOTES,
    SESSION_NOTES,
)

if TYPE_CHECKING:
    from .planning import Planner

# A running sweeper escalates an order this long after its deadline passes.
SWEEP_DELAY = timedelta(minutes=10)

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

    run: Planner
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
