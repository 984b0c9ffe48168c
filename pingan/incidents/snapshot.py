"""The one dictionary shape of an incident that the API, the pages and live pushes share."""

from django.utils import timezone

from pingan.core.timefmt import iso

from .models import ACTIVE_ASSIGNMENT, Incident


def _elapsed(start, end):
    return round((end - start).total_seconds(), 1) if start and end else None


def sla_status(incident: Incident) -> dict:
    """Each 1-3-5 milestone: elapsed seconds, target, and met / missed / running."""

    def milestone(done_at, start_at, target):
        if start_at is None:
            return {"elapsed_s": None, "target_s": target, "state": "not_started"}
        elapsed = _elapsed(start_at, done_at)
        if done_at is None:
            return {
                "elapsed_s": None,
                "target_s": target,
                "state": "running",
                "deadline": iso(start_at + timezone.timedelta(seconds=target)),
            }
        return {
            "elapsed_s": elapsed,
            "target_s": target,
            "state": "met" if elapsed <= target else "missed",
        }

    return {
        "accept": milestone(incident.accepted_at, incident.reported_at, incident.target_accept_s),
        "arrive": milestone(incident.arrived_at, incident.reported_at, incident.target_arrive_s),
        "reinforce": milestone(
            incident.reinforce_arrived_at,
            incident.reinforce_requested_at and incident.reported_at,
            incident.target_reinforce_s,
        ),
    }


def assignment_dict(assignment) -> dict:
    return {
        "id": assignment.pk,
        "unit": assignment.unit.name,
        "unit_id": assignment.unit_id,
        "unit_kind": assignment.unit.kind,
        "role": assignment.role,
        "status": assignment.status,
        "status_label": assignment.get_status_display(),
        "offered_at": iso(assignment.offered_at),
        "expires_at": iso(assignment.expires_at),
        "accepted_at": iso(assignment.accepted_at),
        "arrived_at": iso(assignment.arrived_at),
        "eta_seconds": assignment.eta_seconds,
        "distance_m": round(assignment.distance_m) if assignment.distance_m is not None else None,
    }


def incident_snapshot(incident: Incident, assignments=None) -> dict:
    if assignments is None:
        assignments = list(incident.assignments.select_related("unit").order_by("offered_at"))
    active = [a for a in assignments if a.status in ACTIVE_ASSIGNMENT]
    return {
        "code": incident.code,
        "status": incident.status,
        "status_label": incident.get_status_display(),
        "category": incident.category.code,
        "category_name": incident.category.name,
        "priority": incident.priority,
        "source": incident.source,
        "description": incident.description,
        "address": incident.address,
        "location": {"lat": round(incident.lat, 6), "lng": round(incident.lng, 6)},
        "grid": (
            {"code": incident.grid.code, "name": incident.grid.name} if incident.grid_id else None
        ),
        "org": incident.org.name if incident.org_id else None,
        "outside_grids": incident.outside_grids,
        "duplicate_of": incident.duplicate_of.code if incident.duplicate_of_id else None,
        "valid": incident.valid,
        "outcome": incident.outcome or None,
        "reported_at": iso(incident.reported_at),
        "accepted_at": iso(incident.accepted_at),
        "arrived_at": iso(incident.arrived_at),
        "reinforce_requested_at": iso(incident.reinforce_requested_at),
        "reinforce_arrived_at": iso(incident.reinforce_arrived_at),
        "resolved_at": iso(incident.resolved_at),
        "rating": incident.rating,
        "sla": sla_status(incident),
        "assignment": assignment_dict(active[0]) if active else None,
        "assignments": [assignment_dict(a) for a in active],
    }
