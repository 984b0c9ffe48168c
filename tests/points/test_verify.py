"""Verification (核销) by a clerk: only at their own shop, once, never for an expired code."""

from datetime import timedelta

import pytest

from pingan.core import clock
from pingan.core.errors import Conflict, Forbidden, NotFound
from pingan.points import ledger, services
from pingan.points.models import EntryKind, OrderStatus, PointEntry

from .helpers import give_points

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(world, shops):
    give_points(world.citizen, 100)
    return services.redeem(world.citizen, shops.item.pk)


def test_own_shop_clerk_verifies(world, shops, order):
    now = clock.now()
    verified = services.verify_order(shops.clerk, order.redeem_code, now=now)
    assert verified.status == OrderStatus.VERIFIED
    order.refresh_from_db()
    assert (order.status, order.verified_by, order.verified_at) == (
        OrderStatus.VERIFIED,
        shops.clerk,
        now,
    )
    assert ledger.balance(world.citizen) == 50


def test_code_is_read_forgivingly(world, shops, order):
    typed = " " + order.redeem_code[:5].lower() + "-" + order.redeem_code[5:] + " "
    assert services.find_order_for_clerk(shops.clerk, typed).pk == order.pk


def test_double_verify_verifies_once(world, shops, order):
    services.verify_order(shops.clerk, order.redeem_code)
    with pytest.raises(Conflict) as exc:
        services.verify_order(shops.clerk, order.redeem_code)
    assert exc.value.code == "already_verified"
    assert ledger.balance(world.citizen) == 50


def test_foreign_shop_code_is_404_like_an_unknown_one(world, shops, order):
    with pytest.raises(NotFound) as foreign:
        services.verify_order(shops.clerk_b, order.redeem_code)
    with pytest.raises(NotFound) as unknown:
        services.verify_order(shops.clerk_b, "ABCDEFGHJK")
    assert foreign.value.message == unknown.value.message
    with pytest.raises(NotFound):
        services.find_order_for_clerk(shops.clerk_b, order.redeem_code)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


@pytest.mark.parametrize("code", ["", "short", "O0O0O0O0O0", "ABCDEFGHJK\x00", None, 42, "A" * 500])
def test_malformed_codes_are_404(world, shops, code):
    with pytest.raises(NotFound):
        services.verify_order(shops.clerk, code)


@pytest.mark.parametrize("who", ["officer_a", "chief_a", "citizen", "volunteer"])
def test_only_clerks_verify(world, shops, order, who):
    with pytest.raises(Forbidden):
        services.verify_order(getattr(world, who), order.redeem_code)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_expired_order_is_refused_expired_and_refunded(world, shops, order):
    later = order.expires_at + timedelta(seconds=1)
    with pytest.raises(Conflict) as exc:
        services.verify_order(shops.clerk, order.redeem_code, now=later)
    assert exc.value.code == "order_expired"
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert ledger.balance(world.citizen) == 100
    shops.item.refresh_from_db()
    assert shops.item.stock == 10
    # Scanning again: still expired, still refunded only once.
    with pytest.raises(Conflict) as exc:
        services.verify_order(shops.clerk, order.redeem_code, now=later)
    assert exc.value.code == "order_expired"
    assert PointEntry.objects.filter(kind=EntryKind.REFUND).count() == 1


def test_cancelled_order_cannot_be_verified(world, shops, order):
    services.cancel_order(world.citizen, order.code)
    with pytest.raises(Conflict) as exc:
        services.verify_order(shops.clerk, order.redeem_code)
    assert exc.value.code == "order_cancelled"


def test_a_clerk_of_two_shops_verifies_at_both(world, shops):
    shops.shop_b.clerks.add(shops.clerk)
    give_points(world.citizen, 100)
    order_b = services.redeem(world.citizen, shops.item_b.pk)
    assert services.verify_order(shops.clerk, order_b.redeem_code).status == "verified"


def test_removed_clerk_can_no_longer_verify(world, shops, order):
    services.set_clerks(world.officer_a, shops.shop, [])
    with pytest.raises(NotFound):
        services.verify_order(shops.clerk, order.redeem_code)


def test_order_expiry_sweep(world, shops):
    give_points(world.volunteer, 500)
    t0 = clock.now()
    old = services.redeem(world.volunteer, shops.item.pk, now=t0 - timedelta(days=31))
    fresh = services.redeem(world.volunteer, shops.item.pk, now=t0)
    done = services.redeem(world.volunteer, shops.item.pk, now=t0 - timedelta(days=40))
    services.verify_order(shops.clerk, done.redeem_code, now=t0 - timedelta(days=39))
    assert services.expire_orders(now=t0) == 1
    assert services.expire_orders(now=t0) == 0
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.status, fresh.status) == (OrderStatus.EXPIRED, OrderStatus.PENDING)
    assert ledger.balance(world.volunteer) == 400
    shops.item.refresh_from_db()
    assert shops.item.stock == 8
