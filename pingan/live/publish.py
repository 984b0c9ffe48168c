"""Fan an incident timeline event out to the channel groups that should see it.

Groups: `org.<id>` for every org unit above the incident (each board listens on its own scope
root), `user.<id>` for the reporter and for the people of every unit ever offered the incident.
One event is one message; its id is the sequence number a reconnecting page catches up from.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from pingan.accounts.models import User
from pingan.incidents.models import IncidentEvent, Unit
from pingan.incidents.snapshot import incident_snapshot, iso
from pingan.orgs.services import scope_org

log = logging.getLogger(__name__)


def org_group(org_id) -> str:
    return f"org.{org_id}"


def user_group(user_id) -> str:
    return f"user.{user_id}"


ALL_GROUP = "org.all"


def event_message(event: IncidentEvent) -> dict:
    incident = event.incident
    return {
        "type": "push.event",
        "id": event.pk,
        "kind": event.kind,
        "kind_label": event.get_kind_display(),
        "message": event.message,
        "at": iso(event.at),
        "incident": incident_snapshot(incident),
    }


def audience(event: IncidentEvent) -> tuple[set[str], set[int]]:
    """(org groups, user ids) that should hear this event, each listener exactly once.

    A staff member whose scope already covers the incident hears it through their org group,
    so they are left out of the per-user sends; superusers hear everything through ALL_GROUP.
    """
    incident = event.incident
    groups = {ALL_GROUP}
    ancestors = set(incident.org.ancestor_ids()) if incident.org_id else set()
    groups.update(org_group(i) for i in ancestors)
    user_ids = {incident.reporter_id} if incident.reporter_id else set()
    units = Unit.objects.filter(assignments__incident=incident)
    user_ids.update(u for u in units.values_list("user_id", flat=True) if u)
    user_ids.update(units.filter(members__isnull=False).values_list("members", flat=True))
    listeners = set()
    for user in User.objects.filter(pk__in=user_ids).select_related("org", "org__parent"):
        if user.is_superuser:
            continue
        root = scope_org(user)
        if root is not None and root.pk in ancestors:
            continue
        listeners.add(user.pk)
    return groups, listeners


def publish_event(event_id: int) -> None:
    event = (
        IncidentEvent.objects.select_related(
            "incident",
            "incident__category",
            "incident__grid",
            "incident__org",
            "incident__duplicate_of",
        )
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        return
    message = event_message(event)
    groups, user_ids = audience(event)
    layer = get_channel_layer()
    if layer is None:
        return
    targets = sorted(groups) + [user_group(u) for u in sorted(user_ids)]
    try:
        async_to_sync(_send_all)(layer, targets, message)
    except Exception:  # a push failure must never fail the committed state change
        log.exception("live push of event %s failed", event_id)


async def _send_all(layer, groups, message) -> None:
    # One hop into the event loop for all groups, not one per group.
    for group in groups:
        await layer.group_send(group, message)
