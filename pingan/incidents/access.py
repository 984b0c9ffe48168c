"""Who sees which incidents and units: the scoped reads every page, API call and service
goes through. NotFound alike for missing and out of scope, so codes cannot be probed."""

from django.db.models import Q

from pingan.accounts.models import User
from pingan.core.errors import NotFound

from .models import ACTIVE_ASSIGNMENT, Assignment, AssignmentStatus, Incident, Unit


def incidents_for(user: User):
    """The incidents a user may see: staff their jurisdiction (and whatever their unit was sent
    to across its boundary), others only their own reports."""
    qs = Incident.objects.select_related("category", "grid", "org", "duplicate_of")
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser or user.is_staff_role:
        sent_to = Assignment.objects.filter(unit__in=_units_of(user))
        return qs.in_jurisdiction(user, also=Q(pk__in=sent_to.values("incident_id")))
    return qs.filter(reporter=user)


def get_incident_for(user: User, code: str) -> Incident:
    """404 alike for missing and not-yours, so codes cannot be probed."""
    incident = incidents_for(user).filter(code=code).first()
    if incident is None:
        raise NotFound("未找到该警情，或您无权查看")
    return incident


def unit_for_user(user: User) -> Unit | None:
    if not user.is_authenticated:
        return None
    unit = Unit.objects.filter(user=user).first()
    return unit or Unit.objects.filter(members=user).order_by("pk").first()


def _units_of(user: User):
    """The units a person answers for: their own, and any team they are a member of."""
    return Unit.objects.filter(Q(user=user) | Q(members=user)).values("pk")


def was_sent_to(user: User, incident: Incident) -> bool:
    """Whether one of the user's units was sent to this incident and has not turned it down
    (offered, on the way, there, or done)."""
    if not user.is_authenticated:
        return False
    return Assignment.objects.filter(
        incident=incident,
        unit__in=_units_of(user),
        status__in=(*ACTIVE_ASSIGNMENT, AssignmentStatus.DONE),
    ).exists()


def assignments_for(user: User):
    """Offers and assignments of the user's own unit and of the teams they belong to."""
    return (
        Assignment.objects.filter(unit__in=_units_of(user))
        .select_related("incident", "incident__category", "incident__grid", "unit")
        .order_by("-offered_at")
    )
