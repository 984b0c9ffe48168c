"""Every volunteer state change, each in one transaction; pushes and texts after commit.

Profiles, teams and memberships (join by invite, approval, leaving, removal), tasks (posting,
cancelling), the sign-up rush with its waiting list, check-in and check-out, reports, and the
officer's confirmation that credits points through the ledger.

Lock order, kept everywhere so two transactions never wait on each other in a circle:
task row → sign-up row → point account. Membership changes lock only the membership row.
"""

import hashlib
import secrets
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Sum
from django.utils import timezone

from pingan.accounts.models import Role, User
from pingan.core import clock, qr, refcache
from pingan.core.errors import Conflict, Forbidden, NotFound, ServiceError
from pingan.core.sequences import next_code
from pingan.core.uploads import PhotoUpload, check_photos
from pingan.geo.distance import haversine_m
from pingan.notify.services import queue_message
from pingan.orgs.models import Grid, OrgUnit
from pingan.points import ledger
from pingan.points.models import RuleCode

from . import push
from .access import (
    LIVE_MEMBERSHIP,
    can_manage_task,
    can_manage_team,
    get_task_for,
    get_team_for,
    in_scope,
    is_manager,
    is_resident,
    is_staff_viewer,
    open_tasks_for,
    scope_path,
    signups_for,
    tasks_for,
    teams_for,
)
from .models import (
    LIVE_SIGNUP,
    CheckMethod,
    Membership,
    MembershipStatus,
    ReportPhoto,
    Review,
    Signup,
    SignupStatus,
    Task,
    TaskStatus,
    Team,
    VolunteerProfile,
)
from .validation import (
    MAX_AUDIENCE,
    clean_availability,
    clean_kind,
    clean_location,
    clean_mobile,
    clean_radius,
    clean_real_name,
    clean_route,
    clean_skills,
    clean_slots,
    clean_text,
    clean_window,
)

__all__ = [
    # profile
    "save_profile",
    "profile_of",
    # teams
    "create_team",
    "update_team",
    "reset_invite",
    "invite_url",
    "team_qr_svg",
    "team_for_invite",
    "join_team",
    "decide_membership",
    "remove_member",
    "leave_team",
    "teams_for",
    "get_team_for",
    "can_manage_team",
    "memberships_to_decide",
    # tasks
    "post_task",
    "cancel_task",
    "tasks_for",
    "get_task_for",
    "open_tasks_for",
    "can_manage_task",
    "task_qr_svg",
    "task_scan_url",
    # sign-ups
    "sign_up",
    "waiting_position",
    "cancel_signup",
    "signup_of",
    "signups_for",
    "check_in",
    "check_out",
    "submit_report",
    "confirm_work",
    "reject_work",
    "history_for",
]

UPDATABLE_TEAM_FIELDS = {
    "name",
    "description",
    "requires_approval",
    "leader",
    "grid_codes",
    "active",
}


# --- small helpers ------------------------------------------------------------------------------


def _text_to(phone: str, text: str, topic: str) -> None:
    if phone:
        queue_message(phone, f"【平安】{text}", topic=topic)


def _phone_of(user: User) -> str:
    profile = VolunteerProfile.objects.filter(user=user).values_list("phone", flat=True).first()
    return profile or user.phone or ""


def _become_volunteer(user: User) -> None:
    """An active team member is a volunteer (义警); a citizen's role changes once."""
    if user.role == Role.CITIZEN and not user.is_superuser:
        User.objects.filter(pk=user.pk, role=Role.CITIZEN).update(role=Role.VOLUNTEER)
        refcache.bump("accounts")  # update() sends no signal: drop cached bearer-token users
        user.role = Role.VOLUNTEER


def _require_resident(user: User, message: str) -> None:
    if not user.is_authenticated:
        raise Forbidden("请先登录")
    if not is_resident(user):
        raise Forbidden(message)


def _require_manager(user: User, message: str) -> None:
    if not is_manager(user) or scope_path(user) is None:
        raise Forbidden(message)


def _org_in_scope(actor: User, org) -> OrgUnit:
    if isinstance(org, str):
        found = OrgUnit.objects.filter(code=org).first()
    elif isinstance(org, OrgUnit):
        found = org
    else:
        found = None
    if found is None or not in_scope(actor, found.path):
        raise ServiceError("bad_org", "所属单位不存在或不在您的辖区内", details={"field": "org"})
    return found


def _grids_in_scope(actor: User, codes, *, field: str = "grids") -> list[Grid]:
    codes = _codes(codes, field=field, label="网格")
    if not codes:
        return []
    prefix = scope_path(actor)
    grids = Grid.objects.filter(code__in=codes, org__path__startswith=prefix or "/")
    found = {g.code: g for g in grids.select_related("org")} if prefix else {}
    missing = [c for c in codes if c not in found]
    if missing:
        raise ServiceError(
            "bad_grid",
            f"网格不存在或不在您的辖区内：{'、'.join(missing[:5])}",
            details={"field": field, "codes": missing[:20]},
        )
    return [found[c] for c in codes]


