"""The phone pages of points and the shop: my points, the shop and its redeem form, my orders
and one order, and the clerk's verification pages. Who may open each, good and bad input, and
that a refused request changes nothing."""

import re
from datetime import timedelta

import pytest
from django.test import Client

from pingan.core import clock
from pingan.points import ledger, recognition
from pingan.points.models import OrderStatus, PointEntry, RedemptionOrder
from pingan.volunteers.models import VolunteerProfile

from .helpers import give_points, make_item, make_order

pytestmark = pytest.mark.django_db


def as_user(user=None, **kwargs) -> Client:
    client = Client(**kwargs)
    if user is not None:
        client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def snapshot(*items):
    """What a refused request must leave as it was."""
    return (
        PointEntry.objects.count(),
        RedemptionOrder.objects.count(),
        list(RedemptionOrder.objects.order_by("pk").values_list("status", flat=True)),
        [type(i).objects.get(pk=i.pk).stock for i in items],
    )


@pytest.fixture
def order(world, shops):
    give_points(world.citizen, 200)
    return make_order(world.citizen, shops.item)


# --- who may open what ---------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(world, shops, order):
    urls = [
        "/points/",
        "/shop/",
        "/shop/orders/",
        f"/shop/orders/{order.code}/",
        "/shop/verify/",
        f"/shop/verify/{order.redeem_code}/",
    ]
    for url in urls:
        response = as_user().get(url)
        assert response.status_code == 302, url
        assert response.url.startswith("/login/?next="), url
    before = snapshot(shops.item)
    for url, data in (
        ("/shop/", {"item": shops.item.pk, "quantity": 1}),
        (f"/shop/orders/{order.code}/cancel/", {}),
        (f"/shop/verify/{order.redeem_code}/", {}),
    ):
        response = as_user().post(url, data)
        assert response.status_code == 302 and response.url.startswith("/login/"), url
    assert snapshot(shops.item) == before


def test_resident_pages_refuse_staff_and_clerks(world, shops, order):
    for user in (world.officer_a, world.commander, shops.clerk):
        for url in ("/points/", "/shop/", "/shop/orders/", f"/shop/orders/{order.code}/"):
            assert as_user(user).get(url).status_code == 403, (user, url)
    before = snapshot(shops.item)
    response = as_user(world.officer_a).post("/shop/", {"item": shops.item.pk, "quantity": 1})
    assert response.status_code == 403
    response = as_user(shops.clerk).post(f"/shop/orders/{order.code}/cancel/", {})
    assert response.status_code == 403
    assert snapshot(shops.item) == before


def test_clerk_pages_refuse_everyone_else(world, shops, order):
    before = snapshot(shops.item)
    for user in (world.citizen, world.volunteer, world.officer_a, world.commander):
        assert as_user(user).get("/shop/verify/").status_code == 403
        assert as_user(user).get(f"/shop/verify/{order.redeem_code}/").status_code == 403
        assert as_user(user).post(f"/shop/verify/{order.redeem_code}/").status_code == 403
    assert snapshot(shops.item) == before


# --- my points -----------------------------------------------------------------------------------


def test_my_points_shows_balance_reasons_and_sources(world, shops, order):
    give_points(world.citizen2, 999, reason="别人的积分")
    response = as_user(world.citizen).get("/points/")
    assert response.status_code == 200
    page = text(response)
    assert re.search(r'id="balance"><b>150</b>', page)
    assert "测试发放" in page and "+200" in page
    assert "兑换 大米 5 斤 ×1（东门爱心超市）" in page and "-50" in page
    assert "兑换订单" in page and f'href="/shop/orders/{order.code}/"' in page
    # "+999", not "999": the page's random CSRF token may hold those digits.
    assert "别人的积分" not in page and "+999" not in page
    redeemed = text(as_user(world.citizen).get("/points/?kind=redeem"))
    assert "测试发放" not in redeemed and "-50" in redeemed
    # A filter that is not a kind is ignored, and a silly page number gives the first page.
    assert as_user(world.citizen).get("/points/?kind=zzz&page=abc").status_code == 200


