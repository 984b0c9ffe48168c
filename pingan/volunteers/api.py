"""REST endpoints for volunteers (义警), mounted at /api/volunteers.

The contract the phone apps rely on:

* Residents (citizens and volunteers) keep a profile, join teams by the invite token of a QR
  code, see the tasks offered to them (their active teams, their home grid), sign up, check in
  and out, and report back. Staff see the teams and tasks of their jurisdiction; officers and
  commanders post tasks and confirm the work, team leaders approve applications.
* A team, task or sign-up that does not exist and one the caller may not see are both 404.
  Errors are `{"error": {"code", "message", "details"?}}` like the rest of the API.
* Lists answer the one page envelope `{"count", "items", "limit", "offset", "next_offset"}`
  (`pingan.core.pagination`), paged by `limit` (1-200, default 50) and `offset`.
* Phone numbers are masked (138****5678) in every list and team view; only the profile's owner
  reads their own number in full. Times are ISO 8601 in Asia/Shanghai.
* `POST /tasks/{code}/signup` is the rush path: 201 with `{"status": "accepted"|"waiting",
  "position": n|null}`; never more accepted sign-ups than slots, whatever the concurrency.

Every state change goes through `pingan.volunteers.services`. The schemas are in `schemas.py`.
"""

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.urls import reverse
from ninja import File, Form, Query, Router
from ninja.files import UploadedFile

from pingan.accounts.models import User
from pingan.accounts.roles import is_resident, is_staff_viewer
from pingan.core import clock
from pingan.core.api_auth import REQUIRED
from pingan.core.errors import Forbidden, NotFound, ServiceError
from pingan.core.masking import mask_name, mask_phone
from pingan.core.pagination import Listing, paginated
from pingan.core.schemas import MAX_ID, InviteToken, TaskCode, TeamCode, Text
from pingan.core.timefmt import iso
from pingan.core.uploads import PhotoUpload, max_photo_read

from . import services
from .models import (
    LIVE_MEMBERSHIP,
    Availability,
    Membership,
    MembershipStatus,
    Signup,
    SignupStatus,
    Skill,
    Task,
    Team,
    VolunteerProfile,
)
from .schemas import (
    HistoryOut,
    MembershipNoteIn,
    MembershipOut,
    MySignupOut,
    PlaceIn,
    ProfileIn,
    ProfileOut,
    ReasonIn,
    SignupListOut,
    SignupOut,
    SignupResultOut,
    TaskDetailOut,
    TaskIn,
    TaskListIn,
    TaskListOut,
    TeamDetailOut,
    TeamIn,
    TeamListOut,
    TeamOut,
    TeamPreviewOut,
)

router = Router(tags=["volunteers"], auth=REQUIRED)


# --- helpers ------------------------------------------------------------------------------------


def _record_id(value: int, what: str) -> int:
    if not 1 <= value <= MAX_ID:
        raise NotFound(f"未找到该{what}，或您无权查看")
    return value


def _ref(obj) -> dict | None:
    return {"code": obj.code, "name": obj.name} if obj is not None else None


def _profile_out(p: VolunteerProfile) -> dict:
    return {
        "real_name": p.real_name,
        "phone": p.phone,
        "skills": list(p.skills),
        "skill_labels": [Skill(s).label for s in p.skills if s in Skill.values],
        "availability": list(p.availability),
        "availability_labels": [
            Availability(a).label for a in p.availability if a in Availability.values
        ],
        "home_grid": _ref(p.home_grid),
        "role": p.user.role,
        "created_at": iso(p.created_at),
        "updated_at": iso(p.updated_at),
    }


