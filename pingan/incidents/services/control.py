"""Timeouts and the commander's hand: an unanswered offer expires, the periodic sweep retries
waiting incidents, and a commander re-dispatches, merges or splits incidents."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction

from pingan.accounts.models import User
from pingan.core import clock, qr
from pingan.core.errors import Conflict, Forbidden, NotFound, ServiceError
from pingan.geo.distance import haversine_m
from pingan.notify import services as notify
from pingan.orgs import services as orgs

from .. import dispatch
from ..access import get_incident_for
from ..models import (
    ACTIVE_ASSIGNMENT,
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    EventKind,
    Incident,
    Status,
    Unit,
)
from .dispatching import _dispatch, _free_unit, _offer
from .guards import _lock_incident, _require_open
from .resolution import _close_as_duplicate
from .timeline import _event, _schedule_expiry


@transaction.atomic
def expire_offer(assignment_id: int, now=None) -> Assignment | None:
    """An unanswered offer times out: free the unit and offer the next one. Idempotent."""
    now = now or clock.now()
    assignment = (
        Assignment.objects.select_related("incident", "unit").filter(pk=assignment_id).first()
    )
    if assignment is None:
        return None
    incident = _lock_incident(assignment.incident.code)
    assignment = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("unit")
        .get(pk=assignment_id)
    )
    if (
        assignment.status != AssignmentStatus.OFFERED
        or assignment.expires_at is None
        or assignment.expires_at > now
    ):
        return None
    assignment.status = AssignmentStatus.EXPIRED
    assignment.finished_at = now
    assignment.save(update_fields=["status", "finished_at"])
    _free_unit(assignment)
    _event(
        incident,
        EventKind.OFFER_EXPIRED,
        now,
        unit=assignment.unit,
        message=f"{assignment.unit.name} 超时未接警，自动改派",
    )
    if not incident.is_open:
        return None
    return _dispatch(incident, now, role=assignment.role)


def _offer_text(assignment: Assignment, link: str) -> str:
    incident = assignment.incident
    grid = incident.grid
    where = incident.address or (grid.name if grid is not None else "")
    return (
        f"【平安】新警情待接：{incident.category.name}，{where}（{incident.code}）。"
        f"请尽快接警：{link}"
    )


def alert_unaccepted_offer(assignment_id: int, now=None) -> bool:
    """An offer still unanswered DISPATCH_SMS_AFTER_SECONDS after it was made goes to the
    unit's phone as a text (through the message backend), with a link that opens it. Once per
    offer; nothing for an offer already taken, declined or expired. Whether a text was sent."""
    after = settings.DISPATCH_SMS_AFTER_SECONDS
    if not after:
        return False
    now = now or clock.now()
    with transaction.atomic():
        assignment = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("incident", "incident__category", "incident__grid", "unit")
            .filter(pk=assignment_id)
            .first()
        )
        if (
            assignment is None
            or assignment.status != AssignmentStatus.OFFERED
            or assignment.alerted_at is not None
            or assignment.offered_at + timedelta(seconds=after) > now
        ):
            return False
        phone = _unit_phone(assignment.unit)
        assignment.alerted_at = now
        assignment.save(update_fields=["alerted_at"])
        if not phone:
            return False
        # The unit page, scrolled to the offer's card (incidents/_unit_list.html).
        link = qr.absolute_url(f"/unit/#card-{assignment.incident.code}")
        notify.queue_message(phone, _offer_text(assignment, link), topic="dispatch_offer")
        _event(
            assignment.incident,
            EventKind.NOTE,
            now,
            unit=assignment.unit,
            message=f"{assignment.unit.name} 未及时接警，已短信提醒",
        )
        return True


def _unit_phone(unit) -> str:
    """The unit's own officer's phone; for a team, its first member's (the leader's)."""
    if unit.user_id is not None:
        return unit.user.phone or ""
    member = unit.members.exclude(phone="").order_by("pk").first()
    return member.phone if member is not None else ""


def sweep(now=None) -> dict:
    """Expire overdue offers and retry incidents still waiting for a unit.

    Offer expiry is scheduled as a task per offer; this sweep is the safety net (a worker that
    was down) and the retry for incidents that found no free unit.
    """
    now = now or clock.now()
    expired = 0
    for assignment_id in Assignment.objects.filter(
        status=AssignmentStatus.OFFERED, expires_at__lte=now
    ).values_list("pk", flat=True):
        expire_offer(assignment_id, now)
        expired += 1
    alerted = 0
    after = settings.DISPATCH_SMS_AFTER_SECONDS
    if after:
        # The sweep runs on every scheduler tick (core/periodic.py): it sends the texts, so
        # that a report costs no second task row (the report path is benchmarked, issue 9).
        for assignment_id in Assignment.objects.filter(
            status=AssignmentStatus.OFFERED,
            alerted_at__isnull=True,
            offered_at__lte=now - timedelta(seconds=after),
        ).values_list("pk", flat=True):
            alerted += alert_unaccepted_offer(assignment_id, now)
    retried = 0
    waiting = (
        Incident.objects.filter(status=Status.PENDING, duplicate_of__isnull=True)
        .exclude(assignments__status__in=ACTIVE_ASSIGNMENT)
        .values_list("code", flat=True)[:200]
    )
    for code in waiting:
        with transaction.atomic():
            incident = _lock_incident(code)
            waiting_still = (
                incident.status == Status.PENDING
                and not incident.assignments.filter(status__in=ACTIVE_ASSIGNMENT).exists()
            )
            if waiting_still and _dispatch(incident, now, retry=True):
                retried += 1
    return {"expired": expired, "retried": retried, "alerted": alerted}


def _require_commander(user: User, code: str) -> Incident:
    if not user.is_commander:
        raise Forbidden("只有指挥员可以执行此操作")
    get_incident_for(user, code)
    return _lock_incident(code)


@transaction.atomic
def redispatch(
    code: str, user: User, *, unit_id: int | None = None, reason: str = "", now=None
) -> Assignment | None:
    """A commander takes the incident off its current unit and gives it to another (or the best)."""
    now = now or clock.now()
    incident = _require_commander(user, code)
    _require_open(incident)
    target = None
    if unit_id is not None:
        target = Unit.objects.filter(pk=unit_id).first()
        root = orgs.scope_org(user) if not user.is_superuser else None
        if target is None or (root is not None and not target.org_path.startswith(root.path)):
            raise NotFound("未找到该警力单元，或不在您的辖区")
        if not target.on_duty:
            raise Conflict("unit_off_duty", f"{target.name} 不在岗")
        if target.current_assignment_id is not None:
            raise Conflict("unit_busy", f"{target.name} 正在处置其他警情")
    for old in incident.assignments.select_for_update().filter(
        role=AssignmentRole.PRIMARY, status__in=ACTIVE_ASSIGNMENT
    ):
        old.status = AssignmentStatus.CANCELLED
        old.finished_at = now
        old.save(update_fields=["status", "finished_at"])
        _free_unit(old)
    _event(
        incident,
        EventKind.REDISPATCHED,
        now,
        actor=user,
        message=f"指挥员改派：{reason or '人工调度'}",
    )
    if target is None:
        return _dispatch(incident, now, by=user)
    distance = (
        haversine_m(incident.lng, incident.lat, target.lng, target.lat)
        if target.lng is not None
        else 0
    )
    candidate = dispatch.Candidate(target, distance, dispatch.eta_seconds(distance), False)
    assignment = _offer(
        incident, candidate, now, role=AssignmentRole.PRIMARY, by=user, reason=reason
    )
    if assignment is None:
        raise Conflict("unit_busy", f"{target.name} 刚被派往其他警情")
    if incident.status == Status.PENDING:
        Incident.objects.filter(pk=incident.pk).update(status=Status.DISPATCHED)
    _event(
        incident,
        EventKind.OFFERED,
        now,
        actor=user,
        unit=target,
        message=f"人工派警：{target.name}",
        data={"assignment": assignment.pk},
    )
    _schedule_expiry(assignment)
    return assignment


@transaction.atomic
def merge(code: str, into_code: str, user: User, now=None) -> Incident:
    now = now or clock.now()
    dup = _require_commander(user, code)
    into = _require_commander(user, into_code)
    if dup.pk == into.pk:
        raise ServiceError("merge_self", "不能与自身合并")
    _require_open(dup)
    _close_as_duplicate(dup, into, now, user)
    _event(
        into,
        EventKind.MERGED,
        now,
        actor=user,
        message=f"合并 {dup.code}",
        data={"merged": dup.code},
    )
    return into


@transaction.atomic
def split(code: str, user: User, now=None) -> Assignment | None:
    """Undo a duplicate link: the report becomes its own incident and is dispatched."""
    now = now or clock.now()
    incident = _require_commander(user, code)
    if incident.duplicate_of_id is None:
        raise Conflict("not_duplicate", "该警情不是疑似重复警情")
    original = incident.duplicate_of
    incident.duplicate_of = None
    if incident.status == Status.MERGED:
        incident.status = Status.PENDING
        incident.closed_at = None
        incident.outcome = ""
        incident.valid = None
    incident.save(update_fields=["duplicate_of", "status", "closed_at", "outcome", "valid"])
    _event(incident, EventKind.SPLIT, now, actor=user, message=f"与 {original.code} 拆分，单独处置")
    _event(original, EventKind.SPLIT, now, actor=user, message=f"{incident.code} 已拆分为独立警情")
    return _dispatch(incident, now, by=user)
