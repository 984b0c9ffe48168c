"""Volunteer pages, shared pieces: who may open which end, how slots and time are said in plain
words, and the report photos (served only to the volunteer who took them and to staff who can
see the task).

The pages themselves are in views_volunteer (the phone-first volunteer end) and views_staff
(the officer's task pages and the console's team pages). Every change goes through
`services`; a ServiceError becomes a Chinese message next to the form that caused it.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_safe

from pingan.accounts.roles import RESIDENT_ROLES, is_manager, is_staff_viewer
from pingan.core.errors import Forbidden, NotFound, ServiceError
from pingan.core.masking import mask_phone

from . import services
from .models import ReportPhoto, SignupStatus, Skill, TaskStatus

SKILLS = dict(Skill.choices)


# --- who may open what ---------------------------------------------------------------------------


def volunteer_end_required(user) -> None:
    if user.role not in RESIDENT_ROLES:
        raise PermissionDenied("志愿者页面只对群众和义警开放")


def staff_required(user) -> None:
    if not is_staff_viewer(user):
        raise PermissionDenied("只有民警、辅警、网格员和指挥员可以查看任务")


def poster_required(user) -> None:
    if not is_manager(user):
        raise PermissionDenied("只有民警和指挥员可以发布任务")


def console_required(user) -> None:
    if not is_manager(user):
        raise PermissionDenied("只有民警和指挥员可以管理志愿者队伍")


def raise_for_access(exc: ServiceError) -> None:
    """A service's 404 / 403 becomes the page's 404 / 403; other errors are the caller's."""
    if isinstance(exc, NotFound) or exc.status == 404:
        raise Http404(exc.message) from exc
    if isinstance(exc, Forbidden) or exc.status == 403:
        raise PermissionDenied(exc.message) from exc


def task_or_404(user, code):
    try:
        return services.get_task_for(user, code)
    except ServiceError as exc:
        raise Http404(exc.message) from exc


def safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# --- plain words ---------------------------------------------------------------------------------


def with_waiting(tasks):
    """Annotate each task with the length of its waiting list (one query for the page)."""
    return tasks.annotate(
        waiting_count=Count("signups", filter=Q(signups__status=SignupStatus.WAITING))
    )


def slot_text(task, waiting: int | None = None) -> str:
    """已报 12/20，候补 3 人 — how full a task is, as a volunteer reads it."""
    if waiting is None:
        waiting = getattr(task, "waiting_count", None)
    text = f"已报 {task.taken}/{task.slots}"
    if waiting:
        text += f"，候补 {waiting} 人"
    return text


def slots_left(task) -> int:
    return max(0, task.slots - task.taken)


def duration_text(delta: timedelta) -> str:
    """2 天 3 小时 / 1 小时 20 分钟 / 5 分钟: rounded down, never below a minute."""
    minutes = max(1, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} 天 {hours} 小时" if hours else f"{days} 天"
    if hours:
        return f"{hours} 小时 {minutes} 分钟" if minutes else f"{hours} 小时"
    return f"{minutes} 分钟"


def countdown(task, now) -> str:
    if task.status == TaskStatus.CANCELLED:
        return "任务已取消"
    if now < task.starts_at:
        return f"还有 {duration_text(task.starts_at - now)}开始"
    if now < task.ends_at:
        return f"进行中，还有 {duration_text(task.ends_at - now)}结束"
    return "已结束"


def checkin_opens_at(task):
    return task.starts_at - timedelta(minutes=settings.VOLUNTEER_CHECKIN_EARLY_MINUTES)


def checkout_closes_at(task):
    return task.ends_at + timedelta(hours=2)


def local(value):
    return timezone.localtime(value) if value else None


# --- report photos -------------------------------------------------------------------------------


@login_required
@require_safe
def photo(request, pk):
    """A report photo: its volunteer, or staff who can see the task. Others get 404 alike."""
    item = ReportPhoto.objects.select_related("signup", "signup__task").filter(pk=pk).first()
    if item is None:
        raise Http404
    user = request.user
    signup = item.signup
    allowed = signup.user_id == user.pk or (
        (user.is_staff_role or user.is_superuser)
        and services.tasks_for(user).filter(pk=signup.task_id).exists()
    )
    if not allowed:
        raise Http404
    response = FileResponse(item.image.open("rb"), content_type=item.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


def signup_text(signup, position: int | None = None) -> str:
    """One line on where a sign-up stands, in the words a volunteer would use."""
    if signup is None:
        return ""
    if signup.status == SignupStatus.WAITING:
        return f"候补第 {position} 位" if position else "候补中"
    if signup.status == SignupStatus.CANCELLED:
        return "已取消报名"
    if signup.status == SignupStatus.VOIDED:
        return "任务已取消"
    if signup.review == "confirmed":
        return f"已确认 · {signup.hours} 小时 · 积分 +{signup.points_awarded}"
    if signup.review == "rejected":
        return f"未获确认：{signup.review_reason}"
    if signup.reported_at:
        return "已反馈，等待民警确认"
    if signup.checked_out_at:
        return "已签退，请提交任务反馈"
    if signup.checked_in_at:
        return "已签到"
    return "已报名（已占名额）"


# --- membership decisions, shared by the leader's page and the console's team page ---------------


def _membership_id(post) -> int:
    raw = (post.get("membership") or "").strip()
    if not (raw.isascii() and raw.isdigit()):
        raise ServiceError("bad_membership", "请选择要处理的队员")
    return int(raw)


def run_member_action(user, action: str, post) -> str | None:
    """approve / reject / remove a membership; None when `action` is not one of them."""
    if action == "approve":
        m = services.decide_membership(user, _membership_id(post), approve=True)
        return f"已同意 {_member_name(m)} 入队"
    if action == "reject":
        note = (post.get("note") or "").strip()[:200]
        m = services.decide_membership(user, _membership_id(post), approve=False, note=note)
        return f"已拒绝 {_member_name(m)} 的入队申请"
    if action == "remove":
        reason = (post.get("reason") or "").strip()[:200]
        m = services.remove_member(user, _membership_id(post), reason=reason)
        return f"已将 {_member_name(m)} 移出队伍"
    return None


def _member_name(membership) -> str:
    profile = getattr(membership.user, "volunteer_profile", None)
    return profile.real_name if profile else membership.user.label


def person(user) -> dict:
    """A volunteer as staff and leaders see them in lists: real name, phone masked."""
    profile = getattr(user, "volunteer_profile", None)
    return {
        "name": profile.real_name if profile else user.label,
        "phone": mask_phone(profile.phone if profile else user.phone),
        "profile": profile,
        "skills": "、".join(SKILLS.get(k, k) for k in (profile.skills if profile else [])),
    }


WEEKDAYS = "一二三四五六日"


def when_text(task) -> str:
    """11月23日（周一）19:30 至 22:30, or with both dates when the task runs past midnight."""
    start, end = timezone.localtime(task.starts_at), timezone.localtime(task.ends_at)
    day = f"{start.month}月{start.day}日（周{WEEKDAYS[start.weekday()]}）"
    if end.date() == start.date():
        return f"{day}{start:%H:%M} 至 {end:%H:%M}"
    return f"{day}{start:%H:%M} 至 {end.month}月{end.day}日 {end:%H:%M}"
