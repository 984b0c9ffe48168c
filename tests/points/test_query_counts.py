"""The redemption's statements, pinned (see tests/incidents/test_query_counts.py): the item
and the balance read without locks (a sold-out rush ends there), then savepoint, the day's
code, the ledger's savepoint, the account locked, the dedupe check, the balance under the lock,
the debit, release, the stock taken by a conditional update, the order, release."""

import json

import pytest

from .helpers import give_points, make_item

pytestmark = pytest.mark.django_db

REDEEM = 13


def test_a_redemption(world, shops, api, warm_caches, django_assert_num_queries):
    item = make_item(shops.shop, name="肥皂", points_price=5, stock=10)
    give_points(world.citizen, 50)
    citizen = api(world.citizen)
    body = json.dumps({"item": item.pk, "quantity": 1})
    # The first of the day also creates the day's code sequence (PostgreSQL) and warms the
    # caches and the token, as a running server would have them.
    assert (
        citizen.post("/api/points/orders", body, content_type="application/json").status_code == 201
    )
    with django_assert_num_queries(REDEEM):
        response = citizen.post("/api/points/orders", body, content_type="application/json")
    assert response.status_code == 201, response.content
