"""Tracked orders (the "1") and their escalation up the org tree, with a controlled clock."""

from datetime import timedelta

import pytest
from django.test import override_settings

from pingan.accounts.models import Role, User
from pingan.core import clock
from pingan.core.errors import Conflict, Forbidden, ServiceError
from pingan.disputes import services
from pingan.disputes.models import CaseOrder, DisputeEvent, EventKind, OrderStatus
from pingan.notify.models import OutboundMessage
from tests.conftest import make_user

from .helpers import assert_stats_match_rebuild, file

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.fixture
def t0():
    return clock.now() - 30 * DAY


@pytest.fixture
def order(world, t0):
    User.objects.filter(pk=world.chief_a.pk).update(phone="+8613800000002")
    User.objects.filter(pk=world.commander.pk).update(phone="+8613800000003")
    dispute = file(world, now=t0)
    return services.open_order(
        world.officer_a,
        dispute.code,
        owner=world.officer_a,
        deadline=t0 + 2 * DAY,
        plan="每三天走访一次，协调村委会丈量边界",
        now=t0,
    )


def escalations(order):
    return list(
        DisputeEvent.objects.filter(dispute=order.dispute, kind=EventKind.ORDER_ESCALATED).order_by(
            "pk"
        )
    )


def messages_to(phone):
    return list(OutboundMessage.objects.filter(phone=phone).values_list("text", flat=True))


def test_open_order_records_owner_deadline_and_plan(world, t0, order):
    assert order.status == OrderStatus.ACTIVE
    assert order.supervising_org == world.office_a
    assert order.escalation_level == 0
    assert order.deadline == order.next_escalation_at == t0 + 2 * DAY
    [opened] = DisputeEvent.objects.filter(dispute=order.dispute, kind=EventKind.ORDER_OPENED)
    assert opened.data["owner"] == "officer_a"
    assert opened.data["deadline"] == (t0 + 2 * DAY).isoformat()


def test_nothing_escalates_before_the_deadline(world, t0, order):
    assert services.escalate_overdue(now=t0 + 2 * DAY - timedelta(seconds=1)) == 0
    order.refresh_from_db()
    assert order.supervising_org == world.office_a and order.escalation_level == 0
    assert escalations(order) == []
    assert OutboundMessage.objects.count() == 0


def test_overdue_order_climbs_one_level_at_a_time_to_the_root(world, t0, order):
    late = t0 + 2 * DAY + HOUR
    assert services.escalate_overdue(now=late) == 1
    order.refresh_from_db()
    assert (order.supervising_org, order.escalation_level) == (world.station_a, 1)
    assert order.next_escalation_at == late + 72 * HOUR
    [event] = escalations(order)
    assert event.at == late
    assert event.data == {"from": "O-A1", "to": "S-A", "level": 1}
    assert "城关派出所" in event.message
    [text] = messages_to("+8613800000002")
    assert order.dispute.code in text and "逾期" in text
    assert messages_to("+8613800000003") == []

    # Running the sweep again before the interval has passed changes nothing.
    assert services.escalate_overdue(now=late + 71 * HOUR) == 0
    order.refresh_from_db()
    assert order.escalation_level == 1

    assert services.escalate_overdue(now=late + 72 * HOUR) == 1
    order.refresh_from_db()
    assert (order.supervising_org, order.escalation_level) == (world.county, 2)
    assert len(messages_to("+8613800000003")) == 1
    assert len(messages_to("+8613800000002")) == 1

    assert services.escalate_overdue(now=late + 144 * HOUR) == 1
    order.refresh_from_db()
    assert (order.supervising_org, order.escalation_level) == (world.city, 3)

    # The city bureau is the root: it stays there, nothing more is reported.
    assert services.escalate_overdue(now=late + 216 * HOUR) == 0
    order.refresh_from_db()
    assert (order.supervising_org, order.escalation_level) == (world.city, 3)
    assert order.next_escalation_at == late + 288 * HOUR
    assert len(escalations(order)) == 3
    assert order.status == OrderStatus.ACTIVE


@override_settings(DISPUTE_ORDER_ESCALATION_HOURS=24)
def test_escalation_interval_comes_from_settings(world, t0, order):
    late = t0 + 2 * DAY
    services.escalate_overdue(now=late)
    assert services.escalate_overdue(now=late + 23 * HOUR) == 0
    assert services.escalate_overdue(now=late + 24 * HOUR) == 1
    order.refresh_from_db()
    assert order.supervising_org == world.county


