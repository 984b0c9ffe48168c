"""The admin: rules are tuned there, the ledger is read-only, bad prices are refused and
orders are cancelled only through the services."""

import pytest
from django.test import Client

from pingan.accounts.models import User
from pingan.points import ledger, services
from pingan.points.models import OrderStatus, PointEntry, PointRule, RewardItem

from .helpers import give_points

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(world):
    admin = User.objects.create_superuser("root", "root@example.com", "x-very-secret-1")
    client = Client()
    client.force_login(admin)
    return client


def test_rules_are_editable(world, admin_client):
    rule = PointRule.objects.get(code="tip_confirmed")
    page = admin_client.get(f"/admin/points/pointrule/{rule.pk}/change/")
    assert page.status_code == 200
    response = admin_client.post(
        f"/admin/points/pointrule/{rule.pk}/change/",
        {"points": 25, "active": "on", "task_kinds": "[]"},
    )
    assert response.status_code == 302, response.content[:2000]
    rule.refresh_from_db()
    assert rule.points == 25


def test_the_ledger_is_read_only(world, admin_client):
    entry = give_points(world.citizen, 10)
    assert admin_client.get("/admin/points/pointentry/").status_code == 200
    assert admin_client.get("/admin/points/pointentry/add/").status_code == 403
    page = admin_client.get(f"/admin/points/pointentry/{entry.pk}/change/")
    assert page.status_code == 200 and b'name="amount"' not in page.content
    admin_client.post(f"/admin/points/pointentry/{entry.pk}/change/", {"amount": 999})
    assert admin_client.post(f"/admin/points/pointentry/{entry.pk}/delete/").status_code == 403
    assert PointEntry.objects.get().amount == 10


def test_item_with_zero_price_is_refused(world, shops, admin_client):
    response = admin_client.post(
        "/admin/points/rewarditem/add/",
        {
            "shop": shops.shop.pk,
            "name": "白送",
            "points_price": 0,
            "stock": 5,
            "limit_period": "total",
            "active": "on",
        },
    )
    assert response.status_code == 200
    assert "所需积分必须是正整数" in response.content.decode()
    assert not RewardItem.objects.filter(name="白送").exists()


def test_item_added_in_the_admin(world, shops, admin_client):
    response = admin_client.post(
        "/admin/points/rewarditem/add/",
        {
            "shop": shops.shop.pk,
            "name": "肥皂",
            "points_price": 5,
            "stock": 5,
            "limit_period": "total",
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert RewardItem.objects.get(name="肥皂").created_at is not None


def test_shop_pages_and_order_cancel_action(world, shops, admin_client):
    give_points(world.citizen, 100)
    order = services.redeem(world.citizen, shops.item.pk)
    for url in (
        "/admin/points/shop/",
        f"/admin/points/shop/{shops.shop.pk}/change/",
        "/admin/points/shop/add/",
        "/admin/points/redemptionorder/",
        f"/admin/points/redemptionorder/{order.pk}/change/",
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert order.redeem_code.encode() not in response.content
    response = admin_client.post(
        "/admin/points/redemptionorder/",
        {"action": "cancel_orders", "_selected_action": [order.pk]},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert ledger.balance(world.citizen) == 100


def test_shop_added_in_the_admin_gets_a_code_and_its_org_path(world, admin_client):
    from pingan.points.models import Shop

    response = admin_client.post(
        "/admin/points/shop/add/",
        {
            "name": "南门爱心超市",
            "kind": "love_supermarket",
            "org": world.office_a.pk,
            "active": "on",
            "items-TOTAL_FORMS": "1",
            "items-INITIAL_FORMS": "0",
            "items-MIN_NUM_FORMS": "0",
            "items-MAX_NUM_FORMS": "1000",
            "items-0-name": "面条",
            "items-0-points_price": "8",
            "items-0-stock": "20",
            "items-0-limit_period": "total",
            "items-0-active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    shop = Shop.objects.get(name="南门爱心超市")
    assert shop.code.startswith("SP") and shop.org_path == world.office_a.path
    assert shop.items.get().created_at is not None
