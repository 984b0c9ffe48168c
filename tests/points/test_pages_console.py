"""The console pages of points: the ledger in scope with its filters and totals, the shops and
one shop (items, stock, clerks, orders). Who may open and change what; a refused change
changes nothing; bad input gets Chinese messages."""

from datetime import datetime

import pytest
from django.test import Client

from pingan.points import ledger, recognition
from pingan.points.models import (
    EntryKind,
    OrderStatus,
    PointEntry,
    RedemptionOrder,
    RewardItem,
    Shop,
)

from .helpers import give_points, make_clerk, make_order

pytestmark = pytest.mark.django_db

TZ = recognition.LOCAL_TZ


def as_user(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def state():
    return (
        PointEntry.objects.count(),
        list(RedemptionOrder.objects.order_by("pk").values_list("status", flat=True)),
        list(RewardItem.objects.order_by("pk").values_list("name", "points_price", "stock")),
        list(Shop.objects.order_by("pk").values_list("name", "active")),
        sorted(Shop.clerks.through.objects.values_list("shop_id", "user_id")),
    )


@pytest.fixture
def entries(world):
    """Entries at station A (office A) and station B, in two months."""
    nov, dec = datetime(2026, 11, 10, tzinfo=TZ), datetime(2026, 12, 3, tzinfo=TZ)
    a, b = world.office_a, world.office_b
    give_points(world.citizen, 100, kind=EntryKind.EARN, reason="线索经核实", org=a, now=nov)
    give_points(world.citizen, -30, kind=EntryKind.REDEEM, reason="兑换大米", org=a, now=nov)
    give_points(world.citizen, 30, kind=EntryKind.REFUND, reason="取消退还", org=a, now=dec)
    give_points(world.volunteer, 40, kind=EntryKind.EARN, reason="夜间巡逻", org=a, now=dec)
    give_points(world.citizen2, 70, kind=EntryKind.EARN, reason="泉江的积分", org=b, now=nov)


# --- who may open what ---------------------------------------------------------------------------


def test_anonymous_and_residents_are_kept_out(world, shops):
    urls = [
        "/console/points/",
        "/console/shops/",
        f"/console/shops/{shops.shop.code}/",
        "/console/volunteers/stats/",
        "/console/volunteers/stats.xlsx",
    ]
    for url in urls:
        response = as_user().get(url)
        assert response.status_code == 302 and response.url.startswith("/login/?next="), url
        for user in (world.citizen, world.volunteer, shops.clerk):
            assert as_user(user).get(url).status_code == 403, (user, url)
    before = state()
    for user in (None, world.citizen, shops.clerk):
        as_user(user).post("/console/shops/", {"name": "新店", "kind": "partner_store"})
        as_user(user).post(
            f"/console/shops/{shops.shop.code}/restock/",
            {"item": shops.item.pk, "quantity": 5},
        )
    assert state() == before


# --- the ledger ----------------------------------------------------------------------------------


def test_ledger_in_scope_with_totals(world, entries):
    response = as_user(world.chief_a).get("/console/points/")
    assert response.status_code == 200
    page = text(response)
    assert "线索经核实" in page and "夜间巡逻" in page and "泉江的积分" not in page
    # Totals over the whole filtered set: 100 + 40 earned, 30 redeemed, 30 refunded.
    assert "<b>4</b>记录数" in page and "<b>140</b>获得" in page
    assert "<b>-30</b>兑换" in page and "<b>30</b>退还" in page and "<b>140</b>合计" in page
    # People are masked.
    assert "c******" in page
    county = text(as_user(world.commander).get("/console/points/"))
    assert "泉江的积分" in county and "<b>210</b>合计" in county
    other = text(as_user(world.officer_b).get("/console/points/"))
    assert "泉江的积分" in other and "线索经核实" not in other


def test_ledger_filters(world, entries):
    client = as_user(world.commander)
    earned = text(client.get("/console/points/", {"kind": "earn"}))
    assert "<b>3</b>记录数" in earned and "兑换大米" not in earned
    november = text(client.get("/console/points/", {"month": "2026-11"}))
    assert "<b>3</b>记录数" in november and "夜间巡逻" not in november
    mine = text(client.get("/console/points/", {"person": "volunteer"}))
    assert "<b>1</b>记录数" in mine and "夜间巡逻" in mine
    world.citizen.phone = "+8613800138000"
    world.citizen.save()
    by_phone = text(client.get("/console/points/", {"person": "138 0013 8000", "month": "2026-12"}))
    assert "<b>1</b>记录数" in by_phone and "取消退还" in by_phone
    nobody = text(client.get("/console/points/", {"person": "nobody"}))
    assert "<b>0</b>记录数" in nobody and "没有符合条件的记录" in nobody


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"month": "2026-13"}, "月份的月份应在 1 到 12 之间"),
        ({"month": "11/2026"}, "月份格式应为 年-月"),
        ({"kind": "gift"}, "类型的选项无效"),
        ({"person": "123"}, "手机号格式不正确"),
        ({"person": "x" * 41}, "人员不能超过 40 字"),
    ],
)
def test_ledger_bad_filters(world, entries, params, message):
    response = as_user(world.commander).get("/console/points/", params)
    assert response.status_code == 400
    assert message in text(response)