def _record_id(value) -> int | None:
    """A row id from a path or a form (int or digits); None for anything else, answered 404."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**63:
        return None
    return value


def _codes(values, *, field: str, label: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str) or not hasattr(values, "__iter__"):
        raise ServiceError("invalid_input", f"{label}必须是编码列表", details={"field": field})
    codes: list[str] = []
    for value in values:
        if not isinstance(value, str) or not value.strip() or len(value) > 32:
            raise ServiceError("invalid_input", f"{label}编码无效", details={"field": field})
        if value.strip() not in codes:
            codes.append(value.strip())
    if len(codes) > MAX_AUDIENCE:
        raise ServiceError(
            "invalid_input", f"{label}最多 {MAX_AUDIENCE} 个", details={"field": field}
        )
    return codes


# --- profile ------------------------------------------------------------------------------------


def profile_of(user: User) -> VolunteerProfile | None:
    if not user.is_authenticated:
        return None
    return VolunteerProfile.objects.select_related("home_grid").filter(user=user).first()


@transaction.atomic
def save_profile(
    user: User,
    *,
    real_name,
    phone,
    skills=(),
    availability=(),
    home_grid_code=None,
    now=None,
) -> VolunteerProfile:
    """Create or update the caller's volunteer profile (residents only)."""
    _require_resident(user, "只有群众和义警可以填写志愿者档案")
    now = now or clock.now()
    real_name = clean_real_name(real_name)
    phone = clean_mobile(phone)
    skills = clean_skills(skills)
    availability = clean_availability(availability)
    home_grid = None
    if home_grid_code not in (None, ""):
        if not isinstance(home_grid_code, str) or len(home_grid_code) > 32:
            raise ServiceError("bad_grid", "居住网格无效", details={"field": "home_grid"})
        home_grid = Grid.objects.filter(code=home_grid_code.strip()).first()
        if home_grid is None:
            raise ServiceError(
                "bad_grid", f"居住网格不存在：{home_grid_code}", details={"field": "home_grid"}
            )
    fields = {
        "real_name": real_name,
        "phone": phone,
        "skills": skills,
        "availability": availability,
        "home_grid": home_grid,
        "updated_at": now,
    }
    profile, created = VolunteerProfile.objects.select_for_update().get_or_create(
        user=user, defaults={**fields, "created_at": now}
    )
    if not created:
        for name, value in fields.items():
            setattr(profile, name, value)
        profile.save(update_fields=list(fields))
    return profile


# --- teams --------------------------------------------------------------------------------------


def invite_url(team: Team) -> str:
    return f"/volunteer/join/{team.invite_token}/"


def team_qr_svg(team: Team, request=None) -> str:
    return qr.svg(qr.absolute_url(invite_url(team), request))


def _clean_leader(actor: User, leader, org: OrgUnit) -> User | None:
    if leader is None:
        return None
    if not isinstance(leader, User) or not leader.is_active:
        raise ServiceError("bad_leader", "队长账号不存在或已停用", details={"field": "leader"})
    if is_resident(leader):
        if not VolunteerProfile.objects.filter(user=leader).exists():
            raise ServiceError(
                "leader_profile_required",
                f"{leader.label} 还没有填写志愿者档案，不能担任队长",
                details={"field": "leader"},
            )
        return leader
    if is_staff_viewer(leader) and in_scope(leader, org.path):
        return leader
    raise ServiceError(
        "bad_leader", "队长须为本队辖区的群众、义警或民警", details={"field": "leader"}
    )


def _enlist_leader(team: Team, leader: User | None, actor: User, now) -> None:
    """A resident leader is an active member of the team they lead."""
    if leader is None or not is_resident(leader):
        return
    live = Membership.objects.filter(team=team, user=leader, status__in=LIVE_MEMBERSHIP).first()
    if live is None:
        Membership.objects.create(
            team=team,
            user=leader,
            status=MembershipStatus.ACTIVE,
            applied_at=now,
            joined_at=now,
            decided_by=actor,
            note="任命为队长",
        )
    elif live.status == MembershipStatus.PENDING:
        live.status, live.joined_at, live.decided_by = MembershipStatus.ACTIVE, now, actor
        live.save(update_fields=["status", "joined_at", "decided_by"])
    _become_volunteer(leader)


