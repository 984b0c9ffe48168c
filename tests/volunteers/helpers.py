"""Builders for the volunteer tests (also imported by the page tests): profiles, teams with
members, tasks at a controlled time, and a checked-in volunteer.

Times: tasks start `starts_in` after `now` (default: the real clock), so a test that moves time
passes `now=` to the services explicitly.
"""

from datetime import timedelta

from pingan.accounts.models import Role
from pingan.core import clock
from pingan.volunteers import services
from pingan.volunteers.models import Membership, MembershipStatus, VolunteerProfile
from tests.conftest import GA1_CENTER, GB1_CENTER, make_user

HOUR = timedelta(hours=1)
MEETING = GA1_CENTER  # the meeting point of the default task: inside grid GA1

_phone_seq = iter(range(10_000_000))


def next_phone() -> str:
    return f"+86139{next(_phone_seq):08d}"


def make_profile(user, *, real_name=None, phone=None, home_grid_code=None, **extra):
    """A volunteer profile for a citizen or volunteer (a fresh mobile number unless given)."""
    return services.save_profile(
        user,
        real_name=real_name or f"志愿者{user.pk}",
        phone=phone or next_phone(),
        home_grid_code=home_grid_code,
        **extra,
    )


def make_resident(username, *, role=Role.CITIZEN, profile=True, **profile_kw):
    user = make_user(username, role)
    if profile:
        make_profile(user, **profile_kw)
    return user


def make_team(
    world,
    *,
    name="东门义警队",
    actor=None,
    org=None,
    requires_approval=False,
    leader=None,
    members=(),
    grid_codes=(),
    now=None,
):
    """A team of station A (by officer_a unless `actor`), with `members` made active."""
    team = services.create_team(
        actor or world.officer_a,
        name=name,
        org=org or world.office_a,
        requires_approval=requires_approval,
        leader=leader,
        grid_codes=grid_codes,
        now=now,
    )
    for user in members:
        add_member(team, user, now=now)
    return team


def add_member(team, user, *, now=None):
    """An active member, whatever the team's approval rule (the profile is made if missing)."""
    if not VolunteerProfile.objects.filter(user=user).exists():
        make_profile(user)
    membership = services.join_team(user, team.invite_token, now=now)
    if membership.status == MembershipStatus.PENDING:
        membership = services.decide_membership(
            team.leader or _manager_of(team), membership.pk, approve=True, now=now
        )
    user.refresh_from_db()
    return membership


def _manager_of(team):
    return team.created_by


def make_task(
    world,
    *,
    actor=None,
    teams=(),
    grids=(),
    slots=5,
    kind="night_patrol",
    title="夜间巡逻",
    now=None,
    starts_in=2 * HOUR,
    duration=3 * HOUR,
    where=MEETING,
    route=(),
    radius=None,
    **extra,
):
    """A task posted by officer_a (unless `actor`) to `teams` (Team objects or codes) and
    `grids` (Grid objects or codes). With neither, it is offered to grid GA1."""
    now = now or clock.now()
    team_codes = [t if isinstance(t, str) else t.code for t in teams]
    grid_codes = [g if isinstance(g, str) else g.code for g in grids]
    if not team_codes and not grid_codes:
        grid_codes = [world.grid_a.code]
    return services.post_task(
        actor or world.officer_a,
        kind=kind,
        title=title,
        description=extra.pop("description", "沿东门街巡逻"),
        starts_at=now + starts_in,
        ends_at=now + starts_in + duration,
        meeting_address=extra.pop("meeting_address", "东门社区警务室门口"),
        lng=where[0],
        lat=where[1],
        route=route,
        checkin_radius_m=radius,
        slots=slots,
        team_codes=team_codes,
        grid_codes=grid_codes,
        now=now,
        **extra,
    )


def team_with_volunteers(world, n, *, prefix="v", now=None, **team_kw):
    """A team with n fresh active volunteers; returns (team, [users])."""
    users = [make_resident(f"{prefix}{i:04d}") for i in range(n)]
    team = make_team(world, members=users, now=now, **team_kw)
    return team, users


def checked_in(world, task, user, *, now=None):
    """Sign `user` up (accepted) and check them in by the task's QR code at `now`
    (default: the task's start)."""
    services.sign_up(user, task.code, now=now or task.starts_at - 2 * HOUR)
    return services.check_in(user, task.code, qr_token=task.qr_token, now=now or task.starts_at)


def is_member(team, user) -> bool:
    return Membership.objects.filter(team=team, user=user, status=MembershipStatus.ACTIVE).exists()


__all__ = [
    "HOUR",
    "MEETING",
    "GA1_CENTER",
    "GB1_CENTER",
    "next_phone",
    "make_profile",
    "make_resident",
    "make_team",
    "add_member",
    "make_task",
    "team_with_volunteers",
    "checked_in",
    "is_member",
]
