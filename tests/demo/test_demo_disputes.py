"""The demo county's disputes: every colour, channel, route and state, made through the
services on a simulated clock, consistent with the statistics, with officer1's own cases and an
escalated order in place, reproducible from the seed, and without a flood of messages."""

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.utils import timezone

from pingan.accounts.models import User
from pingan.demo.disputes import tales
from pingan.demo.disputes.run import generate_disputes
from pingan.demo.generate import generate_demo_county
from pingan.disputes import risk, services
from pingan.disputes.models import (
    OPEN_STATUSES,
    CaseOrder,
    Channel,
    DailyReview,
    Dispute,
    DisputeEvent,
    DisputeType,
    EventKind,
    OrderStatus,
    Route,
    RouteBody,
    Signature,
    StatCell,
    Status,
    VisitStatus,
)
from pingan.disputes.stats import rebuild_stats
from pingan.incidents.models import IncidentEvent
from pingan.notify.models import MessageStatus, OutboundMessage
from pingan.orgs.models import OrgKind
from tests.live.layer import pending_callbacks

pytestmark = pytest.mark.django_db

SEED = 20261123
NOW = datetime(2026, 3, 10, 2, 30, tzinfo=UTC)  # 10:30 in the county
# A thin history keeps the module quick; the showcase part is the same at any density.
DENSITY = 0.5


def _fingerprint() -> dict:
    disputes = list(
        Dispute.objects.order_by("code").values_list(
            "code", "title", "type", "channel", "status", "risk", "route", "handoff_body"
        )
    )
    events = list(
        DisputeEvent.objects.order_by("dispute__code", "at", "pk").values_list(
            "dispute__code", "kind", "at", "message"
        )
    )
    return {"disputes": disputes, "events": events}


@pytest.fixture(scope="module")
def county(django_db_setup, django_db_blocker):
    """The county generated twice from the same seed and clock: the first run is fingerprinted
    and rolled back so the second starts from an empty database; the second stays for the
    module's checks (each test runs in its own savepoint) and is rolled back at the end."""
    with django_db_blocker.unblock():
        with transaction.atomic():
            generate_demo_county(seed=SEED, years=1, now=NOW, history_per_day=DENSITY)
            first = _fingerprint()
            transaction.set_rollback(True)
        with transaction.atomic():
            generate_demo_county(seed=SEED, years=1, now=NOW, history_per_day=DENSITY)
            yield {"first": first, "second": _fingerprint(), "callbacks": pending_callbacks()}
            transaction.set_rollback(True)


