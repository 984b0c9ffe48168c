"""Who sees what: residents their own ledger and orders, clerks their shops, staff their scope.
Someone else's record is a 404, like a missing one."""

import pytest

from pingan.core.errors import NotFound
from pingan.points import services

from .helpers import give_points

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(world, shops):
    give_points(world.citizen, 500, org=world.office_a)
    give_points(world.volunteer, 500, org=world.office_b)
    return {
        "citizen_a": services.redeem(world.citizen, shops.item.pk),
        "volunteer_b": services.redeem(world.volunteer, shops.item_b.pk),
    }


def codes(qs):
    return {o.code for o in qs}


def test_residents_see_only_their_own_orders(world, shops, orders):
    assert codes(services.orders_for(world.citizen)) == {orders["citizen_a"].code}
    assert codes(services.orders_for(world.volunteer)) == {orders["volunteer_b"].code}
    with pytest.raises(NotFound):
        services.get_order_for(world.citizen, orders["volunteer_b"].code)
    with pytest.raises(NotFound):
        services.get_order_for(world.citizen2, orders["citizen_a"].code)


def test_clerks_see_only_their_shop(world, shops, orders):
    assert codes(services.orders_for(shops.clerk)) == {orders["citizen_a"].code}
    assert codes(services.orders_for(shops.clerk_b)) == {orders["volunteer_b"].code}
    with pytest.raises(NotFound):
        services.get_order_for(shops.clerk, orders["volunteer_b"].code)
    assert list(services.shops_for(shops.clerk)) == [shops.shop]
    with pytest.raises(NotFound):
        services.get_shop_for(shops.clerk, shops.shop_b.code)


def test_staff_see_their_scope(world, shops, orders):
    assert codes(services.orders_for(world.officer_a)) == {orders["citizen_a"].code}
    assert codes(services.orders_for(world.officer_b)) == {orders["volunteer_b"].code}
    assert codes(services.orders_for(world.commander)) == {o.code for o in orders.values()}
    assert set(services.shops_for(world.chief_a)) == {shops.shop}
    assert set(services.shops_for(world.commander)) == {shops.shop, shops.shop_b}


def test_residents_see_open_shops_and_items_on_the_shelf(world, shops):
    from .helpers import make_item

    hidden = make_item(shops.shop, name="下架", active=False)
    assert set(services.shops_for(world.citizen)) == {shops.shop, shops.shop_b}
    assert hidden not in services.items_for(world.citizen, shops.shop)
    assert hidden in services.items_for(world.officer_a, shops.shop)
    shops.shop_b.active = False
    shops.shop_b.save()
    assert set(services.shops_for(world.volunteer)) == {shops.shop}
    with pytest.raises(NotFound):
        services.get_shop_for(world.volunteer, shops.shop_b.code)
    # Staff still see a closed shop of their scope.
    assert services.get_shop_for(world.officer_b, shops.shop_b.code) == shops.shop_b


def test_anonymous_sees_nothing(world, shops, orders):
    from django.contrib.auth.models import AnonymousUser

    anon = AnonymousUser()
    assert not services.orders_for(anon).exists()
    assert not services.shops_for(anon).exists()
    assert not services.ledger_for(anon).exists()


def test_a_resident_sees_only_their_own_ledger(world, shops, orders):
    mine = services.ledger_for(world.citizen)
    assert {e.user_id for e in mine} == {world.citizen.pk}
    assert services.ledger_for(world.citizen, user=world.citizen).count() == mine.count()
    with pytest.raises(NotFound):
        services.ledger_for(world.citizen, user=world.volunteer)
    with pytest.raises(NotFound):
        services.ledger_for(shops.clerk, user=world.citizen)


def test_staff_see_ledger_entries_of_their_scope(world, shops, orders):
    a = services.ledger_for(world.officer_a)
    assert {e.user_id for e in a} == {world.citizen.pk}
    b = services.ledger_for(world.officer_b)
    assert {e.user_id for e in b} == {world.volunteer.pk}
    assert services.ledger_for(world.officer_a, user=world.volunteer).count() == 0
    assert services.ledger_for(world.commander).count() == 4
    assert services.ledger_for(world.commander, user=world.volunteer).count() == 2
