"""Dispute services under real concurrency: threads with their own connections on PostgreSQL."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import transaction

from pingan.core import clock
from pingan.core.errors import Conflict
from pingan.disputes import services
from pingan.disputes.models import (
    Dispute,
    DisputeEvent,
    EventKind,
    OrderStatus,
    Party,
    Signature,
)
from pingan.disputes.services import PartyInput
from pingan.incidents.models import IncidentEvent
from pingan.notify.backends import MemoryBackend
from pingan.notify.services import deliver, queue_message
from tests.incidents.helpers import report_at
from tests.threads import race

from .helpers import assert_stats_match_rebuild, file, two_neighbours

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.usefixtures("postgres_only"),
]

DAY = timedelta(days=1)


def overdue_order(world, t0):
    dispute = file(world, now=t0)
    return services.open_order(
        world.officer_a,
        dispute.code,
        owner=world.officer_a,
        deadline=t0 + DAY,
        plan="每周走访",
        now=t0,
    )


def test_concurrent_sweeps_escalate_exactly_one_level(world):
    t0 = clock.now() - 10 * DAY
    order = overdue_order(world, t0)
    late = t0 + 2 * DAY
    results, errors = race(*[lambda: services.escalate_overdue(now=late)] * 4)
    assert errors == [None] * 4
    assert sorted(results) == [0, 0, 0, 1]
    order.refresh_from_db()
    assert (order.supervising_org, order.escalation_level) == (world.station_a, 1)
    assert DisputeEvent.objects.filter(kind=EventKind.ORDER_ESCALATED).count() == 1


def test_resolving_while_the_sweep_escalates_neither_deadlocks_nor_escalates(world):
    """resolve() locks the dispute and then closes its order; the sweep must take the same two
    rows in the same order, or each ends up waiting for the other."""
    t0 = clock.now() - 10 * DAY
    order = overdue_order(world, t0)
    late = t0 + 2 * DAY
    code = order.dispute.code
    holding = threading.Event()

    def resolver():
        with transaction.atomic():
            # What resolve() does first, held a moment so the sweep arrives while it is held.
            Dispute.objects.select_for_update().get(code=code)
            holding.set()
            time.sleep(0.5)
            services.resolve(world.officer_a, code, "双方和解", now=late)

    def sweeper():
        assert holding.wait(timeout=10)
        return services.escalate_overdue(now=late)

    results, errors = race(resolver, sweeper)
    assert errors == [None, None]
    assert results[1] == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.DONE
    assert order.escalation_level == 0 and order.supervising_org == world.office_a
    assert not DisputeEvent.objects.filter(kind=EventKind.ORDER_ESCALATED).exists()


def test_two_officers_converting_one_incident_make_one_dispute(world):
    incident = report_at(description="两户因排水沟打架").incident

    def convert(user):
        return lambda: services.convert_incident(
            user, incident.code, type="neighbour", parties=two_neighbours()
        )

    results, errors = race(convert(world.officer_a), convert(world.chief_a))
    made = [r for r in results if r is not None]
    assert len(made) == 1
    [conflict] = [e for e in errors if e is not None]
    assert isinstance(conflict, Conflict) and conflict.code == "already_converted"
    assert Dispute.objects.count() == 1
    assert Dispute.objects.get().incident_id == incident.pk
    assert Party.objects.count() == 2
    assert IncidentEvent.objects.filter(incident=incident, kind="note").count() == 1
    assert_stats_match_rebuild()


def test_simultaneous_filings_keep_codes_distinct_and_stats_exact(world):
    def filing(i):
        return lambda: (
            file(
                world,
                narrative="扬言要砍死对方" if i % 2 else "噪音扰民",
                parties=[PartyInput(name=f"村民{i}", phone=f"1370000{i:04d}")],
                type=["neighbour", "debt"][i % 2],
            ).code
        )

    results, errors = race(*[filing(i) for i in range(8)])
    assert errors == [None] * 8
    assert len(set(results)) == 8
    assert Dispute.objects.filter(risk="red").count() == 4
    assert_stats_match_rebuild()


def test_simultaneous_state_changes_keep_stats_exact(world):
    t0 = clock.now() - 5 * DAY
    codes = [
        file(world, parties=[PartyInput(name=f"甲{i}", phone=f"1370000{i:04d}")], now=t0).code
        for i in range(6)
    ]

    def change(i, code):
        if i % 3 == 0:
            return lambda: services.resolve(world.officer_a, code, "已和解", now=t0 + DAY)
        if i % 3 == 1:
            return lambda: services.override_risk(world.chief_a, code, "red", "研判升级")
        return lambda: services.set_route(
            world.officer_a,
            code,
            route="judicial",
            body_kind="mediation_committee",
            body_name="东门社区人民调解委员会",
            contact_name="陈调解员",
        )

    _, errors = race(*[change(i, code) for i, code in enumerate(codes)])
    assert errors == [None] * 6
    assert_stats_match_rebuild()


def test_two_reviews_of_one_dispute_on_one_day_record_one(world):
    dispute = file(world, parties=two_neighbours(vulnerability="elderly"))
    results, errors = race(
        lambda: services.review(world.officer_a, dispute.code, "甲"),
        lambda: services.review(world.chief_a, dispute.code, "乙"),
    )
    assert len([r for r in results if r is not None]) == 1
    [conflict] = [e for e in errors if e is not None]
    assert isinstance(conflict, Conflict) and conflict.code == "already_reviewed"
    assert dispute.reviews.count() == 1


def test_one_party_signing_twice_at_once_is_recorded_once(world):
    dispute = file(world)
    agreement = services.draft_agreement(
        world.officer_a, dispute.code, facts="事实", terms="条款", mediator_body="调委会"
    )
    party = dispute.parties.first()
    sign = lambda: services.sign_agreement(  # noqa: E731
        world.officer_a, agreement.number, role="party", party_id=party.pk
    )
    results, errors = race(sign, sign)
    assert len([r for r in results if r is not None]) == 1
    assert isinstance(next(e for e in errors if e is not None), Conflict)
    assert Signature.objects.count() == 1


def test_one_message_delivered_by_several_workers_is_sent_once(world):
    message = queue_message("+8613800138001", "只发一次")
    results, errors = race(*[lambda: deliver(message.pk)] * 4)
    assert errors == [None] * 4
    assert len([r for r in results if r is not None]) == 1
    assert MemoryBackend.outbox == [("+8613800138001", "只发一次")]