def test_volunteer_sees_own_points(world, shops):
    give_points(world.volunteer, 30, reason="志愿服务")
    page = text(as_user(world.volunteer).get("/points/"))
    assert "志愿服务" in page and re.search(r"<b>30</b>", page)


# --- the shop and redeeming ----------------------------------------------------------------------


def test_shop_lists_shops_and_items(world, shops):
    make_item(shops.shop, name="洗衣液", points_price=80, stock=0)
    make_item(shops.shop, name="下架毛巾", points_price=5, stock=3, active=False)
    make_item(shops.shop, name="保温杯", points_price=120, stock=4, limit_per_person=1)
    listing = text(as_user(world.citizen).get("/shop/"))
    assert "东门爱心超市" in listing and "大坑合作超市" in listing
    page = text(as_user(world.citizen).get(f"/shop/?shop={shops.shop.code}"))
    assert "大米 5 斤" in page and "50 积分" in page and "库存 10 件" in page
    assert "洗衣液" in page and "已兑完" in page
    assert "每人限兑 1 件" in page
    assert "下架毛巾" not in page
    assert "食用油" not in page


def test_redeem_makes_an_order(world, shops):
    give_points(world.citizen, 120)
    client = as_user(world.citizen)
    response = client.post("/shop/", {"item": shops.item.pk, "quantity": "2"})
    order = RedemptionOrder.objects.get()
    assert response.status_code == 302 and response.url == f"/shop/orders/{order.code}/"
    assert (order.quantity, order.points, order.status) == (2, 100, OrderStatus.PENDING)
    assert ledger.balance(world.citizen) == 20
    shops.item.refresh_from_db()
    assert shops.item.stock == 8
    page = text(client.get(response.url))
    assert "兑换成功" in page


@pytest.mark.parametrize(
    ("setup", "data", "status", "message"),
    [
        ("poor", {"quantity": "1"}, 409, "积分不足：需要 50 分，当前余额 10 分"),
        ("rich", {"quantity": "11"}, 409, "库存不足"),
        ("limit", {"quantity": "2"}, 409, "该商品每人限兑 1 件"),
        ("rich", {"quantity": "0"}, 400, "兑换数量不能小于 1"),
        ("rich", {"quantity": "-3"}, 400, "兑换数量不能小于 1"),
        ("rich", {"quantity": "abc"}, 400, "兑换数量必须是数字"),
        ("rich", {"quantity": "21"}, 400, "兑换数量不能大于 20"),
        ("rich", {"quantity": ""}, 400, "请填写兑换数量"),
    ],
)
def test_redeem_refusals_are_chinese_and_change_nothing(world, shops, setup, data, status, message):
    give_points(world.citizen, 10 if setup == "poor" else 10_000)
    if setup == "limit":
        shops.item.limit_per_person = 1
        shops.item.save()
    before = snapshot(shops.item)
    response = as_user(world.citizen).post("/shop/", {"item": shops.item.pk, **data})
    assert response.status_code == status
    page = text(response)
    assert message in page
    # The refusal is shown next to the item, in its shop.
    assert f'id="item-{shops.item.pk}"' in page
    assert snapshot(shops.item) == before


def test_redeem_unknown_or_hidden_item(world, shops):
    give_points(world.citizen, 500)
    hidden = make_item(shops.shop, name="下架毛巾", points_price=5, stock=3, active=False)
    before = snapshot(shops.item, hidden)
    for item_id, status, message in (
        ("999999", 404, "未找到该商品"),
        ("abc", 400, "未找到该商品"),
        ("", 400, "未找到该商品"),
        (str(hidden.pk), 409, "该商品已下架"),
    ):
        response = as_user(world.citizen).post("/shop/", {"item": item_id, "quantity": "1"})
        assert response.status_code == status, item_id
        assert message in text(response)
    assert snapshot(shops.item, hidden) == before
    assert as_user(world.citizen).get("/shop/?shop=NOPE").status_code == 200


