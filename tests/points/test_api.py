"""/api/points: every endpoint for anonymous, outsider, wrong role and right role; a denied
request changes nothing."""

import json
from datetime import timedelta

import pytest

from pingan.core import clock
from pingan.disputes import services as disputes
from pingan.points import ledger, services
from pingan.points.models import OrderStatus, PointEntry, RedemptionOrder, RewardItem
from tests.conftest import api_client
from tests.disputes.helpers import file

from .helpers import give_points, make_item

pytestmark = pytest.mark.django_db

BASE = "/api/points"


def get(who, path, **params):
    return api_client(who).get(BASE + path, params)


def post(who, path, body=None):
    return api_client(who).post(
        BASE + path, json.dumps(body or {}), content_type="application/json"
    )


def error(response):
    return response.json()["error"]["code"]


@pytest.fixture
def order(world, shops):
    give_points(world.citizen, 200, org=world.office_a)
    return services.redeem(world.citizen, shops.item.pk)


def snapshot():
    """Everything a denied request must leave as it was."""
    return (
        list(PointEntry.objects.order_by("pk").values_list("pk", "amount")),
        list(RedemptionOrder.objects.order_by("pk").values_list("pk", "status")),
        list(RewardItem.objects.order_by("pk").values_list("pk", "stock")),
    )


# --- anonymous ----------------------------------------------------------------------------------


ALL_GETS = ["/balance", "/ledger", "/rules", "/shops", "/orders"]


@pytest.mark.parametrize("path", ALL_GETS)
def test_anonymous_is_401_everywhere(world, shops, path):
    response = get(None, path)
    assert response.status_code == 401
    assert error(response) == "unauthorized"


def test_anonymous_writes_are_401_and_change_nothing(world, shops, order):
    before = snapshot()
    for path, body in [
        ("/orders", {"item": shops.item.pk}),
        (f"/orders/{order.code}/cancel", {}),
        ("/verify", {"code": order.redeem_code}),
        ("/adjust", {"user": "citizen", "amount": 5, "reason": "x"}),
        ("/mediation-help", {"dispute": "JF1", "session": 1, "helper_phone": "13800138000"}),
    ]:
        assert post(None, path, body).status_code == 401, path
    for path in (
        f"/shops/{shops.shop.code}",
        f"/orders/{order.code}",
        f"/verify/{order.redeem_code}",
    ):
        assert get(None, path).status_code == 401
    assert snapshot() == before


def test_a_bad_token_is_401(world):
    from django.test import Client

    client = Client(headers={"Authorization": "Bearer nope"})
    assert client.get(BASE + "/balance").status_code == 401


# --- balance, ledger, rules ---------------------------------------------------------------------


def test_balance(world, order):
    response = get(world.citizen, "/balance")
    assert response.status_code == 200
    assert response.json() == {"user": "citizen", "balance": 150}
    assert get(world.volunteer, "/balance").json()["balance"] == 0


def test_ledger_is_my_own(world, order):
    body = get(world.citizen, "/ledger").json()
    assert body["count"] == 2 and body["balance"] == 150
    assert {e["user"] for e in body["items"]} == {"citizen"}
    assert [e["kind"] for e in body["items"]] == ["redeem", "adjust"]
    assert get(world.citizen, "/ledger", kind="redeem").json()["count"] == 1
    assert get(world.citizen, "/ledger", user="citizen").status_code == 200
    # Someone else's ledger, or a name that does not exist: the same 404.
    for name in ("volunteer", "nobody"):
        response = get(world.citizen, "/ledger", user=name)
        assert response.status_code == 404 and error(response) == "not_found"
    assert get(world.volunteer, "/ledger").json()["count"] == 0


def test_ledger_for_staff_is_scoped(world, order):
    give_points(world.volunteer, 30, org=world.office_b)
    a = get(world.officer_a, "/ledger").json()
    assert {e["user"] for e in a["items"]} == {"citizen"} and a["balance"] is None
    # Another station's resident: 404 as for an unknown name, no balance (security review F11).
    b = get(world.officer_b, "/ledger", user="citizen")
    assert b.status_code == 404 and error(b) == "not_found"
    c = get(world.commander, "/ledger", user="volunteer").json()
    assert (c["count"], c["balance"]) == (1, 30)