# --- shops ---------------------------------------------------------------------------------------


def test_shops_list_in_scope(world, shops):
    page = text(as_user(world.chief_a).get("/console/shops/"))
    assert "东门爱心超市" in page and "大坑合作超市" not in page and "开设兑换点" in page
    county = text(as_user(world.commander).get("/console/shops/"))
    assert "东门爱心超市" in county and "大坑合作超市" in county
    aux = text(as_user(world.aux_a).get("/console/shops/"))
    assert "东门爱心超市" in aux and "开设兑换点" not in aux


def test_create_shop(world):
    client = as_user(world.officer_a)
    response = client.post(
        "/console/shops/",
        {
            "name": "东门合作商店",
            "kind": "partner_store",
            "org": "O-A1",
            "address": "东门街 1 号",
            "phone": "0797-1234567",
            "opening_hours": "8:00-18:00",
        },
    )
    shop = Shop.objects.get(name="东门合作商店")
    assert response.status_code == 302 and response.url == f"/console/shops/{shop.code}/"
    assert shop.org == world.office_a and shop.code.startswith("SP")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "kind": "partner_store", "org": "O-A1"}, "请填写兑换点名称"),
        ({"name": "店", "kind": "bank", "org": "O-A1"}, "类型的选项无效"),
        ({"name": "店", "kind": "partner_store", "org": "O-B1"}, "所属单位不在您的辖区内"),
        ({"name": "店", "kind": "partner_store", "org": "O-A1", "phone": "12"}, "无效"),
    ],
)
def test_create_shop_bad_input(world, data, message):
    before = state()
    response = as_user(world.officer_a).post("/console/shops/", data)
    assert response.status_code in (400, 403)
    assert message in text(response)
    assert state() == before


def test_auxiliary_cannot_create_shop(world):
    before = state()
    data = {"name": "辅警的店", "kind": "partner_store", "org": "O-A1"}
    assert as_user(world.aux_a).post("/console/shops/", data).status_code == 403
    assert state() == before


def test_shop_page(world, shops):
    give_points(world.citizen, 100)
    make_order(world.citizen, shops.item)
    response = as_user(world.officer_a).get(f"/console/shops/{shops.shop.code}/")
    assert response.status_code == 200
    page = text(response)
    assert "大米 5 斤" in page and "店员小周" in page and "添加商品" in page and "补货" in page
    assert "待核销" in page and "c******" in page
    assert "全部订单（1）" in page and "待核销（1）" in page
    # Staff outside the shop's station: the same 404 as a shop that does not exist.
    assert as_user(world.officer_b).get(f"/console/shops/{shops.shop.code}/").status_code == 404
    assert as_user(world.officer_a).get("/console/shops/NOPE/").status_code == 404
    # An auxiliary in scope reads, but gets no forms.
    aux = text(as_user(world.aux_a).get(f"/console/shops/{shops.shop.code}/"))
    assert "大米 5 斤" in aux and "添加商品" not in aux


def test_add_edit_and_restock_items(world, shops):
    client = as_user(world.officer_a)
    url = f"/console/shops/{shops.shop.code}/"
    response = client.post(
        url + "item/",
        {"name": "保温杯", "points_price": "120", "stock": "4", "limit_per_person": "1",
         "limit_period": "month", "active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    cup = RewardItem.objects.get(name="保温杯")
    assert (cup.points_price, cup.stock, cup.limit_per_person, cup.limit_period) == (
        120,
        4,
        1,
        "month",
    )
    response = client.post(
        url + "item/",
        {"item": cup.pk, "name": "保温杯（大）", "points_price": "150", "stock": "4",
         "expected_stock": "4", "limit_period": "total"},
    )  # fmt: skip
    assert response.status_code == 302
    cup.refresh_from_db()
    assert (cup.name, cup.points_price, cup.active, cup.limit_per_person) == (
        "保温杯（大）",
        150,
        False,
        None,
    )
    response = client.post(url + "restock/", {"item": cup.pk, "quantity": "6"})
    assert response.status_code == 302
    cup.refresh_from_db()
    assert cup.stock == 10
    assert "已补货 6 件，现有库存 10 件" in text(client.get(url))


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("item", {"name": "毛巾", "points_price": "-5", "stock": "1", "limit_period": "total"},
         "所需积分必须是正整数"),
        ("item", {"name": "毛巾", "points_price": "0", "stock": "1", "limit_period": "total"},
         "所需积分必须是正整数"),
        ("item", {"name": "毛巾", "points_price": "abc", "stock": "1", "limit_period": "total"},
         "所需积分必须是正整数"),
        ("item", {"name": "毛巾", "points_price": "5", "stock": "-1", "limit_period": "total"},
         "库存不能为负数"),
        ("item", {"name": "", "points_price": "5", "stock": "1", "limit_period": "total"},
         "请填写商品名称"),
        ("item", {"name": "毛巾", "points_price": "5", "stock": "1", "limit_period": "week"},
         "限兑周期的选项无效"),
        ("restock", {"quantity": "0"}, "补货数量不能小于 1"),
        ("restock", {"quantity": "many"}, "补货数量必须是数字"),
        ("clerk-add", {"username": "citizen"}, "未找到该店员账号"),
        ("clerk-add", {"username": ""}, "请填写店员账号"),
        ("order-cancel", {"order": "DH-NOPE", "reason": "x"}, "未找到该订单"),
        ("order-cancel", {"order": "DH-NOPE", "reason": ""}, "请填写取消原因"),
        ("edit", {"name": ""}, "请填写兑换点名称"),
    ],
)  # fmt: skip
def test_shop_actions_bad_input(world, shops, action, data, message):
    if action == "restock":
        data = {"item": shops.item.pk, **data}
    before = state()
    response = as_user(world.officer_a).post(f"/console/shops/{shops.shop.code}/{action}/", data)
    assert response.status_code in (400, 404, 409)
    assert message in text(response)
    assert state() == before


