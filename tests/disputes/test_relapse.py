"""Resolution, return visits and relapse: a settlement that does not hold reopens the dispute."""

from datetime import timedelta

import pytest
from django.test import override_settings

from pingan.core import clock
from pingan.core.errors import Conflict, ServiceError
from pingan.disputes import services
from pingan.disputes.models import (
    CaseOrder,
    DisputeEvent,
    EventKind,
    OrderStatus,
    Risk,
    Status,
    VisitStatus,
)

from .helpers import assert_stats_match_rebuild, file

DAY = timedelta(days=1)


@pytest.fixture
def t0():
    return clock.now() - 60 * DAY


def kinds(dispute):
    return list(
        DisputeEvent.objects.filter(dispute=dispute).order_by("pk").values_list("kind", flat=True)
    )


def test_resolving_schedules_visits_at_7_and_30_days(world, t0):
    dispute = file(world, now=t0)
    services.resolve(world.officer_a, dispute.code, "双方达成协议", now=t0 + DAY)
    dispute.refresh_from_db()
    assert dispute.status == Status.RESOLVED
    assert dispute.resolved_at == t0 + DAY
    visits = list(dispute.visits.order_by("due_at"))
    assert [(v.after_days, v.due_at, v.status) for v in visits] == [
        (7, t0 + 8 * DAY, VisitStatus.DUE),
        (30, t0 + 31 * DAY, VisitStatus.DUE),
    ]
    assert_stats_match_rebuild()


@override_settings(DISPUTE_RETURN_VISIT_DAYS=(3, 14, 60))
def test_visit_days_come_from_settings(world, t0):
    dispute = file(world, now=t0)
    services.resolve(world.officer_a, dispute.code, "已和解", now=t0)
    assert list(dispute.visits.values_list("after_days", flat=True)) == [3, 14, 60]


def test_visit_that_finds_relapse_reopens_the_dispute(world, t0):
    dispute = file(world, now=t0)
    order = services.open_order(
        world.officer_a,
        dispute.code,
        owner=world.officer_a,
        deadline=t0 + 10 * DAY,
        plan="每周走访",
        now=t0,
    )
    services.resolve(world.officer_a, dispute.code, "双方达成协议", now=t0 + 2 * DAY)
    order.refresh_from_db()
    assert order.status == OrderStatus.DONE
    first, second = dispute.visits.order_by("due_at")

    visit = services.record_visit(
        world.officer_a, dispute.code, holds=False, note="李某又把界桩拔了", now=t0 + 9 * DAY
    )
    assert visit.pk == first.pk
    assert (visit.status, visit.holds, visit.visited_by) == ("done", False, world.officer_a)
    dispute.refresh_from_db()
    assert dispute.status == Status.OPEN
    assert dispute.relapse_count == 1
    assert dispute.resolved_at is None
    second.refresh_from_db()
    assert second.status == VisitStatus.CANCELLED
    assert dispute.risk == Risk.YELLOW
    assert {r["rule"] for r in dispute.risk_reasons} == {"relapse"}
    order.refresh_from_db()
    assert order.status == OrderStatus.ACTIVE and order.done_at is None
    assert order.deadline == order.next_escalation_at == t0 + 16 * DAY  # 7 days (settings)
    assert kinds(dispute)[-4:] == [
        EventKind.VISITED,
        EventKind.RELAPSED,
        EventKind.ORDER_OPENED,
        EventKind.RISK_CHANGED,
    ]
    # The reactivated order escalates again if this round is late too.
    assert services.escalate_overdue(now=t0 + 17 * DAY) == 1
    assert_stats_match_rebuild()

    # Resolved again: a fresh set of visits, and the relapse is remembered.
    services.resolve(world.officer_a, dispute.code, "重新丈量，双方确认", now=t0 + 20 * DAY)
    dispute.refresh_from_db()
    assert dispute.visits.filter(status=VisitStatus.DUE).count() == 2
    assert dispute.relapse_count == 1
    assert_stats_match_rebuild()


