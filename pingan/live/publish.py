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


def team_group(team_id) -> str:
    """Active members of a volunteer team: hear the tasks offered to the team."""
    return f"vteam.{team_id}"


def volunteer_grid_group(grid_id) -> str:
    """Volunteers living in a grid: hear the tasks offered to the grid."""
    return f"vgrid.{grid_id}"


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


# --- disputes -----------------------------------------------------------------------------------
# Dispute details are narrower than incidents: an officer of the station does not see every
# dispute of the station, only those of their grids and their own. So disputes use their own
# org groups, joined by commanders only (the chain of command), and per-user groups for the
# owner, the filer and the grid's staff.

DISPUTE_ALL_GROUP = "disputes.all"


def dispute_org_group(org_id) -> str:
    return f"disputes.org.{org_id}"


def dispute_snapshot(dispute) -> dict:
    return {
        "code": dispute.code,
        "title": dispute.title,
        "type": dispute.type,
        "type_label": dispute.get_type_display(),
        "status": dispute.status,
        "status_label": dispute.get_status_display(),
        "risk": dispute.risk,
        "risk_label": dispute.get_risk_display(),
        "grid": dispute.grid.name if dispute.grid_id else "",
        "org": dispute.org.name if dispute.org_id else "",
    }


def dispute_message(event, *, public: bool = False) -> dict:
    dispute = event.dispute
    snapshot = dispute_snapshot(dispute)
    if public:
        # The resident who asked sees the step and the status, nothing staff-only.
        snapshot = {k: snapshot[k] for k in ("code", "title", "status", "status_label")}
    return {
        "type": "push.dispute",
        "id": event.pk,
        "kind": event.kind,
        "kind_label": event.get_kind_display(),
        "message": event.message if not public or event.public else "",
        "at": iso(event.at),
        "dispute": snapshot,
    }


def dispute_audience(event) -> tuple[set[str], set[int], set[int]]:
    """(org groups, staff user ids, resident user ids), each listener once."""
    from pingan.disputes.models import CaseOrder
    from pingan.orgs.models import Grid

    dispute = event.dispute
    ancestors = set(dispute.org.ancestor_ids())
    groups = {DISPUTE_ALL_GROUP, *(dispute_org_group(i) for i in ancestors)}
    staff = {dispute.owner_id, dispute.filed_by_id}
    grid = Grid.objects.filter(pk=dispute.grid_id)
    staff.update(grid.values_list("officer", flat=True))
    staff.update(grid.values_list("auxiliaries", flat=True))
    staff.update(grid.values_list("grid_workers", flat=True))
    staff.update(CaseOrder.objects.filter(dispute=dispute).values_list("owner", flat=True))
    staff.discard(None)
    listeners = set()
    for user in User.objects.filter(pk__in=staff).select_related("org"):
        if user.is_superuser:
            continue
        if user.is_commander and user.org_id and user.org_id in ancestors:
            continue  # hears it through the org group
        listeners.add(user.pk)
    residents = set()
    if event.public and dispute.requester_id and dispute.requester_id not in listeners:
        residents.add(dispute.requester_id)
    return groups, listeners, residents


def publish_dispute_event(event_id: int) -> None:
    from pingan.disputes.models import DisputeEvent

    event = (
        DisputeEvent.objects.select_related("dispute", "dispute__grid", "dispute__org")
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        return
    layer = get_channel_layer()
    if layer is None:
        return
    groups, staff, residents = dispute_audience(event)
    sends = [(g, dispute_message(event)) for g in sorted(groups)]
    sends += [(user_group(u), dispute_message(event)) for u in sorted(staff)]
    public = dispute_message(event, public=True)
    sends += [(user_group(u), public) for u in sorted(residents)]
    try:
        async_to_sync(_send_each)(layer, sends)
    except Exception:  # a push failure must never fail the committed state change
        log.exception("live push of dispute event %s failed", event_id)


async def _send_each(layer, sends) -> None:
    for group, message in sends:
        await layer.group_send(group, message)