@transaction.atomic
def create_team(
    actor: User,
    *,
    name,
    org,
    description="",
    requires_approval=True,
    leader=None,
    grid_codes=(),
    now=None,
) -> Team:
    _require_manager(actor, "只有民警和指挥员可以建立志愿者队伍")
    now = now or clock.now()
    name = clean_text(name, field="name", label="队伍名称", max_len=64)
    description = clean_text(
        description, field="description", label="简介", max_len=500, required=False
    )
    org = _org_in_scope(actor, org)
    grids = _grids_in_scope(actor, grid_codes)
    leader = _clean_leader(actor, leader, org)
    if Team.objects.filter(org=org, name=name, active=True).exists():
        raise Conflict("team_exists", f"{org.name}已有名为“{name}”的队伍")
    team = Team.objects.create(
        code=next_code("YJ", now),
        name=name,
        org=org,
        org_path=org.path,
        description=description,
        leader=leader,
        requires_approval=bool(requires_approval),
        invite_token=secrets.token_urlsafe(16),
        active=True,
        created_at=now,
        created_by=actor,
    )
    if grids:
        team.grids.set(grids)
    _enlist_leader(team, leader, actor, now)
    return team


def _team_arg(actor: User, team) -> Team:
    code = team.code if isinstance(team, Team) else team
    return get_team_for(actor, code)


@transaction.atomic
def update_team(actor: User, team, **fields) -> Team:
    """Staff in scope change a team's name, description, approval rule, leader, grids or
    whether it is active (an inactive team's invite stops working)."""
    now = fields.pop("now", None) or clock.now()
    unknown = set(fields) - UPDATABLE_TEAM_FIELDS
    if unknown:
        raise ServiceError("bad_field", f"不能修改：{'、'.join(sorted(unknown))}")
    team = _team_arg(actor, team)
    if not (is_manager(actor) and in_scope(actor, team.org_path)):
        raise Forbidden("只有辖区民警和指挥员可以修改队伍")
    team = Team.objects.select_for_update().get(pk=team.pk)
    changed = []
    if "name" in fields:
        team.name = clean_text(fields["name"], field="name", label="队伍名称", max_len=64)
        clash = Team.objects.filter(org_id=team.org_id, name=team.name, active=True)
        if clash.exclude(pk=team.pk).exists():
            raise Conflict("team_exists", f"已有名为“{team.name}”的队伍")
        changed.append("name")
    if "description" in fields:
        team.description = clean_text(
            fields["description"], field="description", label="简介", max_len=500, required=False
        )
        changed.append("description")
    if "requires_approval" in fields:
        team.requires_approval = bool(fields["requires_approval"])
        changed.append("requires_approval")
    if "active" in fields:
        team.active = bool(fields["active"])
        changed.append("active")
    if "leader" in fields:
        team.leader = _clean_leader(actor, fields["leader"], team.org)
        changed.append("leader")
        _enlist_leader(team, team.leader, actor, now)
    if changed:
        team.save(update_fields=changed)
    if "grid_codes" in fields:
        team.grids.set(_grids_in_scope(actor, fields["grid_codes"]))
    return team


@transaction.atomic
def reset_invite(actor: User, team) -> Team:
    """A new invite token: every printed QR code and shared link of the team stops working."""
    team = _team_arg(actor, team)
    if not can_manage_team(actor, team):
        raise Forbidden("只有队长或辖区民警可以重置邀请码")
    team.invite_token = secrets.token_urlsafe(16)
    Team.objects.filter(pk=team.pk).update(invite_token=team.invite_token)
    return team


def team_for_invite(token) -> Team:
    team = None
    if isinstance(token, str) and 0 < len(token) <= 32:
        team = (
            Team.objects.select_related("org", "leader")
            .filter(invite_token=token, active=True)
            .first()
        )
    if team is None:
        raise NotFound("邀请链接无效或已失效，请向队长索取新的二维码")
    return team


def join_team(user: User, token, now=None) -> Membership:
    now = now or clock.now()
    team = team_for_invite(token)
    _require_resident(user, "工作人员和店员不能加入志愿者队伍")
    try:
        with transaction.atomic():
            return _join(user, team, now)
    except IntegrityError as exc:
        # Two joins of the same person at once: the partial unique index let one through.
        raise Conflict("already_member", f"您已申请或已加入“{team.name}”") from exc


def _join(user: User, team: Team, now) -> Membership:
    profile = VolunteerProfile.objects.filter(user=user).first()
    if profile is None:
        raise Conflict("profile_required", "请先填写志愿者档案（真实姓名和手机号）")
    if Membership.objects.filter(team=team, user=user, status__in=LIVE_MEMBERSHIP).exists():
        raise Conflict("already_member", f"您已申请或已加入“{team.name}”")
    pending = team.requires_approval and team.leader_id != user.pk
    membership = Membership.objects.create(
        team=team,
        user=user,
        status=MembershipStatus.PENDING if pending else MembershipStatus.ACTIVE,
        applied_at=now,
        joined_at=None if pending else now,
    )
    if pending:
        if team.leader_id:
            text = f"{profile.real_name} 申请加入“{team.name}”，请审核。"
            push.to_users(
                [team.leader_id],
                "membership_applied",
                text,
                team=team.code,
                membership=membership.pk,
            )
            _text_to(_phone_of(team.leader), text, f"team:{team.code}")
    else:
        _become_volunteer(user)
    return membership


