"""The volunteer end's pages: who may open them, signing up and the waiting list, check-in by
position and by the on-site QR, the report with photos, joining a team by its invite link,
the profile, and a leader deciding applications. Every refused request changes nothing."""

import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from pingan.accounts.models import Role
from pingan.core import clock
from pingan.volunteers import services
from pingan.volunteers.models import (
    Membership,
    MembershipStatus,
    ReportPhoto,
    Signup,
    SignupStatus,
    VolunteerProfile,
)
from tests.conftest import make_user

from .helpers import MEETING, add_member, checked_in, make_resident, make_task, make_team

pytestmark = pytest.mark.django_db

MINUTES_30 = timedelta(minutes=30)


def as_user(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def task_url(task) -> str:
    return reverse("volunteer-task", kwargs={"code": task.code})


def scan_url(task, token=None) -> str:
    return reverse(
        "volunteer-task-scan", kwargs={"code": task.code, "qr_token": token or task.qr_token}
    )


def png(size=(8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def post(client, url, **data):
    return client.post(url, data)


def live_signup(task, user):
    return Signup.objects.filter(task=task, user=user, status__in=["accepted", "waiting"]).first()


# --- who may open what ---------------------------------------------------------------------------


def test_anonymous_is_sent_to_login_with_next(world, crew):
    task = make_task(world, teams=[crew.team])
    urls = [
        reverse("volunteer-home"),
        task_url(task),
        scan_url(task),
        reverse("volunteer-mine"),
        reverse("volunteer-profile"),
        reverse("volunteer-teams"),
        reverse("volunteer-join", kwargs={"token": crew.team.invite_token}),
    ]
    for url in urls:
        response = Client().get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next="), url
        assert url.replace("/", "%2F") in response["Location"] or url in response["Location"]


def test_staff_and_clerks_are_refused_the_volunteer_end(world, crew):
    task = make_task(world, teams=[crew.team])
    clerk = make_user("clerk1", Role.CLERK)
    for user in (world.officer_a, world.commander, clerk):
        client = as_user(user)
        for url in (reverse("volunteer-home"), task_url(task), reverse("volunteer-mine")):
            assert client.get(url).status_code == 403, (user, url)
        response = client.post(task_url(task), {"action": "signup"})
        assert response.status_code == 403
    assert not Signup.objects.filter(task=task).exists()


def test_a_task_not_offered_to_me_is_404_and_cannot_be_taken(world, crew):
    task = make_task(world, teams=[crew.team])
    client = as_user(crew.loner)
    assert client.get(task_url(task)).status_code == 404
    assert client.post(task_url(task), {"action": "signup"}).status_code == 404
    assert client.get(scan_url(task)).status_code == 404
    assert not Signup.objects.filter(task=task).exists()


# --- open tasks and signing up -------------------------------------------------------------------


def test_home_lists_open_tasks_with_slots_and_waiting_list(world, crew):
    v3 = make_resident("v3")
    add_member(crew.team, v3)
    task = make_task(world, teams=[crew.team], slots=1, title="周五夜巡")
    services.sign_up(crew.v2, task.code)
    services.sign_up(v3, task.code)
    response = as_user(crew.v1).get(reverse("volunteer-home"))
    assert response.status_code == 200
    body = text(response)
    assert "周五夜巡" in body
    assert "已报 1/1，候补 1 人" in body
    assert "候补（名额满了" in body
    assert re.search(r"还有 1 小时 59 分钟开始|还有 2 小时开始", body)  # plain-word countdown
    # v3 sees their own place in line on the same page.
    body = text(as_user(v3).get(reverse("volunteer-home")))
    assert "我报名的任务" in body and "候补第 1 位" in body


def test_home_refreshes_as_a_fragment_for_htmx(world, crew):
    make_task(world, teams=[crew.team], title="交通疏导")
    response = as_user(crew.v1).get(reverse("volunteer-home"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = text(response)
    assert 'id="open-tasks"' in body and "交通疏导" in body and "<html" not in body


def test_a_citizen_without_profile_is_asked_for_it(world):
    response = as_user(world.citizen).get(reverse("volunteer-home"))
    assert response.status_code == 200
    assert "填写志愿者资料" in text(response)


def test_sign_up_through_the_page(world, crew):
    task = make_task(world, teams=[crew.team], slots=2)
    client = as_user(crew.v1)
    response = client.post(task_url(task), {"action": "signup"})
    assert response.status_code == 302 and response["Location"] == task_url(task)
    assert live_signup(task, crew.v1).status == SignupStatus.ACCEPTED
    body = text(client.get(task_url(task)))
    assert "报名成功" in body and "已报 1/2" in body and "取消报名" in body
    # Pressing again changes nothing and says why.
    again = client.post(task_url(task), {"action": "signup"})
    assert again.status_code == 409
    assert "您已报名该任务" in text(again)
    assert Signup.objects.filter(task=task, user=crew.v1).count() == 1


def test_a_full_task_puts_me_on_the_waiting_list_with_my_position(world, crew):
    task = make_task(world, teams=[crew.team], slots=1)
    services.sign_up(crew.v2, task.code)
    client = as_user(crew.v1)
    response = client.post(task_url(task), {"action": "signup"}, follow=True)
    body = text(response)
    assert "您已进入候补，排第 1 位" in body
    assert "候补第 1 位" in body
    assert live_signup(task, crew.v1).status == SignupStatus.WAITING


def test_cancelling_moves_the_first_in_line_up(world, crew):
    task = make_task(world, teams=[crew.team], slots=1)
    services.sign_up(crew.v1, task.code)
    services.sign_up(crew.v2, task.code)
    response = as_user(crew.v1).post(task_url(task), {"action": "cancel"}, follow=True)
    assert "已取消报名" in text(response)
    assert live_signup(task, crew.v1) is None
    promoted = live_signup(task, crew.v2)
    assert promoted.status == SignupStatus.ACCEPTED and promoted.promoted


def test_cancelled_task_cannot_be_taken(world, crew):
    task = make_task(world, teams=[crew.team])
    services.cancel_task(world.officer_a, task.code, reason="暴雨")
    response = as_user(crew.v1).post(task_url(task), {"action": "signup"})
    # A cancelled task is no longer offered: the volunteer no longer sees it at all.
    assert response.status_code == 404
    assert not Signup.objects.filter(task=task).exists()


def test_unknown_action_is_a_chinese_error(world, crew):
    task = make_task(world, teams=[crew.team])
    response = as_user(crew.v1).post(task_url(task), {"action": "explode"})
    assert response.status_code == 400
    assert "无法识别的操作" in text(response)


# --- check-in and check-out ----------------------------------------------------------------------


def soon_task(world, crew, **kw):
    """A task starting in 30 minutes: check-in is already open."""
    return make_task(world, teams=[crew.team], starts_in=MINUTES_30, **kw)


def test_gps_check_in_and_out_near_the_point(world, crew):
    task = soon_task(world, crew)
    services.sign_up(crew.v1, task.code)
    client = as_user(crew.v1)
    body = text(client.get(task_url(task)))
    assert "定位签到" in body and "volunteers.js" in body
    where = {"lng": f"{MEETING[0] + 0.0005:.6f}", "lat": f"{MEETING[1]:.6f}", "crs": "wgs84"}
    response = client.post(task_url(task), {"action": "checkin", **where}, follow=True)
    assert "签到成功" in text(response) and "距集合点约" in text(response)
    signup = live_signup(task, crew.v1)
    assert signup.checked_in_at is not None and signup.checkin_method == "gps"
    assert 30 < signup.checkin_distance_m < 70
    response = client.post(task_url(task), {"action": "checkout", **where}, follow=True)
    assert "签退成功" in text(response)
    signup.refresh_from_db()
    assert signup.checked_out_at is not None


def test_check_in_too_far_shows_the_distance_and_changes_nothing(world, crew):
    task = soon_task(world, crew)
    services.sign_up(crew.v1, task.code)
    far = {"lng": f"{MEETING[0] + 0.01:.6f}", "lat": f"{MEETING[1]:.6f}", "crs": "wgs84"}
    response = as_user(crew.v1).post(task_url(task), {"action": "checkin", **far})
    assert response.status_code == 400
    body = text(response)
    assert "超出签到范围 300 米" in body and "距集合点" in body
    assert live_signup(task, crew.v1).checked_in_at is None


def test_check_in_without_a_position_says_what_to_do(world, crew):
    task = soon_task(world, crew)
    services.sign_up(crew.v1, task.code)
    response = as_user(crew.v1).post(task_url(task), {"action": "checkin", "lng": "", "lat": ""})
    assert response.status_code == 400
    assert "没有获取到您的位置" in text(response) and "二维码" in text(response)
    bad = as_user(crew.v1).post(task_url(task), {"action": "checkin", "lng": "东", "lat": "1"})
    assert bad.status_code == 400
    assert live_signup(task, crew.v1).checked_in_at is None


def test_check_in_before_the_window_is_refused(world, crew):
    task = make_task(world, teams=[crew.team], starts_in=timedelta(hours=5))
    services.sign_up(crew.v1, task.code)
    client = as_user(crew.v1)
    assert "签到将于" in text(client.get(task_url(task)))
    here = {"lng": MEETING[0], "lat": MEETING[1], "crs": "wgs84"}
    response = client.post(task_url(task), {"action": "checkin", **here})
    assert response.status_code == 409
    assert "签到时间为" in text(response)
    assert live_signup(task, crew.v1).checked_in_at is None


def test_waiting_volunteer_cannot_check_in(world, crew):
    task = soon_task(world, crew, slots=1)
    services.sign_up(crew.v2, task.code)
    services.sign_up(crew.v1, task.code)
    here = {"lng": MEETING[0], "lat": MEETING[1], "crs": "wgs84"}
    response = as_user(crew.v1).post(task_url(task), {"action": "checkin", **here})
    assert response.status_code == 409
    assert "您在候补名单中，尚未获得名额" in text(response)


def test_scanning_the_task_qr_checks_in_then_out(world, crew):
    task = soon_task(world, crew)
    services.sign_up(crew.v1, task.code)
    client = as_user(crew.v1)
    page = client.get(scan_url(task))
    assert page.status_code == 200 and "扫码签到" in text(page)
    response = client.post(scan_url(task), follow=True)
    assert "扫码签到成功" in text(response)
    signup = live_signup(task, crew.v1)
    assert signup.checkin_method == "qr"
    assert "扫码签退" in text(client.get(scan_url(task)))
    response = client.post(scan_url(task), follow=True)
    assert "扫码签退成功" in text(response)
    signup.refresh_from_db()
    assert signup.checkout_method == "qr"


def test_a_wrong_qr_code_is_refused(world, crew):
    task = soon_task(world, crew)
    other = soon_task(world, crew, title="另一个任务")
    services.sign_up(crew.v1, task.code)
    client = as_user(crew.v1)
    page = client.get(scan_url(task, other.qr_token))
    assert page.status_code == 400
    assert "不是本任务的签到码" in text(page) and "扫码签到</button>" not in text(page)
    response = client.post(scan_url(task, "not-the-token"))
    assert response.status_code == 400
    assert "二维码无效" in text(response)
    assert live_signup(task, crew.v1).checked_in_at is None


def test_scan_without_a_place_says_so(world, crew):
    task = soon_task(world, crew)
    response = as_user(crew.v1).get(scan_url(task))
    assert response.status_code == 200
    assert "您还没有这个任务的名额" in text(response)


# --- report back ---------------------------------------------------------------------------------


def test_report_with_photos_and_who_may_see_them(world, crew, media):
    task = soon_task(world, crew)
    checked_in(world, task, crew.v1, now=clock.now())
    client = as_user(crew.v1)
    assert "提交反馈" in text(client.get(task_url(task)))
    photo = io.BytesIO(png())
    photo.name = "scene.png"
    response = client.post(
        task_url(task),
        {"action": "report", "report-text": "巡查东门街，劝离两名醉酒人员", "photos": [photo]},
        follow=True,
    )
    assert "反馈已提交" in text(response)
    signup = live_signup(task, crew.v1)
    assert signup.report_text == "巡查东门街，劝离两名醉酒人员"
    stored = ReportPhoto.objects.get(signup=signup)
    url = reverse("volunteer-photo", kwargs={"pk": stored.pk})
    assert url in text(response)
    assert client.get(url).status_code == 200
    assert as_user(world.officer_a).get(url).status_code == 200
    assert as_user(crew.v2).get(url).status_code == 404
    assert as_user(world.officer_b).get(url).status_code == 404
    assert Client().get(url).status_code == 302


def test_report_rejects_a_file_that_is_not_a_picture(world, crew, media):
    task = soon_task(world, crew)
    checked_in(world, task, crew.v1, now=clock.now())
    bogus = io.BytesIO(b"MZ not an image")
    bogus.name = "virus.jpg"
    response = as_user(crew.v1).post(
        task_url(task), {"action": "report", "report-text": "完成", "photos": [bogus]}
    )
    assert response.status_code == 400
    assert "不是有效的图片" in text(response)
    signup = live_signup(task, crew.v1)
    assert signup.reported_at is None and not ReportPhoto.objects.exists()
    # What was typed is kept for the next try.
    assert "完成" in text(response)


def test_report_needs_text_and_a_check_in(world, crew, media):
    task = soon_task(world, crew)
    services.sign_up(crew.v1, task.code)
    client = as_user(crew.v1)
    response = client.post(task_url(task), {"action": "report", "report-text": "来过"})
    assert response.status_code == 409
    assert "签到后才能提交任务反馈" in text(response)
    services.check_in(crew.v1, task.code, qr_token=task.qr_token)
    empty = client.post(task_url(task), {"action": "report", "report-text": "  "})
    assert empty.status_code == 400
    assert "请填写任务反馈" in text(empty)
    assert live_signup(task, crew.v1).reported_at is None


# --- my tasks and points -------------------------------------------------------------------------


def test_mine_shows_hours_points_and_history(world, crew):
    past = clock.now() - timedelta(hours=6)
    task = make_task(world, teams=[crew.team], now=past, starts_in=timedelta(hours=1))
    signup = checked_in(world, task, crew.v1, now=task.starts_at)
    services.confirm_work(world.officer_a, signup.pk)
    signup.refresh_from_db()
    response = as_user(crew.v1).get(reverse("volunteer-mine"))
    assert response.status_code == 200
    body = text(response)
    assert "夜间巡逻" in body and "已确认" in body
    assert f"积分 +{signup.points_awarded}" in body
    assert '<b id="hours">3.00</b>' in body
    assert '<b id="tasks-done">1</b>' in body
    assert f'<b id="balance">{signup.points_awarded}</b>' in body
    assert "完成任务" in body  # a ledger entry's reason


# --- joining a team ------------------------------------------------------------------------------


def test_join_by_invite_link_asks_for_the_profile_first(world):
    team = make_team(world, requires_approval=True, leader=None)
    join = reverse("volunteer-join", kwargs={"token": team.invite_token})
    client = as_user(world.citizen)
    page = client.get(join)
    assert page.status_code == 200
    assert team.name in text(page) and "填写资料" in text(page)
    # Pressing join without a profile leads to the profile form, which comes back here.
    response = client.post(join)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("volunteer-profile") + "?next=")
    saved = client.post(
        reverse("volunteer-profile") + f"?next={join}",
        {"real_name": "赵敏", "phone": "13900139001", "skills": ["patrol"], "next": join},
    )
    assert saved.status_code == 302 and saved["Location"] == join
    assert "申请加入" in text(client.get(join))
    done = client.post(join, follow=True)
    assert "请等待队长审核" in text(done)
    membership = Membership.objects.get(team=team, user=world.citizen)
    assert membership.status == MembershipStatus.PENDING
    assert "等待队长审核" in text(client.get(join))


def test_join_an_open_team_makes_a_volunteer(world):
    team = make_team(world, requires_approval=False)
    citizen = make_resident("newbie")
    response = as_user(citizen).post(
        reverse("volunteer-join", kwargs={"token": team.invite_token}), follow=True
    )
    assert f"欢迎加入{team.name}" in text(response)
    citizen.refresh_from_db()
    assert citizen.role == Role.VOLUNTEER


def test_join_with_a_bad_or_retired_token_is_404(world):
    team = make_team(world)
    old = team.invite_token
    services.reset_invite(world.officer_a, team)
    client = as_user(make_resident("late"))
    assert client.get(reverse("volunteer-join", kwargs={"token": old})).status_code == 404
    assert client.post(reverse("volunteer-join", kwargs={"token": old})).status_code == 404
    assert client.get(reverse("volunteer-join", kwargs={"token": "x" * 40})).status_code == 404
    assert not Membership.objects.filter(team=team).exists()


def test_staff_cannot_join(world):
    team = make_team(world)
    join = reverse("volunteer-join", kwargs={"token": team.invite_token})
    client = as_user(world.officer_a)
    page = client.get(join)
    assert page.status_code == 403 and "不能加入志愿者队伍" in text(page)
    assert client.post(join).status_code == 403
    assert not Membership.objects.filter(team=team, user=world.officer_a).exists()


# --- profile -------------------------------------------------------------------------------------


def test_profile_bad_input_is_shown_in_chinese(world):
    client = as_user(world.citizen)
    page = client.get(reverse("volunteer-profile"))
    assert page.status_code == 200 and "真实姓名" in text(page)
    bad = client.post(reverse("volunteer-profile"), {"real_name": "赵敏", "phone": "12345"})
    assert bad.status_code == 400
    assert "手机号" in text(bad) and "赵敏" in text(bad)
    missing = client.post(reverse("volunteer-profile"), {"real_name": "", "phone": ""})
    assert missing.status_code == 400 and "请填写真实姓名" in text(missing)
    odd = client.post(
        reverse("volunteer-profile"),
        {"real_name": "赵敏", "phone": "13900139001", "skills": ["flying"]},
    )
    assert odd.status_code == 400 and "选项无效" in text(odd)
    assert not VolunteerProfile.objects.filter(user=world.citizen).exists()


def test_profile_saves_and_ignores_an_offsite_next(world):
    response = as_user(world.citizen).post(
        reverse("volunteer-profile"),
        {
            "real_name": "赵敏",
            "phone": "13900139001",
            "availability": ["weekend", "night"],
            "home_grid": "GA1",
            "next": "https://evil.example/",
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("volunteer-home")
    profile = VolunteerProfile.objects.get(user=world.citizen)
    assert profile.phone == "+8613900139001" and profile.home_grid.code == "GA1"
    assert profile.availability == ["weekend", "night"]


# --- my teams; the leader's decisions ------------------------------------------------------------


def test_leave_a_team(world, crew):
    client = as_user(crew.v1)
    page = client.get(reverse("volunteer-teams"))
    assert page.status_code == 200 and crew.team.name in text(page)
    response = client.post(
        reverse("volunteer-teams"), {"action": "leave", "team": crew.team.code}, follow=True
    )
    assert "已退出队伍" in text(response)
    assert not Membership.objects.filter(
        team=crew.team, user=crew.v1, status=MembershipStatus.ACTIVE
    ).exists()
    # Leaving a team one is not in says so.
    again = client.post(reverse("volunteer-teams"), {"action": "leave", "team": crew.team.code})
    assert again.status_code == 404 and "您不在该队伍中" in text(again)


def test_the_leader_decides_applications_on_the_teams_page(world):
    leader = make_resident("leader", real_name="队长甲", phone="13700137000")
    team = make_team(world, requires_approval=True, leader=leader)
    applicant = make_resident("appl", real_name="申请人", phone="13700137001")
    other = make_resident("appl2", real_name="申请人二", phone="13700137002")
    first = services.join_team(applicant, team.invite_token)
    second = services.join_team(other, team.invite_token)
    client = as_user(leader)
    body = text(client.get(reverse("volunteer-teams")))
    assert "待审核的申请（2）" in body
    assert "137****7001" in body and "13700137001" not in body
    # A member who does not lead the team cannot decide (and learns nothing about it).
    outsider = as_user(make_resident("nosy"))
    refused = outsider.post(
        reverse("volunteer-teams"), {"action": "approve", "membership": first.pk}
    )
    assert refused.status_code == 404
    first.refresh_from_db()
    assert first.status == MembershipStatus.PENDING
    response = client.post(
        reverse("volunteer-teams"), {"action": "approve", "membership": first.pk}, follow=True
    )
    assert "已同意 申请人 入队" in text(response)
    first.refresh_from_db()
    assert first.status == MembershipStatus.ACTIVE
    client.post(
        reverse("volunteer-teams"),
        {"action": "reject", "membership": second.pk, "note": "不在本村居住"},
    )
    second.refresh_from_db()
    assert second.status == MembershipStatus.REJECTED and second.note == "不在本村居住"
    # Removing needs a reason.
    bad = client.post(reverse("volunteer-teams"), {"action": "remove", "membership": first.pk})
    assert bad.status_code == 400 and "移出原因" in text(bad)
    first.refresh_from_db()
    assert first.status == MembershipStatus.ACTIVE
    junk = client.post(reverse("volunteer-teams"), {"action": "approve", "membership": "1; drop"})
    assert junk.status_code == 400 and "请选择要处理的队员" in text(junk)


def test_home_queries_do_not_grow_with_the_number_of_tasks(world, crew):
    """The task hall is polled every 20 s by every volunteer during a rush."""
    client = as_user(crew.v1)
    make_task(world, teams=[crew.team], title="第一个")
    client.get(reverse("volunteer-home"))  # session and user caches warm
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("volunteer-home"))
    for i in range(4):
        task = make_task(world, teams=[crew.team], title=f"任务{i}")
        services.sign_up(crew.v1, task.code)
    with CaptureQueriesContext(connection) as five:
        response = client.get(reverse("volunteer-home"))
    assert text(response).count('class="card vtask"') == 5
    assert len(five) == len(one)


def test_a_report_can_be_corrected_until_reviewed(world, crew, media):
    task = soon_task(world, crew)
    checked_in(world, task, crew.v1, now=clock.now())
    client = as_user(crew.v1)
    client.post(task_url(task), {"action": "report", "report-text": "第一稿"})
    body = text(client.get(task_url(task)))
    assert "修改反馈" in body and "第一稿" in body
    client.post(task_url(task), {"action": "report", "report-text": "第二稿：已劝离"})
    signup = live_signup(task, crew.v1)
    assert signup.report_text == "第二稿：已劝离"
