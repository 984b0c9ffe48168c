"""Bearer tokens from a per-process cache: no query or write on a warm hit, and never a token
that was revoked, expired or whose user may no longer log in."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from pingan.accounts import services
from pingan.accounts.models import ApiToken
from pingan.core import clock, refcache

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cold_caches")]


@pytest.fixture
def frozen(monkeypatch):
    """A long check interval with the process clock under the test's control."""
    now = [1000.0]
    monkeypatch.setattr(refcache, "_monotonic", lambda: now[0])
    monkeypatch.setattr(services, "_monotonic", lambda: now[0])
    with override_settings(REFCACHE_CHECK_SECONDS=60):
        yield now


def _bump_elsewhere(name: str) -> None:
    """Another process's bump: the counter moves, this process is not told."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_refversion SET version = version + 1 WHERE name = %s", [name])
        if not cursor.rowcount:
            cursor.execute("INSERT INTO core_refversion VALUES (%s, 4242)", [name])


def test_a_warm_hit_runs_no_query(world, frozen, django_assert_num_queries):
    key = services.issue_token(world.citizen).token
    assert services.user_for_token(key) == world.citizen
    with django_assert_num_queries(0):
        user = services.user_for_token(key)
    assert user.pk == world.citizen.pk
    # The org came with the user: no query for it either.
    officer_key = services.issue_token(world.officer_a).token
    services.user_for_token(officer_key)
    with django_assert_num_queries(0):
        assert services.user_for_token(officer_key).org.name == "东门警务室"


def test_each_request_gets_its_own_user_object(world, frozen):
    key = services.issue_token(world.citizen).token
    first = services.user_for_token(key)
    first.display_name = "改过"
    second = services.user_for_token(key)
    assert second is not first
    assert second.display_name == "citizen"


def test_a_revoked_token_is_refused_at_once_in_this_process(world, frozen):
    key = services.issue_token(world.citizen).token
    assert services.user_for_token(key) is not None
    services.revoke_token(key)
    assert services.user_for_token(key) is None


def test_logout_through_the_api_refuses_the_token_at_once(world, frozen):
    key = services.issue_token(world.citizen).token
    client = Client(headers={"Authorization": f"Bearer {key}"})
    assert client.get("/api/auth/me").status_code == 200
    assert client.post("/api/auth/logout").status_code == 204
    assert client.get("/api/auth/me").status_code == 401


def test_a_token_revoked_by_another_process_is_refused_after_the_check(world, frozen):
    key = services.issue_token(world.citizen).token
    assert services.user_for_token(key) is not None
    # Revoked elsewhere: the row goes and the counter moves, without this process's signals.
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM accounts_apitoken WHERE key_hash = %s", [ApiToken.hash_key(key)]
        )
    _bump_elsewhere(services.TOKENS)
    # Until this process polls the counters (at most REFCACHE_CHECK_SECONDS), its copy holds.
    assert services.user_for_token(key) is not None
    frozen[0] += 61
    assert services.user_for_token(key) is None


def test_a_process_with_a_cold_cache_sees_the_revocation(world, frozen):
    key = services.issue_token(world.citizen).token
    assert services.user_for_token(key) is not None
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM accounts_apitoken WHERE key_hash = %s", [ApiToken.hash_key(key)]
        )
    _bump_elsewhere(services.TOKENS)
    services.token_cache.clear()
    assert services.user_for_token(key) is None


def test_a_deactivated_user_is_refused(world, frozen):
    key = services.issue_token(world.citizen).token
    assert services.user_for_token(key) is not None
    world.citizen.is_active = False
    world.citizen.save(update_fields=["is_active"])
    assert services.user_for_token(key) is None


@pytest.mark.parametrize(
    "change",
    [
        {"role": "volunteer"},
        {"org": "office_b"},
        {"password": "x"},
    ],
)
def test_user_changes_that_matter_reload_the_user(world, frozen, change):
    key = services.issue_token(world.officer_a).token
    services.user_for_token(key)
    user = world.officer_a
    for field, value in change.items():
        setattr(user, field, getattr(world, value) if field == "org" else value)
    user.save()
    reloaded = services.user_for_token(key)
    for field in change:
        assert getattr(reloaded, field) == getattr(user, field)


def test_login_bookkeeping_does_not_empty_the_cache(world, frozen, django_assert_num_queries):
    key = services.issue_token(world.citizen).token
    services.user_for_token(key)
    world.citizen.last_login = timezone.now()
    world.citizen.save(update_fields=["last_login"])
    with django_assert_num_queries(0):
        assert services.user_for_token(key) is not None


def test_a_deleted_user_is_refused(world, frozen):
    key = services.issue_token(world.citizen2).token
    assert services.user_for_token(key) is not None
    world.citizen2.delete()
    assert services.user_for_token(key) is None


def test_an_expired_token_is_refused_even_when_cached(world, frozen, monkeypatch):
    issued = services.issue_token(world.citizen)
    assert services.user_for_token(issued.token) is not None
    later = issued.expires_at + timedelta(seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    with CaptureQueriesContext(connection) as ctx:
        assert services.user_for_token(issued.token) is None
    assert not ctx.captured_queries  # refused from the cached expiry


def test_last_used_is_written_when_loaded_never_on_a_hit(world, frozen):
    issued = services.issue_token(world.citizen)
    token = ApiToken.objects.get(key_hash=ApiToken.hash_key(issued.token))
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=None)
    services.user_for_token(issued.token)
    token.refresh_from_db()
    assert token.last_used_at is not None
    stale = timezone.now() - timedelta(minutes=5)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=stale)
    with CaptureQueriesContext(connection) as ctx:
        services.user_for_token(issued.token)
    assert not ctx.captured_queries
    token.refresh_from_db()
    assert token.last_used_at == stale
    # A reload (here: the periodic one) records the use again.
    frozen[0] += services.TOKEN_RELOAD_SECONDS + 1
    services.user_for_token(issued.token)
    token.refresh_from_db()
    assert token.last_used_at > stale


def test_unknown_tokens_are_not_cached_so_a_new_token_works_at_once(world, frozen):
    assert services.user_for_token("not-a-token") is None
    key = services.issue_token(world.citizen).token
    assert services.user_for_token(key) is not None


def test_the_cache_is_bounded(world, frozen, monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(services, "TOKEN_CACHE_SIZE", 2)
    services.token_cache.clear()
    keys = [services.issue_token(world.citizen).token for _ in range(3)]
    for key in keys:
        services.user_for_token(key)
    assert len(services.token_cache.get()) == 2
    with django_assert_num_queries(0):
        services.user_for_token(keys[2])
        services.user_for_token(keys[1])
    with django_assert_num_queries(1):  # the least recently used one was dropped
        services.user_for_token(keys[0])


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_process_cache_serves_hits(
    world, frozen, django_assert_num_queries
):
    key = services.issue_token(world.citizen).token
    services.user_for_token(key)
    with django_assert_num_queries(0):
        assert services.user_for_token(key).pk == world.citizen.pk
    services.revoke_token(key)
    assert services.user_for_token(key) is None
