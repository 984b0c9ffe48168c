"""Live pushes for volunteers, written in the caller's transaction and delivered after commit.

Tasks go to the groups of the teams and grids they are offered to (`vteam.<id>`,
`vgrid.<id>`); news about one person's sign-up or membership goes to `user.<id>`. These have no
timeline table of their own, so they travel through the `LivePush` outbox
(pingan/live/outbox.py); the audience is computed here, by the domain.
"""

from pingan.core.timefmt import iso
from pingan.live import outbox
from pingan.live.groups import team_group, user_group, volunteer_grid_group


def task_snapshot(task) -> dict:
    return {
        "code": task.code,
        "title": task.title,
        "kind": task.kind,
        "kind_label": task.get_kind_display(),
        "status": task.status,
        "status_label": task.get_status_display(),
        "starts_at": iso(task.starts_at),
        "ends_at": iso(task.ends_at),
        "meeting_address": task.meeting_address,
        "slots": task.slots,
        "taken": task.taken,
    }


def after_commit(groups: list[str], message: dict) -> None:
    """Queue a push for when (and only if) the surrounding transaction commits."""
    outbox.send(groups, message)


def task_groups(team_ids, grid_ids) -> list[str]:
    return [team_group(t) for t in sorted(set(team_ids))] + [
        volunteer_grid_group(g) for g in sorted(set(grid_ids))
    ]


def to_audience(task, event: str, team_ids, grid_ids, **extra) -> None:
    message = {"type": "push.task", "event": event, "task": task_snapshot(task), **extra}
    after_commit(task_groups(team_ids, grid_ids), message)


def to_users(user_ids, event: str, message: str, *, task=None, **extra) -> None:
    """One person's news: a promotion from the waiting list, a decision on their application."""
    body = {"type": "push.task", "event": event, "message": message, **extra}
    if task is not None:
        body["task"] = task_snapshot(task)
    after_commit([user_group(u) for u in sorted(set(user_ids))], body)


def listener_groups(user) -> list[str]:
    """A volunteer hears the tasks offered to their teams and to the grid they live in."""
    from .models import Membership, MembershipStatus, VolunteerProfile

    teams = Membership.objects.filter(user=user, status=MembershipStatus.ACTIVE)
    groups = [team_group(t) for t in teams.values_list("team_id", flat=True)]
    home = VolunteerProfile.objects.filter(user=user).values_list("home_grid_id", flat=True).first()
    if home:
        groups.append(volunteer_grid_group(home))
    return groups
