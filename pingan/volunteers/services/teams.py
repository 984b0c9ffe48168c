"""Teams: staff in scope create and edit them (name, approval rule, leader, grids, active),
and the invite link and QR code people join by.
"""

import secrets

from django.db import transaction

from pingan.accounts.models import User
from pingan.accounts.roles import is_manager, is_resident, is_staff_viewer
from pingan.core import clock, qr
from pingan.core.errors import Conflict, Forbidden, ServiceError
from pingan.core.sequences import next_code
from pingan.orgs.models import OrgUnit
from pingan.orgs.scoping import in_scope

from ..access import can_manage_team, get_team_for
from ..models import Team, VolunteerProfile
from ..validation import clean_text
from .guards import _grids_in_scope, _org_in_scope, _require_manager
from .memberships import _enlist_leader

UPDATABLE_TEAM_FIELDS = {
    "name",
    "description",
    "requires_approval",
    "leader",
    "grid_codes",
    "active",
}


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
