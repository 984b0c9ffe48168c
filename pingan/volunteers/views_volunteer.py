"""The volunteer end, phone-first: open tasks, one task (sign up, check in and out, report),
the on-site QR scan, my tasks and points, joining a team by its invite link, my profile and
my teams (and, for a team leader, the applications to decide).

State changes are POSTs to the page they are shown on, with an `action` field; on success the
page redirects (so a reload never repeats it), on failure it is drawn again with the
service's Chinese message next to the button that failed.
"""

import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from pingan.accounts.roles import RESIDENT_ROLES
from pingan.core import clock
from pingan.core.errors import ServiceError
from pingan.core.masking import mask_name
from pingan.core.uploads import PhotoUpload, max_photo_read
from pingan.points import ledger
from pingan.points.models import PointEntry

from . import services
from .forms import LocationForm, ProfileForm, ReportForm
from .models import (
    LIVE_MEMBERSHIP,
    LIVE_SIGNUP,
    Membership,
    MembershipStatus,
    Signup,
    SignupStatus,
    TaskStatus,
    VolunteerProfile,
)
from .views import (
    checkin_opens_at,
    checkout_closes_at,
    countdown,
    person,
    run_member_action,
    safe_next,
    signup_text,
    slot_text,
    slots_left,
    task_or_404,
    volunteer_end_required,
    when_text,
    with_waiting,
)

GET_POST = require_http_methods(["GET", "POST"])


class PageError(Exception):
    """A failed action: which part of the page it belongs to, the message and the status."""

    def __init__(self, section: str, message: str, status: int = 400, form=None):
        super().__init__(message)
        self.section = section
        self.message = message
        self.status = status
        self.form = form


def _has_profile(user) -> bool:
    return VolunteerProfile.objects.filter(user=user).exists()


def _position(signup) -> int | None:
    if signup is not None and signup.status == SignupStatus.WAITING:
        return services.waiting_position(signup)
    return None


# --- open tasks ----------------------------------------------------------------------------------


def _home_context(request) -> dict:
    user = request.user
    now = clock.now()
    offered = list(
        with_waiting(services.open_tasks_for(user, now))
        .select_related("org")
        .order_by("starts_at", "pk")[:100]
    )
    live = {
        s.task_id: s
        for s in Signup.objects.filter(user=user, status__in=LIVE_SIGNUP)
        .select_related("task")
        .filter(task__status=TaskStatus.PUBLISHED, task__ends_at__gt=now)
    }
    offered_ids = {t.pk for t in offered}
    rows = []
    for task in offered:
        signup = live.get(task.pk)
        rows.append(_task_row(task, signup, now))
    # Tasks I signed up for that are no longer offered to me (e.g. I left the team) still
    # belong on my first page: the slot is mine until I cancel it.
    mine_elsewhere = [
        _task_row(s.task, s, now) for s in live.values() if s.task_id not in offered_ids
    ]
    return {
        "rows": rows,
        "mine": [r for r in rows if r["signup"]] + mine_elsewhere,
        "open": [r for r in rows if not r["signup"]],
        "has_profile": _has_profile(user),
    }


def _task_row(task, signup, now) -> dict:
    position = _position(signup)
    return {
        "task": task,
        "slots": slot_text(task),
        "left": slots_left(task),
        "countdown": countdown(task, now),
        "when": when_text(task),
        "signup": signup,
        "status": signup_text(signup, position),
        "position": position,
    }


@login_required
@require_safe
def home(request):
    volunteer_end_required(request.user)
    context = _home_context(request)
    # The list refreshes itself (htmx) while slots fill up; it asks for the fragment only.
    if request.headers.get("HX-Request"):
        return render(request, "volunteers/_open_tasks.html", context)
    return render(request, "volunteers/home.html", context)


# --- one task ------------------------------------------------------------------------------------


