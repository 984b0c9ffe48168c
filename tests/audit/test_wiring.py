"""What the audit records without anyone calling it: sign-ins, sign-outs and failures, the
accounts app's security events, admin edits (single and bulk), superuser use, exports and the
reporter's phone shown in full."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from pingan.accounts.models import Role, User
from pingan.audit.models import AuditEntry
from pingan.orgs.models import SlaPolicy
from tests.conftest import PASSWORD, make_user
from tests.incidents.helpers import report_at

pytestmark = pytest.mark.django_db


def entries(action, **filters):
    return list(AuditEntry.objects.filter(action=action, **filters).order_by("seq"))


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- sign-in --------------------------------------------------------------------------------------


def test_a_page_sign_in_and_sign_out_are_recorded_with_the_address(world):
    client = Client(REMOTE_ADDR="10.9.8.7")
    response = client.post("/login/", {"username": "officer_a", "password": PASSWORD})
    assert response.status_code == 302
    [login] = entries("login")
    assert (login.actor, login.object_ref, login.ip) == (world.officer_a, "officer_a", "10.9.8.7")
    assert login.detail == {"via": "page"} and login.outcome == "success"
    client.post("/logout/")
    [logout] = entries("logout")
    assert logout.actor == world.officer_a and logout.ip == "10.9.8.7"


def test_failed_sign_ins_are_recorded_for_real_and_unknown_names(world):
    client = Client(REMOTE_ADDR="10.9.8.7")
    assert client.post("/login/", {"username": "officer_a", "password": "wrong"}).status_code == 400
    client.post("/login/", {"username": "nobody_here", "password": "wrong"})
    failed = entries("login_failed")
    assert [e.object_ref for e in failed] == ["officer_a", "nobody_here"]
    assert all(e.actor is None and e.outcome == "failed" and e.ip == "10.9.8.7" for e in failed)
    # No password in the record.
    assert all("wrong" not in str(e.detail) for e in failed)


def test_the_lock_after_five_failures_is_recorded(world):
    client = Client(REMOTE_ADDR="10.9.8.7")
    for _ in range(5):
        client.post("/login/", {"username": "officer_a", "password": "wrong"})
    assert len(entries("login_failed")) == 5
    [locked] = entries("account_locked")
    # Nobody signed in did it: the name is the object, the address where it came from.
    assert (locked.object_ref, locked.actor, locked.ip) == ("officer_a", None, "10.9.8.7")


def test_the_api_sign_in_is_recorded_with_its_token(world):
    response = Client(REMOTE_ADDR="10.1.1.1").post(
        "/api/auth/login",
        {"username": "officer_a", "password": PASSWORD, "device": "测试手机"},
        content_type="application/json",
    )
    assert response.status_code == 200
    [login] = entries("login")
    assert login.detail == {"via": "api"} and login.ip == "10.1.1.1"
    [token] = entries("token_issued")
    assert token.actor == world.officer_a and token.detail == {"device": "测试手机"}


# --- superusers -----------------------------------------------------------------------------------


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", password=PASSWORD)


def test_a_superuser_sign_in_says_so(root):
    logged_in(root)
    [login] = entries("login")
    assert login.actor == root and login.detail["superuser"] is True


def test_every_state_changing_request_of_a_superuser_is_recorded(world, root):
    client = logged_in(root)
    client.get("/console/")
    client.get("/audit/")
    assert entries("superuser_action") == []  # reading is not a change
    client.post("/logout/", REMOTE_ADDR="10.5.5.5")
    [action] = entries("superuser_action")
    assert action.actor == root and action.object_ref == "POST /logout/"
    assert action.detail["status"] == 302 and action.ip == "10.5.5.5"


def test_other_peoples_changes_are_not_superuser_actions(world):
    logged_in(world.commander).post("/logout/")
    assert entries("superuser_action") == []


# --- the admin ------------------------------------------------------------------------------------


@pytest.fixture
def sysadmin(db):
    return make_user("sys", Role.SYSTEM_ADMIN)


@pytest.fixture
def secadmin(db):
    return make_user("sec", Role.SECURITY_ADMIN)


def form_data(page) -> dict:
    """What the admin's change form would post back unchanged."""
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if hasattr(value, "all"):
            value = [obj.pk for obj in value.all()]
        elif isinstance(value, list | tuple):
            value = [getattr(v, "pk", v) for v in value]
        elif hasattr(value, "pk"):
            value = value.pk
        if value is None:
            value = ""
        if isinstance(value, bool):
            if not value:
                continue
            value = "on"
        data[name] = value
    return data


