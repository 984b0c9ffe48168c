"""Membership of a team: joining by invite, the leader's approval, removal, leaving; an
active member (or an appointed resident leader) becomes a volunteer (义警).

These changes lock only the membership row.
"""

from django.db import IntegrityError, transaction

from pingan.accounts.models import Role, User
from pingan.accounts.roles import is_resident
from pingan.core import clock, refcache
from pingan.core.errors import Conflict, NotFound

from .. import push
from ..access import LIVE_MEMBERSHIP, can_manage_team, teams_for
from ..models import Membership, MembershipStatus, Team, VolunteerProfile
from ..validation import clean_text
from .guards import _record_id, _require_resident
from .texts import _phone_of, _text_to


def _become_volunteer(user: User) -> None:
    """An active team member is a volunteer (义警); a citizen's role changes once."""
    if user.role == Role.CITIZEN and not user.is_superuser:
        User.objects.filter(pk=user.pk, role=Role.CITIZEN).update(role=Role.VOLUNTEER)
        refcache.bump("accounts")  # update() sends no signal: drop cached bearer-token users
        user.role = Role.VOLUNTEER


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
