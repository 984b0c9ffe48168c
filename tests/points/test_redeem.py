"""Redeeming points for an item: the order, its code and QR, and every refusal."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from pingan.core import clock
from pingan.core.errors import Conflict, Forbidden, NotFound, ServiceError
from pingan.points import ledger, services
from pingan.points.models import EntryKind, OrderStatus, PointEntry, RedemptionOrder
from pingan.points.shop import REDEEM_ALPHABET

from .helpers import entries_sum, give_points, make_item

pytestmark = pytest.mark.django_db


def test_redeem_makes_an_order_debits_exactly_and_takes_stock(world, shops):
    give_points(world.volunteer, 200)
    now = clock.now()
    order = services.redeem(world.volunteer, shops.item.pk, 2, now=now)
    assert order.status == OrderStatus.PENDING
    assert (order.quantity, order.points, order.shop) == (2, 100, shops.shop)
    assert re.fullmatch(r"DH\d{8}-\d{6}", order.code)
    assert re.fullmatch(f"[{REDEEM_ALPHABET}]{{10}}", order.redeem_code)
    assert order.expires_at == now + timedelta(days=30)
    assert ledger.balance(world.volunteer) == 100 == entries_sum(world.volunteer)
    entry = PointEntry.objects.get(kind=EntryKind.REDEEM)
    assert (entry.amount, entry.source_type, entry.source_ref) == (-100, "order", order.code)
    assert entry.dedupe_key == f"order:{order.code}:redeem"
    assert entry.org == world.office_a
    shops.item.refresh_from_db()
    assert shops.item.stock == 8


def test_redeem_codes_are_unique_and_unambiguous(world, shops):
    give_points(world.citizen, 500)
    codes = {services.redeem(world.citizen, shops.item.pk).redeem_code for _ in range(10)}
    assert len(codes) == 10
    assert not set("".join(codes)) & set("01OIL")


@override_settings(POINTS_ORDER_VALID_DAYS=7)
def test_order_validity_follows_the_setting(world, shops):
    give_points(world.citizen, 100)
    now = clock.now()
    order = services.redeem(world.citizen, shops.item.pk, now=now)
    assert order.expires_at == now + timedelta(days=7)


def _svg_of(url: str) -> str:
    from pingan.core.qr import svg

    return svg(url)


def test_order_qr_encodes_the_absolute_verify_url(world, shops, rf):
    give_points(world.citizen, 100)
    order = services.redeem(world.citizen, shops.item.pk)
    assert services.verify_url(order) == f"/shop/verify/{order.redeem_code}/"
    svg = services.order_qr_svg(order, rf.get("/"))
    assert svg.lstrip().startswith("<svg") and "xmlns" in svg and svg.rstrip().endswith("</svg>")
    assert svg == _svg_of(f"http://testserver/shop/verify/{order.redeem_code}/")
    with override_settings(SITE_URL="https://pa.example/"):
        assert services.order_qr_svg(order) == _svg_of(
            f"https://pa.example/shop/verify/{order.redeem_code}/"
        )


def test_insufficient_points_refused_and_nothing_changes(world, shops):
    give_points(world.citizen, 49)
    with pytest.raises(Conflict) as exc:
        services.redeem(world.citizen, shops.item.pk)
    assert exc.value.code == "insufficient_points"
    assert ledger.balance(world.citizen) == 49
    assert not RedemptionOrder.objects.exists()
    shops.item.refresh_from_db()
    assert shops.item.stock == 10


def test_out_of_stock_refused(world, shops):
    give_points(world.citizen, 10_000)
    item = make_item(shops.shop, name="保温杯", points_price=10, stock=2)
    services.redeem(world.citizen, item.pk, 2)
    with pytest.raises(Conflict) as exc:
        services.redeem(world.citizen, item.pk)
    assert exc.value.code == "out_of_stock"
    assert ledger.balance(world.citizen) == 10_000 - 20
    with pytest.raises(Conflict):
        services.redeem(world.citizen, shops.item.pk, 11)


def test_the_locked_stock_check_counts_even_when_the_read_was_stale(world, shops, monkeypatch):
    """The unlocked pre-check can be stale; the conditional UPDATE is what refuses."""
    from pingan.points import shop as shop_module

    give_points(world.citizen, 100)
    item = make_item(shops.shop, name="毛巾", points_price=10, stock=1)
    original = shop_module.next_code

    def next_code_and_sell_the_last_one(prefix, now):
        # Someone else takes the last one after the service has read the stock.
        shop_module.RewardItem.objects.filter(pk=item.pk).update(stock=0)
        return original(prefix, now)

    monkeypatch.setattr(shop_module, "next_code", next_code_and_sell_the_last_one)
    with pytest.raises(Conflict) as exc:
        services.redeem(world.citizen, item.pk)
    assert exc.value.code == "out_of_stock"
    assert ledger.balance(world.citizen) == 100
    assert not RedemptionOrder.objects.exists()
    assert not PointEntry.objects.filter(kind=EntryKind.REDEEM).exists()


@pytest.mark.parametrize("quantity", [0, -1, 21, 1.5, "x", None, True])
def test_bad_quantity(world, shops, quantity):
    give_points(world.citizen, 10_000)
    with pytest.raises(ServiceError) as exc:
        services.redeem(world.citizen, shops.item.pk, quantity)
    assert exc.value.code == "bad_quantity"


@pytest.mark.parametrize("item_id", [0, -5, 2**40, "1", None, 999_999])
def test_unknown_item_is_404(world, shops, item_id):
    give_points(world.citizen, 100)
    with pytest.raises(NotFound):
        services.redeem(world.citizen, item_id)


def test_inactive_item_and_closed_shop_refused(world, shops):
    give_points(world.citizen, 1000)
    off = make_item(shops.shop, name="下架商品", points_price=10, active=False)
    with pytest.raises(Conflict) as exc:
        services.redeem(world.citizen, off.pk)
    assert exc.value.code == "item_unavailable"
    shops.shop.active = False
    shops.shop.save()
    with pytest.raises(Conflict) as exc:
        services.redeem(world.citizen, shops.item.pk)
    assert exc.value.code == "shop_closed"
    assert ledger.balance(world.citizen) == 1000
    assert not RedemptionOrder.objects.exists()


@pytest.mark.parametrize("who", ["officer_a", "commander", "aux_a"])
def test_staff_do_not_redeem(world, shops, who):
    user = getattr(world, who)
    give_points(user, 100)
    with pytest.raises(Forbidden):
        services.redeem(user, shops.item.pk)


def test_clerks_do_not_redeem(world, shops):
    give_points(shops.clerk, 100)
    with pytest.raises(Forbidden):
        services.redeem(shops.clerk, shops.item.pk)


def test_limit_per_person_in_total(world, shops):
    give_points(world.citizen, 1000)
    item = make_item(shops.shop, name="雨伞", points_price=10, stock=50, limit_per_person=2)
    services.redeem(world.citizen, item.pk, 2)
    with pytest.raises(Conflict) as exc:
        services.redeem(world.citizen, item.pk)
    assert exc.value.code == "limit_reached"
    # Another person has their own allowance; a cancelled order gives the allowance back.
    give_points(world.citizen2, 100)
    services.redeem(world.citizen2, item.pk)
    order = RedemptionOrder.objects.filter(user=world.citizen).first()
    services.cancel_order(world.citizen, order.code)
    services.redeem(world.citizen, item.pk, 2)
    with pytest.raises(Conflict):
        services.redeem(world.citizen, item.pk, 3)


def test_limit_per_person_per_month(world, shops):
    give_points(world.citizen, 1000)
    item = make_item(
        shops.shop,
        name="洗衣液",
        points_price=10,
        stock=50,
        limit_per_person=1,
        limit_period="month",
    )
    from datetime import datetime

    from django.utils import timezone

    may = timezone.make_aware(datetime(2026, 5, 31, 23, 0))
    june = timezone.make_aware(datetime(2026, 6, 1, 0, 30))
    services.redeem(world.citizen, item.pk, now=may)
    with pytest.raises(Conflict) as exc:
        services.redeem(world.citizen, item.pk, now=may + timedelta(minutes=30))
    assert exc.value.code == "limit_reached"
    services.redeem(world.citizen, item.pk, now=june)
    with pytest.raises(Conflict):
        services.redeem(world.citizen, item.pk, now=june + timedelta(days=29))


def test_verified_orders_count_toward_the_limit(world, shops):
    give_points(world.citizen, 1000)
    item = make_item(shops.shop, name="手电筒", points_price=10, stock=50, limit_per_person=1)
    order = services.redeem(world.citizen, item.pk)
    services.verify_order(shops.clerk, order.redeem_code)
    with pytest.raises(Conflict):
        services.redeem(world.citizen, item.pk)


def test_redeem_query_count_is_pinned(world, shops):
    """The benchmark's hot path: a fixed, small number of queries."""
    give_points(world.citizen, 1000)
    services.redeem(world.citizen, shops.item.pk)  # the day's counter and account exist now
    with CaptureQueriesContext(connection) as ctx:
        services.redeem(world.citizen, shops.item.pk)
    # 12 statements and 6 savepoint markers (an outer transaction in the test; BEGIN/COMMIT
    # in production): item, balance pre-check, order number (3), account (2), dedupe, balance,
    # entry insert, stock update, order insert.
    assert len(ctx.captured_queries) <= 18, [q["sql"][:80] for q in ctx.captured_queries]


def test_refused_redemption_costs_few_queries_and_no_order_number(world, shops):
    give_points(world.citizen, 10)
    with CaptureQueriesContext(connection) as ctx, pytest.raises(Conflict):
        services.redeem(world.citizen, shops.item.pk)
    assert len(ctx.captured_queries) <= 2