def test_relapse_without_an_order_just_reopens(world, t0):
    dispute = file(world, now=t0)
    services.resolve(world.officer_a, dispute.code, "已和解", now=t0 + DAY)
    services.record_visit(world.officer_a, dispute.code, holds=False, note="又吵", now=t0 + 8 * DAY)
    dispute.refresh_from_db()
    assert dispute.status == Status.OPEN
    assert not CaseOrder.objects.filter(dispute=dispute).exists()
    assert EventKind.ORDER_OPENED not in kinds(dispute)


def test_all_visits_holding_close_the_dispute(world, t0):
    dispute = file(world, now=t0)
    services.resolve(world.officer_a, dispute.code, "已和解", now=t0 + DAY)
    services.record_visit(world.officer_a, dispute.code, holds=True, note="稳定", now=t0 + 8 * DAY)
    dispute.refresh_from_db()
    assert dispute.status == Status.RESOLVED  # one visit still due
    services.record_visit(world.aux_a, dispute.code, holds=True, note="稳定", now=t0 + 31 * DAY)
    dispute.refresh_from_db()
    assert dispute.status == Status.CLOSED
    assert dispute.closed_at == t0 + 31 * DAY
    assert dispute.relapse_count == 0
    assert kinds(dispute)[-1] == EventKind.CLOSED
    assert not dispute.visits.filter(status=VisitStatus.DUE).exists()
    with pytest.raises(Conflict):
        services.record_visit(world.officer_a, dispute.code, holds=True, note="再访")
    assert_stats_match_rebuild()


def test_record_visit_on_an_open_dispute_is_a_conflict(world, t0):
    dispute = file(world, now=t0)
    with pytest.raises(Conflict) as caught:
        services.record_visit(world.officer_a, dispute.code, holds=True, note="稳定")
    assert caught.value.code == "not_resolved"
    assert not dispute.visits.exists()


@pytest.mark.parametrize(
    ("holds", "note", "code"), [("yes", "稳定", "bad_holds"), (True, " ", "note_required")]
)
def test_bad_visit_input_is_refused(world, t0, holds, note, code):
    dispute = file(world, now=t0)
    services.resolve(world.officer_a, dispute.code, "已和解", now=t0)
    with pytest.raises(ServiceError) as caught:
        services.record_visit(world.officer_a, dispute.code, holds=holds, note=note)
    assert caught.value.code == code
    assert dispute.visits.filter(status=VisitStatus.DUE).count() == 2


def test_a_visit_of_another_dispute_is_refused(world, t0):
    dispute = file(world, now=t0)
    other = file(world, narrative="另一起", parties=[services.PartyInput(name="赵某")], now=t0)
    services.resolve(world.officer_a, dispute.code, "已和解", now=t0)
    services.resolve(world.officer_a, other.code, "已和解", now=t0)
    foreign = other.visits.first()
    with pytest.raises(ServiceError) as caught:
        services.record_visit(
            world.officer_a, dispute.code, holds=False, note="反复", visit_id=foreign.pk
        )
    assert caught.value.code == "unknown_visit"
    foreign.refresh_from_db()
    assert foreign.status == VisitStatus.DUE
    dispute.refresh_from_db()
    assert dispute.status == Status.RESOLVED


def test_resolving_twice_is_a_conflict(world, t0):
    dispute = file(world, now=t0)
    services.resolve(world.officer_a, dispute.code, "已和解", now=t0)
    with pytest.raises(Conflict) as caught:
        services.resolve(world.officer_a, dispute.code, "又和解", now=t0)
    assert caught.value.code == "dispute_not_open"
    assert dispute.visits.count() == 2


def test_visits_due_lists_only_due_visits_in_scope(world, t0):
    dispute = file(world, now=t0)
    services.resolve(world.officer_a, dispute.code, "已和解", now=t0)
    assert [v.after_days for v in services.visits_due(world.officer_a, now=t0 + 7 * DAY)] == [7]
    assert list(services.visits_due(world.officer_a, now=t0 + 6 * DAY)) == []
    assert len(services.visits_due(world.chief_a, now=t0 + 40 * DAY)) == 2
    assert list(services.visits_due(world.officer_b, now=t0 + 40 * DAY)) == []
