"""Who hears an incident's timeline, and what they hear: the incidents domain's side of live push.

Each timeline row (`IncidentEvent`) is announced by the service that wrote it (`_event` in
services/timeline.py) and delivered after commit by the fan-out (pingan/live/fanout.py), which
calls `deliveries` with a batch of ids. Groups: `org.<id>` for every org unit above the incident
(each board listens on its own scope root), `user.<id>` for the reporter and for the people of
every unit ever offered the incident, unless their scope already covers it — so each listener
hears each event once. The id is the sequence number a reconnecting page catches up from.
"""

from collections import defaultdict

from pingan.accounts.models import User
from pingan.core.timefmt import iso
from pingan.live import registry
from pingan.live.groups import ALL_GROUP, org_group, user_group
from pingan.orgs.services import scope_org

from .access import incidents_for
from .models import Assignment, EventKind, Incident, IncidentEvent
from .snapshot import incident_snapshot

SOURCE = "incidents"
INCIDENT_RELATIONS = ("category", "grid", "org", "duplicate_of")
EVENT_RELATIONS = ("incident", *(f"incident__{name}" for name in INCIDENT_RELATIONS))


def event_message(event: IncidentEvent, assignments=None) -> dict:
    snapshot = incident_snapshot(event.incident, assignments)
    return _message(event.pk, event.kind, event.message, event.at, snapshot)


def _message(event_id, kind, message, at, snapshot) -> dict:
    """The one shape of a pushed timeline row (live and on catch-up)."""
    return {
        "type": "push.event",
        "id": event_id,
        "kind": kind,
        "kind_label": EventKind(kind).label,
        "message": message,
        "at": iso(at),
        "incident": snapshot,
    }


def _unit_people(incident_ids) -> dict[int, set[int]]:
    """incident id → the users of every unit ever offered it (a unit's own account and its
    members), in two queries for the whole batch."""
    people: dict[int, set[int]] = defaultdict(set)
    offered = Assignment.objects.filter(incident_id__in=incident_ids)
    for incident_id, user_id in offered.values_list("incident_id", "unit__user_id"):
        if user_id:
            people[incident_id].add(user_id)
    members = offered.filter(unit__members__isnull=False)
    for incident_id, user_id in members.values_list("incident_id", "unit__members"):
        people[incident_id].add(user_id)
    return people


def _scope_roots(user_ids) -> dict[int, int | None]:
    """user id → the id of their scope root (None: no scope; superusers are left out, they
    hear everything through ALL_GROUP)."""
    roots = {}
    for user in User.objects.filter(pk__in=user_ids).select_related("org", "org__parent"):
        if user.is_superuser:
            continue
        root = scope_org(user)
        roots[user.pk] = root.pk if root is not None else None
    return roots


def deliveries(event_ids: list[int]) -> list[registry.Delivery]:
    """The deliveries of a batch of timeline rows: a fixed handful of queries whatever the
    batch's size, one snapshot per incident however many of its rows the batch holds."""
    events = list(
        IncidentEvent.objects.filter(pk__in=event_ids)
        .order_by("pk")
        .values_list("pk", "incident_id", "kind", "message", "at")
    )
    if not events:
        return []
    incidents = {
        i.pk: i
        for i in Incident.objects.filter(pk__in={e[1] for e in events}).select_related(
            *INCIDENT_RELATIONS
        )
    }
    assignments = defaultdict(list)
    for assignment in (
        Assignment.objects.filter(incident_id__in=incidents)
        .select_related("unit")
        .order_by("offered_at", "pk")
    ):
        assignments[assignment.incident_id].append(assignment)
    people = _unit_people(list(incidents))
    candidates = set().union(*people.values()) if people else set()
    candidates.update(i.reporter_id for i in incidents.values() if i.reporter_id)
    roots = _scope_roots(candidates)
    audience, snapshots = {}, {}
    for incident_id, incident in incidents.items():
        snapshots[incident_id] = incident_snapshot(incident, assignments.get(incident_id, []))
        ancestors = set(incident.org.ancestor_ids()) if incident.org_id else set()
        listeners = set(people.get(incident_id, ()))
        if incident.reporter_id:
            listeners.add(incident.reporter_id)
        targets = [ALL_GROUP, *(org_group(i) for i in sorted(ancestors))]
        for user_id in sorted(listeners):
            if user_id not in roots:
                continue  # a superuser, or an account that no longer exists
            if roots[user_id] is not None and roots[user_id] in ancestors:
                continue  # hears it through their org group
            targets.append(user_group(user_id))
        audience[incident_id] = tuple(targets)
    return [
        registry.Delivery(
            audience[incident_id], _message(pk, kind, message, at, snapshots[incident_id])
        )
        for pk, incident_id, kind, message, at in events
        if incident_id in incidents
    ]


def catch_up(user, since: int, limit: int) -> list[dict]:
    visible = incidents_for(user)
    events = (
        IncidentEvent.objects.filter(pk__gt=since, incident__in=visible.values("pk"))
        .select_related(*EVENT_RELATIONS)
        .order_by("pk")[:limit]
    )
    return [event_message(e) for e in events]


def listener_groups(user) -> list[str]:
    if user.is_superuser:
        return [ALL_GROUP]
    if user.is_staff_role:
        root = scope_org(user)
        if root is not None:
            return [org_group(root.pk)]
    return []


def register() -> None:
    registry.register_source(
        registry.Source(
            SOURCE,
            IncidentEvent._meta.db_table,
            deliveries,
            resync_key="since",
            catch_up=catch_up,
        )
    )
    registry.register_groups(listener_groups)
