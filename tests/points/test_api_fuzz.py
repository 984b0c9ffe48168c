"""Whatever a client sends to /api/points, the answer is never a 500."""

import json
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingan.core import clock
from pingan.disputes import services as disputes
from tests.conftest import api_client
from tests.disputes.helpers import file

from .helpers import give_points

pytestmark = pytest.mark.django_db

BASE = "/api/points"
KEYS = [
    "item",
    "quantity",
    "reason",
    "code",
    "dispute",
    "session",
    "helper_phone",
    "user",
    "amount",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=60)
    | st.sampled_from(["", "\x00", "ABCDEFGHJK", "13800138000", "citizen", "JF20260101-000001"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(KEYS), json_values, max_size=5),
    json_values,
)
POSTS = ["/orders", "/orders/{code}/cancel", "/verify", "/mediation-help", "/adjust"]
GETS = ["/shops/{any}", "/orders/{any}", "/verify/{any}", "/orders/{any}/qr.svg"]


@pytest.fixture
def clients(world, shops):
    give_points(world.citizen, 10_000)
    dispute = file(world)
    disputes.record_session(
        world.officer_a,
        dispute.code,
        held_at=clock.now(),
        place="村委会",
        participants="双方",
        outcome="agreed",
    )
    return [
        api_client(world.citizen),
        api_client(world.commander),
        api_client(world.worker_a),
        api_client(shops.clerk),
    ]


FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(
    who=st.integers(0, 3),
    path=st.sampled_from(POSTS),
    code=st.text(max_size=20),
    body=bodies,
    raw=st.booleans(),
)
def test_post_bodies_never_500(clients, who, path, code, body, raw):
    url = BASE + path.format(code=quote(code, safe="") or "x")
    data = json.dumps(body) if not raw else str(body)
    response = clients[who].post(url, data, content_type="application/json")
    assert response.status_code < 500, (url, data, response.content)
    # A path that matches no route at all (e.g. an encoded "/") is Django's own 404 page.
    if response.status_code >= 400 and response["Content-Type"].startswith("application/json"):
        assert "error" in response.json()


@FUZZ
@given(
    who=st.integers(0, 3),
    path=st.sampled_from(GETS),
    segment=st.text(min_size=1, max_size=30),
    query=st.dictionaries(
        st.sampled_from(["user", "kind", "limit", "offset", "status"]),
        st.text(max_size=12),
        max_size=4,
    ),
)
def test_paths_and_queries_never_500(clients, who, path, segment, query):
    url = BASE + path.format(any=quote(segment, safe=""))
    response = clients[who].get(url)
    assert response.status_code < 500, (url, response.content)
    for listing in ("/ledger", "/orders"):
        response = clients[who].get(BASE + listing + "?" + urlencode(query))
        assert response.status_code < 500, (listing, query, response.content)
