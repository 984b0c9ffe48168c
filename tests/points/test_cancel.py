"""Cancelling an unverified order: points and stock come back exactly, once."""

import pytest

from pingan.core.errors import Conflict, Forbidden, NotFound
from pingan.notify.backends import MemoryBackend  # noqa: F401  (outbox cleared by conftest)
from pingan.points import ledger, services
from pingan.points.models import EntryKind, OrderStatus, PointEntry

from .helpers import entries_sum, give_points

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(world, shops):
    give_points(world.volunteer, 120)
    return services.redeem(world.volunteer, shops.item.pk, 2)


def test_owner_cancels_and_gets_exactly_the_points_and_stock_back(world, shops, order):
    assert ledger.balance(world.volunteer) == 20
    cancelled = services.cancel_order(world.volunteer, order.code, reason="不需要了")
    assert cancelled.status == OrderStatus.CANCELLED
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert (order.cancelled_by, order.cancel_reason) == (world.volunteer, "不需要了")
    assert ledger.balance(world.volunteer) == 120 == entries_sum(world.volunteer)
    refund = PointEntry.objects.get(kind=EntryKind.REFUND)
    assert refund.amount == order.points == 100
    assert refund.dedupe_key == f"order:{order.code}:refund"
    shops.item.refresh_from_db()
    assert shops.item.stock == 10


def test_cancel_twice_refunds_once(world, shops, order):
    services.cancel_order(world.volunteer, order.code)
    with pytest.raises(Conflict) as exc:
        services.cancel_order(world.volunteer, order.code)
    assert exc.value.code == "order_cancelled"
    assert PointEntry.objects.filter(kind=EntryKind.REFUND).count() == 1
    assert ledger.balance(world.volunteer) == 120
    shops.item.refresh_from_db()
    assert shops.item.stock == 10


def test_a_verified_order_cannot_be_cancelled(world, shops, order):
    services.verify_order(shops.clerk, order.redeem_code)
    with pytest.raises(Conflict) as exc:
        services.cancel_order(world.volunteer, order.code)
    assert exc.value.code == "already_verified"
    assert ledger.balance(world.volunteer) == 20
    shops.item.refresh_from_db()
    assert shops.item.stock == 8


def test_clerk_of_the_shop_and_manager_in_scope_may_cancel(world, shops):
    give_points(world.citizen, 200)
    first = services.redeem(world.citizen, shops.item.pk)
    second = services.redeem(world.citizen, shops.item.pk)
    services.cancel_order(shops.clerk, first.code, reason="顾客要求")
    services.cancel_order(world.officer_a, second.code, reason="商品破损")
    assert ledger.balance(world.citizen) == 200


@pytest.mark.parametrize("who", ["citizen", "officer_b", "clerk_b"])
def test_others_cannot_see_the_order_to_cancel_it(world, shops, order, who):
    user = getattr(shops, who, None) or getattr(world, who)
    with pytest.raises(NotFound):
        services.cancel_order(user, order.code)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert ledger.balance(world.volunteer) == 20


def test_staff_who_see_but_do_not_manage_cannot_cancel(world, shops, order):
    # An auxiliary of station A sees the shop's orders but does not run the shop.
    with pytest.raises(Forbidden):
        services.cancel_order(world.aux_a, order.code)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_cancel_reason_is_checked(world, shops, order):
    with pytest.raises(Exception) as exc:
        services.cancel_order(world.volunteer, order.code, reason="很" * 201)
    assert getattr(exc.value, "code", "") == "reason_too_long"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
