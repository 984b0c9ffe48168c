"""The officer confirms the work: hours from the clipped check-in/out, points via the ledger,
once; or rejects it with a reason."""

from datetime import timedelta
from decimal import Decimal

import pytest

from pingan.core.errors import Conflict, Forbidden, NotFound, ServiceError
from pingan.points import ledger
from pingan.points.models import PointEntry, PointRule
from pingan.volunteers import services
from pingan.volunteers.models import Signup
from tests.conftest import api_client

from .helpers import HOUR, make_task, team_with_volunteers
from .pushes import sms_sent

pytestmark = pytest.mark.django_db
MIN = timedelta(minutes=1)


@pytest.fixture
def worked(world):
    """A 3-hour night patrol; the volunteer checks in 10 minutes late and out 30 minutes early."""
    team, users = team_with_volunteers(world, 2)
    task = make_task(world, teams=[team], slots=2, kind="night_patrol", duration=3 * HOUR)
    user = users[0]
    services.sign_up(user, task.code, now=task.published_at)
    services.check_in(user, task.code, qr_token=task.qr_token, now=task.starts_at + 10 * MIN)
    services.check_out(user, task.code, qr_token=task.qr_token, now=task.ends_at - 30 * MIN)
    signup = Signup.objects.get(task=task, user=user)
    return type("Worked", (), dict(task=task, user=user, signup=signup, team=team, other=users[1]))


def test_confirm_credits_points_for_the_task_and_the_hours(world, worked):
    task = worked.task
    signup = services.confirm_work(world.officer_a, worked.signup.pk, now=task.ends_at + HOUR)
    # 2 h 20 min = 2.33 h; 10 for the task + floor(5 × 2.33) = 11 for the hours.
    assert signup.hours == Decimal("2.33")
    assert signup.points_awarded == 21
    assert signup.review == "confirmed" and signup.reviewed_by == world.officer_a
    assert ledger.balance(worked.user) == 21
    entries = PointEntry.objects.filter(user=worked.user).order_by("pk")
    assert [(e.rule, e.amount, e.source_type, e.source_ref) for e in entries] == [
        ("task_confirmed", 10, "task", task.code),
        ("patrol_hour", 11, "task", task.code),
    ]
    assert {e.dedupe_key for e in entries} == {
        f"task:{task.code}:{worked.user.pk}:done",
        f"task:{task.code}:{worked.user.pk}:hours",
    }
    assert all(e.org == world.office_a and e.team == worked.team for e in entries)
    [text] = sms_sent()[worked.user.volunteer_profile.phone]
    assert "2.33 小时" in text and "21 积分" in text


def test_hours_are_clipped_to_the_window(world, worked):
    task = worked.task
    other = worked.other
    services.sign_up(other, task.code, now=task.published_at)
    # Checked in 50 minutes early, never checked out: counted from the start to the end.
    services.check_in(other, task.code, qr_token=task.qr_token, now=task.starts_at - 50 * MIN)
    signup = Signup.objects.get(task=task, user=other)
    confirmed = services.confirm_work(world.officer_a, signup.pk, now=task.ends_at + 3 * HOUR)
    assert confirmed.hours == Decimal("3.00")
    assert confirmed.points_awarded == 10 + 15


def test_hour_points_only_for_the_kinds_the_rule_names(world):
    team, users = team_with_volunteers(world, 1)
    task = make_task(world, teams=[team], kind="anti_fraud", duration=2 * HOUR)
    services.sign_up(users[0], task.code, now=task.published_at)
    services.check_in(users[0], task.code, qr_token=task.qr_token, now=task.starts_at)
    signup = Signup.objects.get(task=task)
    confirmed = services.confirm_work(world.officer_a, signup.pk, now=task.ends_at)
    assert confirmed.hours == Decimal("2.00") and confirmed.points_awarded == 10
    assert PointEntry.objects.count() == 1


def test_a_rule_switched_off_credits_nothing(world, worked):
    PointRule.objects.update(active=False)
    signup = services.confirm_work(world.officer_a, worked.signup.pk, now=worked.task.ends_at)
    assert signup.points_awarded == 0 and signup.review == "confirmed"
    assert not PointEntry.objects.exists()


def test_confirming_twice_is_refused_and_credits_once(world, worked):
    services.confirm_work(world.officer_a, worked.signup.pk, now=worked.task.ends_at)
    for actor in (world.officer_a, world.chief_a):
        with pytest.raises(Conflict) as err:
            services.confirm_work(actor, worked.signup.pk, now=worked.task.ends_at)
        assert err.value.code == "already_reviewed"
    with pytest.raises(Conflict):
        services.reject_work(world.officer_a, worked.signup.pk, reason="重复")
    assert ledger.balance(worked.user) == 21
    assert PointEntry.objects.count() == 2


def test_reject_needs_a_reason_and_credits_nothing(world, worked):
    for reason in ("", "  "):
        with pytest.raises(ServiceError) as err:
            services.reject_work(world.officer_a, worked.signup.pk, reason=reason)
        assert err.value.code == "reason_required"
    signup = services.reject_work(world.officer_a, worked.signup.pk, reason="未按路线巡逻")
    assert (signup.review, signup.review_reason) == ("rejected", "未按路线巡逻")
    assert not PointEntry.objects.exists()
    assert "未按路线巡逻" in sms_sent()[worked.user.volunteer_profile.phone][0]