@pytest.mark.usefixtures("county")
class TestDemoDisputes:
    def test_every_type_channel_route_body_and_status_is_present(self):
        disputes = Dispute.objects.all()
        assert 40 <= disputes.count() <= 120
        for field, choices in (
            ("type", DisputeType.values),
            ("channel", Channel.values),
            ("route", Route.values),
            ("route_body", RouteBody.values),
            ("status", Status.values),
        ):
            present = set(disputes.values_list(field, flat=True))
            assert set(choices) <= present, (field, set(choices) - present)
        # What was reported two months ago and earlier has been dealt with.
        old = disputes.filter(reported_at__lt=NOW - timedelta(days=60))
        assert old.count() >= 5 and not old.filter(status__in=OPEN_STATUSES).exists()
        # A reroute and its reason are on record.
        rerouted = DisputeEvent.objects.filter(kind=EventKind.REROUTED)
        assert rerouted.exists()
        assert all(d.handoffs.last().reason for d in Dispute.objects.filter(events__in=rerouted))

    def test_open_disputes_in_all_colours_each_for_a_reason(self):
        open_ = Dispute.objects.filter(status__in=OPEN_STATUSES)
        assert 25 <= open_.count() <= 60
        colours = Counter(open_.values_list("risk", flat=True))
        assert colours["red"] >= 4 and colours["yellow"] >= 6 and colours["green"] >= 10
        rules_fired = set()
        for dispute in open_:
            levels = {r["level"] for r in dispute.risk_reasons}
            rules_fired.update(r["rule"] for r in dispute.risk_reasons)
            if dispute.risk_override:
                assert dispute.risk == dispute.risk_override and dispute.risk_override_reason
            elif dispute.risk == "green":
                assert not levels, dispute.code
            else:
                assert dispute.risk in levels, dispute.code
        # Every kind of reason the issue names shows up on the board.
        assert {
            "threat-violence",
            "self-harm",
            "weapon",
            "repeat-90d",
            "vulnerable-party",
            "many-parties",
            "large-amount",
            "relapse",
            "stale-15d",
        } <= rules_fired

    def test_manual_overrides_carry_their_reason_and_person(self):
        overridden = Dispute.objects.exclude(risk_override="")
        assert {d.risk_override for d in overridden} == {"red", "yellow"}
        for dispute in overridden:
            assert dispute.risk_override_by.role == "officer"
            assert dispute.risk_computed != dispute.risk_override
            assert dispute.events.filter(kind=EventKind.RISK_OVERRIDDEN).exists()

    def test_stat_cells_equal_a_rebuild(self):
        def cells():
            return sorted(
                StatCell.objects.exclude(total=0, settled=0, relapsed=0).values_list(
                    "org_id", "month", "dimension", "value", "total", "settled", "relapsed"
                )
            )

        kept = cells()
        assert kept
        rebuild_stats()
        assert cells() == kept

    def test_officer1_owns_open_cases_including_a_red_one_and_has_a_visit_due(self):
        officer1 = User.objects.get(username="officer1")
        mine = Dispute.objects.filter(owner=officer1, status__in=OPEN_STATUSES)
        assert mine.count() >= 4
        assert mine.filter(risk="red").exists()
        assert mine.filter(risk="yellow").exists()
        tracked = CaseOrder.objects.filter(dispute__in=mine.filter(risk="red"), owner=officer1)
        assert tracked.filter(status=OrderStatus.ACTIVE, deadline__gt=NOW).exists()
        assert set(services.disputes_for(officer1).filter(pk__in=mine)) == set(mine)
        due = services.visits_due(officer1, now=NOW)
        assert due.exists() and all(v.dispute.owner == officer1 for v in due)
        # The grid workers file their share; grid1 among them, in officer1's grid.
        by_workers = Dispute.objects.filter(filed_by__role="grid_worker")
        assert by_workers.filter(filed_by__username="grid1", grid__officer=officer1).count() >= 2

    def test_citizen1_has_requests_waiting_in_progress_and_settled(self):
        citizen1 = User.objects.get(username="citizen1")
        statuses = set(services.disputes_for(citizen1).values_list("status", flat=True))
        assert {Status.PENDING, Status.OPEN, Status.CLOSED} <= statuses
        declined = Dispute.objects.filter(status=Status.DECLINED)
        assert 1 <= declined.count() <= 4
        assert all(d.resolution_note for d in declined)

    def test_an_overdue_order_escalated_one_level_when_the_sweeper_would_have(self):
        overdue = CaseOrder.objects.filter(status=OrderStatus.ACTIVE, deadline__lt=NOW)
        escalated = [o for o in overdue if o.escalation_level == 1]
        assert escalated
        order = escalated[0]
        assert order.supervising_org.kind == OrgKind.STATION
        assert order.supervising_org == order.dispute.org.parent
        event = order.dispute.events.get(kind=EventKind.ORDER_ESCALATED)
        assert order.deadline < event.at <= order.deadline + timedelta(minutes=15)
        assert order.next_escalation_at > NOW
        # Orders within their deadline exist too, and an earlier one was finished late.
        assert CaseOrder.objects.filter(status=OrderStatus.ACTIVE, deadline__gt=NOW).exists()
        late = CaseOrder.objects.filter(status=OrderStatus.DONE, escalation_level__gte=1)
        assert any(o.done_at > o.deadline for o in late)

    def test_timelines_follow_the_clock_and_each_story(self):
        for dispute in Dispute.objects.prefetch_related("events", "visits"):
            events = list(dispute.events.all())
            times = [e.at for e in events]
            assert times == sorted(times) and times[-1] <= NOW, dispute.code
            assert [e.at for e in sorted(events, key=lambda e: e.pk)] == times, dispute.code
            assert events[0].kind in ("filed", "requested", "converted")
            assert events[0].at == dispute.reported_at
            assert re.fullmatch(r"JF\d{8}-\d{6}", dispute.code)
            kinds = [e.kind for e in events]
            visits = list(dispute.visits.all())
            if dispute.status == Status.CLOSED:
                done = [v for v in visits if v.status == VisitStatus.DONE]
                assert max(done, key=lambda v: v.visited_at).holds, dispute.code
                assert not [v for v in visits if v.status == VisitStatus.DUE], dispute.code
            if dispute.relapse_count:
                assert "relapsed" in kinds and dispute.visits.filter(holds=False).exists()
            if dispute.status == Status.RESOLVED:
                assert dispute.visits.filter(status=VisitStatus.DUE).exists()
        assert Dispute.objects.filter(relapse_count__gt=0, status=Status.OPEN).exists()
        assert Dispute.objects.filter(relapse_count__gt=0, status=Status.CLOSED).exists()

    def test_mediation_sessions_agreements_and_signatures(self):
        assert Dispute.objects.filter(sessions__outcome="agreed").exists()
        assert Dispute.objects.filter(sessions__outcome="failed").exists()
        signed = Signature.objects.select_related("agreement", "party")
        assert signed.filter(role="party").exists() and signed.filter(role="mediator").exists()
        for signature in signed:
            assert signature.signed_at >= signature.agreement.created_at
            if signature.party_id:
                assert signature.party.dispute_id == signature.agreement.dispute_id
        # An agreement still waiting for the other side's signature.
        waiting = [a for a in _agreements() if a.signatures.filter(role="party").count() == 1]
        assert waiting

    def test_two_yellow_disputes_were_reviewed_today(self):
        today = timezone.localdate(NOW)
        reviewed = DailyReview.objects.filter(day=today).select_related("dispute")
        assert reviewed.count() >= 2
        assert all(r.dispute.risk == "yellow" and r.dispute.is_open for r in reviewed)

    def test_case_disputes_keep_their_incident_and_come_after_it(self):
        cases = Dispute.objects.filter(channel=Channel.CASE).select_related("incident")
        assert cases.exists()
        for dispute in cases:
            incident = dispute.incident
            assert incident is not None and incident.category.code.startswith("06")
            note = IncidentEvent.objects.filter(incident=incident, kind="note").get()
            assert dispute.code in note.message and note.at == dispute.reported_at
            # The conversion is the incident's last entry, so its timeline stays in order.
            assert not incident.events.filter(at__gt=note.at).exists()

    def test_online_disputes_say_where_they_were_seen(self):
        online = Dispute.objects.filter(channel=Channel.ONLINE)
        assert online.exists() and all(d.source_note for d in online)
        assert all(d.source_note for d in Dispute.objects.filter(channel=Channel.CADRE_GRID))

    def test_some_parties_receive_messages_and_none_wait_to_be_sent(self, county):
        from pingan.disputes.models import Party

        assert Party.objects.filter(notify=True).exists()
        messages = OutboundMessage.objects.filter(topic__startswith="dispute:")
        assert messages.exists()
        assert not messages.exclude(status=MessageStatus.SENT).exists()
        assert not messages.exclude(backend="demo").exists()
        assert all(m.created_at == m.sent_at <= NOW for m in messages)
        # Nothing from the simulated past is pushed or delivered after commit.
        pending = county["callbacks"]
        assert not [
            c
            for c in pending
            if c.startswith(("pingan.disputes", "pingan.notify", "push:disputes"))
        ]

    def test_same_seed_and_clock_same_disputes(self, county):
        assert county["first"] == county["second"]
        assert len(county["first"]["disputes"]) >= 40