def _task_context(request, task, *, error: PageError | None = None) -> dict:
    user = request.user
    now = clock.now()
    signup = services.signup_of(user, task)
    position = _position(signup)
    live = signup is not None and signup.status in LIVE_SIGNUP
    accepted = live and signup.status == SignupStatus.ACCEPTED
    checked_in = accepted and signup.checked_in_at is not None
    checked_out = checked_in and signup.checked_out_at is not None
    published = task.status == TaskStatus.PUBLISHED
    opens, closes = checkin_opens_at(task), checkout_closes_at(task)
    waiting = task.signups.filter(status=SignupStatus.WAITING).count()
    # An error for a part of the page that is not drawn (e.g. a report before check-in) is
    # shown on top instead.
    shown = {"signup"}
    if accepted and published:
        shown |= {"checkin", "checkout"}
    if checked_in:
        shown.add("report")
    report_form = ReportForm(
        prefix="report", initial={"text": signup.report_text if signup is not None else ""}
    )
    if error is not None and error.section == "report" and error.form is not None:
        report_form = error.form
    return {
        "task": task,
        "now": now,
        "signup": signup,
        "status": signup_text(signup, position),
        "position": position,
        "slots": slot_text(task, waiting),
        "left": slots_left(task),
        "countdown": countdown(task, now),
        "when": when_text(task),
        "has_profile": _has_profile(user),
        "photos": list(signup.photos.all()) if signup is not None else [],
        "can_signup": published and now < task.ends_at and not live,
        "can_cancel": published and live and not checked_in and now < task.ends_at,
        "checkin_opens": opens,
        "checkin_early": accepted and not checked_in and now < opens,
        "can_checkin": published and accepted and not checked_in and opens <= now <= task.ends_at,
        "can_checkout": published and checked_in and not checked_out and now <= closes,
        # A report may be sent again (text replaced, photos added) until it is reviewed.
        "can_report": checked_in and not signup.review,
        "photo_max": settings.PHOTO_MAX_COUNT,
        "report_form": report_form,
        "route": task.route or [],
        "error": error,
        "top_error": error.message if error is not None and error.section not in shown else "",
    }


def _signup(request, task) -> str:
    signup = services.sign_up(request.user, task.code)
    if signup.status == SignupStatus.ACCEPTED:
        return "报名成功！名额已为您保留，请按时到集合地点签到。"
    position = services.waiting_position(signup)
    return f"名额已满，您已进入候补，排第 {position} 位。有人取消时按顺序递补，递补成功会通知您。"


def _cancel(request, task) -> str:
    services.cancel_signup(request.user, task.code)
    return "已取消报名。"


def _located(request, section: str) -> dict:
    form = LocationForm(request.POST)
    if not form.is_valid():
        raise PageError(section, form.messages()[0])
    data = form.cleaned_data
    return {"lng": data["lng"], "lat": data["lat"], "crs": data["crs"] or "wgs84"}


def _distance_note(signup) -> str:
    distance = getattr(signup, "checkin_distance_m", None)
    return f"（距集合点约 {round(distance)} 米）" if distance is not None else ""


def _checkin(request, task) -> str:
    where = _located(request, "checkin")
    try:
        signup = services.check_in(request.user, task.code, **where)
    except ServiceError as exc:
        raise PageError("checkin", exc.message, exc.status) from exc
    return f"签到成功{_distance_note(signup)}，注意安全。"


def _checkout(request, task) -> str:
    where = _located(request, "checkout")
    try:
        services.check_out(request.user, task.code, **where)
    except ServiceError as exc:
        raise PageError("checkout", exc.message, exc.status) from exc
    return "签退成功，辛苦了！别忘了提交任务反馈。"


def _report(request, task) -> str:
    form = ReportForm(request.POST, prefix="report")
    if not form.is_valid():
        raise PageError("report", form.messages()[0], form=form)
    photos = [
        PhotoUpload(f.name, f.read(max_photo_read())) for f in request.FILES.getlist("photos")
    ]
    try:
        services.submit_report(
            request.user, task.code, text=form.cleaned_data["text"], photos=photos
        )
    except ServiceError as exc:
        raise PageError("report", exc.message, exc.status, form=form) from exc
    return "反馈已提交，民警确认后积分会自动到账。"


TASK_ACTIONS = {
    "signup": ("signup", _signup),
    "cancel": ("signup", _cancel),
    "checkin": ("checkin", _checkin),
    "checkout": ("checkout", _checkout),
    "report": ("report", _report),
}


