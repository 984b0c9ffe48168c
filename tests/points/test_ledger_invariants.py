"""The ledger's invariants under any sequence of earning, redeeming, cancelling, verifying,
expiring and spending: a balance is always the sum of the entries and never negative, a refund
gives back exactly what its order took, stock plus live orders is what the shop put out, and
the entries themselves can never be edited or deleted."""

from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingan.core.errors import Conflict
from pingan.points import ledger, services
from pingan.points.models import EntryKind, OrderStatus, PointEntry, RedemptionOrder

from .helpers import entries_sum, give_points, make_item

pytestmark = pytest.mark.django_db

T0 = timezone.make_aware(datetime(2026, 3, 1, 10, 0))
PEOPLE = ("citizen", "volunteer")

step = st.one_of(
    st.tuples(st.just("earn"), st.sampled_from(PEOPLE), st.integers(1, 300)),
    st.tuples(st.just("redeem"), st.sampled_from(PEOPLE), st.integers(0, 1), st.integers(1, 3)),
    st.tuples(st.just("cancel"), st.integers(0, 20)),
    st.tuples(st.just("verify"), st.integers(0, 20)),
    st.tuples(st.just("expire_orders"), st.integers(1, 40)),
    st.tuples(st.just("spend"), st.sampled_from(PEOPLE), st.integers(1, 300)),
    st.tuples(st.just("expire_points"), st.integers(100, 800)),
)


class Model:
    """What the ledger should say, kept by hand beside the services."""

    def __init__(self, world, shops):
        self.world = world
        self.shops = shops
        self.now = T0
        self.balance = {p: 0 for p in PEOPLE}
        self.items = [
            make_item(shops.shop, name="米", points_price=50, stock=6, now=T0),
            make_item(shops.shop, name="皂", points_price=7, stock=4, limit_per_person=3, now=T0),
        ]
        self.initial_stock = {i.pk: i.stock for i in self.items}
        self.orders: list[RedemptionOrder] = []

    def user(self, who):
        return getattr(self.world, who)

    def apply(self, action):
        kind = action[0]
        getattr(self, f"do_{kind}")(*action[1:])
        self.check()

    def do_earn(self, who, n):
        give_points(self.user(who), n, kind=EntryKind.EARN, now=self.now)
        self.balance[who] += n

    def do_spend(self, who, n):
        if self.balance[who] < n:
            with pytest.raises(Conflict):
                give_points(self.user(who), -n, now=self.now)
        else:
            give_points(self.user(who), -n, now=self.now)
            self.balance[who] -= n

    def do_redeem(self, who, index, quantity):
        item = self.items[index]
        item.refresh_from_db()
        user = self.user(who)
        price = item.points_price * quantity
        for order in self.orders:
            # Cancels, verifications and the expiry sweep changed them in the database.
            order.refresh_from_db()
        live = sum(
            o.quantity
            for o in self.orders
            if o.item_id == item.pk
            and o.user_id == user.pk
            and o.status in (OrderStatus.PENDING, OrderStatus.VERIFIED)
        )
        expected = None
        if item.stock < quantity:
            expected = "out_of_stock"
        elif self.balance[who] < price:
            expected = "insufficient_points"
        elif item.limit_per_person and live + quantity > item.limit_per_person:
            expected = "limit_reached"
        if expected:
            with pytest.raises(Conflict) as exc:
                services.redeem(user, item.pk, quantity, now=self.now)
            assert exc.value.code == expected
            return
        self.orders.append(services.redeem(user, item.pk, quantity, now=self.now))
        self.balance[who] -= price

    def _pick(self, k):
        if not self.orders:
            return None
        order = self.orders[k % len(self.orders)]
        order.refresh_from_db()
        return order

    def _who(self, order):
        return next(p for p in PEOPLE if self.user(p).pk == order.user_id)

    def do_cancel(self, k):
        order = self._pick(k)
        if order is None:
            return
        if order.status != OrderStatus.PENDING:
            with pytest.raises(Conflict):
                services.cancel_order(order.user, order.code, now=self.now)
            return
        services.cancel_order(order.user, order.code, now=self.now)
        self.balance[self._who(order)] += order.points

    def do_verify(self, k):
        order = self._pick(k)
        if order is None:
            return
        pending = order.status == OrderStatus.PENDING
        if pending and order.expires_at > self.now:
            services.verify_order(self.shops.clerk, order.redeem_code, now=self.now)
            return
        with pytest.raises(Conflict):
            services.verify_order(self.shops.clerk, order.redeem_code, now=self.now)
        if pending:  # found expired at the counter: refunded
            self.balance[self._who(order)] += order.points

    def do_expire_orders(self, days):
        self.now += timedelta(days=days)
        for order in self.orders:
            order.refresh_from_db()
            if order.status == OrderStatus.PENDING and order.expires_at <= self.now:
                self.balance[self._who(order)] += order.points
        services.expire_orders(now=self.now)

    def do_expire_points(self, days):
        self.now += timedelta(days=days)
        before = {p: ledger.balance(self.user(p)) for p in PEOPLE}
        with override_settings(POINTS_EXPIRE_AFTER_YEARS=1):
            services.expire_points(now=self.now)
        for p in PEOPLE:
            lapsed = before[p] - ledger.balance(self.user(p))
            assert 0 <= lapsed <= before[p]
            self.balance[p] -= lapsed

    def check(self):
        for p in PEOPLE:
            user = self.user(p)
            assert ledger.balance(user) == entries_sum(user) == self.balance[p] >= 0
        for item in self.items:
            item.refresh_from_db()
            live = RedemptionOrder.objects.filter(
                item=item, status__in=(OrderStatus.PENDING, OrderStatus.VERIFIED)
            )
            assert item.stock + sum(o.quantity for o in live) == self.initial_stock[item.pk]
        for order in RedemptionOrder.objects.all():
            entries = PointEntry.objects.filter(source_type="order", source_ref=order.code)
            by_kind = {e.kind: e.amount for e in entries}
            assert by_kind[EntryKind.REDEEM] == -order.points
            if order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
                assert by_kind.get(EntryKind.REFUND) == order.points
                assert entries.count() == 2
            else:
                assert entries.count() == 1


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, max_size=30))
def test_ledger_invariants_hold_for_any_sequence(world, shops, steps):
    savepoint = transaction.savepoint()
    try:
        model = Model(world, shops)
        for action in steps:
            model.apply(action)
    finally:
        transaction.savepoint_rollback(savepoint)