def _lock_membership(actor: User, membership_id) -> Membership:
    membership_id = _record_id(membership_id)
    if membership_id is None:
        raise NotFound("未找到该申请，或您无权处理")
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("team", "user")
        .filter(pk=membership_id)
        .first()
    )
    if membership is None or not can_manage_team(actor, membership.team):
        raise NotFound("未找到该申请，或您无权处理")
    return membership


@transaction.atomic
def decide_membership(
    actor: User, membership_id, *, approve: bool, note="", now=None
) -> Membership:
    """The leader (or staff in scope) approves or rejects a pending application."""
    now = now or clock.now()
    note = clean_text(note, field="note", label="说明", max_len=200, required=False)
    membership = _lock_membership(actor, membership_id)
    if membership.status != MembershipStatus.PENDING:
        raise Conflict("already_decided", f"该申请已处理（{membership.get_status_display()}）")
    team = membership.team
    membership.decided_by = actor
    membership.note = note
    if approve:
        membership.status = MembershipStatus.ACTIVE
        membership.joined_at = now
        _become_volunteer(membership.user)
        text = f"您已加入“{team.name}”，欢迎成为义警！"
    else:
        membership.status = MembershipStatus.REJECTED
        membership.ended_at = now
        text = f"您加入“{team.name}”的申请未通过" + (f"：{note}" if note else "。")
    membership.save(update_fields=["status", "joined_at", "ended_at", "decided_by", "note"])
    event = "membership_approved" if approve else "membership_rejected"
    push.to_users([membership.user_id], event, text, team=team.code)
    _text_to(_phone_of(membership.user), text, f"team:{team.code}")
    return membership


@transaction.atomic
def remove_member(actor: User, membership_id, *, reason, now=None) -> Membership:
    now = now or clock.now()
    reason = clean_text(reason, field="reason", label="移出原因", max_len=200)
    membership = _lock_membership(actor, membership_id)
    if membership.status != MembershipStatus.ACTIVE:
        raise Conflict("not_member", "该队员已不在队中")
    team = membership.team
    if team.leader_id == membership.user_id:
        raise Conflict("is_leader", "不能移出队长；请先更换队长")
    membership.status = MembershipStatus.REMOVED
    membership.ended_at = now
    membership.decided_by = actor
    membership.note = reason
    membership.save(update_fields=["status", "ended_at", "decided_by", "note"])
    text = f"您已被移出“{team.name}”：{reason}"
    push.to_users([membership.user_id], "membership_removed", text, team=team.code)
    _text_to(_phone_of(membership.user), text, f"team:{team.code}")
    return membership


@transaction.atomic
def leave_team(user: User, team_code, now=None) -> Membership:
    """Leave a team (or withdraw a pending application). A leader who leaves stops leading."""
    now = now or clock.now()
    if not user.is_authenticated or not isinstance(team_code, str):
        raise NotFound("您不在该队伍中")
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("team")
        .filter(user=user, team__code=team_code, status__in=LIVE_MEMBERSHIP)
        .first()
    )
    if membership is None:
        raise NotFound("您不在该队伍中")
    membership.status = MembershipStatus.LEFT
    membership.ended_at = now
    membership.save(update_fields=["status", "ended_at"])
    if membership.team.leader_id == user.pk:
        Team.objects.filter(pk=membership.team_id).update(leader=None)
    return membership


def memberships_to_decide(user: User):
    """Pending applications the user may approve: the teams they lead or manage."""
    teams = [t.pk for t in teams_for(user) if can_manage_team(user, t)]
    return (
        Membership.objects.filter(team_id__in=teams, status=MembershipStatus.PENDING)
        .select_related("team", "user", "user__volunteer_profile")
        .order_by("applied_at", "pk")
    )


# --- tasks --------------------------------------------------------------------------------------


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


# --- the sign-up rush ---------------------------------------------------------------------------


# The checks before any lock, in one hand-written statement: the ORM version (four nested
# subqueries) cost ~4 ms of Python CPU per sign-up to build and compile, a third of the
# request's server CPU in the rush benchmark (docs/benchmarks.md).
_OFFER_FACTS_SQL = """
    SELECT t.id,
        (SELECT m.team_id FROM volunteers_membership m
            JOIN volunteers_task_teams tt ON tt.team_id = m.team_id AND tt.task_id = t.id
            WHERE m.user_id = %(user)s AND m.status = 'active'
            ORDER BY m.team_id LIMIT 1),
        EXISTS (SELECT 1 FROM volunteers_task_grids tg
            JOIN volunteers_volunteerprofile p ON p.home_grid_id = tg.grid_id
            WHERE tg.task_id = t.id AND p.user_id = %(user)s),
        EXISTS (SELECT 1 FROM volunteers_volunteerprofile p WHERE p.user_id = %(user)s),
        EXISTS (SELECT 1 FROM volunteers_signup s
            WHERE s.task_id = t.id AND s.user_id = %(user)s
            AND s.status IN ('accepted', 'waiting'))
    FROM volunteers_task t WHERE t.code = %(code)s
"""

