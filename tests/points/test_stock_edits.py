"""Stock is never overwritten with a figure the editor read earlier: redemptions decrement it
at any moment, so the console's item form is a compare-and-set against the stock it showed,
and the admin changes an existing item's stock only by a delta (restock / write-off)."""

import re

import pytest
from django.test import Client

from pingan.accounts.models import Role, User
from pingan.core.errors import Conflict, ServiceError
from pingan.points import services
from pingan.points.models import RedemptionOrder
from tests.conftest import make_user
from tests.threads import race

from .helpers import give_points, make_item

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def seen_edit_form(client, shop, item) -> dict:
    """The item's edit form as the console rendered it (hidden fields included)."""
    page = client.get(f"/console/shops/{shop.code}/").content.decode()
    anchor = page.index(f'id="item{item.pk}-name"')
    html = page[page.rfind("<form", 0, anchor) : page.index("</form>", anchor)]
    data = {}
    for tag in re.findall(r"<input [^>]*>", html):
        name = re.search(r'name="(\w+)"', tag).group(1)
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag:
            if "checked" in tag:
                data[name] = "on"
        elif value is not None:
            data[name] = value.group(1)
    data.pop("csrfmiddlewaretoken", None)
    return data


def edit(client, shop, data):
    return client.post(f"/console/shops/{shop.code}/item/", data)


def test_console_edit_does_not_write_back_the_stock_it_showed(world, shops):
    """A rename submitted after a redemption must not put the redeemed unit back."""
    client = as_user(world.officer_a)
    data = seen_edit_form(client, shops.shop, shops.item)
    assert data["stock"] == "10" and data["expected_stock"] == "10"
    give_points(world.citizen, 100)
    services.redeem(world.citizen, shops.item.pk)  # stock 10 -> 9 while the form is open
    response = edit(
        client, shops.shop, {**data, "name": "大米 5 斤（新米）", "limit_period": "total"}
    )
    assert response.status_code == 302
    shops.item.refresh_from_db()
    assert (shops.item.name, shops.item.stock) == ("大米 5 斤（新米）", 9)


