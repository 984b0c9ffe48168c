from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from pingan.accounts.models import ApiToken, LoginLock, User
from pingan.core import clock
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def api_login(username, password):
    return Client().post(
        "/api/auth/login",
        {"username": username, "password": password},
        content_type="application/json",
    )


def test_password_is_stored_hashed(world):
    stored = User.objects.get(username="citizen").password
    assert PASSWORD not in stored
    assert world.citizen.check_password(PASSWORD)


def test_page_login_redirects_each_role_to_its_end(world):
    for user, target in [
        (world.officer_a, "/unit/"),
        (world.aux_a, "/unit/"),
        (world.citizen, "/my/reports/"),
    ]:
        response = Client().post("/login/", {"username": user.username, "password": PASSWORD})
        assert response.status_code == 302
        assert response.url == target


def test_page_login_failure_speaks_chinese(world):
    response = Client().post("/login/", {"username": "citizen", "password": "wrong"})
    assert response.status_code == 400
    assert "用户名或密码错误" in response.content.decode()


def test_login_does_not_follow_offsite_next(world):
    response = Client().post(
        "/login/?next=https://evil.example/", {"username": "citizen", "password": PASSWORD}
    )
    assert response.url == "/my/reports/"


def test_api_token_login_and_me(world):
    response = api_login("officer_a", PASSWORD)
    assert response.status_code == 200
    token = response.json()["token"]
    assert response.json()["role"] == "officer"
    me = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["org"] == "东门警务室"
    # Only a hash of the token is kept.
    assert not ApiToken.objects.filter(key_hash=token).exists()


def test_bad_and_expired_tokens_are_rejected_with_json(world):
    response = Client(headers={"Authorization": "Bearer nope"}).get("/api/auth/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    token = api_login("citizen", PASSWORD).json()["token"]
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/auth/me")
    assert response.status_code == 401


def test_logout_revokes_the_token(world):
    token = api_login("citizen", PASSWORD).json()["token"]
    client = Client(headers={"Authorization": f"Bearer {token}"})
    assert client.post("/api/auth/logout").status_code == 204
    assert client.get("/api/auth/me").status_code == 401


def test_five_failures_lock_the_account_for_thirty_minutes(world, monkeypatch):
    start = timezone.now()
    monkeypatch.setattr(clock, "now", lambda: start)
    for _ in range(5):
        assert api_login("citizen", "wrong-password").status_code == 401
    # Even the right password is refused while locked, and the answer says why.
    locked = api_login("citizen", PASSWORD)
    assert locked.status_code == 423
    assert locked.json()["error"]["code"] == "account_locked"
    page = Client().post("/login/", {"username": "citizen", "password": PASSWORD})
    assert "锁定" in page.content.decode()
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(minutes=29))
    assert api_login("citizen", PASSWORD).status_code == 423
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(minutes=31))
    assert api_login("citizen", PASSWORD).status_code == 200
    assert not LoginLock.objects.filter(kind="name", key="citizen").exists()


def test_four_failures_then_success_resets_the_name_counter(world, settings):
    settings.LOGIN_ADDRESS_MAX_FAILURES = 100  # this test is about the name
    for _ in range(4):
        api_login("citizen", "wrong-password")
    assert api_login("citizen", PASSWORD).status_code == 200
    for _ in range(4):
        api_login("citizen", "wrong-password")
    assert api_login("citizen", PASSWORD).status_code == 200


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(world):
    unknown = api_login("nobody", "whatever")
    wrong = api_login("citizen", "whatever")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_login_rejects_malformed_bodies(world):
    assert (
        Client().post("/api/auth/login", "{not json", content_type="application/json").status_code
        == 400
    )
    response = Client().post("/api/auth/login", {"username": ""}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


def test_logout_page_requires_post(world):
    client = Client()
    client.force_login(world.citizen)
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/").status_code == 302
    assert client.get("/my/reports/").status_code == 302
