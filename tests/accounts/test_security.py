"""Accounts to 等保 level 3: lock-out per name and per address, password rules, history and
expiry, first sign-in changes, staff session limits, the second factor, token lifetimes and
revocation. Each test fails without the rule it names."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from pingan.accounts import services, totp
from pingan.accounts.models import ApiToken, PasswordHistory, Role, User
from pingan.accounts.sessions import AUTH_AT
from pingan.core import clock
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

GOOD = "Anhe-2026-qiao"


def api_login(username, password, address="10.0.0.1", **extra):
    return Client(REMOTE_ADDR=address).post(
        "/api/auth/login",
        {"username": username, "password": password, **extra},
        content_type="application/json",
    )


@pytest.fixture
def at(monkeypatch):
    """The process clock under the test's control: at[0] = a datetime."""
    now = [timezone.now()]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    return now


def enrol(user) -> str:
    secret = totp.start_enrolment(user).secret
    totp.confirm_enrolment(user, totp.code_at(secret, clock.now().timestamp()))
    # The confirming code used up the current step: sign-ins in the test use later steps.
    return secret


def code(secret, now, steps=0) -> str:
    return totp.code_at(secret, now.timestamp() + steps * totp.STEP_SECONDS)


# --- lock-out -----------------------------------------------------------------------------------


def test_an_address_that_sprays_many_names_is_locked(world, at):
    names = ["citizen", "citizen2", "officer_a", "aux_a", "nobody"]
    for name in names:
        assert api_login(name, "wrong-password").status_code == 401
    refused = api_login("volunteer", PASSWORD)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "address_locked"
    assert 0 < int(refused["Retry-After"]) <= 30 * 60
    # The same account from another address is fine: the address was locked, not the names.
    assert api_login("volunteer", PASSWORD, address="10.0.0.2").status_code == 200


def test_a_name_that_does_not_exist_locks_exactly_like_one_that_does(world, at, settings):
    settings.LOGIN_ADDRESS_MAX_FAILURES = 100
    for _ in range(5):
        api_login("citizen", "wrong-password", address="10.0.0.3")
        api_login("no-such-person", "wrong-password", address="10.0.0.4")
    real = api_login("citizen", PASSWORD, address="10.0.0.5")
    ghost = api_login("no-such-person", PASSWORD, address="10.0.0.6")
    assert real.status_code == ghost.status_code == 423
    assert real.json() == ghost.json()
    assert real["Retry-After"] == ghost["Retry-After"]


def test_the_admin_has_no_sign_in_of_its_own(world):
    """/admin/login/ used to take passwords without counting failures."""
    response = Client().get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response.url.startswith("/login/")
    posted = Client().post("/admin/login/", {"username": "commander", "password": "x"})
    assert posted.status_code == 302 and posted.url.startswith("/login/")


# --- password rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1A!", "至少"),
        ("passwordpassword", "至少 3 类"),
        ("zzzzzzzzzz1", "至少 3 类"),
        ("Officer_a-2026", "用户名"),
        ("Woaini1314", None),  # common (Chinese list) but three classes: still refused
    ],
)
def test_weak_passwords_are_refused_with_the_reason(world, password, reason):
    client = Client()
    client.force_login(world.officer_a)
    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password": password, "new_password2": password},
    )
    assert response.status_code == 400
    if reason:
        assert reason in response.content.decode()
    assert User.objects.get(pk=world.officer_a.pk).check_password(PASSWORD)


def test_staff_cannot_reuse_their_last_five_passwords(world, at):
    user = world.officer_a
    history = [f"Anhe-{i}-qiao!" for i in range(6)]
    current = PASSWORD
    for new in history:
        at[0] += timedelta(minutes=1)
        services.change_password(None, user, current, new)
        current = new
    user.refresh_from_db()
    assert PasswordHistory.objects.filter(user=user).count() == 5
    for reused in history[1:]:  # the current one and the four before it
        with pytest.raises(services.ServiceError) as refused:
            services.change_password(None, user, current, reused)
        assert refused.value.code == "weak_password"
    # The sixth back has left the history.
    services.change_password(None, user, current, history[0])


