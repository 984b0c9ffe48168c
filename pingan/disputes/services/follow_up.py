"""After mediation: resolution, return visits on schedule, and a relapse when the settlement
did not hold (the dispute and its order reopen).
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from pingan.accounts.models import User
from pingan.core import clock
from pingan.core.errors import Conflict, ServiceError
from pingan.core.validation import clean_text

from ..access import disputes_for
from ..models import CaseOrder, Dispute, EventKind, OrderStatus, ReturnVisit, Status, VisitStatus
from ..stats import tracked
from .guards import _lock, _require_accepted
from .orders import _close_order
from .risk_review import reassess
from .timeline import _event, _progress, _tell_parties


@transaction.atomic
def resolve(user: User, code: str, note: str, now=None) -> Dispute:
    now = now or clock.now()
    note = clean_text(note, field="note", label="化解情况", max_len=2000)
    dispute = _lock(user, code)
    _require_accepted(dispute)
    with tracked(dispute):
        dispute.status = Status.RESOLVED
        dispute.resolved_at = now
        dispute.resolution_note = note
        _progress(dispute, now)
        _event(dispute, EventKind.RESOLVED, now, actor=user, message=note, public=True)
        _close_order(dispute, now, user)
        ReturnVisit.objects.bulk_create(
            ReturnVisit(dispute=dispute, due_at=now + timedelta(days=days), after_days=days)
            for days in settings.DISPUTE_RETURN_VISIT_DAYS
        )
        dispute.save()
    _tell_parties(dispute, f"您的纠纷（{dispute.code}）已化解，我们将按期回访。")
    return dispute


@transaction.atomic
def record_visit(
    user: User, code: str, *, holds: bool, note: str, visit_id: int | None = None, now=None
) -> ReturnVisit:
    """Record a return visit. If the settlement did not hold, the dispute reopens (a relapse);
    when the last visit finds it holding, the dispute is closed as stable."""
    now = now or clock.now()
    note = clean_text(note, field="note", label="回访情况", max_len=500)
    if not isinstance(holds, bool):
        raise ServiceError("bad_holds", "请选择协议是否履行、纠纷是否反复")
    dispute = _lock(user, code)
    if dispute.status != Status.RESOLVED:
        raise Conflict("not_resolved", "只有已化解的纠纷需要回访")
    due = dispute.visits.filter(status=VisitStatus.DUE)
    visit = due.filter(pk=visit_id).first() if visit_id else due.order_by("due_at").first()
    if visit is None:
        raise ServiceError("unknown_visit", "没有待回访的记录")
    visit.status = VisitStatus.DONE
    visit.visited_at = now
    visit.visited_by = user
    visit.holds = holds
    visit.note = note
    visit.save()
    with tracked(dispute):
        _progress(dispute, now)
        _event(
            dispute,
            EventKind.VISITED,
            now,
            actor=user,
            message=f"{visit.after_days} 天回访：{'稳定' if holds else '出现反复'}。{note}",
            data={"visit": visit.pk, "holds": holds},
            public=True,
        )
        if not holds:
            _relapse(dispute, now, user)
        elif not dispute.visits.filter(status=VisitStatus.DUE).exists():
            dispute.status = Status.CLOSED
            dispute.closed_at = now
            _event(
                dispute, EventKind.CLOSED, now, actor=user, message="回访稳定，结案", public=True
            )
        dispute.save()
    if not holds:
        _tell_parties(dispute, f"您的纠纷（{dispute.code}）回访发现反复，已重新启动化解。")
    return visit


def _relapse(dispute: Dispute, now, user) -> None:
    dispute.status = Status.OPEN
    dispute.relapse_count += 1
    dispute.resolved_at = None
    dispute.closed_at = None
    dispute.visits.filter(status=VisitStatus.DUE).update(status=VisitStatus.CANCELLED)
    _event(
        dispute,
        EventKind.RELAPSED,
        now,
        actor=user,
        message=f"第 {dispute.relapse_count} 次反复，重新化解",
        public=True,
    )
    order = CaseOrder.objects.filter(dispute=dispute).first()
    if order is not None:
        order.status = OrderStatus.ACTIVE
        order.deadline = now + timedelta(days=settings.DISPUTE_RELAPSE_ORDER_DAYS)
        order.next_escalation_at = order.deadline
        order.done_at = None
        order.save()
        _event(
            dispute,
            EventKind.ORDER_OPENED,
            now,
            actor=user,
            message=f"订单重新启动，时限 {timezone.localtime(order.deadline):%Y-%m-%d}",
        )
    reassess(dispute, now, actor=user)


def visits_due(user: User, now=None):
    now = now or clock.now()
    return (
        ReturnVisit.objects.filter(
            status=VisitStatus.DUE,
            due_at__lte=now,
            dispute__in=disputes_for(user).values("pk"),
        )
        .select_related("dispute", "dispute__grid")
        .order_by("due_at")
    )
