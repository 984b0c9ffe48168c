"""Who hears a dispute's timeline, and what they hear: the disputes domain's side of live push.

Dispute details are narrower than incidents: an officer of the station does not see every
dispute of the station, only those of their grids and their own. So disputes use their own org
groups, joined by commanders only (the chain of command), and per-user groups for the owner,
the filer, the grid's staff and the tracked order's owner; a resident who asked for mediation
hears the public steps only. Each `DisputeEvent` is announced by the service that wrote it and
delivered after commit by the fan-out (pingan/live/fanout.py). Disputes move at the pace of
people, not of a report rush, so this reads each event with the ORM.
"""

from pingan.accounts.models import User
from pingan.core.timefmt import iso
from pingan.live import outbox, registry
from pingan.live.groups import DISPUTE_ALL_GROUP, dispute_org_group, user_group
from pingan.orgs.services import scope_org

from .models import CaseOrder, DisputeEvent

SOURCE = "disputes"
EVENT_RELATIONS = ("dispute", "dispute__grid", "dispute__org")


def announce(event: DisputeEvent) -> None:
    outbox.announce(SOURCE, event.pk)


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


def audience(event) -> tuple[set[str], set[int], set[int]]:
    """(org groups, staff user ids, resident user ids), each listener once."""
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


def deliveries(event_ids: list[int]) -> list[registry.Delivery]:
    out = []
    events = DisputeEvent.objects.filter(pk__in=event_ids).select_related(*EVENT_RELATIONS)
    for event in events.order_by("pk"):
        groups, staff, residents = audience(event)
        staff_groups = tuple(sorted(groups)) + tuple(user_group(u) for u in sorted(staff))
        out.append(registry.Delivery(staff_groups, dispute_message(event)))
        if residents:
            out.append(
                registry.Delivery(
                    tuple(user_group(u) for u in sorted(residents)),
                    dispute_message(event, public=True),
                )
            )
    return out


def catch_up(user, since: int, limit: int) -> list[dict]:
    from pingan.accounts.roles import is_staff_viewer

    from .access import disputes_for

    staff = is_staff_viewer(user)
    events = DisputeEvent.objects.filter(pk__gt=since, dispute__in=disputes_for(user).values("pk"))
    if not staff:
        events = events.filter(public=True)
    events = events.select_related(*EVENT_RELATIONS).order_by("pk")[:limit]
    return [dispute_message(e, public=not staff) for e in events]


def listener_groups(user) -> list[str]:
    if user.is_superuser:
        return [DISPUTE_ALL_GROUP]
    if user.is_staff_role and user.is_commander:
        root = scope_org(user)
        if root is not None:
            return [dispute_org_group(root.pk)]
    return []


def register() -> None:
    registry.register_source(
        registry.Source(
            SOURCE,
            DisputeEvent._meta.db_table,
            deliveries,
            resync_key="dispute_since",
            catch_up=catch_up,
        )
    )
    registry.register_groups(listener_groups)
