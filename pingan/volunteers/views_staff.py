"""Officer and console pages: tasks in my scope, posting a task, one task's sign-ups with their
check-ins and reports (confirm, or reject with a reason; cancel the task), the printable
on-site QR, and the console's teams (members, approvals, invite link and QR).

Like the volunteer end, actions are POSTs to the page with an `action` field; a failure
redraws the page with the service's Chinese message beside the row or form it concerns.
"""

from datetime import timedelta

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_safe

from pingan.accounts.models import User
from pingan.accounts.roles import is_manager
from pingan.core import clock, qr
from pingan.core.errors import Forbidden, NotFound, ServiceError
from pingan.core.validation import normalise_phone
from pingan.orgs.services import grids_geojson

from . import access, services
from .forms import ReasonForm, TaskForm, TeamForm, scope_grids
from .models import LIVE_MEMBERSHIP, MembershipStatus, SignupStatus, TaskStatus
from .views import (
    console_required,
    countdown,
    person,
    poster_required,
    raise_for_access,
    run_member_action,
    slot_text,
    staff_required,
    task_or_404,
    when_text,
    with_waiting,
)

GET_POST = require_http_methods(["GET", "POST"])
LIST_LIMIT = 200
MAP_GRID_LIMIT = 300  # outlines drawn on the posting map; a county has a few hundred grids

TASK_VIEWS = [
    ("upcoming", "未结束"),
    ("review", "待确认"),
    ("past", "已结束"),
    ("cancelled", "已取消"),
    ("mine", "我发布的"),
    ("all", "全部"),
]


def _to_review_q():
    return Q(
        signups__status=SignupStatus.ACCEPTED,
        signups__checked_in_at__isnull=False,
        signups__review="",
    )


# --- tasks in my scope ---------------------------------------------------------------------------


@login_required
@require_safe
def tasks_list(request):
    user = request.user
    staff_required(user)
    now = clock.now()
    view = request.GET.get("view") or "upcoming"
    if view not in dict(TASK_VIEWS):
        view = "upcoming"
    qs = with_waiting(services.tasks_for(user)).annotate(
        to_review=Count("signups", filter=_to_review_q())
    )
    published = Q(status=TaskStatus.PUBLISHED)
    if view == "upcoming":
        qs = qs.filter(published, ends_at__gt=now).order_by("starts_at", "pk")
    elif view == "review":
        qs = qs.filter(to_review__gt=0).order_by("-starts_at", "-pk")
    elif view == "past":
        qs = qs.filter(published, ends_at__lte=now).order_by("-starts_at", "-pk")
    elif view == "cancelled":
        qs = qs.filter(status=TaskStatus.CANCELLED).order_by("-starts_at", "-pk")
    elif view == "mine":
        qs = qs.filter(posted_by=user).order_by("-starts_at", "-pk")
    rows = [
        {"task": t, "slots": slot_text(t), "countdown": countdown(t, now), "when": when_text(t)}
        for t in qs.select_related("org", "posted_by")[:LIST_LIMIT]
    ]
    return render(
        request,
        "volunteers/tasks_list.html",
        {
            "rows": rows,
            "views": TASK_VIEWS,
            "view": view,
            "can_post": is_manager(user),
            "limit": LIST_LIMIT,
        },
    )


# --- posting a task ------------------------------------------------------------------------------


def _default_window():
    # Tonight 19:30–22:30 (or tomorrow's when that has passed): the commonest task is a patrol.
    local = timezone.localtime(clock.now())
    start = local.replace(hour=19, minute=30, second=0, microsecond=0)
    if start <= local:
        start += timedelta(days=1)
    return start, start + timedelta(hours=3)