def test_a_staff_password_expires_after_ninety_days_a_residents_does_not(world, at):
    for user in (world.officer_a, world.citizen):
        User.objects.filter(pk=user.pk).update(password_changed_at=at[0] - timedelta(days=91))
    expired = api_login("officer_a", PASSWORD)
    assert expired.status_code == 403
    assert expired.json()["error"]["code"] == "password_change_required"
    page = Client()
    assert page.post("/login/", {"username": "officer_a", "password": PASSWORD}).url == (
        "/account/password/"
    )
    # Every page leads back to the password page until it is changed.
    assert page.get("/unit/").url == "/account/password/"
    assert api_login("citizen", PASSWORD).status_code == 200


def test_an_account_made_by_an_administrator_changes_its_password_first(world):
    officer = make_user("new_officer", Role.OFFICER, world.office_a)
    services.set_password_by_admin(officer, "Temp-Pass-2026", actor=world.commander)
    assert api_login("new_officer", "Temp-Pass-2026").json()["error"]["code"] == (
        "password_change_required"
    )
    changed = Client(REMOTE_ADDR="10.0.0.9").post(
        "/api/auth/password",
        {"username": "new_officer", "password": "Temp-Pass-2026", "new_password": GOOD},
        content_type="application/json",
    )
    assert changed.status_code == 200, changed.content
    token = changed.json()["token"]
    me = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/auth/me")
    assert me.status_code == 200
    assert not User.objects.get(pk=officer.pk).must_change_password


def test_a_password_change_revokes_every_token(world):
    old = services.issue_token(world.citizen).token
    services.change_password(None, world.citizen, PASSWORD, GOOD)
    response = Client(headers={"Authorization": f"Bearer {old}"}).get("/api/auth/me")
    assert response.status_code == 401


# --- sessions -----------------------------------------------------------------------------------


def test_a_staff_page_session_ends_after_thirty_minutes_idle(world, monkeypatch):
    client = Client()
    assert client.post("/login/", {"username": "officer_a", "password": PASSWORD}).url == "/unit/"
    start = timezone.now()
    # Django's session store keeps time with timezone.now: move it.
    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(minutes=29))
    assert client.get("/unit/").status_code == 200  # activity renews the idle limit
    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(minutes=29 + 31))
    assert client.get("/unit/").status_code == 302


def test_a_staff_session_ends_after_twelve_hours_however_busy(world, at):
    client = Client()
    client.post("/login/", {"username": "officer_a", "password": PASSWORD})
    start = at[0]
    at[0] = start + timedelta(hours=11, minutes=59)
    assert client.get("/unit/").status_code == 200
    at[0] = start + timedelta(hours=12, minutes=1)
    response = client.get("/unit/")
    assert response.status_code == 302 and "expired=1" in response.url
    assert client.session.get(AUTH_AT) is None


def test_a_residents_session_lasts_longer(world):
    client = Client()
    client.post("/login/", {"username": "citizen", "password": PASSWORD})
    assert client.session.get_expiry_age() > 24 * 3600


def test_a_staff_token_ends_after_thirty_minutes_unused(world, at):
    key = services.issue_token(world.officer_a).token
    resident = services.issue_token(world.citizen).token
    at[0] += timedelta(minutes=20)
    assert services.user_for_token(key) is not None
    at[0] += timedelta(minutes=29)  # 29 idle after the last use: still good
    assert services.user_for_token(key) is not None
    at[0] += timedelta(minutes=31)
    assert services.user_for_token(key) is None
    assert services.user_for_token(resident) is not None
    assert services.token_ttl(world.officer_a) == timedelta(hours=12)


# --- the second factor --------------------------------------------------------------------------