def test_console_stock_change_is_refused_when_the_stock_moved(world, shops):
    client = as_user(world.officer_a)
    data = seen_edit_form(client, shops.shop, shops.item)
    give_points(world.citizen, 100)
    services.redeem(world.citizen, shops.item.pk)
    response = edit(
        client, shops.shop, {**data, "name": "改名", "stock": "20", "limit_period": "total"}
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "您看到的是 10 件，现在是 9 件" in body and "本次修改未保存" in body
    shops.item.refresh_from_db()
    assert (shops.item.name, shops.item.stock) == ("大米 5 斤", 9)
    # Seen the current figure: the change is saved.
    data = seen_edit_form(client, shops.shop, shops.item)
    assert (
        edit(client, shops.shop, {**data, "stock": "20", "limit_period": "total"}).status_code
        == 302
    )
    shops.item.refresh_from_db()
    assert shops.item.stock == 20


def test_service_requires_the_seen_stock_to_change_it(world, shops):
    with pytest.raises(ServiceError) as caught:
        services.save_item(
            world.officer_a, shops.shop, item=shops.item, name="米", points_price=50, stock=3
        )
    assert caught.value.code == "expected_stock_required"
    saved = services.save_item(
        world.officer_a, shops.shop, item=shops.item, name="米", points_price=50
    )
    assert (saved.name, saved.stock) == ("米", 10)
    with pytest.raises(Conflict) as caught:
        services.save_item(
            world.officer_a,
            shops.shop,
            item=shops.item,
            name="米",
            points_price=50,
            stock=3,
            expected_stock=11,
        )
    assert caught.value.code == "stock_changed"


# --- admin --------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(world):
    admin = User.objects.create_superuser("root", "root@example.com", "x-very-secret-1")
    return as_user(admin)


def _admin_item_data(item, **extra) -> dict:
    return {
        "shop": item.shop_id,
        "name": item.name,
        "description": item.description,
        "points_price": item.points_price,
        "stock": item.stock,
        "limit_per_person": "",
        "limit_period": item.limit_period,
        "active": "on",
        **extra,
    }


def test_admin_does_not_write_stock_as_a_plain_field(world, shops, admin_client):
    url = f"/admin/points/rewarditem/{shops.item.pk}/change/"
    assert admin_client.get(url).status_code == 200
    stale = _admin_item_data(shops.item, name="大米（后台改名）")  # stock 10 as the page showed
    give_points(world.citizen, 100)
    services.redeem(world.citizen, shops.item.pk)  # 10 -> 9
    assert admin_client.post(url, stale).status_code == 302
    shops.item.refresh_from_db()
    assert (shops.item.name, shops.item.stock) == ("大米（后台改名）", 9)
    # Typing a figure into stock does nothing either; the delta adds goods.
    response = admin_client.post(url, {**stale, "stock": "500", "stock_change": "5"})
    assert response.status_code == 302
    shops.item.refresh_from_db()
    assert shops.item.stock == 14
    admin_client.post(url, {**stale, "stock_change": "-4"})
    shops.item.refresh_from_db()
    assert shops.item.stock == 10


def test_admin_inline_keeps_stock_and_applies_the_delta(world, shops, admin_client):
    url = f"/admin/points/shop/{shops.shop.pk}/change/"
    assert admin_client.get(url).status_code == 200
    give_points(world.citizen, 100)
    services.redeem(world.citizen, shops.item.pk)  # 10 -> 9 after the page was read
    shop = shops.shop
    data = {
        "name": shop.name,
        "kind": shop.kind,
        "org": shop.org_id,
        "address": shop.address,
        "active": "on",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "1",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
        "items-0-id": shops.item.pk,
        "items-0-shop": shop.pk,
        "items-0-name": "大米 10 斤",
        "items-0-points_price": "50",
        "items-0-stock": "10",
        "items-0-stock_change": "2",
        "items-0-limit_period": "total",
        "items-0-active": "on",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    shops.item.refresh_from_db()
    assert (shops.item.name, shops.item.stock) == ("大米 10 斤", 11)


# --- real threads (PostgreSQL) ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
@pytest.mark.usefixtures("postgres_only")
def test_renaming_while_residents_redeem_loses_no_redemption(world, shops):
    item = make_item(shops.shop, name="洗衣液", points_price=10, stock=100)
    people = [make_user(f"s{i:02d}", Role.CITIZEN) for i in range(12)]
    for person in people:
        give_points(person, 10)
    editor = as_user(world.officer_a)
    data = seen_edit_form(editor, shops.shop, item)

    def rename():
        return edit(editor, shops.shop, {**data, "name": "洗衣液 2 升", "limit_period": "total"})

    results, errors = race(rename, *[lambda p=p: services.redeem(p, item.pk) for p in people])
    assert errors == [None] * 13, errors
    assert results[0].status_code == 302
    item.refresh_from_db()
    assert item.name == "洗衣液 2 升"
    assert item.stock == 100 - 12 == 100 - RedemptionOrder.objects.filter(item=item).count()


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
@pytest.mark.usefixtures("postgres_only")
def test_setting_stock_while_residents_redeem_is_compare_and_set(world, shops):
    item = make_item(shops.shop, name="毛巾", points_price=10, stock=100)
    people = [make_user(f"t{i:02d}", Role.CITIZEN) for i in range(12)]
    for person in people:
        give_points(person, 10)

    def set_stock():
        return services.save_item(
            world.officer_a,
            shops.shop,
            item=item,
            name="毛巾",
            points_price=10,
            stock=50,
            expected_stock=100,
        )

    results, errors = race(set_stock, *[lambda p=p: services.redeem(p, item.pk) for p in people])
    assert errors[1:] == [None] * 12, errors
    item.refresh_from_db()
    orders = RedemptionOrder.objects.filter(item=item).count()
    assert orders == 12
    if errors[0] is None:
        # The new figure replaced exactly the 100 the editor saw; later redemptions count.
        assert 50 - 12 <= item.stock <= 50
    else:
        assert isinstance(errors[0], Conflict) and errors[0].code == "stock_changed"
        assert item.stock == 100 - 12