@login_required
@GET_POST
def task(request, code):
    volunteer_end_required(request.user)
    task = task_or_404(request.user, code)
    if request.method == "POST":
        action = request.POST.get("action") or ""
        section, run = TASK_ACTIONS.get(action, ("signup", None))
        try:
            if run is None:
                raise PageError(section, "无法识别的操作，请刷新页面后重试")
            message = run(request, task)
        except PageError as exc:
            error = exc
        except ServiceError as exc:
            error = PageError(section, exc.message, exc.status)
        else:
            messages.success(request, message)
            return redirect("volunteer-task", code=task.code)
        task = task_or_404(request.user, code)  # what is really stored now
        context = _task_context(request, task, error=error)
        return render(request, "volunteers/task.html", context, status=error.status)
    return render(request, "volunteers/task.html", _task_context(request, task))


# --- the on-site QR ------------------------------------------------------------------------------


@login_required
@GET_POST
def task_scan(request, code, qr_token):
    """What the printed on-site QR opens: one big button that checks in, or out, by QR."""
    volunteer_end_required(request.user)
    task = task_or_404(request.user, code)
    signup = services.signup_of(request.user, task)
    accepted = signup is not None and signup.status == SignupStatus.ACCEPTED
    checking_out = accepted and signup.checked_in_at is not None
    error = ""
    status = 200
    # A code of another task (or a retired one) is said at once, before anyone presses.
    token_ok = secrets.compare_digest(qr_token.encode(), task.qr_token.encode())
    if request.method == "POST":
        run = services.check_out if checking_out else services.check_in
        try:
            done = run(request.user, task.code, qr_token=qr_token)
        except ServiceError as exc:
            error, status = exc.message, exc.status
        else:
            if checking_out:
                messages.success(request, "扫码签退成功，辛苦了！别忘了提交任务反馈。")
            else:
                messages.success(request, f"扫码签到成功{_distance_note(done)}，注意安全。")
            return redirect("volunteer-task", code=task.code)
    elif not token_ok:
        error, status = "这个二维码不是本任务的签到码，请扫描集合点张贴的任务二维码。", 400
    context = {
        "task": task,
        "signup": signup,
        "status_text": signup_text(signup, _position(signup)),
        "accepted": accepted,
        "checking_out": checking_out,
        "done": accepted and signup.checked_out_at is not None,
        "token_ok": token_ok,
        "error": error,
        "countdown": countdown(task, clock.now()),
        "when": when_text(task),
    }
    return render(request, "volunteers/scan.html", context, status=status)


# --- my tasks, hours and points ------------------------------------------------------------------


@login_required
@require_safe
def mine(request):
    user = request.user
    volunteer_end_required(user)
    history = services.history_for(user)
    signups = list(history["signups"].select_related("task", "team")[:100])
    rows = [{"s": s, "status": signup_text(s, _position(s))} for s in signups]
    return render(
        request,
        "volunteers/mine.html",
        {
            "rows": rows,
            "tasks_done": history["tasks_done"],
            "hours": history["hours"],
            "points_earned": history["points_earned"],
            "balance": ledger.balance(user),
            # Only the person's own entries: the full ledger page is points-mine.
            "entries": PointEntry.objects.filter(user=user).order_by("-created_at", "-pk")[:20],
        },
    )


# --- joining a team ------------------------------------------------------------------------------