# PostgreSQL: lock, decide, insert and count in ONE autocommit statement, so no Python runs
# (and no thread waits for the GIL) while the task row is locked. With the ORM transaction
# (SELECT … FOR UPDATE, INSERT, UPDATE, COMMIT: four round trips under the lock) the lock was
# held ~25 ms per sign-up under load and the rush queued on it (Lock:tuple).
_SIGN_UP_SQL = """
    WITH t AS (
        SELECT id, taken < slots AS free FROM volunteers_task
        WHERE id = %(task)s AND status = 'published' AND ends_at > %(now)s
        FOR UPDATE
    ), ins AS (
        INSERT INTO volunteers_signup (task_id, user_id, team_id, status, created_at,
            accepted_at, promoted, checkin_method, checkout_method, report_text, review,
            review_reason, hours, points_awarded)
        SELECT t.id, %(user)s, %(team)s,
            CASE WHEN t.free THEN 'accepted' ELSE 'waiting' END, %(now)s,
            CASE WHEN t.free THEN %(now)s::timestamptz END, false, '', '', '', '', '', 0, 0
        FROM t
        RETURNING id, status
    ), upd AS (
        UPDATE volunteers_task SET taken = taken + 1
        WHERE id = %(task)s AND EXISTS (SELECT 1 FROM ins WHERE status = 'accepted')
    )
    SELECT id, status FROM ins
"""


def _offer_facts(user: User, code: str):
    """One query, before any lock: the task's id and whether it is offered to the user (their
    first offered team), whether they have a profile and a live sign-up already."""
    with connection.cursor() as cursor:
        cursor.execute(_OFFER_FACTS_SQL, {"user": user.pk, "code": code})
        row = cursor.fetchone()
    if row is None:
        return None
    keys = ("pk", "offered_team", "in_grid", "has_profile", "live")
    return dict(zip(keys, row, strict=True))


def _claim_in_one_statement(user: User, facts: dict, now) -> Signup:
    params = {"task": facts["pk"], "user": user.pk, "team": facts["offered_team"], "now": now}
    with connection.cursor() as cursor:
        cursor.execute(_SIGN_UP_SQL, params)
        row = cursor.fetchone()
    if row is None:
        raise Conflict("task_closed", "任务已结束或已取消，不能报名")
    accepted = row[1] == SignupStatus.ACCEPTED
    return Signup(
        pk=row[0],
        task_id=facts["pk"],
        user=user,
        team_id=facts["offered_team"],
        status=row[1],
        created_at=now,
        accepted_at=now if accepted else None,
    )


def _claim_with_orm(user: User, facts: dict, now) -> Signup:
    with transaction.atomic():
        task = (
            Task.objects.select_for_update()
            .only("pk", "status", "slots", "taken", "ends_at")
            .get(pk=facts["pk"])
        )
        if task.status != TaskStatus.PUBLISHED or task.ends_at <= now:
            raise Conflict("task_closed", "任务已结束或已取消，不能报名")
        accepted = task.taken < task.slots
        signup = Signup.objects.create(
            task_id=task.pk,
            user=user,
            team_id=facts["offered_team"],
            status=SignupStatus.ACCEPTED if accepted else SignupStatus.WAITING,
            created_at=now,
            accepted_at=now if accepted else None,
        )
        if accepted:
            Task.objects.filter(pk=task.pk).update(taken=F("taken") + 1)
    return signup


def sign_up(user: User, code, now=None) -> Signup:
    """First come, first served. The task row is locked only for the decision and two writes:
    accepted while `taken < slots`, else waiting (the waiting list is id order, which is the
    order the lock was granted)."""
    now = now or clock.now()
    if not user.is_authenticated or not isinstance(code, str) or not is_resident(user):
        raise NotFound("未找到该任务，或您无权查看")
    facts = _offer_facts(user, code)
    if facts is None or not (facts["offered_team"] or facts["in_grid"]):
        raise NotFound("未找到该任务，或您无权查看")
    if not facts["has_profile"]:
        raise Conflict("profile_required", "请先填写志愿者档案（真实姓名和手机号）")
    if facts["live"]:
        raise Conflict("already_signed_up", "您已报名该任务")
    # Inside a caller's transaction the statement would not commit on its own: keep the ORM
    # path there (and on SQLite, whose IMMEDIATE transactions serialise writers anyway).
    one_statement = connection.vendor == "postgresql" and not connection.in_atomic_block
    try:
        if one_statement:
            return _claim_in_one_statement(user, facts, now)
        return _claim_with_orm(user, facts, now)
    except IntegrityError as exc:
        # The same person pressing twice at once: the partial unique index stops the second.
        raise Conflict("already_signed_up", "您已报名该任务") from exc


