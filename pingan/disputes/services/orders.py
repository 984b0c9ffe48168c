"""Tracked orders (the "1"): an owner, a deadline and a plan for a dispute that needs them;
an overdue order climbs the org tree until it is done.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from pingan.accounts.models import Role, User
from pingan.accounts.roles import REVEAL_ROLES
from pingan.core import clock
from pingan.core.errors import Conflict, Forbidden, ServiceError
from pingan.core.validation import clean_text
from pingan.notify.services import queue_message

from ..models import CaseOrder, Dispute, EventKind, OrderStatus
from .guards import _check_owner, _lock, _require_accepted
from .timeline import _event, _progress


@transaction.atomic
def open_order(user: User, code: str, *, owner: User, deadline, plan: str, now=None) -> CaseOrder:
    now = now or clock.now()
    plan = clean_text(plan, field="plan", label="跟踪计划", max_len=2000)
    if deadline is None or deadline <= now:
        raise ServiceError("bad_deadline", "办结时限必须晚于现在", details={"field": "deadline"})
    if deadline > now + timedelta(days=365):
        raise ServiceError("bad_deadline", "办结时限不能超过一年", details={"field": "deadline"})
    dispute = _lock(user, code)
    _require_accepted(dispute)
    if not (user.role in REVEAL_ROLES or user.is_superuser):
        raise Forbidden("只有民警和指挥员可以列入订单管理")
    _check_owner(owner, dispute.org)
    order = CaseOrder.objects.filter(dispute=dispute).first()
    if order is not None and order.status == OrderStatus.ACTIVE:
        raise Conflict("order_exists", "该纠纷已在订单管理中")
    order = order or CaseOrder(dispute=dispute, created_at=now, created_by=user)
    order.owner = owner
    order.deadline = deadline
    order.plan = plan
    order.status = OrderStatus.ACTIVE
    order.supervising_org = dispute.org
    order.escalation_level = 0
    order.next_escalation_at = deadline
    order.done_at = None
    order.save()
    _progress(dispute, now)
    local = timezone.localtime(deadline)
    _event(
        dispute,
        EventKind.ORDER_OPENED,
        now,
        actor=user,
        message=f"列入重点订单管理，承办人 {owner.label}，时限 {local:%Y-%m-%d %H:%M}",
        data={"owner": owner.username, "deadline": deadline.isoformat()},
    )
    dispute.save()
    return order


def _close_order(dispute: Dispute, now, actor) -> None:
    order = CaseOrder.objects.filter(dispute=dispute, status=OrderStatus.ACTIVE).first()
    if order is None:
        return
    order.status = OrderStatus.DONE
    order.done_at = now
    order.save(update_fields=["status", "done_at"])
    late = " （逾期办结）" if now > order.deadline else ""
    _event(dispute, EventKind.ORDER_CLOSED, now, actor=actor, message=f"订单办结{late}")


def escalate_overdue(now=None) -> int:
    """Overdue orders climb one level of the org tree, then again every escalation interval
    while the dispute stays unresolved. Safe to run from several sweepers at once."""
    now = now or clock.now()
    interval = timedelta(hours=settings.DISPUTE_ORDER_ESCALATION_HOURS)
    escalated = 0
    due = CaseOrder.objects.filter(status=OrderStatus.ACTIVE, next_escalation_at__lte=now)
    for order_id, dispute_id in due.values_list("pk", "dispute_id")[:500]:
        with transaction.atomic():
            # The dispute first, then its order: the order resolve() takes them in (it locks
            # the dispute, then closes the order). Locking the order first deadlocked with it.
            dispute = Dispute.objects.select_for_update().filter(pk=dispute_id).first()
            order = (
                CaseOrder.objects.select_for_update(of=("self",))
                .select_related("supervising_org")
                .filter(pk=order_id, status=OrderStatus.ACTIVE, next_escalation_at__lte=now)
                .first()
            )
            if dispute is None or order is None:
                continue
            current = order.supervising_org
            parent = current.parent
            order.next_escalation_at = now + interval
            if parent is None:
                # Already at the top: stays there, reminded each interval.
                order.save(update_fields=["next_escalation_at"])
                continue
            order.supervising_org = parent
            order.escalation_level += 1
            order.save(update_fields=["supervising_org", "escalation_level", "next_escalation_at"])
            _event(
                dispute,
                EventKind.ORDER_ESCALATED,
                now,
                message=f"订单逾期未办结，由{current.name}上报{parent.name}督办",
                data={"from": current.code, "to": parent.code, "level": order.escalation_level},
            )
            for chief in User.objects.filter(role=Role.COMMANDER, org=parent, is_active=True):
                if chief.phone:
                    queue_message(
                        chief.phone,
                        f"【平安】纠纷订单 {dispute.code}（{dispute.title}）已逾期，"
                        f"上报{parent.name}督办。",
                        topic=f"dispute:{dispute.code}",
                    )
            escalated += 1
    return escalated