@pytest.mark.parametrize("query", [{"kind": "bogus"}, {"limit": 0}, {"limit": 999}, {"offset": -1}])
def test_ledger_bad_query_is_422(world, query):
    response = get(world.citizen, "/ledger", **query)
    assert response.status_code == 422 and error(response) == "invalid_input"


def test_rules(world):
    from pingan.points.models import PointRule

    PointRule.objects.filter(code="tip_arrest").update(active=False)
    rules = get(world.volunteer, "/rules").json()
    codes = {r["code"]: r for r in rules}
    assert "tip_arrest" not in codes
    assert codes["patrol_hour"]["task_kinds"] == ["night_patrol"]
    assert codes["tip_confirmed"]["points"] == 20


# --- shops --------------------------------------------------------------------------------------


def test_shops_as_each_role(world, shops):
    make_item(shops.shop, name="下架", active=False)
    assert {s["code"] for s in get(world.citizen, "/shops").json()} == {
        shops.shop.code,
        shops.shop_b.code,
    }
    assert [s["code"] for s in get(shops.clerk, "/shops").json()] == [shops.shop.code]
    assert [s["code"] for s in get(world.officer_b, "/shops").json()] == [shops.shop_b.code]
    detail = get(world.citizen, f"/shops/{shops.shop.code}").json()
    assert [i["name"] for i in detail["items"]] == ["大米 5 斤"]
    staff = get(world.officer_a, f"/shops/{shops.shop.code}").json()
    assert len(staff["items"]) == 2


def test_foreign_or_missing_shop_is_404(world, shops):
    for user, code in [
        (shops.clerk, shops.shop_b.code),
        (world.officer_b, shops.shop.code),
        (world.citizen, "SP20260101-999999"),
        (world.citizen, "bad%00code"),
    ]:
        response = get(user, f"/shops/{code}")
        assert response.status_code == 404, (user, code)


# --- orders -------------------------------------------------------------------------------------


def test_redeem_over_the_api(world, shops):
    give_points(world.volunteer, 120)
    response = post(world.volunteer, "/orders", {"item": shops.item.pk, "quantity": 2})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending" and body["points"] == 100
    assert len(body["redeem_code"]) == 10
    assert body["verify_url"] == f"/shop/verify/{body['redeem_code']}/"
    assert body["user"] == "volunteer"
    assert ledger.balance(world.volunteer) == 20


@pytest.mark.parametrize("who", ["officer_a", "commander", "aux_a"])
def test_staff_cannot_redeem(world, shops, who):
    user = getattr(world, who)
    give_points(user, 100)
    before = snapshot()
    response = post(user, "/orders", {"item": shops.item.pk})
    assert response.status_code == 403 and error(response) == "forbidden"
    assert snapshot() == before


def test_clerk_cannot_redeem(world, shops):
    give_points(shops.clerk, 100)
    assert post(shops.clerk, "/orders", {"item": shops.item.pk}).status_code == 403


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"item": 10**9}, 404, "not_found"),
        ({"item": 0}, 422, "invalid_input"),
        ({"item": "abc"}, 422, "invalid_input"),
        ({}, 422, "invalid_input"),
        ({"item": 1, "quantity": 0}, 422, "invalid_input"),
        ({"item": 1, "quantity": 21}, 422, "invalid_input"),
    ],
)
def test_bad_redeem_bodies(world, shops, body, status, code):
    give_points(world.citizen, 100)
    before = snapshot()
    response = post(world.citizen, "/orders", body)
    assert (response.status_code, error(response)) == (status, code)
    assert snapshot() == before


def test_refusals_are_409_with_a_chinese_message(world, shops):
    give_points(world.citizen, 10)
    response = post(world.citizen, "/orders", {"item": shops.item.pk})
    assert response.status_code == 409
    assert error(response) == "insufficient_points"
    assert "积分不足" in response.json()["error"]["message"]


def test_malformed_json_is_400(world, shops):
    response = api_client(world.citizen).post(
        BASE + "/orders", "{nope", content_type="application/json"
    )
    assert response.status_code == 400


def test_order_lists_and_detail_by_role(world, shops, order):
    mine = get(world.citizen, "/orders").json()
    assert [o["code"] for o in mine["items"]] == [order.code]
    assert mine["items"][0]["redeem_code"] == order.redeem_code
    assert get(world.citizen2, "/orders").json()["count"] == 0
    clerk_view = get(shops.clerk, "/orders").json()["items"]
    assert [o["code"] for o in clerk_view] == [order.code]
    # The code that collects the goods is for the owner's eyes only; names are masked.
    assert clerk_view[0]["redeem_code"] is None and clerk_view[0]["verify_url"] is None
    assert clerk_view[0]["user"] == "c******"
    assert get(shops.clerk_b, "/orders").json()["count"] == 0
    assert get(world.officer_a, f"/orders/{order.code}").json()["redeem_code"] is None
    assert get(world.citizen, "/orders", status="verified").json()["count"] == 0
    assert get(world.citizen, "/orders", status="nope").status_code == 422