def _agreements():
    from pingan.disputes.models import Agreement

    return Agreement.objects.prefetch_related("signatures")


def test_ordinary_and_yellow_accounts_never_read_as_threats():
    """Narratives are written so the rules fire as meant: the red tales trip a red rule, the
    others none (a stray “镰刀” in a harvest story would paint it red)."""
    rules = risk.compile_rules(SimpleNamespace(**r) for r in risk.DEFAULT_RULES)
    red_rules = {r["code"] for r in risk.DEFAULT_RULES if r["level"] == "red"}

    def fired(text):
        return {reason.rule for reason in risk.evaluate(risk.Facts(narrative=text), rules).reasons}

    calm = [*tales.GREEN_TALES, *tales.YELLOW_TALES, tales.SMOKE_TALE, tales.REPEAT_TALE]
    for tale in calm:
        assert not fired(f"{tale.title}\n{tale.text}") & red_rules, tale.title
    for tale in (*tales.RED_TALES, tales.ONLINE_THREAT_TALE, tales.OVERTIME_TALE):
        assert fired(f"{tale.title}\n{tale.text}") & red_rules, tale.title
    for note in (*tales.HOLD_NOTES, *tales.RELAPSE_NOTES, *tales.ONLINE_SOURCES):
        assert not fired(note) & red_rules


def test_no_history_no_disputes():
    """Without an incident history to set them in (the simulator's tests, a bare structure)
    the disputes are left out, and nothing is written."""
    before = Dispute.objects.count(), DisputeEvent.objects.count()
    for years, density in ((1, 0), (0, 14.0)):
        result = generate_disputes(None, seed=SEED, now=NOW, years=years, history_per_day=density)
        assert result == {}
    assert (Dispute.objects.count(), DisputeEvent.objects.count()) == before