def waiting_position(signup: Signup) -> int | None:
    """1 for the first in line; None unless the sign-up is waiting."""
    if signup.status != SignupStatus.WAITING:
        return None
    return Signup.objects.filter(
        task_id=signup.task_id, status=SignupStatus.WAITING, pk__lte=signup.pk
    ).count()


def signup_of(user: User, task: Task) -> Signup | None:
    """The user's live sign-up for a task, else their latest one (for the task page)."""
    if not user.is_authenticated:
        return None
    rows = Signup.objects.filter(task=task, user=user)
    return rows.filter(status__in=LIVE_SIGNUP).first() or rows.order_by("-pk").first()


@transaction.atomic
def cancel_signup(user: User, code, now=None) -> Signup:
    """Give up a place (or leave the waiting list). A freed slot goes to the first in line,
    who is promoted in this same transaction and told."""
    now = now or clock.now()
    task = get_task_for(user, code)
    task = _lock_task(task.code)
    signup = (
        Signup.objects.select_for_update(of=("self",))
        .filter(task=task, user=user, status__in=LIVE_SIGNUP)
        .first()
    )
    if signup is None:
        raise NotFound("您没有报名该任务")
    if signup.checked_in_at is not None:
        raise Conflict("already_checked_in", "已签到，不能取消报名")
    if task.status != TaskStatus.PUBLISHED or task.ends_at <= now:
        raise Conflict("task_closed", "任务已结束或已取消")
    held_slot = signup.status == SignupStatus.ACCEPTED
    signup.status = SignupStatus.CANCELLED
    signup.cancelled_at = now
    signup.save(update_fields=["status", "cancelled_at"])
    if held_slot:
        _promote_first_in_line(task, now)
    return signup


def _promote_first_in_line(task: Task, now) -> Signup | None:
    """Called with the task locked and one slot just freed."""
    first = (
        Signup.objects.select_for_update(of=("self",))
        .filter(task=task, status=SignupStatus.WAITING)
        .order_by("pk")
        .first()
    )
    if first is None:
        Task.objects.filter(pk=task.pk).update(taken=F("taken") - 1)
        task.taken -= 1
        return None
    first.status = SignupStatus.ACCEPTED
    first.accepted_at = now
    first.promoted = True
    first.save(update_fields=["status", "accepted_at", "promoted"])
    local = timezone.localtime(task.starts_at)
    text = (
        f"候补成功：您已获得任务“{task.title}”的名额，"
        f"请于 {local:%m-%d %H:%M} 到 {task.meeting_address} 集合。"
    )
    push.to_users([first.user_id], "promoted", text, task=task)
    _text_to(_phone_of(first.user), text, f"task:{task.code}")
    return first


# --- on the task --------------------------------------------------------------------------------


def _lock_own_signup(user: User, code) -> Signup:
    task = get_task_for(user, code)
    signup = (
        Signup.objects.select_for_update(of=("self",))
        .select_related("task")
        .filter(task=task, user=user, status__in=LIVE_SIGNUP)
        .first()
    )
    if signup is None:
        raise NotFound("您没有报名该任务")
    if signup.status != SignupStatus.ACCEPTED:
        raise Conflict("not_accepted", "您在候补名单中，尚未获得名额")
    if signup.task.status != TaskStatus.PUBLISHED:
        raise Conflict("task_closed", f"任务已{signup.task.get_status_display()}")
    return signup


def _where(task: Task, *, lng, lat, crs, qr_token, targets) -> tuple[str, float | None, tuple]:
    """How the volunteer proved they are there: (method, distance in metres, (lng, lat))."""
    if qr_token not in (None, ""):
        if not isinstance(qr_token, str) or not secrets.compare_digest(
            qr_token.encode("utf-8", "replace"), task.qr_token.encode()
        ):
            raise ServiceError("bad_qr", "二维码无效：不是本任务的现场签到码")
        return CheckMethod.QR, None, (None, None)
    if lng in (None, "") or lat in (None, ""):
        raise ServiceError("location_required", "请允许定位，或扫描现场二维码签到")
    wgs = clean_location(lng, lat, crs)
    distance = min(haversine_m(wgs[0], wgs[1], t[0], t[1]) for t in targets)
    if distance > task.checkin_radius_m:
        raise ServiceError(
            "too_far",
            f"距集合点 {distance:.0f} 米，超出签到范围 {task.checkin_radius_m} 米",
            details={"distance_m": round(distance), "radius_m": task.checkin_radius_m},
        )
    return CheckMethod.GPS, distance, wgs


