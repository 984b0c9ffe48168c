"""Whatever a client sends to the task, sign-up and check-in endpoints, the answer is a
structured error or a success, never a 500."""

import json
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import api_client

from .helpers import make_task, team_with_volunteers

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["", "\x00", "\ud800", "GA1", "GB1", "wgs84", "gcj02", "night_patrol"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def iso_times():
    now = timezone.localtime()
    return st.one_of(
        st.datetimes().map(lambda d: d.isoformat()),
        st.integers(min_value=-100, max_value=24 * 400).map(
            lambda h: (now + timedelta(hours=h)).isoformat()
        ),
        values,
    )


def task_bodies(team_code):
    good = {
        "kind": st.sampled_from(["night_patrol", "traffic", "other", "party"]) | values,
        "title": st.text(max_size=120) | values,
        "description": st.text(max_size=50) | values,
        "starts_at": iso_times(),
        "ends_at": iso_times(),
        "meeting_address": st.text(max_size=50) | values,
        "lng": st.floats(min_value=100, max_value=120) | values,
        "lat": st.floats(min_value=20, max_value=30) | values,
        "crs": st.sampled_from(["wgs84", "gcj02", "bd09", "utm"]) | values,
        "route": st.lists(st.tuples(st.floats(), st.floats()), max_size=3) | values,
        "checkin_radius_m": st.integers(min_value=-10, max_value=10_000) | values,
        "slots": st.integers(min_value=-5, max_value=20_000) | values,
        "teams": st.lists(st.sampled_from([team_code, "YJ-NOPE", ""]), max_size=3) | values,
        "grids": st.lists(st.sampled_from(["GA1", "GB1", "NOPE"]), max_size=3) | values,
    }
    return st.fixed_dictionaries({}, optional=good)


def send(client, url, body):
    raw = json.dumps(body, allow_nan=True, ensure_ascii=False, default=str)
    return client.generic("POST", url, raw.encode("utf-8", "surrogatepass"),
                          content_type="application/json")  # fmt: skip


def assert_structured(response):
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert response.json()["error"]["code"]


@pytest.fixture
def fuzz_world(world):
    team, users = team_with_volunteers(world, 1)
    return team, users[0]


def test_task_posting_never_fails_with_a_500(world, fuzz_world):
    team, _ = fuzz_world
    client = api_client(world.officer_a)

    @FUZZ
    @given(body=task_bodies(team.code) | values)
    def check(body):
        assert_structured(send(client, "/api/volunteers/tasks", body))

    check()


def test_check_in_and_out_never_fail_with_a_500(world, fuzz_world):
    team, user = fuzz_world
    now = timezone.now()
    task = make_task(world, teams=[team], slots=2, now=now, starts_in=timedelta(minutes=10))
    client = api_client(user)
    assert client.post(f"/api/volunteers/tasks/{task.code}/signup").status_code == 201
    place = st.fixed_dictionaries(
        {},
        optional={
            "lng": st.floats() | values,
            "lat": st.floats() | values,
            "crs": st.sampled_from(["wgs84", "gcj02", "bd09"]) | values,
            "qr": st.sampled_from([task.qr_token, "", "x" * 70]) | values,
        },
    )

    @FUZZ
    @given(body=place | values, which=st.sampled_from(["checkin", "checkout"]))
    def check(body, which):
        assert_structured(send(client, f"/api/volunteers/tasks/{task.code}/{which}", body))

    check()


def test_sign_up_paths_never_fail_with_a_500(world, fuzz_world):
    team, user = fuzz_world
    task = make_task(world, teams=[team], slots=1)
    client = api_client(user)

    @FUZZ
    @given(code=st.text(min_size=1, max_size=60) | st.just(task.code))
    def check(code):
        for suffix in ("signup", "signup/cancel"):
            url = f"/api/volunteers/tasks/{quote(code, safe='')}/{suffix}"
            response = client.post(url)
            assert response.status_code < 500, (code, response.content)

    check()