def test_foreign_item_cannot_be_edited_through_my_shop(world, shops):
    before = state()
    client = as_user(world.officer_a)
    url = f"/console/shops/{shops.shop.code}/"
    response = client.post(url + "restock/", {"item": shops.item_b.pk, "quantity": "5"})
    assert response.status_code == 400 and "未找到该商品" in text(response)
    data = {"item": shops.item_b.pk, "name": "x", "points_price": "1", "stock": "1",
            "limit_period": "total"}  # fmt: skip
    assert "未找到该商品" in text(client.post(url + "item/", data))
    assert state() == before


def test_clerks_added_and_removed(world, shops):
    newcomer = make_clerk(username="clerk_new", display_name="新店员")
    client = as_user(world.chief_a)
    url = f"/console/shops/{shops.shop.code}/"
    assert client.post(url + "clerk-add/", {"username": "clerk_new"}).status_code == 302
    assert set(shops.shop.clerks.all()) == {shops.clerk, newcomer}
    assert client.post(url + "clerk-remove/", {"user": shops.clerk.pk}).status_code == 302
    assert list(shops.shop.clerks.all()) == [newcomer]
    response = client.post(url + "clerk-remove/", {"user": shops.clerk_b.pk})
    assert response.status_code == 400 and "该用户不是本店店员" in text(response)


def test_manager_cancels_an_order(world, shops):
    give_points(world.citizen, 100)
    order = make_order(world.citizen, shops.item)
    client = as_user(world.officer_a)
    url = f"/console/shops/{shops.shop.code}/order-cancel/"
    assert client.post(url, {"order": order.code, "reason": "商品质量问题"}).status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and order.cancel_reason == "商品质量问题"
    assert ledger.balance(world.citizen) == 100
    again = client.post(url, {"order": order.code, "reason": "再取消"})
    assert again.status_code == 409 and "该订单已取消" in text(again)


def test_edit_shop_and_close_it(world, shops):
    client = as_user(world.officer_a)
    response = client.post(
        f"/console/shops/{shops.shop.code}/edit/",
        {"name": "东门爱心超市（新址）", "address": "新街 2 号", "opening_hours": "9:00-17:00"},
    )
    assert response.status_code == 302
    shops.shop.refresh_from_db()
    assert shops.shop.name == "东门爱心超市（新址）" and not shops.shop.active


def test_refused_shop_changes_change_nothing(world, shops):
    give_points(world.citizen, 100)
    order = make_order(world.citizen, shops.item)
    before = state()
    url = f"/console/shops/{shops.shop.code}/"
    posts = [
        ("restock/", {"item": shops.item.pk, "quantity": "5"}),
        ("item/", {"name": "x", "points_price": "1", "stock": "1", "limit_period": "total"}),
        ("clerk-remove/", {"user": shops.clerk.pk}),
        ("order-cancel/", {"order": order.code, "reason": "x"}),
        ("edit/", {"name": "改名"}),
    ]
    for path, data in posts:
        # An auxiliary in scope: 403. An officer of another station: 404, like a missing shop.
        assert as_user(world.aux_a).post(url + path, data).status_code == 403, path
        assert as_user(world.officer_b).post(url + path, data).status_code == 404, path
        assert as_user(world.officer_a).get(url + path).status_code == 405, path
    assert as_user(world.officer_a).post(url + "explode/", {}).status_code == 404
    assert state() == before
