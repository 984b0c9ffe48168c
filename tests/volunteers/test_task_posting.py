"""Posting a task: who may, to whom, and every way the input can be wrong."""

from datetime import timedelta

import pytest
from django.utils import timezone

from pingan.core import clock
from pingan.core.errors import Forbidden, ServiceError
from pingan.geo.crs import wgs84_to_gcj02
from pingan.volunteers import services
from pingan.volunteers.models import Task, TaskStatus
from tests.conftest import api_client

from .helpers import HOUR, MEETING, make_task, make_team

pytestmark = pytest.mark.django_db


def test_officer_posts_a_task_to_a_team_and_a_grid(world):
    team = make_team(world)
    now = clock.now()
    task = make_task(world, teams=[team], grids=["GA1"], slots=20, now=now)
    assert task.code.startswith("RW")
    assert task.status == TaskStatus.PUBLISHED and task.published_at == now
    assert (task.slots, task.taken) == (20, 0)
    assert task.org == world.office_a and task.posted_by == world.officer_a
    assert list(task.teams.all()) == [team] and list(task.grids.all()) == [world.grid_a]
    assert task.checkin_radius_m == 300
    assert len(task.qr_token) >= 20
    assert services.task_scan_url(task) == f"/volunteer/tasks/{task.code}/scan/{task.qr_token}/"


def test_coordinates_and_route_are_stored_in_wgs84(world):
    lng, lat = wgs84_to_gcj02(*MEETING)
    route = [wgs84_to_gcj02(114.30, 26.30), wgs84_to_gcj02(114.305, 26.302)]
    now = clock.now()
    task = services.post_task(
        world.officer_a,
        kind="night_patrol",
        title="夜巡",
        starts_at=now + HOUR,
        ends_at=now + 3 * HOUR,
        meeting_address="东门",
        lng=lng,
        lat=lat,
        crs="gcj02",
        route=route,
        slots=3,
        grid_codes=["GA1"],
        now=now,
    )
    assert task.meeting_lng == pytest.approx(MEETING[0], abs=1e-6)
    assert task.meeting_lat == pytest.approx(MEETING[1], abs=1e-6)
    assert task.route[1] == pytest.approx([114.305, 26.302], abs=1e-6)


def post(world, actor=None, **change):
    now = change.pop("now", None) or clock.now()
    fields = {
        "kind": "traffic",
        "title": "放学交通疏导",
        "starts_at": now + HOUR,
        "ends_at": now + 2 * HOUR,
        "meeting_address": "东门小学",
        "lng": MEETING[0],
        "lat": MEETING[1],
        "slots": 4,
        "grid_codes": ["GA1"],
        "now": now,
    }
    fields.update(change)
    return services.post_task(actor or world.officer_a, **fields)


NOW = timezone.now()


@pytest.mark.parametrize(
    "change, code",
    [
        ({"slots": 0}, "bad_slots"),
        ({"slots": -3}, "bad_slots"),
        ({"slots": None}, "bad_slots"),
        ({"slots": True}, "bad_slots"),
        ({"slots": 2.5}, "bad_slots"),
        ({"slots": 10_001}, "bad_slots"),
        ({"starts_at": NOW - HOUR, "ends_at": NOW + HOUR, "now": NOW}, "starts_in_past"),
        ({"starts_at": NOW + 3 * HOUR, "ends_at": NOW + 2 * HOUR, "now": NOW}, "bad_window"),
        ({"starts_at": NOW + HOUR, "ends_at": NOW + HOUR, "now": NOW}, "bad_window"),
        (
            {"starts_at": NOW + HOUR, "ends_at": NOW + timedelta(days=8), "now": NOW},
            "window_too_long",
        ),
        ({"starts_at": "tomorrow"}, "bad_time"),
        ({"grid_codes": []}, "no_audience"),
        ({"grid_codes": ["GB1"]}, "bad_grid"),
        ({"grid_codes": ["NOPE"]}, "bad_grid"),
        ({"grid_codes": "GA1"}, "invalid_input"),
        ({"kind": "party"}, "bad_kind"),
        ({"kind": None}, "bad_kind"),
        ({"title": ""}, "title_required"),
        ({"title": "x" * 101}, "title_too_long"),
        ({"meeting_address": " "}, "meeting_address_required"),
        ({"lng": 200}, "bad_location"),
        ({"lat": -91}, "bad_location"),
        ({"lng": float("nan")}, "bad_location"),
        ({"lng": "东经"}, "bad_location"),
        ({"lng": None}, "bad_location"),
        ({"crs": "mars"}, "bad_crs"),
        ({"route": [[114.3, 26.3]]}, "bad_route"),
        ({"route": [[114.3, 26.3], [114.3]]}, "bad_route"),
        ({"route": [[114.3, 26.3], [514.3, 26.3]]}, "bad_location"),
        ({"route": "114.3,26.3"}, "bad_route"),
        ({"checkin_radius_m": 5}, "bad_radius"),
        ({"checkin_radius_m": 50_000}, "bad_radius"),
    ],
)
def test_bad_tasks_are_refused_with_a_reason(world, change, code):
    with pytest.raises(ServiceError) as err:
        post(world, **change)
    assert err.value.code == code
    assert err.value.message
    assert not Task.objects.exists()