@pytest.mark.parametrize("who", ["citizen2", "volunteer", "officer_b"])
def test_someone_elses_order_is_404(world, shops, order, who):
    response = get(getattr(world, who), f"/orders/{order.code}")
    assert response.status_code == 404
    assert get(getattr(world, who), f"/orders/{order.code}/qr.svg").status_code == 404


def test_order_qr_for_the_owner_only(world, shops, order):
    response = get(world.citizen, f"/orders/{order.code}/qr.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<svg")
    assert get(shops.clerk, f"/orders/{order.code}/qr.svg").status_code == 404


def test_cancel_over_the_api(world, shops, order):
    response = post(world.citizen, f"/orders/{order.code}/cancel", {"reason": "改天再来"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert ledger.balance(world.citizen) == 200
    again = post(world.citizen, f"/orders/{order.code}/cancel")
    assert (again.status_code, error(again)) == (409, "order_cancelled")


@pytest.mark.parametrize(
    "who, status", [("citizen2", 404), ("officer_b", 404), ("clerk_b", 404), ("aux_a", 403)]
)
def test_denied_cancel_changes_nothing(world, shops, order, who, status):
    user = getattr(shops, who, None) if who.startswith("clerk") else getattr(world, who)
    before = snapshot()
    response = post(user, f"/orders/{order.code}/cancel", {"reason": "x"})
    assert response.status_code == status
    assert snapshot() == before


def test_clerk_and_manager_cancel(world, shops, order):
    assert post(shops.clerk, f"/orders/{order.code}/cancel").status_code == 200
    second = services.redeem(world.citizen, shops.item.pk)
    assert post(world.chief_a, f"/orders/{second.code}/cancel").status_code == 200
    assert ledger.balance(world.citizen) == 200


# --- verification -------------------------------------------------------------------------------


def test_clerk_previews_and_verifies(world, shops, order):
    preview = get(shops.clerk, f"/verify/{order.redeem_code.lower()}")
    assert preview.status_code == 200
    assert preview.json()["code"] == order.code and preview.json()["redeem_code"] is None
    response = post(shops.clerk, "/verify", {"code": order.redeem_code})
    assert response.status_code == 200 and response.json()["status"] == "verified"
    again = post(shops.clerk, "/verify", {"code": order.redeem_code})
    assert (again.status_code, error(again)) == (409, "already_verified")


def test_foreign_unknown_and_malformed_codes_are_the_same_404(world, shops, order):
    bodies = set()
    for code in (order.redeem_code, "ABCDEFGHJK", "zz", "%00"):
        response = post(shops.clerk_b, "/verify", {"code": code})
        assert response.status_code == 404
        bodies.add(response.content)
        assert get(shops.clerk_b, f"/verify/{code}").status_code == 404
    assert len(bodies) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


@pytest.mark.parametrize("who", ["citizen", "officer_a", "chief_a"])
def test_non_clerks_cannot_verify(world, shops, order, who):
    before = snapshot()
    user = getattr(world, who)
    assert post(user, "/verify", {"code": order.redeem_code}).status_code == 403
    assert get(user, f"/verify/{order.redeem_code}").status_code == 403
    assert snapshot() == before


def test_expired_code_over_the_api(world, shops):
    give_points(world.citizen, 50)
    old = services.redeem(world.citizen, shops.item.pk, now=clock.now() - timedelta(days=31))
    response = post(shops.clerk, "/verify", {"code": old.redeem_code})
    assert (response.status_code, error(response)) == (409, "order_expired")
    assert ledger.balance(world.citizen) == 50
    old.refresh_from_db()
    assert old.status == OrderStatus.EXPIRED


def test_verify_body_is_validated(world, shops):
    assert post(shops.clerk, "/verify", {}).status_code == 422
    assert post(shops.clerk, "/verify", {"code": "x" * 41}).status_code == 422


# --- staff actions ------------------------------------------------------------------------------


@pytest.fixture
def session(world):
    dispute = file(world)
    now = clock.now()
    world.citizen.phone = "+8613800138011"
    world.citizen.save()
    return disputes.record_session(
        world.officer_a,
        dispute.code,
        held_at=now - timedelta(hours=1),
        place="村委会",
        participants="双方",
        outcome="agreed",
        now=now,
    )


def help_body(session, phone="13800138011"):
    return {"dispute": session.dispute.code, "session": session.pk, "helper_phone": phone}


def test_mediation_help_over_the_api(world, session):
    response = post(world.worker_a, "/mediation-help", help_body(session))
    assert response.status_code == 201, response.content
    assert response.json()["balance"] == 15
    again = post(world.officer_a, "/mediation-help", help_body(session))
    assert again.status_code == 201 and again.json()["entry"] == response.json()["entry"]
    assert ledger.balance(world.citizen) == 15


@pytest.mark.parametrize("who, status", [("citizen", 403), ("volunteer", 403), ("officer_b", 404)])
def test_mediation_help_denied(world, session, who, status):
    before = snapshot()
    response = post(getattr(world, who), "/mediation-help", help_body(session))
    assert response.status_code == status
    assert snapshot() == before


def test_mediation_help_bad_input(world, session):
    for body, code in [
        (help_body(session, "13900000000"), "unknown_helper"),
        (help_body(session, "abc"), "bad_phone"),
        ({**help_body(session), "session": 10**8}, "not_found"),
        ({**help_body(session), "dispute": "JF20990101-000001"}, "not_found"),
        ({**help_body(session), "dispute": "bad code"}, "invalid_input"),
    ]:
        response = post(world.officer_a, "/mediation-help", body)
        assert error(response) == code, body
    assert not PointEntry.objects.exists()


def test_adjust_by_a_commander(world):
    response = post(
        world.commander, "/adjust", {"user": "volunteer", "amount": 40, "reason": "补录"}
    )
    assert response.status_code == 201, response.content
    assert response.json()["balance"] == 40
    entry = PointEntry.objects.get()
    assert (entry.kind, entry.created_by, entry.org) == ("adjust", world.commander, world.county)
    down = post(world.chief_a, "/adjust", {"user": "volunteer", "amount": -41, "reason": "纠错"})
    assert (down.status_code, error(down)) == (409, "insufficient_points")
    assert ledger.balance(world.volunteer) == 40


@pytest.mark.parametrize("who", ["officer_a", "aux_a", "citizen", "volunteer"])
def test_adjust_denied_for_other_roles(world, who):
    response = post(getattr(world, who), "/adjust", {"user": "citizen", "amount": 5, "reason": "x"})
    assert response.status_code == 403
    assert not PointEntry.objects.exists()


def test_adjust_bad_input(world):
    for body, status, code in [
        ({"user": "nobody", "amount": 5, "reason": "x"}, 400, "unknown_user"),
        ({"user": "officer_a", "amount": 5, "reason": "x"}, 400, "bad_user"),
        ({"user": "citizen", "amount": 0, "reason": "x"}, 400, "bad_amount"),
        ({"user": "citizen", "amount": 10**6, "reason": "x"}, 422, "invalid_input"),
        ({"user": "citizen", "amount": 5, "reason": "  "}, 422, "invalid_input"),
        ({"user": "citizen", "amount": 5}, 422, "invalid_input"),
    ]:
        response = post(world.commander, "/adjust", body)
        assert (response.status_code, error(response)) == (status, code), body
    assert not PointEntry.objects.exists()


def test_redeem_endpoint_query_count_is_pinned(world, shops, django_assert_max_num_queries):
    """The 1,000-concurrent benchmark's request: token, service, nothing per field."""
    give_points(world.citizen, 1000)
    client = api_client(world.citizen)
    body = json.dumps({"item": shops.item.pk})
    client.post(BASE + "/orders", body, content_type="application/json")
    with django_assert_max_num_queries(20):
        response = client.post(BASE + "/orders", body, content_type="application/json")
    assert response.status_code == 201


def test_limit_reached_over_the_api(world, shops):
    give_points(world.citizen, 1000)
    item = make_item(shops.shop, name="限购", points_price=1, stock=9, limit_per_person=1)
    assert post(world.citizen, "/orders", {"item": item.pk}).status_code == 201
    response = post(world.citizen, "/orders", {"item": item.pk})
    assert (response.status_code, error(response)) == (409, "limit_reached")