def test_redeem_needs_csrf(world, shops):
    give_points(world.citizen, 500)
    before = snapshot(shops.item)
    client = as_user(world.citizen, enforce_csrf_checks=True)
    response = client.post("/shop/", {"item": shops.item.pk, "quantity": "1"})
    assert response.status_code == 403
    assert snapshot(shops.item) == before


# --- my orders -----------------------------------------------------------------------------------


def test_orders_and_order_page(world, shops, order):
    client = as_user(world.citizen)
    listing = text(client.get("/shop/orders/"))
    assert order.code in listing and "待核销" in listing and "大米 5 斤" in listing
    response = client.get(f"/shop/orders/{order.code}/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    page = text(response)
    code = order.redeem_code
    assert f"{code[:5]} {code[5:]}" in page
    assert "<svg" in page and "有效期至" in page
    local = order.expires_at.astimezone(recognition.LOCAL_TZ)
    assert f"{local.year}年{local.month}月{local.day}日" in page and "取消订单" in page


def test_someone_elses_order_is_404(world, shops, order):
    give_points(world.citizen2, 100)
    for user in (world.citizen2, world.volunteer):
        assert as_user(user).get(f"/shop/orders/{order.code}/").status_code == 404
        before = snapshot(shops.item)
        response = as_user(user).post(f"/shop/orders/{order.code}/cancel/", {"reason": "x"})
        assert response.status_code == 404
        assert order.redeem_code not in text(response)
        assert snapshot(shops.item) == before
    assert as_user(world.citizen).get("/shop/orders/NOPE/").status_code == 404


def test_cancel_order_returns_points(world, shops, order):
    client = as_user(world.citizen)
    assert client.get(f"/shop/orders/{order.code}/cancel/").status_code == 405
    response = client.post(f"/shop/orders/{order.code}/cancel/", {"reason": "不需要了"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert ledger.balance(world.citizen) == 200
    page = text(client.get(response.url))
    assert "已取消" in page and "50 积分已退还" in page and "取消订单，退回" not in page
    again = client.post(f"/shop/orders/{order.code}/cancel/", {"reason": ""})
    assert again.status_code == 409 and "该订单已取消" in text(again)
    assert ledger.balance(world.citizen) == 200


def test_cancel_reason_too_long(world, shops, order):
    before = snapshot(shops.item)
    response = as_user(world.citizen).post(
        f"/shop/orders/{order.code}/cancel/", {"reason": "长" * 201}
    )
    assert response.status_code == 400 and "取消原因不能超过 200 字" in text(response)
    assert snapshot(shops.item) == before


# --- the clerk -----------------------------------------------------------------------------------


def test_verify_page_goes_to_the_code(world, shops, order):
    client = as_user(shops.clerk)
    page = text(client.get("/shop/verify/"))
    assert "东门爱心超市" in page and "今天还没有核销记录" in page
    typed = f" {order.redeem_code[:5].lower()} - {order.redeem_code[5:]} "
    response = client.get("/shop/verify/", {"code": typed})
    assert response.status_code == 302
    assert response.url == f"/shop/verify/{order.redeem_code}/"


def test_verify_unknown_and_foreign_codes_look_the_same(world, shops, order):
    client = as_user(shops.clerk_b)
    # A well-formed code goes to its page first, whoever's it is: the redirect tells nothing.
    foreign = client.get("/shop/verify/", {"code": order.redeem_code})
    assert foreign.status_code == 302
    opened = client.get(foreign.url)
    typed = client.get("/shop/verify/", {"code": "ZZZZZZZZZZ"})
    assert typed.status_code == 302 and typed.url == "/shop/verify/ZZZZZZZZZZ/"
    unknown = client.get(typed.url)
    unknown_page = client.get("/shop/verify/ZZZZZZZZZZ/")
    garbage = client.get("/shop/verify/", {"code": "hello!"})
    for response in (opened, unknown, unknown_page, garbage):
        assert response.status_code == 404
        page = text(response)
        assert "未找到该核销码" in page
        assert "大米" not in page and "东门爱心超市" not in page and "c*" not in page
    before = snapshot(shops.item)
    response = client.post(f"/shop/verify/{order.redeem_code}/")
    assert response.status_code == 404 and "未找到该核销码" in text(response)
    assert snapshot(shops.item) == before
    empty = client.get("/shop/verify/", {"code": ""})
    assert empty.status_code == 400 and "请填写核销码" in text(empty)


def test_verify_shows_the_order_and_verifies_once(world, shops, order):
    VolunteerProfile.objects.create(
        user=world.citizen,
        real_name="王大明",
        phone="+8613912345678",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    client = as_user(shops.clerk)
    response = client.get(f"/shop/verify/{order.redeem_code}/")
    assert response.status_code == 200
    page = text(response)
    assert "大米 5 斤" in page and "1 件" in page and "王**" in page and "139****5678" in page
    assert "王大明" not in page and "13912345678" not in page
    assert 'id="verify-btn"' in page
    done = client.post(f"/shop/verify/{order.redeem_code}/")
    assert done.status_code == 302 and done.url.endswith("?done=1")
    order.refresh_from_db()
    assert order.status == OrderStatus.VERIFIED and order.verified_by == shops.clerk
    success = text(client.get(done.url))
    assert "核销成功" in success and 'id="verify-btn"' not in success
    again = client.post(f"/shop/verify/{order.redeem_code}/")
    assert again.status_code == 409 and "该订单已核销" in text(again)
    today = text(client.get("/shop/verify/"))
    assert "今日已核销（1）" in today and "大米 5 斤" in today and "王**" in today
    # The other shop's clerk sees nothing of it.
    assert "大米" not in text(as_user(shops.clerk_b).get("/shop/verify/"))


def test_verify_cancelled_and_expired(world, shops, order):
    from pingan.points import services

    services.cancel_order(world.citizen, order.code)
    client = as_user(shops.clerk)
    page = text(client.get(f"/shop/verify/{order.redeem_code}/"))
    assert "该订单已取消，不能核销" in page and 'id="verify-btn"' not in page
    response = client.post(f"/shop/verify/{order.redeem_code}/")
    assert response.status_code == 409 and "该订单已取消" in text(response)

    late = make_order(world.citizen, shops.item)
    RedemptionOrder.objects.filter(pk=late.pk).update(expires_at=clock.now() - timedelta(hours=1))
    page = text(client.get(f"/shop/verify/{late.redeem_code}/"))
    assert "该订单已过期，不能核销" in page
    balance = ledger.balance(world.citizen)
    response = client.post(f"/shop/verify/{late.redeem_code}/")
    assert response.status_code == 409 and "已过期" in text(response)
    late.refresh_from_db()
    assert late.status == OrderStatus.EXPIRED
    assert ledger.balance(world.citizen) == balance + 50


def test_verify_needs_csrf(world, shops, order):
    client = as_user(shops.clerk, enforce_csrf_checks=True)
    assert client.post(f"/shop/verify/{order.redeem_code}/").status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_phone_pages_are_built_for_phones(world, shops, order):
    for user, url in (
        (world.citizen, "/points/"),
        (world.citizen, f"/shop/?shop={shops.shop.code}"),
        (world.citizen, f"/shop/orders/{order.code}/"),
        (shops.clerk, "/shop/verify/"),
        (shops.clerk, f"/shop/verify/{order.redeem_code}/"),
    ):
        page = text(as_user(user).get(url))
        assert 'name="viewport"' in page
        assert 'class="phone pts"' in page and "pingan/points.css" in page