@login_required
@GET_POST
def tasks_new(request):
    user = request.user
    poster_required(user)
    teams = list(services.teams_for(user).filter(active=True).select_related("org"))
    starts, ends = _default_window()
    initial = {"starts_at": starts, "ends_at": ends, "crs": "wgs84", "slots": 10}
    form = TaskForm(request.POST or None, user=user, teams=teams, initial=initial)
    failed_status = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            task = services.post_task(
                user,
                kind=data["kind"],
                title=data["title"],
                description=data["description"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                meeting_address=data["meeting_address"],
                lng=data["lng"],
                lat=data["lat"],
                crs=data["crs"] or "wgs84",
                route=data["route"],
                checkin_radius_m=data["checkin_radius_m"],
                slots=data["slots"],
                team_codes=data["teams"],
                grid_codes=data["grids"],
            )
        except ServiceError as exc:
            form.service_error(exc)
            failed_status = exc.status
        else:
            messages.success(request, f"任务 {task.code} 已发布，并已推送给相关志愿者")
            return redirect("tasks-detail", code=task.code)
    grids = list(
        scope_grids(user).defer(None).select_related("org", "officer")[: MAP_GRID_LIMIT + 1]
    )
    outlines = grids_geojson(grids) if len(grids) <= MAP_GRID_LIMIT else None
    return render(
        request,
        "volunteers/tasks_new.html",
        {
            "form": form,
            "has_teams": bool(teams),
            "grids_json": outlines,
            "default_radius": settings.VOLUNTEER_CHECKIN_RADIUS_M,
        },
        status=failed_status or (400 if form.errors else 200),
    )


# --- one task ------------------------------------------------------------------------------------


def _signup_row(signup, now, *, can_review: bool, error: str = "", reason: str = "") -> dict:
    return {
        "s": signup,
        **person(signup.user),
        "photos": list(signup.photos.all()),
        "reviewable": (
            can_review
            and signup.status == SignupStatus.ACCEPTED
            and signup.checked_in_at is not None
            and not signup.review
        ),
        # Work is confirmed once done: checked out, or the task is over.
        "finished": signup.checked_out_at is not None or now >= signup.task.ends_at,
        "error": error,
        "reason": reason,
    }


def _detail_context(request, task, *, failed=None, error="", reason="", cancel_form=None) -> dict:
    user = request.user
    now = clock.now()
    can_manage = access.can_manage_task(user, task)
    signups = list(
        task.signups.select_related("user", "user__volunteer_profile", "team")
        .prefetch_related("photos")
        .order_by("pk")
    )

    def row(s):
        mine = failed is not None and s.pk == failed
        return _signup_row(
            s,
            now,
            can_review=can_manage,
            error=error if mine else "",
            reason=reason if mine else "",
        )

    accepted = sorted(
        (s for s in signups if s.status == SignupStatus.ACCEPTED),
        key=lambda s: (s.accepted_at or s.created_at, s.pk),
    )
    waiting = [s for s in signups if s.status == SignupStatus.WAITING]
    ended = [s for s in signups if s.status not in (SignupStatus.ACCEPTED, SignupStatus.WAITING)]
    return {
        "task": task,
        "slots": slot_text(task, len(waiting)),
        "countdown": countdown(task, now),
        "when": when_text(task),
        "accepted": [row(s) for s in accepted],
        "waiting": [{"s": s, "position": i, **person(s.user)} for i, s in enumerate(waiting, 1)],
        "ended": [{"s": s, **person(s.user)} for s in ended],
        "checked_in": sum(1 for s in accepted if s.checked_in_at),
        "to_review": sum(1 for s in accepted if s.checked_in_at and not s.review),
        "can_manage": can_manage,
        # The service refuses a cancellation once someone has checked in; so does the page.
        "can_cancel": (
            can_manage
            and task.status == TaskStatus.PUBLISHED
            and now < task.ends_at
            and not any(s.checked_in_at for s in accepted)
        ),
        "cancel_form": cancel_form or ReasonForm(prefix="cancel"),
        "offered_teams": list(task.teams.all()),
        "offered_grids": list(task.grids.all()),
        # An error that no row can hold (e.g. the sign-up vanished) goes on top.
        "top_error": error if failed is None and cancel_form is None else "",
    }


def _signup_id(task, post) -> int:
    """The sign-up a row's button names, which must belong to this page's task."""
    raw = (post.get("signup") or "").strip()
    if not (raw.isascii() and raw.isdigit()):
        raise ServiceError("bad_signup", "请选择要确认的报名记录")
    if not task.signups.filter(pk=int(raw)).exists():
        raise NotFound("未找到该报名记录，或您无权查看")
    return int(raw)


@login_required
@GET_POST
def tasks_detail(request, code):
    user = request.user
    staff_required(user)
    task = task_or_404(user, code)
    if request.method == "GET":
        return render(request, "volunteers/tasks_detail.html", _detail_context(request, task))

    action = request.POST.get("action") or ""
    failed, reason, cancel_form = None, "", None
    try:
        if action == "confirm":
            failed = _signup_id(task, request.POST)
            signup = services.confirm_work(user, failed)
            message = f"已确认，{signup.hours} 小时，积分 +{signup.points_awarded}"
        elif action == "reject":
            failed = _signup_id(task, request.POST)
            reason = (request.POST.get("reason") or "").strip()[:200]
            services.reject_work(user, failed, reason=reason)
            message = "已记录不予确认，并告知志愿者"
        elif action == "cancel":
            cancel_form = ReasonForm(request.POST, prefix="cancel")
            if not cancel_form.is_valid():
                raise ServiceError("reason_required", "取消任务时请填写原因")
            services.cancel_task(user, task.code, reason=cancel_form.cleaned_data["reason"])
            message = "任务已取消，已通知报名的志愿者"
        else:
            raise ServiceError("bad_action", "无法识别的操作，请刷新页面后重试")
    except ServiceError as exc:
        if cancel_form is not None:
            cancel_form.add_error(None, exc.message)
        task = task_or_404(user, code)
        context = _detail_context(
            request,
            task,
            failed=failed,
            error=exc.message,
            reason=reason,
            cancel_form=cancel_form,
        )
        return render(request, "volunteers/tasks_detail.html", context, status=exc.status)
    messages.success(request, message)
    return redirect("tasks-detail", code=task.code)


@login_required
@require_safe
def tasks_qr(request, code):
    """An A4 sheet for the meeting point: the QR opens volunteer-task-scan for this task."""
    user = request.user
    staff_required(user)
    task = task_or_404(user, code)
    # The sheet carries the check-in secret: only whoever manages the task, as in the API.
    if not access.can_manage_task(user, task):
        raise Forbidden("只有发布任务的民警或辖区指挥员可以打印签到二维码")
    url = qr.absolute_url(services.task_scan_url(task), request)
    # A viewBox (omitsize) lets the print stylesheet size the code to the page.
    svg = segno.make(url, error="m", micro=False).svg_inline(omitsize=True, border=2)
    response = render(
        request,
        "volunteers/tasks_qr.html",
        {"task": task, "url": url, "svg": mark_safe(svg)},  # noqa: S308 - segno's own markup
    )
    # The sheet carries the task's check-in secret: keep it out of shared caches.
    response["Cache-Control"] = "private, no-store"
    return response


# --- console: teams ------------------------------------------------------------------------------


@login_required
@require_safe
def console_teams(request):
    user = request.user
    console_required(user)
    teams = (
        services.teams_for(user)
        .select_related("org", "leader")
        .annotate(
            active_count=Count(
                "memberships", filter=Q(memberships__status=MembershipStatus.ACTIVE)
            ),
            pending_count=Count(
                "memberships", filter=Q(memberships__status=MembershipStatus.PENDING)
            ),
        )
        .order_by("org_path", "name")
    )
    rows = list(teams[:500])
    return render(
        request,
        "volunteers/console_teams.html",
        {
            "rows": rows,
            "active_total": sum(t.active_count for t in rows),
            "pending_total": sum(t.pending_count for t in rows),
        },
    )


def _leader_by_phone(raw: str):
    """The volunteer whose profile carries this phone; teams are led by residents."""
    phone = normalise_phone(raw, field="leader_phone")
    if not phone:
        return None
    leader = User.objects.filter(volunteer_profile__phone=phone).first()
    if leader is None:
        raise ServiceError(
            "leader_not_found",
            "没有找到用这个手机号填写了志愿者资料的人，请队长先登录并填写资料",
            details={"field": "leader_phone"},
        )
    return leader


@login_required
@GET_POST
def console_team_new(request):
    user = request.user
    console_required(user)
    form = TeamForm(request.POST or None, user=user)
    failed_status = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            team = services.create_team(
                user,
                name=data["name"],
                org=data["org"],
                description=data["description"],
                requires_approval=data["requires_approval"],
                leader=_leader_by_phone(data["leader_phone"]),
                grid_codes=data["grids"],
            )
        except ServiceError as exc:
            form.service_error(exc)
            failed_status = exc.status
        else:
            messages.success(request, f"队伍“{team.name}”已建立，可打印二维码邀请队员")
            return redirect("console-team", code=team.code)
    return render(
        request,
        "volunteers/console_team_new.html",
        {"form": form},
        status=failed_status or (400 if form.errors else 200),
    )


def _team_context(request, team, *, error: str = "", failed: str = "") -> dict:
    user = request.user
    rows = (
        team.memberships.select_related("user", "user__volunteer_profile", "decided_by")
        .order_by("applied_at", "pk")
        .filter(status__in=LIVE_MEMBERSHIP)
    )
    members = [{"m": m, **person(m.user)} for m in rows]
    ended = team.memberships.exclude(status__in=LIVE_MEMBERSHIP).select_related(
        "user", "user__volunteer_profile"
    )
    invite = qr.absolute_url(services.invite_url(team), request)
    return {
        "team": team,
        "leader": person(team.leader) if team.leader_id else None,
        "pending": [r for r in members if r["m"].status == MembershipStatus.PENDING],
        "active": [r for r in members if r["m"].status == MembershipStatus.ACTIVE],
        "ended": [{"m": m, **person(m.user)} for m in ended.order_by("-ended_at", "-pk")[:20]],
        "grids": list(team.grids.select_related("org")),
        "can_manage": services.can_manage_team(user, team),
        "invite": invite,
        "qr_svg": mark_safe(services.team_qr_svg(team, request=request)),  # noqa: S308 - segno
        "error": error,
        "failed": failed,
    }


def _team_action(request, team, action: str) -> str:
    user = request.user
    message = run_member_action(user, action, request.POST)
    if message is not None:
        return message
    if action == "reset_invite":
        services.reset_invite(user, team)
        return "邀请链接和二维码已更换，旧的二维码不再有效"
    if action == "leader":
        raw = (request.POST.get("membership") or "").strip()
        membership = (
            team.memberships.filter(status=MembershipStatus.ACTIVE, pk=int(raw)).first()
            if raw.isascii() and raw.isdigit()
            else None
        )
        if membership is None:
            raise ServiceError("bad_membership", "只能任命在队的队员为队长")
        services.update_team(user, team, leader=membership.user)
        return f"已任命 {person(membership.user)['name']} 为队长"
    if action == "approval":
        wanted = request.POST.get("requires_approval") == "1"
        services.update_team(user, team, requires_approval=wanted)
        return "已开启入队审核" if wanted else "已关闭入队审核：扫码即可入队"
    raise ServiceError("bad_action", "无法识别的操作，请刷新页面后重试")


@login_required
@GET_POST
def console_team(request, code):
    user = request.user
    console_required(user)
    try:
        team = services.get_team_for(user, code)
    except ServiceError as exc:
        raise_for_access(exc)
        raise
    if request.method == "POST":
        action = request.POST.get("action") or ""
        try:
            message = _team_action(request, team, action)
        except ServiceError as exc:
            team = services.get_team_for(user, code)
            failed = request.POST.get("membership") or action
            context = _team_context(request, team, error=exc.message, failed=failed)
            return render(request, "volunteers/console_team.html", context, status=exc.status)
        messages.success(request, message)
        return redirect("console-team", code=team.code)
    return render(request, "volunteers/console_team.html", _team_context(request, team))