@transaction.atomic
def check_in(
    user: User, code, *, lng=None, lat=None, crs="wgs84", qr_token=None, now=None
) -> Signup:
    now = now or clock.now()
    signup = _lock_own_signup(user, code)
    task = signup.task
    if signup.checked_in_at is not None:
        raise Conflict("already_checked_in", "您已签到")
    opens = task.starts_at - timedelta(minutes=settings.VOLUNTEER_CHECKIN_EARLY_MINUTES)
    if not opens <= now < task.ends_at:
        raise Conflict(
            "outside_window",
            f"签到时间为 {timezone.localtime(opens):%m-%d %H:%M} 至 "
            f"{timezone.localtime(task.ends_at):%m-%d %H:%M}",
        )
    targets = [(task.meeting_lng, task.meeting_lat)]
    method, distance, (wlng, wlat) = _where(
        task, lng=lng, lat=lat, crs=crs, qr_token=qr_token, targets=targets
    )
    signup.checked_in_at = now
    signup.checkin_method = method
    signup.checkin_lng, signup.checkin_lat = wlng, wlat
    signup.checkin_distance_m = round(distance, 1) if distance is not None else None
    signup.save(
        update_fields=[
            "checked_in_at",
            "checkin_method",
            "checkin_lng",
            "checkin_lat",
            "checkin_distance_m",
        ]
    )
    return signup


@transaction.atomic
def check_out(
    user: User, code, *, lng=None, lat=None, crs="wgs84", qr_token=None, now=None
) -> Signup:
    """Near the meeting point or the end of the route, until VOLUNTEER_CHECKOUT_GRACE_MINUTES
    after the task ends (only the time inside the task's window counts, see service_hours)."""
    now = now or clock.now()
    signup = _lock_own_signup(user, code)
    task = signup.task
    if signup.checked_in_at is None:
        raise Conflict("not_checked_in", "请先签到")
    if signup.checked_out_at is not None:
        raise Conflict("already_checked_out", "您已签退")
    closes = task.ends_at + timedelta(minutes=settings.VOLUNTEER_CHECKOUT_GRACE_MINUTES)
    if not signup.checked_in_at <= now <= closes:
        raise Conflict(
            "outside_window", f"签退时间已过（截至 {timezone.localtime(closes):%m-%d %H:%M}）"
        )
    targets = [(task.meeting_lng, task.meeting_lat)]
    if task.route:
        targets.append(tuple(task.route[-1]))
    method, _distance, (wlng, wlat) = _where(
        task, lng=lng, lat=lat, crs=crs, qr_token=qr_token, targets=targets
    )
    signup.checked_out_at = now
    signup.checkout_method = method
    signup.checkout_lng, signup.checkout_lat = wlng, wlat
    signup.save(update_fields=["checked_out_at", "checkout_method", "checkout_lng", "checkout_lat"])
    return signup


@transaction.atomic
def submit_report(user: User, code, *, text, photos=(), now=None) -> Signup:
    """Report back after checking in; may be sent again (text replaced, photos added) until
    the officer has reviewed the work."""
    now = now or clock.now()
    signup = _lock_own_signup(user, code)
    if signup.checked_in_at is None:
        raise Conflict("not_checked_in", "签到后才能提交任务反馈")
    if signup.review:
        raise Conflict("already_reviewed", "任务已审核，不能再修改反馈")
    text = clean_text(text, field="text", label="反馈内容", max_len=2000)
    photos = list(photos or ())
    existing = signup.photos.count()
    if existing + len(photos) > settings.PHOTO_MAX_COUNT:
        raise ServiceError("too_many_photos", f"每次任务最多 {settings.PHOTO_MAX_COUNT} 张照片")
    checked = check_photos(photos)
    signup.report_text = text
    signup.reported_at = now
    signup.save(update_fields=["report_text", "reported_at"])
    for photo, content_type, ext in checked:
        _store_photo(signup, photo, content_type, ext, now)
    return signup


def _store_photo(signup: Signup, photo: PhotoUpload, content_type: str, ext: str, now) -> None:
    stored = ReportPhoto(
        signup=signup, content_type=content_type, size=len(photo.content), uploaded_at=now
    )
    digest = hashlib.sha1(photo.content).hexdigest()[:8]
    name = f"{signup.task.code}-{signup.user_id}-{digest}.{ext}"
    stored.image.save(name, ContentFile(photo.content), save=False)
    stored.save()


# --- review -------------------------------------------------------------------------------------


def _lock_signup_for_review(actor: User, signup_id) -> Signup:
    signup_id = _record_id(signup_id)
    if signup_id is None:
        raise NotFound("未找到该报名记录，或您无权查看")
    visible = signups_for(actor).filter(pk=signup_id).first()
    if visible is None:
        raise NotFound("未找到该报名记录，或您无权查看")
    if not can_manage_task(actor, visible.task):
        raise Forbidden("只有发布任务的民警或辖区指挥员可以确认任务")
    signup = (
        Signup.objects.select_for_update(of=("self",))
        .select_related("task", "task__org", "team", "user")
        .get(pk=signup_id)
    )
    if signup.review:
        raise Conflict("already_reviewed", f"该任务已审核（{signup.get_review_display()}）")
    if signup.status != SignupStatus.ACCEPTED or signup.checked_in_at is None:
        raise Conflict("not_checked_in", "志愿者未签到，不能审核")
    return signup