@login_required
@GET_POST
def join(request, token):
    try:
        team = services.team_for_invite(token)
    except ServiceError as exc:
        raise Http404("邀请链接无效或已失效，请向队长索取新的二维码") from exc
    user = request.user
    may_join = user.role in RESIDENT_ROLES
    here = reverse("volunteer-join", kwargs={"token": token})
    error, status = "", 200 if may_join else 403
    if not may_join:
        error = "工作人员和店员账号不能加入志愿者队伍，请用个人账号扫码"
    elif request.method == "POST":
        try:
            membership = services.join_team(user, token)
        except ServiceError as exc:
            if exc.code == "profile_required":
                messages.info(request, "加入队伍前，请先填写志愿者资料")
                return redirect(f"{reverse('volunteer-profile')}?next={here}")
            error, status = exc.message, exc.status
        else:
            if membership.status == MembershipStatus.PENDING:
                messages.success(request, f"已申请加入{team.name}，请等待队长审核，结果会通知您")
            else:
                messages.success(request, f"欢迎加入{team.name}！")
            return redirect("volunteer-teams")
    leader = person(team.leader) if team.leader_id else None
    membership = (
        Membership.objects.filter(team=team, user=user, status__in=LIVE_MEMBERSHIP).first()
        if may_join
        else None
    )
    context = {
        "team": team,
        "leader_name": mask_name(leader["name"]) if leader else "",
        "members": team.memberships.filter(status=MembershipStatus.ACTIVE).count(),
        "membership": membership,
        "has_profile": may_join and _has_profile(user),
        "may_join": may_join,
        "here": here,
        "error": error,
    }
    return render(request, "volunteers/join.html", context, status=status)


# --- profile -------------------------------------------------------------------------------------


def _national(phone: str) -> str:
    return phone[3:] if phone and phone.startswith("+86") else (phone or "")


@login_required
@GET_POST
def profile(request):
    user = request.user
    volunteer_end_required(user)
    existing = VolunteerProfile.objects.filter(user=user).select_related("home_grid").first()
    if existing is not None:
        initial = {
            "real_name": existing.real_name,
            "phone": _national(existing.phone),
            "skills": existing.skills,
            "availability": existing.availability,
            "home_grid": existing.home_grid.code if existing.home_grid_id else "",
        }
    else:
        initial = {"real_name": user.display_name, "phone": _national(user.phone)}
    form = ProfileForm(request.POST or None, initial=initial)
    failed_status = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.save_profile(
                user,
                real_name=data["real_name"],
                phone=data["phone"],
                skills=data["skills"],
                availability=data["availability"],
                home_grid_code=data["home_grid"] or None,
            )
        except ServiceError as exc:
            form.service_error(exc)
            failed_status = exc.status
        else:
            messages.success(request, "资料已保存")
            return redirect(safe_next(request, reverse("volunteer-home")))
    return render(
        request,
        "volunteers/profile.html",
        {"form": form, "existing": existing, "next": safe_next(request, "")},
        status=failed_status or (400 if form.errors else 200),
    )


# --- my teams (and the teams I lead) -------------------------------------------------------------


def _teams_context(request, *, error: str = "", failed: str = "") -> dict:
    user = request.user
    memberships = list(
        Membership.objects.filter(user=user)
        .select_related("team", "team__org", "team__leader")
        .order_by("-applied_at", "-pk")[:30]
    )
    live = [m for m in memberships if m.status in LIVE_MEMBERSHIP]
    past = [m for m in memberships if m.status not in LIVE_MEMBERSHIP][:10]
    led = []
    for team in services.teams_for(user).filter(leader=user).select_related("org"):
        rows = (
            team.memberships.filter(status__in=LIVE_MEMBERSHIP)
            .select_related("user", "user__volunteer_profile")
            .order_by("applied_at", "pk")
        )
        pending = [{"m": m, **person(m.user)} for m in rows if m.status == "pending"]
        active = [{"m": m, **person(m.user)} for m in rows if m.status == "active"]
        led.append({"team": team, "pending": pending, "active": active})
    return {"live": live, "past": past, "led": led, "error": error, "failed": failed}


@login_required
@GET_POST
def teams(request):
    user = request.user
    volunteer_end_required(user)
    if request.method == "POST":
        action = request.POST.get("action") or ""
        try:
            if action == "leave":
                code = (request.POST.get("team") or "").strip()[:24]
                services.leave_team(user, code)
                message = "已退出队伍"
            else:
                message = run_member_action(user, action, request.POST)
                if message is None:
                    raise ServiceError("bad_action", "无法识别的操作，请刷新页面后重试")
        except ServiceError as exc:
            failed = request.POST.get("membership") or request.POST.get("team") or ""
            context = _teams_context(request, error=exc.message, failed=failed)
            return render(request, "volunteers/teams.html", context, status=exc.status)
        messages.success(request, message)
        return redirect("volunteer-teams")
    return render(request, "volunteers/teams.html", _teams_context(request))