def test_only_a_checked_in_and_finished_sign_up_is_confirmed(world, worked):
    task = worked.task
    services.sign_up(worked.other, task.code, now=task.published_at)
    signup = Signup.objects.get(task=task, user=worked.other)
    with pytest.raises(Conflict) as err:
        services.confirm_work(world.officer_a, signup.pk, now=task.ends_at)
    assert err.value.code == "not_checked_in"
    services.check_in(worked.other, task.code, qr_token=task.qr_token, now=task.starts_at)
    with pytest.raises(Conflict) as err:
        services.confirm_work(world.officer_a, signup.pk, now=task.starts_at + HOUR)
    assert err.value.code == "not_finished"


def test_who_may_confirm(world, worked):
    pk = worked.signup.pk
    # Staff of the station who did not post it: they see the sign-up but may not confirm.
    for persona in (world.aux_a, world.worker_a):
        with pytest.raises(Forbidden):
            services.confirm_work(persona, pk, now=worked.task.ends_at)
    # Another station, residents (even the volunteer), and unknown ids: not found.
    for persona in (world.officer_b, worked.other, world.citizen):
        with pytest.raises(NotFound):
            services.confirm_work(persona, pk, now=worked.task.ends_at)
    with pytest.raises((NotFound, Forbidden)):
        services.confirm_work(worked.user, pk, now=worked.task.ends_at)
    with pytest.raises(NotFound):
        services.confirm_work(world.officer_a, 10**9)
    assert Signup.objects.get(pk=pk).review == ""
    # The station chief (a commander over the task) may.
    services.confirm_work(world.chief_a, pk, now=worked.task.ends_at)


def test_history_adds_up(world, worked):
    services.confirm_work(world.officer_a, worked.signup.pk, now=worked.task.ends_at)
    history = services.history_for(worked.user)
    assert history["tasks_done"] == 1
    assert history["hours"] == Decimal("2.33")
    assert history["points_earned"] == 21
    assert [s.task.code for s in history["signups"]] == [worked.task.code]
    empty = services.history_for(worked.other)
    assert (empty["tasks_done"], empty["hours"], empty["points_earned"]) == (0, Decimal("0.00"), 0)


def test_api_confirm_reject_and_history(world, worked):
    officer = api_client(world.officer_a)
    url = f"/api/volunteers/signups/{worked.signup.pk}/reject"
    response = officer.post(url, {}, content_type="application/json")
    assert response.status_code == 422
    response = officer.post(url, {"reason": ""}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "reason_required"
    response = officer.post(f"/api/volunteers/signups/{worked.signup.pk}/confirm")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["review"] == "confirmed" and body["hours"] == "2.33"
    assert body["points_awarded"] == 21
    assert body["user"]["phone"].count("*") == 4
    again = officer.post(f"/api/volunteers/signups/{worked.signup.pk}/confirm")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_reviewed"
    history = api_client(worked.user).get("/api/volunteers/me/history").json()
    assert (history["tasks_done"], history["hours"], history["points_earned"]) == (1, "2.33", 21)
    assert history["signups"][0]["task_title"] == worked.task.title
    listing = officer.get(f"/api/volunteers/tasks/{worked.task.code}/signups").json()
    assert [s["review"] for s in listing] == ["confirmed"]
    assert officer.post("/api/volunteers/signups/99999999999/confirm").status_code == 404


def test_work_entirely_before_the_task_window_is_not_confirmed_or_credited(world):
    """Checked in early (allowed) and out again before the task began: nothing to credit."""
    team, users = team_with_volunteers(world, 1)
    task = make_task(world, teams=[team], slots=1, kind="night_patrol", duration=3 * HOUR)
    user = users[0]
    services.sign_up(user, task.code, now=task.published_at)
    services.check_in(user, task.code, qr_token=task.qr_token, now=task.starts_at - 50 * MIN)
    services.check_out(user, task.code, qr_token=task.qr_token, now=task.starts_at - 10 * MIN)
    signup = Signup.objects.get(task=task, user=user)
    with pytest.raises(Conflict) as caught:
        services.confirm_work(world.officer_a, signup.pk, now=task.ends_at + HOUR)
    assert caught.value.code == "outside_window" and "不在任务时间内" in caught.value.message
    assert ledger.balance(user) == 0 and not PointEntry.objects.filter(user=user).exists()
    signup.refresh_from_db()
    assert signup.review == "" or signup.review is None
    # The officer can still say no.
    services.reject_work(world.officer_a, signup.pk, reason="未在任务时间内到岗")


def test_check_in_and_out_tolerances_are_settings_and_add_no_hours(world, settings):
    settings.VOLUNTEER_CHECKIN_EARLY_MINUTES = 15
    settings.VOLUNTEER_CHECKOUT_GRACE_MINUTES = 30
    team, users = team_with_volunteers(world, 1)
    task = make_task(world, teams=[team], slots=1, kind="night_patrol", duration=2 * HOUR)
    user = users[0]
    services.sign_up(user, task.code, now=task.published_at)
    with pytest.raises(Conflict):
        services.check_in(user, task.code, qr_token=task.qr_token, now=task.starts_at - 20 * MIN)
    services.check_in(user, task.code, qr_token=task.qr_token, now=task.starts_at - 10 * MIN)
    with pytest.raises(Conflict):
        services.check_out(user, task.code, qr_token=task.qr_token, now=task.ends_at + 31 * MIN)
    services.check_out(user, task.code, qr_token=task.qr_token, now=task.ends_at + 29 * MIN)
    signup = Signup.objects.get(task=task, user=user)
    signup = services.confirm_work(world.officer_a, signup.pk, now=task.ends_at + HOUR)
    assert signup.hours == Decimal("2.00")