def test_a_commander_must_enrol_then_give_a_code(world, at):
    first = Client()
    response = first.post("/login/", {"username": "commander", "password": PASSWORD})
    assert response.url == "/login/enrol/"
    page = first.get("/login/enrol/")
    secret = page.context["secret"]
    assert "<svg" in page.content.decode()
    done = first.post("/login/enrol/", {"code": code(secret, at[0])})
    assert done.status_code == 200 and len(done.context["codes"]) == totp.RECOVERY_CODES
    assert first.get("/console/").status_code == 200
    # The API asks for the code once enrolled.
    assert api_login("commander", PASSWORD).json()["error"]["code"] == "otp_required"
    at[0] += timedelta(seconds=60)
    assert api_login("commander", PASSWORD, otp=code(secret, at[0])).status_code == 200


def test_an_unenrolled_commander_gets_no_token(world):
    refused = api_login("commander", PASSWORD)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "otp_enrolment_required"


def test_wrong_replayed_and_expired_codes_are_refused(world, at, settings):
    settings.LOGIN_ADDRESS_MAX_FAILURES = 100
    secret = enrol(world.commander)
    at[0] += timedelta(minutes=5)
    wrong = api_login("commander", PASSWORD, otp="000000")
    assert wrong.json()["error"]["code"] == "otp_invalid"
    expired = api_login("commander", PASSWORD, otp=code(secret, at[0], steps=-3))
    assert expired.json()["error"]["code"] == "otp_invalid"
    good = code(secret, at[0])
    assert api_login("commander", PASSWORD, otp=good).status_code == 200
    replayed = api_login("commander", PASSWORD, otp=good)
    assert replayed.json()["error"]["code"] == "otp_invalid"
    # Wrong codes count like wrong passwords (the success above cleared the count): after five,
    # the name is locked, even with a right code.
    for wrong_code in ("111111", "222222", "333333", "444444"):
        assert api_login("commander", PASSWORD, otp=wrong_code).status_code == 401
    at[0] += timedelta(seconds=60)
    assert api_login("commander", PASSWORD, otp=code(secret, at[0])).status_code == 423


def test_a_recovery_code_works_once(world, at):
    secret = totp.start_enrolment(world.commander).secret
    codes = totp.confirm_enrolment(world.commander, code(secret, at[0]))
    assert api_login("commander", PASSWORD, otp=codes[0]).status_code == 200
    assert api_login("commander", PASSWORD, otp=codes[0]).status_code == 401
    assert totp.recovery_codes_left(world.commander) == totp.RECOVERY_CODES - 1


def test_the_page_sign_in_asks_for_the_code(world, at):
    secret = enrol(world.commander)
    at[0] += timedelta(minutes=1)
    client = Client()
    assert client.post("/login/", {"username": "commander", "password": PASSWORD}).url == (
        "/login/otp/"
    )
    assert client.get("/console/").status_code == 302  # not signed in yet
    wrong = client.post("/login/otp/", {"code": "123456"})
    assert wrong.status_code == 400 and "动态口令不正确" in wrong.content.decode()
    assert client.post("/login/otp/", {"code": code(secret, at[0])}).url == "/console/"
    assert client.get("/console/").status_code == 200


# --- tokens: listed and revoked -----------------------------------------------------------------


def test_owners_list_and_revoke_their_devices_and_only_theirs(world):
    mine = services.issue_token(world.citizen, "华为手机").token
    other = services.issue_token(world.citizen2).token
    client = Client(headers={"Authorization": f"Bearer {mine}"})
    listed = client.get("/api/auth/tokens").json()["items"]
    assert [(d["device"], d["current"]) for d in listed] == [("华为手机", True)]
    assert client.get("/api/auth/tokens?user=citizen2").status_code == 403
    other_id = ApiToken.objects.get(user=world.citizen2).pk
    assert client.delete(f"/api/auth/tokens/{other_id}").status_code == 404
    others = Client(headers={"Authorization": f"Bearer {other}"})
    assert others.get("/api/auth/me").status_code == 200
    own_id = listed[0]["id"]
    assert client.delete(f"/api/auth/tokens/{own_id}").status_code == 204
    assert client.get("/api/auth/me").status_code == 401


