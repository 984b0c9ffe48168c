"""Who may see which team, task and sign-up: one scoped queryset per model and the checks
built on it. A record that does not exist and one the caller may not see answer alike (404).
"""

from django.db.models import Q

from pingan.accounts.models import User
from pingan.accounts.roles import MANAGER_ROLES, is_manager, is_resident, is_staff_viewer
from pingan.core.errors import NotFound
from pingan.orgs.scoping import in_scope

from .models import (
    LIVE_MEMBERSHIP,
    Membership,
    MembershipStatus,
    Signup,
    Task,
    TaskStatus,
    Team,
    VolunteerProfile,
)

# --- teams --------------------------------------------------------------------------------------


def teams_for(user: User):
    """Staff: teams of their org subtree. Residents: teams they lead or are in (pending or
    active). Clerks and the anonymous: none."""
    qs = Team.objects.select_related("org", "leader")
    if not user.is_authenticated:
        return qs.none()
    if is_staff_viewer(user):
        return qs.in_jurisdiction(user)
    live = Membership.objects.filter(user=user, status__in=LIVE_MEMBERSHIP).values("team_id")
    return qs.filter(Q(leader=user) | Q(pk__in=live))


def get_team_for(user: User, code: str) -> Team:
    team = teams_for(user).filter(code=code).first() if isinstance(code, str) else None
    if team is None:
        raise NotFound("未找到该队伍，或您无权查看")
    return team


def can_manage_team(user: User, team: Team) -> bool:
    """The team's leader, or a commander or officer whose scope covers the team's unit."""
    if not user.is_authenticated:
        return False
    if team.leader_id == user.pk:
        return True
    return is_manager(user) and in_scope(user, team.org_path)


# --- tasks --------------------------------------------------------------------------------------


def active_team_ids(user: User):
    return Membership.objects.filter(user=user, status=MembershipStatus.ACTIVE).values("team_id")


def offered_q(user: User) -> Q:
    """Tasks offered to a resident: one of their teams (active membership), or their home grid."""
    teams = Task.teams.through.objects.filter(team_id__in=active_team_ids(user)).values("task_id")
    home = VolunteerProfile.objects.filter(user=user, home_grid__isnull=False).values(
        "home_grid_id"
    )
    grids = Task.grids.through.objects.filter(grid_id__in=home).values("task_id")
    return Q(pk__in=teams) | Q(pk__in=grids)


def tasks_for(user: User):
    """Staff: tasks of their org subtree. Residents: published tasks offered to them, plus any
    task they have a sign-up for (so a cancelled task still shows in "my tasks")."""
    qs = Task.objects.select_related("org", "posted_by")
    if not user.is_authenticated:
        return qs.none()
    if is_staff_viewer(user):
        return qs.in_jurisdiction(user)
    mine = Signup.objects.filter(user=user).values("task_id")
    if not is_resident(user):
        return qs.filter(pk__in=mine)
    return qs.filter((Q(status=TaskStatus.PUBLISHED) & offered_q(user)) | Q(pk__in=mine))


def get_task_for(user: User, code: str) -> Task:
    task = tasks_for(user).filter(code=code).first() if isinstance(code, str) else None
    if task is None:
        raise NotFound("未找到该任务，或您无权查看")
    return task


def open_tasks_for(user: User, now):
    """Published tasks not yet ended that the user may take (residents) or oversees (staff)."""
    qs = Task.objects.select_related("org", "posted_by").filter(
        status=TaskStatus.PUBLISHED, ends_at__gt=now
    )
    if not user.is_authenticated:
        return qs.none()
    if is_staff_viewer(user):
        return qs.in_jurisdiction(user)
    if not is_resident(user):
        return qs.none()
    return qs.filter(offered_q(user))


def can_manage_task(user: User, task: Task) -> bool:
    """The officer who posted it, or a commander whose scope covers the task's unit."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if task.posted_by_id == user.pk and user.role in MANAGER_ROLES:
        return True
    return user.is_commander and in_scope(user, task.org_path)


def signups_for(user: User):
    """Sign-ups a user may see: their own; staff those of tasks in their scope."""
    qs = Signup.objects.select_related("task", "user", "team")
    if not user.is_authenticated:
        return qs.none()
    if is_staff_viewer(user):
        return qs.in_jurisdiction(user)
    return qs.filter(user=user)
