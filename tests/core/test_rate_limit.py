"""The API's general rate limit (issue 11, point 6): per account and per client address, in
one-minute windows on a controlled clock, answered 429 with Retry-After and the JSON error."""

import pytest
from django.test import Client

from pingan.accounts.services import issue_token
from pingan.core import ratelimit
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

T0 = 1_800_000_000.0  # a window boundary (divisible by 60)


@pytest.fixture
def clock(monkeypatch):
    now = {"t": T0 + 15}
    monkeypatch.setattr(ratelimit, "_now", lambda: now["t"])
    ratelimit._local.reset()
    yield now
    ratelimit._local.reset()


@pytest.fixture
def limits(settings):
    settings.API_RATE_LIMIT_PER_ACCOUNT = 3
    settings.API_RATE_LIMIT_PER_ADDRESS = 2
    return settings


def statuses(client, n, path="/api/categories", **extra):
    return [client.get(path, **extra).status_code for _ in range(n)]


def test_anonymous_requests_are_limited_per_address(world, clock, limits):
    client = Client()
    assert statuses(client, 3) == [200, 200, 429]
    refused = client.get("/api/categories")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "45"  # the window ends 45 s after T0 + 15
    assert refused.json()["error"] == {
        "code": "rate_limited",
        "message": "请求过于频繁，请稍后再试",
    }
    # Another address has its own budget; the next window starts afresh.
    assert statuses(client, 1, REMOTE_ADDR="10.0.0.9") == [200]
    clock["t"] = T0 + 60
    assert statuses(client, 1) == [200]


def test_each_token_has_its_own_budget(world, clock, limits):
    citizen = Client(headers={"Authorization": f"Bearer {issue_token(world.citizen).token}"})
    officer = Client(headers={"Authorization": f"Bearer {issue_token(world.officer_a).token}"})
    # Same address as each other, neither limited by the address budget of 2.
    assert statuses(citizen, 4) == [200, 200, 200, 429]
    assert statuses(officer, 3) == [200, 200, 200]


def test_a_session_counts_as_its_user(world, clock, limits):
    browser = Client()
    assert browser.login(username=world.citizen.username, password=PASSWORD)
    assert statuses(browser, 4, "/api/auth/me") == [200, 200, 200, 429]


def test_refused_tokens_spend_the_address_budget(world, clock, limits):
    """Random tokens do not buy a fresh budget each: their 401s count against the address, and
    an address over its budget is refused whatever it sends."""
    results = [
        Client(headers={"Authorization": f"Bearer forged{i}"}).get("/api/auth/me").status_code
        for i in range(4)
    ]
    assert results == [401, 401, 429, 429]


def test_pages_are_not_counted(world, clock, limits):
    client = Client()
    assert statuses(client, 4, "/login/") == [200, 200, 200, 200]


def test_zero_switches_a_limit_off(world, clock, settings):
    settings.API_RATE_LIMIT_PER_ACCOUNT = 0
    settings.API_RATE_LIMIT_PER_ADDRESS = 0
    assert statuses(Client(), 5) == [200] * 5


def test_the_counter_forgets_old_windows():
    counter = ratelimit.LocalCounter()
    assert counter.hit("a", 1) == (1, 0)
    assert counter.hit("a", 1, peek="b") == (2, 0)
    assert counter.hit("b", 1, peek="a") == (1, 2)
    assert counter.hit("a", 2) == (1, 0)