def test_a_configuration_change_in_the_admin_is_recorded(world, sysadmin):
    client = logged_in(sysadmin)
    response = client.post(
        "/admin/orgs/slapolicy/add/",
        {
            "org": world.station_a.pk,
            "accept_seconds": 60,
            "arrive_seconds": 240,
            "reinforce_seconds": 300,
        },
        REMOTE_ADDR="10.2.2.2",
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = SlaPolicy.objects.get(org=world.station_a)
    [added] = entries("config_change")
    assert added.actor == sysadmin and added.ip == "10.2.2.2"
    assert (added.object_type, added.object_ref) == ("orgs.slapolicy", str(policy.pk))
    assert added.detail["admin"] == "add"
    page = client.get(f"/admin/orgs/slapolicy/{policy.pk}/change/")
    data = form_data(page) | {"arrive_seconds": 200}
    assert client.post(f"/admin/orgs/slapolicy/{policy.pk}/change/", data).status_code == 302
    changed = entries("config_change")[-1]
    assert changed.detail["admin"] == "change" and changed.detail["fields"] == ["arrive_seconds"]


def test_a_role_change_is_recorded_once_with_old_and_new(world, secadmin):
    client = logged_in(secadmin)
    url = f"/admin/accounts/user/{world.citizen.pk}/change/"
    data = form_data(client.get(url)) | {"role": Role.VOLUNTEER}
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    [changed] = entries("role_changed")
    assert changed.actor == secadmin and changed.object_ref == "citizen"
    assert changed.detail["old"] == Role.CITIZEN and changed.detail["new"] == Role.VOLUNTEER
    assert entries("account_changed") == []


def test_group_and_permission_changes_are_recorded(world, secadmin):
    client = logged_in(secadmin)
    group = Group.objects.create(name="值班组")
    url = f"/admin/accounts/user/{world.officer_a.pk}/change/"
    data = form_data(client.get(url)) | {"groups": [group.pk]}
    assert client.post(url, data).status_code == 302
    [granted] = entries("permission_changed")
    assert granted.object_ref == "officer_a" and "groups" in granted.detail["fields"]
    response = client.post("/admin/auth/group/add/", {"name": "夜班组"})
    assert response.status_code == 302
    added = entries("permission_changed")[-1]
    assert added.object_type == "auth.group" and added.detail["admin"] == "add"


def test_a_bulk_delete_in_the_admin_is_recorded_entry_by_entry(world, secadmin):
    groups = [Group.objects.create(name=f"组{i}") for i in range(3)]
    client = logged_in(secadmin)
    response = client.post(
        "/admin/auth/group/",
        {"action": "delete_selected", "_selected_action": [g.pk for g in groups], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Group.objects.exists()
    deleted = entries("permission_changed")
    assert sorted(e.object_ref for e in deleted) == sorted(str(g.pk) for g in groups)
    assert {e.detail["admin"] for e in deleted} == {"delete"}
    assert all(e.actor == secadmin for e in deleted)


# --- exports and personal data ------------------------------------------------------------------


def test_the_dispute_statistics_export_is_recorded(world):
    client = logged_in(world.commander)
    response = client.get("/console/disputes/stats.xlsx?from=2026-01&to=2026-06")
    assert response.status_code == 200
    [export] = entries("export")
    assert (export.actor, export.object_type) == (world.commander, "dispute_stats")
    assert export.detail["from"] == "2026-01" and export.detail["to"] == "2026-06"


def test_the_volunteer_statistics_export_is_recorded(world):
    client = logged_in(world.commander)
    response = client.get("/console/volunteers/stats.xlsx?month=2026-11")
    assert response.status_code == 200
    [export] = entries("export")
    assert export.object_type == "volunteer_stats" and export.detail["month"] == "2026-11"


def test_a_refused_export_is_not_an_export(world):
    response = logged_in(world.citizen).get("/console/disputes/stats.xlsx")
    assert response.status_code == 403
    assert entries("export") == []


def test_the_reporters_phone_offered_in_full_is_recorded(world):
    User.objects.filter(pk=world.citizen.pk).update(phone="+8613800138001")
    world.citizen.refresh_from_db()
    incident = report_at(reporter=world.citizen).incident
    page = logged_in(world.officer_a).get(f"/disputes/from-incident/{incident.code}/")
    assert page.status_code == 200 and "13800138001" in page.content.decode()
    [view] = entries("view_personal_data")
    assert (view.actor, view.object_type, view.object_ref) == (
        world.officer_a,
        "incident",
        incident.code,
    )
