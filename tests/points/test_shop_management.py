"""Opening shops, stocking items, naming clerks: who may, and what input is refused."""

import re

import pytest

from pingan.core.errors import Forbidden, NotFound, ServiceError
from pingan.points import services
from pingan.points.models import RewardItem, Shop

from .helpers import make_clerk

pytestmark = pytest.mark.django_db


def test_officer_opens_a_shop_in_scope(world):
    shop = services.create_shop(
        world.officer_a,
        name=" 东门爱心超市 ",
        kind="love_supermarket",
        org=world.office_a,
        address="东门街 8 号",
        phone="0797-1234567",
        opening_hours="周一至周五 9:00-17:00",
        lng=114.3,
        lat=26.3,
    )
    assert re.fullmatch(r"SP\d{8}-\d{6}", shop.code)
    assert (shop.name, shop.org_path, shop.phone) == (
        "东门爱心超市",
        world.office_a.path,
        "+867971234567",
    )
    assert shop.active


@pytest.mark.parametrize("who", ["officer_b", "aux_a", "worker_a", "citizen", "volunteer"])
def test_outsiders_and_wrong_roles_cannot_open_a_shop(world, who):
    with pytest.raises(Forbidden):
        services.create_shop(
            getattr(world, who), name="店", kind="partner_store", org=world.office_a
        )
    assert not Shop.objects.exists()


def test_clerks_cannot_open_a_shop(world):
    clerk = make_clerk()
    with pytest.raises(Forbidden):
        services.create_shop(clerk, name="店", kind="partner_store", org=world.office_a)


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"name": "  "}, "name_required"),
        ({"name": "店" * 65}, "name_too_long"),
        ({"kind": "casino"}, "bad_kind"),
        ({"phone": "12"}, "bad_phone"),
        ({"lng": 200, "lat": 0}, "bad_location"),
        ({"lng": "x", "lat": 0}, "bad_location"),
        ({"address": "路" * 201}, "address_too_long"),
    ],
)
def test_bad_shop_input(world, fields, code):
    args = {"name": "合作商户", "kind": "partner_store", "org": world.office_a, **fields}
    with pytest.raises(ServiceError) as exc:
        services.create_shop(world.chief_a, **args)
    assert exc.value.code == code
    assert not Shop.objects.exists()


def test_update_shop_and_close_it(world, shops):
    services.update_shop(world.chief_a, shops.shop, name="新名字", active=False)
    shops.shop.refresh_from_db()
    assert (shops.shop.name, shops.shop.active) == ("新名字", False)
    with pytest.raises(ServiceError):
        services.update_shop(world.chief_a, shops.shop, org=world.office_b)
    with pytest.raises(Forbidden):
        services.update_shop(world.officer_b, shops.shop, name="x")


def test_save_item_adds_and_edits(world, shops):
    item = services.save_item(
        world.officer_a, shops.shop, name="酱油", points_price=20, stock=5, limit_per_person=2
    )
    assert (item.shop, item.points_price, item.stock, item.limit_per_person) == (
        shops.shop,
        20,
        5,
        2,
    )
    edited = services.save_item(
        world.officer_a,
        shops.shop,
        item=item,
        name="酱油 500ml",
        points_price=25,
        stock=7,
        expected_stock=5,
        limit_per_person=None,
        limit_period="month",
        active=False,
    )
    item.refresh_from_db()
    assert (item.name, item.points_price, item.stock, item.limit_per_person) == (
        "酱油 500ml",
        25,
        7,
        None,
    )
    assert edited.pk == item.pk and not item.active and item.limit_period == "month"


def test_an_item_of_another_shop_cannot_be_edited_through_this_one(world, shops):
    with pytest.raises(NotFound):
        services.save_item(
            world.commander,
            shops.shop,
            item=shops.item_b,
            name="x",
            points_price=1,
            stock=1,
            expected_stock=5,
        )


@pytest.mark.parametrize("price", [0, -5, 1.5, "abc", None, True, 10_000_001])
def test_price_must_be_a_positive_integer(world, shops, price):
    with pytest.raises(ServiceError) as exc:
        services.save_item(world.officer_a, shops.shop, name="坏价格", points_price=price, stock=1)
    assert exc.value.code == "bad_price"
    assert not RewardItem.objects.filter(name="坏价格").exists()


def test_editing_an_item_to_a_negative_price_changes_nothing(world, shops):
    with pytest.raises(ServiceError):
        services.save_item(
            world.officer_a, shops.shop, item=shops.item, name="大米", points_price=-1, stock=3
        )
    shops.item.refresh_from_db()
    assert (shops.item.points_price, shops.item.stock) == (50, 10)


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"stock": -1}, "bad_stock"),
        ({"stock": "many"}, "bad_stock"),
        ({"limit_per_person": -2}, "bad_limit"),
        ({"limit_period": "week"}, "bad_limit_period"),
        ({"name": ""}, "name_required"),
        ({"description": "长" * 301}, "description_too_long"),
    ],
)
def test_bad_item_input(world, shops, fields, code):
    args = {"name": "毛巾", "points_price": 10, "stock": 1, **fields}
    with pytest.raises(ServiceError) as exc:
        services.save_item(world.officer_a, shops.shop, **args)
    assert exc.value.code == code


def test_only_managers_in_scope_edit_items(world, shops):
    for user in (world.officer_b, world.aux_a, world.citizen, shops.clerk):
        with pytest.raises(Forbidden):
            services.save_item(user, shops.shop, name="x", points_price=1, stock=1)
        with pytest.raises(Forbidden):
            services.restock(user, shops.item, 5)
    shops.item.refresh_from_db()
    assert shops.item.stock == 10


def test_restock_adds(world, shops):
    services.restock(world.officer_a, shops.item, 15)
    shops.item.refresh_from_db()
    assert shops.item.stock == 25
    for bad in (0, -3, "x", 2_000_000):
        with pytest.raises(ServiceError) as exc:
            services.restock(world.officer_a, shops.item, bad)
        assert exc.value.code == "bad_quantity"


def test_set_clerks_takes_only_clerk_accounts(world, shops):
    other = make_clerk(username="clerk_c")
    services.set_clerks(world.chief_a, shops.shop, [shops.clerk, other])
    assert set(shops.shop.clerks.all()) == {shops.clerk, other}
    with pytest.raises(ServiceError) as exc:
        services.set_clerks(world.chief_a, shops.shop, [world.citizen])
    assert exc.value.code == "bad_clerk"
    assert set(shops.shop.clerks.all()) == {shops.clerk, other}
    with pytest.raises(Forbidden):
        services.set_clerks(world.officer_b, shops.shop, [])
