"""The shop under real concurrency: threads with their own connections on PostgreSQL. No stock
is oversold, no balance goes below zero, a code is verified once, and a cancellation racing a
verification leaves exactly one of them done."""

from datetime import timedelta

import pytest

from pingan.accounts.models import Role
from pingan.core import clock
from pingan.core.errors import Conflict
from pingan.points import ledger, services
from pingan.points.models import EntryKind, OrderStatus, PointEntry, RedemptionOrder
from tests.conftest import make_user
from tests.threads import race

from .helpers import entries_sum, give_points, make_clerk, make_item

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.usefixtures("postgres_only"),
]


def codes(errors):
    return sorted(e.code for e in errors if e is not None)


def test_forty_residents_racing_for_ten_items_get_exactly_ten(world, shops):
    item = make_item(shops.shop, name="限量保温杯", points_price=30, stock=10)
    people = [make_user(f"r{i:02d}", Role.CITIZEN) for i in range(40)]
    for person in people:
        give_points(person, 100)
    results, errors = race(*[lambda p=p: services.redeem(p, item.pk) for p in people])
    assert all(e is None or isinstance(e, Conflict) for e in errors), errors
    assert codes(errors) == ["out_of_stock"] * 30
    orders = [r for r in results if r is not None]
    assert len(orders) == 10 == RedemptionOrder.objects.filter(item=item).count()
    item.refresh_from_db()
    assert item.stock == 0
    winners = {o.user_id for o in orders}
    for person in people:
        expected = 70 if person.pk in winners else 100
        assert ledger.balance(person) == entries_sum(person) == expected
    assert PointEntry.objects.filter(kind=EntryKind.REDEEM).count() == 10
    assert len({o.redeem_code for o in orders}) == len({o.code for o in orders}) == 10


def test_one_resident_firing_ten_redemptions_with_points_for_three(world, shops):
    item = make_item(shops.shop, name="洗衣粉", points_price=40, stock=100)
    give_points(world.volunteer, 120)
    results, errors = race(*[lambda: services.redeem(world.volunteer, item.pk)] * 10)
    assert codes(errors) == ["insufficient_points"] * 7, errors
    assert sum(r is not None for r in results) == 3
    assert ledger.balance(world.volunteer) == 0 == entries_sum(world.volunteer)
    item.refresh_from_db()
    assert item.stock == 97


def test_per_person_limit_holds_under_a_burst(world, shops):
    item = make_item(shops.shop, name="口罩", points_price=1, stock=100, limit_per_person=2)
    give_points(world.citizen, 100)
    results, errors = race(*[lambda: services.redeem(world.citizen, item.pk)] * 8)
    assert codes(errors) == ["limit_reached"] * 6, errors
    assert RedemptionOrder.objects.filter(item=item, user=world.citizen).count() == 2
    assert ledger.balance(world.citizen) == 98


def test_the_same_code_verified_by_two_clerks_at_once_is_verified_once(world, shops):
    second_clerk = make_clerk(shops.shop, username="clerk_a2")
    give_points(world.citizen, 50)
    order = services.redeem(world.citizen, shops.item.pk)
    for _ in range(3):  # a few rounds: the losing side must always be told, never both win
        results, errors = race(
            lambda: services.verify_order(shops.clerk, order.redeem_code),
            lambda: services.verify_order(second_clerk, order.redeem_code),
        )
        order.refresh_from_db()
        assert order.status == OrderStatus.VERIFIED
        if errors.count(None) == 1:
            assert codes(errors) == ["already_verified"]
            break
        assert codes(errors) == ["already_verified", "already_verified"]
    assert ledger.balance(world.citizen) == 0


def test_a_double_scan_by_many_threads_verifies_once(world, shops):
    give_points(world.citizen, 50)
    order = services.redeem(world.citizen, shops.item.pk)
    results, errors = race(*[lambda: services.verify_order(shops.clerk, order.redeem_code)] * 8)
    assert codes(errors) == ["already_verified"] * 7
    assert sum(r is not None for r in results) == 1


@pytest.mark.parametrize("round_", range(4))
def test_cancel_racing_verify_exactly_one_wins(world, shops, round_):
    give_points(world.citizen, 50)
    order = services.redeem(world.citizen, shops.item.pk)
    results, errors = race(
        lambda: services.cancel_order(world.citizen, order.code, reason="不要了"),
        lambda: services.verify_order(shops.clerk, order.redeem_code),
    )
    assert errors.count(None) == 1, errors
    order.refresh_from_db()
    shops.item.refresh_from_db()
    refunds = PointEntry.objects.filter(kind=EntryKind.REFUND).count()
    if errors[0] is None:
        assert order.status == OrderStatus.CANCELLED
        assert codes(errors) == ["order_cancelled"]
        assert (refunds, ledger.balance(world.citizen), shops.item.stock) == (1, 50, 10)
    else:
        assert order.status == OrderStatus.VERIFIED
        assert codes(errors) == ["already_verified"]
        assert (refunds, ledger.balance(world.citizen), shops.item.stock) == (0, 0, 9)


def test_two_cancels_and_the_expiry_sweep_refund_once(world, shops):
    give_points(world.citizen, 50)
    now = clock.now()
    order = services.redeem(world.citizen, shops.item.pk, now=now - timedelta(days=31))
    results, errors = race(
        lambda: services.cancel_order(world.citizen, order.code, now=now),
        lambda: services.cancel_order(shops.clerk, order.code, now=now),
        lambda: services.expire_orders(now=now),
        lambda: services.verify_order(shops.clerk, order.redeem_code, now=now),
    )
    assert all(e is None or isinstance(e, Conflict) for e in errors), errors
    assert PointEntry.objects.filter(kind=EntryKind.REFUND).count() == 1
    assert ledger.balance(world.citizen) == 50
    shops.item.refresh_from_db()
    assert shops.item.stock == 10
    order.refresh_from_db()
    assert order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)


def test_earning_while_redeeming_keeps_the_sum(world, shops):
    item = make_item(shops.shop, name="牙膏", points_price=10, stock=100)
    give_points(world.volunteer, 30)
    calls = [lambda: services.redeem(world.volunteer, item.pk)] * 6
    calls += [lambda: give_points(world.volunteer, 10, kind=EntryKind.EARN)] * 6
    results, errors = race(*calls)
    assert all(e is None or e.code == "insufficient_points" for e in errors), errors
    made = RedemptionOrder.objects.filter(user=world.volunteer).count()
    assert ledger.balance(world.volunteer) == 30 + 60 - 10 * made >= 0
    assert ledger.balance(world.volunteer) == entries_sum(world.volunteer)