def test_a_refund_restores_exactly(world, shops):
    give_points(world.citizen, 137)
    order = services.redeem(world.citizen, shops.item.pk, 2)
    assert ledger.balance(world.citizen) == 37
    services.cancel_order(world.citizen, order.code)
    assert ledger.balance(world.citizen) == 137


def test_no_debit_below_zero(world):
    give_points(world.citizen, 10)
    with pytest.raises(Conflict) as exc:
        give_points(world.citizen, -11)
    assert exc.value.code == "insufficient_points"
    give_points(world.citizen, -10)
    assert ledger.balance(world.citizen) == 0


def test_entries_cannot_be_changed_or_deleted(world):
    entry = give_points(world.citizen, 10)
    entry.amount = 1000
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()
    with pytest.raises(ValueError):
        PointEntry.objects.filter(pk=entry.pk).update(amount=1000)
    with pytest.raises(ValueError):
        PointEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(ValueError):
        PointEntry.objects.all().delete()
    assert PointEntry.objects.get(pk=entry.pk).amount == 10
    assert ledger.balance(world.citizen) == 10


@pytest.mark.parametrize("amount", [0, 1.5, "10", True, None])
def test_post_refuses_non_integer_or_zero_amounts(world, amount):
    with pytest.raises(Exception) as exc:
        ledger.post(world.citizen, amount, EntryKind.ADJUST, "x", source_type="t", source_ref="t")
    assert getattr(exc.value, "code", "") == "bad_amount"
    assert not PointEntry.objects.exists()