def test_a_security_administrator_revokes_anyones_token(world):
    secadmin = make_user("sec", Role.SECURITY_ADMIN)
    victim = services.issue_token(world.officer_a).token
    admin = Client(headers={"Authorization": f"Bearer {services.issue_token(secadmin).token}"})
    listed = admin.get("/api/auth/tokens?user=officer_a").json()["items"]
    assert len(listed) == 1
    assert admin.delete(f"/api/auth/tokens/{listed[0]['id']}").status_code == 204
    victims = Client(headers={"Authorization": f"Bearer {victim}"})
    assert victims.get("/api/auth/me").status_code == 401


# --- 三员分立 in the admin ----------------------------------------------------------------------


def test_only_the_system_and_security_administrators_enter_the_admin(world):
    sysadmin = make_user("sys", Role.SYSTEM_ADMIN)
    secadmin = make_user("sec", Role.SECURITY_ADMIN)
    auditor = make_user("aud", Role.AUDIT_ADMIN)
    for user, status in [
        (world.commander, 403),
        (world.officer_a, 403),
        (auditor, 403),
        (sysadmin, 200),
        (secadmin, 200),
    ]:
        client = Client()
        client.force_login(user)
        # Django's admin sends those without rights to its login, which refuses them (403).
        assert client.get("/admin/", follow=True).status_code == status, user.username


def test_the_system_administrator_cannot_grant_roles_or_make_administrators(world):
    sysadmin = make_user("sys", Role.SYSTEM_ADMIN)
    client = Client()
    client.force_login(sysadmin)
    page = client.get(f"/admin/accounts/user/{world.citizen.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert "role" not in form.fields and "is_superuser" not in form.fields
    add = client.get("/admin/accounts/user/add/").context["adminform"].form
    assert Role.SECURITY_ADMIN not in dict(add.fields["role"].choices)
    # Neither the audit nor personal records are in the system administrator's admin.
    assert client.get("/admin/notify/outboundmessage/").status_code == 403
    assert client.get("/admin/orgs/grid/").status_code == 200


def test_the_security_administrator_changes_roles_but_not_their_own_nor_superusers(world):
    secadmin = make_user("sec", Role.SECURITY_ADMIN)
    client = Client()
    client.force_login(secadmin)
    form = client.get(f"/admin/accounts/user/{world.citizen.pk}/change/").context["adminform"]
    assert "role" in form.form.fields and "is_superuser" not in form.form.fields
    own = client.get(f"/admin/accounts/user/{secadmin.pk}/change/").context["adminform"].form
    assert "role" not in own.fields
    assert client.get("/admin/orgs/grid/").status_code == 403


def test_a_password_reset_in_the_admin_is_temporary_and_only_the_security_admins(world):
    token = services.issue_token(world.officer_a).token
    url = f"/admin/accounts/user/{world.officer_a.pk}/password/"
    sysadmin = Client()
    sysadmin.force_login(make_user("sys", Role.SYSTEM_ADMIN))
    assert sysadmin.get(url).status_code == 403
    secadmin = Client()
    secadmin.force_login(make_user("sec", Role.SECURITY_ADMIN))
    response = secadmin.post(
        url,
        {"password1": "Temp-Pass-2026", "password2": "Temp-Pass-2026", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content
    user = User.objects.get(pk=world.officer_a.pk)
    assert user.check_password("Temp-Pass-2026") and user.must_change_password
    assert Client(headers={"Authorization": f"Bearer {token}"}).get("/api/auth/me").status_code == (
        401
    )


def test_the_authenticator_secret_is_encrypted_at_rest(world):
    from django.db import connection

    secret = enrol(world.commander)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM accounts_totpdevice")
        [(stored,)] = cursor.fetchall()
    assert secret not in stored and stored.startswith("sm4g1:")


def test_the_admins_password_change_is_the_sites(world):
    client = Client()
    client.force_login(make_user("sec", Role.SECURITY_ADMIN))
    response = client.get("/admin/password_change/")
    assert response.status_code == 302 and response.url == "/account/password/"
