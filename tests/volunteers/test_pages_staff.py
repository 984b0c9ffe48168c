"""The officer's task pages and the console's team pages: who may open them, posting a task
(good and bad input), the sign-ups with masked phones and the waiting list, confirming or
rejecting work, cancelling, the printable QR, and managing a team's members and invite."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pingan.core import clock
from pingan.points import ledger
from pingan.volunteers import services
from pingan.volunteers.models import (
    Membership,
    MembershipStatus,
    Review,
    Signup,
    SignupStatus,
    Task,
    TaskStatus,
    Team,
)

from .helpers import add_member, checked_in, make_resident, make_task, make_team

pytestmark = pytest.mark.django_db


def as_user(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def detail_url(task) -> str:
    return reverse("tasks-detail", kwargs={"code": task.code})


def team_url(team) -> str:
    return reverse("console-team", kwargs={"code": team.code})


def shanghai(dt) -> str:
    return timezone.localtime(clock.now() + dt).strftime("%Y-%m-%dT%H:%M")


def task_form(team, **overrides) -> dict:
    data = {
        "kind": "night_patrol",
        "title": "周末夜巡",
        "description": "沿东门街、滨江路巡逻",
        "starts_at": shanghai(timedelta(days=1)),
        "ends_at": shanghai(timedelta(days=1, hours=3)),
        "meeting_address": "东门警务室门口",
        "lng": "114.300000",
        "lat": "26.300000",
        "crs": "wgs84",
        "route": "",
        "checkin_radius_m": "",
        "slots": "20",
        "teams": [team.code],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def done_task(world, crew):
    """A task that ended an hour ago with v1 checked in (by QR) at its start."""
    past = clock.now() - timedelta(hours=5)
    task = make_task(world, teams=[crew.team], now=past, starts_in=timedelta(hours=1))
    signup = checked_in(world, task, crew.v1, now=task.starts_at)
    return task, signup


# --- who may open what ---------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(world, crew):
    task = make_task(world, teams=[crew.team])
    urls = [
        reverse("tasks-list"),
        reverse("tasks-new"),
        detail_url(task),
        reverse("tasks-qr", kwargs={"code": task.code}),
        reverse("console-teams"),
        reverse("console-team-new"),
        team_url(crew.team),
    ]
    for url in urls:
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_residents_are_refused_the_staff_pages(world, crew):
    task = make_task(world, teams=[crew.team])
    client = as_user(crew.v1)
    for url in (
        reverse("tasks-list"),
        reverse("tasks-new"),
        detail_url(task),
        reverse("tasks-qr", kwargs={"code": task.code}),
        reverse("console-teams"),
        reverse("console-team-new"),
        team_url(crew.team),
    ):
        assert client.get(url).status_code == 403, url
    assert (
        client.post(detail_url(task), {"action": "cancel", "cancel-reason": "x"}).status_code == 403
    )
    task.refresh_from_db()
    assert task.status == TaskStatus.PUBLISHED


def test_auxiliaries_see_tasks_but_do_not_post_or_run_teams(world, crew):
    task = make_task(world, teams=[crew.team])
    client = as_user(world.aux_a)
    assert client.get(reverse("tasks-list")).status_code == 200
    assert client.get(detail_url(task)).status_code == 200
    assert client.get(reverse("tasks-new")).status_code == 403
    assert client.post(reverse("tasks-new"), task_form(crew.team)).status_code == 403
    assert client.get(reverse("console-teams")).status_code == 403
    assert Task.objects.count() == 1


def test_another_station_sees_neither_the_task_nor_the_team(world, crew):
    task = make_task(world, teams=[crew.team], title="城关夜巡")
    client = as_user(world.officer_b)
    assert "城关夜巡" not in text(client.get(reverse("tasks-list")))
    assert client.get(detail_url(task)).status_code == 404
    assert client.get(reverse("tasks-qr", kwargs={"code": task.code})).status_code == 404
    assert crew.team.name not in text(client.get(reverse("console-teams")))
    assert client.get(team_url(crew.team)).status_code == 404
    refused = client.post(detail_url(task), {"action": "cancel", "cancel-reason": "越权"})
    assert refused.status_code == 404
    task.refresh_from_db()
    assert task.status == TaskStatus.PUBLISHED


# --- the task list -------------------------------------------------------------------------------


def test_task_list_shows_slots_and_filters(world, crew):
    task = make_task(world, teams=[crew.team], slots=1, title="周五夜巡")
    services.sign_up(crew.v1, task.code)
    services.sign_up(crew.v2, task.code)
    _, _ = done_task(world, crew)
    client = as_user(world.officer_a)
    body = text(client.get(reverse("tasks-list")))
    assert "周五夜巡" in body and "已报 1/1，候补 1 人" in body
    review = text(client.get(reverse("tasks-list") + "?view=review"))
    assert "周五夜巡" not in review and "夜间巡逻" in review
    assert client.get(reverse("tasks-list") + "?view=<script>").status_code == 200
    # The commander of the county sees the station's tasks too.
    assert "周五夜巡" in text(as_user(world.commander).get(reverse("tasks-list")))


# --- posting a task ------------------------------------------------------------------------------


def test_task_form_offers_only_my_scope(world, crew):
    other = make_team(world, name="泉江义警队", actor=world.officer_b, org=world.office_b)
    response = as_user(world.officer_a).get(reverse("tasks-new"))
    assert response.status_code == 200
    body = text(response)
    assert crew.team.name in body and other.name not in body
    assert "东门社区" in body and "大坑村" not in body
    assert 'type="datetime-local"' in body and 'id="task-map"' in body
    assert "leaflet.js" in body


def test_post_a_task_through_the_page(world, crew):
    response = as_user(world.officer_a).post(
        reverse("tasks-new"),
        task_form(crew.team, grids=["GA1"], route="114.300,26.300\n114.305，26.302"),
    )
    task = Task.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(task)
    assert task.title == "周末夜巡" and task.slots == 20 and task.posted_by == world.officer_a
    assert list(task.teams.values_list("code", flat=True)) == [crew.team.code]
    assert list(task.grids.values_list("code", flat=True)) == ["GA1"]
    assert task.route == [[114.3, 26.3], [114.305, 26.302]]
    assert task.checkin_radius_m == 300
    # The local time typed (Asia/Shanghai) is the time stored.
    assert timezone.localtime(task.starts_at).strftime("%Y-%m-%dT%H:%M") == shanghai(
        timedelta(days=1)
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"slots": "0"}, "名额必须是 1 到"),
        ({"slots": "-3"}, "名额必须是 1 到"),
        ({"slots": "很多"}, "名额必须是数字"),
        ({"teams": None}, "请至少选择一个面向的队伍或网格"),
        ({"starts_at": "2020-01-01T08:00", "ends_at": "2020-01-01T10:00"}, "开始时间必须晚于现在"),
        ({"ends_at": None}, "请填写结束时间"),
        ({"starts_at": "明天晚上"}, "开始时间格式应为"),
        ({"lng": "200", "lat": "26.3"}, "坐标无效"),
        ({"title": ""}, "请填写标题"),
        ({"kind": "party"}, "任务类型的选项无效"),
        ({"route": "114.3"}, "路线第 1 个点格式不正确"),
    ],
)
def test_bad_task_input_is_shown_in_chinese(world, crew, overrides, message):
    response = as_user(world.officer_a).post(
        reverse("tasks-new"), task_form(crew.team, **overrides)
    )
    assert response.status_code == 400
    assert message in text(response)
    assert not Task.objects.exists()


def test_a_team_of_another_station_cannot_be_offered(world, crew):
    other = make_team(world, name="泉江义警队", actor=world.officer_b, org=world.office_b)
    response = as_user(world.officer_a).post(reverse("tasks-new"), task_form(other))
    assert response.status_code == 400
    assert "面向队伍的选项无效" in text(response)
    assert not Task.objects.exists()


# --- one task ------------------------------------------------------------------------------------


def test_detail_shows_signups_masked_and_the_waiting_list_in_order(world, crew):
    v3 = make_resident("v3", real_name="孙丽", phone="13800138003")
    add_member(crew.team, v3)
    task = make_task(world, teams=[crew.team], slots=1)
    services.sign_up(crew.v1, task.code)
    services.sign_up(v3, task.code)
    services.sign_up(crew.v2, task.code)
    response = as_user(world.officer_a).get(detail_url(task))
    assert response.status_code == 200
    body = text(response)
    assert "张伟" in body and "138****8001" in body and "13800138001" not in body
    assert "已报 1/1，候补 2 人" in body
    waiting = body[body.index('id="waiting"') :]
    assert waiting.index("孙丽") < waiting.index("李娜")
    assert "打印签到二维码" in body and "取消任务" in body


def test_detail_shows_check_ins_and_reports(world, crew, media):
    task, signup = done_task(world, crew)
    services.submit_report(crew.v1, task.code, text="劝离醉酒人员两名", now=task.starts_at)
    body = text(as_user(world.officer_a).get(detail_url(task)))
    assert "扫码" in body and "劝离醉酒人员两名" in body
    assert 'value="confirm"' in body and "不予确认" in body


def test_confirm_work_through_the_page(world, crew):
    task, signup = done_task(world, crew)
    client = as_user(world.officer_a)
    response = client.post(detail_url(task), {"action": "confirm", "signup": signup.pk})
    assert response.status_code == 302
    signup.refresh_from_db()
    assert signup.review == Review.CONFIRMED and signup.points_awarded > 0
    assert ledger.balance(crew.v1) == signup.points_awarded
    page = text(client.get(detail_url(task)))
    assert "已确认" in page and f"+{signup.points_awarded} 分" in page
    # Reviewed once: a second press is refused in Chinese and credits nothing more.
    again = client.post(detail_url(task), {"action": "confirm", "signup": signup.pk})
    assert again.status_code == 409 and "该任务已审核" in text(again)
    assert ledger.balance(crew.v1) == signup.points_awarded


def test_reject_needs_a_reason(world, crew):
    task, signup = done_task(world, crew)
    client = as_user(world.officer_a)
    bad = client.post(detail_url(task), {"action": "reject", "signup": signup.pk, "reason": " "})
    assert bad.status_code == 400 and "不予确认原因" in text(bad)
    signup.refresh_from_db()
    assert signup.review == ""
    client.post(detail_url(task), {"action": "reject", "signup": signup.pk, "reason": "未到岗"})
    signup.refresh_from_db()
    assert signup.review == Review.REJECTED and signup.review_reason == "未到岗"
    assert ledger.balance(crew.v1) == 0


def test_only_the_poster_or_a_commander_reviews(world, crew):
    task, signup = done_task(world, crew)
    refused = as_user(world.aux_a).post(
        detail_url(task), {"action": "confirm", "signup": signup.pk}
    )
    assert refused.status_code == 403
    assert "只有发布任务的民警或辖区指挥员可以确认任务" in text(refused)
    signup.refresh_from_db()
    assert signup.review == "" and ledger.balance(crew.v1) == 0
    junk = as_user(world.officer_a).post(detail_url(task), {"action": "confirm", "signup": "x"})
    assert junk.status_code == 400 and "请选择要确认的报名记录" in text(junk)
    ok = as_user(world.chief_a).post(detail_url(task), {"action": "confirm", "signup": signup.pk})
    assert ok.status_code == 302


def test_a_signup_of_another_task_is_not_reviewed_from_this_page(world, crew):
    task, signup = done_task(world, crew)
    other = make_task(world, teams=[crew.team], title="另一个")
    response = as_user(world.officer_a).post(
        detail_url(other), {"action": "confirm", "signup": signup.pk}
    )
    assert response.status_code == 404 and "未找到该报名记录" in text(response)
    signup.refresh_from_db()
    assert signup.review == ""


def test_cancel_a_task_through_the_page(world, crew):
    task = make_task(world, teams=[crew.team])
    services.sign_up(crew.v1, task.code)
    client = as_user(world.officer_a)
    bad = client.post(detail_url(task), {"action": "cancel", "cancel-reason": ""})
    assert bad.status_code == 400 and "取消任务时请填写原因" in text(bad)
    task.refresh_from_db()
    assert task.status == TaskStatus.PUBLISHED
    response = client.post(
        detail_url(task), {"action": "cancel", "cancel-reason": "暴雨预警"}, follow=True
    )
    assert "任务已取消" in text(response)
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED and task.cancel_reason == "暴雨预警"
    assert Signup.objects.get(task=task).status == SignupStatus.VOIDED


def test_cancel_after_check_in_is_refused(world, crew):
    task = make_task(world, teams=[crew.team], starts_in=timedelta(minutes=20))
    checked_in(world, task, crew.v1, now=clock.now())
    response = as_user(world.officer_a).post(
        detail_url(task), {"action": "cancel", "cancel-reason": "改期"}
    )
    assert response.status_code == 409 and "已有志愿者签到，不能取消任务" in text(response)
    task.refresh_from_db()
    assert task.status == TaskStatus.PUBLISHED


def test_printable_qr_encodes_the_scan_link(world, crew):
    task = make_task(world, teams=[crew.team], title="元宵灯会安保")
    response = as_user(world.officer_a).get(reverse("tasks-qr", kwargs={"code": task.code}))
    assert response.status_code == 200
    body = text(response)
    scan = reverse("volunteer-task-scan", kwargs={"code": task.code, "qr_token": task.qr_token})
    assert f"http://testserver{scan}" in body
    assert "<svg" in body and "viewBox" in body
    assert "元宵灯会安保" in body and "东门社区警务室门口" in body
    assert "@page { size: A4" in body
    assert "no-store" in response["Cache-Control"]


# --- console: teams ------------------------------------------------------------------------------


def test_console_lists_teams_in_scope_with_counts(world, crew):
    pending = make_resident("pend")
    strict = make_team(world, name="滨江巡防队", requires_approval=True)
    services.join_team(pending, strict.invite_token)
    for user in (world.officer_a, world.commander, world.chief_a):
        response = as_user(user).get(reverse("console-teams"))
        assert response.status_code == 200
        body = text(response)
        assert crew.team.name in body and "滨江巡防队" in body
    body = text(as_user(world.officer_a).get(reverse("console-teams")))
    assert "份待审核申请" in body


def test_create_a_team_through_the_page(world, crew):
    client = as_user(world.officer_a)
    page = client.get(reverse("console-team-new"))
    assert page.status_code == 200 and "东门警务室" in text(page) and "泉江派出所" not in text(page)
    response = client.post(
        reverse("console-team-new"),
        {
            "name": "东门红袖标队",
            "org": str(world.office_a.pk),
            "requires_approval": "on",
            "leader_phone": "13800138001",  # crew.v1's profile phone
            "grids": ["GA1"],
        },
    )
    team = Team.objects.get(name="东门红袖标队")
    assert response.status_code == 302 and response["Location"] == team_url(team)
    assert team.requires_approval and team.leader == crew.v1
    body = text(as_user(world.officer_a).get(team_url(team)))
    assert f"/volunteer/join/{team.invite_token}/" in body and "<svg" in body


def test_bad_team_input_is_shown_in_chinese(world, crew):
    client = as_user(world.officer_a)
    empty = client.post(reverse("console-team-new"), {"name": "", "org": str(world.office_a.pk)})
    assert empty.status_code == 400 and "请填写队伍名称" in text(empty)
    foreign = client.post(
        reverse("console-team-new"), {"name": "越界队", "org": str(world.office_b.pk)}
    )
    assert foreign.status_code == 400 and "所属单位的选项无效" in text(foreign)
    nobody = client.post(
        reverse("console-team-new"),
        {"name": "无名队", "org": str(world.office_a.pk), "leader_phone": "13911112222"},
    )
    assert nobody.status_code == 400 and "没有找到用这个手机号填写了志愿者资料的人" in text(nobody)
    clash = client.post(
        reverse("console-team-new"), {"name": crew.team.name, "org": str(world.office_a.pk)}
    )
    assert clash.status_code == 409 and "已有名为" in text(clash)
    assert Team.objects.count() == 1


def test_team_page_masks_phones_and_runs_approvals(world, crew):
    strict = make_team(world, name="滨江巡防队", requires_approval=True)
    applicant = make_resident("appl", real_name="周杰", phone="13600136001")
    membership = services.join_team(applicant, strict.invite_token)
    client = as_user(world.officer_a)
    body = text(client.get(team_url(strict)))
    assert "周杰" in body and "136****6001" in body and "13600136001" not in body
    response = client.post(
        team_url(strict), {"action": "approve", "membership": membership.pk}, follow=True
    )
    assert "已同意 周杰 入队" in text(response)
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
    # Removing without a reason is refused; with one it works.
    bad = client.post(team_url(strict), {"action": "remove", "membership": membership.pk})
    assert bad.status_code == 400 and "移出原因" in text(bad)
    client.post(
        team_url(strict), {"action": "remove", "membership": membership.pk, "reason": "搬离本村"}
    )
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.REMOVED


def test_set_leader_and_approval_rule(world, crew):
    client = as_user(world.officer_a)
    m1 = Membership.objects.get(team=crew.team, user=crew.v1)
    response = client.post(team_url(crew.team), {"action": "leader", "membership": m1.pk})
    assert response.status_code == 302
    crew.team.refresh_from_db()
    assert crew.team.leader == crew.v1
    client.post(team_url(crew.team), {"action": "approval", "requires_approval": "1"})
    crew.team.refresh_from_db()
    assert crew.team.requires_approval
    bad = client.post(team_url(crew.team), {"action": "leader", "membership": "999999"})
    assert bad.status_code == 400 and "只能任命在队的队员为队长" in text(bad)


def test_reset_invite_retires_the_old_link(world, crew):
    old = crew.team.invite_token
    client = as_user(world.officer_a)
    response = client.post(team_url(crew.team), {"action": "reset_invite"}, follow=True)
    assert "旧的二维码不再有效" in text(response)
    crew.team.refresh_from_db()
    assert crew.team.invite_token != old
    assert f"/volunteer/join/{crew.team.invite_token}/" in text(response)
    newcomer = as_user(make_resident("newcomer"))
    assert newcomer.get(reverse("volunteer-join", kwargs={"token": old})).status_code == 404


def test_another_station_cannot_act_on_the_team(world, crew):
    m1 = Membership.objects.get(team=crew.team, user=crew.v1)
    client = as_user(world.officer_b)
    response = client.post(
        team_url(crew.team), {"action": "remove", "membership": m1.pk, "reason": "x"}
    )
    assert response.status_code == 404
    old = crew.team.invite_token
    assert client.post(team_url(crew.team), {"action": "reset_invite"}).status_code == 404
    m1.refresh_from_db()
    crew.team.refresh_from_db()
    assert m1.status == MembershipStatus.ACTIVE and crew.team.invite_token == old
