"""The end of an incident: resolved by the unit on scene or a commander (its duplicates
with it), then rated by the reporter. `_close_as_duplicate` is shared with the commander's
merge (control.py)."""

from django.db import transaction

from pingan.accounts.models import User
from pingan.core import clock
from pingan.core.errors import Conflict, NotFound, ServiceError

from ..models import (
    ACTIVE_ASSIGNMENT,
    OPEN_STATUSES,
    AssignmentStatus,
    EventKind,
    Incident,
    Outcome,
    Status,
)
from .dispatching import _free_unit
from .guards import _active_assignment_for, _lock_incident, _lock_visible, _require_open
from .timeline import _event


def _finish_assignments(incident: Incident, now) -> None:
    for assignment in incident.assignments.select_for_update().filter(status__in=ACTIVE_ASSIGNMENT):
        was_offer = assignment.status == AssignmentStatus.OFFERED
        assignment.status = AssignmentStatus.CANCELLED if was_offer else AssignmentStatus.DONE
        assignment.finished_at = now
        assignment.save(update_fields=["status", "finished_at"])
        _free_unit(assignment)


@transaction.atomic
def resolve(
    code: str, user: User, *, outcome: str, note: str = "", valid: bool = True, now=None
) -> Incident:
    """The unit on scene (or a commander in scope) closes the handling with an outcome."""
    now = now or clock.now()
    if outcome not in Outcome.values:
        raise ServiceError("bad_outcome", "处置结果无效")
    incident = _lock_visible(code, user)
    _require_open(incident)
    unit = None
    if not user.is_commander:
        unit = _active_assignment_for(incident, user).unit
    incident.status = Status.RESOLVED
    incident.resolved_at = now
    incident.outcome = outcome
    incident.outcome_note = note[:2000]
    incident.valid = bool(valid) and outcome not in (Outcome.FALSE_REPORT, Outcome.DUPLICATE)
    incident.save(update_fields=["status", "resolved_at", "outcome", "outcome_note", "valid"])
    _finish_assignments(incident, now)
    _event(
        incident,
        EventKind.RESOLVED,
        now,
        actor=user,
        unit=unit,
        message=f"处置完成：{Outcome(outcome).label}" + (f"。{note}" if note else ""),
        data={"outcome": outcome, "valid": incident.valid},
    )
    # Duplicates linked to this one are resolved with it.
    for dup in incident.duplicates.filter(status__in=OPEN_STATUSES):
        _close_as_duplicate(dup, incident, now, user)
    return incident


@transaction.atomic
def rate(code: str, user: User, rating: int, comment: str = "", now=None) -> Incident:
    now = now or clock.now()
    incident = _lock_incident(code)
    if incident.reporter_id != user.pk:
        raise NotFound("未找到该警情，或您无权查看")
    if incident.status not in (Status.RESOLVED, Status.CLOSED):
        raise Conflict("not_resolved", "警情处置完成后才能评价")
    if incident.rating is not None:
        raise Conflict("already_rated", "您已评价过")
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ServiceError("bad_rating", "评分应为 1 到 5 星")
    incident.rating = rating
    incident.rating_comment = comment[:500]
    incident.save(update_fields=["rating", "rating_comment"])
    _event(
        incident, EventKind.RATED, now, actor=user, message=f"评价 {rating} 星 {comment}".strip()
    )
    return incident


def _close_as_duplicate(dup: Incident, into: Incident, now, user) -> None:
    dup.status = Status.MERGED
    dup.duplicate_of = into
    dup.closed_at = now
    dup.outcome = Outcome.DUPLICATE
    dup.valid = False
    dup.save(update_fields=["status", "duplicate_of", "closed_at", "outcome", "valid"])
    _finish_assignments(dup, now)
    _event(
        dup,
        EventKind.MERGED,
        now,
        actor=user,
        message=f"并入 {into.code}",
        data={"into": into.code},
    )
