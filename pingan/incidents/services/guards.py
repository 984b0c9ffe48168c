"""Row locks and preconditions shared by the state changes: the incident locked within the
user's scope, the user's unit's active assignment on it, the incident still open."""

from pingan.accounts.models import User
from pingan.core.errors import Conflict, Forbidden, NotFound

from ..access import _units_of, incidents_for
from ..models import ACTIVE_ASSIGNMENT, Assignment, Incident


def _active_assignment_for(incident: Incident, user: User) -> Assignment:
    assignment = (
        incident.assignments.select_for_update(of=("self",))
        .select_related("unit")
        .filter(unit__in=_units_of(user), status__in=ACTIVE_ASSIGNMENT)
        .order_by("offered_at")
        .first()
    )
    if assignment is None:
        raise Forbidden("该警情当前没有派给您")
    return assignment


def _lock_visible(code: str, user: User) -> Incident:
    """Lock an incident the user may see; NotFound alike for missing and out of scope. One
    statement: the scope filter and the row lock together."""
    incident = incidents_for(user).select_for_update(of=("self",)).filter(code=code).first()
    if incident is None:
        raise NotFound("未找到该警情，或您无权查看")
    return incident


def _lock_incident(incident_or_code) -> Incident:
    """Lock an incident by code, unscoped (the caller checks who may act). A code that names
    no incident is a NotFound, worded as for one out of scope, never a server error."""
    code = incident_or_code.code if isinstance(incident_or_code, Incident) else incident_or_code
    incident = (
        Incident.objects.select_for_update(of=("self",))
        .select_related("category", "grid", "org")
        .filter(code=code)
        .first()
    )
    if incident is None:
        raise NotFound("未找到该警情，或您无权查看")
    return incident


def _lock_for_unit_action(code: str, user: User) -> tuple[Incident, Assignment]:
    """The open incident, locked, and the user's unit's active assignment on it."""
    incident = _lock_visible(code, user)
    _require_open(incident)
    return incident, _active_assignment_for(incident, user)


def _require_open(incident: Incident) -> None:
    if not incident.is_open:
        raise Conflict("incident_closed", f"警情已{incident.get_status_display()}，不能再操作")
