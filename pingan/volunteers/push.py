"""Live pushes for volunteers, always sent after commit and never failing the caller.

Tasks go to the groups of the teams and grids they are offered to (`vteam.<id>`,
`vgrid.<id>`); news about one person's sign-up or membership goes to `user.<id>`.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from pingan.incidents.snapshot import iso
from pingan.live.publish import team_group, user_group, volunteer_grid_group

log = logging.getLogger(__name__)


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


def _send(groups: list[str], message: dict) -> None:
    layer = get_channel_layer()
    if layer is None or not groups:
        return
    try:
        async_to_sync(_send_all)(layer, groups, message)
    except Exception:  # a push failure must never fail the committed state change
        log.exception("volunteer push %s failed", message.get("event"))


async def _send_all(layer, groups, message) -> None:
    for group in groups:
        await layer.group_send(group, message)


def after_commit(groups: list[str], message: dict) -> None:
    """Queue a push for when (and only if) the surrounding transaction commits."""
    groups = list(groups)
    transaction.on_commit(lambda: _send(groups, message))


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
