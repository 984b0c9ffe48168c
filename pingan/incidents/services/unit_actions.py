"""What a unit does with an offer: accept it, decline it (the next unit is offered), arrive
on scene, ask for reinforcement."""

from django.db import transaction

from pingan.accounts.models import User
from pingan.core import clock
from pingan.core.errors import Conflict

from ..models import Assignment, AssignmentRole, AssignmentStatus, EventKind, Status
from .dispatching import _dispatch, _free_unit
from .guards import _lock_for_unit_action
from .timeline import _event


@transaction.atomic
def accept(code: str, user: User, now=None) -> Assignment:
    now = now or clock.now()
    incident, assignment = _lock_for_unit_action(code, user)
    if assignment.status != AssignmentStatus.OFFERED:
        raise Conflict("already_accepted", "您已接警")
    if assignment.expires_at and assignment.expires_at <= now:
        raise Conflict("offer_expired", "派警已超时，已改派其他警力")
    assignment.status = AssignmentStatus.ACCEPTED
    assignment.accepted_at = now
    assignment.save(update_fields=["status", "accepted_at"])
    fields = []
    if incident.accepted_at is None:
        incident.accepted_at = now
        incident.accept_s = (now - incident.reported_at).total_seconds()
        fields += ["accepted_at", "accept_s"]
    if incident.status in (Status.PENDING, Status.DISPATCHED):
        incident.status = Status.ACCEPTED
        fields.append("status")
    if fields:
        incident.save(update_fields=fields)
    _event(
        incident,
        EventKind.ACCEPTED,
        now,
        actor=user,
        unit=assignment.unit,
        message=f"{assignment.unit.name} 已接警（{assignment.get_role_display()}）",
    )
    return assignment


@transaction.atomic
def decline(code: str, user: User, reason: str = "", now=None) -> Assignment | None:
    now = now or clock.now()
    incident, assignment = _lock_for_unit_action(code, user)
    if assignment.status != AssignmentStatus.OFFERED:
        raise Conflict("cannot_decline", "已接警，不能拒绝；如需支援请请求增援")
    assignment.status = AssignmentStatus.DECLINED
    assignment.finished_at = now
    assignment.reason = reason[:200]
    assignment.save(update_fields=["status", "finished_at", "reason"])
    _free_unit(assignment)
    _event(
        incident,
        EventKind.DECLINED,
        now,
        actor=user,
        unit=assignment.unit,
        message=f"{assignment.unit.name} 拒绝：{reason or '未说明'}",
    )
    return _dispatch(incident, now, role=assignment.role)


@transaction.atomic
def arrive(code: str, user: User, now=None) -> Assignment:
    now = now or clock.now()
    incident, assignment = _lock_for_unit_action(code, user)
    if assignment.status == AssignmentStatus.OFFERED:
        raise Conflict("not_accepted", "请先接警再确认到场")
    if assignment.status == AssignmentStatus.ARRIVED:
        raise Conflict("already_arrived", "已确认到场")
    assignment.status = AssignmentStatus.ARRIVED
    assignment.arrived_at = now
    assignment.save(update_fields=["status", "arrived_at"])
    # Whoever reaches the scene first is the first unit on scene for the 3-minute clock.
    if incident.arrived_at is None:
        incident.arrived_at = now
        incident.arrive_s = (now - incident.reported_at).total_seconds()
    incident.status = Status.ON_SCENE
    kind = EventKind.ARRIVED
    if assignment.role == AssignmentRole.REINFORCEMENT:
        kind = EventKind.REINFORCE_ARRIVED
        if incident.reinforce_arrived_at is None:
            incident.reinforce_arrived_at = now
            incident.reinforce_s = (now - incident.reported_at).total_seconds()
    incident.save(
        update_fields=["arrived_at", "arrive_s", "status", "reinforce_arrived_at", "reinforce_s"]
    )
    _event(
        incident,
        kind,
        now,
        actor=user,
        unit=assignment.unit,
        message=f"{assignment.unit.name} 已到场",
    )
    return assignment


@transaction.atomic
def request_reinforcement(code: str, user: User, note: str = "", now=None) -> Assignment | None:
    now = now or clock.now()
    incident, assignment = _lock_for_unit_action(code, user)
    if assignment.status == AssignmentStatus.OFFERED:
        raise Conflict("not_accepted", "请先接警再请求增援")
    if incident.reinforce_requested_at is None:
        incident.reinforce_requested_at = now
        incident.save(update_fields=["reinforce_requested_at"])
    _event(
        incident,
        EventKind.REINFORCE_REQUESTED,
        now,
        actor=user,
        unit=assignment.unit,
        message=f"{assignment.unit.name} 请求增援：{note or '现场需要支援'}",
    )
    return _dispatch(incident, now, role=AssignmentRole.REINFORCEMENT)
