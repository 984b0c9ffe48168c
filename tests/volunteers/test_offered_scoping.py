"""Who sees which task: staff their jurisdiction, residents the tasks offered to them."""

import pytest

from pingan.core import clock
from pingan.core.errors import NotFound
from pingan.volunteers import services
from tests.conftest import api_client, make_user

from .helpers import HOUR, make_profile, make_resident, make_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(world, crew):
    """Team A's task, grid GA1's task, and station B's task to grid GB1."""
    now = clock.now()
    by_team = make_task(world, teams=[crew.team], title="队伍任务", now=now)
    by_grid = make_task(world, grids=["GA1"], title="网格任务", now=now)
    other = make_task(world, actor=world.officer_b, grids=["GB1"], title="泉江任务", now=now)
    resident = make_resident("resident", home_grid_code="GA1")
    return type(
        "Scene", (), dict(now=now, by_team=by_team, by_grid=by_grid, other=other, resident=resident)
    )


def codes(qs):
    return {t.title for t in qs}


def test_team_members_see_their_teams_tasks(scene, crew):
    assert codes(services.tasks_for(crew.v1)) == {"队伍任务"}
    assert codes(services.open_tasks_for(crew.v1, scene.now)) == {"队伍任务"}


def test_residents_of_a_grid_see_its_tasks_without_a_team(scene):
    assert codes(services.tasks_for(scene.resident)) == {"网格任务"}
    # A resident of a grid need not be a volunteer to help.
    assert scene.resident.role == "citizen"


def test_a_member_living_in_the_grid_sees_both(scene, crew):
    make_profile(crew.v2, home_grid_code="GA1")
    assert codes(services.tasks_for(crew.v2)) == {"队伍任务", "网格任务"}


def test_strangers_see_nothing(scene, crew, world):
    assert codes(services.tasks_for(crew.loner)) == set()
    assert codes(services.tasks_for(world.citizen)) == set()
    for task in (scene.by_team, scene.by_grid, scene.other):
        with pytest.raises(NotFound):
            services.get_task_for(crew.loner, task.code)


def test_staff_see_their_jurisdiction(scene, world):
    assert codes(services.tasks_for(world.officer_a)) == {"队伍任务", "网格任务"}
    assert codes(services.tasks_for(world.aux_a)) == {"队伍任务", "网格任务"}
    assert codes(services.tasks_for(world.chief_a)) == {"队伍任务", "网格任务"}
    assert codes(services.tasks_for(world.officer_b)) == {"泉江任务"}
    assert codes(services.tasks_for(world.commander)) == {"队伍任务", "网格任务", "泉江任务"}
    clerk = make_user("clerk", "clerk")
    assert codes(services.tasks_for(clerk)) == set()


def test_ended_and_cancelled_tasks_leave_the_open_list(scene, crew, world):
    later = scene.now + 6 * HOUR
    assert codes(services.open_tasks_for(crew.v1, later)) == set()
    services.sign_up(crew.v1, scene.by_team.code, now=scene.now)
    services.cancel_task(world.officer_a, scene.by_team.code, reason="暴雨")
    assert codes(services.open_tasks_for(crew.v1, scene.now)) == set()
    # Still in "my tasks": they had signed up.
    assert codes(services.tasks_for(crew.v1)) == {"队伍任务"}
    # A member who had not signed up no longer sees the cancelled task.
    assert codes(services.tasks_for(crew.v2)) == set()


def test_api_lists_by_view(scene, crew, world):
    client = api_client(crew.v1)
    services.sign_up(crew.v1, scene.by_team.code, now=scene.now)
    open_ = client.get("/api/volunteers/tasks?view=open").json()
    assert [t["title"] for t in open_["items"]] == ["队伍任务"]
    assert open_["items"][0]["my_status"] == "accepted"
    mine = client.get("/api/volunteers/tasks?view=mine").json()
    assert mine["count"] == 1
    staff = api_client(world.officer_a).get("/api/volunteers/tasks?view=all").json()
    assert {t["title"] for t in staff["items"]} == {"队伍任务", "网格任务"}
    posted = api_client(world.officer_b).get("/api/volunteers/tasks?view=mine").json()
    assert [t["title"] for t in posted["items"]] == ["泉江任务"]
    bad = client.get("/api/volunteers/tasks?view=everything")
    assert bad.status_code == 422
    response = api_client(crew.loner).get(f"/api/volunteers/tasks/{scene.by_team.code}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