def test_resolving_closes_the_order_and_stops_escalation(world, t0, order):
    late = t0 + 2 * DAY + HOUR
    services.escalate_overdue(now=late)
    services.resolve(world.officer_a, order.dispute.code, "双方签订协议", now=late + HOUR)
    order.refresh_from_db()
    assert order.status == OrderStatus.DONE and order.done_at == late + HOUR
    [closed] = DisputeEvent.objects.filter(dispute=order.dispute, kind=EventKind.ORDER_CLOSED)
    assert "逾期办结" in closed.message
    assert services.escalate_overdue(now=late + 1000 * HOUR) == 0
    order.refresh_from_db()
    assert order.escalation_level == 1
    assert_stats_match_rebuild()


def test_resolved_in_time_is_not_marked_late(world, t0, order):
    services.resolve(world.officer_a, order.dispute.code, "已和解", now=t0 + DAY)
    [closed] = DisputeEvent.objects.filter(dispute=order.dispute, kind=EventKind.ORDER_CLOSED)
    assert "逾期" not in closed.message


def test_escalation_from_a_station_level_dispute_goes_to_the_county(world, t0):
    grid = world.grid_a
    grid.org = world.station_a
    grid.save()
    dispute = file(world, now=t0)
    assert dispute.org == world.station_a
    order = services.open_order(
        world.chief_a, dispute.code, owner=world.chief_a, deadline=t0 + DAY, plan="所长督办", now=t0
    )
    services.escalate_overdue(now=t0 + 2 * DAY)
    order.refresh_from_db()
    assert order.supervising_org == world.county


@pytest.mark.parametrize(
    "deadline",
    [lambda t: t - HOUR, lambda t: t, lambda t: t + 366 * DAY, lambda t: None],
)
def test_bad_deadline_is_refused(world, t0, deadline):
    dispute = file(world, now=t0)
    with pytest.raises(ServiceError) as caught:
        services.open_order(
            world.officer_a,
            dispute.code,
            owner=world.officer_a,
            deadline=deadline(t0),
            plan="计划",
            now=t0,
        )
    assert caught.value.code == "bad_deadline"
    assert not CaseOrder.objects.exists()


def test_empty_plan_is_refused(world, t0):
    dispute = file(world, now=t0)
    with pytest.raises(ServiceError) as caught:
        services.open_order(
            world.officer_a,
            dispute.code,
            owner=world.officer_a,
            deadline=t0 + DAY,
            plan="  ",
            now=t0,
        )
    assert caught.value.code == "plan_required"


@pytest.mark.parametrize("who", ["aux_a", "worker_a"])
def test_auxiliaries_and_grid_workers_cannot_open_orders(world, t0, who):
    dispute = file(world, now=t0)
    with pytest.raises(Forbidden):
        services.open_order(
            getattr(world, who),
            dispute.code,
            owner=world.officer_a,
            deadline=t0 + DAY,
            plan="计划",
            now=t0,
        )
    assert not CaseOrder.objects.exists()


def test_order_owner_must_belong_to_the_station_or_above(world, t0):
    dispute = file(world, now=t0)
    for owner in (world.officer_b, world.citizen, world.worker_a):
        with pytest.raises(ServiceError) as caught:
            services.open_order(
                world.officer_a, dispute.code, owner=owner, deadline=t0 + DAY, plan="计划", now=t0
            )
        assert caught.value.code == "bad_owner"
    retired = make_user("retired", Role.OFFICER, world.office_a, is_active=False)
    with pytest.raises(ServiceError):
        services.open_order(
            world.officer_a, dispute.code, owner=retired, deadline=t0 + DAY, plan="计划", now=t0
        )
    assert not CaseOrder.objects.exists()


def test_a_second_active_order_is_a_conflict(world, t0, order):
    with pytest.raises(Conflict) as caught:
        services.open_order(
            world.chief_a,
            order.dispute.code,
            owner=world.chief_a,
            deadline=t0 + 5 * DAY,
            plan="再列一次",
            now=t0 + HOUR,
        )
    assert caught.value.code == "order_exists"
    order.refresh_from_db()
    assert order.owner == world.officer_a


def test_the_order_owner_sees_the_dispute_even_outside_the_grid(world, t0):
    officer_a2 = make_user("officer_a2", Role.OFFICER, world.office_a)
    dispute = file(world, now=t0)
    assert not services.disputes_for(officer_a2).filter(pk=dispute.pk).exists()
    services.open_order(
        world.officer_a, dispute.code, owner=officer_a2, deadline=t0 + DAY, plan="计划", now=t0
    )
    assert services.get_dispute_for(officer_a2, dispute.code) == dispute