def _active_count():
    rows = (
        Membership.objects.filter(team=OuterRef("pk"), status=MembershipStatus.ACTIVE)
        .order_by()
        .values("team")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def _my_membership(user):
    return Subquery(
        Membership.objects.filter(team=OuterRef("pk"), user=user, status__in=LIVE_MEMBERSHIP)
        .order_by("-pk")
        .values("status")[:1]
    )


def _teams(qs, user):
    return qs.annotate(n_members=_active_count(), my_status=_my_membership(user))


def _team_out(team: Team, user) -> dict:
    return {
        "code": team.code,
        "name": team.name,
        "org": _ref(team.org),
        "description": team.description,
        "leader": team.leader.label if team.leader_id else None,
        "requires_approval": team.requires_approval,
        "active": team.active,
        "members": getattr(team, "n_members", 0),
        "my_status": getattr(team, "my_status", None),
        "can_manage": services.can_manage_team(user, team),
    }


def _member_out(m: Membership, team: Team, *, full_names: bool) -> dict:
    profile = getattr(m.user, "volunteer_profile", None) if _has_profile(m.user) else None
    name = profile.real_name if profile else m.user.label
    return {
        "id": m.pk,
        "name": name if full_names else mask_name(name),
        "phone": mask_phone(profile.phone if profile else m.user.phone),
        "skills": list(profile.skills) if profile else [],
        "status": m.status,
        "status_label": m.get_status_display(),
        "is_leader": team.leader_id == m.user_id,
        "applied_at": iso(m.applied_at),
        "joined_at": iso(m.joined_at),
    }


def _has_profile(user) -> bool:
    try:
        return user.volunteer_profile is not None
    except VolunteerProfile.DoesNotExist:
        return False


def _team_detail(request, code: str) -> dict:
    user = request.auth
    team = _teams(services.teams_for(user), user).filter(code=code).first()
    if team is None:
        raise NotFound("未找到该队伍，或您无权查看")
    manage = services.can_manage_team(user, team)
    staff = is_staff_viewer(user)
    members = team.memberships.select_related("user", "user__volunteer_profile").order_by(
        "joined_at", "pk"
    )
    body = _team_out(team, user)
    body.update(
        grids=[_ref(g) for g in team.grids.all()],
        member_list=[
            _member_out(m, team, full_names=manage or staff)
            for m in members.filter(status=MembershipStatus.ACTIVE)
        ],
        pending=[
            _member_out(m, team, full_names=True)
            for m in members.filter(status=MembershipStatus.PENDING)
        ]
        if manage
        else [],
        invite_url=request.build_absolute_uri(services.invite_url(team)) if manage else None,
        qr_url=f"/api/volunteers/teams/{team.code}/qr.svg" if manage else None,
    )
    return body


def _membership_out(m: Membership) -> dict:
    return {
        "id": m.pk,
        "team": _ref(m.team),
        "status": m.status,
        "status_label": m.get_status_display(),
        "applied_at": iso(m.applied_at),
        "joined_at": iso(m.joined_at),
        "ended_at": iso(m.ended_at),
        "note": m.note,
    }


def _waiting_count():
    rows = (
        Signup.objects.filter(task=OuterRef("pk"), status=SignupStatus.WAITING)
        .order_by()
        .values("task")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def _my_signup_status(user):
    return Subquery(
        Signup.objects.filter(task=OuterRef("pk"), user_id=user.pk)
        .order_by("-pk")
        .values("status")[:1]
    )


def _tasks(qs, user):
    return qs.annotate(n_waiting=_waiting_count(), my_status=_my_signup_status(user))


def _task_out(t: Task) -> dict:
    return {
        "code": t.code,
        "title": t.title,
        "kind": t.kind,
        "kind_label": t.get_kind_display(),
        "status": t.status,
        "status_label": t.get_status_display(),
        "org": _ref(t.org),
        "starts_at": iso(t.starts_at),
        "ends_at": iso(t.ends_at),
        "meeting_address": t.meeting_address,
        "slots": t.slots,
        "taken": t.taken,
        "left": max(0, t.slots - t.taken),
        "waiting": getattr(t, "n_waiting", 0),
        "my_status": getattr(t, "my_status", None),
    }


def _my_signup_out(s: Signup, *, position=None) -> dict:
    if position is None:
        position = services.waiting_position(s)
    return {
        "id": s.pk,
        "task": s.task.code,
        "task_title": s.task.title,
        "status": s.status,
        "status_label": s.get_status_display(),
        "position": position,
        "promoted": s.promoted,
        "team": _ref(s.team) if s.team_id else None,
        "created_at": iso(s.created_at),
        "accepted_at": iso(s.accepted_at),
        "cancelled_at": iso(s.cancelled_at),
        "checked_in_at": iso(s.checked_in_at),
        "checkin_method": s.checkin_method,
        "checked_out_at": iso(s.checked_out_at),
        "checkout_method": s.checkout_method,
        "report_text": s.report_text,
        "reported_at": iso(s.reported_at),
        # The access-checked URL, never MEDIA_URL (not served; serving it would skip the check).
        "photos": [reverse("volunteer-photo", args=[p.pk]) for p in s.photos.all()],
        "review": s.review,
        "review_label": s.get_review_display() if s.review else "",
        "review_reason": s.review_reason,
        "hours": f"{s.hours:.2f}",
        "points_awarded": s.points_awarded,
    }


def _signup_out(s: Signup, *, position=None) -> dict:
    body = _my_signup_out(s, position=position)
    profile = s.user.volunteer_profile if _has_profile(s.user) else None
    body["user"] = {
        "id": s.user_id,
        "name": profile.real_name if profile else s.user.label,
        "phone": mask_phone(profile.phone if profile else s.user.phone),
    }
    body["checkin_distance_m"] = s.checkin_distance_m
    return body


def _task_detail(request, code: str) -> dict:
    user = request.auth
    task = _tasks(services.tasks_for(user), user).filter(code=code).first()
    if task is None:
        raise NotFound("未找到该任务，或您无权查看")
    manage = services.can_manage_task(user, task)
    mine = services.signup_of(user, task) if is_resident(user) else None
    body = _task_out(task)
    body.update(
        description=task.description,
        meeting={"lng": task.meeting_lng, "lat": task.meeting_lat},
        route=task.route if isinstance(task.route, list) else [],
        checkin_radius_m=task.checkin_radius_m,
        teams=[_ref(t) for t in task.teams.all()],
        grids=[_ref(g) for g in task.grids.all()],
        posted_by=task.posted_by.label if task.posted_by_id else None,
        published_at=iso(task.published_at),
        cancelled_at=iso(task.cancelled_at),
        cancel_reason=task.cancel_reason,
        can_manage=manage,
        qr_token=task.qr_token if manage else None,
        qr_url=f"/api/volunteers/tasks/{task.code}/qr.svg" if manage else None,
        my_signup=_my_signup_out(mine) if mine is not None else None,
    )
    return body


def _own_signup(request, code: str) -> dict:
    task = services.get_task_for(request.auth, code)
    signup = services.signup_of(request.auth, task)
    if signup is None:
        raise NotFound("您没有报名该任务")
    return _my_signup_out(signup)


def _user_named(username: str | None) -> User | None:
    if not username:
        return None
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ServiceError(
            "unknown_user", f"用户 {username} 不存在或已停用", details={"field": "leader"}
        )
    return user


# --- profile ------------------------------------------------------------------------------------


@router.get(
    "/profile",
    response=ProfileOut,
    summary="我的志愿者档案 · My volunteer profile",
    description="404 `no_profile` until one is saved; staff and clerks have none (403).",
)
def get_profile(request):
    user = request.auth
    if not is_resident(user):
        raise Forbidden("只有群众和义警有志愿者档案")
    profile = services.profile_of(user)
    if profile is None:
        raise ServiceError("no_profile", "尚未填写志愿者档案", status=404)
    return _profile_out(profile)


@router.put(
    "/profile",
    response=ProfileOut,
    summary="保存志愿者档案 · Create or update my profile",
    description=(
        "Real name and a mobile number are required (the leader and the station text it); "
        "skills and availability are lists of known codes; home_grid is a grid code whose "
        "tasks the resident hears of."
    ),
)
def put_profile(request, payload: ProfileIn):
    profile = services.save_profile(
        request.auth,
        real_name=payload.real_name,
        phone=payload.phone,
        skills=payload.skills,
        availability=payload.availability,
        home_grid_code=payload.home_grid,
    )
    return _profile_out(profile)


# --- teams --------------------------------------------------------------------------------------


@router.get(
    "/teams",
    response=list[TeamOut] | TeamListOut,
    summary="队伍列表 · Teams I may see",
    description="Staff: teams of their jurisdiction. Residents: teams they lead or are in.",
)
@paginated(legacy_array=True)
def list_teams(request):
    user = request.auth
    qs = _teams(services.teams_for(user), user).order_by("org_path", "name", "pk")
    return Listing(qs, render=lambda rows: [_team_out(t, user) for t in rows])


@router.post(
    "/teams",
    response={201: TeamDetailOut},
    summary="建立队伍 · Officers and commanders create a team",
    description="org is a unit code in the caller's jurisdiction; leader a username.",
)
def create_team(request, payload: TeamIn):
    team = services.create_team(
        request.auth,
        name=payload.name,
        org=payload.org,
        description=payload.description,
        requires_approval=payload.requires_approval,
        leader=_user_named(payload.leader),
        grid_codes=payload.grids,
    )
    return 201, _team_detail(request, team.code)


@router.get(
    "/teams/{code}",
    response=TeamDetailOut,
    summary="队伍详情 · A team, its members (phones masked) and pending applications",
)
def get_team(request, code: TeamCode):
    return _team_detail(request, code)


@router.post(
    "/teams/{code}/invite/reset",
    response=TeamDetailOut,
    summary="重置邀请码 · New invite token: old QR codes and links stop working",
)
def reset_invite(request, code: TeamCode):
    services.reset_invite(request.auth, code)
    return _team_detail(request, code)


@router.get(
    "/teams/{code}/qr.svg",
    summary="入队二维码 · The team's invite QR code (SVG), for its leader and staff",
    response={200: None},
    openapi_extra={"responses": {200: {"content": {"image/svg+xml": {}}}}},
)
def team_qr(request, code: TeamCode):
    team = services.get_team_for(request.auth, code)
    if not services.can_manage_team(request.auth, team):
        raise Forbidden("只有队长或辖区民警可以查看入队二维码")
    return HttpResponse(services.team_qr_svg(team, request), content_type="image/svg+xml")


@router.post(
    "/teams/{code}/leave",
    response=MembershipOut,
    summary="退出队伍 · Leave a team (or withdraw my application)",
)
def leave_team(request, code: TeamCode):
    return _membership_out(services.leave_team(request.auth, code))


@router.get(
    "/join/{token}",
    response=TeamPreviewOut,
    summary="扫码入队预览 · What an invite QR code leads to",
)
def join_preview(request, token: InviteToken):
    user = request.auth
    team = services.team_for_invite(token)
    mine = (
        Membership.objects.filter(team=team, user=user, status__in=LIVE_MEMBERSHIP)
        .values_list("status", flat=True)
        .first()
    )
    return {
        "code": team.code,
        "name": team.name,
        "org": _ref(team.org),
        "description": team.description,
        "requires_approval": team.requires_approval,
        "members": team.memberships.filter(status=MembershipStatus.ACTIVE).count(),
        "has_profile": VolunteerProfile.objects.filter(user=user).exists(),
        "my_status": mine,
    }


@router.post(
    "/join/{token}",
    response={201: MembershipOut},
    summary="扫码入队 · Join a team by its invite token",
    description=(
        "409 `profile_required` without a profile, 409 `already_member`; pending when the team "
        "asks for approval (the leader is told), else active at once."
    ),
)
def join(request, token: InviteToken):
    return 201, _membership_out(services.join_team(request.auth, token))


@router.post(
    "/memberships/{membership_id}/approve",
    response=MembershipOut,
    summary="通过入队申请 · The leader (or staff) approves an application",
)
def approve_membership(request, membership_id: int, payload: MembershipNoteIn | None = None):
    m = services.decide_membership(
        request.auth,
        _record_id(membership_id, "申请"),
        approve=True,
        note=payload.note if payload else "",
    )
    return _membership_out(m)


@router.post(
    "/memberships/{membership_id}/reject",
    response=MembershipOut,
    summary="拒绝入队申请 · Reject an application, with an optional note",
)
def reject_membership(request, membership_id: int, payload: MembershipNoteIn | None = None):
    m = services.decide_membership(
        request.auth,
        _record_id(membership_id, "申请"),
        approve=False,
        note=payload.note if payload else "",
    )
    return _membership_out(m)


@router.post(
    "/memberships/{membership_id}/remove",
    response=MembershipOut,
    summary="移出队员 · Remove a member, with a reason",
)
def remove_member(request, membership_id: int, payload: ReasonIn):
    m = services.remove_member(
        request.auth, _record_id(membership_id, "申请"), reason=payload.reason
    )
    return _membership_out(m)


# --- tasks --------------------------------------------------------------------------------------


@router.get(
    "/tasks",
    response=TaskListOut,
    summary="任务列表 · open: I may take now; mine: my sign-ups (staff: posted by me); all",
)
@paginated()
def list_tasks(request, filters: Query[TaskListIn]):
    user = request.auth
    now = clock.now()
    if filters.view == "open":
        qs = services.open_tasks_for(user, now).order_by("starts_at", "pk")
    elif filters.view == "mine":
        if is_staff_viewer(user):
            qs = services.tasks_for(user).filter(posted_by=user)
        else:
            qs = services.tasks_for(user).filter(
                pk__in=Signup.objects.filter(user=user).values("task_id")
            )
        qs = qs.order_by("-starts_at", "-pk")
    else:
        qs = services.tasks_for(user).order_by("-starts_at", "-pk")
    return Listing(_tasks(qs, user), render=lambda rows: [_task_out(t) for t in rows])


@router.post(
    "/tasks",
    response={201: TaskDetailOut},
    summary="发布任务 · Officers and commanders post a task to teams and/or grids",
    description=(
        "At least one team or grid of the caller's jurisdiction; slots ≥ 1; the window starts "
        "in the future, ends after it starts and lasts at most 7 days. lng/lat (and route "
        "points) are in `crs` and stored as WGS-84. The volunteers offered the task are pushed "
        "`{type: push.task, event: published}` after commit."
    ),
)
def post_task(request, payload: TaskIn):
    task = services.post_task(
        request.auth,
        kind=payload.kind,
        title=payload.title,
        description=payload.description,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        meeting_address=payload.meeting_address,
        lng=payload.lng,
        lat=payload.lat,
        crs=payload.crs,
        route=[list(p) for p in payload.route],
        checkin_radius_m=payload.checkin_radius_m,
        slots=payload.slots,
        team_codes=payload.teams,
        grid_codes=payload.grids,
    )
    return 201, _task_detail(request, task.code)


@router.get("/tasks/{code}", response=TaskDetailOut, summary="任务详情 · One task")
def get_task(request, code: TaskCode):
    return _task_detail(request, code)


@router.get(
    "/tasks/{code}/qr.svg",
    summary="现场签到二维码 · The task's on-site QR code (SVG), for whoever manages it",
    response={200: None},
    openapi_extra={"responses": {200: {"content": {"image/svg+xml": {}}}}},
)
def task_qr(request, code: TaskCode):
    task = services.get_task_for(request.auth, code)
    if not services.can_manage_task(request.auth, task):
        raise Forbidden("只有发布任务的民警或辖区指挥员可以查看现场二维码")
    return HttpResponse(services.task_qr_svg(task, request), content_type="image/svg+xml")


@router.post(
    "/tasks/{code}/cancel",
    response=TaskDetailOut,
    summary="取消任务 · Cancel before anyone checked in; sign-ups are voided and told",
)
def cancel_task(request, code: TaskCode, payload: ReasonIn):
    services.cancel_task(request.auth, code, reason=payload.reason)
    return _task_detail(request, code)


@router.post(
    "/tasks/{code}/signup",
    response={201: SignupResultOut},
    summary="报名 · Sign up: accepted while slots last, else on the waiting list",
    description=(
        "First come, first served under a row lock: never more accepted than slots. 409 "
        "`already_signed_up`, `task_closed`, `profile_required`; 404 when the task is not "
        "offered to the caller."
    ),
)
def sign_up(request, code: TaskCode):
    signup = services.sign_up(request.auth, code)
    return 201, {
        "status": signup.status,
        "status_label": signup.get_status_display(),
        "position": services.waiting_position(signup),
        "signup": signup.pk,
        "task": code,
        "created_at": iso(signup.created_at),
    }


@router.post(
    "/tasks/{code}/signup/cancel",
    response=MySignupOut,
    summary="取消报名 · Give up my place; the first in line is promoted and told",
)
def cancel_signup(request, code: TaskCode):
    services.cancel_signup(request.auth, code)
    return _own_signup(request, code)


def _place(payload: PlaceIn | None) -> dict:
    if payload is None:
        return {}
    return {"lng": payload.lng, "lat": payload.lat, "crs": payload.crs, "qr_token": payload.qr}


@router.post(
    "/tasks/{code}/checkin",
    response=MySignupOut,
    summary="签到 · Check in by position ({lng, lat, crs}) or by the on-site QR ({qr})",
    description=(
        "Within the task's radius of the meeting point, from 60 minutes before the start to "
        "the end. 400 `too_far` (details: distance_m, radius_m), 400 `bad_qr`, 409 "
        "`outside_window`."
    ),
)
def check_in(request, code: TaskCode, payload: PlaceIn | None = None):
    services.check_in(request.auth, code, **_place(payload))
    return _own_signup(request, code)


@router.post(
    "/tasks/{code}/checkout",
    response=MySignupOut,
    summary="签退 · Check out (near the meeting point or the route's end, or by QR)",
)
def check_out(request, code: TaskCode, payload: PlaceIn | None = None):
    services.check_out(request.auth, code, **_place(payload))
    return _own_signup(request, code)


@router.post(
    "/tasks/{code}/report",
    response=MySignupOut,
    summary="任务反馈 · Report back (multipart: text, photos[]) after checking in",
)
def report(
    request,
    code: TaskCode,
    text: Text(2000) = Form(...),
    photos: list[UploadedFile] = File(None),
):
    uploads = [PhotoUpload(p.name or "photo", p.read(max_photo_read())) for p in photos or []]
    services.submit_report(request.auth, code, text=text, photos=uploads)
    return _own_signup(request, code)


@router.get(
    "/tasks/{code}/signups",
    response=list[SignupOut] | SignupListOut,
    summary="报名名单 · Sign-ups of a task (staff): accepted, waiting list in order, history",
)
@paginated(legacy_array=True, array_limit=None)
def task_signups(request, code: TaskCode):
    user = request.auth
    task = services.get_task_for(user, code)
    if not is_staff_viewer(user):
        raise Forbidden("只有工作人员可以查看报名名单")
    qs = (
        Signup.objects.filter(task=task)
        .select_related("task", "team", "user", "user__volunteer_profile")
        .prefetch_related("photos")
        .order_by("pk")
    )

    def render(rows: list[Signup]) -> list[dict]:
        # Places on the waiting list count the whole list, not only this page.
        waiting = Signup.objects.filter(task=task, status=SignupStatus.WAITING).order_by("pk")
        positions = {pk: n for n, pk in enumerate(waiting.values_list("pk", flat=True), 1)}
        return [_signup_out(s, position=positions.get(s.pk)) for s in rows]

    return Listing(qs, render=render)


def _reviewed(request, signup: Signup) -> dict:
    signup = (
        Signup.objects.select_related("task", "team", "user", "user__volunteer_profile")
        .prefetch_related("photos")
        .get(pk=signup.pk)
    )
    return _signup_out(signup)


@router.post(
    "/signups/{signup_id}/confirm",
    response=SignupOut,
    summary="确认任务 · Confirm the work: hours fixed, points credited once",
)
def confirm(request, signup_id: int):
    signup = services.confirm_work(request.auth, _record_id(signup_id, "报名记录"))
    return _reviewed(request, signup)


@router.post(
    "/signups/{signup_id}/reject",
    response=SignupOut,
    summary="不予确认 · Reject the work, with a reason",
)
def reject(request, signup_id: int, payload: ReasonIn):
    signup = services.reject_work(
        request.auth, _record_id(signup_id, "报名记录"), reason=payload.reason
    )
    return _reviewed(request, signup)


@router.get(
    "/me/history",
    response=HistoryOut,
    summary="我的服务记录 · My tasks, hours and task points",
)
@paginated()
def my_history(request):
    history = services.history_for(request.auth)
    return Listing(
        history["signups"].prefetch_related("photos"),
        render=lambda rows: [_my_signup_out(s) for s in rows],
        extra=lambda page: {
            "tasks_done": history["tasks_done"],
            "hours": f"{history['hours']:.2f}",
            "points_earned": history["points_earned"],
            "signups": page["items"],
        },
    )