def service_hours(signup: Signup, now=None) -> Decimal:
    """Check-in to check-out (or the task's end), both clipped to the task window: an early
    check-in (VOLUNTEER_CHECKIN_EARLY_MINUTES) or a late check-out (the grace) earns nothing."""
    task = signup.task
    start = max(signup.checked_in_at, task.starts_at)
    end = min(signup.checked_out_at or task.ends_at, task.ends_at)
    seconds = max(0.0, (end - start).total_seconds())
    return (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _present_in_window(signup: Signup) -> bool:
    """Whether any of the time between check-in and check-out lies inside the task's window."""
    task = signup.task
    start = max(signup.checked_in_at, task.starts_at)
    end = min(signup.checked_out_at or task.ends_at, task.ends_at)
    return end > start


@transaction.atomic
def confirm_work(actor: User, signup_id, now=None) -> Signup:
    """Confirm a volunteer's work: hours are fixed and points credited in this transaction
    (idempotent in the ledger, and a reviewed sign-up cannot be reviewed again)."""
    now = now or clock.now()
    signup = _lock_signup_for_review(actor, signup_id)
    task = signup.task
    if signup.checked_out_at is None and now < task.ends_at:
        raise Conflict("not_finished", "志愿者尚未签退，任务也未结束，暂不能确认")
    hours = service_hours(signup)
    if not _present_in_window(signup):
        # Nothing to credit: e.g. checked in early and out again before the task began.
        raise Conflict(
            "outside_window",
            "志愿者的签到、签退不在任务时间内（"
            f"{timezone.localtime(task.starts_at):%m-%d %H:%M} 至 "
            f"{timezone.localtime(task.ends_at):%m-%d %H:%M}），不能确认，请选择不予确认",
        )
    source = {"source_type": "task", "source_ref": task.code}
    where = {"org": task.org, "team": signup.team, "actor": actor, "now": now}
    entries = [
        ledger.award(
            signup.user,
            RuleCode.TASK_CONFIRMED,
            f"完成任务：{task.title}",
            task_kind=task.kind,
            dedupe_key=f"task:{task.code}:{signup.user_id}:done",
            **source,
            **where,
        ),
        ledger.award(
            signup.user,
            RuleCode.PATROL_HOUR,
            f"在岗 {hours} 小时：{task.title}",
            units=float(hours),
            task_kind=task.kind,
            dedupe_key=f"task:{task.code}:{signup.user_id}:hours",
            **source,
            **where,
        ),
    ]
    points = sum(e.amount for e in entries if e is not None)
    signup.review = Review.CONFIRMED
    signup.reviewed_at = now
    signup.reviewed_by = actor
    signup.hours = hours
    signup.points_awarded = points
    signup.save(update_fields=["review", "reviewed_at", "reviewed_by", "hours", "points_awarded"])
    text = f"任务“{task.title}”已确认：服务 {hours} 小时，获得 {points} 积分。"
    push.to_users([signup.user_id], "work_confirmed", text, task=task, points=points)
    _text_to(_phone_of(signup.user), text, f"task:{task.code}")
    return signup


@transaction.atomic
def reject_work(actor: User, signup_id, *, reason, now=None) -> Signup:
    now = now or clock.now()
    reason = clean_text(reason, field="reason", label="不予确认原因", max_len=200)
    signup = _lock_signup_for_review(actor, signup_id)
    task = signup.task
    signup.review = Review.REJECTED
    signup.reviewed_at = now
    signup.reviewed_by = actor
    signup.review_reason = reason
    signup.save(update_fields=["review", "reviewed_at", "reviewed_by", "review_reason"])
    text = f"任务“{task.title}”未予确认：{reason}"
    push.to_users([signup.user_id], "work_rejected", text, task=task)
    _text_to(_phone_of(signup.user), text, f"task:{task.code}")
    return signup


# --- history ------------------------------------------------------------------------------------


def history_for(user: User) -> dict:
    """A volunteer's record: every sign-up (newest first), tasks done, hours, task points."""
    signups = (
        Signup.objects.filter(user=user)
        .select_related("task", "team")
        .order_by("-created_at", "-pk")
    )
    done = Signup.objects.filter(user=user, review=Review.CONFIRMED).aggregate(
        n=Count("pk"), hours=Sum("hours"), points=Sum("points_awarded")
    )
    return {
        "signups": signups,
        "tasks_done": done["n"],
        "hours": Decimal(done["hours"] or 0).quantize(Decimal("0.01")),
        "points_earned": int(done["points"] or 0),
    }