def test_teams_outside_the_scope_are_refused(world):
    other = make_team(world, name="大坑队", actor=world.officer_b, org=world.office_b)
    with pytest.raises(ServiceError) as err:
        post(world, grid_codes=[], team_codes=[other.code])
    assert err.value.code == "bad_team"
    assert err.value.details["codes"] == [other.code]
    own = make_team(world)
    services.update_team(world.officer_a, own, active=False)
    with pytest.raises(ServiceError):
        post(world, grid_codes=[], team_codes=[own.code])
    assert not Task.objects.exists()


@pytest.mark.parametrize("persona", ["aux_a", "worker_a", "citizen", "volunteer"])
def test_only_officers_and_commanders_post(world, persona):
    with pytest.raises(Forbidden):
        post(world, actor=getattr(world, persona))
    assert not Task.objects.exists()


def test_a_commander_posts_to_any_grid_of_the_county(world):
    task = post(world, actor=world.commander, grid_codes=["GA1", "GB1"])
    assert task.org == world.county
    assert set(task.grids.values_list("code", flat=True)) == {"GA1", "GB1"}


def api_body(**change):
    now = timezone.localtime()
    body = {
        "kind": "anti_fraud",
        "title": "反诈宣传进社区",
        "description": "发放宣传册",
        "starts_at": (now + HOUR).isoformat(),
        "ends_at": (now + 3 * HOUR).isoformat(),
        "meeting_address": "东门广场",
        "lng": MEETING[0],
        "lat": MEETING[1],
        "crs": "wgs84",
        "route": [],
        "checkin_radius_m": 200,
        "slots": 10,
        "teams": [],
        "grids": ["GA1"],
    }
    body.update(change)
    return body


def test_api_posts_a_task(world):
    team = make_team(world)
    response = api_client(world.officer_a).post(
        "/api/volunteers/tasks", api_body(teams=[team.code]), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["code"].startswith("RW")
    assert data["slots"] == 10 and data["left"] == 10 and data["taken"] == 0
    assert data["can_manage"] is True and data["qr_token"]
    assert data["teams"] == [{"code": team.code, "name": team.name}]
    assert data["starts_at"].endswith("+08:00")


@pytest.mark.parametrize(
    "change, status, code",
    [
        ({"slots": 0}, 422, "invalid_input"),
        ({"slots": -1}, 422, "invalid_input"),
        ({"kind": "party"}, 422, "invalid_input"),
        ({"lng": 181}, 422, "invalid_input"),
        ({"starts_at": "2020-01-01T08:00:00"}, 400, "starts_in_past"),
        ({"starts_at": "9999-01-01T08:00:00"}, 422, "invalid_input"),
        ({"grids": []}, 400, "no_audience"),
        ({"grids": ["GB1"]}, 400, "bad_grid"),
        ({"title": "\x00"}, 422, "invalid_input"),
    ],
)
def test_api_refuses_bad_tasks(world, change, status, code):
    response = api_client(world.officer_a).post(
        "/api/volunteers/tasks", api_body(**change), content_type="application/json"
    )
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert not Task.objects.exists()


def test_api_reversed_window(world):
    now = timezone.localtime()
    body = api_body(starts_at=(now + 3 * HOUR).isoformat(), ends_at=(now + HOUR).isoformat())
    response = api_client(world.officer_a).post(
        "/api/volunteers/tasks", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "bad_window",
        "message": "结束时间必须晚于开始时间",
        "details": {"field": "ends_at"},
    }
