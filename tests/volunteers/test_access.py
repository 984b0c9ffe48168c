"""Every endpoint, every persona: anonymous 401, outsiders 404, the wrong role 403 (or 404
where the record is theirs to not know of), the right role succeeds; a denied request changes
nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from pingan.accounts.models import Role
from pingan.notify.models import OutboundMessage
from pingan.points.models import PointEntry
from pingan.volunteers import services
from pingan.volunteers.models import Membership, Signup, Task, Team, VolunteerProfile
from tests.conftest import api_client, make_user

from .helpers import MEETING, add_member, make_profile, make_resident, make_task, make_team

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)


@pytest.fixture
def scene(world, crew):
    """Team T (v1, v2, v3, v4 active), team P asking for approval with citizen2 pending; task K
    of officer_a for T, starting in 30 minutes: v1 accepted, v3 checked in, v4 checked in and
    out. A clerk."""
    v3 = make_resident("v3")
    v4 = make_resident("v4")
    for user in (v3, v4):
        add_member(crew.team, user)
    pending_team = make_team(world, name="审核队", requires_approval=True)
    make_profile(world.citizen2)
    pending = services.join_team(world.citizen2, pending_team.invite_token)
    now = timezone.now()
    task = make_task(world, teams=[crew.team], slots=4, now=now, starts_in=timedelta(minutes=30))
    for user in (crew.v1, v3, v4):
        services.sign_up(user, task.code)
    Signup.objects.filter(user__in=[v3, v4]).update(checked_in_at=now, checkin_method="qr")
    Signup.objects.filter(user=v4).update(checked_out_at=now + HOUR, checkout_method="qr")
    personas = {
        "anonymous": None,
        "loner": crew.loner,
        "v1": crew.v1,
        "v2": crew.v2,
        "v3": v3,
        "v4": v4,
        "citizen": world.citizen,
        "clerk": make_user("clerk", Role.CLERK),
        "officer_a": world.officer_a,
        "aux_a": world.aux_a,
        "chief_a": world.chief_a,
        "officer_b": world.officer_b,
        "commander": world.commander,
    }
    return type(
        "Scene",
        (),
        dict(
            team=crew.team,
            pending_team=pending_team,
            pending=pending,
            member=Membership.objects.get(team=crew.team, user=crew.v2),
            task=task,
            v4_signup=Signup.objects.get(user=v4),
            personas=personas,
        ),
    )


def snapshot():
    """Everything a volunteer request could change."""
    return (
        list(VolunteerProfile.objects.order_by("pk").values()),
        list(Team.objects.order_by("pk").values()),
        list(Membership.objects.order_by("pk").values()),
        list(Task.objects.order_by("pk").values()),
        list(Signup.objects.order_by("pk").values()),
        PointEntry.objects.count(),
        OutboundMessage.objects.count(),
    )


def task_body(world):
    now = timezone.localtime()
    return {
        "kind": "night_patrol",
        "title": "夜巡",
        "starts_at": (now + HOUR).isoformat(),
        "ends_at": (now + 2 * HOUR).isoformat(),
        "meeting_address": "东门",
        "lng": MEETING[0],
        "lat": MEETING[1],
        "slots": 3,
        "grids": ["GA1"],
    }


# (method, path, body, kind) → expected status per persona; personas not named are not tried.
# The first status of 2xx is the right role: it runs last, after every denial.
def endpoints(s, world):
    t, k = s.team.code, s.task.code
    token = s.team.invite_token
    return {
        "get profile": (
            "get",
            "/api/volunteers/profile",
            None,
            {"anonymous": 401, "officer_a": 403, "clerk": 403, "loner": 200},
        ),
        "put profile": (
            "put",
            "/api/volunteers/profile",
            {"real_name": "王芳芳", "phone": "13800138010"},
            {"anonymous": 401, "officer_a": 403, "commander": 403, "clerk": 403, "loner": 200},
        ),
        "list teams": (
            "get",
            "/api/volunteers/teams",
            None,
            {"anonymous": 401, "loner": 200, "v1": 200, "officer_b": 200},
        ),
        "create team": (
            "post",
            "/api/volunteers/teams",
            {"name": "新队", "org": "O-A1"},
            {
                "anonymous": 401,
                "v1": 403,
                "aux_a": 403,
                "clerk": 403,
                "officer_b": 400,
                "officer_a": 201,
            },
        ),
        "get team": (
            "get",
            f"/api/volunteers/teams/{t}",
            None,
            {
                "anonymous": 401,
                "loner": 404,
                "officer_b": 404,
                "clerk": 404,
                "v1": 200,
                "aux_a": 200,
            },
        ),
        "reset invite": (
            "post",
            f"/api/volunteers/teams/{t}/invite/reset",
            None,
            {
                "anonymous": 401,
                "loner": 404,
                "officer_b": 404,
                "v1": 403,
                "aux_a": 403,
                "officer_a": 200,
            },
        ),
        "team qr": (
            "get",
            f"/api/volunteers/teams/{t}/qr.svg",
            None,
            {
                "anonymous": 401,
                "loner": 404,
                "officer_b": 404,
                "v1": 403,
                "aux_a": 403,
                "chief_a": 200,
            },
        ),
        "leave team": (
            "post",
            f"/api/volunteers/teams/{t}/leave",
            None,
            {"anonymous": 401, "loner": 404, "officer_a": 404, "v2": 200},
        ),
        "join preview": (
            "get",
            f"/api/volunteers/join/{token}",
            None,
            {"anonymous": 401, "loner": 200},
        ),
        "join": (
            "post",
            f"/api/volunteers/join/{token}",
            None,
            {
                "anonymous": 401,
                "officer_a": 403,
                "clerk": 403,
                "citizen": 409,
                "v1": 409,
                "loner": 201,
            },
        ),
        "approve": (
            "post",
            f"/api/volunteers/memberships/{s.pending.pk}/approve",
            {},
            {
                "anonymous": 401,
                "loner": 404,
                "v1": 404,
                "citizen2": 404,
                "officer_b": 404,
                "aux_a": 404,
                "officer_a": 200,
            },
        ),
        "reject": (
            "post",
            f"/api/volunteers/memberships/{s.pending.pk}/reject",
            {"note": "满员"},
            {
                "anonymous": 401,
                "loner": 404,
                "v1": 404,
                "officer_b": 404,
                "aux_a": 404,
                "chief_a": 200,
            },
        ),
        "remove": (
            "post",
            f"/api/volunteers/memberships/{s.member.pk}/remove",
            {"reason": "缺勤"},
            {
                "anonymous": 401,
                "loner": 404,
                "v1": 404,
                "v2": 404,
                "officer_b": 404,
                "aux_a": 404,
                "officer_a": 200,
            },
        ),
        "list tasks": (
            "get",
            "/api/volunteers/tasks?view=all",
            None,
            {"anonymous": 401, "loner": 200, "clerk": 200, "v1": 200},
        ),
        "post task": (
            "post",
            "/api/volunteers/tasks",
            task_body(world),
            {
                "anonymous": 401,
                "v1": 403,
                "aux_a": 403,
                "worker_a": 403,
                "clerk": 403,
                "officer_b": 400,
                "officer_a": 201,
            },
        ),
        "get task": (
            "get",
            f"/api/volunteers/tasks/{k}",
            None,
            {
                "anonymous": 401,
                "loner": 404,
                "officer_b": 404,
                "clerk": 404,
                "v2": 200,
                "aux_a": 200,
            },
        ),
        "task qr": (
            "get",
            f"/api/volunteers/tasks/{k}/qr.svg",
            None,
            {
                "anonymous": 401,
                "loner": 404,
                "officer_b": 404,
                "v1": 403,
                "aux_a": 403,
                "officer_a": 200,
            },
        ),
        "cancel task": (
            "post",
            f"/api/volunteers/tasks/{k}/cancel",
            {"reason": "天气"},
            {
                "anonymous": 401,
                "loner": 404,
                "officer_b": 404,
                "v1": 403,
                "aux_a": 403,
                # Someone has checked in: the right role is refused for a reason.
                "officer_a": 409,
            },
        ),
        "sign up": (
            "post",
            f"/api/volunteers/tasks/{k}/signup",
            None,
            {
                "anonymous": 401,
                "loner": 404,
                "officer_b": 404,
                "officer_a": 404,
                "clerk": 404,
                "v1": 409,
                "v2": 201,
            },
        ),
        "cancel sign-up": (
            "post",
            f"/api/volunteers/tasks/{k}/signup/cancel",
            None,
            {
                "anonymous": 401,
                "loner": 404,
                "officer_b": 404,
                "v2": 404,
                "officer_a": 404,
                "v3": 409,
                "v1": 200,
            },
        ),
        "check in": (
            "post",
            f"/api/volunteers/tasks/{k}/checkin",
            {"qr": s.task.qr_token},
            {
                "anonymous": 401,
                "loner": 404,
                "officer_b": 404,
                "v2": 404,
                "officer_a": 404,
                "v3": 409,
                "v1": 200,
            },
        ),
        "check out": (
            "post",
            f"/api/volunteers/tasks/{k}/checkout",
            {"qr": s.task.qr_token},
            {
                "anonymous": 401,
                "loner": 404,
                "officer_b": 404,
                "v2": 404,
                "v1": 409,
                "v4": 409,
                "v3": 200,
            },
        ),
        "report": (
            "multipart",
            f"/api/volunteers/tasks/{k}/report",
            {"text": "完成"},
            {"anonymous": 401, "loner": 404, "officer_b": 404, "v2": 404, "v1": 409, "v3": 200},
        ),
        "sign-ups": (
            "get",
            f"/api/volunteers/tasks/{k}/signups",
            None,
            {"anonymous": 401, "loner": 404, "officer_b": 404, "v1": 403, "aux_a": 200},
        ),
        "confirm": (
            "post",
            f"/api/volunteers/signups/{s.v4_signup.pk}/confirm",
            None,
            {
                "anonymous": 401,
                "loner": 404,
                "v1": 404,
                "officer_b": 404,
                "v4": 403,
                "aux_a": 403,
                "officer_a": 200,
            },
        ),
        "reject work": (
            "post",
            f"/api/volunteers/signups/{s.v4_signup.pk}/reject",
            {"reason": "未到岗"},
            {
                "anonymous": 401,
                "loner": 404,
                "v1": 404,
                "officer_b": 404,
                "v4": 403,
                "aux_a": 403,
                "commander": 200,
            },
        ),
        "history": (
            "get",
            "/api/volunteers/me/history",
            None,
            {"anonymous": 401, "loner": 200, "officer_a": 200},
        ),
    }


NAMES = [
    "get profile", "put profile", "list teams", "create team", "get team", "reset invite",
    "team qr", "leave team", "join preview", "join", "approve", "reject", "remove",
    "list tasks", "post task", "get task", "task qr", "cancel task", "sign up", "cancel sign-up",
    "check in", "check out", "report", "sign-ups", "confirm", "reject work", "history",
]  # fmt: skip


def call(user, method, path, body):
    client = api_client(user)
    if method == "get":
        return client.get(path)
    if method == "multipart":
        return client.post(path, body)
    if body is None:
        return client.post(path) if method == "post" else client.put(path)
    return getattr(client, method)(path, body, content_type="application/json")


@pytest.mark.parametrize("name", NAMES)
def test_endpoint_access(world, scene, name, media):
    method, path, body, expected = endpoints(scene, world)[name]
    scene.personas["citizen2"] = world.citizen2
    scene.personas["worker_a"] = world.worker_a
    ordered = sorted(expected.items(), key=lambda item: 200 <= item[1] < 300)
    for persona, status in ordered:
        before = snapshot()
        response = call(scene.personas[persona], method, path, body)
        assert response.status_code == status, (persona, response.content)
        if status >= 300:
            assert set(response.json()) == {"error"}
            assert response.json()["error"]["code"]
            assert snapshot() == before, f"{name}: a denied request by {persona} changed data"


def test_every_endpoint_is_covered():
    from pingan.volunteers.api import router

    routes = {(m, p) for p, path_view in router.path_operations.items()
              for op in path_view.operations for m in op.methods}  # fmt: skip
    assert len(routes) == len(NAMES)


def test_lists_show_masked_phones_and_own_data_only(world, scene, crew):
    team = api_client(world.officer_a).get(f"/api/volunteers/teams/{crew.team.code}").json()
    phones = [m["phone"] for m in team["member_list"]]
    assert "138****8001" in phones and all("****" in p for p in phones)
    assert [m["name"] for m in team["pending"]] == []
    as_member = api_client(crew.v2).get(f"/api/volunteers/teams/{crew.team.code}").json()
    assert "张*" in [m["name"] for m in as_member["member_list"]]
    assert as_member["invite_url"] is None and as_member["pending"] == []
    pending = api_client(world.officer_a).get(f"/api/volunteers/teams/{scene.pending_team.code}")
    assert [m["id"] for m in pending.json()["pending"]] == [scene.pending.pk]
    signups = api_client(world.aux_a).get(f"/api/volunteers/tasks/{scene.task.code}/signups")
    assert all("****" in s["user"]["phone"] for s in signups.json())
    task = api_client(crew.v1).get(f"/api/volunteers/tasks/{scene.task.code}").json()
    assert task["qr_token"] is None and task["can_manage"] is False
    history = api_client(crew.loner).get("/api/volunteers/me/history").json()
    assert history["signups"] == []
