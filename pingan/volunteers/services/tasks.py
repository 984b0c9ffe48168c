"""Tasks: an officer or commander posts one to teams and grids of their scope, and cancels it
before anyone has checked in; the scan link and QR code for checking in on site.
"""

import secrets

from django.db import transaction

from pingan.accounts.models import User
from pingan.core import clock, qr
from pingan.core.errors import Conflict, Forbidden, ServiceError
from pingan.core.sequences import next_code
from pingan.orgs.scoping import scope_path

from .. import push
from ..access import can_manage_task, get_task_for
from ..models import LIVE_SIGNUP, Signup, SignupStatus, Task, TaskStatus, Team, VolunteerProfile
from ..validation import (
    clean_kind,
    clean_location,
    clean_radius,
    clean_route,
    clean_slots,
    clean_text,
    clean_window,
)
from .guards import _codes, _grids_in_scope, _require_manager
from .texts import _text_to


def task_scan_url(task: Task) -> str:
    return f"/volunteer/tasks/{task.code}/scan/{task.qr_token}/"


def task_qr_svg(task: Task, request=None) -> str:
    return qr.svg(qr.absolute_url(task_scan_url(task), request))


def _teams_in_scope(actor: User, codes) -> list[Team]:
    codes = _codes(codes, field="teams", label="队伍")
    if not codes:
        return []
    prefix = scope_path(actor)
    teams = Team.objects.filter(code__in=codes, org_path__startswith=prefix or "/", active=True)
    found = {t.code: t for t in teams} if prefix else {}
    missing = [c for c in codes if c not in found]
    if missing:
        raise ServiceError(
            "bad_team",
            f"队伍不存在、已停用或不在您的辖区内：{'、'.join(missing[:5])}",
            details={"field": "teams", "codes": missing[:20]},
        )
    return [found[c] for c in codes]


@transaction.atomic
def post_task(
    actor: User,
    *,
    kind,
    title,
    description="",
    starts_at,
    ends_at,
    meeting_address,
    lng,
    lat,
    crs="wgs84",
    route=(),
    checkin_radius_m=None,
    slots,
    team_codes=(),
    grid_codes=(),
    now=None,
) -> Task:
    """An officer or commander posts a task to teams and/or grids of their scope; after commit
    the volunteers of those teams and grids hear of it."""
    _require_manager(actor, "只有民警和指挥员可以发布任务")
    if actor.org_id is None:
        raise Forbidden("您的账号未归属任何单位，不能发布任务")
    now = now or clock.now()
    kind = clean_kind(kind)
    title = clean_text(title, field="title", label="标题", max_len=100)
    description = clean_text(
        description, field="description", label="任务说明", max_len=2000, required=False
    )
    window = clean_window(starts_at, ends_at, now)
    meeting_address = clean_text(
        meeting_address, field="meeting_address", label="集合地点", max_len=200
    )
    meeting_lng, meeting_lat = clean_location(lng, lat, crs, field="location")
    route = clean_route(route, crs)
    radius = clean_radius(checkin_radius_m)
    slots = clean_slots(slots)
    teams = _teams_in_scope(actor, team_codes)
    grids = _grids_in_scope(actor, grid_codes)
    if not teams and not grids:
        raise ServiceError(
            "no_audience", "请至少选择一个面向的队伍或网格", details={"field": "teams"}
        )
    task = Task.objects.create(
        code=next_code("RW", now),
        kind=kind,
        title=title,
        description=description,
        org=actor.org,
        org_path=actor.org.path,
        posted_by=actor,
        starts_at=window.starts_at,
        ends_at=window.ends_at,
        meeting_address=meeting_address,
        meeting_lng=meeting_lng,
        meeting_lat=meeting_lat,
        route=route,
        checkin_radius_m=radius,
        slots=slots,
        taken=0,
        qr_token=secrets.token_urlsafe(16),
        status=TaskStatus.PUBLISHED,
        published_at=now,
    )
    if teams:
        task.teams.set(teams)
    if grids:
        task.grids.set(grids)
    push.to_audience(task, "published", [t.pk for t in teams], [g.pk for g in grids])
    return task


def _lock_task(code: str) -> Task:
    return Task.objects.select_for_update(of=("self",)).select_related("org").get(code=code)


@transaction.atomic
def cancel_task(actor: User, code, *, reason, now=None) -> Task:
    """Cancel before anyone has checked in: live sign-ups are voided and those people told."""
    now = now or clock.now()
    task = get_task_for(actor, code)
    if not can_manage_task(actor, task):
        raise Forbidden("只有发布任务的民警或辖区指挥员可以取消任务")
    reason = clean_text(reason, field="reason", label="取消原因", max_len=200)
    task = _lock_task(task.code)
    if task.status != TaskStatus.PUBLISHED:
        raise Conflict("task_closed", f"任务已{task.get_status_display()}")
    live = Signup.objects.filter(task=task, status__in=LIVE_SIGNUP)
    if live.filter(checked_in_at__isnull=False).exists():
        raise Conflict("task_started", "已有志愿者签到，不能取消任务")
    people = list(live.values_list("user_id", flat=True))
    live.update(status=SignupStatus.VOIDED, cancelled_at=now)
    task.status = TaskStatus.CANCELLED
    task.cancelled_at = now
    task.cancel_reason = reason
    task.taken = 0
    task.save(update_fields=["status", "cancelled_at", "cancel_reason", "taken"])
    text = f"任务“{task.title}”（{task.code}）已取消：{reason}"
    push.to_users(people, "task_cancelled", text, task=task)
    phones = VolunteerProfile.objects.filter(user_id__in=people).values_list("phone", flat=True)
    for phone in sorted(set(phones)):
        _text_to(phone, text, f"task:{task.code}")
    push.to_audience(
        task,
        "cancelled",
        task.teams.values_list("pk", flat=True),
        task.grids.values_list("pk", flat=True),
    )
    return task
