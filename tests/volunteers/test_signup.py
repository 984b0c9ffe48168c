"""Signing up: first come first served, the waiting list, cancellation and promotion."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pingan.core.errors import Conflict, NotFound
from pingan.live.groups import team_group, user_group
from pingan.volunteers import services
from pingan.volunteers.models import Signup, SignupStatus, Task
from tests.conftest import api_client

from .helpers import make_resident, make_task, team_with_volunteers
from .pushes import listen, received, sms_sent

pytestmark = pytest.mark.django_db


@pytest.fixture
def rush(world):
    team, users = team_with_volunteers(world, 6)
    task = make_task(world, teams=[team], slots=3)
    return team, users, task


def statuses(task):
    return list(
        Signup.objects.filter(task=task).order_by("pk").values_list("user__username", "status")
    )


def test_first_come_first_served_then_a_waiting_list(rush):
    team, users, task = rush
    results = [services.sign_up(u, task.code) for u in users]
    assert [s.status for s in results] == ["accepted"] * 3 + ["waiting"] * 3
    assert [services.waiting_position(s) for s in results] == [None] * 3 + [1, 2, 3]
    assert all(s.team == team for s in results)
    assert all(s.accepted_at for s in results[:3]) and not results[3].accepted_at
    task.refresh_from_db()
    assert task.taken == 3


def test_signing_up_twice_is_refused(rush):
    _, users, task = rush
    services.sign_up(users[0], task.code)
    with pytest.raises(Conflict) as err:
        services.sign_up(users[0], task.code)
    assert err.value.code == "already_signed_up"
    assert Signup.objects.count() == 1


def test_cancellation_promotes_the_first_in_line_and_tells_them(
    world, rush, layer, django_capture_on_commit_callbacks
):
    team, users, task = rush
    for user in users[:5]:
        services.sign_up(user, task.code)
    first_in_line = users[3]
    channel = listen(layer, user_group(first_in_line.pk))
    others = listen(layer, user_group(users[4].pk))
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = services.cancel_signup(users[1], task.code)
    assert cancelled.status == SignupStatus.CANCELLED and cancelled.cancelled_at
    promoted = Signup.objects.get(task=task, user=first_in_line)
    assert promoted.status == SignupStatus.ACCEPTED and promoted.promoted
    assert services.waiting_position(Signup.objects.get(task=task, user=users[4])) == 1
    task.refresh_from_db()
    assert task.taken == 3
    [message] = received(layer, channel)
    assert message["type"] == "push.task" and message["event"] == "promoted"
    assert message["task"]["code"] == task.code
    assert received(layer, others) == []
    sent = sms_sent()
    phone = first_in_line.volunteer_profile.phone
    assert list(sent) == [phone]
    assert "候补成功" in sent[phone][0] and task.title in sent[phone][0]


def test_cancelling_a_waiting_place_frees_no_slot(rush):
    _, users, task = rush
    signups = [services.sign_up(u, task.code) for u in users[:5]]
    services.cancel_signup(users[3], task.code)
    task.refresh_from_db()
    assert task.taken == 3
    assert services.waiting_position(Signup.objects.get(pk=signups[4].pk)) == 1
    assert sms_sent() == {}


def test_a_cancelled_slot_without_a_waiting_list_is_free_again(rush):
    _, users, task = rush
    services.sign_up(users[0], task.code)
    services.cancel_signup(users[0], task.code)
    task.refresh_from_db()
    assert task.taken == 0
    # And the same person may sign up again.
    assert services.sign_up(users[0], task.code).status == SignupStatus.ACCEPTED
    assert statuses(task) == [("v0000", "cancelled"), ("v0000", "accepted")]


def test_no_cancellation_after_check_in_or_without_a_sign_up(rush):
    _, users, task = rush
    services.sign_up(users[0], task.code, now=task.published_at)
    services.check_in(users[0], task.code, qr_token=task.qr_token, now=task.starts_at)
    with pytest.raises(Conflict) as err:
        services.cancel_signup(users[0], task.code, now=task.starts_at)
    assert err.value.code == "already_checked_in"
    with pytest.raises(NotFound):
        services.cancel_signup(users[1], task.code)


def test_closed_tasks_take_no_sign_ups(world, rush):
    _, users, task = rush
    with pytest.raises(Conflict) as err:
        services.sign_up(users[0], task.code, now=task.ends_at)
    assert err.value.code == "task_closed"
    services.cancel_task(world.officer_a, task.code, reason="天气原因")
    with pytest.raises(Conflict):
        services.sign_up(users[0], task.code)
    assert not Signup.objects.exists()


def test_not_offered_is_not_found_and_no_profile_is_a_conflict(world, rush):
    _, _, task = rush
    for user in (world.citizen, world.officer_a, world.officer_b):
        with pytest.raises(NotFound):
            services.sign_up(user, task.code)
    with pytest.raises(NotFound):
        services.sign_up(world.citizen, "RW-NOPE")
    grid_task = make_task(world, grids=["GA1"])
    # A resident of the grid without a profile — profile deleted after it was made.
    resident = make_resident("resident", home_grid_code="GA1")
    resident.volunteer_profile.delete()
    with pytest.raises(NotFound):
        services.sign_up(resident, grid_task.code)
    assert not Signup.objects.exists()


def test_cancelling_the_task_voids_live_sign_ups_and_tells_them(
    world, rush, layer, django_capture_on_commit_callbacks
):
    team, users, task = rush
    for user in users[:4]:
        services.sign_up(user, task.code)
    channel = listen(layer, user_group(users[3].pk))
    members = listen(layer, team_group(team.pk))
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_task(world.officer_a, task.code, reason="暴雨预警")
    task.refresh_from_db()
    assert task.status == "cancelled" and task.cancel_reason == "暴雨预警" and task.taken == 0
    assert set(Signup.objects.values_list("status", flat=True)) == {"voided"}
    [message] = received(layer, channel)
    assert message["event"] == "task_cancelled" and "暴雨预警" in message["message"]
    assert [m["event"] for m in received(layer, members)] == ["cancelled"]
    sent = sms_sent()
    assert len(sent) == 4 and all("暴雨预警" in texts[0] for texts in sent.values())


def test_a_task_someone_checked_in_to_cannot_be_cancelled(world, rush):
    _, users, task = rush
    services.sign_up(users[0], task.code, now=task.published_at)
    services.check_in(users[0], task.code, qr_token=task.qr_token, now=task.starts_at)
    with pytest.raises(Conflict) as err:
        services.cancel_task(world.officer_a, task.code, reason="取消")
    assert err.value.code == "task_started"


def test_publication_reaches_the_offered_teams_and_grids_only(
    world, layer, django_capture_on_commit_callbacks
):
    from pingan.live.groups import volunteer_grid_group

    team, _ = team_with_volunteers(world, 1)
    team_channel = listen(layer, team_group(team.pk))
    grid_a = listen(layer, volunteer_grid_group(world.grid_a.pk))
    grid_b = listen(layer, volunteer_grid_group(world.grid_b.pk))
    with django_capture_on_commit_callbacks(execute=True):
        task = make_task(world, teams=[team], grids=["GA1"], slots=7)
    for channel in (team_channel, grid_a):
        [message] = received(layer, channel)
        assert message["type"] == "push.task" and message["event"] == "published"
        assert message["task"]["code"] == task.code and message["task"]["slots"] == 7
    assert received(layer, grid_b) == []


def test_api_sign_up_answers_status_and_position(world, rush):
    _, users, task = rush
    for user in users[:3]:
        services.sign_up(user, task.code)
    response = api_client(users[3]).post(f"/api/volunteers/tasks/{task.code}/signup")
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["position"], body["task"]) == ("waiting", 1, task.code)
    response = api_client(users[3]).post(f"/api/volunteers/tasks/{task.code}/signup")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_signed_up"
    response = api_client(users[0]).post(f"/api/volunteers/tasks/{task.code}/signup/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    mine = api_client(users[3]).get(f"/api/volunteers/tasks/{task.code}").json()["my_signup"]
    assert mine["status"] == "accepted" and mine["promoted"] is True


def test_sign_up_is_a_few_queries(world, rush):
    """The rush path: the offer check, the lock, the insert, the counter (plus savepoints here,
    since the test runs inside a transaction)."""
    _, users, task = rush
    with CaptureQueriesContext(connection) as ctx:
        services.sign_up(users[0], task.code)
    real = [q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(real) == 4, [q["sql"][:80] for q in real]
    for user in users[1:3]:
        services.sign_up(user, task.code)
    with CaptureQueriesContext(connection) as ctx:
        services.sign_up(users[3], task.code)  # full: waiting, no counter update
    assert len([q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]) == 3
    assert Task.objects.get(pk=task.pk).taken == 3


def test_the_sign_up_endpoint_adds_only_the_token_check(world, rush):
    _, users, task = rush
    client = api_client(users[0])
    client.get("/api/volunteers/profile")  # the token's last-used time is touched once a minute
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(f"/api/volunteers/tasks/{task.code}/signup")
    assert response.status_code == 201
    real = [q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(real) == 5, [q["sql"][:80] for q in real]
